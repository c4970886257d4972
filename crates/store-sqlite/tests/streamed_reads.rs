//! The streamed read (`store::read::read_rendered`: collection pages written from the cells into
//! bytes) must answer exactly what the value path (`store::read::read` shaped into a
//! `serde_json::Value`, then `store::render::render_response`) answers: the same bytes — same
//! members, same order, same links, the same redaction — on a varied set of queries, with and
//! without the hidden member, and the same refusal over the size cap (issue 12).

use rusqlite::{Connection, OpenFlags};
use serde_json::json;
use store::render::{ReadBody, Render, render_response};
use store::{NewObservation, PageLimits, ReadRequest, Store, StoreError, WriteCommand};
use store_sqlite::{SqliteConfig, SqliteExecutor, SqliteStore};

fn thing(k: usize) -> serde_json::Value {
    let ds: Vec<_> = (0..2)
        .map(|j| json!({ "name": format!("ds {k} {j}"), "description": "d \"quoted\" ü", "observationType": "m",
            "unitOfMeasurement": { "name": "mg/L", "symbol": "mg/L", "definition": "u" },
            "properties": { "z": 1, "mn": "SECRET", "a": { "properties": { "mn": "DEEP", "b": 2 } } },
            "Sensor": { "name": "s", "description": "s", "encodingType": "t", "metadata": "m" },
            "ObservedProperty": { "name": "tp", "definition": format!("urn:tp:{k}:{j}"), "description": "tp" } }))
        .collect();
    json!({ "name": format!("T{k}"), "description": "d",
        "properties": { "mn": "SECRET", "st": "21", "kind": "station", "nested": { "parameters": { "mn": "DEEP", "x": [1, 2] } } },
        "Locations": [{ "name": "l", "description": "l", "encodingType": "application/geo+json",
            "location": { "type": "Point", "coordinates": [106.4, 26.6] } }],
        "Datastreams": ds })
}

async fn fixture(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("s.sqlite");
    let store = SqliteStore::open(SqliteConfig::new(path.clone())).expect("open");
    for k in 0..3 {
        store
            .write(WriteCommand::Create {
                path: sta::parse_path("Things").expect("path"),
                body: thing(k),
            })
            .await
            .expect("thing");
    }
    let t0 = sta::time::parse_instant("2026-03-01T00:00:00Z").expect("t0");
    let results = [
        json!(1.5),
        json!(7),
        json!("text"),
        json!(true),
        json!({ "v": 3, "properties": { "mn": "DEEP", "q": 1 } }),
        json!([1, 2, 3]),
        json!(99.75),
        json!(-0.125),
    ];
    let rows: Vec<NewObservation> = (0..40i64)
        .flat_map(|i| {
            let results = results.clone();
            (1..=6i64).map(move |ds| NewObservation {
                datastream_id: ds,
                // Fractional seconds on some rows: the echo keeps them only when they are not zero.
                phenomenon_time: t0 + i * 300_000_000 + (i % 3) * 250_000,
                phenomenon_time_end: (i % 4 == 0).then_some(t0 + i * 300_000_000 + 60_000_000),
                result: results[(i as usize + ds as usize) % results.len()].clone(),
                result_time: (i % 2 == 0).then_some(t0 + i * 300_000_000),
                result_quality: (i % 5 == 0).then(|| json!({ "flag": "N" })),
                parameters: (i % 3 != 1)
                    .then(|| json!({ "qn": format!("q{i}"), "mn": "SECRET", "cn": "2061" })),
                feature_id: None,
            })
        })
        .collect();
    store
        .write(WriteCommand::InsertObservations(rows))
        .await
        .expect("observations");
    store.close().await;
    path
}

const QUERIES: &[(&str, &str)] = &[
    ("Observations", ""),
    ("Observations", "$top=7"),
    ("Observations", "$top=5&$skip=3&$count=true"),
    ("Observations", "$top=0&$count=true"),
    ("Observations", "$filter=result%20gt%2050&$count=true"),
    ("Observations", "$orderby=result%20desc&$top=9"),
    ("Observations", "$orderby=phenomenonTime%20desc&$top=4"),
    (
        "Observations",
        "$orderby=phenomenonTime&$top=4&$skiptoken=ta.1772323500000000.7",
    ),
    ("Observations", "$select=result,parameters&$top=6"),
    ("Observations", "$select=id&$top=3"),
    ("Observations", "$select=Datastream,result&$top=3"),
    ("Observations", "$resultFormat=dataArray&$top=20"),
    (
        "Observations",
        "$resultFormat=dataArray&$select=id,parameters,result,validTime&$top=15&$count=true",
    ),
    ("Datastreams(3)/Observations", ""),
    ("Datastreams(3)/Observations", "$top=10&$count=true"),
    (
        "Datastreams(3)/Observations",
        "$filter=phenomenonTime%20ge%202026-03-01T01:00:00Z%20and%20phenomenonTime%20lt%202026-03-01T02:00:00Z&$orderby=phenomenonTime&$top=10000&$select=phenomenonTime,result",
    ),
    (
        "Datastreams(3)/Observations",
        "$filter=phenomenonTime%20ge%202026-03-01T01:00:00Z&$select=phenomenonTime,result&$top=5&$resultFormat=dataArray",
    ),
    (
        "Datastreams(2)/Observations",
        "$select=phenomenonTime,resultTime,resultQuality,parameters&$top=11",
    ),
    (
        "Datastreams(2)/Observations",
        "$orderby=phenomenonTime%20desc&$top=3",
    ),
    ("Things", ""),
    ("Things", "$top=2&$count=true"),
    ("Things", "$select=name,properties"),
    ("Things", "$select=Locations"),
    ("Things(1)/Datastreams", "$count=true"),
    ("Datastreams", "$filter=name%20eq%20'ds%201%200'"),
    ("Locations", ""),
    ("Sensors", "$top=1"),
    ("ObservedProperties", "$orderby=name&$top=2"),
    ("FeaturesOfInterest", ""),
    ("HistoricalLocations", "$count=true"),
    // Not streamed (expand, $ref, single entities, properties): the fallback must still answer.
    ("Things", "$expand=Datastreams($top=1)"),
    ("Observations/$ref", "$top=3"),
    ("Observations(5)", ""),
    ("Observations(5)/parameters", ""),
];

