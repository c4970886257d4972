//! A server with the Hongfeng network and a GB/T 28181 listener on loopback, and simulated
//! cameras for its video points (crates/sim `send::camera`).
#![allow(dead_code)]

use serde_json::Value;
use server::config::{Config, Secret};
use sim::send::camera::CameraConfig;
use std::net::SocketAddr;
use std::time::{Duration, Instant};

pub const PASSWORD: &str = "hongfeng-cam-pw";

pub struct VideoServer {
    pub running: Option<server::Running>,
    pub http: String,
    pub sip: SocketAddr,
    pub client: reqwest::Client,
    _dir: tempfile::TempDir,
}

/// The server with `[gb28181]` on 127.0.0.1:0 and an offline rule of `interval_s × count`.
pub async fn start(interval_s: u32, count: u32) -> VideoServer {
    start_with(interval_s, count, |_| {}).await
}

/// [`start`], with more settings changed by `tune` (e.g. `[gb28181.media]`).
pub async fn start_with(
    interval_s: u32,
    count: u32,
    tune: impl FnOnce(&mut Config),
) -> VideoServer {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::default();
    config.http.addr = "127.0.0.1:0".parse().expect("addr");
    config.storage.data_dir = dir.path().to_path_buf();
    config.network.file = Some(
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/hongfeng.toml"),
    );
    config.gb28181.addr = Some("127.0.0.1:0".parse().expect("addr"));
    config.gb28181.password = Secret::new(PASSWORD);
    config.gb28181.keepalive_interval_s = interval_s;
    config.gb28181.keepalive_count = count;
    config.gb28181.sweep_interval_ms = 100;
    tune(&mut config);
    let store = server::open_store(&config).expect("store");
    let running = server::start(config, store).await.expect("server starts");
    let sip = running.source_addrs["gb28181"];
    VideoServer {
        http: format!("http://{}", running.http_addr),
        running: Some(running),
        sip,
        client: reqwest::Client::new(),
        _dir: dir,
    }
}

/// Camera `n` (1-based) of the Hongfeng file: V0n, device 52018100 43 132 2 00000n.
pub fn camera(sip: SocketAddr, n: usize, password: &str) -> CameraConfig {
    CameraConfig {
        platform: sip,
        platform_id: "52018100432002000001".into(),
        domain: "5201810043".into(),
        device_id: format!("52018100431322{n:06}"),
        channel_id: format!("52018100431322{n:06}"),
        password: password.into(),
        name: format!("sim camera {n}"),
        expires_s: 3600,
        keepalive: Duration::from_millis(500),
        clock_offset_s: 0,
        lon: 106.43,
        lat: 26.56,
        upload_snapshots: true,
        answer_invites: true,
        invite_answer_delay: Duration::ZERO,
        ignore_device_info: 0,
    }
}

impl VideoServer {
    pub async fn get(&self, path: &str) -> Value {
        self.client
            .get(format!("{}{path}", self.http))
            .send()
            .await
            .expect("GET")
            .json()
            .await
            .expect("JSON")
    }

    /// The video point `id` of `/api/v1/network`.
    pub async fn video_point(&self, id: &str) -> Value {
        let net = self.get("/api/v1/network").await;
        net["video_points"]
            .as_array()
            .and_then(|v| v.iter().find(|p| p["id"] == id).cloned())
            .expect("video point listed")
    }

    /// Polls `f` on `/api/v1/network` video points until it holds (generous bound: loaded CI).
    pub async fn until<F: Fn(&[Value]) -> bool>(
        &self,
        what: &str,
        within: Duration,
        f: F,
    ) -> Vec<Value> {
        let start = Instant::now();
        loop {
            let net = self.get("/api/v1/network").await;
            let points = net["video_points"].as_array().cloned().unwrap_or_default();
            if f(&points) {
                return points;
            }
            let head: Vec<_> = points.iter().take(4).collect();
            assert!(
                start.elapsed() < within,
                "{what} not within {within:?}: {head:?}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// The first alert matching `pred` (polling).
    pub async fn alert<F: Fn(&Value) -> bool>(
        &self,
        query: &str,
        within: Duration,
        pred: F,
    ) -> Value {
        let start = Instant::now();
        loop {
            let v = self.get(&format!("/api/v1/alerts?{query}")).await;
            if let Some(a) = v["value"]
                .as_array()
                .and_then(|a| a.iter().find(|a| pred(a)).cloned())
            {
                return a;
            }
            assert!(
                start.elapsed() < within,
                "no alert for {query} within {within:?}: {v}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    pub async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await.expect("clean stop");
        }
    }
}
