//! Ingestion sources: protocol listeners that turn what devices send into observations.
//!
//! A [`Source`] (Vector's sources are the model) is configured from its own config section,
//! started with a [`SourceContext`] — the [`Ingest`] write path, which answers only after the
//! group commit, and the shutdown signal — and reports through the one status shape of
//! [`status`]. On shutdown it finishes the frame in hand (write and answer), then its task
//! returns. `server::start` starts every configured source through [`start_all`]; HJ 212 is the
//! first; GB/T 28181, imagery and MQTT come as siblings of [`hj212`].

pub mod gb28181;
pub mod hj212;
pub mod imagery;
pub mod ingest;
pub mod mqtt;
pub mod status;

use crate::config::Config;
use crate::network::StationRegistry;
use anyhow::Context;
use ingest::Ingest;
use status::{SourceBoard, SourceStatus};
use std::collections::BTreeMap;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// What a source is started with.
pub struct SourceContext {
    /// The write path; shared ingest rules apply there.
    pub ingest: Ingest,
    /// Turns true when the server stops: stop accepting, finish the frame in hand, return.
    pub shutdown: watch::Receiver<bool>,
}

/// A started source.
pub struct RunningSource {
    /// The address it listens on, when it listens.
    pub addr: Option<SocketAddr>,
    pub status: Arc<dyn SourceStatus>,
    /// Ends once the source stopped after shutdown; `None` when it runs no task.
    pub task: Option<JoinHandle<()>>,
}

/// The future [`Source::start`] returns (boxed: the trait is used as `dyn Source`).
pub type StartFuture = Pin<Box<dyn Future<Output = anyhow::Result<RunningSource>> + Send>>;

/// An ingestion source.
pub trait Source: Send {
    /// Stable name: its config section, its `source` in the status and metric labels.
    fn name(&self) -> &'static str;
    /// Binds what it listens on and starts serving; returns once it is ready.
    fn start(self: Box<Self>, context: SourceContext) -> StartFuture;
}

/// The sources the configuration asks for. HJ 212 is configured whenever the network names
/// stations: without `[hj212] addr` it listens nowhere but still reports its stations (offline).
pub fn configured(
    config: &Config,
    registry: Option<&Arc<StationRegistry>>,
    network: Option<&network::Network>,
    lockouts: hj212::lockout_alerts::NoticeSender,
    video_alerts: gb28181::VerdictSender,
    snapshots: Option<Arc<gb28181::snapshots::SnapshotStore>>,
    live: Option<Arc<gb28181::live::LiveView>>,
) -> anyhow::Result<Vec<Box<dyn Source>>> {
    let mut sources: Vec<Box<dyn Source>> = Vec::new();
    match (config.hj212.addr, registry) {
        (_, Some(registry)) => sources.push(Box::new(hj212::Hj212Source::from_config(
            &config.hj212,
            registry.clone(),
            Some(lockouts),
        ))),
        (Some(_), None) => anyhow::bail!(
            "[hj212] addr is set but no [network] file names the stations (use --network FILE)"
        ),
        (None, None) => {}
    }
    // GB/T 28181 only with `[gb28181] addr`: without a listener the video points' state is
    // unknown (`online: null`), not "offline".
    match (config.gb28181.addr, network) {
        (Some(_), Some(net)) if net.video_points.iter().any(|v| v.gb28181.is_some()) => {
            sources.push(Box::new(gb28181::Gb28181Source::from_config(
                &config.gb28181,
                net,
                Some(video_alerts),
                snapshots,
                live,
            )));
        }
        (Some(_), _) => anyhow::bail!(
            "[gb28181] addr is set but no [network] file names video points with a device_id"
        ),
        (None, _) => {}
    }
    Ok(sources)
}

/// Every started source: their status, addresses and tasks.
pub struct StartedSources {
    pub board: SourceBoard,
    pub addrs: BTreeMap<&'static str, SocketAddr>,
    /// To await after shutdown was signalled ([`stopped`]).
    pub tasks: Vec<(&'static str, JoinHandle<()>)>,
}

/// Starts `sources` in order, each with the same write path and shutdown signal.
pub async fn start_all(
    sources: Vec<Box<dyn Source>>,
    ingest: &Ingest,
    shutdown: &watch::Receiver<bool>,
) -> anyhow::Result<StartedSources> {
    let mut statuses = Vec::with_capacity(sources.len());
    let mut addrs = BTreeMap::new();
    let mut tasks = Vec::new();
    for source in sources {
        let name = source.name();
        let context = SourceContext {
            ingest: ingest.clone(),
            shutdown: shutdown.clone(),
        };
        let running = source
            .start(context)
            .await
            .with_context(|| format!("starting source {name}"))?;
        if let Some(addr) = running.addr {
            addrs.insert(name, addr);
        }
        if let Some(task) = running.task {
            tasks.push((name, task));
        }
        statuses.push(running.status);
    }
    Ok(StartedSources {
        board: SourceBoard::new(statuses),
        addrs,
        tasks,
    })
}

/// Waits until every source task returned (after the shutdown signal).
pub async fn stopped(tasks: Vec<(&'static str, JoinHandle<()>)>) {
    for (name, task) in tasks {
        if let Err(e) = task.await {
            tracing::warn!(source = name, error = %e, "source task failed");
        }
    }
}
