//! `server` — the imperative shell: configuration, the HTTP app, ingestion listeners, and the
//! run loop with graceful shutdown.

pub mod accounts;
pub mod alerts;
pub mod config;
pub mod directory;
pub mod domain;
pub mod http;
pub mod metrics;
pub mod network;
pub mod reports;
pub mod sources;

use anyhow::Context;
use config::Config;
use std::sync::Arc;
use store::PageLimits;
use store::Store;
use store_sqlite::{SqliteConfig, SqliteStore};

/// Opens the store the configuration describes: PostgreSQL when `[storage] database_url` is
/// set, else the embedded SQLite file.
pub fn open_store(config: &Config) -> anyhow::Result<Arc<dyn Store>> {
    if let Some(url) = config.postgres_url() {
        return Ok(open_postgres(config, url)?);
    }
    let mut sc = SqliteConfig::new(config.database_path());
    sc.synchronous_full = !config.storage.synchronous.eq_ignore_ascii_case("normal");
    sc.readers = config.storage.readers;
    sc.max_batch = config.storage.max_batch;
    sc.page = PageLimits {
        default_top: config.sta.default_top,
        max_top: config.sta.max_top,
        max_expanded_rows: config.sta.max_expanded_rows,
    };
    sc.result_index = config.storage.result_index_for(false);
    sc.statement_timeout = match config.storage.statement_timeout_ms {
        0 => None,
        ms => Some(std::time::Duration::from_millis(ms)),
    };
    // The shared ingest rule: the store refuses future phenomenon times on every write path.
    sc.clock_tolerance_s = Some(config.ingest.clock_tolerance_s);
    let store = SqliteStore::open(sc)
        .with_context(|| format!("opening {}", config.database_path().display()))?;
    Ok(Arc::new(store))
}

/// Opens the PostgreSQL store (migrating it), with the same limits as the embedded one.
pub fn open_postgres(config: &Config, url: &str) -> anyhow::Result<Arc<store_postgres::PgStore>> {
    let mut pc = store_postgres::PgConfig::new(url);
    pc.readers = config.storage.readers;
    pc.max_batch = config.storage.max_batch;
    pc.page = PageLimits {
        default_top: config.sta.default_top,
        max_top: config.sta.max_top,
        max_expanded_rows: config.sta.max_expanded_rows,
    };
    pc.statement_timeout = match config.storage.statement_timeout_ms {
        0 => None,
        ms => Some(std::time::Duration::from_millis(ms)),
    };
    pc.clock_tolerance_s = Some(config.ingest.clock_tolerance_s);
    pc.result_index = config.storage.result_index_for(true);
    // The error names the URL without its password (store_postgres::connect).
    let store = store_postgres::PgStore::open(pc)
        .with_context(|| format!("opening {}", store_postgres::redact_url(url)))?;
    Ok(Arc::new(store))
}

/// A database URL with its password hidden, for whatever is shown to people.
pub fn redact_database_url(url: &str) -> String {
    store_postgres::redact_url(url)
}

/// `qingshui migrate`: opens the configured store, which applies its pending migrations, and
/// says where it stands.
pub async fn migrate(config: &Config) -> anyhow::Result<String> {
    let store = open_store(config)?;
    store.close().await;
    drop(store);
    Ok(match config.postgres_url() {
        Some(url) => format!(
            "PostgreSQL {}: schema version {}",
            store_postgres::redact_url(url),
            store_postgres::schema_version(url)?
        ),
        None => format!(
            "SQLite {}: schema version {}",
            config.database_path().display(),
            store_sqlite::schema::SCHEMA_VERSION
        ),
    })
}

/// `qingshui store copy`: the embedded store in `from_dir` into the empty PostgreSQL database
/// at `to_url`, then verified (counts per table, a sample of values).
pub fn store_copy(
    from_dir: &std::path::Path,
    to_url: &str,
    progress: &mut dyn FnMut(&str, u64, u64),
) -> anyhow::Result<store_postgres::copy::CopyReport> {
    let path = from_dir.join("qingshui.sqlite");
    let src = store_sqlite::ReadOnlyDb::open(&path)
        .with_context(|| format!("opening {}", path.display()))?;
    store_postgres::copy::copy_from(&src, to_url, progress)
        .with_context(|| format!("copying into {}", store_postgres::redact_url(to_url)))
}

/// A running server: its bound address and a handle to stop it.
pub struct Running {
    pub http_addr: std::net::SocketAddr,
    /// The HJ 212 listener's address, when `[hj212] addr` is configured.
    pub hj212_addr: Option<std::net::SocketAddr>,
    /// The address of every source that listens, by source name.
    pub source_addrs: std::collections::BTreeMap<&'static str, std::net::SocketAddr>,
    /// The stations of the loaded network (empty without `[network] file`).
    pub registry: Option<Arc<network::StationRegistry>>,
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
    start_with_sources(config, store, Vec::new()).await
}

