//! `GET /api/v1/stations`: the status of every source's devices (online/offline, last frame, counters, rejects).
//! Never includes passwords; MNs (station login names) only for requests with a valid token.

use super::AppState;
use super::error::ApiError;
use axum::extract::State;
use axum::http::HeaderMap;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/stations", get(stations))
}

async fn stations(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<Value>, ApiError> {
    state.authorize_read(&headers)?;
    let board = &state.metrics.sources;
    let mut stations = json!(board.devices(sta::time::now_micros()));
    if !state.has_valid_token(&headers)
        && let Some(list) = stations.as_array_mut()
    {
        for s in list.iter_mut().filter_map(Value::as_object_mut) {
            s.remove("mn");
        }
    }
    Ok(Json(json!({
        "value": stations,
        "offline_after_s": state.config.hj212.offline_after_s,
        "unattributed_rejects": board.unattributed_rejects(),
    })))
}
