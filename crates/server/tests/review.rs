//! Data review (数据审核) end to end: a reviewer marks a bad day of TP invalid and the station's
//! monthly GB 3838 assessment changes exactly as leaving those values out does; an undo
//! restores it; the as-of view returns the result from before the review; only reviewers may
//! review, and raw values are never touched.
#[path = "common/backend.rs"]
mod backend;

use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use server::config::Config;

const ADMIN: &str = "service-token-for-review-tests";

struct Srv {
    http: String,
    client: Client,
    running: Option<server::Running>,
    _dir: tempfile::TempDir,
}

impl Srv {
    async fn start() -> Srv {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = Config::default();
        config.http.addr = "127.0.0.1:0".parse().expect("addr");
        config.storage.data_dir = dir.path().to_path_buf();
        config.auth.tokens = vec![ADMIN.into()];
        config.alerts.enabled = false;
        config.network.file =
            Some(concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/hongfeng.toml").into());
        let store = backend::open_store(&config).expect("store");
        let running = server::start(config, store).await.expect("server starts");
        Srv {
            http: format!("http://{}", running.http_addr),
            client: Client::new(),
            running: Some(running),
            _dir: dir,
        }
    }

    async fn call(
        &self,
        method: reqwest::Method,
        path: &str,
        token: &str,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut r = self
            .client
            .request(method, format!("{}{path}", self.http))
            .bearer_auth(token);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.expect("request");
        let s = resp.status();
        (s, resp.json().await.unwrap_or(Value::Null))
    }

    /// A person's personal token (made by the admin service token, then by the person).
    async fn person(&self, name: &str, role: &str) -> String {
        let (s, v) = self
            .call(
                reqwest::Method::POST,
                "/api/v1/users",
                ADMIN,
                Some(json!({"name": name, "role": role, "password": "pass-word-1"})),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let r = self
            .client
            .post(format!("{}/api/v1/session", self.http))
            .json(&json!({"name": name, "password": "pass-word-1"}))
            .send()
            .await
            .expect("login");
        let cookie = r
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .and_then(|c| c.split(';').next())
            .unwrap_or_default()
            .to_string();
        let me: Value = r.json().await.expect("session");
        let t: Value = self
            .client
            .post(format!("{}/api/v1/tokens", self.http))
            .header("cookie", cookie)
            .header("x-csrf-token", me["csrf"].as_str().unwrap_or_default())
            .json(&json!({"name": "review test"}))
            .send()
            .await
            .expect("token")
            .json()
            .await
            .expect("JSON");
        t["token"].as_str().unwrap_or_default().to_string()
    }

    async fn tp_class(&self, as_of: Option<&str>) -> (String, Value, Value) {
        let mut q = "/api/v1/assessment?scope=station:W01&from=2026-03-01T00:00:00%2B08:00&to=2026-03-11T00:00:00%2B08:00".to_string();
        if let Some(t) = as_of {
            q.push_str(&format!("&as_of={}", t.replace('+', "%2B")));
        }
        let (s, a) = self.call(reqwest::Method::GET, &q, ADMIN, None).await;
        assert_eq!(s, StatusCode::OK, "{a}");
        let tp = a["indicators"]
            .as_array()
            .and_then(|i| i.iter().find(|i| i["parameter"] == "tp").cloned())
            .unwrap_or(Value::Null);
        (
            tp["class"].as_str().unwrap_or("?").to_string(),
            tp,
            a["review"].clone(),
        )
    }
}

#[tokio::test]
async fn a_reviewed_day_changes_the_assessment_as_leaving_it_out_does() {
    let mut srv = Srv::start().await;
    let (_, net) = srv
        .call(reqwest::Method::GET, "/api/v1/network", ADMIN, None)
        .await;
    let tp = net["stations"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["code"] == "W01"))
        .and_then(|s| s["datastreams"].as_array())
        .and_then(|d| {
            d.iter()
                .find(|d| d["parameter"] == "tp" && d["data_kind"] == "hourly")
        })
        .and_then(|d| d["id"].as_i64())
        .expect("W01 hourly TP");
    // Ten days of hourly TP at the intake (Beijing time), wobbling as real values do:
    // 0.020–0.024 mg/L (Class Ⅱ for a lake, ≤ 0.025), except 5 March, a bad calibration at
    // 0.500–0.504. Mean of all: 0.0700 → Class Ⅳ (≤ 0.1); without 5 March: 0.0220 → Class Ⅱ.
    let rows: Vec<Value> = (0..240)
        .map(|h: i64| {
            let day = 1 + h / 24;
            let v = if day == 5 { 0.5 } else { 0.02 } + (h % 5) as f64 * 0.001;
            json!([format!("2026-03-{day:02}T{:02}:00:00+08:00", h % 24), v, { "flag": "N" }])
        })
        .collect();
    let body = json!([{ "Datastream": { "@iot.id": tp }, "components": ["phenomenonTime", "result", "resultQuality"], "dataArray": rows }]);
    let (s, v) = srv
        .call(
            reqwest::Method::POST,
            "/v1.1/CreateObservations",
            ADMIN,
            Some(body),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");

    let (class, all, review) = srv.tp_class(None).await;
    assert_eq!(class, "IV", "{all}");
    assert_eq!(review["invalidated"], 0);
    assert_eq!(
        review["unreviewed"].as_u64().map(|n| n >= 240),
        Some(true),
        "{review}"
    );
    let before_review = sta::time::format_instant(sta::time::now_micros());
    tokio::time::sleep(std::time::Duration::from_millis(20)).await;

    // An operator may not review; a reviewer may, with a reason from the list.
    let operator = srv.person("wang", "operator").await;
    let reviewer = srv.person("li", "reviewer").await;
    let mark = json!({"datastream_id": tp, "from": "2026-03-05T00:00:00+08:00", "to": "2026-03-05T23:59:59+08:00",
        "verdict": "invalid", "reason": "maintenance", "note": "calibration drift"});
    let (s, v) = srv
        .call(
            reqwest::Method::POST,
            "/api/v1/reviews",
            &operator,
            Some(mark.clone()),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let mut bad = mark.clone();
    bad["reason"] = json!("because");
    let (s, v) = srv
        .call(
            reqwest::Method::POST,
            "/api/v1/reviews",
            &reviewer,
            Some(bad),
        )
        .await;
    assert_eq!(s, StatusCode::BAD_REQUEST, "{v}");
    assert!(
        v["message"]
            .as_str()
            .is_some_and(|m| m.contains("maintenance")),
        "{v}"
    );
    let (s, made) = srv
        .call(
            reqwest::Method::POST,
            "/api/v1/reviews",
            &reviewer,
            Some(mark),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{made}");
    assert_eq!(made["by"], "li");
    assert_eq!(made["reason_zh"], "维护/校准");

    // The assessment now equals the one without 5 March: Class Ⅱ, mean 0.022.
    let (class, reviewed, review) = srv.tp_class(None).await;
    assert_eq!(class, "II", "{reviewed}");
    assert_eq!(review["invalidated"], 24, "{review}");
    let mean = reviewed["value"]
        .as_f64()
        .or(reviewed["mean"].as_f64())
        .unwrap_or(f64::NAN);
    assert!((mean - 0.022).abs() < 1e-9, "{reviewed}");
    // Raw values are untouched: all 240 are still in the store.
    let (_, count) = srv
        .call(
            reqwest::Method::GET,
            &format!("/v1.1/Datastreams({tp})/Observations?$count=true&$top=0"),
            ADMIN,
            None,
        )
        .await;
    assert_eq!(count["@iot.count"], 240, "{count}");
    // The as-of view shows the assessment before the review.
    let (class, _, _) = srv.tp_class(Some(&before_review)).await;
    assert_eq!(class, "IV");

    // Undo: back to Class Ⅳ; undoing twice is a conflict.
    let id = made["id"].as_i64().expect("id");
    let (s, undone) = srv
        .call(
            reqwest::Method::POST,
            &format!("/api/v1/reviews/{id}/undo"),
            &reviewer,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{undone}");
    assert_eq!(undone["undone_by"], "li");
    let (class, _, _) = srv.tp_class(None).await;
    assert_eq!(class, "IV");
    let (s, _) = srv
        .call(
            reqwest::Method::POST,
            &format!("/api/v1/reviews/{id}/undo"),
            &reviewer,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::CONFLICT);

    // A station-day approval, listed, undone.
    let (s, a) = srv
        .call(
            reqwest::Method::POST,
            "/api/v1/approvals",
            &reviewer,
            Some(json!({"station": "W01", "day": "2026-03-04"})),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{a}");
    let (_, list) = srv
        .call(
            reqwest::Method::GET,
            "/api/v1/approvals?station=W01&from=2026-03-01&to=2026-03-31",
            ADMIN,
            None,
        )
        .await;
    assert_eq!(list["value"].as_array().map(Vec::len), Some(1), "{list}");
    let (s, _) = srv
        .call(
            reqwest::Method::POST,
            &format!("/api/v1/approvals/{}/undo", a["id"]),
            &reviewer,
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    // Every review action is in the audit trail under the reviewer's token.
    tokio::time::sleep(std::time::Duration::from_millis(600)).await;
    let (_, audit) = srv
        .call(
            reqwest::Method::GET,
            "/api/v1/audit?action=review.",
            ADMIN,
            None,
        )
        .await;
    let actions: Vec<&str> = audit["value"]
        .as_array()
        .map(|a| a.iter().filter_map(|e| e["action"].as_str()).collect())
        .unwrap_or_default();
    for want in [
        "review.mark",
        "review.undo",
        "review.approve",
        "review.unapprove",
    ] {
        assert!(actions.contains(&want), "{want} in {actions:?}");
    }
    if let Some(r) = srv.running.take() {
        r.stop().await.expect("stops");
    }
}
