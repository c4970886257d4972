//! `POST /api/v1/scenes` (a GeoTIFF/COG body), `GET /api/v1/scenes`, `/api/v1/scenes/{id}`,
//! `/api/v1/scenes/{id}/overlay.png`. The analysis is the `imagery` crate's; a scene is stored
//! (and its alerts raised) only when it is fully analysed, so any 4xx stores nothing.

use super::AppState;
use super::error::ApiError;
use super::schema::ErrorBody;
use crate::sources::imagery::{document, verdicts};
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path, Query, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use imagery::{ImageryError, SceneInput, analyse};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use store::scenes::{SceneRecord, SceneStore};
use utoipa::{IntoParams, ToSchema};

pub fn routes(max_scene_bytes: usize) -> Router<AppState> {
    Router::new()
        .route(
            "/api/v1/scenes",
            get(list)
                .post(upload)
                .layer(DefaultBodyLimit::max(max_scene_bytes)),
        )
        .route("/api/v1/scenes/{id}", get(one))
        .route("/api/v1/scenes/{id}/overlay.png", get(overlay))
}

/// What the uploader says about the file (query, or the `X-Sensor`, `X-Acquisition-Time`,
/// `X-Bands`, `X-Boa-Add-Offset` headers).
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct SceneQuery {
    /// e.g. `sentinel-2a`, `gf-1`, `drone`; default `unknown`.
    pub sensor: Option<String>,
    /// Acquisition time, RFC 3339 (else the file's ACQUISITION_TIME metadata).
    pub time: Option<String>,
    /// One band name per band in file order (`B03,B04,B05,B06,B8A,B11,SCL`; drones `G,R,RE,NIR`),
    /// when the file's band descriptions do not say.
    pub bands: Option<String>,
    /// BOA_ADD_OFFSET of the product when the file does not carry it.
    pub offset: Option<f64>,
}

/// One scene, as listed (`GET /api/v1/scenes`, `/api/v1/network` `scenes`).
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct SceneSummary {
    pub id: i64,
    pub time: String,
    pub sensor: String,
    pub bloom_area_km2: f64,
    pub coverage: f64,
    pub valid_fraction: f64,
    pub cloud_limited: bool,
    pub grade: String,
    pub overlay_url: String,
    /// WGS 84 `[lon_min, lat_min, lon_max, lat_max]` of the overlay.
    pub bounds: Vec<f64>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ScenesBody {
    pub value: Vec<SceneSummary>,
}

fn scene_store(state: &AppState) -> Result<Arc<dyn SceneStore>, ApiError> {
    state.store.clone().scene_store().ok_or_else(|| {
        ApiError::new(
            StatusCode::NOT_IMPLEMENTED,
            "this storage backend keeps no scenes",
        )
    })
}

pub fn summary(r: &SceneRecord) -> SceneSummary {
    let f = |k: &str| r.body.get(k).and_then(Value::as_f64).unwrap_or(0.0);
    SceneSummary {
        id: r.id,
        time: r
            .body
            .get("time")
            .and_then(Value::as_str)
            .unwrap_or_default()
            .to_string(),
        sensor: r.sensor.clone(),
        bloom_area_km2: f("bloom_area_km2"),
        coverage: f("coverage"),
        valid_fraction: f("valid_fraction"),
        cloud_limited: r
            .body
            .get("cloud_limited")
            .and_then(Value::as_bool)
            .unwrap_or(false),
        grade: r
            .body
            .get("grade")
            .and_then(Value::as_str)
            .unwrap_or("unknown")
            .to_string(),
        overlay_url: format!("/api/v1/scenes/{}/overlay.png", r.id),
        bounds: r
            .body
            .get("bounds")
            .and_then(Value::as_array)
            .map(|a| a.iter().filter_map(Value::as_f64).collect())
            .unwrap_or_default(),
    }
}

/// The latest scenes for `/api/v1/network` (empty when the backend keeps none).
pub async fn latest(state: &AppState) -> Vec<SceneSummary> {
    let Ok(s) = scene_store(state) else {
        return Vec::new();
    };
    match s.scenes(state.config.imagery.network_scenes).await {
        Ok(rows) => rows.iter().map(summary).collect(),
        Err(e) => {
            tracing::warn!(error = %e, "scenes not listed");
            Vec::new()
        }
    }
}

fn rejected(e: ImageryError) -> ApiError {
    let status = match e {
        ImageryError::NotTiff(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
        _ => StatusCode::UNPROCESSABLE_ENTITY,
    };
    ApiError::new(status, format!("scene rejected ({}): {e}", e.code()))
}

/// A GeoTIFF body to the scene route (the only non-JSON body the API takes).
pub fn is_scene_upload(path: &str, headers: &HeaderMap) -> bool {
    path == "/api/v1/scenes" && is_tiff(headers)
}

fn is_tiff(headers: &HeaderMap) -> bool {
    let ctype = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let m = ctype
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    m == "image/tiff" || m == "image/geotiff"
}

fn header_or(q: Option<String>, headers: &HeaderMap, name: &str) -> Option<String> {
    q.or_else(|| {
        headers
            .get(name)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string)
    })
}

#[utoipa::path(post, path = "/api/v1/scenes", tag = "imagery", params(SceneQuery),
    request_body(content_type = "image/tiff", description = "a GeoTIFF/COG (Sentinel-2 L2A stack, index product or drone orthophoto)"),
    responses((status = 201, body = SceneSummary), (status = 401, body = ErrorBody), (status = 415, body = ErrorBody),
              (status = 422, body = ErrorBody), (status = 409, body = ErrorBody)))]
