//! Commit notifications across nodes. The writer announces each batch with `pg_notify` inside
//! its transaction, so PostgreSQL delivers it only if, and when, the batch commits; every node
//! listens on the channel and re-publishes other nodes' batches on its own commit stream
//! (`Store::subscribe`): SSE and the alert engine on node B see node A's writes.
//!
//! A payload is at most 8000 bytes, so a large batch goes as several notifications (one per
//! chunk of events, delivered in order). An observation event whose result alone would not fit
//! is sent without its result, and the receiving node reads it back from the database.
//!
//! Announcing costs the writer work for nothing when no one listens (the JSON of every event and
//! PostgreSQL's notification queue; BENCHMARKS.md measures it), so a writer announces only while another node listens.
//! Listening nodes say so (`Peers`): a hello when their listener starts, which every node
//! hearing it answers, and a heartbeat every [`HEARTBEAT`]; a node not heard for [`PEER_TTL`]
//! is gone. A starting node opens only after its own hello has come back through the queue
//! and the answers have had [`SETTLE`] to arrive, so a writer that had not heard of it yet has
//! committed (its check is the last step before COMMIT) before the new node serves anyone.

use crate::exec::PgExec;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use store::executor::Executor;
use store::sql::SqlValue;
use store::{ChangeKind, CommitBatch, CommitEvent, ObservationEvent, StoreError, UpsertKind};
use tokio::sync::broadcast;

/// The channel of one deployment: its schema's scope (`crate::scope_of`), so two deployments in
/// schemas of one database do not hear each other.
pub fn channel(scope: u32) -> String {
    format!("qingshui_commit_{scope:08x}")
}
/// PostgreSQL's payload limit is 8000 bytes; leave room for the envelope.
const CHUNK: usize = 7000;
/// How often a listening node tells the others it is there.
pub const HEARTBEAT: Duration = Duration::from_secs(2);
/// A node not heard for this long has gone: the others stop announcing to it.
pub const PEER_TTL: Duration = Duration::from_secs(10);
/// How long a starting node waits, after its hello came back, for the others' answers.
pub const SETTLE: Duration = Duration::from_millis(100);
/// At most this many notifications are taken off the connection before they are published.
const DRAIN: usize = 1024;

/// The other nodes listening on the channel, as this node has heard them.
#[derive(Default)]
pub struct Peers {
    /// Microseconds when another node was last heard (0: never).
    last_heard: AtomicI64,
    /// Each other node and when it was last heard.
    seen: Mutex<HashMap<String, i64>>,
    /// This node's own hello has come back through the queue.
    echoed: AtomicBool,
}

impl Peers {
    /// Whether another node has been heard within [`PEER_TTL`]: the writer announces only then.
    pub fn any_live(&self, now: i64) -> bool {
        let t = self.last_heard.load(Ordering::Relaxed);
        t > 0 && now - t < ttl_micros()
    }

    /// How many other nodes have been heard within [`PEER_TTL`] (for health).
    pub fn live_count(&self, now: i64) -> usize {
        self.seen
            .lock()
            .map(|m| m.values().filter(|&&t| now - t < ttl_micros()).count())
            .unwrap_or(0)
    }

    /// Notes `node` as heard at `now`.
    fn heard(&self, node: &str, now: i64) {
        self.last_heard.fetch_max(now, Ordering::Relaxed);
        if let Ok(mut m) = self.seen.lock() {
            // Forget long-gone nodes, so restarts (a new id each) do not pile up.
            m.retain(|_, t| now - *t < 6 * ttl_micros());
            m.insert(node.to_owned(), now);
        }
    }

    /// Waits until this node's hello has come back (at most `timeout`), then [`SETTLE`] more
    /// for the answers. False when the hello did not come back in time.
    pub fn wait_until_known(&self, timeout: Duration) -> bool {
        let start = Instant::now();
        while !self.echoed.load(Ordering::Relaxed) {
            if start.elapsed() >= timeout {
                return false;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        std::thread::sleep(SETTLE);
        true
    }
}

fn ttl_micros() -> i64 {
    PEER_TTL.as_micros() as i64
}

fn kind_name(k: UpsertKind) -> &'static str {
    match k {
        UpsertKind::Inserted => "i",
        UpsertKind::Unchanged => "u",
        UpsertKind::Replaced => "r",
    }
}

fn change_name(c: ChangeKind) -> &'static str {
    match c {
        ChangeKind::Created => "c",
        ChangeKind::Updated => "u",
        ChangeKind::Deleted => "d",
    }
}

