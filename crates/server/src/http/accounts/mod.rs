//! Accounts over HTTP: `/api/v1/session` (log in, who am I, log out), `/api/v1/tokens`
//! (personal API tokens: shown once, revocable, expiring), `/api/v1/users` (admin) and
//! `/api/v1/audit` (admin). See docs/security.md "Who may do what".

mod tokens;
mod users;

pub(in crate::http) use tokens::{
    __path_create_token, __path_revoke_token, __path_tokens, create_token, revoke_token, tokens,
};
pub use users::valid_name;
pub(in crate::http) use users::{
    __path_add_user, __path_audit_list, __path_update_user, __path_users, add_user, audit_list,
    update_user, users,
};

use super::AppState;
use super::audit_trail::from_addr;
use super::error::ApiError;
use super::schema::ErrorBody;
use crate::accounts::{Principal, Role, SESSION_COOKIE, Via, password};
use axum::extract::State;
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::Arc;
use store::accounts::{AccountStore, AuditRecord, UserRecord};
use utoipa::ToSchema;

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/session", get(whoami).post(login).delete(logout))
        .route("/api/v1/tokens", get(tokens).post(create_token))
        .route("/api/v1/tokens/{id}", delete(revoke_token))
        .route("/api/v1/users", get(users).post(add_user))
        .route("/api/v1/users/{name}", patch(update_user))
        .route("/api/v1/audit", get(audit_list))
}

pub(super) fn account_store(state: &AppState) -> Result<&Arc<dyn AccountStore>, ApiError> {
    state.accounts.store.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "this storage backend keeps no accounts",
        )
    })
}

pub(super) fn json_body<T: serde::de::DeserializeOwned>(
    raw: &[u8],
    shape: &str,
) -> Result<T, ApiError> {
    serde_json::from_slice(raw)
        .map_err(|e| ApiError::bad_request(format!("the body must be JSON {shape}: {e}")))
}

pub(super) fn role_of(s: &str) -> Result<Role, ApiError> {
    Role::parse(s).ok_or_else(|| {
        ApiError::bad_request(format!(
            "unknown role {s:?}: one of viewer, operator, reviewer, admin"
        ))
    })
}

pub(super) fn audit(
    state: &AppState,
    headers_addr: &str,
    principal: String,
    action: &str,
    target: String,
    details: Value,
) {
    state.accounts.audit.record(AuditRecord {
        id: 0,
        at: store::clock::now_millis(),
        principal,
        action: action.into(),
        target,
        from_addr: headers_addr.into(),
        details,
    });
}

pub(in crate::http) fn millis_to_rfc3339(ms: i64) -> String {
    sta::time::format_instant(ms.saturating_mul(1000))
}

/// A person as the API shows them (never the password hash).
#[derive(Debug, Serialize, ToSchema)]
pub struct UserView {
    pub name: String,
    pub display_name: String,
    /// viewer, operator, reviewer or admin.
    pub role: String,
    pub disabled: bool,
    pub created_at: String,
}

pub(super) fn user_view(u: &UserRecord) -> UserView {
    UserView {
        name: u.name.clone(),
        display_name: u.display_name.clone(),
        role: u.role.clone(),
        disabled: u.disabled,
        created_at: millis_to_rfc3339(u.created_at),
    }
}

/// Who the request acts as.
#[derive(Debug, Serialize, ToSchema)]
pub struct SessionView {
    pub authenticated: bool,
    /// `user:<name>`, `token:<prefix>…(<name>)`, `service`, `anonymous`.
    pub principal: String,
    pub name: Option<String>,
    pub display_name: Option<String>,
    pub role: Option<String>,
    /// The CSRF token to send as `X-CSRF-Token` on state changes (session logins only).
    pub csrf: Option<String>,
    pub expires_at: Option<String>,
    /// Whether anonymous reads are allowed (`[auth] read_public`).
    pub read_public: bool,
}

fn session_view(state: &AppState, p: &Principal) -> SessionView {
    let (name, display_name, csrf, expires_at) = match p {
        Principal::User {
            name,
            display_name,
            via,
            ..
        } => {
            let (csrf, exp) = match via {
                Via::Session {
                    csrf, expires_at, ..
                } => (Some(csrf.clone()), Some(millis_to_rfc3339(*expires_at))),
                Via::Token { .. } => (None, None),
            };
            (Some(name.clone()), Some(display_name.clone()), csrf, exp)
        }
        _ => (None, None, None, None),
    };
    SessionView {
        authenticated: matches!(p, Principal::User { .. } | Principal::Service),
        principal: p.label(),
        name,
        display_name,
        role: p.role().map(|r| r.as_str().to_string()),
        csrf,
        expires_at,
        read_public: state.config.auth.read_public || state.config.auth.open,
    }
}

