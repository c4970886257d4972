//! `GET /api/v1/stations`: the status of every source's devices (online/offline, last frame, counters, rejects).
//! Never includes passwords; MNs (station login names) only for requests with a valid token.

use super::AppState;
use super::error::ApiError;
use super::schema::{ErrorBody, StationsBody};
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::Value;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/stations", get(stations))
}

#[utoipa::path(get, path = "/api/v1/stations", tag = "domain",
    responses((status = 200, body = StationsBody), (status = 401, body = ErrorBody)))]
pub(super) async fn stations(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<StationsBody>, ApiError> {
    state.authorize_read(&headers)?;
    let board = &state.metrics.sources;
    let mut stations: Vec<Value> = board
        .devices(store::clock::now_micros())
        .iter()
        .map(|s| serde_json::to_value(s).unwrap_or_default())
        .collect();
    if !state.has_valid_token(&headers) {
        for s in stations.iter_mut().filter_map(Value::as_object_mut) {
            s.remove("mn");
        }
    }
    Ok(Json(StationsBody {
        value: stations,
        offline_after_s: state.config.hj212.offline_after_s,
        unattributed_rejects: board
            .unattributed_rejects()
            .into_iter()
            .map(|(r, n)| (r.to_owned(), n))
            .collect(),
    }))
}
