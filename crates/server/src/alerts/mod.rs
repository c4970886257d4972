//! The alert engine (imperative shell around the pure `alerts` crate).
//!
//! One task owns every open alert. It is fed by the committed-observation stream
//! (`Store::subscribe`, never by polling), a clock tick (offline stations, digests) and requests
//! from the API (acknowledge, clear, comment, external events such as video intrusions). When it
//! falls behind the commit stream (the broadcast channel lags), it re-reads what it missed from
//! the store ([`store::Store::observations_since`]) and evaluates it in commit order, so no
//! committed value goes unjudged; [`CommitLagStats`] counts it for `/metrics`. It
//! persists each change through [`store::alerts::AlertStore`] before telling anyone: live
//! subscribers (`/api/v1/events`) and the notifier (webhooks, email). Because only this task
//! changes alerts, an acknowledgement can never race an automatic clear.

mod across_nodes;
pub mod config;
mod leadership;
pub mod notifier;
mod replay;

use crate::directory::DatastreamDirectory;
use alerts::lifecycle::{self, Command, LifecycleError, Outcome};
use alerts::model::{Action, Alert, AlertState, HistoryEntry, RuleKind};
use alerts::rules::{Evaluator, Reading, Verdict};
use anyhow::Context;
use config::AlertsConfig;
use notifier::{Notice, NotifyStats};
use serde::Serialize;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::AtomicU64;
use std::time::{Duration, Instant};
use store::alerts::{AlertFilter, AlertHistoryRecord, AlertRecord, AlertStore};
use store::position::StreamPosition;
use store::{CommitEvent, ObservationCursor, ObservationEvent, Store, StoreError, UpsertKind};

/// The engine falling behind the commit stream, for `/metrics`.
#[derive(Debug, Default)]
pub struct CommitLagStats {
    /// Times the broadcast channel dropped batches before the engine read them.
    pub events: AtomicU64,
    /// Observations re-read from the store to make up for them.
    pub recovered_observations: AtomicU64,
    /// Observations judged from the store when this node's engine started or took the lead:
    /// what was committed after the position the last leader saved.
    pub resumed_observations: AtomicU64,
    /// Observations judged from the store because the stream had not brought them by the time
    /// their ids were settled (`replay::Engine::sweep`).
    pub swept_observations: AtomicU64,
}
use tokio::sync::{broadcast, mpsc, oneshot, watch};

/// An alert change as live subscribers receive it (`event: alert`).
#[derive(Debug, Clone, Serialize)]
pub struct AlertChange {
    pub action: Action,
    pub alert: Value,
    #[serde(skip)]
    pub station: Option<String>,
}

#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    #[error("no alert {0}")]
    NotFound(i64),
    #[error(transparent)]
    Lifecycle(#[from] LifecycleError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("alerts are disabled ([alerts] enabled = false)")]
    Disabled,
    #[error("the alert engine has stopped")]
    Stopped,
}

enum Request {
    /// A person's command on one alert (acknowledge, clear, comment).
    Lifecycle {
        id: i64,
        command: Command,
        reply: oneshot::Sender<Result<Alert, EngineError>>,
    },
    /// An event from outside the observation stream (video intrusion, …).
    External {
        verdict: Verdict,
        reply: oneshot::Sender<Result<Option<Alert>, EngineError>>,
    },
}

/// What the HTTP layer holds: the way into the engine, the alert reader, the live feed.
pub struct AlertsHandle {
    requests: Option<mpsc::Sender<Request>>,
    changes: broadcast::Sender<Arc<AlertChange>>,
    pub directory: Arc<DatastreamDirectory>,
    pub store: Option<Arc<dyn AlertStore>>,
    pub stats: Arc<NotifyStats>,
    pub commit_lag: Arc<CommitLagStats>,
    /// Ends live event streams when the server stops (graceful shutdown waits for them).
    pub shutdown: watch::Receiver<bool>,
}

