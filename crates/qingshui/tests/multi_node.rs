//! Two `qingshui serve` processes on one PostgreSQL database (docs/postgres.md): a write on A
//! is readable on B at once and reaches B's live stream (SSE) through LISTEN/NOTIFY; exactly one
//! node leads the alert engine and the other takes over within seconds when the leader is
//! SIGKILLed; nothing either node acknowledged is lost. Runs when `QINGSHUI_TEST_DATABASE_URL`
//! names a PostgreSQL server (`make test-postgres`); says so and passes otherwise.

mod served;

use serde_json::{Value, json};
use served::{free_port, wait_ready};
use std::collections::BTreeSet;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// A fresh schema in the test database, as a URL whose search_path names it.
fn fresh_schema_url() -> Option<String> {
    let admin = std::env::var("QINGSHUI_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())?;
    let schema = format!(
        "mn_{:x}_{:x}",
        std::process::id(),
        sta::time::now_micros() & 0xffff_ffff
    );
    let (a, s) = (admin.clone(), schema.clone());
    std::thread::spawn(move || {
        let mut c = store_postgres::connect(&a).expect("connect");
        c.batch_execute(&format!("CREATE SCHEMA {s}"))
            .expect("schema");
    })
    .join()
    .expect("schema thread");
    let sep = if admin.contains('?') { '&' } else { '?' };
    Some(format!("{admin}{sep}options=-csearch_path%3D{schema}"))
}

fn spawn_node(url: &str, data: &std::path::Path, port: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_qingshui"))
        .args(["serve", "--open", "--http", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(data)
        .env("QINGSHUI_DATABASE_URL", url)
        .env("QINGSHUI_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start qingshui")
}

async fn leader(client: &reqwest::Client, base: &str) -> Option<bool> {
    let h: Value = client
        .get(format!("{base}/api/v1/health"))
        .send()
        .await
        .ok()?
        .json()
        .await
        .ok()?;
    assert_eq!(h["backend"]["backend"], "postgres", "{h}");
    h["backend"]["alert_leader"].as_bool()
}

fn t(i: i64) -> String {
    sta::time::format_instant(1_767_225_600_000_000 + i * 1_000_000)
}

/// Writes observations one by one through `base` until `stop`; the times acknowledged (201).
async fn writer(
    base: String,
    ds: i64,
    offset: i64,
    stop: tokio::sync::watch::Receiver<bool>,
) -> Vec<i64> {
    let client = reqwest::Client::new();
    let mut acked = Vec::new();
    let mut i = offset;
    while !*stop.borrow() {
        let r = client
            .post(format!("{base}/v1.1/Datastreams({ds})/Observations"))
            .json(&json!({ "phenomenonTime": t(i), "result": i }))
            .timeout(Duration::from_secs(5))
            .send()
            .await;
        if let Ok(r) = r
            && r.status() == reqwest::StatusCode::CREATED
        {
            acked.push(i);
        }
        i += 1;
    }
    acked
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_share_writes_events_and_the_alert_engine() {
    let Some(url) = fresh_schema_url() else {
        eprintln!(
            "QINGSHUI_TEST_DATABASE_URL is not set: the two-node test runs in make test-postgres"
        );
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let (pa, pb) = (free_port(), free_port());
    let (a, b) = (
        format!("http://127.0.0.1:{pa}"),
        format!("http://127.0.0.1:{pb}"),
    );
    let client = reqwest::Client::new();
    let mut node_a = spawn_node(&url, &dir.path().join("a"), pa);
    wait_ready(&client, &a).await;
    let mut node_b = spawn_node(&url, &dir.path().join("b"), pb);
    wait_ready(&client, &b).await;

    // A write on A is readable on B at once.
    let r = client
        .post(format!("{a}/v1.1/Things"))
        .json(&served::thing("two nodes", 2))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    let ds: Value = client
        .get(format!("{b}/v1.1/Datastreams?$orderby=id&$select=id"))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    let ids: Vec<i64> = ds["value"]
        .as_array()
        .expect("value")
        .iter()
        .filter_map(|d| d["@iot.id"].as_i64())
        .collect();
    assert_eq!(ids.len(), 2, "B reads A's datastreams: {ds}");

    // B's live stream carries A's observation.
    let mut sse = client
        .get(format!("{b}/api/v1/events"))
        .send()
        .await
        .expect("sse");
    let mut seen = String::new();
    while !seen.contains("event: ready") {
        let chunk = tokio::time::timeout(Duration::from_secs(5), sse.chunk())
            .await
            .expect("ready in time")
            .expect("chunk")
            .expect("open");
        seen.push_str(&String::from_utf8_lossy(&chunk));
    }
    let r = client
        .post(format!("{a}/v1.1/Datastreams({})/Observations", ids[0]))
        .json(&json!({ "phenomenonTime": t(-1), "result": 42.5 }))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    let deadline = Instant::now() + Duration::from_secs(5);
    while !(seen.contains("event: observation") && seen.contains("42.5")) {
        assert!(
            Instant::now() < deadline,
            "B's SSE did not carry A's write: {seen}"
        );
        if let Ok(Ok(Some(chunk))) =
            tokio::time::timeout(Duration::from_millis(500), sse.chunk()).await
        {
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
    drop(sse);

    // Exactly one leader: A, which started first.
    assert_eq!(leader(&client, &a).await, Some(true), "A leads");
    assert_eq!(leader(&client, &b).await, Some(false), "B does not");

    // Clients write through both nodes; A is killed mid-way; B goes on.
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let mut writers = Vec::new();
    for k in 0..4 {
        let base = if k % 2 == 0 { a.clone() } else { b.clone() };
        writers.push(tokio::spawn(writer(
            base,
            ids[1],
            k * 1_000_000,
            stop_rx.clone(),
        )));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    node_a.kill().expect("SIGKILL A");
    let _ = node_a.wait();
    tokio::time::sleep(Duration::from_millis(1000)).await;
    let _ = stop_tx.send(true);
    let mut acked = BTreeSet::new();
    for w in writers {
        acked.extend(w.await.expect("writer"));
    }
    assert!(acked.len() > 20, "writes went through: {}", acked.len());
    let mut stored = BTreeSet::new();
    let mut next = Some(format!(
        "{b}/v1.1/Datastreams({})/Observations?$select=result&$top=10000",
        ids[1]
    ));
    while let Some(link) = next {
        let page: Value = client
            .get(link)
            .send()
            .await
            .expect("get")
            .json()
            .await
            .expect("json");
        for o in page["value"].as_array().expect("value") {
            if let Some(v) = o["result"].as_i64() {
                stored.insert(v);
            }
        }
        next = page["@iot.nextLink"].as_str().map(str::to_owned);
    }
    let lost: Vec<_> = acked.difference(&stored).collect();
    assert!(lost.is_empty(), "acknowledged but lost: {lost:?}");

    // B takes the alert engine over within seconds of A's death.
    let deadline = Instant::now() + Duration::from_secs(15);
    while leader(&client, &b).await != Some(true) {
        assert!(
            Instant::now() < deadline,
            "B did not take over the alert engine"
        );
        tokio::time::sleep(Duration::from_millis(250)).await;
    }
    node_b.kill().expect("kill B");
    let _ = node_b.wait();
}
