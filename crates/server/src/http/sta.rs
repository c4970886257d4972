//! SensorThings API 1.1 handlers: thin adapters from HTTP to `sta` (parsing) and `Store`.

use super::AppState;
use super::error::ApiError;
use super::redact;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{Value, json};
use sta::{EntityType, Query, ResourcePath, Tail};
use store::render::{ReadBody, Render};
use store::{ReadRequest, ReadResponse, WriteCommand, WriteOutcome};

pub const PREFIX: &str = "/v1.1";

pub fn routes() -> Router<AppState> {
    Router::new()
        .route(PREFIX, get(service_root))
        .route(&format!("{PREFIX}/"), get(service_root))
        .route(
            &format!("{PREFIX}/$batch"),
            axum::routing::post(super::sta_batch::batch),
        )
        .route(
            &format!("{PREFIX}/{{*path}}"),
            get(read).post(create).patch(patch).put(put).delete(delete),
        )
}

fn base_url(state: &AppState) -> String {
    format!("{}{PREFIX}", state.public_url())
}

async fn service_root(State(state): State<AppState>) -> Json<Value> {
    let base = base_url(&state);
    let value: Vec<Value> = EntityType::ALL
        .iter()
        .map(|e| json!({ "name": e.set_name(), "url": format!("{base}/{}", e.set_name()) }))
        .collect();
    let mut settings = json!({ "conformance": sta::conformance() });
    // The MQTT extension (docs/mqtt.md): both classes, each with the endpoint, as OGC 18-088
    // §8.2.1 lays serverSettings out.
    if state.config.mqtt.listen.is_some()
        && let Some(endpoint) = &state.config.mqtt.public_url
        && let Some(obj) = settings.as_object_mut()
    {
        for class in sta::conformance::MQTT_CLASSES {
            let uri = format!("{}{class}", sta::conformance::BASE);
            if let Some(Value::Array(list)) = obj.get_mut("conformance") {
                list.push(Value::String(uri.clone()));
            }
            obj.insert(uri, json!({ "endpoints": [endpoint] }));
        }
    }
    Json(json!({
        "serverSettings": settings,
        "value": value,
    }))
}

fn decode_path(raw: &str) -> Result<ResourcePath, ApiError> {
    let decoded = percent_encoding::percent_decode_str(raw)
        .decode_utf8()
        .map_err(|_| ApiError::bad_request("the path is not valid UTF-8"))?;
    Ok(sta::parse_path(&decoded)?)
}

fn parse_body(body: &Bytes) -> Result<Value, ApiError> {
    if body.is_empty() {
        return Err(ApiError::bad_request(
            "the request body is empty; send a JSON document",
        ));
    }
    serde_json::from_slice(body)
        .map_err(|e| ApiError::bad_request(format!("the body is not valid JSON: {e}")))
}

pub(super) async fn read(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(path): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    state.authorize_read(&headers)?;
    let authorised = state.has_valid_token(&headers);
    let raw = raw.unwrap_or_default();
    if !authorised
        && redact::mentions_mn(&percent_encoding::percent_decode_str(&raw).decode_utf8_lossy())
    {
        return Err(ApiError::new(
            StatusCode::FORBIDDEN,
            "filtering or ordering on station MNs (properties/mn, parameters/mn) needs a valid token",
        ));
    }
    let path = decode_path(&path)?;
    let limits = state.config.sta.query_limits();
    let query = Query::parse_with(path.target(), &raw, &limits)?;
    if path.tail != Tail::None && !matches!(path.tail, Tail::Ref) && !query.raw.is_empty() {
        // Query options on a single property are meaningless; OGC 18-088 does not define them.
        return Err(ApiError::bad_request(
            "query options cannot be applied to a property",
        ));
    }
    // The store renders the body itself (streaming collection pages from the cells, issue 12)
    // with the links, the redaction and the size cap this layer decides.
    let render = Render {
        service_root: base_url(&state),
        hidden: (!authorised).then(|| redact::MN.to_string()),
        max_bytes: state.config.http.max_response_bytes,
    };
    let body = state
        .store
        .read_rendered(ReadRequest { path, query }, render)
        .await?;
    Ok(match body {
        ReadBody::Json(bytes) => {
            ([(header::CONTENT_TYPE, "application/json")], bytes).into_response()
        }
        ReadBody::Text(t) => {
            let t = if authorised {
                t
            } else {
                redact::strip_mn_text(t)
            };
            ([(header::CONTENT_TYPE, "text/plain; charset=utf-8")], t).into_response()
        }
        ReadBody::NoContent => StatusCode::NO_CONTENT.into_response(),
    })
}

/// The absolute selfLink of an entity (the `Location` of a create).
pub(super) fn self_link(state: &AppState, entity: EntityType, id: i64) -> String {
    format!("{}/{}({id})", base_url(state), entity.set_name())
}

/// The entity as a write's answer body (`null` when it cannot be read back).
pub(super) async fn entity_answer(state: &AppState, entity: EntityType, id: i64) -> Value {
    entity_json(state, &base_url(state), entity, id)
        .await
        .unwrap_or(Value::Null)
}

