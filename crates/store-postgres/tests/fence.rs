//! The fence (`src/fence.rs`) on a real PostgreSQL (`QINGSHUI_TEST_DATABASE_URL`; skipped
//! without it): while another node's writer holds a smaller observation id in an open
//! transaction, larger ids committed after it do not move a reader past it — the settled id
//! stays below it, and a catch-up read waits for it and then returns it — while a transaction
//! of any other session (a person's psql) holds nothing up.

mod common;

use std::time::{Duration, Instant};
use store::{NewObservation, ObservationCursor, Store, WriteCommand, WriteOutcome};
use store_postgres::fence::InFlightWriter;
use store_postgres::{PgConfig, PgStore};

const JAN_2026: i64 = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z
const FIVE_MIN: i64 = 300_000_000;

fn rows(from: i64, n: i64) -> Vec<NewObservation> {
    (0..n)
        .map(|i| common::tp(from + i * FIVE_MIN, 0.01))
        .collect()
}

async fn write(store: &PgStore, rows: Vec<NewObservation>) -> Vec<i64> {
    match store.write(WriteCommand::InsertObservations(rows)).await {
        Ok(WriteOutcome::Rows(r)) => r.into_iter().map(|r| r.expect("stored").0).collect(),
        other => panic!("not rows: {other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread")]
async fn a_smaller_id_committed_after_larger_ones_is_not_passed() {
    let Some((schema, url)) = common::fresh_schema("fence_") else {
        return;
    };
    let scope = store_postgres::scope_of(&schema);
    let store = PgStore::open(PgConfig::new(url.clone())).expect("open the store");
    store
        .write(common::intake())
        .await
        .expect("create the datastream");
    let first = write(&store, rows(JAN_2026, 10)).await;
    let before = ObservationCursor {
        last_id: *first.last().expect("ids"),
        revised_after: 0,
    };
    assert_eq!(
        store.settled_observation_id().await.expect("settled"),
        before.last_id,
        "nothing in flight: settled at the largest id"
    );

    // Another node's writer takes the next id and holds it; this node then commits 100 more.
    let held = tokio::task::spawn_blocking({
        let url = url.clone();
        move || InFlightWriter::start(&url, scope, 1, JAN_2026 - FIVE_MIN, 0.5, false)
    })
    .await
    .expect("thread")
    .expect("the in-flight writer");
    assert_eq!(held.id, before.last_id + 1);
    let later = write(&store, rows(JAN_2026 + 10 * FIVE_MIN, 100)).await;
    assert!(later.iter().all(|&id| id > held.id));

    // The largest committed id is past the held one, but the settled id is not, call after call.
    for _ in 0..3 {
        let settled = store.settled_observation_id().await.expect("settled");
        assert!(
            settled < held.id,
            "settled {settled} passed the id {} still in flight",
            held.id
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    }

    // A person's transaction with an id of its own holds nothing up.
    let (psql_done, psql_rx) = std::sync::mpsc::channel::<()>();
    let psql = std::thread::spawn({
        let url = url.clone();
        move || {
            let mut c = store_postgres::connect(&url).expect("connect");
            c.batch_execute("SET application_name = 'psql'; BEGIN; SELECT pg_current_xact_id()")
                .expect("psql transaction");
            let _ = psql_rx.recv();
            c.batch_execute("ROLLBACK").expect("rollback");
        }
    });

    // A catch-up read now waits for the held transaction; it commits 300 ms later.
    let committer = std::thread::spawn(move || {
        std::thread::sleep(Duration::from_millis(300));
        held.commit().expect("commit the held transaction");
    });
    let started = Instant::now();
    let page = store
        .observations_since(before, 1000)
        .await
        .expect("observations since");
    let waited = started.elapsed();
    committer.join().expect("committer");
    assert!(
        waited >= Duration::from_millis(250),
        "the read waited for the transaction in flight ({waited:?})"
    );
    let ids: Vec<i64> = page.events.iter().map(|e| e.id).collect();
    assert_eq!(
        ids.first(),
        Some(&(before.last_id + 1)),
        "the held id is read"
    );
    assert_eq!(ids.len(), 101, "the held observation and the 100 after it");
    assert!(page.complete);
    assert!(page.cursor.last_id >= *later.last().expect("ids"));

    // With nothing of ours in flight (the psql transaction still open), settled at once.
    let started = Instant::now();
    let settled = store.settled_observation_id().await.expect("settled");
    assert!(settled >= *later.last().expect("ids"));
    let cursor = store.observation_cursor().await.expect("cursor");
    assert!(cursor.last_id >= settled);
    assert!(
        started.elapsed() < Duration::from_secs(2),
        "another session's transaction held the fence up ({:?})",
        started.elapsed()
    );
    let _ = psql_done.send(());
    psql.join().expect("psql");
    store.close().await;
}
