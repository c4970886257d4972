//! `/api/v1/alerts`: list and filter alerts, one alert with its history and comments,
//! acknowledge, clear, comment, and external events (the video-intrusion extension point).

use super::AppState;
use super::error::ApiError;
use crate::alerts::{AlertsHandle, EngineError, history_view, view};
use alerts::lifecycle::{Command, LifecycleError, Trigger};
use alerts::model::{Alert, AlertState, RuleKind, Severity};
use alerts::rules::Verdict;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::sync::Arc;
use store::alerts::AlertFilter;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/alerts", get(list))
        .route("/api/v1/alerts/external", post(external))
        .route("/api/v1/alerts/{id}", get(one))
        .route("/api/v1/alerts/{id}/ack", post(acknowledge))
        .route("/api/v1/alerts/{id}/clear", post(clear))
        .route("/api/v1/alerts/{id}/comments", post(comment))
}

fn handle(state: &AppState) -> Result<&Arc<AlertsHandle>, ApiError> {
    state
        .alerts
        .as_ref()
        .ok_or_else(|| ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "alerts are not running"))
}

impl From<EngineError> for ApiError {
    fn from(e: EngineError) -> Self {
        let status = match &e {
            EngineError::NotFound(_) => StatusCode::NOT_FOUND,
            EngineError::Lifecycle(LifecycleError::Empty(_)) => StatusCode::BAD_REQUEST,
            EngineError::Lifecycle(_) => StatusCode::CONFLICT,
            EngineError::Store(s) => return ApiError::from(s),
            EngineError::Disabled | EngineError::Stopped => StatusCode::SERVICE_UNAVAILABLE,
        };
        ApiError::new(status, e.to_string())
    }
}

/// `a,b` or repeated values → a list, each checked by `parse`.
fn list_param<T>(
    q: &HashMap<String, String>,
    key: &str,
    parse: impl Fn(&str) -> Result<T, String>,
) -> Result<Vec<String>, ApiError> {
    let Some(raw) = q.get(key) else {
        return Ok(Vec::new());
    };
    raw.split(',')
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(|s| {
            parse(s)
                .map(|_| s.to_ascii_lowercase())
                .map_err(|e| ApiError::bad_request(format!("{key}: {e}")))
        })
        .collect()
}

fn number(
    q: &HashMap<String, String>,
    key: &str,
    default: usize,
    max: usize,
) -> Result<usize, ApiError> {
    match q.get(key) {
        None => Ok(default),
        Some(s) => s.trim().parse::<usize>().map(|n| n.min(max)).map_err(|_| {
            ApiError::bad_request(format!("{key} must be a non-negative integer, not {s:?}"))
        }),
    }
}

/// `GET /api/v1/alerts?state=active|acknowledged|cleared&severity=&station=&rule=&limit=&offset=`
async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<HashMap<String, String>>,
) -> Result<Response, ApiError> {
    state.authorize_read(&headers)?;
    let store = handle(&state)?.store.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "this store keeps no alerts",
        )
    })?;
    let filter = AlertFilter {
        states: list_param(&q, "state", |s| s.parse::<AlertState>().map(|_| ()))?
            .into_iter()
            .map(|s| if s == "ack" { "acknowledged".into() } else { s })
            .collect(),
        severities: list_param(&q, "severity", |s| s.parse::<Severity>().map(|_| ()))?,
        stations: q
            .get("station")
            .map(|s| {
                s.split(',')
                    .map(str::trim)
                    .filter(|s| !s.is_empty())
                    .map(str::to_owned)
                    .collect()
            })
            .unwrap_or_default(),
        rules: list_param(&q, "rule", |s| s.parse::<RuleKind>().map(|_| ()))?,
        limit: number(&q, "limit", 100, 1000)?,
        offset: number(&q, "offset", 0, usize::MAX)?,
    };
    let (rows, total) = store.alerts(filter).await?;
    let value: Vec<Value> = rows
        .into_iter()
        .map(|r| {
            serde_json::from_value::<Alert>(r.body)
                .map(|a| view(&a))
                .unwrap_or(Value::Null)
        })
        .collect();
    Ok(Json(json!({ "count": total, "value": value })).into_response())
}

