//! `qingshui store copy`: an embedded store written through the API is copied into PostgreSQL;
//! the command verifies counts and a sample; the PostgreSQL server then answers the same
//! observations (integers, doubles, strings, booleans, objects, a replaced value) and new ids
//! continue after the copied ones. Runs when `QINGSHUI_TEST_DATABASE_URL` is set.

mod served;

use serde_json::{Value, json};
use served::{free_port, sigterm, wait_ready};
use std::process::{Command, Stdio};

fn fresh_schema_url() -> Option<String> {
    let admin = std::env::var("QINGSHUI_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())?;
    // The blocking client must not run on a test's runtime thread.
    let (_, url) = std::thread::spawn(move || store_postgres::create_fresh_schema(&admin, "cp_"))
        .join()
        .expect("schema thread")
        .expect("schema");
    Some(url)
}

async fn observations(client: &reqwest::Client, base: &str) -> Value {
    let v: Value = client
        .get(format!(
            "{base}/v1.1/Observations?$orderby=id&$select=id,phenomenonTime,result,resultQuality"
        ))
        .send()
        .await
        .expect("get")
        .json()
        .await
        .expect("json");
    v["value"].clone()
}

#[tokio::test]
async fn an_embedded_store_copies_into_postgres_and_reads_the_same() {
    let Some(url) = fresh_schema_url() else {
        eprintln!(
            "QINGSHUI_TEST_DATABASE_URL is not set: the copy test runs in make test-postgres"
        );
        return;
    };
    let dir = tempfile::tempdir().expect("dir");
    let client = reqwest::Client::new();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}");
    // The source is the embedded store, whatever backend the other tests run on.
    let mut child = Command::new(env!("CARGO_BIN_EXE_qingshui"))
        .args(["serve", "--open", "--http", &format!("127.0.0.1:{port}")])
        .arg("--data-dir")
        .arg(dir.path())
        .env_remove("QINGSHUI_DATABASE_URL")
        .env("QINGSHUI_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start qingshui on SQLite");
    wait_ready(&client, &base).await;
    let r = client
        .post(format!("{base}/v1.1/Things"))
        .json(&served::thing("copy", 1))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    let results = [
        json!(7),
        json!(7.25),
        json!("clear"),
        json!(true),
        json!({"a": [1, 2]}),
    ];
    for (i, result) in results.iter().enumerate() {
        let r = client
            .post(format!("{base}/v1.1/Datastreams(1)/Observations"))
            .json(&json!({ "phenomenonTime": format!("2026-0{}-01T00:00:00Z", i + 1), "result": result, "resultQuality": {"flag": "N"} }))
            .send()
            .await
            .expect("post");
        assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    }
    // A resend with a new value: replaced, the old one kept as a revision.
    let r = client
        .post(format!("{base}/v1.1/Datastreams(1)/Observations"))
        .json(&json!({ "phenomenonTime": "2026-01-01T00:00:00Z", "result": 8 }))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    let before = observations(&client, &base).await;
    assert_eq!(before.as_array().map(Vec::len), Some(5));
    assert!(sigterm(&child));
    let _ = child.wait();

    let out = Command::new(env!("CARGO_BIN_EXE_qingshui"))
        .args(["store", "copy", "--from"])
        .arg(dir.path())
        .args(["--to", &url])
        .stderr(Stdio::inherit())
        .output()
        .expect("run copy");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(out.status.success(), "{text}");
    assert!(text.contains("verified"), "{text}");
    assert!(text.contains("observation_revisions"), "{text}");

    let port = free_port();
    let pg = format!("http://127.0.0.1:{port}");
    let mut child = Command::new(env!("CARGO_BIN_EXE_qingshui"))
        .args(["serve", "--open", "--http", &format!("127.0.0.1:{port}")])
        .env("QINGSHUI_DATABASE_URL", &url)
        .env("QINGSHUI_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("serve on postgres");
    wait_ready(&client, &pg).await;
    let after = observations(&client, &pg).await;
    // The same answers, links aside (another port).
    let strip = |v: &Value| -> Value {
        let mut v = v.clone();
        for o in v.as_array_mut().into_iter().flatten() {
            if let Some(m) = o.as_object_mut() {
                m.remove("@iot.selfLink");
            }
        }
        v
    };
    assert_eq!(strip(&after), strip(&before));
    let r: Value = client
        .post(format!("{pg}/v1.1/Things"))
        .json(&json!({"name": "new", "description": "after the copy"}))
        .send()
        .await
        .expect("post")
        .json()
        .await
        .expect("json");
    assert_eq!(r["@iot.id"], 2, "ids continue after the copied ones");
    assert!(sigterm(&child));
    let _ = child.wait();
}
