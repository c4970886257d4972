//! The HTTP face: SensorThings at `/v1.1`, the domain API at `/api/v1`, `/metrics`.

pub mod accounts;
pub mod alerts;
pub mod api;
pub mod audit_trail;
pub mod domain;
pub mod error;
pub mod events;
pub mod guard;
pub mod listener;
pub mod openapi;
pub mod redact;
pub mod reports;
pub mod review;
mod scene_document;
pub mod scenes;
pub mod schema;
pub mod sta;
mod sta_batch;
pub mod stations;
pub mod video;
pub mod web;

use crate::accounts::{Principal, Role};
use crate::config::Config;
use axum::Router;
use axum::extract::DefaultBodyLimit;
use axum::http::HeaderMap;
use axum::http::StatusCode;
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
    /// Accounts, tokens, sessions, login throttling, the audit trail.
    pub accounts: Arc<crate::accounts::Accounts>,
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

    /// Who the request acts as: a configured service token, a personal token, a session
    /// cookie, or nobody (`Open` on a `--open` server). Credentials that were presented but
    /// are not valid are an error, never a silent downgrade to anonymous.
    pub fn principal(&self, headers: &HeaderMap) -> Result<Principal, ApiError> {
        let now = store::clock::now_millis();
        if let Some(t) = bearer(headers) {
            if self.service_token_matches(t) {
                return Ok(Principal::Service);
            }
            return self.accounts.token(t, now).ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "the bearer token is not valid (unknown, revoked or expired)",
                )
            });
        }
        if let Some(id) = session_cookie(headers) {
            return self.accounts.session(id, now).ok_or_else(|| {
                ApiError::new(
                    StatusCode::UNAUTHORIZED,
                    "the login session has ended; log in again / 登录已失效，请重新登录",
                )
            });
        }
        Ok(if self.config.auth.open {
            Principal::Open
        } else {
            Principal::Anonymous
        })
    }

    /// The request's principal, which must hold at least `role`.
    pub fn authorize_role(&self, headers: &HeaderMap, role: Role) -> Result<Principal, ApiError> {
        require_role(self.principal(headers)?, role)
    }

    /// Data writes (STA, scenes) and alert actions: the operator role.
    pub fn authorize_write(&self, headers: &HeaderMap) -> Result<Principal, ApiError> {
        self.authorize_role(headers, Role::Operator)
    }

    pub fn authorize_read(&self, headers: &HeaderMap) -> Result<(), ApiError> {
        if self.config.auth.read_public || self.config.auth.open {
            // Presented credentials are still checked: a revoked token gets its 401.
            return self.principal(headers).map(|_| ());
        }
        self.authorize_role(headers, Role::Viewer).map(|_| ())
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

    /// The request acts with write rights (operator or above) by a credential — not by
    /// `--open`. Only such requests see station MNs (MNs are what an HJ 212 password guesser
    /// needs) and get the large body limit.
    pub fn has_valid_token(&self, headers: &HeaderMap) -> bool {
        self.principal(headers)
            .is_ok_and(|p| acts_by_credential(&p))
    }

    fn service_token_matches(&self, token: &str) -> bool {
        // Every configured token is compared in full, so timing tells nothing about any of them.
        self.config.auth.tokens.iter().fold(false, |found, k| {
            found | constant_time_eq(token.as_bytes(), k.as_bytes())
        })
    }
}

/// `p` holds at least `role`: 403 naming both when it holds less, 401 when it holds none.
pub fn require_role(p: Principal, role: Role) -> Result<Principal, ApiError> {
    match p.role() {
        Some(r) if r >= role => Ok(p),
        Some(r) => Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "this needs the {} role; {} has {} / 需要“{}”权限",
                role.as_str(),
                p.label(),
                r.as_str(),
                role.label_zh()
            ),
        )),
        None => Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "this request needs a login or 'Authorization: Bearer <token>' (service tokens are set in [auth] tokens; personal tokens at /api/v1/tokens; or run with --open)",
        )),
    }
}

/// Write rights (operator or above) by a credential, not by `--open`: what sees station MNs
/// and gets the large body limit.
pub fn acts_by_credential(p: &Principal) -> bool {
    !matches!(p, Principal::Open) && p.role().is_some_and(|r| r >= Role::Operator)
}

/// The session id of the `qingshui_session` cookie.
pub fn session_cookie(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(axum::http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|kv| kv.trim().split_once('='))
        .find(|(k, _)| *k == crate::accounts::SESSION_COOKIE)
        .map(|(_, v)| v.trim())
        .filter(|v| !v.is_empty())
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
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
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
        .merge(accounts::routes())
        .merge(review::routes())
        .merge(reports::routes())
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
