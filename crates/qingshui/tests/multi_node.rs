//! Two `qingshui serve` processes on one PostgreSQL database (docs/postgres.md): a write on A
//! is readable on B at once and reaches B's live stream (SSE) through LISTEN/NOTIFY; exactly one
//! node leads the alert engine and the other takes over within seconds when the leader is
//! SIGKILLed, judging what was committed while no node led; nothing either node acknowledged is
//! lost. Runs when `QINGSHUI_TEST_DATABASE_URL`
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
    // The blocking client must not run on a test's runtime thread.
    let (_, url) = std::thread::spawn(move || store_postgres::create_fresh_schema(&admin, "mn_"))
        .join()
        .expect("schema thread")
        .expect("schema");
    Some(url)
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

/// A lake station with a total-phosphorus datastream the alert rules judge (GB 3838 Class Ⅲ for
/// lakes: TP ≤ 0.05 mg/L, reference water-quality.md), as the network loader would write it.
fn judged_station(code: &str) -> Value {
    json!({
        "name": code, "description": "two-node alerts",
        "properties": { "station_code": code, "water_type": "lake", "target_class": "III" },
        "Locations": [{ "name": "l", "description": "l", "encodingType": "application/geo+json", "location": { "type": "Point", "coordinates": [106.4, 26.5] } }],
        "Datastreams": [{
            "name": "TP", "description": "total phosphorus, hourly",
            "properties": { "parameter": "tp", "data_kind": "hourly", "interval_s": 3600 },
            "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
            "unitOfMeasurement": { "name": "mg/L", "symbol": "mg/L", "definition": "ucum:mg/L" },
            "Sensor": { "name": "s", "description": "s", "encodingType": "text/html", "metadata": "m" },
            "ObservedProperty": { "name": "TP", "definition": "urn:tp", "description": "p" }
        }]
    })
}

/// An hourly value `hours_ago` hours before now.
fn hours_ago(h: i64) -> String {
    let hour = 3_600_000_000;
    sta::time::format_instant((sta::time::now_micros() / hour - h) * hour)
}

async fn get_json(client: &reqwest::Client, url: &str) -> Value {
    client
        .get(url)
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json")
}

/// Every alert (any state) of `source`, read through `base`.
async fn alerts_of(client: &reqwest::Client, base: &str, source: &str) -> Vec<Value> {
    let all = get_json(client, &format!("{base}/api/v1/alerts?limit=1000")).await;
    all["value"]
        .as_array()
        .expect("value")
        .iter()
        .filter(|a| a["source"] == source)
        .cloned()
        .collect()
}

/// Waits until the alert `id`, read through `base`, satisfies `done`.
async fn wait_alert(
    client: &reqwest::Client,
    base: &str,
    id: i64,
    what: &str,
    done: impl Fn(&Value) -> bool,
) -> Value {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let a = get_json(client, &format!("{base}/api/v1/alerts/{id}")).await;
        if done(&a) {
            return a;
        }
        assert!(Instant::now() < deadline, "{what}: {a}");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

/// `/api/v1/events` of `base`, read up to its `ready` event.
async fn open_events(client: &reqwest::Client, base: &str) -> reqwest::Response {
    let mut sse = client
        .get(format!("{base}/api/v1/events"))
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
    sse
}

/// Reads `sse` until an `alert` event holding both `a` and `b` arrives (10 s at most).
async fn wait_event(sse: &mut reqwest::Response, a: &str, b: &str, what: &str) {
    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        if seen
            .split("\n\n")
            .any(|e| e.contains("event: alert") && e.contains(a) && e.contains(b))
        {
            return;
        }
        assert!(Instant::now() < deadline, "{what}: {seen}");
        if let Ok(Ok(Some(chunk))) =
            tokio::time::timeout(Duration::from_millis(500), sse.chunk()).await
        {
            seen.push_str(&String::from_utf8_lossy(&chunk));
        }
    }
}

