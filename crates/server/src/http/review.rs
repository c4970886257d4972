//! Data review (数据审核) over HTTP: `/api/v1/reviews` (mark a datastream's values in a time
//! range invalid or valid, with a reason from the fixed list; undo), `/api/v1/approvals`
//! (approve a station-day; undo). The reviewer role; raw values are never touched.
//! Assessments apply the reviews in force (`/api/v1/assessment?as_of=` for an earlier view).

use super::AppState;
use super::error::ApiError;
use super::schema::ErrorBody;
use crate::accounts::Role;
use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use store::review::{ApprovalRecord, REASONS, ReviewRecord, ReviewStore, Verdict};
use utoipa::{IntoParams, ToSchema};

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/api/v1/reviews", get(list).post(create))
        .route("/api/v1/reviews/{id}/undo", post(undo))
        .route("/api/v1/approvals", get(approvals).post(approve))
        .route("/api/v1/approvals/{id}/undo", post(undo_approval))
}

fn review_store(state: &AppState) -> Result<Arc<dyn ReviewStore>, ApiError> {
    state.store.clone().review_store().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "this storage backend keeps no reviews",
        )
    })
}

use super::accounts::millis_to_rfc3339 as iso_ms;
use super::domain::parse_instant as time;

/// A review as the API shows it.
#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewView {
    pub id: i64,
    pub datastream_id: i64,
    pub from: String,
    pub to: String,
    /// `invalid` or `valid`.
    pub verdict: String,
    pub reason: String,
    pub reason_zh: String,
    pub reason_en: String,
    pub note: String,
    pub by: String,
    pub at: String,
    pub undone_at: Option<String>,
    pub undone_by: Option<String>,
}

