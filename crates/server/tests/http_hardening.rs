//! The HTTP listener against hostile clients (issue #10): the real server on a random
//! 127.0.0.1 port with a temp SQLite file, raw TCP sockets where a polite client would not do.
//! Timeouts are set short here; the bounds asserted are generous for a loaded 2-core machine.

mod common;

use common::station::TestStation;
use reqwest::StatusCode;
use serde_json::{Value, json};
use server::config::Config;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

const TOKEN: &str = "hardening-token";
const R01_MN: &str = "010000520181000000000001";
const R01_PW: &str = "520001";

struct Srv {
    addr: SocketAddr,
    base: String,
    hj212: Option<SocketAddr>,
    client: reqwest::Client,
    running: Option<server::Running>,
    _dir: tempfile::TempDir,
}

async fn serve(tweak: impl FnOnce(&mut Config)) -> Srv {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::default();
    config.http.addr = "127.0.0.1:0".parse().expect("addr");
    config.storage.data_dir = dir.path().to_path_buf();
    config.auth.tokens = vec![TOKEN.into()];
    tweak(&mut config);
    let store = server::open_store(&config).expect("store");
    let running = server::start(config, store).await.expect("server starts");
    Srv {
        addr: running.http_addr,
        base: format!("http://{}", running.http_addr),
        hj212: running.hj212_addr,
        client: reqwest::Client::new(),
        running: Some(running),
        _dir: dir,
    }
}

impl Srv {
    async fn json(&self, req: reqwest::RequestBuilder) -> (StatusCode, Value) {
        let r = req.send().await.expect("request");
        let status = r.status();
        let text = r.text().await.expect("body");
        let v =
            serde_json::from_str(&text).unwrap_or_else(|_| panic!("{status}: not JSON: {text:?}"));
        (status, v)
    }

    async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await.expect("clean stop");
        }
    }
}

/// The JSON error shape of issue #10: code, type and a message.
fn assert_error(status: StatusCode, body: &Value, code: u16, fragment: &str) {
    assert_eq!(status.as_u16(), code, "{body}");
    assert_eq!(body["code"], code, "{body}");
    assert_eq!(body["type"], "error", "{body}");
    let m = body["message"].as_str().expect("message");
    assert!(m.contains(fragment), "{m:?} should name {fragment:?}");
}

/// The tests of one file share a process: the two that measure RSS do not run together.
static RSS: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

fn rss_mb() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    let kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .expect("VmRSS");
    kb / 1024
}

/// RSS after giving freed heap back to the kernel: what the process still holds.
fn held_rss_mb() -> u64 {
    // SAFETY: malloc_trim only releases free memory of the allocator.
    unsafe {
        libc::malloc_trim(0);
    }
    rss_mb()
}

/// Reads until the peer closes (EOF or reset); the bytes read and when it happened.
async fn read_until_closed(s: &mut TcpStream, limit: Duration) -> (Vec<u8>, Option<Duration>) {
    let t0 = Instant::now();
    let mut got = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let left = limit.saturating_sub(t0.elapsed());
        match tokio::time::timeout(left, s.read(&mut buf)).await {
            Err(_) => return (got, None),
            Ok(Ok(0)) | Ok(Err(_)) => return (got, Some(t0.elapsed())),
            Ok(Ok(n)) => got.extend_from_slice(&buf[..n]),
        }
    }
}

