//! `GET /api/v1/openapi.json`: the contract of the domain API, generated from the handlers'
//! `#[utoipa::path]` annotations and the body types of `schema.rs`. The dashboard's types are
//! generated from the committed copy `web/openapi.json`; a test keeps that copy current.

use super::AppState;
use super::{
    accounts, alerts, api, domain, events, reports, review, scenes, schema, stations, video,
};
use axum::response::IntoResponse;
use axum::routing::get;
use axum::{Json, Router};
use utoipa::OpenApi;
use utoipa::openapi::{RefOr, Schema};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "qingshui domain API",
        description = "Network, latest values, series, assessment, stations, alerts and live events. SensorThings lives at /v1.1 and is described by its own standard."
    ),
    paths(
        api::health,
        api::latest,
        api::metrics,
        domain::network,
        domain::series,
        domain::assessment,
        reports::report,
        stations::stations,
        video::upload,
        video::snapshot,
        accounts::whoami,
        accounts::login,
        accounts::logout,
        accounts::tokens,
        accounts::create_token,
        accounts::revoke_token,
        accounts::users,
        accounts::add_user,
        accounts::update_user,
        accounts::audit_list,
        review::create,
        review::list,
        review::undo,
        review::approve,
        review::approvals,
        review::undo_approval,
        video::play,
        video::stop,
        alerts::list,
        alerts::external,
        alerts::one,
        alerts::acknowledge,
        alerts::clear,
        alerts::comment,
        events::events,
        scenes::upload,
        scenes::list,
        scenes::one,
        scenes::overlay,
        openapi_json,
    ),
    // Not reachable from a path (the SSE messages, named in `events`' description) or shared.
    components(schemas(
        schema::ClassKey, schema::ErrorBody,
        schema::ObservationEvent, schema::ReadyEvent, schema::LaggedEvent,
    ))
)]
pub struct ApiDoc;

/// The document: the derived paths and schemas, plus `wq`'s default class palette as the
/// `default` of the `Palette` schema, so the dashboard's first paint and the server's judgement
/// use one palette (the web build reads it from the committed copy).
pub fn document() -> utoipa::openapi::OpenApi {
    let mut doc = ApiDoc::openapi();
    let palette = schema::Palette::from(&wq::class::Palette::default());
    if let Some(RefOr::T(Schema::Object(o))) = doc
        .components
        .as_mut()
        .and_then(|c| c.schemas.get_mut("Palette"))
    {
        o.default = serde_json::to_value(palette).ok();
    }
    doc
}

/// The document as pretty JSON, as served and as committed for the web build.
pub fn document_json() -> String {
    // Serialising a document built from our own types cannot fail; an empty object would show it.
    document().to_pretty_json().unwrap_or_else(|_| "{}".into())
}

pub fn routes() -> Router<AppState> {
    Router::new().route("/api/v1/openapi.json", get(openapi_json))
}

/// Public like the dashboard's own files: the contract says nothing about the data.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "service",
    responses((status = 200, description = "this document", content_type = "application/json")))]
async fn openapi_json() -> impl IntoResponse {
    Json(document())
}