fn view(r: &ReviewRecord) -> ReviewView {
    let (zh, en) = REASONS
        .iter()
        .find(|(k, _, _)| *k == r.reason)
        .map_or(("", ""), |(_, zh, en)| (*zh, *en));
    ReviewView {
        id: r.id,
        datastream_id: r.datastream_id,
        from: sta::time::format_instant(r.start_us),
        to: sta::time::format_instant(r.end_us),
        verdict: match r.verdict {
            Verdict::Invalid => "invalid".into(),
            Verdict::Valid => "valid".into(),
        },
        reason: r.reason.clone(),
        reason_zh: zh.into(),
        reason_en: en.into(),
        note: r.note.clone(),
        by: r.by.clone(),
        at: iso_ms(r.at),
        undone_at: r.undone_at.map(iso_ms),
        undone_by: r.undone_by.clone(),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct NewReviewBody {
    pub datastream_id: i64,
    /// RFC 3339, inclusive.
    pub from: String,
    /// RFC 3339, inclusive.
    pub to: String,
    /// `invalid` or `valid`.
    pub verdict: String,
    /// One of instrument_fault, maintenance, out_of_range, communication, interference, other.
    pub reason: String,
    /// Free text; needed with `other`.
    #[serde(default)]
    pub note: String,
}

#[utoipa::path(post, path = "/api/v1/reviews", tag = "review", request_body = NewReviewBody,
    responses((status = 201, body = ReviewView), (status = 400, body = ErrorBody),
        (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let p = state.authorize_role(&headers, Role::Reviewer)?;
    let b: NewReviewBody = serde_json::from_slice(&raw).map_err(|e| {
        ApiError::bad_request(format!(
            "the body must be JSON {{\"datastream_id\", \"from\", \"to\", \"verdict\", \"reason\", \"note\"?}}: {e}"
        ))
    })?;
    let verdict = match b.verdict.as_str() {
        "invalid" => Verdict::Invalid,
        "valid" => Verdict::Valid,
        other => {
            return Err(ApiError::bad_request(format!(
                "verdict {other:?}: invalid or valid"
            )));
        }
    };
    if !REASONS.iter().any(|(k, _, _)| *k == b.reason) {
        return Err(ApiError::bad_request(format!(
            "reason {:?}: one of {}",
            b.reason,
            REASONS
                .iter()
                .map(|(k, _, _)| *k)
                .collect::<Vec<_>>()
                .join(", ")
        )));
    }
    if b.reason == "other" && b.note.trim().is_empty() {
        return Err(ApiError::bad_request(
            "reason 'other' needs a note saying why",
        ));
    }
    let (start, end) = (time("from", &b.from)?, time("to", &b.to)?);
    if start > end {
        return Err(ApiError::bad_request("from must not be after to"));
    }
    let known = state
        .domain
        .as_ref()
        .is_some_and(|d| d.directory.get(b.datastream_id).is_some());
    if !known {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no datastream {} of a network station", b.datastream_id),
        ));
    }
    let mut r = ReviewRecord {
        id: 0,
        datastream_id: b.datastream_id,
        start_us: start,
        end_us: end,
        verdict,
        reason: b.reason,
        note: b.note,
        by: p.actor(""),
        at: store::clock::now_millis(),
        undone_at: None,
        undone_by: None,
    };
    r.id = review_store(&state)?.add_review(r.clone()).await?;
    Ok((StatusCode::CREATED, Json(view(&r))).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReviewQuery {
    /// Datastream ids, comma-separated.
    pub datastreams: String,
    pub from: String,
    pub to: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ReviewsBody {
    pub value: Vec<ReviewView>,
}

#[utoipa::path(get, path = "/api/v1/reviews", tag = "review", params(ReviewQuery),
    responses((status = 200, body = ReviewsBody), (status = 400, body = ErrorBody)))]
pub(super) async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ReviewQuery>,
) -> Result<Json<ReviewsBody>, ApiError> {
    state.authorize_read(&headers)?;
    let ids = q
        .datastreams
        .split(',')
        .map(|s| s.trim().parse::<i64>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ApiError::bad_request("datastreams: comma-separated ids"))?;
    let rows = review_store(&state)?
        .reviews(ids, time("from", &q.from)?, time("to", &q.to)?)
        .await?;
    Ok(Json(ReviewsBody {
        value: rows.iter().map(view).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/reviews/{id}/undo", tag = "review", params(("id" = i64, Path)),
    responses((status = 200, body = ReviewView), (status = 404, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn undo(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Json<ReviewView>, ApiError> {
    let p = state.authorize_role(&headers, Role::Reviewer)?;
    let store = review_store(&state)?;
    if store.review(id).await?.is_none() {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no review {id}"),
        ));
    }
    if !store
        .undo_review(id, p.actor(""), store::clock::now_millis())
        .await?
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("review {id} is already undone"),
        ));
    }
    let r = store
        .review(id)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no review {id}")))?;
    Ok(Json(view(&r)))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalView {
    pub id: i64,
    pub station: String,
    pub day: String,
    pub by: String,
    pub at: String,
    pub undone_at: Option<String>,
    pub undone_by: Option<String>,
}

fn approval_view(a: &ApprovalRecord) -> ApprovalView {
    ApprovalView {
        id: a.id,
        station: a.station.clone(),
        day: a.day.clone(),
        by: a.by.clone(),
        at: iso_ms(a.at),
        undone_at: a.undone_at.map(iso_ms),
        undone_by: a.undone_by.clone(),
    }
}

#[derive(Debug, Deserialize, ToSchema)]
pub struct ApproveBody {
    pub station: String,
    /// Local calendar day, `YYYY-MM-DD`.
    pub day: String,
}

#[utoipa::path(post, path = "/api/v1/approvals", tag = "review", request_body = ApproveBody,
    responses((status = 201, body = ApprovalView), (status = 400, body = ErrorBody), (status = 404, body = ErrorBody)))]
pub(super) async fn approve(
    State(state): State<AppState>,
    headers: HeaderMap,
    raw: axum::body::Bytes,
) -> Result<Response, ApiError> {
    let p = state.authorize_role(&headers, Role::Reviewer)?;
    let b: ApproveBody = serde_json::from_slice(&raw).map_err(|e| {
        ApiError::bad_request(format!(
            "the body must be JSON {{\"station\", \"day\"}}: {e}"
        ))
    })?;
    if chrono::NaiveDate::parse_from_str(&b.day, "%Y-%m-%d").is_err() {
        return Err(ApiError::bad_request(format!(
            "day {:?}: YYYY-MM-DD",
            b.day
        )));
    }
    let known = state
        .domain
        .as_ref()
        .is_some_and(|d| d.network.station(&b.station).is_some());
    if !known {
        return Err(ApiError::new(
            StatusCode::NOT_FOUND,
            format!("no station {:?}", b.station),
        ));
    }
    let mut a = ApprovalRecord {
        id: 0,
        station: b.station,
        day: b.day,
        by: p.actor(""),
        at: store::clock::now_millis(),
        undone_at: None,
        undone_by: None,
    };
    a.id = review_store(&state)?.add_approval(a.clone()).await?;
    Ok((StatusCode::CREATED, Json(approval_view(&a))).into_response())
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ApprovalQuery {
    pub station: String,
    /// First day, `YYYY-MM-DD`.
    pub from: String,
    /// Last day, `YYYY-MM-DD`.
    pub to: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ApprovalsBody {
    pub value: Vec<ApprovalView>,
}

#[utoipa::path(get, path = "/api/v1/approvals", tag = "review", params(ApprovalQuery),
    responses((status = 200, body = ApprovalsBody)))]
pub(super) async fn approvals(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<ApprovalQuery>,
) -> Result<Json<ApprovalsBody>, ApiError> {
    state.authorize_read(&headers)?;
    let rows = review_store(&state)?
        .approvals(q.station, q.from, q.to)
        .await?;
    Ok(Json(ApprovalsBody {
        value: rows.iter().map(approval_view).collect(),
    }))
}

#[utoipa::path(post, path = "/api/v1/approvals/{id}/undo", tag = "review", params(("id" = i64, Path)),
    responses((status = 204, description = "undone"), (status = 409, body = ErrorBody)))]
pub(super) async fn undo_approval(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<StatusCode, ApiError> {
    let p = state.authorize_role(&headers, Role::Reviewer)?;
    if !review_store(&state)?
        .undo_approval(id, p.actor(""), store::clock::now_millis())
        .await?
    {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            format!("no approval {id} in force"),
        ));
    }
    Ok(StatusCode::NO_CONTENT)
}
