//! GB/T 28181 as a [`Source`]: the platform (SIP registrar) the 52 video points register with,
//! UDP and TCP on one port (docs/video.md).
//!
//! One UDP task and one task per TCP connection parse SIP with the pure `gb28181` crate and
//! hand each message to the shared [`platform::Platform`] (one short lock per message); a sweep
//! task turns keepalive silence into offline transitions. Cameras' alarms and online changes
//! become alerts through a channel drained by [`forward`] once the alert engine runs (it starts
//! after the sources). Malformed SIP is dropped (unanswerable) or answered 400, logged with its
//! source (rate-limited) and counted; it never touches other cameras' state.

mod board;
mod cancel;
pub mod live;
pub mod media;
pub mod platform;
pub mod play;
mod queries;
mod register;
pub mod snapshots;
pub mod verdicts;

use crate::alerts::AlertsHandle;
use crate::config::Gb28181Config;
use crate::sources::hj212::log_limit::LogLimiter;
use crate::sources::{RunningSource, Source, SourceContext, StartFuture};
use alerts::rules::Verdict;
use anyhow::Context;
use board::VideoBoard;
use gb28181::sip::{self, Framed, Limits, SipError};
use platform::{Camera, Out, Peer, Platform, Settings};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream, UdpSocket};
use tokio::sync::{mpsc, watch};

/// Where the listener hands alert verdicts (never waits: a full channel drops the verdict,
/// the state is still on the board).
pub type VerdictSender = mpsc::Sender<Verdict>;

pub fn channel() -> (VerdictSender, mpsc::Receiver<Verdict>) {
    mpsc::channel(1024)
}

/// Passes verdicts to the alert engine until the listener is gone or the server stops.
pub async fn forward(
    mut verdicts: mpsc::Receiver<Verdict>,
    engine: Arc<AlertsHandle>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let v = tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => return,
            v = verdicts.recv() => v,
        };
        let Some(v) = v else { return };
        if let Err(e) = engine.external(v).await {
            tracing::debug!(error = %e, "no alert for the GB/T 28181 event");
        }
    }
}

/// The GB/T 28181 source, configured.
pub struct Gb28181Source {
    config: Gb28181Config,
    cameras: Vec<Camera>,
    utc_offset_s: i32,
    verdicts: Option<VerdictSender>,
    snapshots: Option<Arc<snapshots::SnapshotStore>>,
    live: Option<Arc<live::LiveView>>,
}

impl Gb28181Source {
    /// The cameras are the network's video points that have a `device_id`.
    pub fn from_config(
        config: &Gb28181Config,
        network: &network::Network,
        verdicts: Option<VerdictSender>,
        snapshots: Option<Arc<snapshots::SnapshotStore>>,
        live: Option<Arc<live::LiveView>>,
    ) -> Gb28181Source {
        let cameras = network
            .video_points
            .iter()
            .filter_map(|v| {
                let gb = v.gb28181.as_ref()?;
                let zone = network.zone(&v.zone);
                Some(Camera {
                    video_id: v.id.clone(),
                    name_zh: v.name_zh.clone(),
                    name_en: v.name_en.clone(),
                    zone: v.zone.clone(),
                    zone_kind: zone
                        .map(|z| z.kind.as_str().to_string())
                        .unwrap_or_default(),
                    zone_name_zh: zone.map(|z| z.name_zh.clone()).unwrap_or_default(),
                    zone_name_en: zone.map(|z| z.name_en.clone()).unwrap_or_default(),
                    device_id: gb.device_id.clone(),
                    channel_id: gb.channel_id.clone(),
                })
            })
            .collect();
        Gb28181Source {
            config: config.clone(),
            cameras,
            utc_offset_s: crate::network::parse_utc_offset(&network.utc_offset).unwrap_or(0),
            verdicts,
            snapshots,
            live,
        }
    }
}

