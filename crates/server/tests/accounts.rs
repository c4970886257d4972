//! Accounts end to end over real HTTP: sessions (login, cookie attributes, CSRF, logout,
//! expiry, throttling), personal tokens (shown once, revoked, expired), the role × endpoint
//! matrix (allowed or 401/403, nothing changed on refusal), and the audit trail (one entry per
//! write, with the right principal; alert history under the person's own name).
#[path = "common/backend.rs"]
mod backend;

use reqwest::{Client, Method, RequestBuilder, StatusCode};
use serde_json::{Value, json};
use server::config::Config;
use std::time::{Duration, Instant};
use store::accounts::TokenRecord;

const SERVICE: &str = "service-token-for-accounts-tests";

struct Srv {
    http: String,
    client: Client,
    running: Option<server::Running>,
    _dir: tempfile::TempDir,
}

async fn start(tweak: impl FnOnce(&mut Config)) -> Srv {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = Config::default();
    config.http.addr = "127.0.0.1:0".parse().expect("addr");
    config.storage.data_dir = dir.path().to_path_buf();
    config.auth.tokens = vec![SERVICE.into()];
    config.auth.refresh_s = 1;
    tweak(&mut config);
    let store = backend::open_store(&config).expect("store");
    let running = server::start(config, store).await.expect("server starts");
    Srv {
        http: format!("http://{}", running.http_addr),
        client: Client::new(),
        running: Some(running),
        _dir: dir,
    }
}

/// How a request authenticates.
#[derive(Clone)]
enum Cred {
    None,
    Bearer(String),
    /// Session cookie, with or without its CSRF token.
    Cookie {
        id: String,
        csrf: Option<String>,
    },
}

impl Srv {
    fn req(&self, method: Method, path: &str, cred: &Cred) -> RequestBuilder {
        let r = self.client.request(method, format!("{}{path}", self.http));
        match cred {
            Cred::None => r,
            Cred::Bearer(t) => r.bearer_auth(t),
            Cred::Cookie { id, csrf } => {
                let r = r.header("cookie", format!("qingshui_session={id}"));
                match csrf {
                    Some(c) => r.header("x-csrf-token", c),
                    None => r,
                }
            }
        }
    }

    async fn call(
        &self,
        method: Method,
        path: &str,
        cred: &Cred,
        body: Option<Value>,
    ) -> (StatusCode, Value) {
        let mut r = self.req(method, path, cred);
        if let Some(b) = body {
            r = r.json(&b);
        }
        let resp = r.send().await.expect("request");
        let status = resp.status();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn add_user(&self, name: &str, display: &str, role: &str, password: &str) {
        let (s, v) = self
            .call(Method::POST, "/api/v1/users", &Cred::Bearer(SERVICE.into()),
                Some(json!({"name": name, "display_name": display, "role": role, "password": password})))
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        assert!(
            v.get("password_hash").is_none() && !v.to_string().contains("argon2"),
            "{v}"
        );
    }

    /// Logs in; returns (session id from the cookie, CSRF token, the Set-Cookie header).
    async fn login(&self, name: &str, password: &str) -> (String, String, String) {
        let resp = self
            .client
            .post(format!("{}/api/v1/session", self.http))
            .json(&json!({"name": name, "password": password}))
            .send()
            .await
            .expect("login");
        assert_eq!(resp.status(), StatusCode::OK);
        let cookie = resp
            .headers()
            .get("set-cookie")
            .and_then(|v| v.to_str().ok())
            .unwrap_or_default()
            .to_string();
        let v: Value = resp.json().await.expect("JSON");
        let id = cookie
            .split(';')
            .next()
            .and_then(|kv| kv.strip_prefix("qingshui_session="))
            .unwrap_or_default()
            .to_string();
        (
            id,
            v["csrf"].as_str().unwrap_or_default().to_string(),
            cookie,
        )
    }

    async fn token_for(&self, name: &str, password: &str, role: Option<&str>) -> String {
        let (id, csrf, _) = self.login(name, password).await;
        let mut body = json!({"name": format!("{name}'s tool")});
        if let Some(r) = role {
            body["role"] = json!(r);
        }
        let (s, v) = self
            .call(
                Method::POST,
                "/api/v1/tokens",
                &Cred::Cookie {
                    id,
                    csrf: Some(csrf),
                },
                Some(body),
            )
            .await;
        assert_eq!(s, StatusCode::CREATED, "{v}");
        let t = v["token"].as_str().unwrap_or_default().to_string();
        assert!(t.starts_with("qs_") && t.len() == 67, "{v}");
        t
    }

    async fn things(&self) -> usize {
        let (_, v) = self
            .call(Method::GET, "/v1.1/Things", &Cred::None, None)
            .await;
        v["value"].as_array().map_or(0, Vec::len)
    }

    async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await.expect("stops");
        }
    }
}

