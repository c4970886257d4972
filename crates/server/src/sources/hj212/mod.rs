//! The HJ 212 TCP listener: one task per connection, one decoder per connection, frames routed
//! by the MN they carry (one connection may carry several stations, reference §12).
//!
//! Per data frame: authenticate (MN known, PW matches), turn the CP into observations
//! ([`values`]), store them with one `InsertObservations` write, and only when that
//! write returned (the batch is durable) send the answer — and only if the frame asks for one.
//! A frame that fails (CRC, framing, malformed segment, bad DataTime, store error) is not
//! answered, so the station resends it; it is logged with its MN when readable and counted by
//! reason. Such failures never close the connection; an authentication failure does when
//! `close_on_auth_failure` is set.
//!
//! Defences (docs/hj212.md, "Hardening"): connection caps at accept, idle / partial-frame /
//! first-frame timeouts, rate-limited rejection logs, the password guard of
//! [`guard`], and refusal of frames dated beyond now + `clock_tolerance_s` (the
//! station then gets a 1012 set-time request).

pub mod board;
mod defence;
pub mod guard;
pub mod lockout_alerts;
pub mod log_limit;
mod metrics;
mod sessions;
mod source;
pub mod values;

pub use source::Hj212Source;

use super::ingest::{Ingest, IngestError, TimeRefusal};
use crate::network::{RegisteredStation, StationRegistry};
use board::{RejectReason, StationBoard};
use guard::{AuthGuard, AuthSettings, ConnectionCaps, ConnectionSlot};
use hj212::{DataSegment, FrameError, Hj212Decoder, Hj212Frame, Reassembly, SplitReassembler};
use log_limit::LogLimiter;
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use store::NewObservation;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;
use values::{ValuesError, check_times, data_kind, frame_values};

/// Listener settings (from `[hj212]` in the configuration).
#[derive(Debug, Clone)]
pub struct ListenerSettings {
    /// Close the connection after an unknown MN or a wrong PW.
    pub close_on_auth_failure: bool,
    /// Close a connection that sent nothing for this long (reference §12: 3 × the upload
    /// interval, at least 15 min).
    pub idle_timeout: Duration,
    /// Connections open at once, in total and from one IP address.
    pub max_connections: usize,
    pub max_connections_per_ip: usize,
    /// Addresses exempt from `max_connections_per_ip` (still counted in `max_connections`).
    pub per_ip_exempt: Vec<std::net::IpAddr>,
    /// Close a connection holding an incomplete frame for this long.
    pub partial_frame_timeout: Duration,
    /// Close a connection without a valid, authenticated frame this long after it opened.
    pub first_frame_timeout: Duration,
    /// Rejection log lines per connection per interval (the rest summed up in one line).
    pub reject_log_lines: u32,
    pub reject_log_interval: Duration,
    /// Password backoff and lockout.
    pub auth: AuthSettings,
    /// Where possible password guessing goes to become an alert ([`super::hj212_alerts`]);
    /// `None`: no alerts.
    pub lockouts: Option<lockout_alerts::NoticeSender>,
}

/// A station with a clock in the future resends its frame; one 1012 per connection per this
/// long is enough to correct it.
const SET_TIME_EVERY: Duration = Duration::from_secs(60);

/// Everything a connection task needs, shared by all of them.
struct Shared {
    registry: Arc<StationRegistry>,
    ingest: Ingest,
    board: Arc<StationBoard>,
    settings: ListenerSettings,
    started: Instant,
    caps: Arc<ConnectionCaps>,
    guard: Mutex<AuthGuard>,
    /// Refused connections are logged through one limiter for the whole listener.
    refusals: Mutex<LogLimiter>,
}

/// Binds `addr` and serves until `shutdown` turns true; then stops accepting, lets every
/// connection finish the frame it is handling (its write and answer), and returns.
pub async fn start_listener(
    addr: SocketAddr,
    registry: Arc<StationRegistry>,
    ingest: Ingest,
    board: Arc<StationBoard>,
    settings: ListenerSettings,
    shutdown: watch::Receiver<bool>,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let shared = Arc::new(Shared {
        registry,
        ingest,
        board,
        caps: ConnectionCaps::new(
            settings.max_connections,
            settings.max_connections_per_ip,
            settings.per_ip_exempt.clone(),
        ),
        guard: Mutex::new(AuthGuard::new(settings.auth.clone())),
        refusals: Mutex::new(LogLimiter::new(
            settings.reject_log_lines,
            settings.reject_log_interval,
        )),
        settings,
        started: Instant::now(),
    });
    let task = tokio::spawn(accept_loop(listener, shared, shutdown));
    Ok((local, task))
}