impl AlertsHandle {
    /// Applies a person's command to alert `id`; returns the alert after it.
    pub async fn command(&self, id: i64, command: Command) -> Result<Alert, EngineError> {
        let tx = self.requests.as_ref().ok_or(EngineError::Disabled)?;
        let (reply, rx) = oneshot::channel();
        tx.send(Request::Lifecycle { id, command, reply })
            .await
            .map_err(|_| EngineError::Stopped)?;
        rx.await.map_err(|_| EngineError::Stopped)?
    }

    /// Raises/updates or resolves an alert from an external source (the intrusion extension point).
    pub async fn external(&self, verdict: Verdict) -> Result<Option<Alert>, EngineError> {
        let tx = self.requests.as_ref().ok_or(EngineError::Disabled)?;
        let (reply, rx) = oneshot::channel();
        tx.send(Request::External { verdict, reply })
            .await
            .map_err(|_| EngineError::Stopped)?;
        rx.await.map_err(|_| EngineError::Stopped)?
    }

    pub fn subscribe(&self) -> broadcast::Receiver<Arc<AlertChange>> {
        self.changes.subscribe()
    }
}

/// The alert as the API serves it: the stored record with ISO 8601 times.
pub fn view(alert: &Alert) -> Value {
    let mut v = serde_json::to_value(alert).unwrap_or(Value::Null);
    iso_times(
        &mut v,
        &[
            "created_at",
            "updated_at",
            "acknowledged_at",
            "cleared_at",
            "first_observed",
            "last_observed",
        ],
    );
    // Every reader gets both languages, rendered from the stored template.
    if let Some(o) = v.as_object_mut() {
        use alerts::text::{Lang, message};
        for (key, lang) in [("message_zh", Lang::Zh), ("message_en", Lang::En)] {
            o.insert(
                key.into(),
                message(&alert.details, &alert.message, lang).into(),
            );
        }
        o.insert("rule_zh".into(), alert.rule.label(Lang::Zh).into());
        o.insert("rule_en".into(), alert.rule.label(Lang::En).into());
    }
    v
}

pub fn history_view(entry: &Value) -> Value {
    let mut v = entry.clone();
    iso_times(&mut v, &["at"]);
    v
}

fn iso_times(v: &mut Value, keys: &[&str]) {
    if let Some(o) = v.as_object_mut() {
        for k in keys {
            if let Some(t) = o.get(*k).and_then(Value::as_i64) {
                o.insert((*k).to_owned(), Value::String(sta::time::format_instant(t)));
            }
        }
    }
}

/// Resolves once the server is told to stop (without holding the watch guard across awaits).
pub async fn stopped(shutdown: &mut watch::Receiver<bool>) {
    let _ = shutdown.wait_for(|s| *s).await;
}

/// How often a change is built again on the stored alert after losing a compare-and-set.
const CAS_ATTEMPTS: usize = 3;

/// A save refused because the alert was changed since it was read (`AlertRecord::expected_updated_at`).
fn changed_meanwhile(e: &EngineError) -> bool {
    matches!(e, EngineError::Store(StoreError::Conflict(m))
        if m.starts_with(store::sql_stores::alerts::ALERT_CHANGED_MEANWHILE))
}

/// The record of `alert`, a change built on the stored version of `base` (`updated_at`).
fn record(alert: &Alert, base: Option<i64>) -> AlertRecord {
    AlertRecord {
        expected_updated_at: base,
        id: alert.id,
        rule: alert.rule.as_str().to_owned(),
        source: alert.source.clone(),
        station: alert.station.clone(),
        severity: alert.severity.as_str().to_owned(),
        state: alert.state.as_str().to_owned(),
        created_at: alert.created_at,
        updated_at: alert.updated_at,
        body: serde_json::to_value(alert).unwrap_or(Value::Null),
    }
}

fn history_record(h: &HistoryEntry) -> AlertHistoryRecord {
    AlertHistoryRecord {
        at: h.at,
        action: h.action.as_str().to_owned(),
        body: serde_json::to_value(h).unwrap_or(Value::Null),
    }
}