impl Source for Gb28181Source {
    fn name(&self) -> &'static str {
        "gb28181"
    }

    fn start(self: Box<Self>, context: SourceContext) -> StartFuture {
        Box::pin(async move {
            let c = &self.config;
            let settings = Settings {
                platform_id: c.platform_id.clone(),
                domain: c.domain.clone(),
                password: c.password.clone(),
                device_passwords: c.device_passwords.clone(),
                liveness: gb28181::Liveness {
                    interval_s: c.keepalive_interval_s.max(1),
                    count: c.keepalive_count.max(1),
                },
                min_expires_s: c.min_expires_s,
                max_expires_s: c.max_expires_s.max(c.min_expires_s),
                nonce_ttl_s: i64::try_from(c.nonce_ttl_s).unwrap_or(i64::MAX),
                arm_on_register: c.arm_on_register,
                utc_offset_s: self.utc_offset_s,
                snapshot_base: c.snapshot_upload_base.clone(),
                query_retry_s: c.query_retry_s,
                query_retries: c.query_retries,
            };
            let Some(addr) = c.addr else {
                // Not listening: the cameras are reported, never online.
                let platform = Platform::new(
                    settings,
                    ([0, 0, 0, 0], 0).into(),
                    self.cameras,
                    chrono::Utc::now(),
                );
                let board = Arc::new(VideoBoard::new(Arc::new(Mutex::new(platform)), false));
                return Ok(RunningSource {
                    addr: None,
                    status: board,
                    task: None,
                });
            };
            let udp = UdpSocket::bind(addr)
                .await
                .with_context(|| format!("cannot listen for GB/T 28181 (UDP) on {addr}"))?;
            let bound = udp.local_addr()?;
            // TCP on the same port as UDP (the port 0 of tests resolved by the UDP bind).
            let tcp = TcpListener::bind(bound)
                .await
                .with_context(|| format!("cannot listen for GB/T 28181 (TCP) on {bound}"))?;
            let cameras = self.cameras.len();
            let mut platform = Platform::new(settings, bound, self.cameras, chrono::Utc::now());
            platform.snapshots = self.snapshots.clone();
            let platform = Arc::new(Mutex::new(platform));
            let board = Arc::new(VideoBoard::new(platform.clone(), true));
            let shared = Arc::new(Shared {
                platform,
                invites: Mutex::new(HashMap::new()),
                media: self.live.as_ref().and_then(|l| l.media()),
                starting: self.live.as_ref().map(|l| l.starting_set()),
                udp: Arc::new(udp),
                tcp_writers: Mutex::new(HashMap::new()),
                verdicts: self.verdicts,
                limits: Limits {
                    max_message: c.max_message_bytes,
                    ..Limits::default()
                },
                log: Mutex::new(LogLimiter::new(
                    c.reject_log_lines,
                    Duration::from_secs(c.reject_log_interval_s.max(1)),
                )),
                connections: AtomicUsize::new(0),
                next_conn: AtomicU64::new(1),
                max_connections: c.max_tcp_connections,
                idle: Duration::from_secs(c.tcp_idle_timeout_s.max(1)),
            });
            if let Some(l) = &self.live {
                l.attach(shared.clone());
            }
            let sweep = Duration::from_millis(c.sweep_interval_ms.max(10));
            let task = tokio::spawn(run(shared, tcp, sweep, context.shutdown));
            tracing::info!(%bound, cameras, "GB/T 28181 listener ready (UDP and TCP)");
            Ok(RunningSource {
                addr: Some(bound),
                status: board,
                task: Some(task),
            })
        })
    }
}

struct Shared {
    platform: Arc<Mutex<Platform>>,
    /// Play requests waiting for their camera's answer to INVITE, by Call-ID.
    invites:
        Mutex<HashMap<String, tokio::sync::oneshot::Sender<Result<gb28181::sdp::Sdp, String>>>>,
    /// The media server whose ports dialogs use (to close them when a camera hangs up).
    media: Option<Arc<media::MediaServer>>,
    /// Points whose play is being set up (live.rs), by video point id.
    starting: Option<Arc<Mutex<std::collections::HashSet<String>>>>,
    udp: Arc<UdpSocket>,
    /// Outgoing queues of TCP connections, by connection id.
    tcp_writers: Mutex<HashMap<u64, mpsc::Sender<Vec<u8>>>>,
    verdicts: Option<VerdictSender>,
    limits: Limits,
    log: Mutex<LogLimiter>,
    connections: AtomicUsize,
    next_conn: AtomicU64,
    max_connections: usize,
    idle: Duration,
}