async fn accept_loop(listener: TcpListener, shared: Arc<Shared>, shutdown: watch::Receiver<bool>) {
    let mut connections = JoinSet::new();
    let mut stop = shutdown.clone();
    loop {
        tokio::select! {
            _ = stopped(&mut stop) => break,
            accepted = listener.accept() => match accepted {
                Ok((socket, peer)) => {
                    let slot = match shared.caps.admit(peer.ip()) {
                        Ok(slot) => slot,
                        Err(refusal) => {
                            // Dropping the socket closes it at once: a flood holds no descriptor.
                            drop(socket);
                            refused(&shared, peer, refusal);
                            continue;
                        }
                    };
                    let _ = socket.set_nodelay(true);
                    shared.board.connections_total.fetch_add(1, Ordering::Relaxed);
                    shared.board.connections_open.fetch_add(1, Ordering::Relaxed);
                    let shared = shared.clone();
                    let shutdown = shutdown.clone();
                    connections.spawn(async move {
                        Connection::new(peer, &shared).run(socket, shutdown).await;
                        drop::<ConnectionSlot>(slot);
                        shared.board.connections_open.fetch_sub(1, Ordering::Relaxed);
                    });
                }
                Err(e) => {
                    // Typically EMFILE: back off instead of spinning; accepted sockets keep working.
                    tracing::warn!(error = %e, "HJ 212 accept failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                }
            },
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    while connections.join_next().await.is_some() {}
    tracing::info!("HJ 212 listener stopped");
}

/// Counts and logs (rate-limited) a connection refused at accept.
fn refused(shared: &Shared, peer: SocketAddr, refusal: guard::Refusal) {
    let counter = match refusal {
        guard::Refusal::Total => &shared.board.refused_total,
        guard::Refusal::PerIp => &shared.board.refused_per_ip,
    };
    counter.fetch_add(1, Ordering::Relaxed);
    let Ok(mut limiter) = shared.refusals.lock() else {
        return;
    };
    let (log, summary) = limiter.event(refusal.as_str(), Instant::now());
    if let Some(s) = summary {
        tracing::warn!(
            "{} more HJ 212 connections refused in the last {} s by cap: {s}",
            s.total,
            s.interval.as_secs()
        );
    }
    if log {
        tracing::warn!(%peer, cap = refusal.as_str(), "HJ 212 connection refused: over the cap");
    }
}

/// Resolves once shutdown is signalled (or its sender is gone).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// What to do with the connection after a frame.
enum Flow {
    Continue,
    Close,
}

/// Which timeout closes a connection that stays quiet.
#[derive(Clone, Copy)]
enum Quiet {
    Idle,
    PartialFrame,
    FirstFrame,
}

struct Connection<'a> {
    peer: SocketAddr,
    shared: &'a Shared,
    decoder: Hj212Decoder,
    reassembler: SplitReassembler,
    /// Stations seen on this connection (for the `connected` status).
    stations: HashSet<usize>,
    opened: Instant,
    /// A frame passed authentication (the first-frame timeout no longer applies).
    authenticated: bool,
    limiter: LogLimiter,
    last_set_time: Option<Instant>,
    /// Each station's session on this connection, for the audit trail.
    sessions: sessions::DeviceSessions,
}

impl<'a> Connection<'a> {
    fn new(peer: SocketAddr, shared: &'a Shared) -> Connection<'a> {
        Connection {
            peer,
            shared,
            decoder: Hj212Decoder::new(shared.registry.decoder_options()),
            reassembler: SplitReassembler::default(),
            stations: HashSet::new(),
            opened: Instant::now(),
            authenticated: false,
            limiter: LogLimiter::new(
                shared.settings.reject_log_lines,
                shared.settings.reject_log_interval,
            ),
            last_set_time: None,
            sessions: sessions::DeviceSessions::default(),
        }
    }

    async fn run(mut self, mut socket: TcpStream, mut shutdown: watch::Receiver<bool>) {
        tracing::debug!(peer = %self.peer, "HJ 212 connection opened");
        let mut buf = vec![0u8; 16 * 1024];
        // Since when the decoder holds bytes of a frame that has not completed.
        let mut partial_since: Option<Instant> = None;
        'connection: loop {
            let (deadline, why) = self.deadline(partial_since);
            let deadline = tokio::time::Instant::from_std(deadline);
            let read = tokio::select! {
                _ = stopped(&mut shutdown) => break,
                read = tokio::time::timeout_at(deadline, socket.read(&mut buf)) => read,
            };
            let n = match read {
                Err(_) => {
                    self.quiet(why);
                    break;
                }
                Ok(Ok(0)) => break,
                Ok(Ok(n)) => n,
                Ok(Err(e)) => {
                    tracing::debug!(peer = %self.peer, error = %e, "HJ 212 read failed");
                    break;
                }
            };
            self.decoder.push(&buf[..n]);
            let mut judged = false;
            while let Some(item) = self.decoder.next_item() {
                judged = true;
                let flow = match item {
                    Ok(frame) => self.frame(frame, &mut socket).await,
                    Err(error) => self.dropped(&error),
                };
                if let Flow::Close = flow {
                    break 'connection;
                }
            }
            // A judged frame is progress; bytes that complete nothing are not.
            partial_since = match (self.decoder.buffered(), partial_since) {
                (0, _) => None,
                (_, None) => Some(Instant::now()),
                (_, Some(_)) if judged => Some(Instant::now()),
                (_, since) => since,
            };
        }
        if let Some(s) = self.limiter.flush(Instant::now()) {
            self.summary(&s);
        }
        for &index in &self.stations {
            self.shared.board.connection(index, false);
        }
        std::mem::take(&mut self.sessions).closed(&self.shared.ingest, self.peer);
        let _ = socket.shutdown().await;
        tracing::debug!(peer = %self.peer, "HJ 212 connection closed");
    }

    /// A candidate frame the decoder dropped (bad CRC, framing, malformed segment): no answer.
    fn dropped(&mut self, error: &FrameError) -> Flow {
        let reason = RejectReason::of(&error.error);
        let station = error
            .mn
            .as_deref()
            .and_then(|mn| self.shared.registry.by_mn(mn));
        if self.may_log(reason) {
            tracing::warn!(
                peer = %self.peer,
                mn = error.mn.as_deref().unwrap_or("?"),
                reason = reason.as_str(),
                error = %error.error,
                "HJ 212 frame dropped, not answered"
            );
        }
        if let Some(s) = station {
            self.sessions.refused(s.index);
        }
        self.shared.board.reject(station.map(|s| s.index), reason);
        Flow::Continue
    }

    async fn frame(&mut self, frame: Hj212Frame, socket: &mut TcpStream) -> Flow {
        // Only `concat_split_cp` stations defer CP; every other frame is a complete record.
        let segment = if frame.cp_deferred {
            let now_ms =
                u64::try_from(self.shared.started.elapsed().as_millis()).unwrap_or(u64::MAX);
            for lost in self.reassembler.expire(now_ms) {
                tracing::warn!(peer = %self.peer, mn = %lost.mn, cn = %lost.cn, pnum = lost.pnum, received = ?lost.received, "incomplete split upload dropped");
            }
            match self.reassembler.offer(&frame, now_ms) {
                Ok(Reassembly::Complete(segment)) => segment,
                Ok(Reassembly::Pending) => return Flow::Continue,
                Err(error) => {
                    let mn = frame.segment.mn.clone();
                    return self.dropped(&FrameError {
                        error,
                        mn: Some(mn),
                        raw: frame.raw,
                    });
                }
            }
        } else {
            frame.segment
        };
        self.segment(segment, socket).await
    }

    async fn segment(&mut self, segment: DataSegment, socket: &mut TcpStream) -> Flow {
        let shared = self.shared;
        let Some(station) = self.authenticate(&segment) else {
            return self.auth_failed();
        };
        self.authenticated = true;
        if self.stations.insert(station.index) {
            shared.board.connection(station.index, true);
        }
        self.sessions
            .authenticated(&shared.ingest, self.peer, station.index, &station.code);
        let values = match data_kind(segment.cn) {
            Some(kind) => match self.store_values(&segment, kind, station).await {
                Ok(values) => values,
                Err(reason) => {
                    self.sessions.refused(station.index);
                    shared.board.reject(Some(station.index), reason);
                    if reason == RejectReason::FutureTime {
                        return self.set_time(&segment, station, socket).await;
                    }
                    return Flow::Continue; // not answered: the station resends
                }
            },
            // Heartbeats, notifications, status and log uploads: authenticated, nothing stored.
            None => 0,
        };
        shared
            .board
            .frame(station.index, values, store::clock::now_micros());
        let Some(answer) = hj212::answer_frame(&segment, &station.options) else {
            self.sessions.accepted(station.index, values);
            return Flow::Continue;
        };
        if let Err(e) = socket.write_all(&answer).await {
            tracing::debug!(peer = %self.peer, error = %e, "cannot send the HJ 212 answer");
            return Flow::Close;
        }
        self.sessions.accepted(station.index, values);
        shared.board.answers_total.fetch_add(1, Ordering::Relaxed);
        Flow::Continue
    }

    fn auth_failed(&self) -> Flow {
        if self.shared.settings.close_on_auth_failure {
            Flow::Close
        } else {
            Flow::Continue
        }
    }

    /// Stores the frame's values; returns how many, once they are durable.
    async fn store_values(
        &mut self,
        segment: &DataSegment,
        kind: network::DataKind,
        station: &RegisteredStation,
    ) -> Result<u64, RejectReason> {
        let shared = self.shared;
        let values = match frame_values(segment, kind, station) {
            Ok(values) => values,
            Err(ValuesError::BadDataTime(why)) => {
                if self.may_log(RejectReason::BadDataTime) {
                    tracing::warn!(peer = %self.peer, mn = %segment.mn, cn = %segment.cn, qn = segment.qn.as_deref().unwrap_or("-"), "HJ 212 data frame without a usable DataTime ({why}); not answered");
                }
                return Err(RejectReason::BadDataTime);
            }
        };
        // Checked before anything is created or stored: the store refuses such rows too, but
        // here the refusal is early, counted by its own reason, and the station is told.
        let tolerance = shared.ingest.clock_tolerance_s();
        if let Err(refusal) = check_times(&values, store::clock::now_micros(), tolerance) {
            let (reason, micros) = match refusal {
                TimeRefusal::Future { micros } => (RejectReason::FutureTime, micros),
                TimeRefusal::TooEarly { micros } => (RejectReason::BadDataTime, micros),
            };
            if self.may_log(reason) {
                tracing::warn!(peer = %self.peer, mn = %segment.mn, cn = %segment.cn, time = %sta::time::format_instant(micros), tolerance_s = tolerance, "HJ 212 data frame dated beyond now + clock_tolerance_s or outside 1900–2200; not stored, not answered");
            }
            return Err(reason);
        }
        for skipped in &values.skipped {
            tracing::debug!(mn = %segment.mn, cn = %segment.cn, "HJ 212 value skipped: {skipped}");
        }
        let mut rows = Vec::with_capacity(values.values.len());
        for v in values.values {
            let id = match shared.registry.datastream(&station.code, &v.parameter, v.kind) {
                Some(id) => Some(id),
                None => shared
                    .registry
                    .datastream_or_create(shared.ingest.store(), &station.code, &v.parameter, v.kind)
                    .await
                    .map_err(|e| {
                        tracing::warn!(station = %station.code, parameter = %v.parameter, kind = v.kind.as_str(), error = %format!("{e:#}"), "cannot create the datastream; frame not answered");
                        RejectReason::StoreFailed
                    })?,
            };
            let Some(datastream_id) = id else {
                shared.board.values_unmapped.fetch_add(1, Ordering::Relaxed);
                continue;
            };
            rows.push(NewObservation {
                datastream_id,
                phenomenon_time: v.phenomenon_time,
                phenomenon_time_end: v.phenomenon_time_end,
                result: v.result,
                result_time: v.result_time,
                result_quality: Some(v.result_quality),
                parameters: Some(v.parameters),
                feature_id: None,
            });
        }
        shared
            .board
            .values_unmapped
            .fetch_add(values.skipped.len() as u64, Ordering::Relaxed);
        match shared.ingest.observations(rows).await {
            Ok(count) => Ok(count),
            Err(IngestError::Rejected { failed, first }) => {
                tracing::warn!(mn = %segment.mn, qn = segment.qn.as_deref().unwrap_or("-"), failed, "store rejected HJ 212 values ({first}); frame not answered");
                Err(RejectReason::StoreFailed)
            }
            Err(e) => {
                tracing::warn!(mn = %segment.mn, qn = segment.qn.as_deref().unwrap_or("-"), error = %e, "HJ 212 write failed; frame not answered");
                Err(RejectReason::StoreFailed)
            }
        }
    }
}
