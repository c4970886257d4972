//! The `Source` seam is real: a second, in-test source is started by `server::start` through
//! the same path as HJ 212, writes through the same `Ingest` handle (answered after commit),
//! shows up in `/api/v1/stations` and `/metrics` in the shared shape, and stops on shutdown.

use serde_json::{Value, json};
use server::config::Config;
use server::sources::status::{DeviceStatus, SourceStatus};
use server::sources::{RunningSource, Source, SourceContext, StartFuture};
use std::collections::BTreeMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};
use std::time::Duration;
use store::NewObservation;
use tokio::sync::oneshot;

const TOKEN: &str = "seam-test-token";
const VALUES: u64 = 5;

/// What the counting source reports: one device, `T01`.
#[derive(Default)]
struct CountingStatus {
    values: AtomicU64,
    last_micros: AtomicI64,
}

impl SourceStatus for CountingStatus {
    fn source(&self) -> &'static str {
        "counting"
    }

    fn devices(&self, _now_micros: i64) -> Vec<DeviceStatus> {
        let values = self.values.load(Ordering::SeqCst);
        let last = Some(self.last_micros.load(Ordering::SeqCst)).filter(|_| values > 0);
        vec![DeviceStatus {
            station: "T01".into(),
            name: Some("Test buoy".into()),
            source: "counting",
            status: if values > 0 { "online" } else { "offline" },
            connected: false,
            last_frame_at: last.map(sta::time::format_instant),
            last_frame_micros: last,
            frames_received: u64::from(values > 0),
            values_received: values,
            frames_rejected: BTreeMap::from([("too_dull", 2)]),
            details: serde_json::Map::new(),
        }]
    }

    fn unattributed_rejects(&self) -> BTreeMap<&'static str, u64> {
        BTreeMap::from([("nobody_home", 1)])
    }
}

/// Waits for a datastream id, writes `VALUES` observations to it in one call, then waits for
/// shutdown.
struct CountingSource {
    datastream: oneshot::Receiver<i64>,
    written: oneshot::Sender<u64>,
}

impl Source for CountingSource {
    fn name(&self) -> &'static str {
        "counting"
    }

    fn start(self: Box<Self>, mut context: SourceContext) -> StartFuture {
        Box::pin(async move {
            let status = Arc::new(CountingStatus::default());
            let board = status.clone();
            let task = tokio::spawn(async move {
                let Ok(datastream_id) = self.datastream.await else {
                    return;
                };
                let now = sta::time::now_micros();
                let rows = (0..VALUES)
                    .map(|i| NewObservation {
                        datastream_id,
                        phenomenon_time: now - 60_000_000 * (VALUES - i) as i64,
                        phenomenon_time_end: None,
                        result: json!(i as f64 / 10.0),
                        result_time: None,
                        result_quality: None,
                        parameters: None,
                        feature_id: None,
                    })
                    .collect();
                // Returns after the group commit: the values are readable once it did.
                let stored = context.ingest.observations(rows).await.expect("stored");
                board.last_micros.store(now, Ordering::SeqCst);
                board.values.store(stored, Ordering::SeqCst);
                let _ = self.written.send(stored);
                let _ = context.shutdown.wait_for(|stop| *stop).await;
            });
            Ok(RunningSource {
                addr: None,
                status,
                task: Some(task),
            })
        })
    }
}

