//! `GET /api/v1/events[?stations=R01,W01]`: Server-Sent Events. `event: observation` for every
//! committed new or changed value of the subscribed stations (all by default), `event: alert` for
//! every alert change; `event: lagged` when this client fell behind and missed events (reload
//! what you show). The stream starts with `event: ready`.

use super::AppState;
use super::error::ApiError;
use super::schema::{LaggedEvent, ObservationEvent, ReadyEvent};
use crate::alerts::{AlertChange, AlertsHandle, stopped};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde_json::Value;
use std::collections::{HashMap, HashSet, VecDeque};
use std::convert::Infallible;
use std::sync::Arc;
use std::time::Duration;
use store::{CommitBatch, CommitEvent, UpsertKind};
use tokio::sync::{broadcast, watch};

fn lagged(missed_batches: Option<u64>, missed_alerts: Option<u64>) -> String {
    serde_json::to_string(&LaggedEvent {
        missed_batches,
        missed_alerts,
    })
    .unwrap_or_default()
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/events", get(events))
}

enum Got {
    Batch(Result<Arc<CommitBatch>, broadcast::error::RecvError>),
    Alert(Result<Arc<AlertChange>, broadcast::error::RecvError>),
}

struct Feed {
    commits: broadcast::Receiver<Arc<CommitBatch>>,
    alerts: broadcast::Receiver<Arc<AlertChange>>,
    shutdown: watch::Receiver<bool>,
    handle: Arc<AlertsHandle>,
    /// `None`: every station.
    stations: Option<HashSet<String>>,
    /// Events of the current batch not yet sent.
    queue: VecDeque<Event>,
    started: bool,
}

impl Feed {
    fn wants(&self, station: Option<&str>) -> bool {
        match (&self.stations, station) {
            (None, _) => true,
            (Some(set), Some(s)) => set.contains(s),
            (Some(_), None) => true, // alerts without a station (video points) go to everyone
        }
    }

    fn queue_batch(&mut self, batch: &CommitBatch) {
        for e in &batch.events {
            let CommitEvent::Observation(o) = e else {
                continue;
            };
            if o.kind == UpsertKind::Unchanged {
                continue;
            }
            let info = self.handle.directory.get(o.datastream_id);
            let station = info.as_ref().map(|i| i.station.as_str());
            if !self.wants(station) || (self.stations.is_some() && station.is_none()) {
                continue;
            }
            let data = ObservationEvent {
                id: o.id,
                datastream_id: o.datastream_id,
                station: station.map(str::to_owned),
                parameter: info.as_ref().map(|i| i.parameter.clone()),
                data_kind: info.as_ref().map(|i| i.data_kind.as_str().to_owned()),
                time: sta::time::format_instant(o.phenomenon_time),
                value: o.result.clone(),
                flag: o
                    .result_quality
                    .as_ref()
                    .and_then(|q| q.get("flag"))
                    .cloned()
                    .unwrap_or(Value::Null),
                change: o.kind,
            };
            self.queue.push_back(
                Event::default()
                    .event("observation")
                    .data(serde_json::to_string(&data).unwrap_or_default()),
            );
        }
    }
}

/// Server-sent events: `ready` (`ReadyEvent`), `observation` (`ObservationEvent`), `alert`
/// (`{"action", "alert"}`, docs/alerts.md) and `lagged` (`LaggedEvent`).
#[utoipa::path(get, path = "/api/v1/events", tag = "domain",
    responses((status = 200, content_type = "text/event-stream", body = String)))]
pub(super) async fn events(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    state.authorize_read(&headers)?;
    let handle = state.alerts.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "live events are not running",
        )
    })?;
    let stations: Option<HashSet<String>> = q
        .get("stations")
        .map(|s| {
            s.split(',')
                .map(str::trim)
                .filter(|s| !s.is_empty())
                .map(str::to_owned)
                .collect::<HashSet<_>>()
        })
        .filter(|s| !s.is_empty());
    let feed = Feed {
        commits: state.store.subscribe(),
        alerts: handle.subscribe(),
        shutdown: handle.shutdown.clone(),
        handle,
        stations,
        queue: VecDeque::new(),
        started: false,
    };
    let stream = futures_util::stream::unfold(feed, |mut feed| async move {
        if !feed.started {
            feed.started = true;
            let mut stations: Vec<String> = feed.stations.iter().flatten().cloned().collect();
            stations.sort();
            let ready = Event::default()
                .event("ready")
                .data(serde_json::to_string(&ReadyEvent { stations }).unwrap_or_default());
            return Some((Ok::<Event, Infallible>(ready), feed));
        }
        loop {
            if let Some(e) = feed.queue.pop_front() {
                return Some((Ok(e), feed));
            }
            if *feed.shutdown.borrow() {
                return None;
            }
            let got = tokio::select! {
                batch = feed.commits.recv() => Got::Batch(batch),
                change = feed.alerts.recv() => Got::Alert(change),
                _ = stopped(&mut feed.shutdown) => return None,
            };
            match got {
                Got::Batch(Ok(b)) => feed.queue_batch(&b),
                Got::Alert(Ok(c)) => {
                    if feed.wants(c.station.as_deref()) {
                        let data = serde_json::to_string(&*c).unwrap_or_default();
                        feed.queue
                            .push_back(Event::default().event("alert").data(data));
                    }
                }
                Got::Batch(Err(broadcast::error::RecvError::Lagged(n))) => {
                    feed.queue
                        .push_back(Event::default().event("lagged").data(lagged(Some(n), None)));
                }
                Got::Alert(Err(broadcast::error::RecvError::Lagged(n))) => {
                    feed.queue
                        .push_back(Event::default().event("lagged").data(lagged(None, Some(n))));
                }
                Got::Batch(Err(broadcast::error::RecvError::Closed))
                | Got::Alert(Err(broadcast::error::RecvError::Closed)) => {
                    return None;
                }
            }
        }
    });
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::new().interval(Duration::from_secs(15)))
        .into_response())
}
