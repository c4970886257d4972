//! Per-request policy: JSON errors, CORS, links, the read policy, MN hiding.

use super::*;
use common::station::TestStation;
use serde_json::json;
use std::path::PathBuf;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

const R01_MN: &str = "010000520181000000000001";
const R01_PW: &str = "520001";

#[tokio::test]
async fn protocol_errors_are_json() {
    let srv = serve(|c| {
        c.auth.open = true;
        c.http.max_body_bytes = 4096;
        c.http.max_anonymous_body_bytes = 4096;
        c.http.max_response_bytes = 2000;
        c.http.body_timeout_s = 1;
    })
    .await;
    let c = &srv.client;
    let b = &srv.base;
    // 413: declared and chunked.
    let big = json!({ "name": "x", "description": "y".repeat(10_000) });
    let (s, v) = srv
        .json(c.post(format!("{b}/v1.1/Things")).json(&big))
        .await;
    assert_error(s, &v, 413, "max_anonymous_body_bytes");
    let chunk = serde_json::to_vec(&big).expect("json");
    let mut raw = TcpStream::connect(srv.addr).await.expect("connect");
    raw.write_all(
        format!(
            "POST /v1.1/Things HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n{:x}\r\n",
            chunk.len()
        )
        .as_bytes(),
    )
    .await
    .expect("head");
    raw.write_all(&chunk).await.expect("chunk");
    raw.write_all(b"\r\n0\r\n\r\n").await.expect("end");
    let (answer, _) = read_until_closed(&mut raw, Duration::from_secs(10)).await;
    let (status, v) = parse_answer(&answer);
    assert_eq!(status, 413, "{}", String::from_utf8_lossy(&answer));
    assert!(
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains("max_anonymous_body_bytes"))
    );
    // 414.
    let long = format!("{b}/v1.1/Things?$filter=name eq '{}'", "a".repeat(10_000));
    let (s, v) = srv.json(c.get(long)).await;
    assert_error(s, &v, 414, "max_uri_bytes");
    // 431.
    let (s, v) = srv
        .json(
            c.get(format!("{b}/v1.1/Things"))
                .header("x-padding", "p".repeat(20_000)),
        )
        .await;
    assert_error(s, &v, 431, "max_header_bytes");
    // 405.
    let (s, v) = srv.json(c.delete(format!("{b}/api/v1/health"))).await;
    assert_error(s, &v, 405, "DELETE");
    // 415: a text/plain body is a CSRF vector (no preflight).
    let (s, v) = srv
        .json(
            c.post(format!("{b}/v1.1/Things"))
                .header("content-type", "text/plain")
                .body(r#"{"name":"x","description":"y"}"#),
        )
        .await;
    assert_error(s, &v, 415, "application/json");
    // 404 under the API prefixes, and query-string errors of the domain API.
    let (s, v) = srv.json(c.get(format!("{b}/api/v1/nope"))).await;
    assert_error(s, &v, 404, "/api/v1/nope");
    let (s, v) = srv
        .json(c.post(format!("{b}/api/v1/nope")).json(&json!({})))
        .await;
    assert!(matches!(s.as_u16(), 404 | 405), "{s}");
    assert_eq!(v["type"], "error");
    let (s, v) = srv
        .json(c.get(format!("{b}/api/v1/series?datastream=abc")))
        .await;
    assert_eq!(s.as_u16(), 400, "{v}");
    assert_eq!(v["type"], "error", "{v}");
    // 408: a body that never comes.
    let mut raw = TcpStream::connect(srv.addr).await.expect("connect");
    raw.write_all(
        b"POST /v1.1/Things HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
    )
    .await
    .expect("write");
    let (answer, _) = read_until_closed(&mut raw, Duration::from_secs(10)).await;
    let (status, body) = parse_answer(&answer);
    assert_eq!(status, 408, "{}", String::from_utf8_lossy(&answer));
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("body_timeout_s"))
    );
    // A response over max_response_bytes: 400 naming the limit.
    for i in 0..5 {
        let t = json!({ "name": format!("t{i}"), "description": "z".repeat(500) });
        let (s, _) = srv.json(c.post(format!("{b}/v1.1/Things")).json(&t)).await;
        assert_eq!(s, StatusCode::CREATED);
    }
    let (s, v) = srv.json(c.get(format!("{b}/v1.1/Things"))).await;
    assert_error(s, &v, 400, "max_response_bytes");
    srv.stop().await;
}

