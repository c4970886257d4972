//! `GET /api/v1/reports`: a water-quality report (docs/reports.md) as a PDF or Excel download.

use super::AppState;
use super::error::ApiError;
use super::schema::ErrorBody;
use crate::reports::{ReportFailure, ReportRequest};
use axum::Router;
use axum::extract::{Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/reports", get(report))
}

#[derive(Deserialize, utoipa::IntoParams)]
pub(super) struct ReportParams {
    /// `2026-11` (month), `2026-Q4` (quarter) or `2026` (year), in the network's local time.
    period: String,
    /// `pdf` or `xlsx`.
    format: String,
    /// `zh` (default) or `en`.
    lang: Option<String>,
    /// `network` (default), `waterbody:lake`, `basin:ID` or `station:CODE`.
    scope: Option<String>,
}

pub(crate) fn failure(e: ReportFailure) -> ApiError {
    let status = match &e {
        ReportFailure::Bad(_) => StatusCode::BAD_REQUEST,
        ReportFailure::NotFound(_) => StatusCode::NOT_FOUND,
        ReportFailure::PdfNotBuilt => StatusCode::NOT_IMPLEMENTED,
        ReportFailure::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
    };
    ApiError::new(status, e.to_string())
}

#[utoipa::path(get, path = "/api/v1/reports", tag = "domain", params(ReportParams),
    responses(
        (status = 200, description = "the report: PDF (A4, CJK font embedded) for format=pdf, an Excel workbook for format=xlsx",
            content(("application/pdf"), ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"))),
        (status = 400, body = ErrorBody, description = "bad period, format, lang or scope; a period without data"),
        (status = 404, body = ErrorBody, description = "the scope is not in the network, or no network is loaded"),
        (status = 501, body = ErrorBody, description = "PDF asked of a build without the pdf feature")))]
pub(super) async fn report(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(p): Query<ReportParams>,
) -> Result<Response, ApiError> {
    state.authorize_read(&headers)?;
    let d = state.domain.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_FOUND,
            "no monitoring network is loaded (start the server with --network FILE)",
        )
    })?;
    let req = ReportRequest::parse(&p.period, &p.format, p.lang.as_deref(), p.scope.as_deref())
        .map_err(ApiError::bad_request)?;
    let bytes = crate::reports::make(
        &d,
        &state.store,
        &req,
        &state.config.reports,
        store::clock::now_millis(),
        &|_, _, _| {},
    )
    .await
    .map_err(failure)?;
    let name = req.file_name(&d.network.id);
    let disposition = HeaderValue::from_str(&format!("attachment; filename=\"{name}\""))
        .unwrap_or(HeaderValue::from_static("attachment"));
    Ok((
        [
            (
                header::CONTENT_TYPE,
                HeaderValue::from_static(req.format.content_type()),
            ),
            (header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}
