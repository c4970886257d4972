//! From the commit stream to subscribers. One dispatcher task reads [`Store::subscribe`] — so a
//! subscriber only ever sees a committed value — and, batch after batch, renders each event once
//! per subscribed topic (the same rendering as an HTTP read: `$select`, absolute links, MN
//! redaction) and offers it to every client of that topic. One task and one queue per client
//! keep the order per datastream; a full queue drops the message and counts it, so a slow
//! client costs at most its queue, never unbounded memory.
//!
//! Which observations were sent is a [`StreamPosition`]: with several nodes a smaller id may
//! arrive after a larger one and is sent all the same, and once a second the ids settled since
//! the last second that the stream did not bring are looked up in the store and sent.

use super::metrics::MqttStats;
use super::topic::{SubKind, SubTopic};
use bytes::Bytes;
use serde_json::Value;
use sta::{EntityType, Query, QueryLimits, ResourcePath};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use store::position::StreamPosition;
use store::render::{ReadBody, Render};
use store::{
    ChangeKind, CommitBatch, CommitEvent, ObservationEvent, ReadRequest, Store, UpsertKind,
};
use tokio::sync::{broadcast, mpsc, watch};

/// Observations re-read per store call when catching up after a lag.
const CATCH_UP_PAGE: usize = 1000;
/// How often the ids the stream did not bring are looked up.
const SWEEP_EVERY: std::time::Duration = std::time::Duration::from_secs(1);

/// A message for one client.
#[derive(Debug, Clone)]
pub struct Outgoing {
    pub topic: Arc<str>,
    pub payload: Bytes,
    pub retain: bool,
}

/// One client's end of a topic.
#[derive(Clone)]
pub struct Subscriber {
    pub tx: mpsc::Sender<Outgoing>,
    /// Gets station MNs (a credential of the operator role or above).
    pub sees_mn: bool,
}

struct Entry {
    topic: Arc<SubTopic>,
    clients: HashMap<u64, Subscriber>,
}

/// A request for the retained latest value, answered by the dispatcher between batches so it
/// is ordered with the live messages.
struct RetainRequest {
    topic: Arc<SubTopic>,
    subscriber: Subscriber,
}

/// What to read for one (event, topic).
#[derive(Debug, PartialEq)]
enum Read {
    /// The entity itself (`Observations(7)`), with the topic's `$select`.
    Single(EntityType, i64),
    /// The topic's own path, as subscribed (an entity or a property).
    Topic,
    /// The topic's collection narrowed to one member (`…?$filter=id eq 7`): the store decides
    /// membership of navigation collections such as `Things(1)/Datastreams`.
    Member(i64),
}

pub struct Fanout {
    topics: Mutex<HashMap<String, Entry>>,
    store: Arc<dyn Store>,
    /// `http://host/v1.1`: links in messages are absolute, as over HTTP.
    service_root: String,
    max_bytes: usize,
    limits: QueryLimits,
    stats: Arc<MqttStats>,
    retain_tx: mpsc::UnboundedSender<RetainRequest>,
}

