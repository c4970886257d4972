//! The HJ 212 TCP listener: one task per connection, one decoder per connection, frames routed
//! by the MN they carry (one connection may carry several stations, reference §12).
//!
//! Per data frame: authenticate (MN known, PW matches), turn the CP into observations
//! ([`super::hj212_values`]), store them with one `InsertObservations` write, and only when that
//! write returned (the batch is durable) send the answer — and only if the frame asks for one.
//! A frame that fails (CRC, framing, malformed segment, bad DataTime, store error) is not
//! answered, so the station resends it; it is logged with its MN when readable and counted by
//! reason. Such failures never close the connection; an authentication failure does when
//! `close_on_auth_failure` is set.

use super::hj212_values::{ValuesError, data_kind, frame_values};
use super::status::{RejectReason, StationBoard};
use crate::network::{RegisteredStation, StationRegistry};
use hj212::{DataSegment, FrameError, Hj212Decoder, Hj212Frame, Reassembly, SplitReassembler};
use std::collections::HashSet;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use store::{NewObservation, Store, WriteCommand, WriteOutcome};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::watch;
use tokio::task::JoinSet;

/// Listener settings (from `[hj212]` in the configuration).
#[derive(Debug, Clone)]
pub struct ListenerSettings {
    /// Close the connection after an unknown MN or a wrong PW.
    pub close_on_auth_failure: bool,
    /// Close a connection that sent nothing for this long (reference §12: 3 × the upload
    /// interval, at least 15 min).
    pub idle_timeout: Duration,
}

/// Everything a connection task needs, shared by all of them.
struct Shared {
    registry: Arc<StationRegistry>,
    store: Arc<dyn Store>,
    board: Arc<StationBoard>,
    settings: ListenerSettings,
    started: Instant,
}

