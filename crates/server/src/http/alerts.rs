//! `/api/v1/alerts`: list and filter alerts, one alert with its history and comments,
//! acknowledge, clear, comment, and external events (the video-intrusion extension point).

use super::AppState;
use super::error::ApiError;
use super::schema::{AlertComment, AlertDetail, AlertList, AlertView, ByBody, ErrorBody};
use crate::alerts::{AlertsHandle, EngineError, history_view};
use alerts::lifecycle::{Command, LifecycleError, Trigger};
use alerts::model::{Alert, AlertState, RuleKind, Severity};
use alerts::rules::Verdict;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::Value;
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
#[utoipa::path(get, path = "/api/v1/alerts", tag = "alerts",
    params(
        ("state" = Option<String>, Query, description = "active, acknowledged, cleared (comma-separated)"),
        ("severity" = Option<String>, Query, description = "warning, minor, major, critical"),
        ("station" = Option<String>, Query, description = "station codes (comma-separated)"),
        ("rule" = Option<String>, Query, description = "rule kinds (comma-separated)"),
        ("limit" = Option<usize>, Query, description = "at most 1000, default 100"),
        ("offset" = Option<usize>, Query),
    ),
    responses((status = 200, body = AlertList), (status = 400, body = ErrorBody),
        (status = 503, body = ErrorBody)))]
pub(super) async fn list(
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
    // A row that no longer reads as an alert is left out rather than failing the whole page.
    let value = rows
        .into_iter()
        .filter_map(|r| serde_json::from_value::<Alert>(r.body).ok())
        .filter_map(|a| AlertView::of(&a).ok())
        .collect();
    Ok(Json(AlertList {
        count: total as u64,
        value,
    })
    .into_response())
}

/// `GET /api/v1/alerts/{id}`: the alert, its full history and its comments.
#[utoipa::path(get, path = "/api/v1/alerts/{id}", tag = "alerts", params(("id" = i64, Path)),
    responses((status = 200, body = AlertDetail), (status = 404, body = ErrorBody)))]
pub(super) async fn one(
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
    let comments = history
        .iter()
        .filter(|h| h.get("action").and_then(Value::as_str) == Some("commented"))
        .map(|h| AlertComment {
            at: h["at"].clone(),
            by: h["by"].clone(),
            text: h["message"].clone(),
        })
        .collect();
    Ok(Json(AlertDetail {
        alert: shown(&alert)?,
        history,
        comments,
    })
    .into_response())
}

/// The alert as the API shows it; a record that does not fit the view is a server bug.
fn shown(alert: &Alert) -> Result<AlertView, ApiError> {
    AlertView::of(alert).map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("alert {}: {e}", alert.id),
        )
    })
}

fn alert_id(raw: &str) -> Result<i64, ApiError> {
    raw.parse::<i64>()
        .ok()
        .filter(|&n| n > 0)
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no alert {raw:?}")))
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
    Ok((status, Json(shown(&alert)?)).into_response())
}

/// `POST /api/v1/alerts/{id}/ack` `{"by": "…", "comment": "…"}`
#[utoipa::path(post, path = "/api/v1/alerts/{id}/ack", tag = "alerts", params(("id" = i64, Path)),
    request_body(content = ByBody, description = "may be empty"),
    responses((status = 200, body = AlertView), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub(super) async fn acknowledge(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let b = body(&raw)?;
    // The history names the person who did it, not what the body claims (services may say).
    let by = state.authorize_write(&headers)?.actor(&b.by);
    command(
        &state,
        &headers,
        &id,
        Command::Acknowledge {
            by,
            comment: b.comment.or(b.text),
        },
        StatusCode::OK,
    )
    .await
}

/// `POST /api/v1/alerts/{id}/clear` `{"by": "…", "comment": "…"}`
#[utoipa::path(post, path = "/api/v1/alerts/{id}/clear", tag = "alerts", params(("id" = i64, Path)),
    request_body(content = ByBody, description = "may be empty"),
    responses((status = 200, body = AlertView), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub(super) async fn clear(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let b = body(&raw)?;
    // The history names the person who did it, not what the body claims (services may say).
    let by = state.authorize_write(&headers)?.actor(&b.by);
    command(
        &state,
        &headers,
        &id,
        Command::Clear {
            by,
            comment: b.comment.or(b.text),
        },
        StatusCode::OK,
    )
    .await
}

/// `POST /api/v1/alerts/{id}/comments` `{"by": "…", "text": "…"}` (or `"comment"`)
#[utoipa::path(post, path = "/api/v1/alerts/{id}/comments", tag = "alerts", params(("id" = i64, Path)),
    request_body(content = ByBody, description = "may be empty"),
    responses((status = 201, body = AlertView), (status = 404, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub(super) async fn comment(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<String>,
    raw: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let b = body(&raw)?;
    let text = b.text.or(b.comment).unwrap_or_default();
    let by = state.authorize_write(&headers)?.actor(&b.by);
    command(
        &state,
        &headers,
        &id,
        Command::Comment { by, text },
        StatusCode::CREATED,
    )
    .await
}

#[derive(Debug, Deserialize, utoipa::ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ExternalBody {
    /// Only `intrusion` for now.
    #[schema(value_type = String)]
    rule: RuleKind,
    /// The reporting video point or device, e.g. `V07`.
    source: String,
    #[serde(default)]
    station: Option<String>,
    #[serde(default = "major")]
    #[schema(value_type = String)]
    severity: Severity,
    #[serde(default)]
    message: Option<String>,
    /// `true` raises/updates, `false` resolves.
    #[serde(default = "yes")]
    active: bool,
    #[serde(default)]
    #[schema(value_type = Object)]
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
#[utoipa::path(post, path = "/api/v1/alerts/external", tag = "alerts", request_body = ExternalBody,
    responses((status = 200, body = AlertView), (status = 204), (status = 400, body = ErrorBody)))]
pub(super) async fn external(
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
            observed_at: Some(store::clock::now_micros()),
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
        Some(a) => Ok((StatusCode::OK, Json(shown(&a)?)).into_response()),
        None => Ok(StatusCode::NO_CONTENT.into_response()),
    }
}
