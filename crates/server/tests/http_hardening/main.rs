//! The HTTP listener against hostile clients (issue #10): the real server on a random
//! 127.0.0.1 port with a temp SQLite file, raw TCP sockets where a polite client would not do.
//! Timeouts are set short here; the bounds asserted are generous for a loaded 2-core machine.

#[path = "../common/mod.rs"]
mod common;
mod connections;
mod requests;

use reqwest::StatusCode;
use serde_json::Value;
use server::config::Config;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::net::TcpStream;

const TOKEN: &str = "hardening-token";

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
