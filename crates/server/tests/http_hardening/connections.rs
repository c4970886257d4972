//! The connection layer: timeouts, held uploads, non-reading clients, the cap, the stop.

use super::*;
use serde_json::json;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

#[tokio::test]
async fn silent_partial_and_idle_connections_are_closed_after_their_timeouts() {
    let srv = serve(|c| {
        c.http.header_read_timeout_s = 1;
        c.http.idle_timeout_s = 2;
    })
    .await;
    let limit = Duration::from_secs(10);

    // Nothing sent at all.
    let mut silent = TcpStream::connect(srv.addr).await.expect("connect");
    // Half a request head.
    let mut partial = TcpStream::connect(srv.addr).await.expect("connect");
    partial
        .write_all(b"GET /v1.1 HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        .await
        .expect("write");
    // A complete request, then keep-alive silence.
    let mut idle = TcpStream::connect(srv.addr).await.expect("connect");
    idle.write_all(b"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        .await
        .expect("write");
    let mut head = [0u8; 12];
    idle.read_exact(&mut head).await.expect("answer");
    assert_eq!(&head, b"HTTP/1.1 200");

    let (silent_r, partial_r, idle_r) = tokio::join!(
        read_until_closed(&mut silent, limit),
        read_until_closed(&mut partial, limit),
        read_until_closed(&mut idle, limit),
    );
    let closed = |r: Option<Duration>, what: &str| r.unwrap_or_else(|| panic!("{what} still open"));
    let silent_t = closed(silent_r.1, "silent connection");
    let partial_t = closed(partial_r.1, "partial-header connection");
    let idle_t = closed(idle_r.1, "idle keep-alive connection");
    // Timers never fire early; the idle connection outlives the header timeout.
    assert!(silent_t >= Duration::from_millis(900), "{silent_t:?}");
    assert!(partial_t >= Duration::from_millis(900), "{partial_t:?}");
    assert!(idle_t >= Duration::from_millis(1500), "{idle_t:?}");
    srv.stop().await;
}

/// Connects, sends the head of a 60 MB anonymous upload and the first 64 KiB of it.
async fn start_big_upload(addr: SocketAddr, path: &str) -> TcpStream {
    let mut s = TcpStream::connect(addr).await.expect("connect");
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 60000000\r\n\r\n"
    );
    s.write_all(head.as_bytes()).await.expect("head");
    s.write_all(&vec![b' '; 64 * 1024])
        .await
        .expect("some body");
    s
}

#[tokio::test]
async fn anonymous_60mb_posts_are_answered_before_their_body_is_read() {
    let _rss = RSS.lock().await;
    let secured = serve(|_| {}).await;
    let before = rss_mb();
    let mut held = Vec::new();
    for _ in 0..60 {
        held.push(start_big_upload(secured.addr, "/v1.1/Things").await);
    }
    // The answer comes although 59.9 MB of each body were never sent.
    for s in &mut held {
        let (raw, _) = read_until_closed(s, Duration::from_secs(10)).await;
        let (status, body) = parse_answer(&raw);
        assert_eq!(status, 401, "{}", String::from_utf8_lossy(&raw));
        assert_eq!(body["type"], "error");
    }
    let grown = rss_mb().saturating_sub(before);
    eprintln!("60 held anonymous 60 MB uploads: RSS grew {grown} MB");
    assert!(grown < 300, "RSS grew {grown} MB");
    secured.stop().await;

    // `--open`: anonymous writes are allowed, but only up to max_anonymous_body_bytes.
    let open = serve(|c| c.auth.open = true).await;
    let mut s = start_big_upload(open.addr, "/v1.1/Things").await;
    let (raw, _) = read_until_closed(&mut s, Duration::from_secs(10)).await;
    let (status, body) = parse_answer(&raw);
    assert_eq!(status, 413, "{}", String::from_utf8_lossy(&raw));
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("max_anonymous_body_bytes")),
        "{body}"
    );
    // With a token the larger limit applies.
    let thing = json!({ "name": "big", "description": "x".repeat(2 * 1024 * 1024) });
    let (status, _) = open
        .json(
            open.client
                .post(format!("{}/v1.1/Things", open.base))
                .bearer_auth(TOKEN)
                .json(&thing),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED);
    open.stop().await;
}

