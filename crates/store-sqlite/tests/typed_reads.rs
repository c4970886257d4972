//! The typed reads the server asks its own store (`Store::keyed_entities`,
//! `datastreams_with_things`, `observation_cursor`, `observations_since`) against a real file.

use serde_json::json;
use sta::EntityType;
use std::sync::Arc;
use store::{NewObservation, Store, UpsertKind, WriteCommand};
use store_sqlite::{SqliteConfig, SqliteStore};

fn observation(datastream_id: i64, t: i64, v: f64) -> NewObservation {
    NewObservation {
        datastream_id,
        phenomenon_time: t,
        phenomenon_time_end: None,
        result: json!(v),
        result_time: None,
        result_quality: Some(json!({ "flag": "N" })),
        parameters: None,
        feature_id: None,
    }
}

#[tokio::test]
async fn typed_reads_answer_what_the_server_asks() {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = SqliteConfig::new(dir.path().join("typed.sqlite"));
    config.clock_tolerance_s = None;
    let store: Arc<dyn Store> = Arc::new(SqliteStore::open(config).expect("open"));
    let thing = json!({
        "name": "R01", "description": "river station", "properties": { "key": "station:R01", "water_type": "river" },
        "Locations": [{ "name": "R01", "description": "bank", "encodingType": "application/geo+json",
                        "location": { "type": "Point", "coordinates": [106.4, 26.5] }, "properties": { "key": "location:R01" } }],
        "Datastreams": [{
            "name": "R01 TP", "description": "tp",
            "unitOfMeasurement": { "name": "mg/L", "symbol": "mg/L", "definition": "mg/L" },
            "observationType": "OM_Measurement",
            "properties": { "key": "datastream:R01:tp:hourly", "parameter": "tp" },
            "Sensor": { "name": "s", "description": "s", "encodingType": "text/plain", "metadata": "m" },
            "ObservedProperty": { "name": "TP", "definition": "tp", "description": "tp" },
        }],
    });
    store
        .write(WriteCommand::Create {
            path: sta::parse_path("Things").expect("path"),
            body: thing,
        })
        .await
        .expect("create");

    let things = store
        .keyed_entities(EntityType::Thing, None)
        .await
        .expect("things");
    assert_eq!(things.len(), 1);
    assert_eq!(things[0].key, "station:R01");
    assert_eq!(things[0].members["name"], "R01");
    assert_eq!(things[0].members["properties"]["water_type"], "river");
    let location = store
        .keyed_entities(EntityType::Location, Some("location:R01".into()))
        .await
        .expect("location");
    assert_eq!(location.len(), 1);
    assert_eq!(location[0].members["location"]["type"], "Point");
    assert_eq!(things[0].links["Locations"], vec![location[0].id]);
    let streams = store
        .keyed_entities(EntityType::Datastream, None)
        .await
        .expect("datastreams");
    assert_eq!(streams[0].links["Thing"], vec![things[0].id]);
    assert_eq!(streams[0].members["unitOfMeasurement"]["symbol"], "mg/L");
    assert!(
        store
            .keyed_entities(EntityType::Sensor, None)
            .await
            .expect("sensors")
            .is_empty(),
        "a sensor without properties.key is not keyed"
    );
    let rows = store.datastreams_with_things().await.expect("rows");
    assert_eq!(rows.len(), 1);
    assert_eq!(rows[0].thing_id, things[0].id);
    assert_eq!(rows[0].thing_properties["water_type"], "river");
    let ds = rows[0].id;

    let hour = 3_600_000_000;
    store
        .write(WriteCommand::InsertObservations(vec![observation(
            ds, hour, 0.1,
        )]))
        .await
        .expect("first");
    let cursor = store.observation_cursor().await.expect("cursor");
    assert!(cursor.last_id > 0);
    store
        .write(WriteCommand::InsertObservations(
            (2..5).map(|h| observation(ds, h * hour, 0.2)).collect(),
        ))
        .await
        .expect("more");
    // A changed resend of the first value: a replacement of an observation before the cursor.
    store
        .write(WriteCommand::InsertObservations(vec![observation(
            ds, hour, 0.3,
        )]))
        .await
        .expect("replace");

    let page = store.observations_since(cursor, 2).await.expect("since");
    assert!(!page.complete, "the limit cut the answer");
    let inserted: Vec<_> = page
        .events
        .iter()
        .filter(|e| e.kind == UpsertKind::Inserted)
        .map(|e| e.phenomenon_time / hour)
        .collect();
    assert_eq!(inserted, vec![2, 3]);
    let rest = store
        .observations_since(page.cursor, 100)
        .await
        .expect("rest");
    assert!(rest.complete);
    let kinds: Vec<_> = rest
        .events
        .iter()
        .map(|e| (e.kind, e.result.clone()))
        .collect();
    assert_eq!(
        kinds,
        vec![(UpsertKind::Inserted, json!(0.2))],
        "the replacement was delivered with the first page"
    );
    let replaced: Vec<_> = page
        .events
        .iter()
        .filter(|e| e.kind == UpsertKind::Replaced)
        .collect();
    assert_eq!(replaced.len(), 1);
    assert_eq!(replaced[0].result, json!(0.3));
    assert_eq!(replaced[0].result_quality, Some(json!({ "flag": "N" })));
    let nothing = store
        .observations_since(rest.cursor, 100)
        .await
        .expect("nothing new");
    assert!(nothing.events.is_empty() && nothing.complete);
    assert_eq!(
        store.observation_cursor().await.expect("cursor").last_id,
        rest.cursor.last_id
    );
    store.close().await;
}
