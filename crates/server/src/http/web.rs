//! The dashboard (`web/`, TypeScript + Vite + ECharts) served at `/`.
//!
//! Release builds embed the Vite output (`web/dist`) in the binary with rust-embed; debug builds
//! read the same directory from disk at request time, so `npm run build` shows up without a
//! recompile. `build.rs` substitutes a one-page fallback when `web/dist` does not exist, so
//! `cargo build` never needs npm. Content types come from the file name (mime-guess); hashed
//! assets under `/assets/` are cached for a year, `index.html` is revalidated every time.
//! Any other path without a file extension gets `index.html` (SPA fallback); unknown paths under
//! the API prefixes stay JSON 404s.

use super::AppState;
use super::error::ApiError;
use axum::Router;
use axum::body::Body;
use axum::http::{HeaderMap, HeaderValue, StatusCode, Uri, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use rust_embed::RustEmbed;

#[derive(RustEmbed)]
#[folder = "$QINGSHUI_WEB_DIR"]
struct Assets;

/// Changes whenever the embedded directory changes (see build.rs); forces a re-embed.
pub const BUILD_STAMP: &str = env!("QINGSHUI_WEB_STAMP");

/// Prefixes that belong to the APIs: never answered with the dashboard page.
const API_PREFIXES: [&str; 4] = ["api/", "v1.1", "metrics", "openapi"];

pub fn routes() -> Router<AppState> {
    Router::new()
        .route("/", get(index))
        .route("/{*path}", get(asset))
        .layer(tower_http::compression::CompressionLayer::new())
}

async fn index(headers: HeaderMap) -> Response {
    serve("index.html", &headers).unwrap_or_else(|| not_found("index.html"))
}

async fn asset(uri: Uri, headers: HeaderMap) -> Response {
    let path = uri.path().trim_start_matches('/');
    if API_PREFIXES.iter().any(|p| path.starts_with(p)) {
        return ApiError::new(StatusCode::NOT_FOUND, format!("no such resource: /{path}"))
            .into_response();
    }
    if let Some(r) = serve(path, &headers) {
        return r;
    }
    // Client-side routes (no extension) get the page; a missing file stays a 404.
    let last = path.rsplit('/').next().unwrap_or("");
    if !last.contains('.') {
        return serve("index.html", &headers).unwrap_or_else(|| not_found(path));
    }
    not_found(path)
}

fn not_found(path: &str) -> Response {
    (
        StatusCode::NOT_FOUND,
        [(header::CONTENT_TYPE, "text/plain; charset=utf-8")],
        format!("not found: /{path}\n"),
    )
        .into_response()
}

fn serve(path: &str, headers: &HeaderMap) -> Option<Response> {
    let file = Assets::get(path)?;
    let etag = format!("\"{}\"", hex(&file.metadata.sha256_hash()[..16]));
    let cache = if path.starts_with("assets/") {
        "public, max-age=31536000, immutable"
    } else {
        "no-cache"
    };
    let mut mime = file.metadata.mimetype().to_string();
    if (mime.starts_with("text/") || mime == "application/javascript") && !mime.contains("charset")
    {
        mime.push_str("; charset=utf-8");
    }
    let mut builder = Response::builder()
        .header(header::CONTENT_TYPE, mime)
        .header(header::CACHE_CONTROL, cache)
        .header(header::ETAG, &etag)
        .header(
            header::X_CONTENT_TYPE_OPTIONS,
            HeaderValue::from_static("nosniff"),
        );
    if headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        == Some(etag.as_str())
    {
        builder = builder.status(StatusCode::NOT_MODIFIED);
        return builder.body(Body::empty()).ok();
    }
    builder
        .status(StatusCode::OK)
        .body(Body::from(file.data.into_owned()))
        .ok()
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn index_is_always_there() {
        // web/dist/index.html or the fallback page from build.rs.
        let f = Assets::get("index.html").expect("index.html embedded");
        assert_eq!(f.metadata.mimetype(), "text/html");
        assert!(!BUILD_STAMP.is_empty());
    }

    #[test]
    fn content_types_and_caching() {
        let h = HeaderMap::new();
        let r = serve("index.html", &h).unwrap();
        assert_eq!(
            r.headers()[header::CONTENT_TYPE],
            "text/html; charset=utf-8"
        );
        assert_eq!(r.headers()[header::CACHE_CONTROL], "no-cache");
        let etag = r.headers()[header::ETAG].clone();
        let mut h2 = HeaderMap::new();
        h2.insert(header::IF_NONE_MATCH, etag);
        assert_eq!(
            serve("index.html", &h2).unwrap().status(),
            StatusCode::NOT_MODIFIED
        );
        for f in Assets::iter() {
            let r = serve(&f, &h).unwrap();
            let ct = r.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .to_string();
            if f.ends_with(".js") {
                assert!(
                    ct.starts_with("text/javascript") || ct.starts_with("application/javascript"),
                    "{f}: {ct}"
                );
            } else if f.ends_with(".css") {
                assert!(ct.starts_with("text/css"), "{f}: {ct}");
            }
            if f.starts_with("assets/") {
                assert!(
                    r.headers()[header::CACHE_CONTROL]
                        .to_str()
                        .unwrap()
                        .contains("immutable")
                );
            }
        }
    }

    #[tokio::test]
    async fn spa_fallback_and_api_404() {
        let h = HeaderMap::new();
        let page = asset("/station/W01".parse().unwrap(), h.clone()).await;
        assert_eq!(page.status(), StatusCode::OK);
        assert!(
            page.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("text/html")
        );
        assert_eq!(
            asset("/assets/nope-123.js".parse().unwrap(), h.clone())
                .await
                .status(),
            StatusCode::NOT_FOUND
        );
        let api = asset("/api/v1/nope".parse().unwrap(), h).await;
        assert_eq!(api.status(), StatusCode::NOT_FOUND);
        assert!(
            api.headers()[header::CONTENT_TYPE]
                .to_str()
                .unwrap()
                .starts_with("application/json")
        );
    }
}
