//! Monthly partitions of observations on a real PostgreSQL (`QINGSHUI_TEST_DATABASE_URL`,
//! `make test-postgres`; skipped without it): the maintenance function creates the month's
//! partition, moves rows that reached the default partition into it, is idempotent, and the
//! store creates the partitions ahead at start.

use store::executor::Executor;
use store::sql::SqlValue;
use store_postgres::{PgExec, schema};

fn fresh() -> Option<(String, PgExec)> {
    let admin = std::env::var("QINGSHUI_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())?;
    let (_, url) = store_postgres::create_fresh_schema(&admin, "pt_").expect("schema");
    let exec = PgExec::new(store_postgres::connect(&url).expect("connect"));
    Some((url, exec))
}

fn count(exec: &PgExec, sql: &str) -> i64 {
    match Executor::query_first(exec, sql, &[]).expect("query") {
        Some(SqlValue::Int(n)) => n,
        other => panic!("{sql}: not a count: {other:?}"),
    }
}

const MARCH_2026: i64 = 1_772_323_200_000_000; // 2026-03-01T00:00:00Z
const JUNE_1995: i64 = 801_964_800_000_000; // 1995-06-01T00:00:00Z

#[test]
fn partitions_are_made_per_month_and_take_over_the_default_rows() {
    let Some((_, exec)) = fresh() else {
        eprintln!("QINGSHUI_TEST_DATABASE_URL is not set: skipped");
        return;
    };
    schema::migrate(&exec).expect("migrate");
    let insert = |t: i64, id: i64| {
        exec.execute_values(
            "INSERT INTO observations (datastream_id, phenomenon_time_start, id, result, feature_id) VALUES (1, $1, $2, 1.5, 1)",
            &[SqlValue::Int(t), SqlValue::Int(id)],
        )
        .expect("insert");
    };
    // No partition for June 1995 yet: the rows land in the default partition.
    insert(JUNE_1995, 1);
    insert(JUNE_1995 + 3_600_000_000, 2);
    assert_eq!(count(&exec, "SELECT COUNT(*) FROM observations_default"), 2);
    schema::ensure_partition(&exec, JUNE_1995 + 10).expect("partition");
    assert_eq!(count(&exec, "SELECT COUNT(*) FROM observations_default"), 0);
    assert_eq!(count(&exec, "SELECT COUNT(*) FROM observations_1995_06"), 2);
    assert_eq!(count(&exec, "SELECT COUNT(*) FROM observations"), 2);
    // Idempotent.
    schema::ensure_partition(&exec, JUNE_1995).expect("again");
    // Ahead: this month and the next two.
    schema::ensure_partitions_ahead(&exec, MARCH_2026 + 5, 2).expect("ahead");
    for name in [
        "observations_2026_03",
        "observations_2026_04",
        "observations_2026_05",
    ] {
        assert_eq!(
            count(
                &exec,
                &format!(
                    "SELECT COUNT(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE c.relname = '{name}' AND c.relnamespace = current_schema()::regnamespace"
                )
            ),
            1,
            "{name} is a partition"
        );
    }
    insert(MARCH_2026 + 60_000_000, 3);
    assert_eq!(count(&exec, "SELECT COUNT(*) FROM observations_2026_03"), 1);
    // The (datastream, time) key holds across partitions.
    let dup = exec.execute_values(
        "INSERT INTO observations (datastream_id, phenomenon_time_start, id, result, feature_id) VALUES (1, $1, 9, 2.0, 1)",
        &[SqlValue::Int(MARCH_2026 + 60_000_000)],
    );
    assert!(dup.is_err(), "the key is unique");
}

/// Two writers (two nodes) creating the same month's partition in overlapping transactions:
/// the second waits for the first and then finds the partition, instead of failing on the
/// catalog's unique index when the first commits (what made a two-node ingest answer 409).
#[test]
fn two_writers_creating_one_month_at_once_both_succeed() {
    let Some((url, first)) = fresh() else {
        eprintln!("QINGSHUI_TEST_DATABASE_URL is not set: skipped");
        return;
    };
    schema::migrate(&first).expect("migrate");
    let second = PgExec::new(store_postgres::connect(&url).expect("connect"));
    let second_pid = count(&second, "SELECT pg_backend_pid()::BIGINT");
    first.batch("BEGIN").expect("begin");
    schema::ensure_partition(&first, JUNE_1995).expect("first creates");
    let waiting = std::thread::spawn(move || {
        second.batch("BEGIN")?;
        schema::ensure_partition(&second, JUNE_1995 + 7)?;
        second.batch("COMMIT")
    });
    // The second is blocked behind the first's uncommitted partition before the first commits.
    let watcher = PgExec::new(store_postgres::connect(&url).expect("connect"));
    let mut blocked = false;
    for _ in 0..100 {
        let n = count(
            &watcher,
            &format!("SELECT COUNT(*) FROM pg_locks WHERE pid = {second_pid} AND NOT granted"),
        );
        if n > 0 {
            blocked = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert!(blocked, "the second writer never waited for the first");
    first.batch("COMMIT").expect("commit");
    waiting
        .join()
        .expect("thread")
        .expect("the second writer finds the partition the first committed");
    assert_eq!(
        count(
            &watcher,
            "SELECT COUNT(*) FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE c.relname = 'observations_1995_06' AND c.relnamespace = current_schema()::regnamespace"
        ),
        1
    );
}