fn request(path: &str, query: &str) -> ReadRequest {
    let path = sta::parse_path(path).expect("path");
    let query = sta::Query::parse(path.target(), query).expect("query");
    ReadRequest { path, query }
}

fn render(hidden: Option<&str>, max_bytes: usize) -> Render {
    Render {
        service_root: "http://lake.example/v1.1".into(),
        hidden: hidden.map(str::to_string),
        max_bytes,
    }
}

fn text(body: &Result<ReadBody, StoreError>) -> String {
    match body {
        Ok(ReadBody::Json(b)) => String::from_utf8_lossy(b).into_owned(),
        other => format!("{other:?}"),
    }
}

#[tokio::test]
async fn streamed_pages_are_the_value_paths_bytes() {
    let dir = tempfile::tempdir().expect("dir");
    let path = fixture(dir.path()).await;
    let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("conn");
    let db = SqliteExecutor(&conn);
    let limits = PageLimits::default();
    let mut streamed_bytes = 0;
    for (p, q) in QUERIES {
        for hidden in [None, Some("mn")] {
            let r = render(hidden, 1 << 24);
            let old = store::read::read(&db, &request(p, q), limits)
                .and_then(|resp| render_response(resp, &r));
            let new = store::read::read_rendered(&db, &request(p, q), limits, &r);
            assert!(old.is_ok(), "{p}?{q}: {old:?}");
            assert_eq!(text(&new), text(&old), "{p}?{q} hidden={hidden:?}");
            let body = text(&new);
            if hidden.is_some() {
                assert!(
                    !body.contains("SECRET") && !body.contains("DEEP"),
                    "{p}?{q}: {body}"
                );
            }
            streamed_bytes += body.len();
        }
    }
    // The fixture really exercises what the comparison is about.
    let all = text(&store::read::read_rendered(
        &db,
        &request("Observations", "$top=300"),
        limits,
        &render(None, 1 << 24),
    ));
    for needle in [
        "\"@iot.selfLink\":\"http://lake.example/v1.1/Observations(",
        "\"Datastream@iot.navigationLink\":\"http://lake.example/v1.1/Observations(",
        "\"mn\":\"SECRET\"",
        "\"mn\":\"DEEP\"",
        "\"result\":\"text\"",
        "\"result\":true",
        "\"result\":[1,2,3]",
        "\"result\":7,",
        ".250Z",
        "/2026-03-01T",
    ] {
        assert!(all.contains(needle), "{needle} missing from {all}");
    }
    assert!(streamed_bytes > 50_000, "{streamed_bytes}");
}

#[tokio::test]
async fn paging_links_match_and_the_keyset_walk_reaches_every_row() {
    let dir = tempfile::tempdir().expect("dir");
    let path = fixture(dir.path()).await;
    let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("conn");
    let db = SqliteExecutor(&conn);
    let limits = PageLimits::default();
    let r = render(Some("mn"), 1 << 24);
    // Follow nextLinks through a series, comparing each page with the value path's.
    let mut next = Some("Datastreams(4)/Observations?$top=7&$select=result".to_string());
    let mut pages = 0;
    while let Some(link) = next {
        let link = link
            .trim_start_matches("http://lake.example/v1.1/")
            .to_string();
        let (p, q) = link.split_once('?').expect("query");
        let old = store::read::read(&db, &request(p, q), limits)
            .and_then(|resp| render_response(resp, &r));
        let new = store::read::read_rendered(&db, &request(p, q), limits, &r);
        assert_eq!(text(&new), text(&old), "{link}");
        let v: serde_json::Value = serde_json::from_str(&text(&new)).expect("json");
        next = v["@iot.nextLink"].as_str().map(str::to_string);
        pages += 1;
        assert!(pages < 10, "the walk ends");
    }
    assert_eq!(pages, 6, "40 rows in pages of 7");
}

#[tokio::test]
async fn both_paths_refuse_the_same_oversized_answer() {
    let dir = tempfile::tempdir().expect("dir");
    let path = fixture(dir.path()).await;
    let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("conn");
    let db = SqliteExecutor(&conn);
    let limits = PageLimits::default();
    for (p, q) in [
        ("Observations", "$top=50&$count=true"),
        ("Observations", "$resultFormat=dataArray&$top=50"),
    ] {
        let full = text(&store::read::read_rendered(
            &db,
            &request(p, q),
            limits,
            &render(None, 1 << 24),
        ));
        for cap in [full.len(), full.len() - 1, 100] {
            let r = render(None, cap);
            let old = store::read::read(&db, &request(p, q), limits)
                .and_then(|resp| render_response(resp, &r));
            let new = store::read::read_rendered(&db, &request(p, q), limits, &r);
            assert_eq!(text(&new), text(&old), "{p}?{q} cap {cap}");
            assert_eq!(new.is_ok(), cap == full.len(), "{p}?{q} cap {cap}");
            if cap < full.len() {
                assert!(matches!(new, Err(StoreError::ResponseTooLarge { .. })));
            }
        }
    }
}
