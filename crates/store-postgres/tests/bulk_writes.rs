//! The writer's bulk path (`src/write/bulk.rs`) on a real PostgreSQL (`QINGSHUI_TEST_DATABASE_URL`;
//! skipped without it): a large command goes in by binary COPY after a look-up of the keys
//! already stored, and must keep the idempotency rule of the row-by-row path — resent rows
//! unchanged, changed rows replaced with a revision, a key twice in one command stored once, a
//! backfill between stored values, a key another connection stores while the command runs — and
//! must not lock the default partition (a writer holding it deadlocked with another node
//! creating a month).

mod common;

use std::time::Duration;
use store::{NewObservation, Store, UpsertKind, WriteCommand, WriteOutcome};
use store_postgres::{PgConfig, PgStore};

const JAN_2026: i64 = 1_767_225_600_000_000; // 2026-01-01T00:00:00Z
const FIVE_MIN: i64 = 300_000_000;

struct Fixture {
    url: String,
    store: PgStore,
}

async fn fixture(prefix: &'static str) -> Option<Fixture> {
    let (_, url) = common::fresh_schema(prefix)?;
    let store = PgStore::open(PgConfig::new(url.clone())).expect("open the store");
    store
        .write(common::intake())
        .await
        .expect("create the datastream");
    Some(Fixture { url, store })
}

use common::tp as row;

/// `n` five-minute values from `from`, the value of slot `i` being `i / 1000 + shift`.
fn series(from: i64, n: i64, shift: f64) -> Vec<NewObservation> {
    (0..n)
        .map(|i| row(from + i * FIVE_MIN, i as f64 / 1000.0 + shift))
        .collect()
}

async fn write(store: &PgStore, rows: Vec<NewObservation>) -> Vec<(i64, UpsertKind)> {
    let out = tokio::time::timeout(
        Duration::from_secs(30),
        store.write(WriteCommand::InsertObservations(rows)),
    )
    .await
    .expect("the write finishes within 30 s")
    .expect("the write");
    let WriteOutcome::Rows(rows) = out else {
        panic!("not rows: {out:?}");
    };
    rows.into_iter()
        .map(|r| r.expect("every row stored"))
        .collect()
}

fn kinds(out: &[(i64, UpsertKind)], kind: UpsertKind) -> usize {
    out.iter().filter(|(_, k)| *k == kind).count()
}

/// A plain query on a connection of its own (a thread: the blocking client runs its own
/// runtime).
fn scalar(url: &str, sql: &str) -> i64 {
    let (url, sql) = (url.to_owned(), sql.to_owned());
    std::thread::spawn(move || {
        let mut c = store_postgres::connect(&url).expect("connect");
        c.query_one(&sql, &[]).expect(&sql).get(0)
    })
    .join()
    .expect("query thread")
}

