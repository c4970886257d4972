//! Commit notifications across nodes. The writer announces each batch with `pg_notify` inside
//! its transaction, so PostgreSQL delivers it only if, and when, the batch commits; every node
//! listens on the channel and re-publishes other nodes' batches on its own commit stream
//! (`Store::subscribe`): SSE and the alert engine on node B see node A's writes.
//!
//! A payload is at most 8000 bytes, so a large batch goes as several notifications (one per
//! chunk of events, delivered in order). An observation event whose result alone would not fit
//! is sent without its result, and the receiving node reads it back from the database.

use crate::exec::PgExec;
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, Ordering};
use std::time::Duration;
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
    ) -> Result<Listener, StoreError> {
        let stop = Arc::new(AtomicBool::new(false));
        // The first connection is made here, so a wrong URL fails the start, not a thread.
        let first = crate::connect(&url)?;
        let stopping = stop.clone();
        std::thread::Builder::new()
            .name("qingshui-pg-listen".into())
            .spawn(move || listen_loop(first, url, channel, node, events, last_remote, stopping))
            .map_err(|e| StoreError::Database(format!("cannot start the listener: {e}")))?;
        Ok(Listener { stop })
    }

    pub fn stop(&self) {
        self.stop.store(true, Ordering::Relaxed);
    }
}

fn listen_loop(
    first: postgres::Client,
    url: String,
    channel: String,
    node: String,
    events: broadcast::Sender<Arc<CommitBatch>>,
    last_remote: Arc<AtomicI64>,
    stop: Arc<AtomicBool>,
) {
    let mut client = Some(first);
    while !stop.load(Ordering::Relaxed) {
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
        if let Err(e) = c.batch_execute(&format!("LISTEN {channel}")) {
            tracing::warn!(error = %e, "LISTEN failed; retrying");
            std::thread::sleep(Duration::from_secs(1));
            continue;
        }
        let exec = PgExec::new(c);
        loop {
            if stop.load(Ordering::Relaxed) {
                return;
            }
            let received: Result<Vec<String>, postgres::Error> = {
                let mut client = exec.client();
                let mut n = client.notifications();
                let mut it = n.timeout_iter(Duration::from_millis(500));
                let mut got = Vec::new();
                loop {
                    match fallible_iterator::FallibleIterator::next(&mut it) {
                        Ok(Some(note)) => got.push(note.payload().to_owned()),
                        Ok(None) => break Ok(got),
                        Err(e) => break Err(e),
                    }
                }
            };
            match received {
                Ok(payloads) => {
                    for p in payloads {
                        if let Some(batch) = receive(&exec, &node, &p, &last_remote) {
                            let _ = events.send(Arc::new(batch));
                        }
                    }
                }
                Err(e) => {
                    tracing::warn!(error = %e, "commit listener lost its connection; reconnecting");
                    break;
                }
            }
            if exec.is_closed() {
                break;
            }
        }
    }
}

/// A batch from another node (our own are published by our writer already).
fn receive(
    exec: &PgExec,
    node: &str,
    payload: &str,
    last_remote: &AtomicI64,
) -> Option<CommitBatch> {
    // Our own batches come back too: recognised by the envelope's first member (`payloads`
    // writes `{"n":<node>,` first) without parsing them — parsing every own payload cost the
    // node as much as the JSON of the writes themselves.
    if payload.starts_with(&own_prefix(node)) {
        return None;
    }
    let v: Value = serde_json::from_str(payload).ok()?;
    if v.get("n").and_then(Value::as_str) == Some(node) {
        return None;
    }
    if let Some(t) = v.get("t").and_then(Value::as_i64) {
        last_remote.store(t, Ordering::Relaxed);
    }
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
