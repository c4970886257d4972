//! Accounts over HTTP: `/api/v1/session` (log in, who am I, log out), `/api/v1/tokens`
//! (personal API tokens: shown once, revocable, expiring), `/api/v1/users` (admin) and
//! `/api/v1/audit` (admin). See docs/security.md "Who may do what".

use super::AppState;
use super::audit_trail::from_addr;
use super::error::ApiError;
use super::schema::ErrorBody;
use crate::accounts::{Principal, Role, SESSION_COOKIE, Via, password};
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, patch};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::sync::Arc;
use store::accounts::{AccountStore, AuditFilter, AuditRecord, UserRecord};
use utoipa::{IntoParams, ToSchema};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/session", get(whoami).post(login).delete(logout))
        .route("/api/v1/tokens", get(tokens).post(create_token))
        .route("/api/v1/tokens/{id}", delete(revoke_token))
        .route("/api/v1/users", get(users).post(add_user))
        .route("/api/v1/users/{name}", patch(update_user))
        .route("/api/v1/audit", get(audit_list))
}

fn account_store(state: &AppState) -> Result<&Arc<dyn AccountStore>, ApiError> {
    state.accounts.store.as_ref().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "this storage backend keeps no accounts",
        )
    })
}

fn json_body<T: serde::de::DeserializeOwned>(raw: &[u8], shape: &str) -> Result<T, ApiError> {
    serde_json::from_slice(raw)
        .map_err(|e| ApiError::bad_request(format!("the body must be JSON {shape}: {e}")))
}

fn role_of(s: &str) -> Result<Role, ApiError> {
    Role::parse(s).ok_or_else(|| {
        ApiError::bad_request(format!(
            "unknown role {s:?}: one of viewer, operator, reviewer, admin"
        ))
    })
}

fn audit(
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

fn millis_to_rfc3339(ms: i64) -> String {
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Secs, true))
        .unwrap_or_default()
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

fn user_view(u: &UserRecord) -> UserView {
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

/// A personal API token as listed (the token itself is shown only when created).
#[derive(Debug, Serialize, ToSchema)]
pub struct TokenView {
    pub id: i64,
    pub user: String,
    pub name: String,
    /// The token's first characters, to recognise it.
    pub prefix: String,
    pub role: String,
    pub created_at: String,
    pub expires_at: Option<String>,
    pub revoked_at: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct TokensBody {
    pub value: Vec<TokenView>,
}

/// The owner of the request's tokens (services and `--open` clients own none).
async fn owner(state: &AppState, p: &Principal) -> Result<UserRecord, ApiError> {
    let Principal::User { name, .. } = p else {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "personal tokens belong to a person: log in or use a personal token",
        ));
    };
    account_store(state)?
        .user_by_name(name)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::UNAUTHORIZED, "the account no longer exists"))
}

#[utoipa::path(get, path = "/api/v1/tokens", tag = "accounts",
    responses((status = 200, body = TokensBody), (status = 401, body = ErrorBody)))]
