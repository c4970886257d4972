//! The SensorThings API suite (`sta_suite/suite.rs`) over the embedded SQLite backend. A second
//! backend runs the same suite from its own file: `open_backend` returning its store, then the
//! same `include!`.

use std::sync::Arc;
use store::Store;

/// The store under test, for a configuration whose data directory is a fresh temp dir.
fn open_backend(config: &server::config::Config) -> anyhow::Result<Arc<dyn Store>> {
    server::open_store(config)
}

include!("sta_suite/suite.rs");
