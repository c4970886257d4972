//! Request guards that run before any handler (and before any body byte is read):
//! URI and header size limits, authorisation of writes from the headers alone, the JSON content
//! type, body size and time limits, CORS, and the JSON shape of every error response.

use super::AppState;
use super::error::ApiError;
use crate::accounts::{Principal, Role, Via};
use axum::body::Body;
use axum::extract::{Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use std::time::Duration;

/// Methods that change state: authorised, size-limited and CORS-restricted.
pub fn is_write(method: &Method) -> bool {
    matches!(
        *method,
        Method::POST | Method::PUT | Method::PATCH | Method::DELETE
    )
}

fn is_json(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .map(|m| {
            let m = m.trim().to_ascii_lowercase();
            m == "application/json" || (m.starts_with("application/") && m.ends_with("+json"))
        })
        .unwrap_or(false)
}

fn content_length(headers: &HeaderMap) -> Option<u64> {
    headers
        .get(header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.trim().parse().ok())
}

/// Limits and authorisation that need only the request head; then the body, read within its
/// size and time limits, so no handler ever waits on a slow or oversized upload.
pub async fn limits(State(state): State<AppState>, req: Request, next: Next) -> Response {
    // Who is asking, resolved once per write: its role, its body limit and its audit entry.
    let principal = is_write(req.method()).then(|| state.principal(req.headers()));
    let audit = match &principal {
        Some(Ok(p)) => super::audit_trail::Pending::of(&state, &req, p),
        _ => None,
    };
    let response = limits_and_run(&state, req, next, principal).await;
    if let Some(a) = audit {
        a.finish(&state, &response);
    }
    response
}

async fn limits_and_run(
    state: &AppState,
    req: Request,
    next: Next,
    principal: Option<Result<Principal, ApiError>>,
) -> Response {
    let state = state.clone();
    let http = &state.config.http;
    let uri_len = req
        .uri()
        .path_and_query()
        .map_or(req.uri().path().len(), |p| p.as_str().len());
    if uri_len > http.max_uri_bytes {
        return ApiError::new(
            StatusCode::URI_TOO_LONG,
            format!(
                "the request target is {uri_len} bytes; the limit is {} bytes ([http] max_uri_bytes)",
                http.max_uri_bytes
            ),
        )
        .into_response();
    }
    let header_bytes: usize = req
        .headers()
        .iter()
        .map(|(n, v)| n.as_str().len() + v.len() + 4)
        .sum();
    if header_bytes > http.max_header_bytes {
        return ApiError::new(
            StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
            format!(
                "the request headers are {header_bytes} bytes; the limit is {} bytes ([http] max_header_bytes)",
                http.max_header_bytes
            ),
        )
        .into_response();
    }
    if !is_write(req.method()) {
        return next.run(req).await;
    }
    if let Some(refused) = cross_origin_write(&state, req.headers()) {
        return refused;
    }
    // Authorisation from the headers: an anonymous 60 MB upload is refused before it is read.
    let principal = principal.unwrap_or_else(|| state.principal(req.headers()));
    let authorised = principal.as_ref().is_ok_and(super::acts_by_credential);
    // A camera's snapshot upload carries no token: its one-time session id (checked by the
    // handler) is the authorisation. It still gets the anonymous body limit below.
    let camera_upload =
        req.method() == Method::PUT && req.uri().path().starts_with("/api/v1/video/snapshots/");
    if let Some(role) = write_role(req.method(), req.uri().path()) {
        match principal.and_then(|p| super::require_role(p, role)) {
            Err(e) => return e.into_response(),
            Ok(p) => {
                if let Some(refused) = csrf_refused(&p, req.headers()) {
                    return refused;
                }
            }
        }
    }
    let (limit, limit_name) = if authorised {
        (http.max_body_bytes, "max_body_bytes")
    } else {
        (http.max_anonymous_body_bytes, "max_anonymous_body_bytes")
    };
    let too_large = || {
        ApiError::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            format!(
                "the request body is larger than {limit} bytes ([http] {limit_name}{})",
                if authorised {
                    ""
                } else {
                    "; requests with a valid token may send more"
                }
            ),
        )
        .into_response()
    };
    let declared = content_length(req.headers());
    if declared.is_some_and(|n| n > limit as u64) {
        return too_large();
    }
    // Without a Content-Length (chunked HTTP/1.1, HTTP/2 data frames) the body itself says
    // whether anything follows the head.
    let has_body = declared.map_or_else(|| !http_body::Body::is_end_stream(req.body()), |n| n > 0);
    if !has_body {
        return next.run(req).await;
    }
    // A form or text/plain body can be sent cross-origin without a preflight; JSON cannot, nor
    // can image/tiff, which is what a scene upload is (http/scenes.rs). A camera's snapshot
    // upload needs no credentials to forge (its session id is the capability) and firmware
    // labels JPEGs loosely, so its handler checks the picture itself. The standard's
    // `$batch` is `multipart/mixed`, which (unlike `multipart/form-data`) is not a form
    // encoding: a browser preflights it like JSON.
    if !is_json(req.headers())
        && !camera_upload
        && !super::scenes::is_scene_upload(req.uri().path(), req.headers())
        && !super::sta_batch::is_multipart_batch(req.uri().path(), req.headers())
    {
        let got = req
            .headers()
            .get(header::CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("none");
        return ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            format!("request bodies must be 'Content-Type: application/json' (got '{got}')"),
        )
        .into_response();
    }
    let (parts, body) = req.into_parts();
    let timeout = Duration::from_secs(http.body_timeout_s.max(1));
    let bytes = match tokio::time::timeout(timeout, Limited::new(body, limit).collect()).await {
        Err(_) => {
            return ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                format!(
                    "the request body did not arrive within {} s ([http] body_timeout_s)",
                    timeout.as_secs()
                ),
            )
            .into_response();
        }
        Ok(Err(e)) if e.downcast_ref::<LengthLimitError>().is_some() => return too_large(),
        Ok(Err(e)) => {
            return ApiError::bad_request(format!("the request body could not be read: {e}"))
                .into_response();
        }
        Ok(Ok(c)) => c.to_bytes(),
    };
    next.run(Request::from_parts(parts, Body::from(bytes)))
        .await
}

