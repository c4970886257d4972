//! `qingshui serve` — runs the platform on the embedded store.

use anyhow::Context;
use server::config::{Config, Overrides};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// TOML configuration file (see config/qingshui.example.toml).
    #[arg(long, env = "QINGSHUI_CONFIG")]
    pub config: Option<PathBuf>,
    /// HTTP listen address.
    #[arg(long, env = "QINGSHUI_HTTP", value_name = "ADDR")]
    pub http: Option<SocketAddr>,
    /// Directory holding the embedded database (default ./data).
    #[arg(long, env = "QINGSHUI_DATA_DIR", value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Run on PostgreSQL: `postgres://user:password@host:5432/db` (docs/postgres.md). Without
    /// it the embedded SQLite file in the data directory is used.
    #[arg(
        long,
        env = "QINGSHUI_DATABASE_URL",
        value_name = "URL",
        hide_env_values = true
    )]
    pub database_url: Option<String>,
    /// Allow writes without a bearer token (local demos only).
    #[arg(long, env = "QINGSHUI_OPEN")]
    pub open: bool,
    /// A bearer token allowed to write (repeatable; adds to the config file's tokens).
    #[arg(long = "token", env = "QINGSHUI_TOKEN", value_delimiter = ',')]
    pub tokens: Vec<String>,
    /// Monitoring-network TOML file loaded into the store at start (e.g. config/hongfeng.toml).
    #[arg(long, env = "QINGSHUI_NETWORK", value_name = "FILE")]
    pub network: Option<PathBuf>,
    /// HJ 212 TCP listen address (needs --network for the stations' MN and PW).
    #[arg(long, env = "QINGSHUI_HJ212", value_name = "ADDR")]
    pub hj212: Option<SocketAddr>,
    /// GB/T 28181 SIP listen address, UDP and TCP (needs --network for the video points).
    #[arg(long, env = "QINGSHUI_GB28181", value_name = "ADDR")]
    pub gb28181: Option<SocketAddr>,
    /// MQTT listen address: the SensorThings MQTT extension (docs/mqtt.md).
    #[arg(long, env = "QINGSHUI_MQTT", value_name = "ADDR")]
    pub mqtt: Option<SocketAddr>,
}

impl ServeArgs {
    pub fn to_config(&self) -> anyhow::Result<Config> {
        let config = Config::load(self.config.as_deref())?;
        Ok(config.overlay(Overrides {
            http: self.http,
            data_dir: self.data_dir.clone(),
            database_url: self.database_url.clone(),
            open: self.open,
            tokens: self.tokens.clone(),
            network: self.network.clone(),
            hj212: self.hj212,
            gb28181: self.gb28181,
            mqtt: self.mqtt,
        }))
    }
}

pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_env("QINGSHUI_LOG")
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info,tower_http=warn"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(false)
        .try_init();
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let term = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let term = std::future::pending::<()>();
    tokio::select! { _ = ctrl_c => {}, _ = term => {} }
}

pub fn run(args: ServeArgs) -> anyhow::Result<ExitCode> {
    init_logging();
    let config = args.to_config()?;
    let stop_timeout = std::time::Duration::from_millis(config.storage.stop_timeout_ms.max(1));
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    let code = runtime.block_on(async move {
        if config.auth.tokens.is_empty() && !config.auth.open {
            tracing::warn!("no write tokens configured and not --open: the server is read-only");
        }
        let store = server::open_store(&config)?;
        let running = server::start(config, store).await?;
        println!(
            "qingshui is running: SensorThings API at http://{}/v1.1",
            running.http_addr
        );
        if let Some(addr) = running.hj212_addr {
            println!("HJ 212 listener at {addr}");
        }
        if let Some(addr) = running.source_addrs.get("mqtt") {
            println!("MQTT listener at {addr}");
        }
        if let Some(addr) = running.source_addrs.get("gb28181") {
            println!("GB/T 28181 listener at {addr} (UDP and TCP)");
        }
        let stop = running.shutdown_handle();
        let store = running.store.clone();
        tokio::spawn(async move {
            shutdown_signal().await;
            tracing::info!("shutting down: interrupting reads, finishing writes");
            // A slow query must not hold the stop up: interrupt reads now (they answer 503),
            // let in-flight writes finish and the writer flush.
            store.interrupt_reads();
            let _ = stop.send(true);
            // The bound: whatever still runs after stop_timeout_ms, the process exits. Every
            // acknowledged write is committed already (ack after commit), so nothing is lost.
            std::thread::spawn(move || {
                std::thread::sleep(stop_timeout);
                tracing::error!(
                    timeout_ms = stop_timeout.as_millis() as u64,
                    "still running after stop_timeout_ms; exiting"
                );
                std::process::exit(1);
            });
        });
        running.wait().await?;
        anyhow::Ok(ExitCode::SUCCESS)
    })?;
    // Blocking threads still busy must not keep the process alive (they were interrupted).
    runtime.shutdown_timeout(std::time::Duration::from_secs(1));
    Ok(code)
}