pub(super) async fn tokens(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<TokensBody>, ApiError> {
    let p = state.authorize_role(&headers, Role::Viewer)?;
    let store = account_store(&state)?;
    let users: std::collections::HashMap<i64, String> = store
        .users()
        .await?
        .into_iter()
        .map(|u| (u.id, u.name))
        .collect();
    let admin = p.role() == Some(Role::Admin);
    let mine = p.user_id();
    let value = store
        .tokens()
        .await?
        .into_iter()
        .filter(|t| admin || Some(t.user_id) == mine)
        .map(|t| TokenView {
            id: t.id,
            user: users.get(&t.user_id).cloned().unwrap_or_default(),
            name: t.name,
            prefix: t.prefix,
            role: t.role,
            created_at: millis_to_rfc3339(t.created_at),
            expires_at: t.expires_at.map(millis_to_rfc3339),
            revoked_at: t.revoked_at.map(millis_to_rfc3339),
        })
        .collect();
    Ok(Json(TokensBody { value }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewTokenBody {
    /// What it is for ("FROST client", "数据推送").
    pub name: String,
    /// At most the owner's role; default the owner's.
    pub role: Option<String>,
    /// Days until it expires; default and maximum `[auth] token_max_days`.
    pub expires_days: Option<u32>,
}

/// A new token: `token` is shown here once and never again.
#[derive(Debug, Serialize, ToSchema)]
pub struct NewTokenView {
    pub id: i64,
    pub token: String,
    pub prefix: String,
    pub role: String,
    pub expires_at: Option<String>,
}

#[utoipa::path(post, path = "/api/v1/tokens", tag = "accounts", request_body = NewTokenBody,
    responses((status = 201, body = NewTokenView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn create_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    ext: axum::http::Extensions,
    raw: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let p = state.authorize_role(&headers, Role::Viewer)?;
    let b: NewTokenBody = json_body(
        &raw,
        r#"{"name": "…", "role": "operator", "expires_days": 90}"#,
    )?;
    if b.name.trim().is_empty() || b.name.chars().count() > 100 {
        return Err(ApiError::bad_request(
            "a token needs a name of 1–100 characters",
        ));
    }
    let user = owner(&state, &p).await?;
    let own = role_of(&user.role)?;
    let held = p.role().unwrap_or(Role::Viewer).min(own);
    let role = match &b.role {
        Some(r) => role_of(r)?,
        None => held,
    };
    if role > held {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            format!(
                "a token cannot have more than {} / 令牌权限不能超过本人",
                held.as_str()
            ),
        ));
    }
    let max = state.config.auth.token_max_days.max(1);
    let days = b.expires_days.unwrap_or(max);
    if days == 0 || days > max {
        return Err(ApiError::bad_request(format!(
            "expires_days must be 1–{max} ([auth] token_max_days)"
        )));
    }
    let now = store::clock::now_millis();
    let expires = now + i64::from(days) * 86_400_000;
    let (token, t) = state
        .accounts
        .issue_token(&user, b.name.trim().to_string(), role, Some(expires), now)
        .await?;
    audit(
        &state,
        &from_addr(&ext),
        p.label(),
        "token.create",
        format!("token {} ({})", t.prefix, user.name),
        json!({"after": {"id": t.id, "name": t.name, "role": t.role, "expires_at": millis_to_rfc3339(expires)}}),
    );
    Ok((
        StatusCode::CREATED,
        Json(NewTokenView {
            id: t.id,
            token,
            prefix: t.prefix,
            role: t.role,
            expires_at: Some(millis_to_rfc3339(expires)),
        }),
    )
        .into_response())
}

#[utoipa::path(delete, path = "/api/v1/tokens/{id}", tag = "accounts", params(("id" = i64, Path)),
    responses((status = 204, description = "revoked"), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn revoke_token(
    State(state): State<AppState>,
    headers: HeaderMap,
    ext: axum::http::Extensions,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let p = state.authorize_role(&headers, Role::Viewer)?;
    let store = account_store(&state)?;
    let t = store
        .tokens()
        .await?
        .into_iter()
        .find(|t| t.id == id && t.revoked_at.is_none())
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no live token {id}")))?;
    if p.role() != Some(Role::Admin) && p.user_id() != Some(t.user_id) {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "only its owner or an admin may revoke a token",
        ));
    }
    state
        .accounts
        .revoke_token(id, store::clock::now_millis())
        .await?;
    audit(
        &state,
        &from_addr(&ext),
        p.label(),
        "token.revoke",
        format!("token {}", t.prefix),
        json!({"before": {"id": t.id, "name": t.name, "role": t.role}}),
    );
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Debug, Serialize, ToSchema)]
pub struct UsersBody {
    pub value: Vec<UserView>,
}

#[utoipa::path(get, path = "/api/v1/users", tag = "accounts",
    responses((status = 200, body = UsersBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn users(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<UsersBody>, ApiError> {
    state.authorize_role(&headers, Role::Admin)?;
    let value = account_store(&state)?
        .users()
        .await?
        .iter()
        .map(user_view)
        .collect();
    Ok(Json(UsersBody { value }))
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewUserBody {
    pub name: String,
    pub display_name: Option<String>,
    pub role: String,
    pub password: String,
}

/// A login name: 1–64 letters, digits, `.`, `_`, `-` (it appears in the audit trail).
pub fn valid_name(name: &str) -> bool {
    !name.is_empty()
        && name.len() <= 64
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || matches!(c, '.' | '_' | '-'))
}

#[utoipa::path(post, path = "/api/v1/users", tag = "accounts", request_body = NewUserBody,
    responses((status = 201, body = UserView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 409, body = ErrorBody)))]
pub(super) async fn add_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    ext: axum::http::Extensions,
    raw: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let p = state.authorize_role(&headers, Role::Admin)?;
    let b: NewUserBody = json_body(
        &raw,
        r#"{"name": "…", "role": "operator", "password": "…"}"#,
    )?;
    if !valid_name(&b.name) {
        return Err(ApiError::bad_request(
            "a login name has 1–64 letters, digits, '.', '_' or '-'",
        ));
    }
    let role = role_of(&b.role)?;
    password::check_policy(&b.password, state.config.auth.min_password_len)
        .map_err(|e| ApiError::bad_request(e.to_string()))?;
    let hash = password::hash_blocking(b.password)
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    let now = store::clock::now_millis();
    let mut u = UserRecord {
        id: 0,
        name: b.name.clone(),
        display_name: b.display_name.unwrap_or_else(|| b.name.clone()),
        role: role.as_str().into(),
        password_hash: hash,
        disabled: false,
        created_at: now,
        updated_at: now,
    };
    u.id = account_store(&state)?.add_user(u.clone()).await?;
    audit(
        &state,
        &from_addr(&ext),
        p.label(),
        "user.add",
        format!("user {}", u.name),
        json!({"after": {"name": u.name, "display_name": u.display_name, "role": u.role}}),
    );
    Ok((StatusCode::CREATED, Json(user_view(&u))).into_response())
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct UserPatchBody {
    pub display_name: Option<String>,
    pub role: Option<String>,
    pub password: Option<String>,
    pub disabled: Option<bool>,
}

#[utoipa::path(patch, path = "/api/v1/users/{name}", tag = "accounts", request_body = UserPatchBody,
    params(("name" = String, Path)),
    responses((status = 200, body = UserView), (status = 400, body = ErrorBody), (status = 403, body = ErrorBody),
        (status = 404, body = ErrorBody)))]
