//! Personal API tokens: shown once at creation, kept as digests, revocable, expiring.

use super::super::AppState;
use super::super::audit_trail::from_addr;
use super::super::error::ApiError;
use super::super::schema::ErrorBody;
use super::{account_store, audit, json_body, millis_to_rfc3339, role_of};
use crate::accounts::{Principal, Role};
use axum::Json;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use serde::{Deserialize, Serialize};
use serde_json::json;
use store::accounts::UserRecord;
use utoipa::ToSchema;

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
pub(in crate::http) async fn tokens(
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
pub(in crate::http) async fn create_token(
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
pub(in crate::http) async fn revoke_token(
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
