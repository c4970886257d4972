//! Time sanity end to end (issue #10): the real server with `config/hongfeng.toml` on a random
//! 127.0.0.1 port and a real SQLite file. A value dated 2099 is refused on every STA write path,
//! counted, never becomes the latest value, and cannot silence a later real exceedance.
#[path = "common/backend.rs"]
mod backend;

use reqwest::StatusCode;
use serde_json::{Value, json};
use server::config::Config;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const TOKEN: &str = "time-test-token";
const HOUR_US: i64 = 3_600_000_000;
const YEAR_2099: &str = "2099-06-01T00:00:00Z";

struct TestServer {
    http: String,
    client: reqwest::Client,
    running: Option<server::Running>,
    _dir: tempfile::TempDir,
}

async fn start() -> TestServer {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::default();
    config.http.addr = "127.0.0.1:0".parse().expect("addr");
    config.storage.data_dir = dir.path().to_path_buf();
    config.auth.tokens = vec![TOKEN.into()];
    config.network.file =
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/hongfeng.toml"));
    config.alerts.tick_ms = 100;
    config.alerts.offline.enabled = false;
    config.alerts.trend.enabled = false;
    let store = backend::open_store(&config).expect("store");
    let running = server::start(config, store).await.expect("server starts");
    TestServer {
        http: format!("http://{}", running.http_addr),
        client: reqwest::Client::new(),
        running: Some(running),
        _dir: dir,
    }
}

impl TestServer {
    async fn get(&self, path: &str) -> Value {
        let r = self
            .client
            .get(format!("{}{path}", self.http))
            .send()
            .await
            .expect("GET");
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.expect("JSON")
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .client
            .request(method, format!("{}{path}", self.http))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn datastream(&self, key: &str) -> i64 {
        let v = self
            .get(&format!(
                "/v1.1/Datastreams?$filter=properties/key eq '{key}'"
            ))
            .await;
        v["value"][0]["@iot.id"]
            .as_i64()
            .unwrap_or_else(|| panic!("no datastream {key}: {v}"))
    }

    async fn observe(&self, ds: i64, time: &str, value: f64) -> (StatusCode, Value) {
        self.send(
            reqwest::Method::POST,
            &format!("/v1.1/Datastreams({ds})/Observations"),
            json!({ "phenomenonTime": time, "result": value, "resultQuality": { "flag": "N" } }),
        )
        .await
    }

    async fn latest(&self, ds: i64) -> Value {
        let v = self.get(&format!("/api/v1/latest?datastreams={ds}")).await;
        v["value"][0].clone()
    }

    async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await.expect("stops");
        }
    }
}

#[track_caller]
fn assert_future_refused(status: StatusCode, body: &Value) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["type"], "error", "{body}");
    let m = body["message"].as_str().unwrap_or_default();
    assert!(
        m.contains("2099-06-01") && m.contains("600 s") && m.contains("clock_tolerance_s"),
        "names the time and the tolerance: {body}"
    );
}

#[tokio::test]
async fn a_2099_observation_is_refused_on_every_sta_path_and_never_becomes_latest() {
    let s = start().await;
    let tp = s.datastream("datastream:W01:tp:hourly").await;
    let t0 = sta::time::now_micros() - 2 * HOUR_US;
    let (status, body) = s.observe(tp, &sta::time::format_instant(t0), 0.02).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let before = s.latest(tp).await;
    assert_eq!(before["result"], json!(0.02), "{before}");

    let (status, body) = s.observe(tp, YEAR_2099, 0.5).await;
    assert_future_refused(status, &body);
    // PATCH and PUT of the stored observation to 2099.
    let id = before["observation_id"].as_i64().expect("observation id");
    let (status, body) = s
        .send(
            reqwest::Method::PATCH,
            &format!("/v1.1/Observations({id})"),
            json!({ "phenomenonTime": YEAR_2099 }),
        )
        .await;
    assert_future_refused(status, &body);
    let (status, body) = s
        .send(
            reqwest::Method::PUT,
            &format!("/v1.1/Observations({id})"),
            json!({ "phenomenonTime": YEAR_2099, "result": 0.5 }),
        )
        .await;
    assert_future_refused(status, &body);
    // CreateObservations: the row is an error, the request stands.
    let (status, body) = s
        .send(
            reqwest::Method::POST,
            "/v1.1/CreateObservations",
            json!([{ "Datastream": { "@iot.id": tp }, "components": ["phenomenonTime", "result"],
                     "dataArray": [[YEAR_2099, 0.5]] }]),
        )
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    assert_eq!(body, json!(["error"]));
    // Years outside 1900–2200, with or without offsets, are refused as malformed times.
    for bad in ["0000-01-01T00:00:00Z", "9999-12-31T23:59:59+14:00"] {
        let (status, body) = s.observe(tp, bad, 0.5).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{bad}: {body}");
        assert!(
            body["message"].as_str().unwrap_or("").contains("1900–2200"),
            "{body}"
        );
    }

    let after = s.latest(tp).await;
    assert_eq!(after["result"], json!(0.02), "{after}");
    assert_eq!(after["phenomenon_time"], before["phenomenon_time"]);
    let metrics = s
        .client
        .get(format!("{}/metrics", s.http))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("qingshui_observations_future_refused_total 4"),
        "POST, PATCH, PUT and one dataArray row: {}",
        metrics
            .lines()
            .filter(|l| l.contains("future"))
            .collect::<Vec<_>>()
            .join("\n")
    );
    s.stop().await;
}

#[tokio::test]
async fn a_refused_2099_value_cannot_silence_a_later_exceedance() {
    let s = start().await;
    let tp = s.datastream("datastream:W01:tp:hourly").await;
    let t0 = sta::time::now_micros() - 8 * HOUR_US;
    let (status, body) = s.observe(tp, &sta::time::format_instant(t0), 0.02).await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    // The wrong clock: refused, so it moves neither the latest value nor the rule clock.
    let (status, body) = s.observe(tp, YEAR_2099, 0.02).await;
    assert_future_refused(status, &body);
    // A real exceedance (0.08 mg/L TP at the intake, see alerts_e2e.rs) still raises its alert.
    let (status, body) = s
        .observe(tp, &sta::time::format_instant(t0 + 4 * HOUR_US), 0.08)
        .await;
    assert_eq!(status, StatusCode::CREATED, "{body}");
    let started = Instant::now();
    loop {
        let v = s.get("/api/v1/alerts?state=active&station=W01").await;
        let raised = v["value"]
            .as_array()
            .is_some_and(|a| a.iter().any(|a| a["rule"] == "exceedance"));
        if raised {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "no exceedance alert after the refused 2099 value: {v}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    s.stop().await;
}
