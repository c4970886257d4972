//! The HTTP face: SensorThings at `/v1.1`, the domain API at `/api/v1`, `/metrics`.

pub mod alerts;
pub mod api;
pub mod domain;
pub mod error;
pub mod events;
pub mod sta;
pub mod stations;
pub mod web;

use crate::config::Config;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::HeaderMap;
use error::ApiError;
use std::sync::Arc;
use store::Store;

#[derive(Clone)]
pub struct AppState {
    pub store: Arc<dyn Store>,
    pub config: Arc<Config>,
    pub metrics: Arc<crate::metrics::Metrics>,
    /// The loaded monitoring network, when the server runs with one.
    pub domain: Option<Arc<crate::domain::Domain>>,
    /// The alert engine and live events (`None` in setups that do not start them).
    pub alerts: Option<Arc<crate::alerts::AlertsHandle>>,
}

impl AppState {
    /// `scheme://host[:port]` as the client sees this server.
    pub fn public_url(&self, headers: &HeaderMap) -> String {
        if let Some(u) = &self.config.http.public_url {
            return u.trim_end_matches('/').to_string();
        }
        let host = headers
            .get(axum::http::header::HOST)
            .and_then(|h| h.to_str().ok())
            .map(str::to_string)
            .unwrap_or_else(|| self.config.http.addr.to_string());
        format!("http://{host}")
    }

    /// Writes need a bearer token from the configuration unless the server runs `--open`.
    pub fn authorize_write(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        if self.config.auth.open {
            return Ok(());
        }
        self.check_token(headers)
    }

    pub fn authorize_read(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        if self.config.auth.read_public || self.config.auth.open {
            return Ok(());
        }
        self.check_token(headers)
    }

    fn check_token(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        let token = headers
            .get(axum::http::header::AUTHORIZATION)
            .and_then(|h| h.to_str().ok())
            .and_then(|h| h.strip_prefix("Bearer "))
            .map(str::trim);
        match token {
            Some(t) if self.config.auth.tokens.iter().any(|k| k == t) => Ok(()),
            Some(_) => Err(ApiError::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "the bearer token is not valid",
            )),
            None => Err(ApiError::new(
                axum::http::StatusCode::UNAUTHORIZED,
                "this request needs 'Authorization: Bearer <token>' (tokens are set in [auth] tokens, or run with --open)",
            )),
        }
    }
}

pub fn router(state: AppState) -> Router {
    let max_body = state.config.http.max_body_bytes;
    Router::new()
        .merge(sta::routes())
        .merge(api::routes())
        .merge(domain::routes())
        .merge(stations::routes())
        .merge(alerts::routes().merge(events::routes()))
        .merge(web::routes())
        .layer(DefaultBodyLimit::max(max_body))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        .layer(tower_http::cors::CorsLayer::permissive())
        .with_state(state)
}
