//! `POST /v1.1/$batch`: the standard's `multipart/mixed` form (OData 4.0, change sets) and the
//! OData 4.01 JSON batch (FROST's form), read into one request model (`sta::batch`,
//! `sta::batch_multipart`) and answered in the form they came in. Each request runs through the same handler as a direct request
//! (same authorisation, budgets, redaction, answers) without an HTTP round trip; the requests of
//! an atomicity group go to the store as one `WriteCommand::Atomic`, one savepoint, all or
//! nothing. See docs/sensorthings.md.

use super::AppState;
use super::error::ApiError;
use super::sta as handlers;
use axum::body::Bytes;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};
use sta::batch::{BatchItem, Method, Produced};
use std::collections::{HashMap, HashSet};
use store::{AtomicKind, AtomicWrite, StoreError, WriteCommand, WriteOutcome};

/// What a batch has done so far: entities produced (for `$<id>` references) and the ids of
/// requests and groups that failed (their dependants are not run: 424).
#[derive(Default)]
struct Progress {
    produced: HashMap<String, Produced>,
    failed: HashSet<String>,
    responses: Vec<Value>,
    /// The serialised size of `responses` so far.
    bytes: usize,
}

impl Progress {
    fn push(&mut self, response: Value) {
        self.bytes += response.to_string().len();
        self.responses.push(response);
    }
}

/// A `multipart/mixed` body sent to `$batch` (the standard's form).
pub(super) fn is_multipart_batch(path: &str, headers: &HeaderMap) -> bool {
    path.ends_with("/$batch")
        && headers
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .and_then(sta::batch_multipart::boundary_of)
            .is_some()
}

pub async fn batch(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Bytes,
) -> Result<Response, ApiError> {
    state.authorize_read(&headers)?;
    let max = state.config.sta.max_batch_requests;
    // The standard's multipart form or FROST's JSON form; the answer comes in the same form.
    let multipart = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .filter(|ct| {
            ct.trim_start()
                .to_ascii_lowercase()
                .starts_with("multipart/")
        })
        .map(str::to_string);
    let batch = match &multipart {
        Some(ct) => sta::batch_multipart::parse(&body, ct, max),
        None => sta::batch::parse(&body, max),
    }
    .map_err(ApiError::bad_request)?;
    let mut progress = Progress::default();
    let cap = state.config.http.max_response_bytes;
    let mut items = batch.requests.into_iter().peekable();
    while let Some(item) = items.next() {
        // Every answer is capped by its handler; the batch as a whole stops running requests
        // once its answers pass the cap (so it holds at most twice the cap), and says which
        // requests it did not run rather than failing after some of them wrote.
        if progress.bytes > cap {
            let status = StatusCode::BAD_REQUEST;
            let why = format!(
                "not run: the batch's earlier responses already exceed {cap} bytes ([http] max_response_bytes); send the rest in another batch"
            );
            progress.failed.insert(item.id.clone());
            let group = item.atomicity_group.as_deref();
            progress.push(response(
                &item.id,
                group,
                status,
                None,
                error_body(status, why),
            ));
            continue;
        }
        match item.atomicity_group.clone() {
            None => run_one(&state, &headers, item, &mut progress).await,
            Some(group) => {
                let mut members = vec![item];
                while let Some(next) = items.next_if(|n| n.atomicity_group.as_ref() == Some(&group))
                {
                    members.push(next);
                }
                run_group(&state, &headers, &group, members, &mut progress).await;
            }
        }
    }
    if multipart.is_some() {
        let nonce = crate::accounts::random_hex(12).map_err(ApiError::from)?;
        let boundary = format!("batchresponse_{nonce}");
        let body = sta::batch_multipart::write_response(&progress.responses, &boundary);
        let content_type = format!("multipart/mixed; boundary={boundary}");
        return Ok(([(header::CONTENT_TYPE, content_type)], body).into_response());
    }
    let body = serde_json::to_vec(&json!({ "responses": progress.responses }))
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("batch: {e}")))?;
    Ok(([(header::CONTENT_TYPE, "application/json")], body).into_response())
}

fn error_body(status: StatusCode, message: impl Into<String>) -> Value {
    json!({ "code": status.as_u16(), "type": "error", "message": message.into() })
}

