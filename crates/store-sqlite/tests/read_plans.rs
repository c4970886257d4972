//! How the neutral read execution (`store::read`) meets SQLite's planner: every statement a
//! nested per-parent `$expand` issues is looked at with `EXPLAIN QUERY PLAN` on a real file.
//! Observations under a Datastream must be one primary-key range per parent, with no temporary
//! sort — linear in the parents, not in the table (issue 12).

use rusqlite::{Connection, OpenFlags, params_from_iter};
use serde_json::json;
use std::cell::RefCell;
use store::executor::{Executor, Flow, RowRef};
use store::sql::{Dialect, SqlValue};
use store::{
    NewObservation, PageLimits, ReadRequest, ReadResponse, Store, StoreError, WriteCommand,
};
use store_sqlite::{SqliteConfig, SqliteExecutor, SqliteStore};

/// Runs every query through SQLite and keeps its plan beside its text.
struct Planning<'c> {
    conn: &'c Connection,
    plans: RefCell<Vec<(String, Vec<String>)>>,
}

impl Executor for Planning<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
    fn query_each(
        &self,
        sql: &str,
        params: &[SqlValue],
        visit: &mut dyn FnMut(&dyn RowRef) -> Result<Flow, StoreError>,
    ) -> Result<(), StoreError> {
        let mut stmt = self
            .conn
            .prepare(&format!("EXPLAIN QUERY PLAN {sql}"))
            .map_err(store_sqlite::to_store_error)?;
        let plan = stmt
            .query_map(params_from_iter(store_sqlite::to_sql_values(params)), |r| {
                r.get::<_, String>(3)
            })
            .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
            .map_err(store_sqlite::to_store_error)?;
        self.plans.borrow_mut().push((sql.to_string(), plan));
        SqliteExecutor(self.conn).query_each(sql, params, visit)
    }
    fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<usize, StoreError> {
        SqliteExecutor(self.conn).execute(sql, params)
    }
}

fn thing(k: usize) -> serde_json::Value {
    let ds: Vec<_> = (0..3)
        .map(|j| json!({ "name": format!("ds {k} {j}"), "description": "d", "observationType": "m",
            "unitOfMeasurement": { "name": "mg/L", "symbol": "mg/L", "definition": "u" },
            "Sensor": { "name": "s", "description": "s", "encodingType": "t", "metadata": "m" },
            "ObservedProperty": { "name": "tp", "definition": format!("urn:tp:{k}:{j}"), "description": "tp" } }))
        .collect();
    json!({ "name": format!("T{k}"), "description": "d",
        "Locations": [{ "name": "l", "description": "l", "encodingType": "application/geo+json", "location": { "type": "Point", "coordinates": [1, 2] } }],
        "Datastreams": ds })
}

#[tokio::test]
async fn nested_per_parent_expand_is_one_primary_key_range_per_datastream() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("s.sqlite");
    let store = SqliteStore::open(SqliteConfig::new(path.clone())).expect("open");
    for k in 0..4 {
        store
            .write(WriteCommand::Create {
                path: sta::parse_path("Things").expect("path"),
                body: thing(k),
            })
            .await
            .expect("thing");
    }
    // Ids in time order per datastream are interleaved across datastreams, as live ingest makes them.
    let t0 = sta::time::parse_instant("2026-03-01T00:00:00Z").expect("t0");
    let rows: Vec<NewObservation> = (0..200i64)
        .flat_map(|i| {
            (1..=12i64).map(move |ds| NewObservation {
                datastream_id: ds,
                phenomenon_time: t0 - i * 60_000_000,
                phenomenon_time_end: None,
                result: json!(i as f64 / 10.0),
                result_time: None,
                result_quality: None,
                parameters: None,
                feature_id: None,
            })
        })
        .collect();
    store
        .write(WriteCommand::InsertObservations(rows))
        .await
        .expect("observations");
    store.close().await;

    let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("conn");
    let db = Planning {
        conn: &conn,
        plans: RefCell::new(Vec::new()),
    };
    let req = ReadRequest {
        path: sta::parse_path("Things").expect("path"),
        query: sta::Query::parse(
            sta::EntityType::Thing,
            "$expand=Datastreams($expand=Observations($top=5))",
        )
        .expect("query"),
    };
    let ReadResponse::Json(v) = store::read::read(&db, &req, PageLimits::default()).expect("read")
    else {
        panic!("not JSON");
    };
    // The answer: the 5 earliest of each datastream (times descend with i, so i = 199..195).
    let first = &v["value"][0]["Datastreams"][0]["Observations"];
    let results: Vec<f64> = first
        .as_array()
        .expect("members")
        .iter()
        .map(|o| o["result"].as_f64().expect("result"))
        .collect();
    assert_eq!(results, vec![19.9, 19.8, 19.7, 19.6, 19.5]);
    let plans = db.plans.borrow();
    let (sql, plan) = plans
        .iter()
        .find(|(sql, _)| sql.contains("FROM observations"))
        .expect("an observations query");
    let ranges = plan
        .iter()
        .filter(|l| l.contains("USING PRIMARY KEY (datastream_id=?)"))
        .count();
    assert_eq!(ranges, 12, "one PK range per datastream: {plan:?}\n{sql}");
    assert!(
        !plan
            .iter()
            .any(|l| l.contains("TEMP B-TREE") || l.starts_with("SCAN e")),
        "no sort, no scan of the table: {plan:?}"
    );
}