impl Shared {
    fn lock(&self) -> std::sync::MutexGuard<'_, Platform> {
        // A panic while holding the lock leaves plain data behind; keep serving.
        self.platform.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn invite_waiters(
        &self,
    ) -> std::sync::MutexGuard<
        '_,
        HashMap<String, tokio::sync::oneshot::Sender<Result<gb28181::sdp::Sdp, String>>>,
    > {
        self.invites.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn log_reject(&self, peer: SocketAddr, reason: &'static str, detail: &str) {
        let mut log = self.log.lock().unwrap_or_else(|p| p.into_inner());
        let (show, suppressed) = log.event(reason, Instant::now());
        if let Some(s) = suppressed {
            tracing::warn!(total = s.total, by_reason = ?s.by_reason, "GB/T 28181: further rejects not logged in the last interval");
        }
        if show {
            // `detail` comes from our own error types: no password or body is in it.
            tracing::warn!(%peer, reason, detail, "GB/T 28181 message refused");
        }
    }

    async fn send(&self, outs: Vec<Out>) {
        for o in outs {
            match o.to {
                Peer::Udp(a) => {
                    if let Err(e) = self.udp.send_to(&o.bytes, a).await {
                        tracing::debug!(peer = %a, error = %e, "GB/T 28181 UDP send failed");
                    }
                }
                Peer::Tcp { conn, .. } => {
                    let tx = self
                        .tcp_writers
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .get(&conn)
                        .cloned();
                    if let Some(tx) = tx {
                        let _ = tx.try_send(o.bytes);
                    }
                }
            }
        }
    }

    fn raise(&self, verdicts: Vec<Verdict>) {
        if let Some(tx) = &self.verdicts {
            for v in verdicts {
                if tx.try_send(v).is_err() {
                    tracing::warn!("GB/T 28181 alert dropped: the alert queue is full");
                }
            }
        }
    }

    async fn on_message(&self, msg: &gb28181::Message, peer: Peer) {
        let handled = self.lock().handle(msg, peer, chrono::Utc::now());
        if let Some(r) = handled.rejected {
            self.log_reject(peer.addr(), r, msg.method().unwrap_or("response"));
        }
        self.raise(handled.verdicts);
        self.send(handled.out).await;
        for a in handled.answers {
            if let Some(tx) = self.invite_waiters().remove(&a.call_id) {
                let _ = tx.send(a.result);
            }
        }
        for d in handled.ended {
            tracing::info!(stream_id = %d.stream_id, "GB/T 28181 camera ended its live stream (BYE)");
            if let Some(m) = self.media.clone() {
                tokio::spawn(async move { live::close(&m, &d.stream_id).await });
            }
        }
        for l in handled.late {
            tracing::info!(point = %l.point, stream_id = %l.stream_id, "GB/T 28181 camera answered an abandoned INVITE: ACK and BYE sent");
            // Closed at the timeout already; again in case that failed, unless a new play of
            // the camera is opening the same stream id right now.
            let opening = self.starting.as_ref().is_some_and(|s| {
                s.lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .contains(&l.point)
            });
            if let (Some(m), false) = (self.media.clone(), opening) {
                tokio::spawn(async move { live::close(&m, &l.stream_id).await });
            }
        }
    }

    fn on_unparsable(&self, peer: SocketAddr, e: &SipError) {
        let reason = match e {
            SipError::Oversized { .. } => platform::reason::OVERSIZED,
            _ => platform::reason::MALFORMED_SIP,
        };
        self.lock().unparsable(reason);
        self.log_reject(peer, reason, &e.to_string());
    }
}

async fn run(
    shared: Arc<Shared>,
    tcp: TcpListener,
    sweep: Duration,
    mut shutdown: watch::Receiver<bool>,
) {
    let udp_task = tokio::spawn(udp_loop(shared.clone(), shutdown.clone()));
    let conn_shutdown = shutdown.clone();
    let mut tick = tokio::time::interval(sweep);
    loop {
        tokio::select! {
            _ = shutdown.wait_for(|s| *s) => break,
            _ = tick.tick() => {
                let swept = shared.lock().sweep(chrono::Utc::now());
                shared.raise(swept.verdicts);
                if !swept.out.is_empty() {
                    // Re-asked queries go out like any platform request: UDP through the
                    // listener's socket, TCP through the camera's connection. Not awaited
                    // here: the select holds the shutdown watch's guard.
                    let s = shared.clone();
                    tokio::spawn(async move { s.send(swept.out).await });
                }
            }
            accepted = tcp.accept() => {
                let Ok((stream, addr)) = accepted else { continue };
                if shared.connections.load(Ordering::Relaxed) >= shared.max_connections {
                    tracing::warn!(peer = %addr, "GB/T 28181 TCP connection refused: max_tcp_connections reached");
                    continue;
                }
                tokio::spawn(tcp_conn(shared.clone(), stream, addr, conn_shutdown.clone()));
            }
        }
    }
    let _ = udp_task.await;
}

async fn udp_loop(shared: Arc<Shared>, mut shutdown: watch::Receiver<bool>) {
    // One byte more than allowed tells an oversized datagram from one exactly at the limit.
    let mut buf = vec![0u8; shared.limits.max_message + 1];
    loop {
        let received = tokio::select! {
            _ = shutdown.wait_for(|s| *s) => return,
            r = shared.udp.recv_from(&mut buf) => r,
        };
        let Ok((n, peer)) = received else { continue };
        match sip::parse_datagram(&buf[..n], shared.limits) {
            Ok(msg) => shared.on_message(&msg, Peer::Udp(peer)).await,
            Err(e) => shared.on_unparsable(peer, &e),
        }
    }
}

async fn tcp_conn(
    shared: Arc<Shared>,
    stream: TcpStream,
    addr: SocketAddr,
    mut shutdown: watch::Receiver<bool>,
) {
    shared.connections.fetch_add(1, Ordering::Relaxed);
    let conn = shared.next_conn.fetch_add(1, Ordering::Relaxed);
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(64);
    shared
        .tcp_writers
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .insert(conn, tx);
    let (mut reader, mut writer) = stream.into_split();
    let writer_task = tokio::spawn(async move {
        while let Some(bytes) = rx.recv().await {
            if writer.write_all(&bytes).await.is_err() {
                return;
            }
        }
    });
    let peer = Peer::Tcp { conn, addr };
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = vec![0u8; 16 * 1024];
    'conn: loop {
        let read = tokio::select! {
            _ = shutdown.wait_for(|s| *s) => break,
            r = tokio::time::timeout(shared.idle, reader.read(&mut chunk)) => r,
        };
        let n = match read {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            Err(_) => {
                tracing::debug!(peer = %addr, "GB/T 28181 TCP connection idle: closed");
                break;
            }
            Ok(Ok(n)) => n,
        };
        buf.extend_from_slice(&chunk[..n]);
        loop {
            match sip::parse_stream(&buf, shared.limits) {
                Ok(Framed::Complete(msg, used)) => {
                    buf.drain(..used);
                    shared.on_message(&msg, peer).await;
                }
                Ok(Framed::Incomplete) => break,
                Err(e) => {
                    // The stream has lost its framing: nothing after this can be trusted.
                    shared.on_unparsable(addr, &e);
                    break 'conn;
                }
            }
        }
    }
    shared
        .tcp_writers
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .remove(&conn);
    // The queue is gone from the map: the writer sends what it holds, then ends.
    let _ = writer_task.await;
    shared.connections.fetch_sub(1, Ordering::Relaxed);
}