impl Fanout {
    /// The fan-out and its dispatcher task (ends on shutdown or when the store closes).
    pub fn start(
        store: Arc<dyn Store>,
        service_root: String,
        max_bytes: usize,
        limits: QueryLimits,
        stats: Arc<MqttStats>,
        shutdown: watch::Receiver<bool>,
    ) -> Arc<Fanout> {
        let (retain_tx, retain_rx) = mpsc::unbounded_channel();
        let commits = store.subscribe();
        let fanout = Arc::new(Fanout {
            topics: Mutex::new(HashMap::new()),
            store,
            service_root,
            max_bytes,
            limits,
            stats,
            retain_tx,
        });
        tokio::spawn(fanout.clone().dispatch(commits, retain_rx, shutdown));
        fanout
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Entry>> {
        self.topics.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Adds a client to a topic; with `retain`, the current value follows (datastream topics).
    pub fn subscribe(&self, session: u64, topic: SubTopic, subscriber: Subscriber, retain: bool) {
        let key = topic.topic.clone();
        let wants_latest = retain
            && matches!(
                topic.kind,
                SubKind::Collection {
                    datastream: Some(_),
                    ..
                }
            )
            && topic.target() == EntityType::Observation;
        let topic = {
            let mut topics = self.lock();
            let entry = topics.entry(key).or_insert_with(|| Entry {
                topic: Arc::new(topic),
                clients: HashMap::new(),
            });
            entry.clients.insert(session, subscriber.clone());
            entry.topic.clone()
        };
        if wants_latest {
            let _ = self.retain_tx.send(RetainRequest { topic, subscriber });
        }
    }

    pub fn unsubscribe(&self, session: u64, topic: &str) {
        let mut topics = self.lock();
        if let Some(e) = topics.get_mut(topic) {
            e.clients.remove(&session);
            if e.clients.is_empty() {
                topics.remove(topic);
            }
        }
    }

    /// Forgets every subscription of a session (it disconnected).
    pub fn remove_session(&self, session: u64) {
        let mut topics = self.lock();
        topics.retain(|_, e| {
            e.clients.remove(&session);
            !e.clients.is_empty()
        });
    }

    /// Topics with at least one client.
    pub fn topic_count(&self) -> usize {
        self.lock().len()
    }

    async fn dispatch(
        self: Arc<Self>,
        mut commits: broadcast::Receiver<Arc<CommitBatch>>,
        mut retained: mpsc::UnboundedReceiver<RetainRequest>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        // Subscribed (in `start`) before the cursor is read: a batch committed in between is
        // both in the stream and at or before the cursor, and is skipped once.
        let mut position = match self.store.observation_cursor().await {
            Ok(c) => StreamPosition::new(c),
            Err(e) => {
                tracing::error!(error = %e, "MQTT fan-out cannot read the commit position; not started");
                return;
            }
        };
        let mut sweep = tokio::time::interval(SWEEP_EVERY);
        sweep.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            tokio::select! {
                // Retained requests first: one made before a commit is answered with the value
                // before it, and that commit then follows as a live message.
                biased;
                Some(r) = retained.recv() => self.deliver_latest(r).await,
                batch = commits.recv() => match batch {
                    Ok(b) => {
                        position.batch_seen();
                        let fresh = b.events.iter().filter(|e| match e {
                            CommitEvent::Observation(o) if o.kind == UpsertKind::Inserted => {
                                position.streamed(o.id)
                            }
                            _ => true,
                        });
                        self.deliver_batch(fresh.collect()).await;
                    }
                    Err(broadcast::error::RecvError::Lagged(n)) => {
                        tracing::warn!(missed = n, "MQTT fan-out fell behind the commit stream; re-reading what it missed");
                        self.stats.commit_lag_batches.fetch_add(n, Ordering::Relaxed);
                        self.catch_up(&mut position).await;
                    }
                    Err(broadcast::error::RecvError::Closed) => return,
                },
                _ = sweep.tick() => self.sweep(&mut position).await,
                _ = shutdown.changed() => {
                    if *shutdown.borrow() {
                        return;
                    }
                }
            }
        }
    }

    /// Observations committed after `cursor`, re-read from the store in commit order and sent
    /// as if streamed (the alert engine's catch-up). Entity changes in the missed batches are
    /// not re-read: only observations have a commit cursor.
    async fn catch_up(&self, position: &mut StreamPosition) {
        loop {
            let page = match self
                .store
                .observations_since(position.cursor(), CATCH_UP_PAGE)
                .await
            {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(error = %e, "MQTT fan-out cannot re-read missed observations");
                    return;
                }
            };
            let events = unsent(position, page.events);
            self.stats
                .recovered
                .fetch_add(events.len() as u64, Ordering::Relaxed);
            self.deliver_batch(events.iter().collect()).await;
            position.caught_up(page.cursor);
            if page.complete {
                return;
            }
        }
    }

    /// Sends the observations at or below the id settled a second ago that the stream did not
    /// bring (`store::position`).
    async fn sweep(&self, position: &mut StreamPosition) {
        let settled = match self.store.settled_observation_id().await {
            Ok(id) => id,
            Err(e) => {
                tracing::warn!(error = %e, "MQTT fan-out cannot read the settled observation id");
                return;
            }
        };
        let Some(sweep) = position.sweep(settled, false) else {
            return;
        };
        let read = match self.store.observations_in(&sweep.ranges).await {
            Ok(r) => r,
            Err(e) => {
                tracing::warn!(error = %e, "MQTT fan-out cannot read observations the commit stream did not bring");
                position.sweep_failed(sweep.through);
                return;
            }
        };
        let events = unsent(position, read);
        self.stats
            .swept
            .fetch_add(events.len() as u64, Ordering::Relaxed);
        self.deliver_batch(events.iter().collect()).await;
        position.swept(sweep.through);
    }

