//! `server` — the imperative shell: configuration, the HTTP app, ingestion listeners, and the
//! run loop with graceful shutdown.

pub mod config;
pub mod http;
pub mod metrics;

use anyhow::Context;
use config::Config;
use std::sync::Arc;
use store::Store;
use store::sqlite::{PageLimits, SqliteConfig, SqliteStore};

/// Opens the embedded store described by the configuration.
pub fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    let mut sc = SqliteConfig::new(config.database_path());
    sc.synchronous_full = !config.storage.synchronous.eq_ignore_ascii_case("normal");
    sc.readers = config.storage.readers;
    sc.max_batch = config.storage.max_batch;
    sc.page = PageLimits { default_top: config.sta.default_top, max_top: config.sta.max_top };
    let store = SqliteStore::open(sc).with_context(|| format!("opening {}", config.database_path().display()))?;
    Ok(Arc::new(store))
}

/// A running server: its bound address and a handle to stop it.
pub struct Running {
    pub http_addr: std::net::SocketAddr,
    pub store: Arc<dyn Store>,
    shutdown: tokio::sync::watch::Sender<bool>,
    task: tokio::task::JoinHandle<anyhow::Result<()>>,
}

impl Running {
    /// Stops accepting requests, lets in-flight ones finish, flushes pending writes.
    pub async fn stop(self) -> anyhow::Result<()> {
        let _ = self.shutdown.send(true);
        self.task.await??;
        Ok(())
    }

    /// Waits until the server stops by itself (it does not, unless an error occurs).
    pub async fn wait(self) -> anyhow::Result<()> {
        self.task.await?
    }

    pub fn shutdown_handle(&self) -> tokio::sync::watch::Sender<bool> {
        self.shutdown.clone()
    }
}

/// Binds the listeners and starts serving on the current tokio runtime.
pub async fn start(config: Config, store: Arc<dyn Store>) -> anyhow::Result<Running> {
    let listener = tokio::net::TcpListener::bind(config.http.addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.http.addr))?;
    let http_addr = listener.local_addr()?;
    let state = http::AppState {
        store: store.clone(),
        config: Arc::new(config),
        metrics: Arc::new(metrics::Metrics::default()),
    };
    let app = http::router(state);
    let (shutdown, mut rx) = tokio::sync::watch::channel(false);
    let task_store = store.clone();
    let task = tokio::spawn(async move {
        axum::serve(listener, app)
            .with_graceful_shutdown(async move {
                let _ = rx.wait_for(|stop| *stop).await;
            })
            .await?;
        // In-flight requests are done; flush what the writer still holds.
        task_store.close().await;
        Ok(())
    });
    tracing::info!(%http_addr, "serving SensorThings API at http://{http_addr}/v1.1");
    Ok(Running { http_addr, store, shutdown, task })
}
