//! Query budgets, cancellation and the statement timeout, end to end (issue #10): the real server
//! on a random 127.0.0.1 port, a real SQLite file in a temp dir, requests through reqwest. Each
//! test is a reproduction from the issue that failed before the budgets existed.

use reqwest::StatusCode;
use serde_json::{Value, json};
use server::config::Config;
use std::time::{Duration, Instant};

struct TestServer {
    base: String,
    client: reqwest::Client,
    running: Option<server::Running>,
    _dir: tempfile::TempDir,
}

async fn start(tweak: impl FnOnce(&mut Config)) -> TestServer {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::default();
    config.http.addr = "127.0.0.1:0".parse().expect("addr");
    config.storage.data_dir = dir.path().to_path_buf();
    config.auth.open = true;
    // The HTTP layer refuses targets over 8 KiB ([http] max_uri_bytes) before any parser runs;
    // these tests lift that so they show the query budgets hold on their own, as they must for a
    // deployment that raises the URI limit.
    config.http.max_uri_bytes = 1 << 20;
    config.http.max_header_bytes = 1 << 20;
    tweak(&mut config);
    let store = server::open_store(&config).expect("store");
    let running = server::start(config, store).await.expect("server starts");
    TestServer {
        base: format!("http://{}/v1.1", running.http_addr),
        client: reqwest::Client::new(),
        running: Some(running),
        _dir: dir,
    }
}

impl TestServer {
    async fn get(&self, path: &str) -> (StatusCode, Value) {
        let r = self
            .client
            .get(format!("{}/{path}", self.base))
            .send()
            .await
            .expect("GET");
        let status = r.status();
        let text = r.text().await.expect("body");
        (
            status,
            serde_json::from_str(&text).unwrap_or(Value::String(text)),
        )
    }

    async fn post(&self, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .client
            .post(format!("{}/{path}", self.base))
            .json(&body)
            .send()
            .await
            .expect("POST");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    /// `things` Things with `per_thing` Datastreams each (one shared Sensor and ObservedProperty).
    async fn populate(&self, things: usize, per_thing: usize) {
        let (st, _) = self
            .post(
                "Sensors",
                json!({ "name": "s", "description": "s", "encodingType": "text/html", "metadata": "m" }),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED);
        let (st, _) = self
            .post(
                "ObservedProperties",
                json!({ "name": "TP", "definition": "urn:tp", "description": "tp" }),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED);
        for t in 0..things {
            let datastreams: Vec<Value> = (0..per_thing)
                .map(|d| {
                    json!({
                        "name": format!("T{t} D{d}"),
                        "description": "d",
                        "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
                        "unitOfMeasurement": { "name": "mg/L", "symbol": "mg/L", "definition": "ucum" },
                        "Sensor": { "@iot.id": 1 },
                        "ObservedProperty": { "@iot.id": 1 }
                    })
                })
                .collect();
            let (st, v) = self
                .post(
                    "Things",
                    json!({
                        "name": format!("T{t}"),
                        "description": "t",
                        "Locations": [{
                            "name": format!("L{t}"), "description": "l", "encodingType": "application/geo+json",
                            "location": { "type": "Point", "coordinates": [106.0 + t as f64 * 0.01, 26.5] }
                        }],
                        "Datastreams": datastreams
                    }),
                )
                .await;
            assert_eq!(st, StatusCode::CREATED, "{v}");
        }
    }

    /// `n` observations on Datastream(1), all with results below 5.
    async fn observations(&self, n: usize) {
        let t0 = sta::time::now_micros() - n as i64 * 60_000_000;
        let rows: Vec<Value> = (0..n)
            .map(|i| {
                json!([
                    sta::time::format_instant(t0 + i as i64 * 60_000_000),
                    (i % 40) as f64 * 0.1
                ])
            })
            .collect();
        let (st, v) = self
            .post(
                "CreateObservations",
                json!([{ "Datastream": { "@iot.id": 1 }, "components": ["phenomenonTime", "result"], "dataArray": rows }]),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED, "{v}");
    }

    async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await.expect("stops");
        }
    }
}

/// This process's resident set, in KiB (the server runs in-process).
fn vm_rss_kib() -> u64 {
    let status = std::fs::read_to_string("/proc/self/status").expect("/proc/self/status");
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .expect("VmRSS")
}

/// A 400 in the JSON error shape whose message names `setting`.
#[track_caller]
fn assert_refused(status: StatusCode, body: &Value, setting: &str) {
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["code"], 400, "{body}");
    assert_eq!(body["type"], "error", "{body}");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(message.contains(setting), "message names {setting}: {body}");
}

