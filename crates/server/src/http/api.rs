//! The domain API (`/api/v1`) and `/metrics`.

use super::AppState;
use super::error::ApiError;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/health", get(health))
        .route("/api/v1/latest", get(latest))
        .route("/metrics", get(metrics))
}

/// Health and metrics follow the read policy (or `[auth] metrics_token`): store counters and
/// station names are not for strangers when reads are closed.
async fn health(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    state.authorize_metrics(&headers)?;
    let stats = state.store.stats();
    Ok(Json(
        json!({ "status": "ok", "version": env!("CARGO_PKG_VERSION"), "store": stats }),
    ))
}

#[derive(Deserialize)]
struct LatestParams {
    /// Comma-separated datastream ids; all when absent.
    datastreams: Option<String>,
}

/// The latest observation of every datastream, from the maintained latest-value columns.
async fn latest(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<LatestParams>,
) -> Result<Json<Value>, ApiError> {
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
    Ok(Json(json!({ "value": values })))
}

async fn metrics(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<impl IntoResponse, ApiError> {
    state.authorize_metrics(&headers)?;
    let body = state.metrics.render(&state.store.stats());
    Ok(([(header::CONTENT_TYPE, "text/plain; version=0.0.4")], body))
}
