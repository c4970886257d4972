//! Commit announcements follow presence (notify.rs), on a real PostgreSQL
//! (`QINGSHUI_TEST_DATABASE_URL`; skipped without it): a node alone announces nothing, and once a
//! second node has opened, the first node's commits reach it through its commit stream.

mod common;

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use store::{Store, WriteCommand};
use store_postgres::{PgConfig, PgStore};

/// A plain client on the deployment's channel: it listens but never says hello, so it does not
/// count as a node.
fn spy(url: String, channel: String, heard: Arc<Mutex<Vec<String>>>, for_how_long: Duration) {
    std::thread::spawn(move || {
        let mut c = store_postgres::connect(&url).expect("connect the spy");
        c.batch_execute(&format!("LISTEN {channel}"))
            .expect("LISTEN");
        let end = Instant::now() + for_how_long;
        let mut n = c.notifications();
        while Instant::now() < end {
            // A fresh iterator each time: one that has timed out stays ended.
            let mut it = n.timeout_iter(Duration::from_millis(50));
            match fallible_iterator::FallibleIterator::next(&mut it) {
                Ok(Some(note)) => heard
                    .lock()
                    .expect("spy lock")
                    .push(note.payload().to_owned()),
                Ok(None) => {}
                Err(_) => break,
            }
        }
    });
}

fn rows(from: i64, n: i64) -> WriteCommand {
    WriteCommand::InsertObservations(
        (0..n)
            .map(|i| {
                common::tp(
                    1_767_225_600_000_000 + (from + i) * 300_000_000,
                    0.02 + i as f64 / 1000.0,
                )
            })
            .collect(),
    )
}

fn stored(out: store::WriteOutcome) {
    let store::WriteOutcome::Rows(rows) = out else {
        panic!("not rows: {out:?}");
    };
    assert!(rows.iter().all(Result::is_ok), "every row stored: {rows:?}");
}

fn batches(heard: &Arc<Mutex<Vec<String>>>) -> usize {
    heard
        .lock()
        .expect("spy lock")
        .iter()
        .filter(|p| p.contains("\"ev\":"))
        .count()
}

#[tokio::test(flavor = "multi_thread")]
async fn a_lone_node_announces_nothing_and_a_second_node_hears_the_first() {
    let Some((schema, url)) = common::fresh_schema("pr_") else {
        return;
    };
    let a = PgStore::open(PgConfig::new(url.clone())).expect("open node A");
    a.write(common::intake())
        .await
        .expect("create the datastream");
    let heard = Arc::new(Mutex::new(Vec::new()));
    let channel = store_postgres::commit_channel(store_postgres::scope_of(&schema));
    spy(url.clone(), channel, heard.clone(), Duration::from_secs(8));
    tokio::time::sleep(Duration::from_millis(300)).await;

    // Alone: the commit is durable, and nothing goes through the notification queue.
    stored(a.write(rows(0, 10)).await.expect("write on A alone"));
    tokio::time::sleep(Duration::from_millis(500)).await;
    assert_eq!(batches(&heard), 0, "a lone node announced its commit");
    assert_eq!(a.backend_health().await.peers, Some(0));

    // A second node: once it has opened, each has heard the other.
    let b = PgStore::open(PgConfig::new(url)).expect("open node B");
    assert_eq!(
        b.backend_health().await.peers,
        Some(1),
        "B heard A's answer"
    );
    assert_eq!(a.backend_health().await.peers, Some(1), "A heard B's hello");
    let mut on_b = b.subscribe();
    stored(a.write(rows(10, 10)).await.expect("write on A"));
    let batch = tokio::time::timeout(Duration::from_secs(5), on_b.recv())
        .await
        .expect("B hears A's commit within 5 s")
        .expect("B's commit stream");
    let observations = batch
        .events
        .iter()
        .filter(|e| matches!(e, store::CommitEvent::Observation(_)))
        .count();
    assert_eq!(observations, 10, "every observation of A's batch reaches B");
    let until = Instant::now() + Duration::from_secs(3);
    while batches(&heard) == 0 && Instant::now() < until {
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    assert!(batches(&heard) >= 1, "A announced once B listened");
    b.close().await;
    a.close().await;
}