/// Status and JSON body of a raw HTTP/1.1 answer.
fn parse_answer(raw: &[u8]) -> (u16, Value) {
    let text = String::from_utf8_lossy(raw);
    let status = text
        .split_whitespace()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no status line in {text:?}"));
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

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
    // Six Things of 1 MB each: a 6 MB answer, more than the kernel buffers hold.
    for i in 0..6 {
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
    // Long enough for every answer to be produced and its write to stall past the timeout.
    tokio::time::sleep(Duration::from_secs(6)).await;
    let grown = held_rss_mb().saturating_sub(before);
    eprintln!("20 non-reading clients after the write timeout: RSS {grown} MB above the start");
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
        assert!(declared > 6 * 1024 * 1024, "{declared}");
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
async fn protocol_errors_are_json() {
    let srv = serve(|c| {
        c.auth.open = true;
        c.http.max_body_bytes = 4096;
        c.http.max_anonymous_body_bytes = 4096;
        c.http.max_response_bytes = 2000;
        c.http.body_timeout_s = 1;
    })
    .await;
    let c = &srv.client;
    let b = &srv.base;
    // 413: declared and chunked.
    let big = json!({ "name": "x", "description": "y".repeat(10_000) });
    let (s, v) = srv
        .json(c.post(format!("{b}/v1.1/Things")).json(&big))
        .await;
    assert_error(s, &v, 413, "max_anonymous_body_bytes");
    let chunk = serde_json::to_vec(&big).expect("json");
    let mut raw = TcpStream::connect(srv.addr).await.expect("connect");
    raw.write_all(
        format!(
            "POST /v1.1/Things HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
            chunk.len()
        )
        .as_bytes(),
    )
    .await
    .expect("head");
    raw.write_all(&chunk).await.expect("chunk");
    raw.write_all(b"\r\n0\r\n\r\n").await.expect("end");
    let (answer, _) = read_until_closed(&mut raw, Duration::from_secs(10)).await;
    let (status, v) = parse_answer(&answer);
    assert_eq!(status, 413, "{}", String::from_utf8_lossy(&answer));
    assert!(
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains("max_anonymous_body_bytes"))
    );
    // 414.
    let long = format!("{b}/v1.1/Things?$filter=name eq '{}'", "a".repeat(10_000));
    let (s, v) = srv.json(c.get(long)).await;
    assert_error(s, &v, 414, "max_uri_bytes");
    // 431.
    let (s, v) = srv
        .json(
            c.get(format!("{b}/v1.1/Things"))
                .header("x-padding", "p".repeat(20_000)),
        )
        .await;
    assert_error(s, &v, 431, "max_header_bytes");
    // 405.
    let (s, v) = srv.json(c.delete(format!("{b}/api/v1/health"))).await;
    assert_error(s, &v, 405, "DELETE");
    // 415: a text/plain body is a CSRF vector (no preflight).
    let (s, v) = srv
        .json(
            c.post(format!("{b}/v1.1/Things"))
                .header("content-type", "text/plain")
                .body(r#"{"name":"x","description":"y"}"#),
        )
        .await;
    assert_error(s, &v, 415, "application/json");
    // 404 under the API prefixes, and query-string errors of the domain API.
    let (s, v) = srv.json(c.get(format!("{b}/api/v1/nope"))).await;
    assert_error(s, &v, 404, "/api/v1/nope");
    let (s, v) = srv
        .json(c.post(format!("{b}/api/v1/nope")).json(&json!({})))
        .await;
    assert!(matches!(s.as_u16(), 404 | 405), "{s}");
    assert_eq!(v["type"], "error");
    let (s, v) = srv
        .json(c.get(format!("{b}/api/v1/series?datastream=abc")))
        .await;
    assert_eq!(s.as_u16(), 400, "{v}");
    assert_eq!(v["type"], "error", "{v}");
    // 408: a body that never comes.
    let mut raw = TcpStream::connect(srv.addr).await.expect("connect");
    raw.write_all(
        b"POST /v1.1/Things HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    )
    .await
    .expect("write");
    let (answer, _) = read_until_closed(&mut raw, Duration::from_secs(10)).await;
    let (status, body) = parse_answer(&answer);
    assert_eq!(status, 408, "{}", String::from_utf8_lossy(&answer));
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("body_timeout_s"))
    );
    // A response over max_response_bytes: 400 naming the limit.
    for i in 0..5 {
        let t = json!({ "name": format!("t{i}"), "description": "z".repeat(500) });
        let (s, _) = srv.json(c.post(format!("{b}/v1.1/Things")).json(&t)).await;
        assert_eq!(s, StatusCode::CREATED);
    }
    let (s, v) = srv.json(c.get(format!("{b}/v1.1/Things"))).await;
    assert_error(s, &v, 400, "max_response_bytes");
    srv.stop().await;
}

#[tokio::test]
async fn cors_lets_any_origin_read_but_only_listed_origins_write() {
    let srv = serve(|c| {
        c.auth.open = true;
        c.http.cors_origins = vec!["http://ops.example".into()];
    })
    .await;
    let c = &srv.client;
    let url = format!("{}/v1.1/Things", srv.base);
    let preflight = |origin: &str, method: &str| {
        c.request(reqwest::Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", method)
            .header("access-control-request-headers", "content-type")
    };
    let r = preflight("http://evil.example", "DELETE")
        .send()
        .await
        .expect("preflight");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.headers().get("access-control-allow-origin").is_none());
    let r = preflight("http://ops.example", "POST")
        .send()
        .await
        .expect("preflight");
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "http://ops.example"
    );
    let r = preflight("http://evil.example", "GET")
        .send()
        .await
        .expect("preflight");
    assert!(r.status().is_success());
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    // A form POST needs no preflight: refused by origin, whatever its content type.
    let r = c
        .post(format!("{}/api/v1/alerts/1/ack", srv.base))
        .header("origin", "http://evil.example")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Same-origin writes (the dashboard) still work.
    let (s, _) = srv
        .json(
            c.post(&url)
                .header("origin", &srv.base)
                .json(&json!({ "name": "a", "description": "b" })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    srv.stop().await;
}

#[tokio::test]
async fn links_come_from_the_public_url_never_from_host() {
    let srv = serve(|c| c.auth.open = true).await;
    let c = &srv.client;
    let (s, v) = srv
        .json(
            c.post(format!("{}/v1.1/Things", srv.base))
                .header("host", "evil.example")
                .json(&json!({ "name": "a", "description": "b" })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let own = format!("http://{}/v1.1/Things(", srv.addr);
    assert!(
        v["@iot.selfLink"]
            .as_str()
            .is_some_and(|l| l.starts_with(&own)),
        "{v}"
    );
    srv.stop().await;

    let srv = serve(|c| {
        c.auth.open = true;
        c.http.public_url = Some("https://water.example.cn/".into());
    })
    .await;
    let r = srv
        .client
        .post(format!("{}/v1.1/Things", srv.base))
        .header("host", "evil.example")
        .json(&json!({ "name": "a", "description": "b" }))
        .send()
        .await
        .expect("post");
    assert_eq!(
        r.headers()["location"],
        "https://water.example.cn/v1.1/Things(1)"
    );
    let (_, v) = srv
        .json(
            srv.client
                .get(format!("{}/v1.1/Things?$top=1", srv.base))
                .header("host", "evil.example"),
        )
        .await;
    assert_eq!(
        v["value"][0]["@iot.selfLink"],
        "https://water.example.cn/v1.1/Things(1)"
    );
    srv.stop().await;
}

#[tokio::test]
async fn closed_reads_close_metrics_and_health_and_bearer_is_case_insensitive() {
    let srv = serve(|c| {
        c.auth.read_public = false;
        c.auth.metrics_token = Some("scraper".into());
    })
    .await;
    let c = &srv.client;
    for path in ["/metrics", "/api/v1/health", "/v1.1/Things"] {
        let (s, v) = srv.json(c.get(format!("{}{path}", srv.base))).await;
        assert_error(s, &v, 401, "Bearer");
        for scheme in ["Bearer", "bearer", "BEARER"] {
            let r = c
                .get(format!("{}{path}", srv.base))
                .header("authorization", format!("{scheme} {TOKEN}"))
                .send()
                .await
                .expect("get");
            assert_eq!(r.status(), StatusCode::OK, "{path} with {scheme}");
        }
        let r = c
            .get(format!("{}{path}", srv.base))
            .bearer_auth("scraper")
            .send()
            .await
            .expect("get");
        let expected = if path == "/v1.1/Things" { 401 } else { 200 };
        assert_eq!(
            r.status().as_u16(),
            expected,
            "{path} with the metrics token"
        );
    }
    let r = c
        .post(format!("{}/v1.1/Things", srv.base))
        .header("authorization", format!("bearer {TOKEN}"))
        .json(&json!({ "name": "a", "description": "b" }))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::CREATED);
    srv.stop().await;
}

#[tokio::test]
async fn mns_are_shown_only_with_a_valid_token() {
    let hongfeng = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/hongfeng.toml");
    let srv = serve(|c| {
        c.auth.open = true;
        c.network.file = Some(hongfeng);
        c.hj212.addr = Some("127.0.0.1:0".parse().expect("addr"));
    })
    .await;
    let mut st = TestStation::connect(srv.hj212.expect("HJ 212"), R01_MN, R01_PW)
        .await
        .expect("station");
    let answer = st
        .upload(
            "20260315093000123",
            "2011",
            "DataTime=20260315093000;w01010-Rtd=14.6,w01010-Flag=N",
            Duration::from_secs(10),
        )
        .await
        .expect("io");
    assert!(answer.is_some(), "the frame is answered after commit");
    let urls = [
        "/api/v1/stations",
        "/v1.1/Things?$expand=Datastreams($expand=Observations)",
        "/v1.1/Observations",
        "/v1.1/Observations?$resultFormat=dataArray&$select=result,parameters",
        "/v1.1/Things(1)/properties/$value",
        "/v1.1/Observations(1)/parameters/$value",
    ];
    for path in urls {
        let url = format!("{}{path}", srv.base);
        let anonymous = c_text(&srv, srv.client.get(&url)).await;
        assert!(
            !anonymous.contains(R01_MN),
            "{path} shows an MN to anonymous readers"
        );
        let authorised = c_text(&srv, srv.client.get(&url).bearer_auth(TOKEN)).await;
        assert!(
            authorised.contains(R01_MN),
            "{path} hides the MN from a token"
        );
    }
    // Nor can an anonymous filter spell it out.
    let r = srv
        .client
        .get(format!(
            "{}/v1.1/Things?$filter=startswith(properties/mn,'0')",
            srv.base
        ))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    srv.stop().await;
}

async fn c_text(_srv: &Srv, req: reqwest::RequestBuilder) -> String {
    let r = req.send().await.expect("get");
    assert_eq!(r.status(), StatusCode::OK);
    r.text().await.expect("text")
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