fn response(
    id: &str,
    group: Option<&str>,
    status: StatusCode,
    location: Option<String>,
    body: Value,
) -> Value {
    let mut r = Map::new();
    r.insert("id".into(), id.into());
    if let Some(g) = group {
        r.insert("atomicityGroup".into(), g.into());
    }
    r.insert("status".into(), status.as_u16().into());
    if let Some(l) = location {
        r.insert("headers".into(), json!({ "location": l }));
    }
    if !body.is_null() {
        r.insert("body".into(), body);
    }
    Value::Object(r)
}

fn failed_dependency(item: &BatchItem, progress: &Progress) -> Option<String> {
    item.depends_on
        .iter()
        .find(|d| progress.failed.contains(*d))
        .map(|d| {
            format!(
                "not run: request '{}' depends on '{d}', which failed",
                item.id
            )
        })
}

/// The entity a successful answer created or addressed, from its `@iot.selfLink`.
fn produced_by(body: &Value) -> Option<Produced> {
    let id = body.get("@iot.id")?.as_i64()?;
    let link = body.get("@iot.selfLink")?.as_str()?;
    let path = link.rsplit_once("/v1.1/").map_or(link, |(_, p)| p);
    Some(Produced {
        path: path.to_string(),
        id,
    })
}

/// The headers a handler sees: the batch's own (authorisation) with the item's content type.
fn item_headers(outer: &HeaderMap, item: &BatchItem) -> HeaderMap {
    let mut h = outer.clone();
    h.remove(header::CONTENT_TYPE);
    if let Some(v) = item
        .header("content-type")
        .and_then(|v| HeaderValue::from_str(v).ok())
    {
        h.insert(header::CONTENT_TYPE, v);
    }
    h
}

async fn run_one(
    state: &AppState,
    outer: &HeaderMap,
    mut item: BatchItem,
    progress: &mut Progress,
) {
    if let Some(why) = failed_dependency(&item, progress) {
        progress.failed.insert(item.id.clone());
        let status = StatusCode::FAILED_DEPENDENCY;
        progress.push(response(
            &item.id,
            None,
            status,
            None,
            error_body(status, why),
        ));
        return;
    }
    let (status, location, body) = match dispatch(state, outer, &mut item, &progress.produced).await
    {
        Ok(answer) => answer,
        Err(e) => (e.status, None, error_body(e.status, e.message)),
    };
    if status.is_success() {
        if let Some(p) = produced_by(&body) {
            progress.produced.insert(item.id.clone(), p);
        }
    } else {
        progress.failed.insert(item.id.clone());
    }
    progress.push(response(&item.id, None, status, location, body));
}

type Answer = (StatusCode, Option<String>, Value);

/// One request through its handler, as if it had come on its own.
async fn dispatch(
    state: &AppState,
    outer: &HeaderMap,
    item: &mut BatchItem,
    produced: &HashMap<String, Produced>,
) -> Result<Answer, ApiError> {
    let method = item.method().map_err(ApiError::bad_request)?;
    let (path, query) = sta::batch::split_url(&item.url);
    let (path, query) = (path.to_string(), query.to_string());
    let path = sta::batch::substitute(&path, item.body.as_mut(), produced)
        .map_err(ApiError::bad_request)?;
    let headers = item_headers(outer, item);
    let state = State(state.clone());
    let body = || Bytes::from(item.body.as_ref().map(Value::to_string).unwrap_or_default());
    let query = RawQuery((!query.is_empty()).then_some(query));
    let answer = match method {
        Method::Get => handlers::read(state, headers, Path(path), query).await?,
        Method::Post => handlers::create(state, headers, Path(path), body()).await?,
        Method::Patch => handlers::patch(state, headers, Path(path), body()).await?,
        Method::Put => handlers::put(state, headers, Path(path), body()).await?,
        Method::Delete => handlers::delete(state, headers, Path(path), query).await?,
    };
    into_answer(answer).await
}