fn thing() -> Value {
    json!({"name": "account test thing", "description": "d"})
}

#[tokio::test]
async fn sessions_csrf_logout_expiry_and_throttling() {
    let srv = start(|c| {
        c.auth.session_ttl_s = 2;
        c.auth.login_max_failures = 3;
    })
    .await;
    srv.add_user("wang", "王值班", "operator", "duty-pass-1")
        .await;
    srv.add_user("li", "李审核", "reviewer", "review-pass-1")
        .await;

    // A wrong password: 401 with a JSON error, no cookie.
    let (s, v) = srv
        .call(
            Method::POST,
            "/api/v1/session",
            &Cred::None,
            Some(json!({"name": "wang", "password": "nope-nope"})),
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);
    assert_eq!(v["type"], "error", "{v}");

    let (id, csrf, cookie) = srv.login("wang", "duty-pass-1").await;
    assert!(
        cookie.contains("HttpOnly")
            && cookie.contains("SameSite=Strict")
            && cookie.contains("Max-Age=2"),
        "{cookie}"
    );
    assert_eq!(id.len(), 64);
    assert_eq!(csrf.len(), 32);
    let (s, me) = srv
        .call(
            Method::GET,
            "/api/v1/session",
            &Cred::Cookie {
                id: id.clone(),
                csrf: None,
            },
            None,
        )
        .await;
    assert_eq!(s, StatusCode::OK);
    assert_eq!(
        (me["name"].as_str(), me["role"].as_str()),
        (Some("wang"), Some("operator")),
        "{me}"
    );

    // A state change with the cookie but without the CSRF token is refused; nothing is made.
    let before = srv.things().await;
    let (s, v) = srv
        .call(
            Method::POST,
            "/v1.1/Things",
            &Cred::Cookie {
                id: id.clone(),
                csrf: None,
            },
            Some(thing()),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, _) = srv
        .call(
            Method::POST,
            "/v1.1/Things",
            &Cred::Cookie {
                id: id.clone(),
                csrf: Some("0".repeat(32)),
            },
            Some(thing()),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    assert_eq!(srv.things().await, before);
    let (s, v) = srv
        .call(
            Method::POST,
            "/v1.1/Things",
            &Cred::Cookie {
                id: id.clone(),
                csrf: Some(csrf.clone()),
            },
            Some(thing()),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED, "{v}");

    // Logout ends the session at once.
    let (s, _) = srv
        .call(
            Method::DELETE,
            "/api/v1/session",
            &Cred::Cookie {
                id: id.clone(),
                csrf: Some(csrf),
            },
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let (s, _) = srv
        .call(
            Method::GET,
            "/api/v1/session",
            &Cred::Cookie { id, csrf: None },
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // Expiry: a session of 2 s is gone after 2.5 s.
    let (id, _, _) = srv.login("wang", "duty-pass-1").await;
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let (s, _) = srv
        .call(
            Method::GET,
            "/api/v1/session",
            &Cred::Cookie { id, csrf: None },
            None,
        )
        .await;
    assert_eq!(s, StatusCode::UNAUTHORIZED);

    // Throttling: three failures lock the name, even for the right password; another name works.
    for _ in 0..3 {
        let (s, _) = srv
            .call(
                Method::POST,
                "/api/v1/session",
                &Cred::None,
                Some(json!({"name": "wang", "password": "guess-guess"})),
            )
            .await;
        assert_eq!(s, StatusCode::UNAUTHORIZED);
    }
    let r = srv
        .client
        .post(format!("{}/api/v1/session", srv.http))
        .json(&json!({"name": "wang", "password": "duty-pass-1"}))
        .send()
        .await
        .expect("login");
    assert_eq!(r.status(), StatusCode::TOO_MANY_REQUESTS);
    assert!(r.headers().get("retry-after").is_some());
    let (_, csrf_li, _) = srv.login("li", "review-pass-1").await;
    assert!(!csrf_li.is_empty());
    srv.stop().await;
}

#[tokio::test]
async fn every_state_change_needs_its_role_and_refusals_change_nothing() {
    let srv = start(|_| {}).await;
    for (name, role) in [
        ("v", "viewer"),
        ("o", "operator"),
        ("r", "reviewer"),
        ("a", "admin"),
    ] {
        srv.add_user(name, name, role, "pass-word-1").await;
    }
    let viewer = srv.token_for("v", "pass-word-1", None).await;
    let operator = srv.token_for("o", "pass-word-1", None).await;
    let reviewer = srv.token_for("r", "pass-word-1", None).await;
    let admin = srv.token_for("a", "pass-word-1", None).await;
    // A token cannot hold more than its owner.
    let (id, csrf, _) = srv.login("v", "pass-word-1").await;
    let (s, _) = srv
        .call(
            Method::POST,
            "/api/v1/tokens",
            &Cred::Cookie {
                id,
                csrf: Some(csrf),
            },
            Some(json!({"name": "x", "role": "admin"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);

    // A revoked token, and an expired one written to the store directly (as another node or
    // the CLI would): both refused once the live set is reloaded.
    let revoked = srv.token_for("a", "pass-word-1", None).await;
    let (_, list) = srv
        .call(
            Method::GET,
            "/api/v1/tokens",
            &Cred::Bearer(admin.clone()),
            None,
        )
        .await;
    assert!(
        !list.to_string().contains(&revoked),
        "a listed token never shows the secret"
    );
    let rid = list["value"]
        .as_array()
        .and_then(|a| {
            a.iter()
                .find(|t| revoked.starts_with(t["prefix"].as_str().unwrap_or("-")))
                .cloned()
        })
        .and_then(|t| t["id"].as_i64())
        .expect("the revoked token is listed");
    let (s, _) = srv
        .call(
            Method::DELETE,
            &format!("/api/v1/tokens/{rid}"),
            &Cred::Bearer(admin.clone()),
            None,
        )
        .await;
    assert_eq!(s, StatusCode::NO_CONTENT);
    let expired = format!("qs_{}", "e".repeat(64));
    let accounts = srv
        .running
        .as_ref()
        .expect("running")
        .store
        .clone()
        .account_store()
        .expect("accounts");
    let admin_id = accounts
        .user_by_name("a")
        .await
        .expect("read")
        .expect("a")
        .id;
    let now = store::clock::now_millis();
    accounts
        .add_token(TokenRecord {
            id: 0,
            user_id: admin_id,
            name: "old".into(),
            prefix: expired.chars().take(10).collect(),
            digest: server::accounts::digest(&expired),
            role: "admin".into(),
            created_at: now - 2 * 86_400_000,
            expires_at: Some(now - 86_400_000),
            revoked_at: None,
        })
        .await
        .expect("stored");
    tokio::time::sleep(Duration::from_millis(1500)).await;

    // An open alert to act on.
    let (s, alert) = srv
        .call(Method::POST, "/api/v1/alerts/external", &Cred::Bearer(SERVICE.into()),
            Some(json!({"rule": "intrusion", "source": "V01", "severity": "critical", "message": "test"})))
        .await;
    assert_eq!(s, StatusCode::OK, "{alert}");
    let alert_id = alert["id"].as_i64().expect("alert id");

    let creds = [
        ("anonymous", Cred::None, None),
        ("viewer", Cred::Bearer(viewer), Some(0)),
        ("operator", Cred::Bearer(operator), Some(1)),
        ("reviewer", Cred::Bearer(reviewer), Some(2)),
        ("admin", Cred::Bearer(admin), Some(3)),
        ("revoked", Cred::Bearer(revoked), None),
        ("expired", Cred::Bearer(expired), None),
    ];
    // (what, method, path, body, least role 0–3)
    let mut n = 0;
    for (who, cred, rank) in &creds {
        n += 1;
        let endpoints: Vec<(&str, Method, String, Option<Value>, u8)> = vec![
            (
                "STA create",
                Method::POST,
                "/v1.1/Things".into(),
                Some(thing()),
                1,
            ),
            (
                "alert comment",
                Method::POST,
                format!("/api/v1/alerts/{alert_id}/comments"),
                Some(json!({"text": format!("c{n}")})),
                1,
            ),
            (
                "external alert",
                Method::POST,
                "/api/v1/alerts/external".into(),
                Some(
                    json!({"rule": "intrusion", "source": format!("M{n}"), "severity": "minor", "message": "m"}),
                ),
                1,
            ),
            (
                "add user",
                Method::POST,
                "/api/v1/users".into(),
                Some(
                    json!({"name": format!("new{n}"), "role": "viewer", "password": "pass-word-1"}),
                ),
                3,
            ),
            (
                "change user",
                Method::PATCH,
                "/api/v1/users/v".into(),
                Some(json!({"display_name": format!("v{n}")})),
                3,
            ),
            ("read audit", Method::GET, "/api/v1/audit".into(), None, 3),
            (
                "create token",
                Method::POST,
                "/api/v1/tokens".into(),
                Some(json!({"name": "t"})),
                0,
            ),
        ];
        for (what, method, path, body, least) in endpoints {
            let things = srv.things().await;
            let (_, users_before) = srv
                .call(
                    Method::GET,
                    "/api/v1/users",
                    &Cred::Bearer(SERVICE.into()),
                    None,
                )
                .await;
            let (s, v) = srv.call(method.clone(), &path, cred, body).await;
            let allowed = rank.is_some_and(|r| r >= least);
            if allowed {
                assert!(s.is_success(), "{who} {what}: {s} {v}");
            } else {
                let want = if rank.is_none() {
                    StatusCode::UNAUTHORIZED
                } else {
                    StatusCode::FORBIDDEN
                };
                assert_eq!(s, want, "{who} {what}: {v}");
                assert_eq!(v["type"], "error", "{who} {what}: {v}");
                assert_eq!(
                    srv.things().await,
                    things,
                    "{who} {what} changed the Things"
                );
                let (_, users_after) = srv
                    .call(
                        Method::GET,
                        "/api/v1/users",
                        &Cred::Bearer(SERVICE.into()),
                        None,
                    )
                    .await;
                assert_eq!(
                    users_after, users_before,
                    "{who} {what} changed the accounts"
                );
            }
        }
    }
    srv.stop().await;
}

#[tokio::test]
async fn each_write_is_audited_under_its_principal_and_alerts_name_the_person() {
    let srv = start(|c| {
        c.network.file =
            Some(concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/hongfeng.toml").into());
    })
    .await;
    srv.add_user("wang", "王值班", "operator", "duty-pass-1")
        .await;
    let token = srv.token_for("wang", "duty-pass-1", None).await;
    let (s, _) = srv
        .call(
            Method::POST,
            "/v1.1/Things",
            &Cred::Bearer(token.clone()),
            Some(thing()),
        )
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (_, alert) = srv
        .call(Method::POST, "/api/v1/alerts/external", &Cred::Bearer(SERVICE.into()),
            Some(json!({"rule": "intrusion", "source": "V02", "severity": "critical", "message": "m"})))
        .await;
    let alert_id = alert["id"].as_i64().expect("id");
    let (id, csrf, _) = srv.login("wang", "duty-pass-1").await;
    // The body claims someone else; the history names the person logged in.
    let (s, acked) = srv
        .call(
            Method::POST,
            &format!("/api/v1/alerts/{alert_id}/ack"),
            &Cred::Cookie {
                id,
                csrf: Some(csrf),
            },
            Some(json!({"by": "somebody else", "comment": "在看"})),
        )
        .await;
    assert_eq!(s, StatusCode::OK, "{acked}");
    assert_eq!(acked["acknowledged_by"], "王值班 (wang)", "{acked}");

    let prefix: String = token.chars().take(10).collect();
    let start = Instant::now();
    let entries = loop {
        let (s, v) = srv
            .call(
                Method::GET,
                "/api/v1/audit?limit=100",
                &Cred::Bearer(SERVICE.into()),
                None,
            )
            .await;
        assert_eq!(s, StatusCode::OK, "{v}");
        let e = v["value"].as_array().cloned().unwrap_or_default();
        if e.iter().any(|e| e["action"] == "alert.ack") || start.elapsed() > Duration::from_secs(5)
        {
            break e;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let count = |action: &str, principal: &str| {
        entries
            .iter()
            .filter(|e| e["action"] == action && e["principal"] == principal)
            .count()
    };
    assert_eq!(count("user.add", "service"), 1, "{entries:?}");
    assert_eq!(count("token.create", "user:wang"), 1, "{entries:?}");
    assert_eq!(
        count("sta.post", &format!("token:{prefix}…(wang)")),
        1,
        "{entries:?}"
    );
    assert_eq!(count("alert.external", "service"), 1, "{entries:?}");
    assert_eq!(count("alert.ack", "user:wang"), 1, "{entries:?}");
    assert_eq!(count("session.login", "user:wang"), 2, "{entries:?}");
    // The network file loaded at start is audited too.
    assert_eq!(count("network.load", "config"), 1, "{entries:?}");
    assert!(
        !serde_json::to_string(&entries)
            .unwrap_or_default()
            .contains(&token),
        "no secret in the audit trail"
    );
    // The filter by action prefix.
    let (_, only) = srv
        .call(
            Method::GET,
            "/api/v1/audit?action=sta.",
            &Cred::Bearer(SERVICE.into()),
            None,
        )
        .await;
    assert!(
        only["value"]
            .as_array()
            .is_some_and(|a| !a.is_empty() && a.iter().all(|e| e["action"] == "sta.post")),
        "{only}"
    );
    srv.stop().await;
}

#[tokio::test]
async fn open_servers_let_anonymous_clients_write_data_but_never_manage_accounts() {
    let srv = start(|c| c.auth.open = true).await;
    let (s, _) = srv
        .call(Method::POST, "/v1.1/Things", &Cred::None, Some(thing()))
        .await;
    assert_eq!(s, StatusCode::CREATED);
    let (s, v) = srv
        .call(
            Method::POST,
            "/api/v1/users",
            &Cred::None,
            Some(json!({"name": "intruder", "role": "admin", "password": "pass-word-1"})),
        )
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN, "{v}");
    let (s, _) = srv
        .call(Method::GET, "/api/v1/audit", &Cred::None, None)
        .await;
    assert_eq!(s, StatusCode::FORBIDDEN);
    let (_, users) = srv
        .call(
            Method::GET,
            "/api/v1/users",
            &Cred::Bearer(SERVICE.into()),
            None,
        )
        .await;
    assert_eq!(users["value"].as_array().map(Vec::len), Some(0), "{users}");
    srv.stop().await;
}
