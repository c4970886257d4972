//! MQTT as a [`Source`]: the SensorThings MQTT extension (OGC 18-088 §14; docs/mqtt.md).
//! Devices and STA clients PUBLISH observations to `v1.1/…/Observations` (stored through the
//! same store write as an HTTP POST, acknowledged after the group commit) and SUBSCRIBE to STA
//! topics, fed from the commit stream ([`fanout`]). Credentials are the HTTP ones ([`auth`]).
//!
//! Why not an embedded rumqttd (docs/mqtt.md, "Why our own session layer"): its router queues
//! the PUBACK before the publish even reaches its commit log and has no hook to hold it, and
//! its auth handler answers only yes/no at CONNECT, with no per-topic rights. The packet codec
//! is rumqttc's (`mqttbytes::v4`), from the same project.

pub mod auth;
pub mod devices;
pub mod fanout;
pub mod mapping;
pub mod metrics;
mod session;
pub mod topic;
mod transport;
pub mod wire;

use crate::accounts::Accounts;
use crate::config::Config;
use crate::sources::status::{DeviceStatus, SourceStatus};
use crate::sources::{RunningSource, Source, SourceContext, StartFuture};
use anyhow::Context;
use fanout::Fanout;
use metrics::MqttStats;
use std::collections::{BTreeMap, HashMap};
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use store::Store;
use tokio::sync::oneshot;

/// `[mqtt]`, as the session needs it.
#[derive(Debug, Clone)]
pub struct Settings {
    pub retain_latest: bool,
    pub queue: usize,
    pub max_inflight: usize,
    pub max_packet_bytes: usize,
    pub max_connections: usize,
    pub connect_timeout: Duration,
    pub write_timeout: Duration,
}

/// What every session shares.
pub struct Shared {
    pub settings: Settings,
    pub config: Arc<Config>,
    pub accounts: Arc<Accounts>,
    pub store: Arc<dyn Store>,
    /// The write path of device mappings (the shared ingest rules).
    pub ingest: crate::sources::ingest::Ingest,
    pub devices: devices::Devices,
    pub stats: Arc<MqttStats>,
    pub fanout: Arc<Fanout>,
    next_id: AtomicU64,
    /// The live session of each client id: a newer connection with the same id ends the older
    /// one (MQTT 3.1.1 §3.1.4), so a client reconnecting after a silent network drop is not
    /// refused or doubled.
    clients: Mutex<HashMap<String, (u64, oneshot::Sender<()>)>>,
}

impl Shared {
    fn next_session_id(&self) -> u64 {
        self.next_id.fetch_add(1, Ordering::Relaxed)
    }

    fn claim_client_id(&self, client: &str, session: u64, taken: oneshot::Sender<()>) {
        let mut m = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if let Some((_, older)) = m.insert(client.to_string(), (session, taken)) {
            let _ = older.send(());
        }
    }

    fn release_client_id(&self, client: &str, session: u64) {
        let mut m = self.clients.lock().unwrap_or_else(|p| p.into_inner());
        if m.get(client).is_some_and(|(s, _)| *s == session) {
            m.remove(client);
        }
    }
}

/// The MQTT source, configured.
pub struct MqttSource {
    addr: SocketAddr,
    websocket: Option<SocketAddr>,
    config: Arc<Config>,
    accounts: Arc<Accounts>,
    /// `http://host/v1.1`: links in messages.
    service_root: String,
    devices: Vec<network::MqttDevice>,
    directory: Option<Arc<crate::directory::DatastreamDirectory>>,
}

impl MqttSource {
    /// `None` without `[mqtt] listen`. `network` brings the device mappings and `directory`
    /// their datastreams.
    pub fn from_config(
        config: &Config,
        accounts: Arc<Accounts>,
        service_root: String,
        network: Option<&network::Network>,
        directory: Option<Arc<crate::directory::DatastreamDirectory>>,
    ) -> Option<MqttSource> {
        Some(MqttSource {
            addr: config.mqtt.listen?,
            websocket: config.mqtt.websocket,
            config: Arc::new(config.clone()),
            accounts,
            service_root,
            devices: network.map(|n| n.mqtt_devices.clone()).unwrap_or_default(),
            directory,
        })
    }
}

/// The source's status: no devices of the network, its counters as `/metrics` lines.
struct MqttStatus {
    stats: Arc<MqttStats>,
    fanout: Arc<Fanout>,
}

