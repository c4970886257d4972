//! The domain series read: raw values with flags, and per-bucket aggregates computed in SQL.

use serde_json::json;
use store::{NewObservation, SeriesData, SeriesRequest, Store, WriteCommand, WriteOutcome};
use store_sqlite::{SqliteConfig, SqliteStore};

const HOUR: i64 = 3_600_000_000;

#[tokio::test]
async fn raw_and_bucketed_series() {
    let dir = tempfile::tempdir().unwrap();
    let store = SqliteStore::open(SqliteConfig::new(dir.path().join("s.sqlite"))).unwrap();
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
            path: sta::parse_path("Things").unwrap(),
            body: thing,
        })
        .await
        .unwrap();
    // Six hourly values 1..=6; the fourth flagged M (maintenance); one string result.
    let mut rows: Vec<NewObservation> = (1..=6)
        .map(|i| NewObservation {
            datastream_id: 1,
            phenomenon_time: i * HOUR,
            phenomenon_time_end: None,
            result: json!(i),
            result_time: None,
            result_quality: Some(json!({ "flag": if i == 4 { "M" } else { "N" } })),
            parameters: None,
            feature_id: None,
        })
        .collect();
    rows.push(NewObservation {
        phenomenon_time: 7 * HOUR,
        result: json!("n/a"),
        result_quality: None,
        ..rows[0].clone()
    });
    let WriteOutcome::Rows(out) = store
        .write(WriteCommand::InsertObservations(rows))
        .await
        .unwrap()
    else {
        panic!()
    };
    assert!(out.iter().all(Result::is_ok));

    let raw = store
        .series(SeriesRequest {
            datastreams: vec![1],
            from: 2 * HOUR,
            to: 8 * HOUR,
            bucket: None,
        })
        .await
        .unwrap();
    let SeriesData::Raw(points) = &raw[0].data else {
        panic!("raw expected")
    };
    let values: Vec<(i64, Option<f64>, Option<&str>)> = points
        .iter()
        .map(|p| (p.t / HOUR, p.v, p.flag.as_deref()))
        .collect();
    assert_eq!(
        values,
        [
            (2, Some(2.0), Some("N")),
            (3, Some(3.0), Some("N")),
            (4, Some(4.0), Some("M")),
            (5, Some(5.0), Some("N")),
            (6, Some(6.0), Some("N")),
            (7, None, None)
        ]
    );

    let agg = store
        .series(SeriesRequest {
            datastreams: vec![1],
            from: 0,
            to: 7 * HOUR,
            bucket: Some(3 * HOUR),
        })
        .await
        .unwrap();
    let SeriesData::Buckets(b) = &agg[0].data else {
        panic!("buckets expected")
    };
    let got: Vec<(i64, f64, f64, f64, i64, i64)> = b
        .iter()
        .map(|x| (x.t / HOUR, x.avg, x.min, x.max, x.n, x.flagged))
        .collect();
    assert_eq!(
        got,
        [
            (0, 1.5, 1.0, 2.0, 2, 0),
            (3, 4.0, 3.0, 5.0, 3, 1),
            (6, 6.0, 6.0, 6.0, 1, 0)
        ]
    );
    store.close().await;
}