pub(super) async fn upload(
    State(state): State<AppState>,
    headers: HeaderMap,
    Query(q): Query<SceneQuery>,
    body: Bytes,
) -> Result<Response, ApiError> {
    state.authorize_write(&headers)?;
    if !is_tiff(&headers) {
        let ctype = headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("none");
        return Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("a scene is sent as Content-Type: image/tiff, not {ctype:?}"),
        ));
    }
    let store = scene_store(&state)?;
    let domain = state.domain.clone().ok_or_else(|| {
        ApiError::new(
            StatusCode::CONFLICT,
            "no monitoring network is loaded: a scene needs the lake outline",
        )
    })?;
    let sensor = header_or(q.sensor, &headers, "x-sensor").unwrap_or_else(|| "unknown".into());
    let bands: Option<Vec<String>> = header_or(q.bands, &headers, "x-bands")
        .map(|b| b.split(',').map(|s| s.trim().to_string()).collect());
    let offset = match (q.offset, headers.get("x-boa-add-offset")) {
        (Some(o), _) => Some(o),
        (None, Some(v)) => Some(
            v.to_str()
                .ok()
                .and_then(|s| s.trim().parse().ok())
                .ok_or_else(|| ApiError::bad_request("X-Boa-Add-Offset is not a number"))?,
        ),
        (None, None) => None,
    };
    // The header first (cheap): the file's acquisition time decides the station matchups.
    let file_time = imagery::read_header(&body)
        .map_err(rejected)?
        .metadata
        .get("ACQUISITION_TIME")
        .cloned();
    let time_text = header_or(q.time, &headers, "x-acquisition-time")
        .or(file_time)
        .ok_or_else(|| {
            ApiError::bad_request("no acquisition time: give ?time=RFC3339 (or X-Acquisition-Time)")
        })?;
    let time = chrono::DateTime::parse_from_rfc3339(time_text.trim())
        .map_err(|e| ApiError::bad_request(format!("time {time_text:?} is not RFC 3339: {e}")))?
        .with_timezone(&chrono::Utc);
    let now = chrono::Utc::now();
    if time > now + chrono::Duration::seconds(state.config.ingest.clock_tolerance_s as i64) {
        return Err(ApiError::bad_request(format!(
            "time {time_text} lies in the future"
        )));
    }
    let chl = crate::sources::imagery::matchups::station_chl(
        &domain,
        &state.store,
        time.timestamp_micros(),
        state.config.imagery.matchup_window_s,
    )
    .await;
    let settings = state.config.imagery.analysis.clone();
    let bytes = body.clone();
    let for_analysis = domain.clone();
    let analysis = tokio::task::spawn_blocking(move || {
        let input = SceneInput {
            band_mapping: bands.as_deref(),
            offset,
            station_chl: &chl,
        };
        analyse(&bytes, &for_analysis.network, &input, &settings)
    })
    .await
    .map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("analysis stopped: {e}"),
        )
    })?
    .map_err(rejected)?;
    let time_text = time.to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    let record = SceneRecord {
        id: 0,
        time: time.timestamp_millis(),
        sensor: sensor.clone(),
        created_at: now.timestamp_millis(),
        body: document(&analysis, &time_text, &sensor, body.len()),
    };
    let id = store
        .save_scene(record.clone(), analysis.overlay_png.clone())
        .await?;
    // The per-basin figures as observations (STA, charts, alerts), committed before the 201.
    let ingest = crate::sources::ingest::Ingest::new(
        state.store.clone(),
        state.config.ingest.clock_tolerance_s,
    );
    crate::sources::imagery::datastreams::write_figures(
        &ingest,
        &domain.network,
        &analysis,
        time.timestamp_micros(),
        id,
    )
    .await
    .map_err(|e| {
        ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!("scene {id} stored, its figures not: {e:#}"),
        )
    })?;
    // Stored first: an alert always points at a scene that exists.
    if let Some(engine) = &state.alerts {
        for v in verdicts(
            &analysis,
            id,
            &state.config.imagery,
            &domain.network.basins,
            time.timestamp_micros(),
        ) {
            if let Err(e) = engine.external(v).await {
                tracing::debug!(error = %e, scene = id, "no bloom_area alert");
            }
        }
    }
    let s = summary(&SceneRecord { id, ..record });
    let location = s.overlay_url.trim_end_matches("/overlay.png").to_string();
    Ok((StatusCode::CREATED, [(header::LOCATION, location)], Json(s)).into_response())
}

