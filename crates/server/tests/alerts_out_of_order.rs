//! The alert engine when ids commit out of order (several nodes on one PostgreSQL,
//! `QINGSHUI_TEST_DATABASE_URL`; skipped without it). Another node's writer holds a smaller
//! observation id, an exceedance, in an open transaction while this node commits an exceedance
//! with a larger id; the held one commits later and, as when its notification is late or lost,
//! never reaches this node's commit stream. The engine's saved position must not pass the held
//! id meanwhile, and its sweep must find the held exceedance in the store and raise its alert
//! (before the fence, the position jumped to the largest id streamed and the alert was never
//! raised — not by this leader, nor by the next one resuming from the saved position).

use serde_json::{Value, json};
use server::alerts::config::AlertsConfig;
use server::directory::DatastreamDirectory;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use store::alerts::{AlertFilter, AlertStore};
use store::{NewObservation, Store, WriteCommand, WriteOutcome};
use store_postgres::fence::InFlightWriter;
use store_postgres::{PgConfig, PgStore};

const HOUR_US: i64 = 3_600_000_000;

fn datastream(i: usize) -> Value {
    json!({
        "name": format!("S{i:02} TP hourly"), "description": "tp",
        "unitOfMeasurement": { "name": "mg/L", "symbol": "mg/L", "definition": "mg/L" },
        "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
        "properties": { "key": format!("datastream:S{i:02}:tp:hourly"), "station_code": format!("S{i:02}"),
                        "parameter": "tp", "data_kind": "hourly", "interval_s": 3600 },
        "Sensor": { "name": "analyser", "description": "tp", "encodingType": "text/plain", "metadata": "none" },
        "ObservedProperty": { "name": "TP", "definition": "tp", "description": "total phosphorus" },
    })
}

async fn write(store: &Arc<dyn Store>, datastream_id: i64, t: i64, tp: f64) -> i64 {
    let done = store
        .write(WriteCommand::InsertObservations(vec![NewObservation {
            datastream_id,
            phenomenon_time: t,
            phenomenon_time_end: None,
            result: json!(tp),
            result_time: None,
            result_quality: None,
            parameters: None,
            feature_id: None,
        }]))
        .await
        .expect("insert");
    match done {
        WriteOutcome::Rows(rows) => rows[0].as_ref().expect("stored").0,
        other => panic!("{other:?}"),
    }
}

/// The stations with an open exceedance alert.
async fn open_stations(alerts: &Arc<dyn AlertStore>) -> Vec<String> {
    let (open, _) = alerts
        .alerts(AlertFilter {
            states: vec!["active".into()],
            limit: 100,
            ..Default::default()
        })
        .await
        .expect("alerts");
    let mut s: Vec<String> = open
        .iter()
        .filter(|a| a.rule == "exceedance")
        .map(|a| a.station.clone().unwrap_or_else(|| a.source.clone()))
        .collect();
    s.sort();
    s
}

async fn wait_open(alerts: &Arc<dyn AlertStore>, n: usize, what: &str) {
    let start = Instant::now();
    loop {
        let open = open_stations(alerts).await;
        if open.len() >= n {
            return;
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "{what}: open alerts {open:?}, {n} expected"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_exceedance_committed_after_a_larger_id_still_raises_its_alert() {
    let Some(admin) = std::env::var("QINGSHUI_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())
    else {
        eprintln!("QINGSHUI_TEST_DATABASE_URL is not set: skipped");
        return;
    };
    let (schema, url) =
        std::thread::spawn(move || store_postgres::create_fresh_schema(&admin, "ooo_"))
            .join()
            .expect("schema thread")
            .expect("schema");
    let scope = store_postgres::scope_of(&schema);
    let mut config = PgConfig::new(url.clone());
    config.clock_tolerance_s = None;
    let store: Arc<dyn Store> = Arc::new(PgStore::open(config).expect("open"));
    store
        .write(WriteCommand::Create {
            path: sta::parse_path("Things").expect("path"),
            body: json!({
                "name": "lake", "description": "stations",
                "properties": { "water_type": "lake", "target_class": "II" },
                "Locations": [{ "name": "lake", "description": "centre", "encodingType": "application/geo+json",
                                "location": { "type": "Point", "coordinates": [106.4, 26.5] } }],
                "Datastreams": (0..2).map(datastream).collect::<Vec<_>>(),
            }),
        })
        .await
        .expect("create the stations");
    let directory = DatastreamDirectory::default();
    directory.refresh(&store).await.expect("directory");
    let ds: Vec<i64> = (0..2)
        .map(|i| {
            directory
                .by_key(&format!("datastream:S{i:02}:tp:hourly"))
                .expect("planned datastream")
        })
        .collect();
    // An hour's good value at each (class II for lakes: TP ≤ 0.025 mg/L), their features made.
    let hour = sta::time::now_micros() / HOUR_US * HOUR_US;
    for &id in &ds {
        write(&store, id, hour - 3 * HOUR_US, 0.01).await;
    }

    let config = AlertsConfig {
        tick_ms: 100,
        ..AlertsConfig::default()
    };
    let (stop, shutdown) = tokio::sync::watch::channel(false);
    let (handle, task) = server::alerts::start(
        &config,
        store.clone(),
        Arc::new(DatastreamDirectory::default()),
        Default::default(),
        shutdown,
    )
    .await
    .expect("start the engine");
    let alerts = store.clone().alert_store().expect("alert store");

    // Another node's writer holds S00's exceedance (0.5 mg/L) under the next id…
    let held = tokio::task::spawn_blocking({
        let url = url.clone();
        let ds0 = ds[0];
        move || InFlightWriter::start(&url, scope, ds0, hour - HOUR_US, 0.5, false)
    })
    .await
    .expect("thread")
    .expect("the in-flight writer");
    // …while this node commits S01's, with a larger id: raised from the stream.
    let larger = write(&store, ds[1], hour - HOUR_US, 0.5).await;
    assert!(larger > held.id);
    wait_open(&alerts, 1, "S01's exceedance, streamed").await;
    // Ticks go by; the saved position stays below the held id.
    tokio::time::sleep(Duration::from_millis(600)).await;
    let saved = alerts
        .engine_position()
        .await
        .expect("position")
        .expect("saved");
    assert!(
        saved.cursor.last_id < held.id,
        "the saved position {} passed the id {} still in flight",
        saved.cursor.last_id,
        held.id
    );

    // The held exceedance commits; no notification brings it. The sweep does.
    tokio::task::spawn_blocking(move || held.commit())
        .await
        .expect("thread")
        .expect("commit");
    wait_open(&alerts, 2, "S00's exceedance, committed out of order").await;
    assert_eq!(open_stations(&alerts).await, vec!["S00", "S01"]);
    let swept = handle.commit_lag.swept_observations.load(Ordering::Relaxed);
    assert_eq!(
        swept, 1,
        "exactly the held observation was read from the store"
    );

    let _ = stop.send(true);
    task.await.expect("engine stopped");
    let saved = alerts
        .engine_position()
        .await
        .expect("position")
        .expect("saved");
    assert!(saved.cursor.last_id >= larger, "the position moved on");
    store.close().await;
}
