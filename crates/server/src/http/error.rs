//! Every error leaves as JSON with the HTTP status that names its kind.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;
use sta::StaError;
use store::StoreError;

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub message: String,
}

impl ApiError {
    pub fn new(status: StatusCode, message: impl Into<String>) -> Self {
        ApiError {
            status,
            message: message.into(),
        }
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, message)
    }
}

impl From<StaError> for ApiError {
    fn from(e: StaError) -> Self {
        let status = match &e {
            StaError::NotFound(_) => StatusCode::NOT_FOUND,
            StaError::NotImplemented(_) => StatusCode::NOT_IMPLEMENTED,
            StaError::BadPath(_) | StaError::BadQuery { .. } | StaError::BadBody(_) => {
                StatusCode::BAD_REQUEST
            }
        };
        ApiError::new(status, e.to_string())
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        ApiError::from(&e)
    }
}

/// One mapping for every caller, owned or borrowed (the alert engine hands out `&StoreError`).
impl From<&StoreError> for ApiError {
    fn from(e: &StoreError) -> Self {
        match e {
            StoreError::Sta(s) => s.clone().into(),
            // `$batch` reports which request failed itself; the error is the inner one.
            StoreError::InGroup { error, .. } => ApiError::from(error.as_ref()),
            StoreError::Conflict(m) => ApiError::new(StatusCode::CONFLICT, m.clone()),
            StoreError::Closed => ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "the server is shutting down",
            ),
            // Over one of SQLite's own limits: the request's fault, said in our words.
            StoreError::TooComplex(m) => ApiError::new(StatusCode::BAD_REQUEST, m.clone()),
            StoreError::ResponseTooLarge { cap } => super::redact::too_large(*cap),
            // Statement timeout (or a client that left): the server stopped the query on purpose.
            StoreError::Interrupted(m) => ApiError::new(StatusCode::SERVICE_UNAVAILABLE, m.clone()),
            StoreError::Database(m) => {
                tracing::error!(error = %m, "database error");
                ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, m.clone())
            }
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body =
            json!({ "code": self.status.as_u16(), "type": "error", "message": self.message });
        let mut r = (self.status, Json(body)).into_response();
        if self.status == StatusCode::UNAUTHORIZED {
            // RFC 6750 §3: a 401 names the scheme it wants.
            r.headers_mut().insert(
                axum::http::header::WWW_AUTHENTICATE,
                axum::http::HeaderValue::from_static("Bearer realm=\"qingshui\""),
            );
        }
        r
    }
}