impl SourceStatus for MqttStatus {
    fn source(&self) -> &'static str {
        "mqtt"
    }

    fn devices(&self, _now_micros: i64) -> Vec<DeviceStatus> {
        Vec::new()
    }

    fn unattributed_rejects(&self) -> BTreeMap<&'static str, u64> {
        self.stats.refusals()
    }

    fn render_metrics(&self, out: &mut String, _now_micros: i64) {
        self.stats.render(out, self.fanout.topic_count());
    }
}

impl Source for MqttSource {
    fn name(&self) -> &'static str {
        "mqtt"
    }

    fn start(self: Box<Self>, context: SourceContext) -> StartFuture {
        Box::pin(async move {
            let m = &self.config.mqtt;
            let settings = Settings {
                retain_latest: m.retain_latest,
                queue: m.queue,
                max_inflight: m.max_inflight,
                max_packet_bytes: m.max_packet_bytes,
                max_connections: m.max_connections,
                connect_timeout: Duration::from_secs(m.connect_timeout_s.max(1)),
                write_timeout: Duration::from_secs(m.write_timeout_s.max(1)),
            };
            let listener = tokio::net::TcpListener::bind(self.addr)
                .await
                .with_context(|| format!("cannot listen for MQTT on {}", self.addr))?;
            let bound = listener.local_addr()?;
            let store = context.ingest.store().clone();
            let stats = Arc::new(MqttStats::default());
            let fanout = Fanout::start(
                store.clone(),
                self.service_root.clone(),
                self.config.http.max_response_bytes,
                self.config.sta.query_limits(),
                stats.clone(),
                context.shutdown.clone(),
            );
            let shared = Arc::new(Shared {
                settings,
                config: self.config.clone(),
                accounts: self.accounts.clone(),
                store,
                ingest: context.ingest.clone(),
                devices: devices::Devices::new(self.devices, self.directory),
                stats: stats.clone(),
                fanout: fanout.clone(),
                next_id: AtomicU64::new(1),
                clients: Mutex::new(HashMap::new()),
            });
            let ws = match self.websocket {
                Some(addr) => {
                    let l = tokio::net::TcpListener::bind(addr).await.with_context(|| {
                        format!("cannot listen for MQTT over WebSocket on {addr}")
                    })?;
                    tracing::info!(bound = %l.local_addr()?, "MQTT over WebSocket ready");
                    Some(l)
                }
                None => None,
            };
            let task = tokio::spawn(accept_loop(listener, ws, shared, context.shutdown));
            tracing::info!(%bound, "MQTT listener ready (SensorThings MQTT extension)");
            Ok(RunningSource {
                addr: Some(bound),
                status: Arc::new(MqttStatus { stats, fanout }),
                task: Some(task),
            })
        })
    }
}

async fn accept_loop(
    listener: tokio::net::TcpListener,
    websocket: Option<tokio::net::TcpListener>,
    shared: Arc<Shared>,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) {
    let mut sessions = tokio::task::JoinSet::new();
    loop {
        let accepted = tokio::select! {
            a = listener.accept() => a.map(|(s, p)| (s, p, false)),
            a = async {
                match &websocket {
                    Some(l) => l.accept().await,
                    None => std::future::pending().await,
                }
            } => a.map(|(s, p)| (s, p, true)),
            _ = shutdown.changed() => {
                if *shutdown.borrow() {
                    break;
                }
                continue;
            }
        };
        let (stream, peer, ws) = match accepted {
            Ok(a) => a,
            Err(e) => {
                tracing::warn!(error = %e, "MQTT accept failed");
                tokio::time::sleep(Duration::from_millis(50)).await;
                continue;
            }
        };
        // Finished sessions are reaped here, so the set holds only live ones.
        while sessions.try_join_next().is_some() {}
        if sessions.len() >= shared.settings.max_connections {
            shared
                .stats
                .connections_refused
                .fetch_add(1, Ordering::Relaxed);
            tracing::warn!(%peer, "MQTT connection cap reached; closed at accept");
            drop(stream);
            continue;
        }
        let (shared, shutdown) = (shared.clone(), shutdown.clone());
        sessions.spawn(async move {
            let halves = if ws {
                // The handshake is bounded like CONNECT.
                match tokio::time::timeout(
                    shared.settings.connect_timeout,
                    transport::websocket(stream),
                )
                .await
                {
                    Ok(Ok(h)) => h,
                    Ok(Err(e)) => {
                        tracing::info!(%peer, error = %e, "MQTT WebSocket handshake failed");
                        return;
                    }
                    Err(_) => return,
                }
            } else {
                transport::tcp(stream)
            };
            session::serve(halves, peer, shared, shutdown).await;
        });
    }
    // Each session finishes the writes it holds and acknowledges them, then returns.
    while sessions.join_next().await.is_some() {}
}