#[tokio::test]
async fn cors_lets_any_origin_read_but_only_listed_origins_write() {
    let srv = serve(|c| {
        c.auth.open = true;
        c.http.cors_origins = vec!["http://ops.example".into()];
    })
    .await;
    let c = &srv.client;
    let url = format!("{}/v1.1/Things", srv.base);
    let preflight = |origin: &str, method: &str| {
        c.request(reqwest::Method::OPTIONS, &url)
            .header("origin", origin)
            .header("access-control-request-method", method)
            .header("access-control-request-headers", "content-type")
    };
    let r = preflight("http://evil.example", "DELETE")
        .send()
        .await
        .expect("preflight");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    assert!(r.headers().get("access-control-allow-origin").is_none());
    let r = preflight("http://ops.example", "POST")
        .send()
        .await
        .expect("preflight");
    assert!(r.status().is_success(), "{}", r.status());
    assert_eq!(
        r.headers()["access-control-allow-origin"],
        "http://ops.example"
    );
    let r = preflight("http://evil.example", "GET")
        .send()
        .await
        .expect("preflight");
    assert!(r.status().is_success());
    assert_eq!(r.headers()["access-control-allow-origin"], "*");
    // A form POST needs no preflight: refused by origin, whatever its content type.
    let r = c
        .post(format!("{}/api/v1/alerts/1/ack", srv.base))
        .header("origin", "http://evil.example")
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    // Same-origin writes (the dashboard) still work.
    let (s, _) = srv
        .json(
            c.post(&url)
                .header("origin", &srv.base)
                .json(&json!({ "name": "a", "description": "b" })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    srv.stop().await;
}

#[tokio::test]
async fn links_come_from_the_public_url_never_from_host() {
    let srv = serve(|c| c.auth.open = true).await;
    let c = &srv.client;
    let (s, v) = srv
        .json(
            c.post(format!("{}/v1.1/Things", srv.base))
                .header("host", "evil.example")
                .json(&json!({ "name": "a", "description": "b" })),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let own = format!("http://{}/v1.1/Things(", srv.addr);
    assert!(
        v["@iot.selfLink"]
            .as_str()
            .is_some_and(|l| l.starts_with(&own)),
        "{v}"
    );
    srv.stop().await;

    let srv = serve(|c| {
        c.auth.open = true;
        c.http.public_url = Some("https://water.example.cn/".into());
    })
    .await;
    let r = srv
        .client
        .post(format!("{}/v1.1/Things", srv.base))
        .header("host", "evil.example")
        .json(&json!({ "name": "a", "description": "b" }))
        .send()
        .await
        .expect("post");
    assert_eq!(
        r.headers()["location"],
        "https://water.example.cn/v1.1/Things(1)"
    );
    let (_, v) = srv
        .json(
            srv.client
                .get(format!("{}/v1.1/Things?$top=1", srv.base))
                .header("host", "evil.example"),
        )
        .await;
    assert_eq!(
        v["value"][0]["@iot.selfLink"],
        "https://water.example.cn/v1.1/Things(1)"
    );
    srv.stop().await;
}

#[tokio::test]
async fn closed_reads_close_metrics_and_health_and_bearer_is_case_insensitive() {
    let srv = serve(|c| {
        c.auth.read_public = false;
        c.auth.metrics_token = Some("scraper".into());
    })
    .await;
    let c = &srv.client;
    for path in ["/metrics", "/api/v1/health", "/v1.1/Things"] {
        let r = c
            .get(format!("{}{path}", srv.base))
            .send()
            .await
            .expect("get");
        assert_eq!(r.headers()["www-authenticate"], "Bearer realm=\"qingshui\"");
        let (s, v) = srv.json(c.get(format!("{}{path}", srv.base))).await;
        assert_error(s, &v, 401, "Bearer");
        for scheme in ["Bearer", "bearer", "BEARER"] {
            let r = c
                .get(format!("{}{path}", srv.base))
                .header("authorization", format!("{scheme} {TOKEN}"))
                .send()
                .await
                .expect("get");
            assert_eq!(r.status(), StatusCode::OK, "{path} with {scheme}");
        }
        let r = c
            .get(format!("{}{path}", srv.base))
            .bearer_auth("scraper")
            .send()
            .await
            .expect("get");
        let expected = if path == "/v1.1/Things" { 401 } else { 200 };
        assert_eq!(
            r.status().as_u16(),
            expected,
            "{path} with the metrics token"
        );
    }
    let r = c
        .post(format!("{}/v1.1/Things", srv.base))
        .header("authorization", format!("bearer {TOKEN}"))
        .json(&json!({ "name": "a", "description": "b" }))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::CREATED);
    srv.stop().await;
}

#[tokio::test]
async fn mns_are_shown_only_with_a_valid_token() {
    let hongfeng = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/hongfeng.toml");
    let srv = serve(|c| {
        c.auth.open = true;
        c.network.file = Some(hongfeng);
        c.hj212.addr = Some("127.0.0.1:0".parse().expect("addr"));
    })
    .await;
    let mut st = TestStation::connect(srv.hj212.expect("HJ 212"), R01_MN, R01_PW)
        .await
        .expect("station");
    let answer = st
        .upload(
            "20260315093000123",
            "2011",
            "DataTime=20260315093000;w01010-Rtd=14.6,w01010-Flag=N",
            Duration::from_secs(10),
        )
        .await
        .expect("io");
    assert!(answer.is_some(), "the frame is answered after commit");
    let urls = [
        "/api/v1/stations",
        "/v1.1/Things?$expand=Datastreams($expand=Observations)",
        "/v1.1/Observations",
        "/v1.1/Observations?$resultFormat=dataArray&$select=result,parameters",
        "/v1.1/Things(1)/properties/$value",
        "/v1.1/Observations(1)/parameters/$value",
    ];
    for path in urls {
        let url = format!("{}{path}", srv.base);
        let anonymous = ok_text(srv.client.get(&url)).await;
        assert!(
            !anonymous.contains(R01_MN),
            "{path} shows an MN to anonymous readers"
        );
        let authorised = ok_text(srv.client.get(&url).bearer_auth(TOKEN)).await;
        assert!(
            authorised.contains(R01_MN),
            "{path} hides the MN from a token"
        );
    }
    // Nor can an anonymous filter spell it out.
    let r = srv
        .client
        .get(format!(
            "{}/v1.1/Things?$filter=startswith(properties/mn,'0')",
            srv.base
        ))
        .send()
        .await
        .expect("get");
    assert_eq!(r.status(), StatusCode::FORBIDDEN);
    srv.stop().await;
}

/// The body of a request that must succeed.
async fn ok_text(req: reqwest::RequestBuilder) -> String {
    let r = req.send().await.expect("get");
    assert_eq!(r.status(), StatusCode::OK);
    r.text().await.expect("text")
}