/// The `n` video points nearest each station, as linked into its alerts' details.
pub fn video_links(network: &network::Network, n: usize) -> HashMap<String, Value> {
    network
        .stations
        .iter()
        .map(|s| {
            let near: Vec<Value> = network
                .nearest_video_points(&s.code, n)
                .into_iter()
                .map(|(v, d)| serde_json::json!({ "id": v.id, "distance_m": d.round() }))
                .collect();
            (s.code.clone(), Value::Array(near))
        })
        .filter(|(_, v)| v.as_array().is_some_and(|a| !a.is_empty()))
        .collect()
}

/// Starts the engine (and the notifier). Call after the network is loaded; stops on `shutdown`.
/// The engine keeps the shared `directory` fresh: it refreshes it whenever a committed batch
/// creates or changes Things or Datastreams.
pub async fn start(
    cfg: &AlertsConfig,
    store: Arc<dyn Store>,
    directory: Arc<DatastreamDirectory>,
    video_links: HashMap<String, Value>,
    shutdown: watch::Receiver<bool>,
) -> anyhow::Result<(Arc<AlertsHandle>, tokio::task::JoinHandle<()>)> {
    // Subscribe first: nothing committed from here on is missed. The cursor is read after, so a
    // batch committed in between is both in the stream and at or before the cursor.
    let commits = store.subscribe();
    let cursor = store
        .observation_cursor()
        .await
        .context("reading the commit position")?;
    let commit_lag = Arc::new(CommitLagStats::default());
    directory
        .refresh(&store)
        .await
        .context("reading datastreams for the alert engine")?;
    let (changes, _) = broadcast::channel(1024);
    let stats = Arc::new(NotifyStats::default());
    let alert_store = store.clone().alert_store();
    let enabled = cfg.enabled && alert_store.is_some();
    if cfg.enabled && alert_store.is_none() {
        tracing::warn!("this store keeps no alerts; the alert engine is off");
    }
    let tick = Duration::from_millis(cfg.tick_ms.max(50));
    let mut engine = Engine {
        store: store.clone(),
        alert_store: alert_store.clone(),
        directory: directory.clone(),
        video_links,
        evaluator: Evaluator::new(cfg.rules()),
        rules: cfg.rules(),
        open: HashMap::new(),
        changes: changes.clone(),
        notices: None,
        last_refresh: Instant::now(),
        position: StreamPosition::new(cursor),
        saved: None,
        replay_limit: cfg.replay_limit,
        commit_lag: commit_lag.clone(),
        shared: false,
        leading: true,
    };
    let (requests_tx, requests_rx) = mpsc::channel(256);
    let mut notifier_task = None;
    if enabled {
        let (tx, task) = notifier::start(
            &cfg.webhooks,
            cfg.email.as_ref(),
            tick,
            stats.clone(),
            shutdown.clone(),
        )?;
        engine.notices = Some(tx);
        notifier_task = Some(task);
    }
    // With several nodes on one database only the leader evaluates (docs/postgres.md); the
    // others keep their directory fresh and take over within a few seconds of its death.
    let (leader, shared) = leadership::contest(&store, enabled, shutdown.clone()).await;
    engine.shared = shared;
    engine.leading = *leader.borrow();
    if enabled && *leader.borrow() {
        engine.restore().await.context("restoring open alerts")?;
        engine.resume(cursor).await;
    }
    let handle = Arc::new(AlertsHandle {
        requests: enabled.then_some(requests_tx),
        changes,
        directory,
        store: alert_store,
        stats,
        commit_lag,
        shutdown: shutdown.clone(),
    });
    let task = tokio::spawn(async move {
        engine
            .run(commits, requests_rx, tick, enabled, leader, shutdown)
            .await;
        if let Some(t) = notifier_task {
            let _ = t.await;
        }
    });
    Ok((handle, task))
}

