//! What the PostgreSQL tests share: the test database (`QINGSHUI_TEST_DATABASE_URL`, set by
//! `make test-postgres`; each test skips without it), a fresh schema per test, and the one
//! Thing with one TP datastream (id 1) most of them write to.

#![allow(dead_code)]

use serde_json::json;
use store::{NewObservation, WriteCommand};

/// The admin URL of the test database, or `None` (the caller prints that it skipped).
pub fn admin_url() -> Option<String> {
    let url = std::env::var("QINGSHUI_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty());
    if url.is_none() {
        eprintln!("QINGSHUI_TEST_DATABASE_URL is not set: skipped");
    }
    url
}

/// A fresh schema (named from `prefix`) of the test database: its name and the URL that works in
/// it. On a thread of its own: the blocking client cannot run inside a test's runtime.
pub fn fresh_schema(prefix: &'static str) -> Option<(String, String)> {
    let admin = admin_url()?;
    let made = std::thread::spawn(move || store_postgres::create_fresh_schema(&admin, prefix))
        .join()
        .expect("schema thread")
        .expect("schema");
    Some(made)
}

/// Creates the Thing "intake" with the TP datastream (id 1 in a fresh schema).
pub fn intake() -> WriteCommand {
    WriteCommand::Create {
        path: sta::parse_path("Things").expect("path"),
        body: json!({
            "name": "intake", "description": "a PostgreSQL test",
            "Locations": [{ "name": "intake", "description": "intake", "encodingType": "application/geo+json",
                            "location": { "type": "Point", "coordinates": [106.42, 26.52] } }],
            "Datastreams": [{
                "name": "TP", "description": "total phosphorus",
                "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
                "unitOfMeasurement": { "name": "mg/L", "symbol": "mg/L", "definition": "ucum:mg/L" },
                "Sensor": { "name": "s", "description": "s", "encodingType": "text/html", "metadata": "m" },
                "ObservedProperty": { "name": "TP", "definition": "urn:tp", "description": "TP" }
            }]
        }),
    }
}

/// A TP value of datastream 1 at `t` (microseconds).
pub fn tp(t: i64, v: f64) -> NewObservation {
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
