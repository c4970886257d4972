//! One MQTT 3.1.1 or 5 connection: CONNECT and its credentials, then PUBLISH (create),
//! SUBSCRIBE, UNSUBSCRIBE, PINGREQ, DISCONNECT. Packets go through [`super::wire`] (rumqttc's
//! codecs); the session rules are ours, because the one that matters is not a broker's: a
//! PUBACK (QoS 1) or PUBREC (QoS 2) leaves only after the group commit holding the observation.
//! A refused publish gets none in 3.1.1 — it has no negative acknowledgement, so the publisher
//! keeps it in flight and sees that it was not taken — and a reason code with a reason string
//! in MQTT 5.
//!
//! Writes of one connection run concurrently (up to `[mqtt] max_inflight`), so a publisher is
//! not held to one group commit per message; their acknowledgements still leave in the order
//! the publishes arrived (MQTT 3.1.1 §4.6), through an ordered queue of pending writes.

use super::Shared;
use super::auth::{self, Refusal as AuthRefusal, Who};
use super::fanout::{Outgoing, Subscriber};
use super::topic;
use super::transport::{Reader, Writer};
use super::wire::{self, ConnCode, In, Out, Refusal, SubAnswer, Version, WireError};
use crate::sources::ingest::IngestError;
use bytes::BytesMut;
use futures_util::stream::{FuturesOrdered, StreamExt};
use rumqttc::mqttbytes::QoS;
use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::{mpsc, oneshot, watch};
use tokio::time::Instant;

/// The outcome of one publish's write: `Ok(n)` observations stored, or why not.
type WriteResult = Result<u64, Refusal>;
type PendingWrite = Pin<Box<dyn Future<Output = (u16, QoS, WriteResult)> + Send>>;