/// One event in the compact wire form.
pub fn encode(e: &CommitEvent) -> Value {
    match e {
        CommitEvent::Observation(o) => {
            let mut v = json!({"o": [o.id, o.datastream_id, o.phenomenon_time, kind_name(o.kind)],
                               "r": o.result});
            if let Some(q) = &o.result_quality {
                v["q"] = q.clone();
            }
            v
        }
        CommitEvent::Entity { entity, id, change } => {
            json!({"e": [entity.set_name(), id, change_name(*change)]})
        }
        CommitEvent::Alert { id } => json!({ "a": id }),
    }
}

pub fn decode(v: &Value) -> Option<CommitEvent> {
    if let Some(o) = v.get("o").and_then(Value::as_array) {
        let kind = match o.get(3)?.as_str()? {
            "i" => UpsertKind::Inserted,
            "u" => UpsertKind::Unchanged,
            _ => UpsertKind::Replaced,
        };
        return Some(CommitEvent::Observation(ObservationEvent {
            id: o.first()?.as_i64()?,
            datastream_id: o.get(1)?.as_i64()?,
            phenomenon_time: o.get(2)?.as_i64()?,
            result: v.get("r").cloned().unwrap_or(Value::Null),
            result_quality: v.get("q").cloned(),
            kind,
        }));
    }
    if let Some(id) = v.get("a").and_then(Value::as_i64) {
        return Some(CommitEvent::Alert { id });
    }
    let e = v.get("e")?.as_array()?;
    let change = match e.get(2)?.as_str()? {
        "c" => ChangeKind::Created,
        "u" => ChangeKind::Updated,
        _ => ChangeKind::Deleted,
    };
    Some(CommitEvent::Entity {
        entity: sta::EntityType::from_set_name(e.first()?.as_str()?)?,
        id: e.get(1)?.as_i64()?,
        change,
    })
}

/// How every payload from `node` begins.
fn own_prefix(node: &str) -> String {
    format!("{{\"n\":{},", Value::from(node))
}

/// A presence payload: `"h"` (hello: answer me) or `"b"` (heartbeat).
fn presence(node: &str, kind: &str) -> String {
    format!("{}\"p\":\"{kind}\"}}", own_prefix(node))
}

/// One event in the wire form of [`encode`], written straight into text: the writer announces
/// every observation it commits, so this is on the ingest path (a `Value` per event was a
/// visible share of it).
fn encode_text(e: &CommitEvent) -> String {
    let CommitEvent::Observation(o) = e else {
        return encode(e).to_string();
    };
    let mut text = format!(
        "{{\"o\":[{},{},{},\"{}\"],\"r\":",
        o.id,
        o.datastream_id,
        o.phenomenon_time,
        kind_name(o.kind)
    );
    text.push_str(&o.result.to_string());
    if let Some(q) = &o.result_quality {
        text.push_str(",\"q\":");
        text.push_str(&q.to_string());
    }
    text.push('}');
    text
}

/// The payloads announcing `events` from `node`.
pub fn payloads(node: &str, events: &[CommitEvent]) -> Vec<String> {
    let mut out = Vec::new();
    let mut chunk: Vec<String> = Vec::new();
    let mut size = 0;
    let prefix = own_prefix(node);
    let flush = |chunk: &mut Vec<String>, out: &mut Vec<String>| {
        if !chunk.is_empty() {
            out.push(format!(
                "{prefix}\"t\":{},\"ev\":[{}]}}",
                store::clock::now_micros(),
                chunk.join(",")
            ));
            chunk.clear();
        }
    };
    for e in events {
        let mut text = encode_text(e);
        if text.len() > CHUNK {
            // Too large for one notification: the receiver reads the result back.
            let mut v = encode(e);
            v["r"] = Value::Null;
            v["fetch"] = Value::Bool(true);
            if let Some(o) = v.as_object_mut() {
                o.remove("q");
            }
            text = v.to_string();
        }
        if size + text.len() > CHUNK {
            flush(&mut chunk, &mut out);
            size = 0;
        }
        size += text.len() + 1;
        chunk.push(text);
    }
    flush(&mut chunk, &mut out);
    out
}

/// Queues the notifications of a batch in the writer's open transaction.
pub fn announce(
    conn: &dyn Executor,
    channel: &str,
    node: &str,
    events: &[CommitEvent],
) -> Result<(), StoreError> {
    for p in payloads(node, events) {
        conn.execute(
            "SELECT pg_notify($1, $2)",
            &[SqlValue::Text(channel.into()), SqlValue::Text(p)],
        )?;
    }
    Ok(())
}