#[tokio::test]
async fn the_two_crash_requests_are_400_in_well_under_a_second() {
    let s = start(|_| {}).await;
    s.populate(3, 2).await;
    // ~1,400 levels, 36 KB: overflowed a worker's stack and aborted the process.
    let deep = vec!["Datastreams/Thing"; 700].join("/");
    assert!(deep.len() > 12_000);
    let mut nested = String::from("Locations");
    for _ in 0..1_400 {
        nested = format!("Datastreams($expand=Thing($expand={nested}))");
    }
    assert!(nested.len() > 36_000);
    for expand in [deep, nested] {
        let started = Instant::now();
        let (status, body) = s.get(&format!("Things?$expand={expand}")).await;
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "{:?}",
            started.elapsed()
        );
        assert_refused(status, &body, "max_expand_depth");
    }
    // The 6-level request that built 169 MB: over the default depth of 4.
    let started = Instant::now();
    let (status, body) = s
        .get("Things?$expand=Datastreams/Thing/Datastreams/Thing/Datastreams/Thing")
        .await;
    assert!(started.elapsed() < Duration::from_secs(1));
    assert_refused(status, &body, "max_expand_depth");
    // The server is still up and answers.
    let (status, things) = s.get("Things?$expand=Datastreams/Thing").await;
    assert_eq!(status, StatusCode::OK);
    assert_eq!(things["value"].as_array().map(Vec::len), Some(3));
    s.stop().await;
}

#[tokio::test]
async fn expanded_rows_are_bounded_before_they_are_built() {
    // Depth allowed up to 8 so that the row budget, not the depth, is what stops the request.
    let s = start(|c| {
        c.sta.max_expand_depth = 8;
        c.sta.max_expanded_rows = 20_000;
    })
    .await;
    s.populate(20, 10).await;
    // 6 levels from one Thing: 2,220 embedded entities, within the budget.
    let (status, v) = s
        .get("Things?$expand=Datastreams/Thing/Datastreams/Thing/Datastreams/Thing&$top=1")
        .await;
    assert_eq!(status, StatusCode::OK, "{v}");
    // 6 levels from all 20: 44,400, over it.
    let (status, body) = s
        .get("Things?$expand=Datastreams/Thing/Datastreams/Thing/Datastreams/Thing")
        .await;
    assert_refused(status, &body, "max_expanded_rows");
    let rss_before = vm_rss_kib();
    // 8 levels: every to-one level multiplies; 444,400 entities (about 1 GB of JSON) would be
    // built. Other tests run in this process at the same time, hence the generous bound.
    let started = Instant::now();
    let (status, body) = s
        .get("Things?$expand=Datastreams/Thing/Datastreams/Thing/Datastreams/Thing/Datastreams/Thing")
        .await;
    let took = started.elapsed();
    let grown_mib = vm_rss_kib().saturating_sub(rss_before) / 1024;
    eprintln!("8-level $expand refused in {took:?}, RSS grew {grown_mib} MiB");
    assert_refused(status, &body, "max_expanded_rows");
    assert!(grown_mib < 200, "RSS grew {grown_mib} MiB");
    s.stop().await;
}

