//! The senders against the real server, in-process on loopback: the history backfill through
//! CreateObservations and twelve live hours over HJ 212, including R05's outage and backfill.
//! Everything is checked through STA, against the values the generator gives.

use chrono::{DateTime, Utc};
use serde_json::Value;
use server::config::{Config, Overrides};
use sim::send::{
    BulkOptions, Feed, HistoryWindow, LiveOptions, LoggerTiming, ManualSink, SendStats, SimClock,
    StaClient, backfill_history, run_live,
};
use sim::{Scenario, Simulator};
use std::path::Path;
use std::sync::Arc;
use std::time::Duration;

async fn get(url: &str) -> Value {
    let response = reqwest::get(url)
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert!(
        response.status().is_success(),
        "GET {url}: {}",
        response.status()
    );
    response
        .json()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"))
}

/// Observations of a datastream with `from <= phenomenonTime < to`: (count, first result).
async fn observations(sta: &str, id: i64, from: i64, to: i64) -> (u64, Option<f64>) {
    let iso = |t: i64| sim::send::sta::iso_time(t);
    let url = format!(
        "{sta}/Datastreams({id})/Observations?$filter=phenomenonTime%20ge%20{}%20and%20phenomenonTime%20lt%20{}&$orderby=phenomenonTime%20asc&$count=true&$top=1",
        iso(from),
        iso(to)
    );
    let page = get(&url).await;
    let first = page["value"]
        .as_array()
        .and_then(|v| v.first())
        .and_then(|o| o["result"].as_f64());
    (page["@iot.count"].as_u64().unwrap_or(0), first)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn history_and_live_hours_reach_the_store() {
    let dir = tempfile::tempdir().expect("temp dir");
    let network_file = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/hongfeng.toml");
    let text = std::fs::read_to_string(&network_file).expect("network file");
    let network = network::parse_network(&text, "hongfeng.toml").expect("parses");
    let mut config = Config::default().overlay(Overrides {
        http: Some("127.0.0.1:0".parse().expect("addr")),
        data_dir: Some(dir.path().to_path_buf()),
        open: true,
        tokens: Vec::new(),
        network: Some(network_file),
        hj212: Some("127.0.0.1:0".parse().expect("addr")),
        gb28181: None,
        ..Default::default()
    });
    config.storage.synchronous = "normal".into();
    let store = server::open_store(&config).expect("store");
    let running = server::start(config, store).await.expect("server starts");
    let sta_url = format!("http://{}/v1.1", running.http_addr);
    let hj212 = running.hj212_addr.expect("HJ 212 listener");

    // R05 is offline from anchor + 3 h to + 9 h; start 2 h after the anchor, run 12 h.
    let anchor: DateTime<Utc> = "2026-07-20T00:00:00Z".parse().expect("time");
    let start = anchor.timestamp() + 2 * 3600;
    let feed = Arc::new(Feed::new(
        &network,
        Simulator::with_scenario(&network, 42, Scenario::demo(anchor)),
    ));
    let sta = StaClient::new(&format!("http://{}", running.http_addr), None).expect("client");
    let ids = Arc::new(sta.datastream_ids().await.expect("datastreams"));
    assert_eq!(ids.len(), 304, "the demo network's datastreams");
    let stats = Arc::new(SendStats::default());

    let window = HistoryWindow {
        from: start - 2 * 86_400,
        to: start,
        realtime_from: start - 6 * 3600,
    };
    let options = BulkOptions {
        progress: false,
        batch_rows: 5000,
        ..BulkOptions::default()
    };
    let done = backfill_history(&feed, &sta, &ids, &window, &options, &stats)
        .await
        .expect("backfill");
    assert_eq!(done.errors, 0);
    assert!(done.rows > 7000, "{done:?}");

    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let live = LiveOptions {
        hj212_addr: hj212,
        clock: SimClock::start(start, 7200.0),
        end: Some(start + 12 * 3600),
        timing: LoggerTiming {
            answer_timeout: Duration::from_secs(2),
            ..LoggerTiming::default()
        },
        max_backlog: 10_000,
    };
    let manual = ManualSink {
        sta: sta.clone(),
        ids: ids.clone(),
    };
    tokio::time::timeout(
        Duration::from_secs(90),
        run_live(feed.clone(), live, Some(manual), stats.clone(), stop_rx),
    )
    .await
    .expect("12 simulated hours within 90 s")
    .expect("live run");
    drop(stop_tx);

    let s = stats.snapshot();
    assert_eq!(s.failed, 0, "{s:?}");
    assert_eq!(
        s.held_offline, 78,
        "R05: 72 real-time and 6 hourly frames held"
    );
    assert_eq!(s.backfilled, 78, "and all delivered when it came back");

    // Every real-time value of the 12 hours is stored, R05's outage included, with the
    // generator's values.
    for station in ["R01", "R05", "L06"] {
        let id = ids[&format!("datastream:{station}:water_temp:realtime")];
        let (count, first) = observations(&sta_url, id, start, start + 12 * 3600).await;
        assert_eq!(count, 144, "{station}: 12 h of 5-minute values");
        let expected = feed.sim.sample(
            station,
            "water_temp",
            DateTime::from_timestamp(start, 0).expect("t"),
        );
        assert_eq!(first, expected.map(|r| r.value), "{station}");
    }
    let r05_tp = ids["datastream:R05:tp:hourly"];
    let (count, _) = observations(&sta_url, r05_tp, start - 2 * 86_400, start + 12 * 3600).await;
    assert!(
        count >= 2 * 6 + 2,
        "R05 TP every 4 h over history and live: {count}"
    );

    running.stop().await.expect("server stops");
}