async fn observe(client: &reqwest::Client, base: &str, ds: i64, time: String, value: f64) {
    let r = client
        .post(format!("{base}/v1.1/Datastreams({ds})/Observations"))
        .json(&json!({ "phenomenonTime": time, "result": value }))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
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
    let mut sse = open_events(&client, &b).await;
    let mut seen = String::new();
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

    // An alert raised by A (the leader) is acknowledged by a person on B; A's next judgement of
    // the same exceedance builds on the acknowledgement instead of overwriting it.
    let r = client
        .post(format!("{a}/v1.1/Things"))
        .json(&judged_station("MN01"))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    // A second station, judged only in the gap between A's death and B's takeover.
    let r = client
        .post(format!("{a}/v1.1/Things"))
        .json(&judged_station("MN02"))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    let tp_of = |code: &'static str| {
        let (client, b) = (client.clone(), b.clone());
        async move {
            let list = get_json(
                &client,
                &format!(
                    "{b}/v1.1/Things?$filter=name eq '{code}'&$expand=Datastreams($select=id)"
                ),
            )
            .await;
            list["value"][0]["Datastreams"][0]["@iot.id"]
                .as_i64()
                .expect("TP datastream")
        }
    };
    let tp = tp_of("MN01").await;
    let tp2 = tp_of("MN02").await;
    let source = "MN01:tp:hourly";
    let mut sse_b = open_events(&client, &b).await;
    let mut sse_a = open_events(&client, &a).await;
    observe(&client, &a, tp, hours_ago(3), 0.3).await;
    let deadline = Instant::now() + Duration::from_secs(15);
    let raised = loop {
        if let Some(x) = alerts_of(&client, &b, source).await.into_iter().next() {
            break x;
        }
        assert!(Instant::now() < deadline, "A raised no TP alert");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let alert_id = raised["id"].as_i64().expect("alert id");
    // The dashboard on B sees the alert A raised, live.
    wait_event(
        &mut sse_b,
        "\"action\":\"raised\"",
        source,
        "B's SSE did not carry A's alert",
    )
    .await;
    let r = client
        .post(format!("{b}/api/v1/alerts/{alert_id}/ack"))
        .json(&json!({ "by": "duty officer", "comment": "crew on the way" }))
        .send()
        .await
        .expect("ack");
    assert_eq!(r.status(), reqwest::StatusCode::OK);
    // … and the dashboard on A sees the acknowledgement made on B.
    wait_event(
        &mut sse_a,
        "\"action\":\"acknowledged\"",
        source,
        "A's SSE did not carry B's acknowledgement",
    )
    .await;
    drop((sse_a, sse_b));
    let count = raised["count"].as_u64().unwrap_or(1);
    observe(&client, &a, tp, hours_ago(2), 0.35).await;
    let updated = wait_alert(
        &client,
        &b,
        alert_id,
        "A did not judge the second value",
        |x| x["count"].as_u64().unwrap_or(0) > count,
    )
    .await;
    assert_eq!(
        updated["state"], "acknowledged",
        "the leader's update overwrote B's acknowledgement: {updated}"
    );

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
    // Committed on B while no node leads (B tries for the lead every 2 s): the next leader must
    // still judge it, from the position A saved.
    let gap_leader = leader(&client, &b).await;
    observe(&client, &b, tp2, hours_ago(1), 0.3).await;
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
    // The alert A raised is continued by B, not raised again.
    let before = wait_alert(&client, &b, alert_id, "", |_| true).await;
    observe(&client, &b, tp, hours_ago(1), 0.4).await;
    wait_alert(&client, &b, alert_id, "B did not continue A's alert", |x| {
        x["count"].as_u64().unwrap_or(0) > before["count"].as_u64().unwrap_or(0)
    })
    .await;
    let all = alerts_of(&client, &b, source).await;
    assert_eq!(all.len(), 1, "B raised A's alert again: {all:?}");
    assert_eq!(all[0]["state"], "acknowledged", "{all:?}");
    // The exceedance committed while no node led raised its alert once B took over.
    let deadline = Instant::now() + Duration::from_secs(15);
    let gap = loop {
        let found = alerts_of(&client, &b, "MN02:tp:hourly").await;
        if !found.is_empty() {
            break found;
        }
        assert!(
            Instant::now() < deadline,
            "the value committed before B took over (B leading then: {gap_leader:?}) was never judged"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert_eq!(gap.len(), 1, "{gap:?}");
    assert_eq!(gap[0]["count"], 1, "judged once: {gap:?}");
    node_b.kill().expect("kill B");
    let _ = node_b.wait();
}