/// The least role any write to `path` needs, checked before the body is read (the handler
/// checks the exact one). `None`: anyone may try — a login, or a camera's snapshot upload
/// (its one-time session id is the authorisation).
fn write_role(method: &Method, path: &str) -> Option<Role> {
    if (method == Method::POST && path == "/api/v1/session")
        || (method == Method::PUT && path.starts_with("/api/v1/video/snapshots/"))
    {
        return None;
    }
    if path == "/api/v1/session" || path.starts_with("/api/v1/tokens") {
        // Logging out, and managing one's own tokens.
        return Some(Role::Viewer);
    }
    if path.starts_with("/api/v1/users") {
        return Some(Role::Admin);
    }
    if path.starts_with("/api/v1/reviews") || path.starts_with("/api/v1/approvals") {
        return Some(Role::Reviewer);
    }
    Some(Role::Operator)
}

/// A state change authenticated by the session cookie must echo the session's CSRF token in
/// `X-CSRF-Token`: another site can make a browser send the cookie, not read the token.
fn csrf_refused(p: &Principal, headers: &HeaderMap) -> Option<Response> {
    let Principal::User {
        via: Via::Session { csrf, .. },
        ..
    } = p
    else {
        return None;
    };
    let sent = headers
        .get(crate::accounts::CSRF_HEADER)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if super::constant_time_eq(sent.as_bytes(), csrf.as_bytes()) {
        return None;
    }
    Some(
        ApiError::new(
            StatusCode::FORBIDDEN,
            "a state change with the login cookie needs the session's X-CSRF-Token header / 缺少 CSRF 令牌",
        )
        .into_response(),
    )
}

/// Origins listed in `[http] cors_origins`, or the server's own: the only pages that may write.
fn write_origin_allowed(state: &AppState, origin: &str, headers: &HeaderMap) -> bool {
    let origin = origin.trim_end_matches('/');
    if state
        .config
        .http
        .cors_origins
        .iter()
        .any(|o| o.trim_end_matches('/').eq_ignore_ascii_case(origin))
    {
        return true;
    }
    if state.public_url().eq_ignore_ascii_case(origin) {
        return true;
    }
    // Same-origin (the dashboard): browsers send Origin on same-origin POSTs too. Comparing it
    // with Host is only a same-origin test; links never come from Host.
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok());
    host.is_some_and(|h| {
        origin
            .strip_prefix("http://")
            .or_else(|| origin.strip_prefix("https://"))
            .is_some_and(|o| o.eq_ignore_ascii_case(h))
    })
}