/// [`start`], with sources beyond those the configuration names (started after them, through
/// the same path: a test's own source, an embedding program's).
pub async fn start_with_sources(
    config: Config,
    store: Arc<dyn Store>,
    extra_sources: Vec<Box<dyn sources::Source>>,
) -> anyhow::Result<Running> {
    // One datastream directory for the domain API, the alert engine and the sources.
    let directory = Arc::new(directory::DatastreamDirectory::default());
    let (registry, domain) = match &config.network.file {
        Some(path) => {
            let (registry, domain) = load_network_file(path, &store, &directory).await?;
            (Some(Arc::new(registry)), Some(Arc::new(domain)))
        }
        None => (None, None),
    };
    let listener = tokio::net::TcpListener::bind(config.http.addr)
        .await
        .with_context(|| format!("cannot listen on {}", config.http.addr))?;
    let http_addr = listener.local_addr()?;
    let (shutdown, rx) = tokio::sync::watch::channel(false);
    // HJ 212 lockouts become alerts once the engine runs (it starts after the sources).
    let (lockout_tx, lockout_rx) = sources::hj212::lockout_alerts::channel();
    let (video_tx, video_rx) = sources::gb28181::channel();
    // Alarm snapshots: stored under the data dir, uploaded to this server's HTTP address.
    let mut config = config;
    let snapshots = (config.gb28181.addr.is_some() && config.gb28181.snapshots).then(|| {
        Arc::new(sources::gb28181::snapshots::SnapshotStore::new(
            config.storage.data_dir.join("snapshots"),
            config.gb28181.snapshot_max_bytes,
            std::time::Duration::from_secs(config.gb28181.snapshot_session_s.max(1)),
            Some(video_tx.clone()),
        ))
    });
    if let Some(s) = &snapshots {
        std::fs::create_dir_all(&s.dir).with_context(|| format!("creating {}", s.dir.display()))?;
        if config.gb28181.snapshot_upload_base.is_none() {
            let base = config
                .http
                .public_url
                .clone()
                .unwrap_or_else(|| format!("http://{http_addr}"));
            config.gb28181.snapshot_upload_base = Some(format!(
                "{}/api/v1/video/snapshots",
                base.trim_end_matches('/')
            ));
        }
    }
    // Live view: the media server of `[gb28181.media]` (none: play answers 503 saying so).
    let live = Arc::new(sources::gb28181::live::LiveView::new(
        sources::gb28181::media::MediaServer::from_config(&config.gb28181.media),
        std::time::Duration::from_secs(config.gb28181.media.timeout_s.max(1)),
    ));
    let mut configured = sources::configured(
        &config,
        registry.as_ref(),
        domain.as_ref().map(|d| &d.network),
        lockout_tx,
        video_tx,
        snapshots.clone(),
        Some(live.clone()),
    )?;
    configured.extend(extra_sources);
    // Accounts before the sources: MQTT logs its clients in with the HTTP credentials, and
    // devices' sessions go into the same audit trail.
    let accounts = accounts::Accounts::new(store.clone().account_store(), config.auth.clone());
    accounts
        .reload(store::clock::now_millis())
        .await
        .context("loading accounts")?;
    accounts.spawn_refresh(rx.clone());
    let audit_log = accounts.audit.clone();
    let service_root = format!(
        "{}{}",
        config
            .http
            .public_url
            .clone()
            .unwrap_or_else(|| format!("http://{http_addr}"))
            .trim_end_matches('/'),
        http::sta::PREFIX
    );
    if let Some(mqtt) = sources::mqtt::MqttSource::from_config(
        &config,
        accounts.clone(),
        service_root,
        domain.as_ref().map(|d| &d.network),
        Some(directory.clone()),
    ) {
        configured.push(Box::new(mqtt));
    }
    let ingest = sources::ingest::Ingest::new(store.clone(), config.ingest.clock_tolerance_s)
        .with_audit(accounts.audit.clone());
    let sources::StartedSources {
        board: source_board,
        addrs: source_addrs,
        tasks: source_tasks,
    } = sources::start_all(configured, &ingest, &rx).await?;
    // serverSettings advertises the bound MQTT address unless [mqtt] public_url names one.
    if let Some(addr) = source_addrs.get("mqtt")
        && config.mqtt.public_url.is_none()
    {
        config.mqtt.public_url = Some(format!("mqtt://{addr}"));
    }
    // Alerts read the commit stream from here on (after the network load, so its entities are known).
    let video_links = domain
        .as_ref()
        .map(|d| alerts::video_links(&d.network, config.gb28181.station_alert_video_points))
        .unwrap_or_default();
    let (alerts, alerts_task) = alerts::start(
        &config.alerts,
        store.clone(),
        directory,
        video_links,
        rx.clone(),
    )
    .await
    .context("starting the alert engine")?;
    tokio::spawn(sources::hj212::lockout_alerts::forward(
        lockout_rx,
        alerts.clone(),
        rx.clone(),
    ));
    tokio::spawn(sources::gb28181::forward(
        video_rx,
        alerts.clone(),
        rx.clone(),
    ));
    // Links name the address actually bound (port 0 in tests), never the client's Host header.
    if config.http.public_url.is_none() {
        if http_addr.ip().is_unspecified() {
            tracing::warn!(%http_addr, "listening on all interfaces without [http] public_url: links will name {http_addr}; set public_url to the address clients use");
        }
        config.http.public_url = Some(format!("http://{http_addr}"));
    }
    let listener_settings = http::listener::ListenerSettings::from_config(&config.http);
    let commit_lag = alerts.commit_lag.clone();
    let state = http::AppState {
        alerts: Some(alerts),
        store: store.clone(),
        config: Arc::new(config),
        metrics: Arc::new(metrics::Metrics {
            sources: Arc::new(source_board),
            commit_lag,
        }),
        domain,
        snapshots,
        accounts,
        live: Some(live),
    };
    // The monthly report schedule (off unless `[reports] schedule_day` is set).
    if let Some(d) = state.domain.clone() {
        let c = state.config.reports.clone();
        let dir = state.config.storage.data_dir.join("reports");
        let email = state.config.alerts.email.clone();
        reports::schedule::spawn(d, store.clone(), c, email, dir, rx.clone());
    }
    let app = http::router(state);
    let task_store = store.clone();
    let task_audit = audit_log;
    let task = tokio::spawn(async move {
        // Returns once in-flight requests finished, or the grace period dropped them.
        http::listener::serve(listener, app, listener_settings, rx).await;
        // Stop the sources after HTTP: each finishes the frame it holds (write + answer).
        sources::stopped(source_tasks).await;
        // The engine stops on the same signal; let it finish the change it is storing.
        let _ = alerts_task.await;
        // The sessions the sources just closed, the last requests: audited before the store goes.
        task_audit.flush().await;
        // In-flight requests are done; flush what the writer still holds.
        task_store.close().await;
        Ok(())
    });
    tracing::info!(%http_addr, "serving SensorThings API at http://{http_addr}/v1.1");
    Ok(Running {
        http_addr,
        hj212_addr: source_addrs.get("hj212").copied(),
        source_addrs,
        registry,
        store,
        shutdown,
        task,
    })
}