async fn into_answer(r: Response) -> Result<Answer, ApiError> {
    let status = r.status();
    let location = r
        .headers()
        .get(header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let bytes = axum::body::to_bytes(r.into_body(), usize::MAX)
        .await
        .map_err(|e| ApiError::new(StatusCode::INTERNAL_SERVER_ERROR, format!("batch: {e}")))?;
    let body = if bytes.is_empty() {
        Value::Null
    } else {
        serde_json::from_slice(&bytes)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
    };
    Ok((status, location, body))
}

/// The write an item of an atomicity group asks for.
fn atomic_write(item: &BatchItem) -> Result<AtomicWrite, ApiError> {
    let method = item.method().map_err(ApiError::bad_request)?;
    let (path, _) = sta::batch::split_url(&item.url);
    let path = percent_encoding::percent_decode_str(path)
        .decode_utf8()
        .map_err(|_| {
            ApiError::bad_request(format!("request '{}': the url is not valid UTF-8", item.id))
        })?;
    let json_patch = item.header("content-type").is_some_and(|c| {
        c.split(';')
            .next()
            .is_some_and(|c| c.trim().eq_ignore_ascii_case("application/json-patch+json"))
    });
    let kind = match method {
        Method::Post => AtomicKind::Create,
        Method::Patch if json_patch => AtomicKind::JsonPatch,
        Method::Patch => AtomicKind::Merge,
        Method::Put => AtomicKind::Replace,
        Method::Delete => AtomicKind::Delete,
        Method::Get => {
            return Err(ApiError::bad_request(
                "a GET cannot be part of an atomicity group",
            ));
        }
    };
    Ok(AtomicWrite {
        id: item.id.clone(),
        kind,
        path: path.into_owned(),
        body: item.body.clone(),
    })
}

async fn run_group(
    state: &AppState,
    outer: &HeaderMap,
    group: &str,
    members: Vec<BatchItem>,
    progress: &mut Progress,
) {
    let ids: Vec<String> = members.iter().map(|m| m.id.clone()).collect();
    let fail_all = |progress: &mut Progress, per_item: &dyn Fn(usize) -> (StatusCode, String)| {
        progress.failed.insert(group.to_string());
        for (i, id) in ids.iter().enumerate() {
            progress.failed.insert(id.clone());
            let (status, message) = per_item(i);
            progress.push(response(
                id,
                Some(group),
                status,
                None,
                error_body(status, message),
            ));
        }
    };
    let rolled_back = |culprit: &str| {
        format!(
            "not applied: request '{culprit}' of atomicity group '{group}' failed and the whole group was rolled back"
        )
    };
    if let Some(why) = members.iter().find_map(|m| failed_dependency(m, progress)) {
        fail_all(progress, &|_| (StatusCode::FAILED_DEPENDENCY, why.clone()));
        return;
    }
    if let Err(e) = state.authorize_write(outer) {
        fail_all(progress, &|_| (e.status, e.message.clone()));
        return;
    }
    let writes: Result<Vec<_>, (usize, ApiError)> = members
        .iter()
        .enumerate()
        .map(|(i, m)| atomic_write(m).map_err(|e| (i, e)))
        .collect();
    let result = match writes {
        Ok(writes) => state
            .store
            .write(WriteCommand::Atomic {
                writes,
                produced: progress.produced.clone(),
            })
            .await
            .map_err(|e| match e {
                StoreError::InGroup { index, error } => (index, ApiError::from(*error)),
                other => (usize::MAX, ApiError::from(other)),
            }),
        Err(e) => Err(e),
    };
    let outcomes = match result {
        Ok(WriteOutcome::Atomic(outcomes)) => outcomes,
        Ok(_) => {
            fail_all(progress, &|_| {
                (
                    StatusCode::INTERNAL_SERVER_ERROR,
                    "unexpected write outcome".into(),
                )
            });
            return;
        }
        Err((index, e)) => {
            let culprit = ids.get(index).cloned().unwrap_or_default();
            fail_all(progress, &|i| {
                if i == index || index == usize::MAX {
                    (e.status, e.message.clone())
                } else {
                    (StatusCode::FAILED_DEPENDENCY, rolled_back(&culprit))
                }
            });
            return;
        }
    };
    // Committed: answer each as its direct request would.
    for (id, outcome) in ids.iter().zip(outcomes) {
        let (status, location, body) = match outcome {
            WriteOutcome::Created { entity, id: eid } => {
                let body = handlers::entity_answer(state, entity, eid).await;
                (
                    StatusCode::CREATED,
                    Some(handlers::self_link(state, entity, eid)),
                    body,
                )
            }
            WriteOutcome::Updated { entity, id: eid } => (
                StatusCode::OK,
                None,
                handlers::entity_answer(state, entity, eid).await,
            ),
            _ => (StatusCode::OK, None, Value::Null),
        };
        if let Some(p) = produced_by(&body) {
            progress.produced.insert(id.clone(), p);
        }
        progress.push(response(id, Some(group), status, location, body));
    }
}