/// Reads back one entity after a write, as the answer body.
async fn entity_json(
    state: &AppState,
    base: &str,
    entity: EntityType,
    id: i64,
) -> Result<Value, ApiError> {
    let path = sta::parse_path(&format!("{}({id})", entity.set_name()))?;
    match state
        .store
        .read(ReadRequest {
            path,
            query: Query::default(),
        })
        .await?
    {
        ReadResponse::Json(mut v) => {
            store::links::make_absolute(&mut v, base);
            Ok(v)
        }
        _ => Ok(Value::Null),
    }
}

pub(super) async fn create(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(path): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    state.authorize_write(&headers)?;
    let base = base_url(&state);
    let body = parse_body(&body)?;
    if path.trim_matches('/') == "CreateObservations" {
        let outcome = state
            .store
            .write(WriteCommand::CreateObservations { body })
            .await?;
        let WriteOutcome::Rows(rows) = outcome else {
            return Err(ApiError::new(
                StatusCode::INTERNAL_SERVER_ERROR,
                "unexpected write outcome",
            ));
        };
        let urls: Vec<Value> = rows
            .into_iter()
            .map(|r| match r {
                Ok((id, _)) => Value::String(format!("{base}/Observations({id})")),
                Err(_) => Value::String("error".into()),
            })
            .collect();
        return Ok((StatusCode::CREATED, Json(Value::Array(urls))).into_response());
    }
    let path = decode_path(&path)?;
    match state
        .store
        .write(WriteCommand::Create { path, body })
        .await?
    {
        WriteOutcome::Created { entity, id } => {
            let location = format!("{base}/{}({id})", entity.set_name());
            let json = entity_json(&state, &base, entity, id).await?;
            Ok((
                StatusCode::CREATED,
                [(header::LOCATION, location)],
                Json(json),
            )
                .into_response())
        }
        _ => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unexpected write outcome",
        )),
    }
}

async fn update(
    state: AppState,
    headers: HeaderMap,
    path: String,
    body: Bytes,
    replace: bool,
) -> Result<Response, ApiError> {
    state.authorize_write(&headers)?;
    let base = base_url(&state);
    let body = parse_body(&body)?;
    let path = decode_path(&path)?;
    let command = if !replace && is_json_patch(&headers) {
        WriteCommand::JsonPatch {
            path,
            operations: body,
        }
    } else {
        WriteCommand::Update {
            path,
            body,
            replace,
        }
    };
    match state.store.write(command).await? {
        WriteOutcome::Updated { entity, id } => {
            Ok(Json(entity_json(&state, &base, entity, id).await?).into_response())
        }
        _ => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unexpected write outcome",
        )),
    }
}

/// `Content-Type: application/json-patch+json` (RFC 6902) selects JSON-Patch over the merge
/// semantics of a plain PATCH (OGC 18-088 §10.3).
fn is_json_patch(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|v| v.trim().eq_ignore_ascii_case("application/json-patch+json"))
}

pub(super) async fn patch(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(path): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    update(state, headers, path, body, false).await
}

pub(super) async fn put(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(path): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    update(state, headers, path, body, true).await
}

pub(super) async fn delete(
    State(state): State<AppState>,
    headers: HeaderMap,
    Path(path): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    state.authorize_write(&headers)?;
    let path = decode_path(&path)?;
    if !path.is_collection() {
        state.store.write(WriteCommand::Delete { path }).await?;
        return Ok(StatusCode::OK.into_response());
    }
    let command = delete_where(&state, path, &raw.unwrap_or_default())?;
    match state.store.write(command).await? {
        WriteOutcome::DeletedCount(n) => Ok(Json(json!({ "deleted": n })).into_response()),
        _ => Err(ApiError::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "unexpected write outcome",
        )),
    }
}

/// `DELETE <collection>?$filter=…` (FROST's extension): only `$filter` applies; a DELETE of a
/// whole collection without one is refused unless the client adds `force=true`, since one
/// forgotten option would empty it.
fn delete_where(state: &AppState, path: ResourcePath, raw: &str) -> Result<WriteCommand, ApiError> {
    let limits = state.config.sta.query_limits();
    let query = Query::parse_with(path.target(), raw, &limits)?;
    if let Some((key, _)) = query.raw.iter().find(|(k, _)| k != "$filter") {
        return Err(ApiError::bad_request(format!(
            "{key} does not apply to a DELETE; only $filter selects what a collection DELETE removes"
        )));
    }
    let forced = form_urlencoded::parse(raw.as_bytes()).any(|(k, v)| k == "force" && v == "true");
    if query.filter.is_none() && !forced {
        return Err(ApiError::bad_request(format!(
            "a DELETE of the collection {} needs a $filter (or force=true to delete all of it)",
            path.target().set_name()
        )));
    }
    Ok(WriteCommand::DeleteWhere {
        path,
        filter: query.filter,
        limit: state.config.sta.max_delete_rows,
    })
}