/// `GET /api/v1/alerts/{id}`: the alert, its full history and its comments.
async fn one(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    state.authorize_read(&headers)?;
    let id = alert_id(&id)?;
    let store = handle(&state)?.store.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "this store keeps no alerts",
        )
    })?;
    let (row, history) = store
        .alert(id)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no alert {id}")))?;
    let alert: Alert = serde_json::from_value(row.body).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("unreadable alert {id}: {e}"),
        )
    })?;
    let history: Vec<Value> = history.iter().map(|h| history_view(&h.body)).collect();
    let comments: Vec<Value> = history
        .iter()
        .filter(|h| h.get("action").and_then(Value::as_str) == Some("commented"))
        .map(|h| json!({ "at": h["at"], "by": h["by"], "text": h["message"] }))
        .collect();
    let mut v = view(&alert);
    if let Some(o) = v.as_object_mut() {
        o.insert("history".into(), Value::Array(history));
        o.insert("comments".into(), Value::Array(comments));
    }
    Ok(Json(v).into_response())
}

fn alert_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no alert {raw:?}")))
}

#[derive(Debug, Default, Deserialize)]
struct ByBody {
    #[serde(default)]
    by: String,
    #[serde(default)]
    comment: Option<String>,
    #[serde(default)]
    text: Option<String>,
}

fn body(raw: &axum::body::Bytes) -> Result<ByBody, ApiError> {
    if raw.iter().all(u8::is_ascii_whitespace) {
        return Ok(ByBody::default());
    }
    serde_json::from_slice(raw).map_err(|e| {
        ApiError::bad_request(format!(
            "the body must be JSON {{\"by\": \"…\", \"comment\": \"…\"}}: {e}"
        ))
    })
}

async fn command(
    state: &AppState,
    headers: &HeaderMap,
    id: &str,
    command: Command,
    status: StatusCode,
) -> Result<Response, ApiError> {
    state.authorize_write(headers)?;
    let id = alert_id(id)?;
    let alert = handle(state)?.command(id, command).await?;
    Ok((status, Json(view(&alert))).into_response())
}

/// `POST /api/v1/alerts/{id}/ack` `{"by": "…", "comment": "…"}`
async fn acknowledge(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let b = body(&raw)?;
    command(
        &state,
        &headers,
        &id,
        Command::Acknowledge {
            by: b.by,
            comment: b.comment.or(b.text),
        },
        StatusCode::OK,
    )
    .await
}

/// `POST /api/v1/alerts/{id}/clear` `{"by": "…", "comment": "…"}`
async fn clear(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let b = body(&raw)?;
    command(
        &state,
        &headers,
        &id,
        Command::Clear {
            by: b.by,
            comment: b.comment.or(b.text),
        },
        StatusCode::OK,
    )
    .await
}

/// `POST /api/v1/alerts/{id}/comments` `{"by": "…", "text": "…"}` (or `"comment"`)
async fn comment(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let b = body(&raw)?;
    let text = b.text.or(b.comment).unwrap_or_default();
    command(
        &state,
        &headers,
        &id,
        Command::Comment { by: b.by, text },
        StatusCode::CREATED,
    )
    .await
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct ExternalBody {
    /// Only `intrusion` for now.
    rule: RuleKind,
    /// The reporting video point or device, e.g. `V07`.
    source: String,
    #[serde(default)]
    station: Option<String>,
    #[serde(default = "major")]
    severity: Severity,
    #[serde(default)]
    message: Option<String>,
    /// `true` raises/updates, `false` resolves.
    #[serde(default = "yes")]
    active: bool,
    #[serde(default)]
    details: Value,
}

fn major() -> Severity {
    Severity::Major
}
fn yes() -> bool {
    true
}

/// `POST /api/v1/alerts/external`: an event from outside the observation stream, e.g. a video
/// point's intrusion detection: `{"rule":"intrusion","source":"V07","severity":"major","message":"…"}`.
async fn external(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: axum::body::Bytes,
) -> Result<Response, ApiError> {
    state.authorize_write(&headers)?;
    let b: ExternalBody = serde_json::from_slice(&raw)
        .map_err(|e| ApiError::bad_request(format!("bad external alert: {e}")))?;
    if b.rule != RuleKind::Intrusion {
        return Err(ApiError::bad_request(
            "only rule \"intrusion\" is accepted from outside; the other rules read observations",
        ));
    }
    let source = b.source.trim().to_owned();
    if source.is_empty() {
        return Err(ApiError::bad_request("source must not be empty"));
    }
    let message = b
        .message
        .unwrap_or_else(|| format!("intrusion reported by {source}"));
    let verdict = if b.active {
        Verdict::Trigger(Trigger {
            rule: b.rule,
            source,
            station: b.station,
            parameter: None,
            datastream_id: None,
            severity: b.severity,
            message,
            details: b.details,
            observed_at: Some(sta::time::now_micros()),
        })
    } else {
        Verdict::Resolve {
            rule: b.rule,
            source,
            message,
            details: b.details,
        }
    };
    match handle(&state)?.external(verdict).await? {
        Some(a) => Ok((StatusCode::OK, Json(view(&a))).into_response()),
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}