pub(super) async fn update_user(
    State(state): State<AppState>,
    headers: HeaderMap,
    ext: axum::http::Extensions,
    Path(name): Path<String>,
    raw: axum::body::Bytes,
) -> Result<Json<UserView>, ApiError> {
    let p = state.authorize_role(&headers, Role::Admin)?;
    let b: UserPatchBody = json_body(
        &raw,
        r#"{"display_name"?, "role"?, "password"?, "disabled"?}"#,
    )?;
    let store = account_store(&state)?;
    let before = store
        .user_by_name(&name)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no account {name:?}")))?;
    let mut u = before.clone();
    if let Some(d) = b.display_name {
        u.display_name = d;
    }
    if let Some(r) = &b.role {
        u.role = role_of(r)?.as_str().into();
    }
    if let Some(d) = b.disabled {
        u.disabled = d;
    }
    let password_changed = b.password.is_some();
    if let Some(pw) = b.password {
        password::check_policy(&pw, state.config.auth.min_password_len)
            .map_err(|e| ApiError::bad_request(e.to_string()))?;
        u.password_hash = password::hash_blocking(pw)
            .await
            .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, e.to_string()))?;
    }
    u.updated_at = store::clock::now_millis();
    store.update_user(u.clone()).await?;
    // A disabled account, or a new password, ends its sessions and tokens at once.
    if u.disabled || password_changed {
        state.accounts.forget_user(u.id);
    } else {
        state.accounts.refresh_user(&u);
    }
    audit(
        &state,
        &from_addr(&ext),
        p.label(),
        "user.update",
        format!("user {name}"),
        json!({
            "before": {"display_name": before.display_name, "role": before.role, "disabled": before.disabled},
            "after": {"display_name": u.display_name, "role": u.role, "disabled": u.disabled},
            "password_changed": password_changed,
        }),
    );
    Ok(Json(user_view(&u)))
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AuditQuery {
    /// `user:<name>`, `service`, …
    pub principal: Option<String>,
    /// Prefix of the action (`alert.`, `sta.`, `user.`, `session.`).
    pub action: Option<String>,
    /// RFC 3339.
    pub since: Option<String>,
    pub until: Option<String>,
    /// At most 1,000; default 200.
    pub limit: Option<usize>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditEntryView {
    pub id: i64,
    pub at: String,
    pub principal: String,
    pub action: String,
    pub target: String,
    pub from_addr: String,
    #[schema(value_type = Object)]
    pub details: Value,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AuditBody {
    pub value: Vec<AuditEntryView>,
}

fn time_param(name: &str, v: &Option<String>) -> Result<Option<i64>, ApiError> {
    v.as_deref()
        .map(|s| {
            chrono::DateTime::parse_from_rfc3339(s)
                .map(|t| t.timestamp_millis())
                .map_err(|e| ApiError::bad_request(format!("{name}: not an RFC 3339 time ({e})")))
        })
        .transpose()
}

#[utoipa::path(get, path = "/api/v1/audit", tag = "accounts", params(AuditQuery),
    responses((status = 200, body = AuditBody), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(super) async fn audit_list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> Result<Json<AuditBody>, ApiError> {
    state.authorize_role(&headers, Role::Admin)?;
    let filter = AuditFilter {
        principal: q.principal.clone(),
        action: q.action.clone(),
        since: time_param("since", &q.since)?,
        until: time_param("until", &q.until)?,
        limit: q.limit.unwrap_or(200).clamp(1, 1000),
    };
    let value = account_store(&state)?
        .audit(filter)
        .await?
        .into_iter()
        .map(|e| AuditEntryView {
            id: e.id,
            at: millis_to_rfc3339(e.at),
            principal: e.principal,
            action: e.action,
            target: e.target,
            from_addr: e.from_addr,
            details: e.details,
        })
        .collect();
    Ok(Json(AuditBody { value }))
}
