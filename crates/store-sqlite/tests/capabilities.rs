//! The capability stores (`store::sql_stores`) on SQLite: the shared behaviour test, each part
//! on a fresh file, and what was written is there after a reopen.

use std::sync::Arc;
use store::Store;
use store::sql_stores::conformance;
use store_sqlite::{SqliteConfig, SqliteStore};

fn open(dir: &tempfile::TempDir) -> Arc<SqliteStore> {
    Arc::new(SqliteStore::open(SqliteConfig::new(dir.path().join("c.sqlite"))).expect("open"))
}

#[tokio::test]
async fn alerts() {
    let dir = tempfile::tempdir().expect("dir");
    let store = open(&dir);
    conformance::alerts(&*store).await;
    store.close().await;
    drop(store);
    let store = open(&dir);
    let alerts = store.clone().alert_store().expect("alert store");
    let (_, total) = alerts
        .alerts(store::alerts::AlertFilter {
            limit: 10,
            ..Default::default()
        })
        .await
        .expect("list after reopen");
    assert_eq!(total, 3);
    store.close().await;
}

#[tokio::test]
async fn scenes() {
    let dir = tempfile::tempdir().expect("dir");
    let store = open(&dir);
    conformance::scenes(&*store).await;
    store.close().await;
}

#[tokio::test]
async fn accounts() {
    let dir = tempfile::tempdir().expect("dir");
    let store = open(&dir);
    conformance::accounts(&*store).await;
    store.close().await;
}

#[tokio::test]
async fn review() {
    let dir = tempfile::tempdir().expect("dir");
    let store = open(&dir);
    conformance::review(&*store).await;
    store.close().await;
}