/// The listener thread of one node.
pub struct Listener {
    stop: Arc<AtomicBool>,
}

impl Listener {
    pub fn start(
        url: String,
        channel: String,
        node: String,
        events: broadcast::Sender<Arc<CommitBatch>>,
        last_remote: Arc<AtomicI64>,
        peers: Arc<Peers>,
    ) -> Result<Listener, StoreError> {
        let stop = Arc::new(AtomicBool::new(false));
        // The first connection is made here, so a wrong URL fails the start, not a thread.
        let first = crate::connect(&url)?;
        let ears = Ears {
            channel,
            node,
            events,
            last_remote,
            peers,
            stop: stop.clone(),
        };
        std::thread::Builder::new()
            .name("qingshui-pg-listen".into())
            .spawn(move || ears.listen_loop(first, url))
            .map_err(|e| StoreError::Database(format!("cannot start the listener: {e}")))?;
        Ok(Listener { stop })
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

/// What the listener thread holds.
struct Ears {
    channel: String,
    node: String,
    events: broadcast::Sender<Arc<CommitBatch>>,
    last_remote: Arc<AtomicI64>,
    peers: Arc<Peers>,
    stop: Arc<AtomicBool>,
}

/// What one notification was.
enum Heard {
    /// Another node's commits.
    Batch(CommitBatch),
    /// Another node starting: answer it.
    Hello,
    /// This node's own hello, back through the queue.
    OwnHello,
    /// Nothing to act on (our own batch, a heartbeat, an unreadable payload).
    Nothing,
}

impl Ears {
    fn listen_loop(self, first: postgres::Client, url: String) {
        let mut client = Some(first);
        while !self.stop.load(Ordering::Relaxed) {
            let mut c = match client.take() {
                Some(c) => c,
                None => match crate::connect(&url) {
                    Ok(c) => c,
                    Err(e) => {
                        tracing::warn!(error = %e, "commit listener cannot connect; retrying");
                        std::thread::sleep(Duration::from_secs(1));
                        continue;
                    }
                },
            };
            if let Err(e) = c.batch_execute(&format!("LISTEN {}", self.channel)) {
                tracing::warn!(error = %e, "LISTEN failed; retrying");
                std::thread::sleep(Duration::from_secs(1));
                continue;
            }
            let exec = PgExec::new(c);
            // After LISTEN: a writer that hears this hello announces to us from then on.
            if let Err(e) = self.say(&exec, "h") {
                tracing::warn!(error = %e, "cannot say hello to the other nodes; reconnecting");
                continue;
            }
            let mut last_beat = Instant::now();
            loop {
                if self.stop.load(Ordering::Relaxed) {
                    return;
                }
                match take_notifications(&exec) {
                    Ok(payloads) => {
                        for p in payloads {
                            match self.receive(&exec, &p) {
                                Heard::Batch(batch) => {
                                    let _ = self.events.send(Arc::new(batch));
                                }
                                Heard::Hello => {
                                    if let Err(e) = self.say(&exec, "b") {
                                        tracing::warn!(error = %e, "cannot answer a hello");
                                    }
                                }
                                Heard::OwnHello => self.peers.echoed.store(true, Ordering::Relaxed),
                                Heard::Nothing => {}
                            }
                        }
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "commit listener lost its connection; reconnecting");
                        break;
                    }
                }
                if last_beat.elapsed() >= HEARTBEAT {
                    if let Err(e) = self.say(&exec, "b") {
                        tracing::warn!(error = %e, "cannot send the heartbeat");
                    }
                    last_beat = Instant::now();
                }
                if exec.is_closed() {
                    break;
                }
            }
        }
    }

    /// Sends a presence payload of this node.
    fn say(&self, exec: &PgExec, kind: &str) -> Result<(), StoreError> {
        exec.execute(
            "SELECT pg_notify($1, $2)",
            &[
                SqlValue::Text(self.channel.clone()),
                SqlValue::Text(presence(&self.node, kind)),
            ],
        )
        .map(|_| ())
    }

    /// Reads one notification.
    fn receive(&self, exec: &PgExec, payload: &str) -> Heard {
        // Our own payloads come back too: recognised by the envelope's first member (every
        // payload begins `{"n":<node>,`) without parsing — parsing every own payload cost the
        // node as much as the JSON of the writes themselves.
        if payload.starts_with(&own_prefix(&self.node)) {
            return if payload == presence(&self.node, "h") {
                Heard::OwnHello
            } else {
                Heard::Nothing
            };
        }
        let Ok(v) = serde_json::from_str::<Value>(payload) else {
            return Heard::Nothing;
        };
        let Some(from) = v.get("n").and_then(Value::as_str) else {
            return Heard::Nothing;
        };
        if from == self.node {
            return Heard::Nothing;
        }
        self.peers.heard(from, store::clock::now_micros());
        if let Some(kind) = v.get("p").and_then(Value::as_str) {
            return if kind == "h" {
                Heard::Hello
            } else {
                Heard::Nothing
            };
        }
        if let Some(t) = v.get("t").and_then(Value::as_i64) {
            self.last_remote.store(t, Ordering::Relaxed);
        }
        match batch_of(exec, &v) {
            Some(batch) => Heard::Batch(batch),
            None => Heard::Nothing,
        }
    }
}

/// Waits up to half a second for a notification, then takes what else has arrived without
/// waiting (at most [`DRAIN`]): each burst is published at once, not after a quiet spell.
fn take_notifications(exec: &PgExec) -> Result<Vec<String>, postgres::Error> {
    use fallible_iterator::FallibleIterator;
    let mut client = exec.client();
    let mut n = client.notifications();
    let mut got = Vec::new();
    match n.timeout_iter(Duration::from_millis(500)).next()? {
        Some(note) => got.push(note.payload().to_owned()),
        None => return Ok(got),
    }
    let mut pending = n.iter();
    while got.len() < DRAIN {
        match pending.next()? {
            Some(note) => got.push(note.payload().to_owned()),
            None => break,
        }
    }
    Ok(got)
}

/// The events of another node's batch payload; an event sent without its result is read back.
fn batch_of(exec: &PgExec, v: &Value) -> Option<CommitBatch> {
    let mut events = Vec::new();
    for e in v.get("ev")?.as_array()? {
        let Some(mut ev) = decode(e) else { continue };
        if e.get("fetch").is_some()
            && let CommitEvent::Observation(o) = &mut ev
            && let Ok(rows) = exec.rows(
                "SELECT result, result_json, result_quality FROM observations WHERE id = $1",
                &[SqlValue::Int(o.id)],
            )
            && let Some(r) = rows.first()
        {
            if let (Ok(a), Ok(b)) = (crate::exec::cell(r, 0), crate::exec::cell(r, 1)) {
                o.result = store::read::decode::result_value(a, b);
            }
            o.result_quality = crate::exec::text(r, 2)
                .ok()
                .flatten()
                .and_then(|t| serde_json::from_str(&t).ok());
        }
        events.push(ev);
    }
    Some(CommitBatch { events })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn events_round_trip_and_chunk() {
        let obs = CommitEvent::Observation(ObservationEvent {
            id: 7,
            datastream_id: 3,
            phenomenon_time: 1_700_000_000_000_000,
            result: json!(7.25),
            result_quality: Some(json!({"flag": "N"})),
            kind: UpsertKind::Replaced,
        });
        let ent = CommitEvent::Entity {
            entity: sta::EntityType::Datastream,
            id: 3,
            change: ChangeKind::Created,
        };
        assert_eq!(decode(&encode(&obs)), Some(obs.clone()));
        assert_eq!(decode(&encode(&ent)), Some(ent.clone()));
        // The text the writer sends is the same event.
        let text: Value = serde_json::from_str(&encode_text(&obs)).expect("json");
        assert_eq!(decode(&text), Some(obs.clone()));
        let alert = CommitEvent::Alert { id: 9 };
        assert_eq!(decode(&encode(&alert)), Some(alert));
        let many: Vec<CommitEvent> = (0..500).map(|_| obs.clone()).collect();
        let p = payloads("n1", &many);
        assert!(p.len() > 1, "a large batch is split");
        assert!(p.iter().all(|s| s.len() < 8000));
        let back: usize = p
            .iter()
            .map(|s| {
                serde_json::from_str::<Value>(s).expect("json")["ev"]
                    .as_array()
                    .expect("ev")
                    .len()
            })
            .sum();
        assert_eq!(back, 500);
        // Our own payloads are recognised without parsing; another node's are not.
        assert!(p.iter().all(|s| s.starts_with(&own_prefix("n1"))));
        assert!(!p[0].starts_with(&own_prefix("n")));
    }
}
