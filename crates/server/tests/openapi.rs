//! The OpenAPI contract: `/api/v1/openapi.json` is served, is an OpenAPI 3 document, names
//! every `/api/v1` route the router has, and equals the copy the web build generates its types
//! from (`web/openapi.json`). Run with `QINGSHUI_WRITE_OPENAPI=1` to rewrite that copy.

use serde_json::Value;
use server::config::Config;
use std::collections::BTreeSet;
use std::path::Path;

const COMMITTED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../web/openapi.json");

/// Every `.route("/api/v1/…"` literal in the HTTP module: what the router serves, read from its
/// source so that a route added without an annotation fails here.
fn routed_paths() -> BTreeSet<String> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/http");
    let mut paths = BTreeSet::new();
    for entry in std::fs::read_dir(&dir).unwrap() {
        let path = entry.unwrap().path();
        if path.extension().is_none_or(|e| e != "rs") {
            continue;
        }
        let text = std::fs::read_to_string(&path).unwrap();
        for piece in text.split(".route(\"").skip(1) {
            let route = piece.split('"').next().unwrap_or_default();
            if route.starts_with("/api/v1") {
                paths.insert(route.to_string());
            }
        }
    }
    paths
}

#[tokio::test]
async fn the_document_is_served_and_lists_every_route() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.http.addr = "127.0.0.1:0".parse().unwrap();
    config.storage.data_dir = dir.path().to_path_buf();
    let store = server::open_store(&config).unwrap();
    let running = server::start(config, store).await.unwrap();
    let url = format!("http://{}/api/v1/openapi.json", running.http_addr);
    let r = reqwest::get(&url).await.unwrap();
    assert_eq!(r.status().as_u16(), 200);
    assert!(
        r.headers()["content-type"]
            .to_str()
            .unwrap()
            .starts_with("application/json")
    );
    let served: Value = r.json().await.unwrap();
    running.stop().await.unwrap();

    assert!(served["openapi"].as_str().unwrap().starts_with("3."));
    let documented: BTreeSet<String> = served["paths"]
        .as_object()
        .unwrap()
        .keys()
        .cloned()
        .collect();
    let routed = routed_paths();
    assert!(routed.len() >= 10, "found only {routed:?}");
    let missing: Vec<_> = routed.difference(&documented).collect();
    assert!(missing.is_empty(), "routes without a schema: {missing:?}");
    for (path, ops) in served["paths"].as_object().unwrap() {
        for (method, op) in ops.as_object().unwrap() {
            assert!(
                op["responses"].as_object().is_some_and(|r| !r.is_empty()),
                "{method} {path} documents no response"
            );
        }
    }

    let generated: Value = serde_json::from_str(&server::http::openapi::document_json()).unwrap();
    assert_eq!(served, generated);
}

#[test]
fn the_committed_copy_for_the_web_build_is_current() {
    let current = server::http::openapi::document_json() + "\n";
    if std::env::var_os("QINGSHUI_WRITE_OPENAPI").is_some() {
        std::fs::write(COMMITTED, &current).unwrap();
        return;
    }
    let committed = std::fs::read_to_string(COMMITTED).unwrap_or_default();
    assert!(
        committed == current,
        "web/openapi.json is stale: run `QINGSHUI_WRITE_OPENAPI=1 cargo test -p server --test openapi` \
         and rebuild the web client (npm run build)"
    );
}