#[tokio::test]
async fn a_filtered_count_on_result_is_a_range_of_the_result_index() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("s.sqlite");
    let store = SqliteStore::open(SqliteConfig::new(path.clone())).expect("open");
    store
        .write(WriteCommand::Create {
            path: sta::parse_path("Things").expect("path"),
            body: thing(0),
        })
        .await
        .expect("thing");
    let t0 = sta::time::parse_instant("2026-03-01T00:00:00Z").expect("t0");
    let rows: Vec<NewObservation> = (0..3000i64)
        .map(|i| NewObservation {
            datastream_id: 1 + i % 3,
            phenomenon_time: t0 + i * 60_000_000,
            phenomenon_time_end: None,
            result: json!((i * 7919 % 1000) as f64 / 10.0),
            result_time: None,
            result_quality: None,
            parameters: None,
            feature_id: None,
        })
        .collect();
    store
        .write(WriteCommand::InsertObservations(rows))
        .await
        .expect("observations");
    store.close().await;

    let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("conn");
    let db = Planning {
        conn: &conn,
        plans: RefCell::new(Vec::new()),
    };
    let req = ReadRequest {
        path: sta::parse_path("Observations").expect("path"),
        query: sta::Query::parse(
            sta::EntityType::Observation,
            "$filter=result%20gt%2099.5&$count=true&$top=0",
        )
        .expect("query"),
    };
    let ReadResponse::Json(v) = store::read::read(&db, &req, PageLimits::default()).expect("read")
    else {
        panic!("not JSON");
    };
    // i·7919 mod 1000 runs through every residue thrice: 996…999 → results 99.6…99.9.
    assert_eq!(v["@iot.count"], 12);
    let plans = db.plans.borrow();
    let (sql, plan) = plans
        .iter()
        .find(|(sql, _)| sql.starts_with("SELECT COUNT(*)"))
        .expect("the count query");
    assert!(
        plan.iter()
            .any(|l| l.contains("USING COVERING INDEX observations_result (result>?)")),
        "the count is a range of the result index: {plan:?}\n{sql}"
    );
}

#[tokio::test]
async fn the_result_index_follows_the_setting_at_each_open() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("s.sqlite");
    let has_index = || {
        let conn =
            Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("conn");
        conn.query_row(
            "SELECT COUNT(*) FROM sqlite_master WHERE name = 'observations_result'",
            [],
            |r| r.get::<_, i64>(0),
        )
        .expect("master")
    };
    for wanted in [true, false, false, true] {
        let mut config = SqliteConfig::new(path.clone());
        config.result_index = wanted;
        let store = SqliteStore::open(config).expect("open");
        store.close().await;
        assert_eq!(has_index(), i64::from(wanted), "result_index = {wanted}");
    }
}

#[tokio::test]
async fn a_series_under_a_datastream_is_one_primary_key_range_without_a_sort() {
    let dir = tempfile::tempdir().expect("dir");
    let path = dir.path().join("s.sqlite");
    let store = SqliteStore::open(SqliteConfig::new(path.clone())).expect("open");
    store
        .write(WriteCommand::Create {
            path: sta::parse_path("Things").expect("path"),
            body: thing(0),
        })
        .await
        .expect("thing");
    store.close().await;
    let conn = Connection::open_with_flags(&path, OpenFlags::SQLITE_OPEN_READ_ONLY).expect("conn");
    let db = Planning {
        conn: &conn,
        plans: RefCell::new(Vec::new()),
    };
    let path = sta::parse_path("Datastreams(2)/Observations").expect("path");
    let query = sta::Query::parse(
        path.target(),
        "$filter=phenomenonTime%20ge%202026-03-03T00:00:00Z%20and%20phenomenonTime%20lt%202026-04-02T00:00:00Z&$orderby=phenomenonTime&$top=10000&$select=phenomenonTime,result",
    )
    .expect("query");
    let render = store::render::Render {
        service_root: "http://h/v1.1".into(),
        hidden: None,
        max_bytes: 1 << 20,
    };
    store::read::read_rendered(
        &db,
        &ReadRequest { path, query },
        PageLimits::default(),
        &render,
    )
    .expect("read");
    let plans = db.plans.borrow();
    let (sql, plan) = plans
        .iter()
        .find(|(sql, _)| sql.contains("FROM observations"))
        .expect("the page query");
    assert!(
        plan.iter().any(|l| l.contains("USING PRIMARY KEY (datastream_id=? AND phenomenon_time_start>? AND phenomenon_time_start<?)")),
        "one primary-key range: {plan:?}\n{sql}"
    );
    assert!(
        !plan.iter().any(|l| l.contains("TEMP B-TREE")),
        "no sort: {plan:?}\n{sql}"
    );
}