struct Engine {
    store: Arc<dyn Store>,
    alert_store: Option<Arc<dyn AlertStore>>,
    directory: Arc<DatastreamDirectory>,
    /// The nearest video points of each station (`[{id, distance_m}]`), linked into the
    /// details of the station's alerts so the operator can look.
    video_links: HashMap<String, Value>,
    evaluator: Evaluator,
    rules: alerts::rules::RuleSettings,
    /// Every alert that is not cleared, by (rule, source).
    open: HashMap<(RuleKind, String), Alert>,
    changes: broadcast::Sender<Arc<AlertChange>>,
    notices: Option<mpsc::Sender<Notice>>,
    last_refresh: Instant,
    /// Which committed observations this engine has judged (`store::position`): its cursor,
    /// at or below which every one was, is where a lag is made up from, and the leader saves
    /// it so the next one knows where to begin ([`replay`]). It moves only to settled ids,
    /// never to the largest id streamed: with several nodes a smaller id may commit after a
    /// larger one, and a smaller id arriving late is new.
    position: StreamPosition,
    /// The position last saved, and when.
    saved: Option<(ObservationCursor, Instant)>,
    /// `[alerts] replay_limit`: at most this many observations are judged at start or takeover.
    replay_limit: u64,
    commit_lag: Arc<CommitLagStats>,
    /// Several nodes share the database: a person may acknowledge, comment or clear an alert on
    /// any of them, so the stored alert, not this node's copy, is the current one.
    shared: bool,
    /// This node leads the engine (always, with one node): only the leader keeps open alerts.
    leading: bool,
}

impl Engine {
    async fn run(
        &mut self,
        mut commits: broadcast::Receiver<Arc<store::CommitBatch>>,
        mut requests: mpsc::Receiver<Request>,
        tick: Duration,
        configured: bool,
        mut leader: watch::Receiver<bool>,
        mut shutdown: watch::Receiver<bool>,
    ) {
        let mut ticker = tokio::time::interval(tick);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            let enabled = configured && *leader.borrow();
            tokio::select! {
                changed = leader.changed() => {
                    if changed.is_err() {
                        // The contest ended (shutdown); keep the last standing.
                        continue;
                    }
                    let lead = *leader.borrow_and_update();
                    if configured {
                        self.on_leadership(lead).await;
                    }
                }
                batch = commits.recv() => match batch {
                    Ok(batch) => self.on_batch(&batch, enabled).await,
                    Err(broadcast::error::RecvError::Lagged(n)) => self.catch_up(n, enabled).await,
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                // Requests (a person's acknowledgement, a camera's intrusion) are served on any
                // node, leader or not, so none waits for ever or is lost (docs/postgres.md).
                request = requests.recv(), if configured => match request {
                    Some(r) => self.on_request(r).await,
                    None => break,
                },
                _ = ticker.tick(), if enabled => {
                    let verdicts = self.evaluator.tick(store::clock::now_micros());
                    for v in verdicts {
                        self.apply_verdict(v).await;
                    }
                    self.sweep(false).await;
                    self.save_position().await;
                }
                _ = stopped(&mut shutdown) => {
                    // The next start resumes from here instead of re-judging the last second.
                    if enabled {
                        self.sweep(true).await;
                        self.save_position_now().await;
                    }
                    break;
                }
            }
        }
    }