#[tokio::test]
async fn filter_budgets_skip_and_sqlite_limits_are_400_json() {
    let s = start(|_| {}).await;
    s.populate(2, 1).await;
    let terms: Vec<String> = (0..1_000).map(|i| format!("id eq {i}")).collect();
    let (status, body) = s
        .get(&format!("Things?$filter={}", terms.join(" or ")))
        .await;
    assert_refused(status, &body, "max_filter_nodes");
    let (status, body) = s
        .get("Observations?$filter=Datastream/Thing/Datastreams/Observations/result gt 5")
        .await;
    assert_refused(status, &body, "max_filter_nav_depth");
    let ring: Vec<String> = (0..1_500).map(|i| format!("{i} 1")).collect();
    let (status, body) = s
        .get(&format!(
            "Things?$filter=st_within(Locations/location, geography'POLYGON (({}, 0 1))')",
            ring.join(", ")
        ))
        .await;
    assert_refused(status, &body, "max_geometry_vertices");
    for q in [
        "Things?$skip=9223372036854775808",
        "Things?$top=18446744073709551615",
        "Things?$skip=99999999999999999999",
    ] {
        let (status, body) = s.get(q).await;
        assert_eq!(status, StatusCode::BAD_REQUEST, "{q}: {body}");
        assert_eq!(body["type"], "error", "{q}: {body}");
        assert!(
            body["message"].as_str().unwrap_or("").contains("$"),
            "{body}"
        );
    }
    let (status, _) = s.get("Things?$skip=9223372036854775807").await;
    assert_eq!(status, StatusCode::OK);
    s.stop().await;
    // Generous budgets: a long `or` chain is still refused by us (tree depth), never a stack
    // overflow or SQLite's "Expression tree is too large" as a 500; 250 terms still run.
    let s = start(|c| c.sta.max_filter_nodes = 100_000).await;
    s.populate(1, 1).await;
    let terms: Vec<String> = (0..3_000).map(|i| format!("id eq {i}")).collect();
    let (status, body) = s
        .get(&format!("Things?$filter={}", terms.join(" or ")))
        .await;
    assert_eq!(status, StatusCode::BAD_REQUEST, "{body}");
    assert_eq!(body["type"], "error");
    assert!(
        body["message"]
            .as_str()
            .unwrap_or("")
            .contains("operators deep"),
        "{body}"
    );
    let terms: Vec<String> = (0..250).map(|i| format!("id eq {i}")).collect();
    let (status, body) = s
        .get(&format!("Things?$filter={}", terms.join(" or ")))
        .await;
    assert_eq!(status, StatusCode::OK, "{body}");
    assert_eq!(body["value"].as_array().map(Vec::len), Some(1));
    s.stop().await;
}

/// The expensive read: from each Observation through its Thing to every Observation.
const EXPENSIVE: &str =
    "Observations?$filter=Datastream/Thing/Datastreams/Observations/result gt 5";

#[tokio::test]
async fn abandoned_expensive_queries_leave_the_reader_pool_usable() {
    let s = start(|c| {
        c.sta.max_filter_nav_depth = 6;
        // Long enough that only cancellation, not the timeout, can free the readers in time.
        c.storage.statement_timeout_ms = 120_000;
    })
    .await;
    s.populate(1, 2).await;
    s.observations(4_000).await;
    // Four clients send the expensive request and give up after ~100 ms.
    let mut abandoned = Vec::new();
    for _ in 0..4 {
        let client = s.client.clone();
        let url = format!("{}/{EXPENSIVE}", s.base);
        abandoned.push(tokio::spawn(async move {
            client
                .get(url)
                .timeout(Duration::from_millis(100))
                .send()
                .await
        }));
    }
    for a in abandoned {
        let r = a.await.expect("task");
        assert!(
            r.as_ref().is_err_and(|e| e.is_timeout()),
            "the expensive request must still be running at 100 ms: {r:?}"
        );
    }
    let started = Instant::now();
    let (status, body) = s.get("Things").await;
    let took = started.elapsed();
    eprintln!("plain read after four abandoned queries: {status} in {took:?}");
    assert_eq!(status, StatusCode::OK, "{body}");
    assert!(took < Duration::from_secs(1), "{took:?}");
    s.stop().await;
}

#[tokio::test]
async fn a_read_over_the_statement_timeout_is_stopped_with_a_503_naming_it() {
    let s = start(|c| {
        c.sta.max_filter_nav_depth = 6;
        c.storage.statement_timeout_ms = 300;
    })
    .await;
    s.populate(1, 2).await;
    s.observations(4_000).await;
    let started = Instant::now();
    let (status, body) = s.get(EXPENSIVE).await;
    let took = started.elapsed();
    eprintln!("expensive read with a 300 ms timeout: {status} in {took:?}");
    assert_eq!(status, StatusCode::SERVICE_UNAVAILABLE, "{body}");
    assert_eq!(body["type"], "error");
    let message = body["message"].as_str().unwrap_or_default();
    assert!(
        message.contains("300 ms") && message.contains("statement_timeout_ms"),
        "{body}"
    );
    assert!(took < Duration::from_secs(5), "{took:?}");
    let (status, metrics) = {
        let r = s
            .client
            .get(s.base.replace("/v1.1", "/metrics"))
            .send()
            .await
            .expect("metrics");
        (r.status(), r.text().await.unwrap_or_default())
    };
    assert_eq!(status, StatusCode::OK);
    assert!(
        metrics.contains("qingshui_store_reads_timed_out_total 1"),
        "{metrics}"
    );
    // The reader is back: the next read works.
    let (status, _) = s.get("Things").await;
    assert_eq!(status, StatusCode::OK);
    s.stop().await;
}