#[tokio::test]
async fn clients_that_do_not_read_are_dropped_after_the_write_timeout() {
    let _rss = RSS.lock().await;
    let srv = serve(|c| c.http.write_timeout_s = 1).await;
    // Things of 1 MB each: an answer larger than the kernel's socket buffers can hold (the
    // server's send buffer grows up to tcp_wmem's maximum; the client's is pinned at 4 KiB).
    let wmem_max_mb = std::fs::read_to_string("/proc/sys/net/ipv4/tcp_wmem")
        .ok()
        .and_then(|t| t.split_whitespace().nth(2)?.parse::<usize>().ok())
        .map_or(4, |b| b / (1024 * 1024));
    let things = (wmem_max_mb + 2).clamp(6, 16);
    for i in 0..things {
        let thing = json!({ "name": format!("t{i}"), "description": "d".repeat(1024 * 1024) });
        let (status, _) = srv
            .json(
                srv.client
                    .post(format!("{}/v1.1/Things", srv.base))
                    .bearer_auth(TOKEN)
                    .json(&thing),
            )
            .await;
        assert_eq!(status, StatusCode::CREATED);
    }
    let before = held_rss_mb();
    let mut clients = Vec::new();
    for _ in 0..20 {
        let socket = tokio::net::TcpSocket::new_v4().expect("socket");
        socket.set_recv_buffer_size(4096).expect("rcvbuf");
        let mut s = socket.connect(srv.addr).await.expect("connect");
        s.write_all(b"GET /v1.1/Things HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
            .await
            .expect("request");
        clients.push(s);
    }
    // While the answers are held (before the write timeout), for the record.
    tokio::time::sleep(Duration::from_millis(800)).await;
    let while_held = rss_mb().saturating_sub(before);
    // Long enough for every answer to be produced and its write to stall past the timeout.
    tokio::time::sleep(Duration::from_secs(5)).await;
    let grown = held_rss_mb().saturating_sub(before);
    eprintln!(
        "20 non-reading clients: RSS +{while_held} MB while held, +{grown} MB after the write timeout"
    );
    assert!(grown < 300, "RSS grew {grown} MB");
    for s in &mut clients {
        let (raw, closed) = read_until_closed(s, Duration::from_secs(10)).await;
        assert!(closed.is_some(), "the server closed the stalled connection");
        let text = String::from_utf8_lossy(&raw[..raw.len().min(300)]).to_string();
        let declared: usize = text
            .lines()
            .find_map(|l| {
                l.to_ascii_lowercase()
                    .strip_prefix("content-length:")
                    .map(|v| v.trim().to_string())
            })
            .and_then(|v| v.parse().ok())
            .unwrap_or_else(|| panic!("no content-length in {text:?}"));
        assert!(declared > things * 1024 * 1024, "{declared}");
        assert!(
            raw.len() < declared,
            "the answer was cut: {} of {declared} bytes",
            raw.len()
        );
    }
    // The server still answers everyone else.
    let (status, _) = srv
        .json(srv.client.get(format!("{}/api/v1/health", srv.base)))
        .await;
    assert_eq!(status, StatusCode::OK);
    srv.stop().await;
}

#[tokio::test]
async fn the_connection_cap_and_a_bounded_stop() {
    let srv = serve(|c| {
        c.auth.open = true;
        c.http.max_connections = 3;
        c.http.header_read_timeout_s = 60;
        c.http.body_timeout_s = 60;
        c.http.shutdown_grace_s = 1;
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(srv.addr).await.expect("connect"));
    }
    // An upload that never finishes keeps its request in flight.
    held[0]
        .write_all(b"POST /v1.1/Things HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{")
        .await
        .expect("write");
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut extra = TcpStream::connect(srv.addr).await.expect("connect");
    let (raw, closed) = read_until_closed(&mut extra, Duration::from_secs(10)).await;
    assert!(closed.is_some());
    let (status, body) = parse_answer(&raw);
    assert_eq!(status, 503, "{}", String::from_utf8_lossy(&raw));
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("max_connections"))
    );
    let t0 = Instant::now();
    srv.stop().await;
    let took = t0.elapsed();
    assert!(took < Duration::from_secs(10), "stop took {took:?}");
}

#[tokio::test]
async fn a_live_event_stream_outlives_every_connection_timeout() {
    let srv = serve(|c| {
        c.http.header_read_timeout_s = 1;
        c.http.idle_timeout_s = 1;
        c.http.write_timeout_s = 1;
    })
    .await;
    let mut s = TcpStream::connect(srv.addr).await.expect("connect");
    s.write_all(
        b"GET /api/v1/events HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n",
    )
    .await
    .expect("request");
    let mut got = Vec::new();
    let mut buf = [0u8; 4096];
    while !String::from_utf8_lossy(&got).contains("event: ready") {
        let n = tokio::time::timeout(Duration::from_secs(10), s.read(&mut buf))
            .await
            .expect("ready event")
            .expect("read");
        assert!(n > 0, "stream closed: {}", String::from_utf8_lossy(&got));
        got.extend_from_slice(&buf[..n]);
    }
    // Three times every timeout with nothing to send: the stream stays open.
    let quiet = tokio::time::timeout(Duration::from_secs(3), s.read(&mut buf)).await;
    assert!(
        quiet.is_err()
            || quiet
                .as_ref()
                .is_ok_and(|r| r.as_ref().is_ok_and(|n| *n > 0)),
        "the event stream was closed: {quiet:?}"
    );
    srv.stop().await;
}
