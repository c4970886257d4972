//! The store a test runs on: PostgreSQL when `QINGSHUI_TEST_DATABASE_URL` is set (each call a
//! fresh schema in that database, so tests never see each other's rows, notifications or
//! advisory locks), else the embedded SQLite file in the test's data directory. `make test`
//! runs the backend-facing tests once more with the URL set (`make test-postgres`).

#![allow(dead_code)]

use std::sync::Arc;
use store::Store;

/// The PostgreSQL URL of the schema that stands for the data directory `dir` (created empty on
/// first use: a test that reopens its data directory finds its data again), or `None` when the
/// tests run on SQLite.
pub fn postgres_url_for(dir: &std::path::Path) -> Option<String> {
    let admin = std::env::var("QINGSHUI_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())?;
    // FNV-1a of the directory: temp dirs are unique, so is the schema.
    let h = dir
        .to_string_lossy()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    let schema = format!("t_{h:016x}");
    // On a thread of its own: the blocking client cannot run inside the test's runtime.
    let (a, s) = (admin.clone(), schema.clone());
    std::thread::spawn(move || {
        let mut client = store_postgres::connect(&a).expect("connect to the test database");
        client
            .batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {s}"))
            .expect("create the test schema");
    })
    .join()
    .expect("schema thread");
    let sep = if admin.contains('?') { '&' } else { '?' };
    Some(format!("{admin}{sep}options=-csearch_path%3D{schema}"))
}

/// Opens the store for `config` (a fresh PostgreSQL schema when the tests run on PostgreSQL).
pub fn open_store(config: &server::config::Config) -> anyhow::Result<Arc<dyn Store>> {
    match postgres_url_for(&config.storage.data_dir) {
        Some(url) => {
            let mut config = config.clone();
            config.storage.database_url = url;
            server::open_store(&config)
        }
        None => server::open_store(config),
    }
}

/// Whether this run is on PostgreSQL.
pub fn on_postgres() -> bool {
    std::env::var("QINGSHUI_TEST_DATABASE_URL").is_ok_and(|u| !u.trim().is_empty())
}

/// A fresh schema of the PostgreSQL test database: its name and the URL that works in it, or
/// `None` when the tests run on SQLite only (the test then skips, saying so).
pub fn fresh_postgres_schema(prefix: &'static str) -> Option<(String, String)> {
    if !on_postgres() {
        eprintln!("QINGSHUI_TEST_DATABASE_URL is not set: skipped");
        return None;
    }
    let admin = std::env::var("QINGSHUI_TEST_DATABASE_URL").ok()?;
    let made = std::thread::spawn(move || store_postgres::create_fresh_schema(&admin, prefix))
        .join()
        .expect("schema thread")
        .expect("schema");
    Some(made)
}

/// Another node's writer holding one observation (`datastream_id`, `time`, `result`) in an open
/// transaction of the schema `schema` at `url` (`store_postgres::fence::InFlightWriter`).
pub async fn hold_in_flight(
    url: &str,
    schema: &str,
    datastream_id: i64,
    time: i64,
    result: f64,
    announce: bool,
) -> store_postgres::fence::InFlightWriter {
    let (url, scope) = (url.to_owned(), store_postgres::scope_of(schema));
    tokio::task::spawn_blocking(move || {
        store_postgres::fence::InFlightWriter::start(
            &url,
            scope,
            datastream_id,
            time,
            result,
            announce,
        )
    })
    .await
    .expect("thread")
    .expect("the in-flight writer")
}

/// Commits what `held` holds.
pub async fn commit_in_flight(held: store_postgres::fence::InFlightWriter) {
    tokio::task::spawn_blocking(move || held.commit())
        .await
        .expect("thread")
        .expect("commit the held transaction");
}