/// Why a session ended early.
#[derive(Debug, thiserror::Error)]
enum SessionError {
    #[error("io: {0}")]
    Io(#[from] std::io::Error),
    #[error("{0}")]
    Wire(#[from] WireError),
    #[error("protocol: {0}")]
    Protocol(&'static str),
}

/// The bound on writing CONNACK (later writes use `[mqtt] write_timeout_s`).
const CONNECT_WRITE_TIMEOUT: Duration = Duration::from_secs(10);

async fn send(
    wr: &mut Writer,
    version: Version,
    out: Out,
    max: usize,
    timeout: Duration,
) -> Result<bool, SessionError> {
    // A peer that reads nothing for `timeout` is given up: a stuck subscriber must not hold
    // its session (its publishes' acknowledgements, the server's stop) for ever.
    let mut buf = BytesMut::new();
    if !wire::write(version, out, &mut buf, max)? {
        return Ok(false);
    }
    tokio::time::timeout(timeout, wr.write_all(&buf))
        .await
        .map_err(|_| SessionError::Protocol("the client read nothing within write_timeout_s"))??;
    Ok(true)
}

fn refusal(reason: &'static str, message: impl Into<String>) -> Refusal {
    Refusal {
        reason,
        message: message.into(),
    }
}

/// Serves one connection until it closes, the keep-alive lapses, a newer connection takes its
/// client id, or the server stops.
pub async fn serve(
    (mut rd, mut wr): (Reader, Writer),
    peer: SocketAddr,
    shared: Arc<Shared>,
    mut shutdown: watch::Receiver<bool>,
) {
    let max = shared.settings.max_packet_bytes;
    let mut buf = BytesMut::with_capacity(4096);
    // CONNECT first, within the timeout.
    let connect = tokio::time::timeout(shared.settings.connect_timeout, async {
        loop {
            if let Some(p) = wire::read_connect(&mut buf, max)? {
                return Ok::<In, SessionError>(p);
            }
            if rd.read_into(&mut buf).await? == 0 {
                return Err(SessionError::Protocol("closed before CONNECT"));
            }
        }
    })
    .await;
    let connect = match connect {
        Ok(Ok(In::Connect(c))) => c,
        Ok(Ok(_)) => return refuse_connect(&shared, peer, "the first packet is not CONNECT"),
        Ok(Err(SessionError::Wire(WireError::V4(
            rumqttc::mqttbytes::Error::InvalidProtocolLevel(level),
        )))) => {
            // MQTT 3.1 (level 3) or anything else this server does not speak.
            let _ = send(
                &mut wr,
                Version::V4,
                Out::ConnAck(ConnCode::BadVersion),
                max,
                CONNECT_WRITE_TIMEOUT,
            )
            .await;
            return refuse_connect(&shared, peer, &format!("protocol level {level}"));
        }
        Ok(Err(e)) => return refuse_connect(&shared, peer, &e.to_string()),
        Err(_) => return refuse_connect(&shared, peer, "no CONNECT within connect_timeout_s"),
    };
    let version = connect.version;
    let login = connect
        .login
        .as_ref()
        .map(|(u, p)| (u.as_str(), p.as_str()));
    let who = match auth::authenticate(
        &shared.accounts,
        &shared.config,
        login,
        &peer.ip().to_string(),
    )
    .await
    {
        Ok(w) => w,
        Err(r) => {
            let code = match r {
                AuthRefusal::BadCredentials => ConnCode::BadCredentials,
                AuthRefusal::Throttled => ConnCode::NotAuthorized,
            };
            let _ = send(
                &mut wr,
                version,
                Out::ConnAck(code),
                max,
                CONNECT_WRITE_TIMEOUT,
            )
            .await;
            return refuse_connect(&shared, peer, &format!("{r:?}"));
        }
    };
    let client_id = if connect.client_id.is_empty() {
        if !connect.clean && version == Version::V4 {
            let _ = send(
                &mut wr,
                version,
                Out::ConnAck(ConnCode::BadClientId),
                max,
                CONNECT_WRITE_TIMEOUT,
            )
            .await;
            return refuse_connect(&shared, peer, "empty client id without clean session");
        }
        format!("qingshui-{}", shared.next_session_id())
    } else {
        connect.client_id.clone()
    };
    // Subscriptions live as long as the connection (no persistent sessions: docs/mqtt.md).
    if send(
        &mut wr,
        version,
        Out::ConnAck(ConnCode::Success),
        max,
        CONNECT_WRITE_TIMEOUT,
    )
    .await
    .is_err()
    {
        return;
    }
    let id = shared.next_session_id();
    let (taken_tx, taken_rx) = oneshot::channel();
    shared.claim_client_id(&client_id, id, taken_tx);
    shared
        .stats
        .connections_accepted
        .fetch_add(1, Ordering::Relaxed);
    shared.stats.connected.fetch_add(1, Ordering::Relaxed);
    tracing::info!(%peer, client = %client_id, who = %who.label(), ?version, "MQTT client connected");
    let keep_alive = match connect.keep_alive {
        0 => None,
        // MQTT 3.1.1 §3.1.2.10: one and a half keep-alive periods without a packet.
        s => Some(Duration::from_millis(u64::from(s) * 1500)),
    };
    let mut session = Session {
        id,
        version,
        who,
        shared: shared.clone(),
        wr,
        pending: FuturesOrdered::new(),
        queue: mpsc::channel(shared.settings.queue.max(1)),
        qos2_received: Vec::new(),
    };
    let end = session
        .run(&mut rd, buf, keep_alive, taken_rx, &mut shutdown)
        .await;
    session.finish().await;
    shared.fanout.remove_session(id);
    shared.release_client_id(&client_id, id);
    shared.stats.connected.fetch_sub(1, Ordering::Relaxed);
    match end {
        Ok(why) => tracing::info!(%peer, client = %client_id, why, "MQTT client disconnected"),
        Err(e) => {
            tracing::info!(%peer, client = %client_id, error = %e, "MQTT connection closed")
        }
    }
}

fn refuse_connect(shared: &Shared, peer: SocketAddr, why: &str) {
    shared
        .stats
        .connections_refused
        .fetch_add(1, Ordering::Relaxed);
    tracing::info!(%peer, why, "MQTT CONNECT refused");
}

struct Session {
    id: u64,
    version: Version,
    who: Who,
    shared: Arc<Shared>,
    wr: Writer,
    /// Writes in flight, in arrival order: their acknowledgements leave in that order.
    pending: FuturesOrdered<PendingWrite>,
    queue: (mpsc::Sender<Outgoing>, mpsc::Receiver<Outgoing>),
    /// QoS 2 packet ids acknowledged with PUBREC and waiting for PUBREL.
    qos2_received: Vec<u16>,
}

impl Session {
    async fn run(
        &mut self,
        rd: &mut Reader,
        mut buf: BytesMut,
        keep_alive: Option<Duration>,
        mut taken: oneshot::Receiver<()>,
        shutdown: &mut watch::Receiver<bool>,
    ) -> Result<&'static str, SessionError> {
        let max = self.shared.settings.max_packet_bytes;
        let max_inflight = self.shared.settings.max_inflight.max(1);
        let far = Duration::from_secs(86_400 * 365);
        let mut deadline = Instant::now() + keep_alive.unwrap_or(far);
        // Bytes that arrived with CONNECT.
        while let Some(p) = wire::read(self.version, &mut buf, max)? {
            if self.handle(p).await? {
                return Ok("DISCONNECT");
            }
        }
        loop {
            tokio::select! {
                n = rd.read_into(&mut buf), if self.pending.len() < max_inflight => {
                    if n? == 0 {
                        return Ok("closed by the client");
                    }
                    deadline = Instant::now() + keep_alive.unwrap_or(far);
                    while let Some(p) = wire::read(self.version, &mut buf, max)? {
                        if self.handle(p).await? {
                            return Ok("DISCONNECT");
                        }
                    }
                }
                Some((pkid, qos, result)) = self.pending.next(), if !self.pending.is_empty() => {
                    self.acknowledge(pkid, qos, result).await?;
                }
                Some(out) = self.queue.1.recv() => {
                    self.shared.stats.queue_depth.fetch_sub(1, Ordering::Relaxed);
                    self.deliver(out).await?;
                }
                _ = tokio::time::sleep_until(deadline) => {
                    return Err(SessionError::Protocol("keep-alive lapsed"));
                }
                _ = &mut taken => return Ok("a newer connection took its client id"),
                _ = shutdown.changed() => {
                    if *shutdown.borrow() {
                        return Ok("server stopping");
                    }
                }
            }
        }
    }

    /// Finishes the writes in hand and acknowledges them (the socket may be gone: they are
    /// stored all the same, and the publisher's resend is recognised as a duplicate).
    async fn finish(&mut self) {
        while let Some((pkid, qos, result)) = self.pending.next().await {
            if self.acknowledge(pkid, qos, result).await.is_err() {
                break;
            }
        }
        while let Some((pkid, qos, result)) = self.pending.next().await {
            if result.is_ok() && qos != QoS::AtMostOnce {
                tracing::debug!(pkid, "stored, but the connection closed before its ack");
            }
        }
        self.wr.shutdown().await;
        // Messages still queued for this client no longer count as waiting.
        self.queue.1.close();
        while self.queue.1.try_recv().is_ok() {
            self.shared
                .stats
                .queue_depth
                .fetch_sub(1, Ordering::Relaxed);
        }
    }

    /// `Ok(false)`: nothing is sent for it in this version (a 3.1.1 refusal).
    async fn write(&mut self, out: Out) -> Result<bool, SessionError> {
        send(
            &mut self.wr,
            self.version,
            out,
            self.shared.settings.max_packet_bytes,
            self.shared.settings.write_timeout,
        )
        .await
    }

    /// One packet; `true` when the client said DISCONNECT.
    async fn handle(&mut self, packet: In) -> Result<bool, SessionError> {
        match packet {
            In::Publish(p) => self.publish(p),
            In::PubRel(pkid) => {
                // The observation was stored before PUBREC; release the id.
                self.qos2_received.retain(|&id| id != pkid);
                self.write(Out::PubComp(pkid)).await?;
            }
            In::Subscribe(pkid, filters) => {
                let codes = filters.iter().map(|f| self.subscribe(f)).collect();
                self.write(Out::SubAck(pkid, codes)).await?;
            }
            In::Unsubscribe(pkid, topics) => {
                for t in &topics {
                    self.shared.fanout.unsubscribe(self.id, t);
                }
                self.write(Out::UnsubAck(pkid, topics.len())).await?;
            }
            In::PingReq => {
                self.write(Out::PingResp).await?;
            }
            In::Disconnect => return Ok(true),
            // We deliver at QoS 0: acknowledgements of ours are not expected, and harmless.
            In::ClientAck => {}
            In::Connect(_) => return Err(SessionError::Protocol("a second CONNECT")),
            In::Unexpected(what) => return Err(SessionError::Protocol(what)),
        }
        Ok(false)
    }

    /// How the filter is answered.
    fn subscribe(&mut self, filter: &str) -> SubAnswer {
        let shared = &self.shared;
        if !self.who.may_read(&shared.accounts, &shared.config) {
            shared
                .stats
                .subscriptions_refused
                .fetch_add(1, Ordering::Relaxed);
            tracing::info!(topic = filter, who = %self.who.label(), "MQTT subscription refused: reads need an account");
            return SubAnswer::NotAuthorized;
        }
        match topic::subscription(filter) {
            Ok(t) => {
                let subscriber = Subscriber {
                    tx: self.queue.0.clone(),
                    sees_mn: self.who.sees_mn(&shared.accounts),
                };
                shared
                    .fanout
                    .subscribe(self.id, t, subscriber, shared.settings.retain_latest);
                // Messages go out at QoS 0: at most once per connection (docs/mqtt.md).
                SubAnswer::Granted
            }
            Err(e) => {
                shared
                    .stats
                    .subscriptions_refused
                    .fetch_add(1, Ordering::Relaxed);
                tracing::info!(topic = filter, error = %e, "MQTT subscription refused");
                SubAnswer::Invalid
            }
        }
    }

    /// Starts the write of a PUBLISH. A refusal is queued like a write, so its answer (none in
    /// 3.1.1, a reason code in 5) keeps its place in the order of acknowledgements.
    fn publish(&mut self, p: wire::Publish) {
        let shared = self.shared.clone();
        shared.stats.publishes_in.fetch_add(1, Ordering::Relaxed);
        let (pkid, qos) = (p.pkid, p.qos);
        if qos == QoS::ExactlyOnce && self.qos2_received.contains(&pkid) {
            // A resend of a QoS 2 publish already stored and PUBREC'd: answer again, store once.
            self.pending
                .push_back(Box::pin(async move { (pkid, qos, Ok(0)) }));
            return;
        }
        let refused = |r: Refusal| -> PendingWrite { Box::pin(async move { (pkid, qos, Err(r)) }) };
        if !self.who.may_write(&shared.accounts) {
            self.pending.push_back(refused(refusal(
                "not_authorised",
                "creating observations needs the operator role",
            )));
            return;
        }
        let command = match super::mapping::command_for(&shared, &p.topic, &p.payload) {
            Ok(c) => c,
            Err((reason, message)) => {
                self.pending.push_back(refused(refusal(reason, message)));
                return;
            }
        };
        let store = shared.store.clone();
        let ingest = shared.ingest.clone();
        let stats = shared.stats.clone();
        self.pending.push_back(Box::pin(async move {
            let result = match command {
                super::mapping::Command::Write(cmd) => {
                    store.write(cmd).await.map(|_| 1).map_err(|e| classify(&e))
                }
                // The shared ingest rules (time sanity), then one all-or-nothing write.
                super::mapping::Command::Rows(rows) => {
                    ingest.observations(rows).await.map_err(|e| match e {
                        IngestError::Store(m) | IngestError::Unexpected(m) => {
                            refusal("store_failed", m)
                        }
                        other => refusal("rejected", other.to_string()),
                    })
                }
            };
            if let Ok(n) = &result {
                stats.observations_stored.fetch_add(*n, Ordering::Relaxed);
            }
            (pkid, qos, result)
        }));
    }

    async fn acknowledge(
        &mut self,
        pkid: u16,
        qos: QoS,
        result: WriteResult,
    ) -> Result<(), SessionError> {
        let refused = match result {
            Ok(_) => None,
            Err(r) => {
                self.shared.stats.refused(r.reason);
                tracing::warn!(pkid, who = %self.who.label(), reason = r.reason, message = %r.message, "MQTT publish not stored");
                Some(r)
            }
        };
        let ok = refused.is_none();
        let sent = match qos {
            QoS::AtMostOnce => false,
            QoS::AtLeastOnce => self.write(Out::PubAck(pkid, refused)).await?,
            QoS::ExactlyOnce => {
                if ok && !self.qos2_received.contains(&pkid) {
                    self.qos2_received.push(pkid);
                }
                self.write(Out::PubRec(pkid, refused)).await?
            }
        };
        if sent && ok {
            self.shared.stats.pubacks.fetch_add(1, Ordering::Relaxed);
        }
        Ok(())
    }

    async fn deliver(&mut self, out: Outgoing) -> Result<(), SessionError> {
        self.write(Out::Message {
            topic: out.topic,
            payload: out.payload,
            retain: out.retain,
        })
        .await?;
        self.shared
            .stats
            .publishes_out
            .fetch_add(1, Ordering::Relaxed);
        Ok(())
    }
}

/// A store error as a refusal reason: the client's fault (a bad observation) or the store's.
fn classify(e: &store::StoreError) -> Refusal {
    let status = crate::http::error::ApiError::from(e).status;
    if status.is_client_error() {
        refusal("rejected", e.to_string())
    } else {
        refusal("store_failed", e.to_string())
    }
}