#[tokio::test]
async fn a_second_source_is_started_reported_and_stopped_like_hj212() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::default();
    config.http.addr = "127.0.0.1:0".parse().expect("addr");
    config.storage.data_dir = dir.path().to_path_buf();
    config.auth.tokens = vec![TOKEN.into()];
    let store = server::open_store(&config).expect("store");
    let (id_tx, id_rx) = oneshot::channel();
    let (written_tx, written_rx) = oneshot::channel();
    let source = CountingSource {
        datastream: id_rx,
        written: written_tx,
    };
    let running = server::start_with_sources(config, store, vec![Box::new(source)])
        .await
        .expect("server starts");
    let http = format!("http://{}", running.http_addr);
    let client = reqwest::Client::new();

    let created = client
        .post(format!("{http}/v1.1/Things"))
        .bearer_auth(TOKEN)
        .json(&json!({
            "name": "T01",
            "description": "test buoy",
            "Locations": [{
                "name": "T01 mooring",
                "description": "buoy mooring",
                "encodingType": "application/geo+json",
                "location": { "type": "Point", "coordinates": [106.45, 26.42] }
            }],
            "Datastreams": [{
                "name": "T01 DO",
                "description": "dissolved oxygen",
                "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
                "unitOfMeasurement": { "name": "milligram per litre", "symbol": "mg/L", "definition": "http://unitsofmeasure.org/ucum.html#mg/L" },
                "Sensor": { "name": "DO probe", "description": "probe", "encodingType": "text/html", "metadata": "https://example.invalid/do" },
                "ObservedProperty": { "name": "DO", "definition": "urn:qingshui:parameter:do", "description": "dissolved oxygen" }
            }]
        }))
        .send()
        .await
        .expect("POST Thing");
    assert!(created.status().is_success(), "{}", created.status());
    let get = |path: String| {
        let client = client.clone();
        async move {
            let r = client
                .get(path)
                .bearer_auth(TOKEN)
                .send()
                .await
                .expect("GET");
            assert!(r.status().is_success(), "{}", r.status());
            r.text().await.expect("body")
        }
    };
    let streams: Value =
        serde_json::from_str(&get(format!("{http}/v1.1/Datastreams")).await).expect("JSON");
    let id = streams["value"][0]["@iot.id"]
        .as_i64()
        .expect("datastream id");
    id_tx.send(id).expect("source waits for the id");
    let stored = tokio::time::timeout(Duration::from_secs(10), written_rx)
        .await
        .expect("source wrote in time")
        .expect("source reported");
    assert_eq!(stored, VALUES);

    // Stored and readable as soon as the write path answered.
    let count: Value = serde_json::from_str(
        &get(format!(
            "{http}/v1.1/Datastreams({id})/Observations?$count=true&$top=0"
        ))
        .await,
    )
    .expect("JSON");
    assert_eq!(count["@iot.count"], json!(VALUES));

    let stations: Value =
        serde_json::from_str(&get(format!("{http}/api/v1/stations")).await).expect("JSON");
    let device = &stations["value"][0];
    assert_eq!(device["station"], "T01", "{stations}");
    assert_eq!(device["name"], "Test buoy");
    assert_eq!(device["source"], "counting");
    assert_eq!(device["status"], "online");
    assert_eq!(device["values_received"], json!(VALUES));
    assert_eq!(device["frames_rejected"], json!({ "too_dull": 2 }));
    assert_eq!(
        stations["unattributed_rejects"],
        json!({ "nobody_home": 1 })
    );

    let metrics = get(format!("{http}/metrics")).await;
    for line in [
        "qingshui_source_device_online{source=\"counting\",station=\"T01\"} 1".to_string(),
        format!(
            "qingshui_source_values_received_total{{source=\"counting\",station=\"T01\"}} {VALUES}"
        ),
        "qingshui_source_frames_received_total{source=\"counting\",station=\"T01\"} 1".to_string(),
        "qingshui_source_rejects_total{source=\"counting\",reason=\"too_dull\"} 2".to_string(),
        "qingshui_source_rejects_total{source=\"counting\",reason=\"nobody_home\"} 1".to_string(),
    ] {
        assert!(metrics.contains(&line), "missing {line} in\n{metrics}");
    }
    // No HJ 212 source without a network: none of its lines.
    assert!(!metrics.contains("qingshui_hj212_"), "{metrics}");

    // Stop returns only once the source task returned.
    tokio::time::timeout(Duration::from_secs(10), running.stop())
        .await
        .expect("stops in time")
        .expect("stops cleanly");
}

#[tokio::test]
async fn hj212_reports_through_the_same_shape() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::default();
    config.http.addr = "127.0.0.1:0".parse().expect("addr");
    config.storage.data_dir = dir.path().to_path_buf();
    config.network.file = Some(
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/hongfeng.toml"),
    );
    let store = server::open_store(&config).expect("store");
    // No `[hj212] addr`: the source listens nowhere but still reports its stations.
    let running = server::start(config, store).await.expect("server starts");
    assert_eq!(running.hj212_addr, None);
    assert!(running.source_addrs.is_empty());
    let http = format!("http://{}", running.http_addr);
    let stations: Value = reqwest::get(format!("{http}/api/v1/stations"))
        .await
        .expect("GET")
        .json()
        .await
        .expect("JSON");
    let list = stations["value"].as_array().expect("list");
    assert_eq!(list.len(), 18, "{stations}");
    assert!(
        list.iter()
            .all(|s| s["source"] == "hj212" && s["status"] == "offline" && s.get("mn").is_none()),
        "{stations}"
    );
    let metrics = reqwest::get(format!("{http}/metrics"))
        .await
        .expect("GET")
        .text()
        .await
        .expect("body");
    for line in [
        "qingshui_source_device_online{source=\"hj212\",station=\"R01\"} 0",
        "qingshui_hj212_station_online{station=\"R01\"} 0",
    ] {
        assert!(metrics.contains(line), "missing {line} in\n{metrics}");
    }
    running.stop().await.expect("stops");
}