    async fn deliver_batch(&self, fresh: Vec<&CommitEvent>) {
        let snapshot: Vec<(Arc<SubTopic>, Vec<Subscriber>)> = self
            .lock()
            .values()
            .map(|e| (e.topic.clone(), e.clients.values().cloned().collect()))
            .collect();
        if snapshot.is_empty() {
            return;
        }
        for event in fresh {
            for (topic, clients) in &snapshot {
                let Some(read) = what_to_read(event, topic) else {
                    continue;
                };
                // At most two renderings per (event, topic): with and without station MNs.
                let mut rendered: [Option<Option<Bytes>>; 2] = [None, None];
                for c in clients {
                    let slot = usize::from(c.sees_mn);
                    if rendered[slot].is_none() {
                        rendered[slot] = Some(self.render(topic, &read, !c.sees_mn).await);
                    }
                    if let Some(Some(payload)) = &rendered[slot] {
                        self.offer(c, topic, payload.clone(), false);
                    }
                }
            }
        }
    }

    /// The latest observation of the datastream, as a retained message to one client.
    async fn deliver_latest(&self, r: RetainRequest) {
        let mut raw = String::from("$orderby=phenomenonTime desc&$top=1");
        if !r.topic.select.is_empty() {
            raw.push('&');
            raw.push_str(&r.topic.select);
        }
        let value = self
            .read_value(r.topic.path.clone(), &raw, !r.subscriber.sees_mn)
            .await
            .and_then(first_member);
        if let Some(v) = value
            && let Ok(payload) = serde_json::to_vec(&v)
        {
            self.offer(&r.subscriber, &r.topic, Bytes::from(payload), true);
        }
    }

    fn offer(&self, c: &Subscriber, topic: &SubTopic, payload: Bytes, retain: bool) {
        let msg = Outgoing {
            topic: Arc::from(topic.topic.as_str()),
            payload,
            retain,
        };
        match c.tx.try_send(msg) {
            Ok(()) => {
                self.stats.queue_depth.fetch_add(1, Ordering::Relaxed);
            }
            Err(mpsc::error::TrySendError::Full(_)) => {
                self.stats.dropped.fetch_add(1, Ordering::Relaxed);
            }
            // The session ended; its subscriptions go with it.
            Err(mpsc::error::TrySendError::Closed(_)) => {}
        }
    }

    async fn render(&self, topic: &SubTopic, read: &Read, hidden: bool) -> Option<Bytes> {
        let value = match read {
            Read::Single(entity, id) => {
                let path = sta::parse_path(&format!("{}({id})", entity.set_name())).ok()?;
                self.read_value(path, &topic.select, hidden).await?
            }
            Read::Topic => self.read_value(topic.path.clone(), "", hidden).await?,
            Read::Member(id) => {
                let mut raw = format!("$filter=id eq {id}");
                if !topic.select.is_empty() {
                    raw.push('&');
                    raw.push_str(&topic.select);
                }
                first_member(self.read_value(topic.path.clone(), &raw, hidden).await?)?
            }
        };
        serde_json::to_vec(&value).ok().map(Bytes::from)
    }

    async fn read_value(&self, path: ResourcePath, raw: &str, hidden: bool) -> Option<Value> {
        let query = Query::parse_with(path.target(), raw, &self.limits).ok()?;
        let render = Render {
            service_root: self.service_root.clone(),
            hidden: hidden.then(|| crate::http::redact::MN.to_string()),
            max_bytes: self.max_bytes,
        };
        match self
            .store
            .read_rendered(ReadRequest { path, query }, render)
            .await
        {
            Ok(ReadBody::Json(bytes)) => serde_json::from_slice(&bytes).ok(),
            Ok(_) => None,
            Err(e) => {
                // A deleted entity or a closed store: nothing to send.
                tracing::debug!(error = %e, "MQTT message not rendered");
                None
            }
        }
    }
}

/// `{"value": [first, …]}` → `first`.
fn first_member(v: Value) -> Option<Value> {
    match v {
        Value::Object(mut m) => match m.remove("value") {
            Some(Value::Array(a)) => a.into_iter().next(),
            _ => None,
        },
        _ => None,
    }
}

