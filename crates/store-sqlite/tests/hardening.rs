//! Store hardening (issue #10) on a real SQLite file: future and out-of-range phenomenon times are
//! refused on the bulk path (HJ 212) and never move the latest value; SQLite's own limits become
//! a client error; `close` interrupts a running read instead of waiting for it.

use serde_json::json;
use std::time::{Duration, Instant};
use store::{NewObservation, ReadRequest, Store, StoreError, WriteCommand, WriteOutcome};
use store_sqlite::{SqliteConfig, SqliteStore};

const MINUTE: i64 = 60_000_000;

async fn store_with_one_datastream(dir: &std::path::Path) -> SqliteStore {
    let mut config = SqliteConfig::new(dir.join("s.sqlite"));
    config.clock_tolerance_s = Some(600);
    config.statement_timeout = None;
    let store = SqliteStore::open(config).expect("open");
    let thing = json!({
        "name": "R01", "description": "d",
        "Locations": [{ "name": "l", "description": "l", "encodingType": "application/geo+json", "location": { "type": "Point", "coordinates": [1, 2] } }],
        "Datastreams": [{ "name": "tp", "description": "d", "observationType": "m",
            "unitOfMeasurement": { "name": "mg/L", "symbol": "mg/L", "definition": "u" },
            "Sensor": { "name": "s", "description": "s", "encodingType": "t", "metadata": "m" },
            "ObservedProperty": { "name": "tp", "definition": "urn:tp", "description": "tp" } }]
    });
    store
        .write(WriteCommand::Create {
            path: sta::parse_path("Things").expect("path"),
            body: thing,
        })
        .await
        .expect("thing");
    store
}

fn obs(t: i64, v: f64) -> NewObservation {
    NewObservation {
        datastream_id: 1,
        phenomenon_time: t,
        phenomenon_time_end: None,
        result: json!(v),
        result_time: None,
        result_quality: None,
        parameters: None,
        feature_id: None,
    }
}

#[tokio::test]
async fn future_and_out_of_range_times_are_refused_on_the_bulk_path() {
    let dir = tempfile::tempdir().expect("dir");
    let store = store_with_one_datastream(dir.path()).await;
    let now = sta::time::now_micros();
    let year_2099 = sta::time::parse_instant("2099-01-01T00:00:00Z").expect("2099");
    let year_1899 = sta::time::MIN_TIME - MINUTE;
    let WriteOutcome::Rows(rows) = store
        .write(WriteCommand::InsertObservations(vec![
            obs(now - 10 * MINUTE, 0.02),
            obs(year_2099, 9.0),
            obs(now + 30 * MINUTE, 9.0),
            obs(now + 5 * MINUTE, 0.03), // within the 10 min of clock drift allowed
            obs(year_1899, 9.0),
        ]))
        .await
        .expect("write")
    else {
        panic!("rows expected")
    };
    assert!(rows[0].is_ok() && rows[3].is_ok(), "{rows:?}");
    for i in [1, 2] {
        let e = rows[i].as_ref().expect_err("future row refused");
        assert!(e.contains("future") && e.contains("600 s"), "{e}");
    }
    let e = rows[4].as_ref().expect_err("1899 refused");
    assert!(e.contains("1900"), "{e}");
    assert_eq!(store.stats().observations_future_refused, 2);
    // The latest value is the newest accepted one, not the 2099 value.
    let latest = store.latest(Some(vec![1])).await.expect("latest");
    assert_eq!(latest[0].result, json!(0.03));
    assert_eq!(latest[0].observation_count, 2);
}

#[test]
fn sqlite_limits_become_a_client_error_in_our_words() {
    let conn = rusqlite::Connection::open_in_memory().expect("sqlite");
    // A 1,200-term `OR` chain: SQLite's "Expression tree is too large (maximum depth 1000)".
    let deep = vec!["id = 1"; 1_200].join(" OR ");
    let e = conn
        .query_row(
            &format!("SELECT 1 FROM (SELECT 1 AS id) WHERE {deep}"),
            [],
            |r| r.get::<_, i64>(0),
        )
        .expect_err("over SQLite's expression depth");
    match store_sqlite::to_store_error(e) {
        StoreError::TooComplex(m) => assert!(m.contains("too large or complex"), "{m}"),
        other => panic!("not a client error: {other:?}"),
    }
    let e = conn
        .query_row("SELECT abs(-9223372036854775808)", [], |r| {
            r.get::<_, i64>(0)
        })
        .expect_err("integer overflow");
    assert!(matches!(
        store_sqlite::to_store_error(e),
        StoreError::TooComplex(_)
    ));
}

#[tokio::test]
async fn close_interrupts_a_running_read() {
    let dir = tempfile::tempdir().expect("dir");
    let store = std::sync::Arc::new(store_with_one_datastream(dir.path()).await);
    let now = sta::time::now_micros();
    let rows: Vec<NewObservation> = (0..4_000)
        .map(|i| obs(now - (5_000 - i) * MINUTE, (i % 40) as f64 * 0.1))
        .collect();
    store
        .write(WriteCommand::InsertObservations(rows))
        .await
        .expect("rows");
    let limits = sta::QueryLimits {
        max_filter_nav_depth: 6,
        ..sta::QueryLimits::default()
    };
    let query = sta::Query::parse_with(
        sta::EntityType::Observation,
        "$filter=Datastream/Thing/Datastreams/Observations/result%20gt%205",
        &limits,
    )
    .expect("query");
    let reader = store.clone();
    let started = Instant::now();
    let slow = tokio::spawn(async move {
        reader
            .read(ReadRequest {
                path: sta::parse_path("Observations").expect("path"),
                query,
            })
            .await
    });
    tokio::time::sleep(Duration::from_millis(200)).await;
    assert!(!slow.is_finished(), "the read must still be running");
    store.close().await;
    let result = tokio::time::timeout(Duration::from_secs(5), slow)
        .await
        .expect("the read stops soon after close")
        .expect("task");
    assert!(matches!(result, Err(StoreError::Closed)), "{result:?}");
    eprintln!("read stopped {:?} after it started", started.elapsed());
    // New reads are refused at once.
    let again = store.latest(None).await;
    assert!(matches!(again, Err(StoreError::Closed)), "{again:?}");
}