#[utoipa::path(get, path = "/api/v1/session", tag = "accounts",
    responses((status = 200, body = SessionView), (status = 401, body = ErrorBody)))]
pub(super) async fn whoami(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<SessionView>, ApiError> {
    let p = state.principal(&headers)?;
    Ok(Json(session_view(&state, &p)))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct LoginBody {
    pub name: String,
    pub password: String,
}

/// Log in: sets the `qingshui_session` cookie (HttpOnly, SameSite=Strict) and answers the
/// CSRF token the dashboard sends back on state changes.
#[utoipa::path(post, path = "/api/v1/session", tag = "accounts", request_body = LoginBody,
    responses((status = 200, body = SessionView), (status = 401, body = ErrorBody),
        (status = 429, body = ErrorBody)))]
pub(super) async fn login(
    State(state): State<AppState>,
    ext: axum::http::Extensions,
    raw: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let store = account_store(&state)?;
    let b: LoginBody = json_body(&raw, r#"{"name": "…", "password": "…"}"#)?;
    let addr = from_addr(&ext);
    let name_key = [format!("name:{}", b.name)];
    let addr_key = [format!("addr:{addr}")];
    let (by_name, by_addr) = (&state.accounts.throttle, &state.accounts.throttle_addr);
    if let Some(wait) = by_name.blocked(&name_key).max(by_addr.blocked(&addr_key)) {
        let mut r = ApiError::new(
            StatusCode::TOO_MANY_REQUESTS,
            format!("too many failed logins; try again in {wait} s / 登录失败次数过多，请 {wait} 秒后再试"),
        )
        .into_response();
        if let Ok(v) = HeaderValue::from_str(&wait.to_string()) {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        return Ok(r);
    }
    let user = store.user_by_name(&b.name).await?.filter(|u| !u.disabled);
    let ok =
        password::verify_blocking(b.password, user.as_ref().map(|u| u.password_hash.clone())).await;
    let Some(user) = user.filter(|_| ok) else {
        by_name.failed(&name_key);
        by_addr.failed(&addr_key);
        audit(
            &state,
            &addr,
            format!("user:{}", b.name),
            "session.login_failed",
            format!("user {}", b.name),
            json!({}),
        );
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "wrong name or password / 用户名或密码错误",
        ));
    };
    by_name.succeeded(&name_key);
    let now = store::clock::now_millis();
    let (id, session) = state
        .accounts
        .open_session(&user, addr.clone(), now)
        .await?;
    audit(
        &state,
        &addr,
        format!("user:{}", user.name),
        "session.login",
        format!("user {}", user.name),
        json!({}),
    );
    let cookie = format!(
        "{SESSION_COOKIE}={id}; Path=/; HttpOnly; SameSite=Strict; Max-Age={}{}",
        state.config.auth.session_ttl_s,
        if state.config.auth.cookie_secure {
            "; Secure"
        } else {
            ""
        }
    );
    let p = Principal::User {
        id: user.id,
        name: user.name.clone(),
        display_name: user.display_name.clone(),
        role: role_of(&user.role)?,
        via: Via::Session {
            digest: session.digest,
            csrf: session.csrf,
            expires_at: session.expires_at,
        },
    };
    let mut r = Json(session_view(&state, &p)).into_response();
    if let Ok(v) = HeaderValue::from_str(&cookie) {
        r.headers_mut().insert(header::SET_COOKIE, v);
    }
    Ok(r)
}

#[utoipa::path(delete, path = "/api/v1/session", tag = "accounts",
    responses((status = 204, description = "logged out; the cookie is cleared"), (status = 401, body = ErrorBody)))]
pub(super) async fn logout(
    State(state): State<AppState>,
    headers: HeaderMap,
    ext: axum::http::Extensions,
) -> Result<Response, ApiError> {
    let p = state.principal(&headers)?;
    if let Principal::User {
        via: Via::Session { digest, .. },
        ..
    } = &p
    {
        state.accounts.close_session(digest).await?;
        audit(
            &state,
            &from_addr(&ext),
            p.label(),
            "session.logout",
            p.label(),
            json!({}),
        );
    }
    let mut r = StatusCode::NO_CONTENT.into_response();
    r.headers_mut().insert(
        header::SET_COOKIE,
        HeaderValue::from_static("qingshui_session=; Path=/; HttpOnly; SameSite=Strict; Max-Age=0"),
    );
    Ok(r)
}
