//! Figures for BENCHMARKS.md (issue 13), not a timed test: run with
//! `cargo test -p server --release --test gb28181_bench -- --ignored --nocapture`.
//!
//! A network of the 52 Hongfeng points plus 10,000 synthetic cameras; raw UDP devices built on
//! the `gb28181` codec. Measures registrations/s (full digest exchange, 401 then 200), how many
//! devices one node keeps online on keepalives (time compressed: a 10 s interval instead of
//! 60 s, i.e. 6× the real message rate), and alarm → alert latency.

use gb28181::Message;
use gb28181::digest::{self, Credentials};
use gb28181::manscdp::{Body, Keepalive};
use gb28181::sip::{self, Limits};
use serde_json::Value;
use server::config::{Config, Secret};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::net::UdpSocket;

const EXTRA: usize = 10_000;
const WORKERS: usize = 16;
const PASSWORD: &str = "bench-pw";
const PLATFORM: &str = "52018100432002000001";
const DOMAIN: &str = "5201810043";

fn device(i: usize) -> String {
    format!("52018100431327{i:06}")
}

fn network_file(dir: &std::path::Path) -> std::path::PathBuf {
    let base = std::fs::read_to_string(
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/hongfeng.toml"),
    )
    .expect("hongfeng.toml");
    let mut text = base;
    for i in 0..EXTRA {
        text.push_str(&format!(
            "\n[[video_points]]\nid = \"B{i:05}\"\nname_zh = \"压测{i}\"\nname_en = \"bench {i}\"\nkind = \"fixed\"\nzone = \"south_shore\"\nlon = 106.39\nlat = 26.512\ndevice_id = \"{}\"\n",
            device(i)
        ));
    }
    let path = dir.join("bench.toml");
    std::fs::write(&path, text).expect("write network");
    path
}

fn request(method: &str, dev: &str, call: &str, cseq: u32) -> Message {
    Message::request(method, &format!("sip:{PLATFORM}@{DOMAIN}"))
        .with(
            "Via",
            format!("SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bK{call}{cseq}"),
        )
        .with("From", format!("<sip:{dev}@{DOMAIN}>;tag=b"))
        .with("To", format!("<sip:{dev}@{DOMAIN}>"))
        .with("Call-ID", call.to_string())
        .with("CSeq", format!("{cseq} {method}"))
}

/// Waits for the response to `call` (skipping the platform's own MESSAGEs).
async fn response(sock: &UdpSocket, call: &str) -> Message {
    let mut buf = vec![0u8; 65_536];
    loop {
        let (n, _) = tokio::time::timeout(Duration::from_secs(30), sock.recv_from(&mut buf))
            .await
            .expect("reply")
            .expect("recv");
        let Ok(m) = sip::parse_datagram(&buf[..n], Limits::default()) else {
            continue;
        };
        if m.status().is_some() && m.call_id().ok() == Some(call) {
            return m;
        }
    }
}

async fn register(sock: &UdpSocket, to: SocketAddr, dev: &str) {
    let call = format!("r-{dev}");
    let first = request("REGISTER", dev, &call, 1).with("Expires", "3600");
    sock.send_to(&first.to_bytes(), to).await.expect("send");
    let ch = response(sock, &call).await;
    let ch =
        digest::parse_challenge(ch.header("WWW-Authenticate").expect("401")).expect("challenge");
    let mut c = Credentials {
        username: dev.into(),
        realm: ch.realm,
        nonce: ch.nonce,
        uri: format!("sip:{PLATFORM}@{DOMAIN}"),
        qop: Some("auth".into()),
        nc: Some("00000001".into()),
        cnonce: Some("c0ffee".into()),
        ..Credentials::default()
    };
    c.response = digest::response("REGISTER", PASSWORD, &c).expect("digest");
    let second = request("REGISTER", dev, &call, 2)
        .with("Expires", "3600")
        .with("Authorization", c.header_value());
    sock.send_to(&second.to_bytes(), to).await.expect("send");
    assert_eq!(response(sock, &call).await.status(), Some(200));
}

async fn get(client: &reqwest::Client, url: &str) -> Value {
    client
        .get(url)
        .send()
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON")
}

