//! `/api/v1/video/snapshots/{session}`: cameras upload alarm snapshots (PUT, authorised by the
//! one-time session id the platform sent in `SnapShotConfig`, since cameras hold no API token),
//! and the dashboard reads them (GET, read role). `/api/v1/video/{point}/play`: live view
//! through the media server (POST starts, DELETE stops; write role — an operator action, like
//! acknowledging an alert: it opens media server ports and makes the camera stream). See
//! docs/video.md.

use super::AppState;
use super::error::ApiError;
use super::schema::ErrorBody;
use crate::sources::gb28181::live::{PlayBody, PlayError};
use crate::sources::gb28181::snapshots::{SnapshotError, SnapshotStore};
use axum::Json;
use axum::Router;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{post, put};
use std::sync::Arc;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/video/snapshots/{session}",
            put(upload).get(snapshot),
        )
        .route("/api/v1/video/{point}/play", post(play).delete(stop))
}

/// The answer to `DELETE /api/v1/video/{point}/play`.
#[derive(Debug, serde::Serialize, utoipa::ToSchema)]
pub struct StopBody {
    pub point: String,
    /// False when no live view of the point was running.
    pub stopped: bool,
}

impl From<PlayError> for ApiError {
    fn from(e: PlayError) -> Self {
        let status = match &e {
            PlayError::NoMedia | PlayError::NoListener => StatusCode::SERVICE_UNAVAILABLE,
            PlayError::UnknownPoint(_) => StatusCode::NOT_FOUND,
            PlayError::Offline(_) | PlayError::Busy(_) => StatusCode::CONFLICT,
            PlayError::Media(_) | PlayError::Refused(_) => StatusCode::BAD_GATEWAY,
            PlayError::Timeout(..) => StatusCode::GATEWAY_TIMEOUT,
            PlayError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        };
        ApiError::new(status, e.to_string())
    }
}

fn live(state: &AppState) -> Result<&crate::sources::gb28181::live::LiveView, ApiError> {
    state
        .live
        .as_deref()
        .ok_or_else(|| PlayError::NoListener.into())
}

/// `POST /api/v1/video/{point}/play`: opens a port on the media server, INVITEs the camera and
/// answers with the stream's URLs (the running stream when it already plays).
#[utoipa::path(post, path = "/api/v1/video/{point}/play", tag = "video",
    params(("point" = String, Path, description = "video point id, e.g. V01")),
    responses((status = 200, body = PlayBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 409, body = ErrorBody, description = "camera not online"),
        (status = 502, body = ErrorBody), (status = 503, body = ErrorBody, description = "no media server configured"),
        (status = 504, body = ErrorBody)))]
pub(super) async fn play(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(point): Path<String>,
) -> Result<Json<PlayBody>, ApiError> {
    state.authorize_write(&headers)?;
    Ok(Json(live(&state)?.play(&point).await?))
}

/// `DELETE /api/v1/video/{point}/play`: BYE to the camera, the media server's port closed.
#[utoipa::path(delete, path = "/api/v1/video/{point}/play", tag = "video",
    params(("point" = String, Path)),
    responses((status = 200, body = StopBody), (status = 401, body = ErrorBody),
        (status = 404, body = ErrorBody), (status = 502, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub(super) async fn stop(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(point): Path<String>,
) -> Result<Json<StopBody>, ApiError> {
    state.authorize_write(&headers)?;
    let stopped = live(&state)?.stop(&point).await?;
    Ok(Json(StopBody { point, stopped }))
}

fn store(state: &AppState) -> Result<&Arc<SnapshotStore>, ApiError> {
    state.snapshots.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no GB/T 28181 snapshots on this server ([gb28181] addr, snapshots)",
        )
    })
}

#[utoipa::path(put, path = "/api/v1/video/snapshots/{session}", tag = "video",
    params(("session" = String, Path, description = "the upload session of the camera's SnapShotConfig")),
    request_body(content = Vec<u8>, content_type = "image/jpeg"),
    responses((status = 204, description = "stored and linked to its alert"),
        (status = 400, body = ErrorBody), (status = 404, body = ErrorBody), (status = 413, body = ErrorBody)))]
pub(super) async fn upload(
    State(state): State<AppState>,
    Path(session): Path<String>,
    body: Bytes,
) -> Result<StatusCode, ApiError> {
    let store = store(&state)?;
    let (path, trigger) = store.claim(&session, &body).map_err(|e| {
        let status = match e {
            SnapshotError::UnknownSession(_) => StatusCode::NOT_FOUND,
            SnapshotError::NotJpeg => StatusCode::BAD_REQUEST,
            SnapshotError::TooLarge { .. } => StatusCode::PAYLOAD_TOO_LARGE,
        };
        ApiError::new(status, e.to_string())
    })?;
    // Written under a temporary name, then renamed: a reader never sees half a picture.
    let tmp = path.with_extension("part");
    tokio::fs::write(&tmp, &body)
        .await
        .and(tokio::fs::rename(&tmp, &path).await)
        .map_err(|e| {
            tracing::error!(error = %e, "cannot store a snapshot");
            ApiError::new(StatusCode::SERVICE_UNAVAILABLE, "cannot store the snapshot")
        })?;
    store.link(trigger, &format!("/api/v1/video/snapshots/{session}"));
    Ok(StatusCode::NO_CONTENT)
}

#[utoipa::path(get, path = "/api/v1/video/snapshots/{session}", tag = "video",
    params(("session" = String, Path)),
    responses((status = 200, content_type = "image/jpeg", body = Vec<u8>),
        (status = 401, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn snapshot(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(session): Path<String>,
) -> Result<Response, ApiError> {
    state.authorize_read(&headers)?;
    let not_found = || ApiError::new(StatusCode::NOT_FOUND, format!("no snapshot {session:?}"));
    let path = store(&state)?.file(&session).ok_or_else(not_found)?;
    let bytes = tokio::fs::read(&path).await.map_err(|_| not_found())?;
    Ok(([(header::CONTENT_TYPE, "image/jpeg")], bytes).into_response())
}