#[utoipa::path(get, path = "/api/v1/scenes", tag = "imagery",
    responses((status = 200, body = ScenesBody), (status = 401, body = ErrorBody)))]
pub(super) async fn list(
    State(state): State<AppState>,
    headers: HeaderMap,
) -> Result<Json<ScenesBody>, ApiError> {
    state.authorize_read(&headers)?;
    let rows = scene_store(&state)?.scenes(1000).await?;
    Ok(Json(ScenesBody {
        value: rows.iter().map(summary).collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/scenes/{id}", tag = "imagery", params(("id" = i64, Path)),
    responses((status = 200, body = super::scene_document::SceneDocument, description = "the summary fields plus lake, basins, chl_fit, epsg, index"),
              (status = 404, body = ErrorBody)))]
pub(super) async fn one(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Json<Value>, ApiError> {
    state.authorize_read(&headers)?;
    let r = scene_store(&state)?
        .scene(id)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no scene {id}")))?;
    let mut body = r.body.clone();
    if let Some(o) = body.as_object_mut() {
        o.insert("id".into(), id.into());
        o.insert("overlay_url".into(), summary(&r).overlay_url.into());
    }
    Ok(Json(body))
}

#[utoipa::path(get, path = "/api/v1/scenes/{id}/overlay.png", tag = "imagery", params(("id" = i64, Path)),
    responses((status = 200, content_type = "image/png", description = "the classified overlay"), (status = 404, body = ErrorBody)))]
pub(super) async fn overlay(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(id): Path<i64>,
) -> Result<Response, ApiError> {
    state.authorize_read(&headers)?;
    let png = scene_store(&state)?
        .scene_overlay(id)
        .await?
        .ok_or_else(|| ApiError::new(StatusCode::NOT_FOUND, format!("no scene {id}")))?;
    Ok(([(header::CONTENT_TYPE, "image/png")], png).into_response())
}
