//! The domain API (`/api/v1`) and `/metrics`.

use super::AppState;
use super::error::ApiError;
use super::schema::{ErrorBody, Health, LatestList};
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/latest", get(latest))
        .route("/metrics", get(metrics))
}

/// Health and metrics follow the read policy (or `[auth] metrics_token`): store counters and
/// station names are not for strangers when reads are closed.
#[utoipa::path(get, path = "/api/v1/health", tag = "service",
    responses((status = 200, body = Health), (status = 401, body = ErrorBody)))]
pub(super) async fn health(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Health>, ApiError> {
    state.authorize_metrics(&headers)?;
    let stats = state.store.stats();
    let backend = state.store.backend_health().await;
    Ok(Json(Health {
        status: if backend.error.is_some() {
            "degraded".into()
        } else {
            "ok".into()
        },
        version: env!("CARGO_PKG_VERSION").into(),
        store: serde_json::to_value(stats).unwrap_or_default(),
        backend: serde_json::to_value(backend).unwrap_or_default(),
    }))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub(super) struct LatestParams {
    /// Comma-separated datastream ids; all when absent.
    datastreams: Option<String>,
}

/// The latest observation of every datastream, from the maintained latest-value columns.
#[utoipa::path(get, path = "/api/v1/latest", tag = "domain", params(LatestParams),
    responses((status = 200, body = LatestList), (status = 400, body = ErrorBody)))]
pub(super) async fn latest(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<LatestParams>,
) -> Result<Json<LatestList>, ApiError> {
    state.authorize_read(&headers)?;
    let only = match p.datastreams {
        Some(list) => Some(
            list.split(',')
                .map(|s| {
                    s.trim().parse::<i64>().map_err(|_| {
                        ApiError::bad_request(format!("datastreams: '{s}' is not an id"))
                    })
                })
                .collect::<Result<Vec<_>, _>>()?,
        ),
        None => None,
    };
    let values = state.store.latest(only).await?;
    let value = values
        .iter()
        .map(serde_json::to_value)
        .collect::<Result<_, _>>()
        .map_err(|e| ApiError::new(axum::http::StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    Ok(Json(LatestList { value }))
}

/// Prometheus text format.
#[utoipa::path(get, path = "/metrics", tag = "service",
    responses((status = 200, content_type = "text/plain", body = String)))]
pub(super) async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    state.authorize_metrics(&headers)?;
    let body = state.metrics.render(&state.store.stats());
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body))
}