#[tokio::test(flavor = "multi_thread")]
async fn resent_changed_and_repeated_rows_follow_the_idempotency_rule() {
    let Some(f) = fixture("bw_").await else {
        return;
    };
    // 1,000 new rows: all inserted, ids ascending in the order of the rows.
    let first = write(&f.store, series(JAN_2026, 1000, 0.0)).await;
    assert_eq!(kinds(&first, UpsertKind::Inserted), 1000);
    assert!(first.windows(2).all(|w| w[0].0 < w[1].0), "ids ascend");
    // The same rows again (a station resending): nothing changes, the ids are the stored ones.
    let again = write(&f.store, series(JAN_2026, 1000, 0.0)).await;
    assert_eq!(kinds(&again, UpsertKind::Unchanged), 1000);
    assert_eq!(
        again.iter().map(|r| r.0).collect::<Vec<_>>(),
        first.iter().map(|r| r.0).collect::<Vec<_>>()
    );
    // 10 of them with a new value, among 200 new ones: 10 replaced (and their old values kept),
    // 200 inserted.
    let mut mixed = series(JAN_2026 + 1000 * FIVE_MIN, 200, 5.0);
    mixed.extend(series(JAN_2026, 10, 1.0));
    let out = write(&f.store, mixed).await;
    assert_eq!(kinds(&out, UpsertKind::Inserted), 200);
    assert_eq!(kinds(&out, UpsertKind::Replaced), 10);
    assert_eq!(
        scalar(&f.url, "SELECT COUNT(*) FROM observation_revisions"),
        10
    );
    // A key twice in one command: stored once, for its first occurrence; the second is then
    // the idempotency rule against it (same value: unchanged; another: replaced).
    let t = JAN_2026 + 2000 * FIVE_MIN;
    let mut twice = series(t, 100, 0.0);
    twice.push(row(t, 0.0));
    twice.push(row(t + FIVE_MIN, 9.0));
    let out = write(&f.store, twice).await;
    assert_eq!(kinds(&out, UpsertKind::Inserted), 100);
    assert_eq!(out[100], (out[0].0, UpsertKind::Unchanged));
    assert_eq!(out[101], (out[1].0, UpsertKind::Replaced));
    assert_eq!(
        scalar(
            &f.url,
            &format!(
                "SELECT (result * 1000)::BIGINT FROM observations WHERE phenomenon_time_start = {}",
                t + FIVE_MIN
            )
        ),
        9000
    );
    // Backfills between stored values: 300 in the middle of 300 slots (the look-up finds the
    // stored neighbours and no key), then 100 spread over 1,000 slots (its range holds ten
    // stored values a row: the INSERT decides): all inserted.
    let dense: Vec<NewObservation> = (0..300)
        .map(|i| row(JAN_2026 + i * FIVE_MIN + FIVE_MIN / 2, 7.0))
        .collect();
    assert_eq!(
        kinds(&write(&f.store, dense).await, UpsertKind::Inserted),
        300
    );
    let sparse: Vec<NewObservation> = (0..100)
        .map(|i| row(JAN_2026 + i * 10 * FIVE_MIN + FIVE_MIN / 4, 8.0))
        .collect();
    assert_eq!(
        kinds(&write(&f.store, sparse).await, UpsertKind::Inserted),
        100
    );
    assert_eq!(
        scalar(&f.url, "SELECT COUNT(*) FROM observations"),
        1000 + 200 + 100 + 300 + 100
    );
    assert_eq!(
        scalar(
            &f.url,
            "SELECT observation_count FROM datastreams WHERE id = 1"
        ),
        1700,
        "the maintained count follows"
    );
    f.store.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn a_key_another_connection_stores_meanwhile_is_judged_not_refused() {
    let Some(f) = fixture("bx_").await else {
        return;
    };
    // January's partition and the feature exist (one row through the store, late in the
    // month).
    write(&f.store, vec![row(JAN_2026 + 8500 * FIVE_MIN, 0.5)]).await;
    // Another node inserts one of the command's keys and commits only while the command's
    // COPY waits for it: the look-up could not see it, so the COPY meets it.
    let taken = JAN_2026 + 500 * FIVE_MIN;
    let url = f.url.clone();
    let (inserted_tx, inserted_rx) = std::sync::mpsc::channel();
    let other = std::thread::spawn(move || {
        let mut c = store_postgres::connect(&url).expect("connect");
        let mut tx = c.transaction().expect("begin");
        tx.execute(
            "INSERT INTO observations (datastream_id, phenomenon_time_start, id, result, feature_id)
             SELECT 1, $1, nextval('observations_id_seq'), 0.5, feature_id FROM observations LIMIT 1",
            &[&taken],
        )
        .expect("the other node's row");
        inserted_tx.send(()).expect("signal");
        std::thread::sleep(Duration::from_millis(1500));
        tx.commit().expect("commit");
    });
    inserted_rx.recv().expect("the other row is in");
    let out = write(&f.store, series(JAN_2026, 1000, 0.0)).await;
    other.join().expect("the other node");
    assert_eq!(kinds(&out, UpsertKind::Inserted), 999);
    // Slot 500's value is 0.5, as the other node stored it.
    assert_eq!(out[500].1, UpsertKind::Unchanged);
    assert_eq!(scalar(&f.url, "SELECT COUNT(*) FROM observations"), 1001);
    f.store.close().await;
}

#[tokio::test(flavor = "multi_thread")]
async fn bulk_writes_leave_the_default_partition_alone() {
    let Some(f) = fixture("by_").await else {
        return;
    };
    // January's partition exists (one row through the store, late in the month).
    write(&f.store, vec![row(JAN_2026 + 8500 * FIVE_MIN, 0.5)]).await;
    // Another node creating a month holds the default partition (ATTACH PARTITION moves its
    // rows) until it commits. Writes into months that exist must not wait for it — more than
    // five of them, past the point where a prepared statement's plan turns generic.
    let url = f.url.clone();
    let (held_tx, held_rx) = std::sync::mpsc::channel();
    let (done_tx, done_rx) = std::sync::mpsc::channel::<()>();
    let holder = std::thread::spawn(move || {
        let mut c = store_postgres::connect(&url).expect("connect");
        let mut tx = c.transaction().expect("begin");
        tx.batch_execute("LOCK TABLE observations_default IN ACCESS EXCLUSIVE MODE")
            .expect("lock");
        held_tx.send(()).expect("signal");
        let _ = done_rx.recv_timeout(Duration::from_secs(60));
        tx.rollback().expect("rollback");
    });
    held_rx.recv().expect("the default partition is held");
    for k in 0..8 {
        let out = write(&f.store, series(JAN_2026 + k * 1000 * FIVE_MIN, 1000, 0.0)).await;
        assert_eq!(kinds(&out, UpsertKind::Inserted), 1000, "write {k}");
        // A resend, through the look-up that finds every key.
        let out = write(&f.store, series(JAN_2026 + k * 1000 * FIVE_MIN, 1000, 0.0)).await;
        assert_eq!(kinds(&out, UpsertKind::Unchanged), 1000, "resend {k}");
    }
    done_tx.send(()).expect("release");
    holder.join().expect("the holder");
    f.store.close().await;
}