/// Whether `event` concerns `topic`, and what to read for it. Collections get new and updated
/// members, entity and property topics the updates of their entity; deletions are not sent
/// (the standard defines no message for them).
fn what_to_read(event: &CommitEvent, topic: &SubTopic) -> Option<Read> {
    let (entity, id, updated) = match event {
        CommitEvent::Observation(o) => {
            if o.kind == UpsertKind::Unchanged {
                return None;
            }
            if let SubKind::Collection {
                datastream: Some(ds),
                ..
            } = topic.kind
                && topic.target() == EntityType::Observation
            {
                // The hot path: known from the event, no membership read.
                return (o.datastream_id == ds)
                    .then_some(Read::Single(EntityType::Observation, o.id));
            }
            (
                EntityType::Observation,
                o.id,
                o.kind == UpsertKind::Replaced,
            )
        }
        CommitEvent::Entity { change, .. } if *change == ChangeKind::Deleted => return None,
        // Alerts are not SensorThings entities: no MQTT topic carries them.
        CommitEvent::Alert { .. } => return None,
        CommitEvent::Entity { entity, id, change } => {
            (*entity, *id, *change == ChangeKind::Updated)
        }
    };
    match &topic.kind {
        SubKind::Collection { all: true, .. } if topic.target() == entity => {
            Some(Read::Single(entity, id))
        }
        SubKind::Collection { .. } if topic.target() == entity => Some(Read::Member(id)),
        SubKind::Entity { entity: e, id: i }
        | SubKind::Property {
            entity: e, id: i, ..
        } if *e == entity && *i == id && updated => Some(Read::Topic),
        _ => None,
    }
}

/// The observations read from the store that were not sent yet (inserted ones the stream
/// brought are skipped; replaced ones are sent again, which repeats a value but loses none).
fn unsent(position: &mut StreamPosition, read: Vec<ObservationEvent>) -> Vec<CommitEvent> {
    read.into_iter()
        .filter(|o| o.kind != UpsertKind::Inserted || position.read_from_store(o.id))
        .map(CommitEvent::Observation)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sources::mqtt::topic::subscription;
    use store::ObservationEvent;

    fn obs(id: i64, ds: i64, kind: UpsertKind) -> CommitEvent {
        CommitEvent::Observation(ObservationEvent {
            id,
            datastream_id: ds,
            phenomenon_time: 0,
            result: Value::from(1.5),
            result_quality: None,
            kind,
        })
    }

    #[test]
    fn observation_events() {
        let ds = subscription("v1.1/Datastreams(3)/Observations").unwrap();
        assert_eq!(
            what_to_read(&obs(9, 3, UpsertKind::Inserted), &ds),
            Some(Read::Single(EntityType::Observation, 9))
        );
        assert_eq!(what_to_read(&obs(9, 4, UpsertKind::Inserted), &ds), None);
        assert_eq!(what_to_read(&obs(9, 3, UpsertKind::Unchanged), &ds), None);
        let all = subscription("v1.1/Observations").unwrap();
        assert_eq!(
            what_to_read(&obs(9, 4, UpsertKind::Replaced), &all),
            Some(Read::Single(EntityType::Observation, 9))
        );
        let foi = subscription("v1.1/FeaturesOfInterest(2)/Observations").unwrap();
        assert_eq!(
            what_to_read(&obs(9, 4, UpsertKind::Inserted), &foi),
            Some(Read::Member(9))
        );
        let one = subscription("v1.1/Observations(9)").unwrap();
        assert_eq!(what_to_read(&obs(9, 4, UpsertKind::Inserted), &one), None);
        assert_eq!(
            what_to_read(&obs(9, 4, UpsertKind::Replaced), &one),
            Some(Read::Topic)
        );
        let things = subscription("v1.1/Things").unwrap();
        assert_eq!(
            what_to_read(&obs(9, 4, UpsertKind::Inserted), &things),
            None
        );
    }

    #[test]
    fn entity_events() {
        let ev = |entity, id, change| CommitEvent::Entity { entity, id, change };
        let ds = subscription("v1.1/Things(1)/Datastreams").unwrap();
        assert_eq!(
            what_to_read(&ev(EntityType::Datastream, 5, ChangeKind::Created), &ds),
            Some(Read::Member(5))
        );
        assert_eq!(
            what_to_read(&ev(EntityType::Datastream, 5, ChangeKind::Deleted), &ds),
            None
        );
        let name = subscription("v1.1/Things(1)/name").unwrap();
        assert_eq!(
            what_to_read(&ev(EntityType::Thing, 1, ChangeKind::Updated), &name),
            Some(Read::Topic)
        );
        assert_eq!(
            what_to_read(&ev(EntityType::Thing, 1, ChangeKind::Created), &name),
            None
        );
        assert_eq!(
            what_to_read(&ev(EntityType::Thing, 2, ChangeKind::Updated), &name),
            None
        );
    }
}
