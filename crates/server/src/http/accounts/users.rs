//! Accounts (admin) and the audit trail (admin).

use super::super::AppState;
use super::super::audit_trail::from_addr;
use super::super::domain::parse_time;
use super::super::error::ApiError;
use super::super::schema::ErrorBody;
use super::{UserView, account_store, audit, json_body, millis_to_rfc3339, role_of, user_view};
use crate::accounts::{Role, password};
use axum::Json;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use store::accounts::{AuditFilter, UserRecord};
use utoipa::{IntoParams, ToSchema};

#[derive(Debug, Serialize, ToSchema)]
pub struct UsersBody {
    pub value: Vec<UserView>,
}

#[utoipa::path(get, path = "/api/v1/users", tag = "accounts",
    responses((status = 200, body = UsersBody), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(in crate::http) async fn users(
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
pub(in crate::http) async fn add_user(
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
pub(in crate::http) async fn update_user(
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
        state.accounts.forget_user(u.id).await;
    } else {
        state.accounts.refresh_user(&u).await;
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

#[utoipa::path(get, path = "/api/v1/audit", tag = "accounts", params(AuditQuery),
    responses((status = 200, body = AuditBody), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody)))]
pub(in crate::http) async fn audit_list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<AuditQuery>,
) -> Result<Json<AuditBody>, ApiError> {
    state.authorize_role(&headers, Role::Admin)?;
    let filter = AuditFilter {
        principal: q.principal.clone(),
        action: q.action.clone(),
        since: parse_time("since", &q.since)?.map(|us| us / 1000),
        until: parse_time("until", &q.until)?.map(|us| us / 1000),
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
