//! How the neutral read execution meets PostgreSQL's planner (`QINGSHUI_TEST_DATABASE_URL`;
//! skipped without it): with `[storage] result_index` (`PgConfig::result_index`) a
//! filtered count over every observation is a range of each partition's `observations_result`
//! index, not a scan of the partitions — every statement of the read is looked at with
//! `EXPLAIN`; without the setting the index is dropped and the same count scans. The answer is
//! the same both ways.

mod common;

use std::cell::RefCell;
use store::executor::{Executor, Flow, RowRef};
use store::sql::{Dialect, SqlValue};
use store::{
    NewObservation, PageLimits, ReadRequest, ReadResponse, Store, StoreError, WriteCommand,
};
use store_postgres::{PgConfig, PgExec, PgStore};

/// Runs every query through PostgreSQL and keeps its plan beside its text.
struct Planning {
    exec: PgExec,
    plans: RefCell<Vec<(String, String)>>,
}

impl Executor for Planning {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }
    fn query_each(
        &self,
        sql: &str,
        params: &[SqlValue],
        visit: &mut dyn FnMut(&dyn RowRef) -> Result<Flow, StoreError>,
    ) -> Result<(), StoreError> {
        let plan = self
            .exec
            .rows(&format!("EXPLAIN {sql}"), params)?
            .iter()
            .map(|r| r.get::<_, String>(0))
            .collect::<Vec<_>>()
            .join("\n");
        self.plans.borrow_mut().push((sql.to_string(), plan));
        self.exec.query_each(sql, params, visit)
    }
    fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<usize, StoreError> {
        self.exec.execute(sql, params)
    }
}

/// The filtered count through `store::read` on a connection of its own (the blocking client on
/// a thread): the count and the plan of the statement that counted.
fn count_with_plan(url: &str) -> (i64, String) {
    let url = url.to_owned();
    std::thread::spawn(move || {
        let exec = PgExec::new(store_postgres::connect(&url).expect("connect"));
        // Whether the index *can* serve the count (the compiled filter is sargable); that the
        // planner picks it on 10 M rows is BENCHMARKS.md's figure.
        exec.batch("ANALYZE observations; SET enable_seqscan = off")
            .expect("session");
        let db = Planning {
            exec,
            plans: RefCell::new(Vec::new()),
        };
        let req = ReadRequest {
            path: sta::parse_path("Observations").expect("path"),
            query: sta::Query::parse(
                sta::EntityType::Observation,
                "$filter=result gt 99.5&$count=true&$top=0",
            )
            .expect("query"),
        };
        let ReadResponse::Json(v) =
            store::read::read(&db, &req, PageLimits::default()).expect("read")
        else {
            panic!("not JSON");
        };
        let count = v["@iot.count"].as_i64().expect("a count");
        let plans = db.plans.into_inner();
        let (_, plan) = plans
            .into_iter()
            .find(|(sql, _)| sql.to_ascii_lowercase().contains("count("))
            .expect("a counting statement");
        (count, plan)
    })
    .join()
    .expect("plan thread")
}

#[tokio::test(flavor = "multi_thread")]
async fn a_filtered_count_is_a_range_of_the_result_index() {
    let Some((_, url)) = common::fresh_schema("plan_") else {
        return;
    };
    let mut config = PgConfig::new(url.clone());
    config.result_index = true;
    let store = PgStore::open(config).expect("open");
    store.write(common::intake()).await.expect("create");
    // 4,000 five-minute values over two months (two partitions), results 0.000…99.975: 19 of
    // them above 99.5.
    let t0 = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z
    let rows: Vec<NewObservation> = (0..4000i64)
        .map(|i| common::tp(t0 + i * 20 * 60_000_000, i as f64 * 0.025))
        .collect();
    store
        .write(WriteCommand::InsertObservations(rows))
        .await
        .expect("observations");
    store.close().await;

    let (count, plan) = count_with_plan(&url);
    assert_eq!(count, 19);
    assert!(
        plan.contains("result_idx") || plan.contains("observations_result"),
        "the count does not use the result index:\n{plan}"
    );
    assert!(!plan.contains("Seq Scan"), "{plan}");
    eprintln!("the filtered count with the index:\n{plan}");

    // Without the setting the index goes, and the same count scans.
    let mut config = PgConfig::new(url.clone());
    config.result_index = false;
    PgStore::open(config).expect("reopen").close().await;
    let (count, plan) = count_with_plan(&url);
    assert_eq!(count, 19);
    assert!(!plan.contains("result_idx"), "{plan}");
}