/// Binds `addr` and serves until `shutdown` turns true; then stops accepting, lets every
/// connection finish the frame it is handling (its write and answer), and returns.
pub async fn start_listener(
    addr: SocketAddr,
    registry: Arc<StationRegistry>,
    store: Arc<dyn Store>,
    board: Arc<StationBoard>,
    settings: ListenerSettings,
    shutdown: watch::Receiver<bool>,
) -> std::io::Result<(SocketAddr, tokio::task::JoinHandle<()>)> {
    let listener = TcpListener::bind(addr).await?;
    let local = listener.local_addr()?;
    let shared = Arc::new(Shared {
        registry,
        store,
        board,
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
                    let _ = socket.set_nodelay(true);
                    shared.board.connections_total.fetch_add(1, Ordering::Relaxed);
                    shared.board.connections_open.fetch_add(1, Ordering::Relaxed);
                    let shared = shared.clone();
                    let shutdown = shutdown.clone();
                    connections.spawn(async move {
                        Connection::new(peer, &shared).run(socket, shutdown).await;
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

/// Resolves once shutdown is signalled (or its sender is gone).
async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|stop| *stop).await;
}

/// What to do with the connection after a frame.
enum Flow {
    Continue,
    Close,
}

struct Connection<'a> {
    peer: SocketAddr,
    shared: &'a Shared,
    decoder: Hj212Decoder,
    reassembler: SplitReassembler,
    /// Stations seen on this connection (for the `connected` status).
    stations: HashSet<usize>,
}

impl<'a> Connection<'a> {
    fn new(peer: SocketAddr, shared: &'a Shared) -> Connection<'a> {
        Connection {
            peer,
            shared,
            decoder: Hj212Decoder::new(shared.registry.decoder_options()),
            reassembler: SplitReassembler::default(),
            stations: HashSet::new(),
        }
    }

    async fn run(mut self, mut socket: TcpStream, mut shutdown: watch::Receiver<bool>) {
        tracing::debug!(peer = %self.peer, "HJ 212 connection opened");
        let mut buf = vec![0u8; 16 * 1024];
        'connection: loop {
            let read = tokio::select! {
                _ = stopped(&mut shutdown) => break,
                read = tokio::time::timeout(self.shared.settings.idle_timeout, socket.read(&mut buf)) => read,
            };
            let n = match read {
                Err(_) => {
                    tracing::info!(peer = %self.peer, "closing idle HJ 212 connection");
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
            while let Some(item) = self.decoder.next_item() {
                let flow = match item {
                    Ok(frame) => self.frame(frame, &mut socket).await,
                    Err(error) => self.dropped(&error),
                };
                if let Flow::Close = flow {
                    break 'connection;
                }
            }
        }
        for &index in &self.stations {
            self.shared.board.connection(index, false);
        }
        let _ = socket.shutdown().await;
        tracing::debug!(peer = %self.peer, "HJ 212 connection closed");
    }

    /// A candidate frame the decoder dropped (bad CRC, framing, malformed segment): no answer.
    fn dropped(&self, error: &FrameError) -> Flow {
        let reason = RejectReason::of(&error.error);
        let station = error
            .mn
            .as_deref()
            .and_then(|mn| self.shared.registry.by_mn(mn));
        tracing::warn!(
            peer = %self.peer,
            mn = error.mn.as_deref().unwrap_or("?"),
            reason = reason.as_str(),
            error = %error.error,
            "HJ 212 frame dropped, not answered"
        );
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
        let Some(station) = shared.registry.by_mn(&segment.mn) else {
            tracing::warn!(peer = %self.peer, mn = %segment.mn, cn = %segment.cn, "HJ 212 frame from an unknown MN; nothing stored");
            shared.board.reject(None, RejectReason::UnknownMn);
            return self.auth_failed();
        };
        if segment.pw != station.pw {
            tracing::warn!(peer = %self.peer, mn = %segment.mn, station = %station.code, "HJ 212 frame with a wrong PW; nothing stored");
            shared
                .board
                .reject(Some(station.index), RejectReason::WrongPassword);
            return self.auth_failed();
        }
        if self.stations.insert(station.index) {
            shared.board.connection(station.index, true);
        }
        let values = match data_kind(segment.cn) {
            Some(kind) => match self.store_values(&segment, kind, station).await {
                Ok(values) => values,
                Err(reason) => {
                    shared.board.reject(Some(station.index), reason);
                    return Flow::Continue; // not answered: the station resends
                }
            },
            // Heartbeats, notifications, status and log uploads: authenticated, nothing stored.
            None => 0,
        };
        shared
            .board
            .frame(station.index, values, sta::time::now_micros());
        let Some(answer) = hj212::answer_frame(&segment, &station.options) else {
            return Flow::Continue;
        };
        if let Err(e) = socket.write_all(&answer).await {
            tracing::debug!(peer = %self.peer, error = %e, "cannot send the HJ 212 answer");
            return Flow::Close;
        }
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
        &self,
        segment: &DataSegment,
        kind: network::DataKind,
        station: &RegisteredStation,
    ) -> Result<u64, RejectReason> {
        let shared = self.shared;
        let values = match frame_values(segment, kind, station) {
            Ok(values) => values,
            Err(ValuesError::BadDataTime(why)) => {
                tracing::warn!(peer = %self.peer, mn = %segment.mn, cn = %segment.cn, qn = segment.qn.as_deref().unwrap_or("-"), "HJ 212 data frame without a usable DataTime ({why}); not answered");
                return Err(RejectReason::BadDataTime);
            }
        };
        for skipped in &values.skipped {
            tracing::debug!(mn = %segment.mn, cn = %segment.cn, "HJ 212 value skipped: {skipped}");
        }
        let mut rows = Vec::with_capacity(values.values.len());
        for v in values.values {
            let id = match shared.registry.datastream(&station.code, &v.parameter, v.kind) {
                Some(id) => Some(id),
                None => shared
                    .registry
                    .datastream_or_create(&shared.store, &station.code, &v.parameter, v.kind)
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
        if rows.is_empty() {
            return Ok(0);
        }
        let count = rows.len() as u64;
        match shared
            .store
            .write(WriteCommand::InsertObservations(rows))
            .await
        {
            Ok(WriteOutcome::Rows(results)) => {
                let failed: Vec<&String> =
                    results.iter().filter_map(|r| r.as_ref().err()).collect();
                if let Some(first) = failed.first() {
                    tracing::warn!(mn = %segment.mn, qn = segment.qn.as_deref().unwrap_or("-"), failed = failed.len(), "store rejected HJ 212 values ({first}); frame not answered");
                    return Err(RejectReason::StoreFailed);
                }
                Ok(count)
            }
            Ok(other) => {
                tracing::error!(?other, "unexpected store outcome for InsertObservations");
                Err(RejectReason::StoreFailed)
            }
            Err(e) => {
                tracing::warn!(mn = %segment.mn, qn = segment.qn.as_deref().unwrap_or("-"), error = %e, "HJ 212 write failed; frame not answered");
                Err(RejectReason::StoreFailed)
            }
        }
    }
}
