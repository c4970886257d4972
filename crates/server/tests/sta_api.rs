//! The SensorThings API suite (`sta_suite/suite.rs`) over the embedded SQLite backend, or over
//! PostgreSQL when `QINGSHUI_TEST_DATABASE_URL` is set (`common/backend.rs`; `make test` runs
//! both).

#[path = "common/backend.rs"]
mod backend;

use std::sync::Arc;
use store::Store;

/// The store under test, for a configuration whose data directory is a fresh temp dir.
fn open_backend(config: &server::config::Config) -> anyhow::Result<Arc<dyn Store>> {
    backend::open_store(config)
}

include!("sta_suite/suite.rs");