/// A write sent by a page of another origin (a form POST needs no preflight) is refused.
fn cross_origin_write(state: &AppState, headers: &HeaderMap) -> Option<Response> {
    let origin = headers.get(header::ORIGIN)?.to_str().unwrap_or("?");
    if write_origin_allowed(state, origin, headers) {
        return None;
    }
    Some(origin_refused(origin, "this"))
}

fn origin_refused(origin: &str, method: &str) -> Response {
    ApiError::new(
        StatusCode::FORBIDDEN,
        format!(
            "origin '{origin}' may not send {method} request: only origins listed in [http] cors_origins may write"
        ),
    )
    .into_response()
}

/// CORS: any origin may read; writes only from `[http] cors_origins` (none by default).
pub async fn cors(State(state): State<AppState>, req: Request, next: Next) -> Response {
    let Some(origin) = req
        .headers()
        .get(header::ORIGIN)
        .and_then(|o| o.to_str().ok())
        .map(str::to_owned)
    else {
        return next.run(req).await;
    };
    let may_write = write_origin_allowed(&state, &origin, req.headers());
    let allow_origin = |headers: &mut HeaderMap, write: bool| {
        let value = if may_write {
            HeaderValue::from_str(&origin).ok()
        } else if !write {
            Some(HeaderValue::from_static("*"))
        } else {
            None
        };
        if let Some(v) = value {
            headers.insert(header::ACCESS_CONTROL_ALLOW_ORIGIN, v);
        }
        headers.insert(header::VARY, HeaderValue::from_static("Origin"));
    };
    if req.method() == Method::OPTIONS
        && let Some(wanted) = req
            .headers()
            .get(header::ACCESS_CONTROL_REQUEST_METHOD)
            .and_then(|m| m.to_str().ok())
            .map(str::to_owned)
    {
        let write = wanted
            .parse::<Method>()
            .map_or(true, |m| !matches!(m, Method::GET | Method::HEAD));
        if write && !may_write {
            return origin_refused(&origin, &format!("a {wanted}"));
        }
        let mut r = StatusCode::NO_CONTENT.into_response();
        let h = r.headers_mut();
        allow_origin(h, write);
        h.insert(
            header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static(if may_write {
                "GET, HEAD, POST, PATCH, PUT, DELETE"
            } else {
                "GET, HEAD"
            }),
        );
        h.insert(
            header::ACCESS_CONTROL_ALLOW_HEADERS,
            HeaderValue::from_static("authorization, content-type"),
        );
        h.insert(
            header::ACCESS_CONTROL_MAX_AGE,
            HeaderValue::from_static("600"),
        );
        return r;
    }
    let write = is_write(req.method());
    let mut r = next.run(req).await;
    allow_origin(r.headers_mut(), write);
    r.headers_mut().insert(
        header::ACCESS_CONTROL_EXPOSE_HEADERS,
        HeaderValue::from_static("location"),
    );
    r
}

/// Every 4xx and 5xx leaves as `{"code", "type": "error", "message"}`, axum's own rejections
/// (405, 413, query-string errors, …) and unknown paths included.
pub async fn json_errors(req: Request, next: Next) -> Response {
    let method = req.method().clone();
    let path = req.uri().path().to_owned();
    let response = next.run(req).await;
    let status = response.status();
    if !(status.is_client_error() || status.is_server_error()) || is_json(response.headers()) {
        return response;
    }
    let (parts, body) = response.into_parts();
    // Rejection texts are one line; never buffer a large non-JSON error body.
    let text = axum::body::to_bytes(body, 4096)
        .await
        .map(|b| String::from_utf8_lossy(&b).trim().to_owned())
        .unwrap_or_default();
    let message = match status {
        StatusCode::METHOD_NOT_ALLOWED => {
            let allow = parts
                .headers
                .get(header::ALLOW)
                .and_then(|a| a.to_str().ok())
                .unwrap_or("");
            if allow.is_empty() {
                format!("method {method} is not allowed on {path}")
            } else {
                format!("method {method} is not allowed on {path} (allowed: {allow})")
            }
        }
        StatusCode::NOT_FOUND => format!("no such resource: {path}"),
        _ if text.is_empty() => status
            .canonical_reason()
            .unwrap_or("request failed")
            .to_string(),
        _ => text,
    };
    let mut out = ApiError::new(status, message).into_response();
    for (name, value) in &parts.headers {
        if name != header::CONTENT_TYPE && name != header::CONTENT_LENGTH {
            out.headers_mut().append(name.clone(), value.clone());
        }
    }
    out
}