#[tokio::test(flavor = "multi_thread")]
#[ignore = "benchmark: run with --ignored --nocapture (see BENCHMARKS.md)"]
async fn gb28181_figures() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::default();
    config.http.addr = "127.0.0.1:0".parse().expect("addr");
    config.storage.data_dir = dir.path().to_path_buf();
    config.network.file = Some(network_file(dir.path()));
    config.gb28181.addr = Some("127.0.0.1:0".parse().expect("addr"));
    config.gb28181.password = Secret::new(PASSWORD);
    config.gb28181.keepalive_interval_s = 10;
    config.gb28181.keepalive_count = 3;
    // The bench devices do not answer queries; no arming round trips to measure.
    config.gb28181.arm_on_register = false;
    let store = server::open_store(&config).expect("store");
    let running = server::start(config, store).await.expect("server");
    let sip = running.source_addrs["gb28181"];
    let http = format!("http://{}", running.http_addr);
    let client = reqwest::Client::new();

    // Registrations/s: WORKERS sockets, each registering its share in turn.
    let mut socks = Vec::new();
    for _ in 0..WORKERS {
        socks.push(Arc::new(
            UdpSocket::bind("127.0.0.1:0").await.expect("bind"),
        ));
    }
    let t = Instant::now();
    let mut tasks = Vec::new();
    for (w, sock) in socks.iter().enumerate() {
        let sock = sock.clone();
        tasks.push(tokio::spawn(async move {
            for i in (w..EXTRA).step_by(WORKERS) {
                register(&sock, sip, &device(i)).await;
            }
        }));
    }
    for t in tasks {
        t.await.expect("worker");
    }
    let reg = t.elapsed();
    println!(
        "registrations: {EXTRA} full digest exchanges in {:.2} s = {:.0}/s ({WORKERS} clients)",
        reg.as_secs_f64(),
        EXTRA as f64 / reg.as_secs_f64()
    );

    // Keepalives: every device every 10 s for 40 s (window 30 s): all must stay online.
    let run = Duration::from_secs(40);
    let t = Instant::now();
    let mut tasks = Vec::new();
    for (w, sock) in socks.iter().enumerate() {
        let sock = sock.clone();
        tasks.push(tokio::spawn(async move {
            let mine: Vec<usize> = (w..EXTRA).step_by(WORKERS).collect();
            let mut sent = 0u64;
            let mut round = 0u32;
            let start = Instant::now();
            while start.elapsed() < run {
                let round_start = tokio::time::Instant::now();
                // Spread over the interval as real cameras are (a burst of 10,000 datagrams
                // would only measure the kernel's socket buffer).
                let step = Duration::from_secs(10) / mine.len() as u32;
                for (k, &i) in mine.iter().enumerate() {
                    tokio::time::sleep_until(round_start + step * k as u32).await;
                    let dev = device(i);
                    let body = Body::Keepalive(Keepalive {
                        sn: round,
                        device_id: dev.clone(),
                        status: "OK".into(),
                        faulty: vec![],
                    });
                    let m = request("MESSAGE", &dev, &format!("k{i}-{round}"), 1)
                        .with_body("Application/MANSCDP+xml", body.encode());
                    let _ = sock.send_to(&m.to_bytes(), sip).await;
                    sent += 1;
                }
                round += 1;
                tokio::time::sleep_until(round_start + Duration::from_secs(10)).await;
            }
            sent
        }));
    }
    // Drain the 200 OKs so the sockets' buffers never drop them.
    let drains: Vec<_> = socks
        .iter()
        .map(|s| {
            let s = s.clone();
            tokio::spawn(async move {
                let mut buf = vec![0u8; 65_536];
                while tokio::time::timeout(Duration::from_secs(2), s.recv_from(&mut buf))
                    .await
                    .is_ok()
                {}
            })
        })
        .collect();
    let mut sent = 0;
    for t in tasks {
        sent += t.await.expect("worker");
    }
    let kept = t.elapsed();
    let devices: Value = get(&client, &format!("{http}/api/v1/stations")).await;
    let online = devices["value"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|d| d["source"] == "gb28181" && d["status"] == "online")
                .count()
        })
        .unwrap_or(0);
    let frames: u64 = devices["value"]
        .as_array()
        .map(|a| a.iter().filter_map(|d| d["frames_received"].as_u64()).sum())
        .unwrap_or(0);
    println!(
        "keepalives: {sent} sent over {:.0} s ({:.0}/s, 10 s interval = 6× the load of 60 s); {frames} processed; {online} of {EXTRA} devices online at the end",
        kept.as_secs_f64(),
        sent as f64 / kept.as_secs_f64()
    );
    for d in drains {
        d.abort();
    }

    // Alarm → alert: 20 intrusion alarms from distinct devices, each timed until the alert
    // is served by /api/v1/alerts.
    let sock = &socks[0];
    let mut lat = Vec::new();
    let mut seen: HashMap<String, ()> = HashMap::new();
    for k in 0..20 {
        let i = k * WORKERS; // devices of worker 0, registered through this socket
        let dev = device(i);
        let alarm = gb28181::manscdp::Alarm {
            sn: k as u32,
            device_id: dev.clone(),
            priority: Some(1),
            methods: vec![5],
            time: None,
            description: None,
            alarm_type: Some(6),
            event_type: Some(1),
            longitude: None,
            latitude: None,
        };
        let m = request("MESSAGE", &dev, &format!("a{k}"), 1)
            .with_body("Application/MANSCDP+xml", Body::Alarm(alarm).encode());
        let t = Instant::now();
        sock.send_to(&m.to_bytes(), sip).await.expect("send");
        let id = format!("B{i:05}");
        loop {
            let v = get(
                &client,
                &format!("{http}/api/v1/alerts?rule=intrusion&limit=1000"),
            )
            .await;
            if v["value"]
                .as_array()
                .is_some_and(|a| a.iter().any(|a| a["source"] == id.as_str()))
            {
                break;
            }
            assert!(t.elapsed() < Duration::from_secs(30), "alert for {id}");
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
        lat.push(t.elapsed());
        seen.insert(id, ());
    }
    lat.sort();
    println!(
        "alarm → alert (served by /api/v1/alerts, 2 ms polling): median {:.1} ms, max {:.1} ms over {}",
        lat[lat.len() / 2].as_secs_f64() * 1e3,
        lat[lat.len() - 1].as_secs_f64() * 1e3,
        lat.len()
    );
    running.stop().await.expect("stop");
}
