//! `GET /api/v1/stations`: HJ 212 station status (online/offline, last frame, counters, rejects).
//! Never includes passwords.

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
    let board = &state.metrics.stations;
    Ok(Json(json!({
        "value": board.snapshot(sta::time::now_micros()),
        "offline_after_s": state.config.hj212.offline_after_s,
        "unattributed_rejects": board.unattributed_rejects(),
    })))
}
