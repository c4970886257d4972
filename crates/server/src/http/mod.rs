//! The HTTP face: SensorThings at `/v1.1`, the domain API at `/api/v1`, `/metrics`.

pub mod alerts;
pub mod api;
pub mod domain;
pub mod error;
pub mod events;
pub mod guard;
pub mod listener;
pub mod openapi;
pub mod redact;
pub mod scenes;
pub mod schema;
pub mod sta;
mod sta_batch;
pub mod stations;
pub mod video;
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
    /// GB/T 28181 alarm snapshots (`None` without a `[gb28181]` listener).
    pub snapshots: Option<Arc<crate::sources::gb28181::snapshots::SnapshotStore>>,
    /// Live view of the video points through the media server (docs/video.md).
    pub live: Option<Arc<crate::sources::gb28181::live::LiveView>>,
}

impl AppState {
    /// `scheme://host[:port]` of this server in links: `[http] public_url`, which `start` sets
    /// to the bound listen address when it is not configured. Never the client's Host header: a
    /// forged Host would otherwise end up in every selfLink, nextLink and Location.
    pub fn public_url(&self) -> String {
        match &self.config.http.public_url {
            Some(u) => u.trim_end_matches('/').to_string(),
            None => format!("http://{}", self.config.http.addr),
        }
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

    /// `/metrics` and `/api/v1/health`: the read policy, or the separate `[auth] metrics_token`.
    pub fn authorize_metrics(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        if let Some(expected) = &self.config.auth.metrics_token
            && bearer(headers).is_some_and(|t| constant_time_eq(t.as_bytes(), expected.as_bytes()))
        {
            return Ok(());
        }
        self.authorize_read(headers)
    }

    /// The request carries one of the configured tokens. Only such requests see station MNs
    /// (`--open` does not count: MNs are what an HJ 212 password guesser needs).
    pub fn has_valid_token(&self, headers: &HeaderMap) -> bool {
        bearer(headers).is_some_and(|t| self.token_matches(t))
    }

    fn token_matches(&self, token: &str) -> bool {
        // Every configured token is compared in full, so timing tells nothing about any of them.
        self.config.auth.tokens.iter().fold(false, |found, k| {
            found | constant_time_eq(token.as_bytes(), k.as_bytes())
        })
    }

    fn check_token(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        match bearer(headers) {
            Some(t) if self.token_matches(t) => Ok(()),
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

/// The token of an `Authorization: Bearer <token>` header; the scheme is case-insensitive
/// (RFC 7235 §2.1), so `bearer` and `BEARER` work too.
fn bearer(headers: &HeaderMap) -> Option<&str> {
    let value = headers
        .get(axum::http::header::AUTHORIZATION)?
        .to_str()
        .ok()?
        .trim();
    let (scheme, token) = value.split_once(' ')?;
    scheme
        .eq_ignore_ascii_case("bearer")
        .then(|| token.trim())
        .filter(|t| !t.is_empty())
}

/// Equality whose time depends on the lengths only, not on where the bytes differ.
fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    std::hint::black_box(diff) == 0
}

pub fn router(state: AppState) -> Router {
    let max_body = state.config.http.max_body_bytes;
    Router::new()
        .merge(sta::routes())
        .merge(api::routes())
        .merge(domain::routes())
        .merge(stations::routes())
        .merge(scenes::routes(state.config.imagery.max_scene_bytes))
        .merge(video::routes())
        .merge(openapi::routes())
        .merge(alerts::routes().merge(events::routes()))
        .merge(web::routes())
        .fallback(unknown_route)
        .layer(DefaultBodyLimit::max(max_body))
        .layer(tower_http::trace::TraceLayer::new_for_http())
        // Outermost last: errors of every layer below (and of the guards) become JSON.
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::limits,
        ))
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            guard::cors,
        ))
        .layer(axum::middleware::from_fn(guard::json_errors))
        .with_state(state)
}

async fn unknown_route(uri: axum::http::Uri) -> ApiError {
    ApiError::new(
        axum::http::StatusCode::NOT_FOUND,
        format!("no such resource: {}", uri.path()),
    )
}