/// The domain view of a store without a server (`qingshui report --data-dir`): loads the
/// network file into the store (idempotent) and reads its datastreams.
pub async fn open_domain(
    path: &std::path::Path,
    store: &Arc<dyn Store>,
) -> anyhow::Result<domain::Domain> {
    let directory = Arc::new(directory::DatastreamDirectory::default());
    let (_, domain) = load_network_file(path, store, &directory).await?;
    Ok(domain)
}

/// Reads, parses and loads a network file; the registry of its HJ 212 stations.
async fn load_network_file(
    path: &std::path::Path,
    store: &Arc<dyn Store>,
    directory: &Arc<directory::DatastreamDirectory>,
) -> anyhow::Result<(network::StationRegistry, domain::Domain)> {
    let text = std::fs::read_to_string(path)
        .with_context(|| format!("cannot read network file {}", path.display()))?;
    // The error displays as `file:line:column: problem`.
    let net = ::network::parse_network(&text, &path.display().to_string())?;
    let load = network::load_network(store, &net)
        .await
        .with_context(|| format!("loading network {}", path.display()))?;
    tracing::info!(file = %path.display(), created = load.created, updated = load.updated, unchanged = load.unchanged, "network loaded");
    // A network load that changed the store is a state change like any other: audited.
    if load.created + load.updated > 0
        && let Some(accounts) = store.clone().account_store()
    {
        let entry = store::accounts::AuditRecord {
            id: 0,
            at: store::clock::now_millis(),
            principal: "config".into(),
            action: "network.load".into(),
            target: path.display().to_string(),
            from_addr: "local".into(),
            details: serde_json::json!({
                "created": load.created, "updated": load.updated, "unchanged": load.unchanged,
            }),
        };
        if let Err(e) = accounts.append_audit(vec![entry]).await {
            tracing::warn!(error = %e, "the network load was not audited");
        }
    }
    directory
        .refresh(store)
        .await
        .context("reading the network's datastreams")?;
    let registry = network::StationRegistry::new(&net, &load, directory.clone())?;
    Ok((
        registry,
        domain::Domain::new(net, load.ids, directory.clone()),
    ))
}