    /// Leadership changed hands: the new leader continues the open alerts from the store (so an
    /// alert another node raised is not raised again), then judges what was committed after the
    /// old leader's saved position (while no node led) and what is committed from now on; a node
    /// that lost it forgets its open alerts (the next leader owns them).
    async fn on_leadership(&mut self, lead: bool) {
        self.leading = lead;
        self.open.clear();
        self.position.reset(self.position.cursor());
        self.evaluator = Evaluator::new(self.rules.clone());
        if !lead {
            tracing::warn!("this node lost the alert engine's leadership");
            return;
        }
        match self.restore().await {
            Ok(()) => tracing::info!("this node leads the alert engine"),
            Err(e) => tracing::error!(error = %e, "restoring open alerts after taking the lead"),
        }
        match self.store.observation_cursor().await {
            Ok(now) => self.resume(now).await,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the commit position; judging from the stream only")
            }
        }
    }

    /// Open alerts from the store continue where they were; stations with data are watched.
    async fn restore(&mut self) -> anyhow::Result<()> {
        let Some(alert_store) = &self.alert_store else {
            return Ok(());
        };
        let now = store::clock::now_micros();
        for latest in self.store.latest(None).await? {
            let (Some(info), Some(time)) = (
                self.directory.get(latest.datastream_id),
                latest.phenomenon_time,
            ) else {
                continue;
            };
            let start = time.split('/').next().unwrap_or_default();
            if let (Some(interval), Ok(t)) = (info.interval_s, sta::time::parse_instant(start)) {
                self.evaluator.watch_station(
                    &info.station,
                    interval,
                    info.drinking_water,
                    t.min(now),
                );
            }
        }
        let filter = AlertFilter {
            states: vec!["active".into(), "acknowledged".into()],
            limit: 1_000_000,
            ..Default::default()
        };
        let (rows, _) = alert_store.alerts(filter).await?;
        for row in rows {
            match serde_json::from_value::<Alert>(row.body) {
                Ok(alert) => {
                    self.evaluator.restore_open(alert.rule, &alert.source);
                    self.open.insert((alert.rule, alert.source.clone()), alert);
                }
                Err(e) => {
                    tracing::error!(id = row.id, error = %e, "unreadable stored alert skipped")
                }
            }
        }
        tracing::info!(open = self.open.len(), "alert engine restored open alerts");
        Ok(())
    }

    async fn on_batch(&mut self, batch: &store::CommitBatch, enabled: bool) {
        let entities_changed = batch.events.iter().any(|e| {
            matches!(e, CommitEvent::Entity { entity, .. } if matches!(entity, sta::EntityType::Thing | sta::EntityType::Datastream))
        });
        if entities_changed {
            self.refresh().await;
        }
        for event in &batch.events {
            if let CommitEvent::Alert { id } = event {
                self.on_remote_alert(*id).await;
            }
        }
        if !enabled {
            return;
        }
        self.position.batch_seen();
        let now = store::clock::now_micros();
        for event in &batch.events {
            let CommitEvent::Observation(o) = event else {
                continue;
            };
            if o.kind == UpsertKind::Inserted && !self.position.streamed(o.id) {
                continue; // judged already, from the store
            }
            self.observe(o, now).await;
        }
    }

    /// Evaluates one committed observation.
    async fn observe(&mut self, o: &ObservationEvent, now: i64) {
        if o.kind == UpsertKind::Unchanged {
            return; // a resend carries no new information
        }
        let info = match self.directory.get(o.datastream_id) {
            Some(i) => i,
            // A datastream created outside this process's view: look once more, at most every 5 s.
            None if self.last_refresh.elapsed() > Duration::from_secs(5) => {
                self.refresh().await;
                match self.directory.get(o.datastream_id) {
                    Some(i) => i,
                    None => return,
                }
            }
            None => return,
        };
        let reading = Reading::from_json(o.phenomenon_time, &o.result, o.result_quality.as_ref());
        for v in self.evaluator.observe(&info, &reading, now) {
            self.apply_verdict(v).await;
        }
    }

    async fn refresh(&mut self) {
        self.last_refresh = Instant::now();
        if let Err(e) = self.directory.refresh(&self.store).await {
            tracing::warn!(error = %e, "cannot refresh the datastream directory");
        }
    }

    async fn apply_verdict(&mut self, mut verdict: Verdict) -> Option<Alert> {
        if let Verdict::Trigger(t) = &mut verdict
            && let (Some(station), Value::Object(d)) = (&t.station, &mut t.details)
            && let Some(links) = self.video_links.get(station)
        {
            d.insert("video_points".into(), links.clone());
        }
        for attempt in 1..=CAS_ATTEMPTS {
            let now = store::clock::now_micros();
            // After a lost compare-and-set the stored alert is read again, on any database.
            let force = attempt > 1;
            let (outcome, base) = match verdict.clone() {
                Verdict::Trigger(t) => {
                    let key = (t.rule, t.source.clone());
                    self.refresh_open(&key, force).await;
                    let open = self.open.get(&key);
                    let base = open.map(|a| a.updated_at);
                    (lifecycle::trigger(open, t, now), base)
                }
                Verdict::Resolve {
                    rule,
                    source,
                    message,
                    details,
                } => {
                    let key = (rule, source);
                    self.refresh_open(&key, force).await;
                    let open = self.open.get(&key)?;
                    match lifecycle::resolve(open, message, details, now) {
                        Ok(o) => (o, Some(open.updated_at)),
                        Err(e) => {
                            tracing::warn!(error = %e, "cannot resolve alert");
                            return None;
                        }
                    }
                }
            };
            match self.commit(outcome, base).await {
                Ok(a) => return Some(a),
                Err(e) if changed_meanwhile(&e) && attempt < CAS_ATTEMPTS => {
                    tracing::info!(error = %e, "an alert changed while the engine judged it; building on the stored one");
                }
                Err(e) => {
                    tracing::error!(error = %e, "cannot store an alert change");
                    return None;
                }
            }
        }
        None
    }

    /// Persists a transition built on the stored version `base` (`updated_at`; refused when
    /// another change was stored since), then updates the open set, live subscribers and the
    /// notifier.
    async fn commit(&mut self, out: Outcome, base: Option<i64>) -> Result<Alert, EngineError> {
        let store = self.alert_store.as_ref().ok_or(EngineError::Disabled)?;
        let history: Vec<AlertHistoryRecord> = out.history.iter().map(history_record).collect();
        let mut alert = out.alert;
        let base = base.filter(|_| alert.id != 0);
        alert.id = store.save_alert(record(&alert, base), history).await?;
        let key = (alert.rule, alert.source.clone());
        if alert.state == AlertState::Cleared {
            if self.open.get(&key).is_some_and(|a| a.id == alert.id) {
                self.open.remove(&key);
            }
        } else if self.leading {
            self.open.insert(key, alert.clone());
        }
        let action = out
            .notify
            .or_else(|| out.history.last().map(|h| h.action))
            .unwrap_or(Action::Updated);
        let v = view(&alert);
        let _ = self.changes.send(Arc::new(AlertChange {
            action,
            alert: v.clone(),
            station: alert.station.clone(),
        }));
        if let (Some(tx), Some(action)) = (&self.notices, out.notify)
            && tx
                .try_send(Notice {
                    action,
                    alert: alert.clone(),
                    view: v,
                })
                .is_err()
        {
            tracing::warn!(
                id = alert.id,
                "notification queue full; a notification was dropped"
            );
        }
        Ok(alert)
    }

    async fn on_request(&mut self, request: Request) {
        match request {
            Request::Lifecycle { id, command, reply } => {
                let _ = reply.send(self.lifecycle(id, command).await);
            }
            Request::External { verdict, reply } => {
                let _ = reply.send(Ok(self.apply_verdict(verdict).await));
            }
        }
    }

    async fn lifecycle(&mut self, id: i64, command: Command) -> Result<Alert, EngineError> {
        let manual_clear = matches!(command, Command::Clear { .. });
        let mut attempt = 1;
        let (alert, now) = loop {
            // On a shared database another node may have changed it: the stored alert is current
            // (and after a lost compare-and-set, on any database).
            let known = (!self.shared && attempt == 1)
                .then(|| self.open.values().find(|a| a.id == id).cloned())
                .flatten();
            let current = match known {
                Some(a) => a,
                None => self.stored(id).await?.ok_or(EngineError::NotFound(id))?,
            };
            let now = store::clock::now_micros();
            let out = lifecycle::apply(Some(&current), command.clone(), now)?;
            match self.commit(out, Some(current.updated_at)).await {
                Ok(a) => break (a, now),
                Err(e) if changed_meanwhile(&e) && attempt < CAS_ATTEMPTS => attempt += 1,
                Err(e) => return Err(e),
            }
        };
        if manual_clear {
            let directory = self.directory.clone();
            self.evaluator.reset(alert.rule, &alert.source, now, |ds| {
                directory.get(ds).map(|i| i.source())
            });
        }
        Ok(alert)
    }
}
