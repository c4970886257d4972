//! A datastream the HJ 212 source creates on demand (minute data, which the network plan does not
//! hold) is visible at once to the domain API (`/api/v1/network`, `/api/v1/series`,
//! `/api/v1/latest`) and to the alert engine's directory (the live feed names its station and
//! parameter), without a restart: they share one datastream directory.
#[path = "common/backend.rs"]
mod backend;

mod common;

use common::station::TestStation;
use serde_json::Value;
use server::config::Config;
use std::path::PathBuf;
use std::time::{Duration, Instant};

const R01_MN: &str = "010000520181000000000001";
const R01_PW: &str = "520001";
const TOKEN: &str = "on-demand-token";

async fn get(client: &reqwest::Client, url: String) -> Value {
    let r = client
        .get(&url)
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("GET");
    assert!(r.status().is_success(), "GET {url}: {}", r.status());
    r.json().await.expect("JSON")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_on_demand_datastream_is_seen_by_the_domain_api_and_alerts() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::default();
    config.http.addr = "127.0.0.1:0".parse().expect("addr");
    config.storage.data_dir = dir.path().to_path_buf();
    config.auth.open = true;
    config.auth.tokens = vec![TOKEN.into()];
    config.network.file =
        Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/hongfeng.toml"));
    config.hj212.addr = Some("127.0.0.1:0".parse().expect("addr"));
    let store = backend::open_store(&config).expect("store");
    let running = server::start(config, store).await.expect("server starts");
    let http = format!("http://{}", running.http_addr);
    let client = reqwest::Client::new();

    let minute_streams = |net: &Value| -> Vec<i64> {
        net["stations"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["code"] == "R01"))
            .and_then(|s| s["datastreams"].as_array())
            .map(|d| {
                d.iter()
                    .filter(|d| d["parameter"] == "water_temp" && d["data_kind"] == "minute")
                    .filter_map(|d| d["id"].as_i64())
                    .collect()
            })
            .unwrap_or_default()
    };
    let before = get(&client, format!("{http}/api/v1/network")).await;
    assert!(
        minute_streams(&before).is_empty(),
        "the plan holds no minute data"
    );

    // The live feed of R01 carries only observations whose datastream the directory knows.
    let mut feed = client
        .get(format!("{http}/api/v1/events?stations=R01"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("SSE");
    assert_eq!(feed.status().as_u16(), 200);

    let mut st = TestStation::connect(running.hj212_addr.expect("HJ 212"), R01_MN, R01_PW)
        .await
        .expect("connect");
    let answer = st
        .upload(
            "20260315110700001",
            "2051",
            "DataTime=20260315110600;w01010-Min=15.0,w01010-Avg=15.2,w01010-Max=15.3,w01010-Flag=N",
            Duration::from_secs(10),
        )
        .await
        .expect("io");
    assert!(answer.is_some(), "the frame is acknowledged");

    let after = get(&client, format!("{http}/api/v1/network")).await;
    let ids = minute_streams(&after);
    assert_eq!(ids.len(), 1, "the minute datastream is listed: {after}");
    let id = ids[0];
    let speaks = after["stations"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["code"] == "R01"))
        .and_then(|s| s["datastreams"].as_array())
        .and_then(|d| d.iter().find(|d| d["id"] == id))
        .map(|d| d["speaks"].clone());
    assert_eq!(speaks, Some(Value::Bool(false)), "minute data never speak");

    let series = get(
        &client,
        format!("{http}/api/v1/series?datastream={id}&from=2026-03-15T00:00:00Z&to=2026-03-16T00:00:00Z&interval=raw"),
    )
    .await;
    assert_eq!(series["data_kind"], "minute");
    assert_eq!(series["points"][0]["v"], 15.2);
    let latest = get(&client, format!("{http}/api/v1/latest?datastreams={id}")).await;
    assert_eq!(latest["value"][0]["result"], 15.2);

    let mut seen = String::new();
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(seen.contains("\"parameter\":\"water_temp\"")
        && seen.contains("\"data_kind\":\"minute\""))
    {
        let left = deadline.saturating_duration_since(Instant::now());
        assert!(
            !left.is_zero(),
            "no live event for the new datastream: {seen}"
        );
        match tokio::time::timeout(left, feed.chunk()).await {
            Ok(Ok(Some(bytes))) => seen.push_str(&String::from_utf8_lossy(&bytes)),
            other => panic!("the live feed ended: {other:?}"),
        }
    }
    drop(feed);
    running.stop().await.expect("clean stop");
}

/// Two nodes on one PostgreSQL database (docs/postgres.md) receive minute data of the same
/// station at the same moment: the minute datastream is created once, and both values are in it.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn two_nodes_create_an_on_demand_datastream_once() {
    if !backend::on_postgres() {
        eprintln!(
            "QINGSHUI_TEST_DATABASE_URL is not set: two nodes need PostgreSQL (make test-postgres)"
        );
        return;
    }
    let dir = tempfile::tempdir().expect("temp dir");
    let url = backend::postgres_url_for(dir.path()).expect("schema");
    let node = |data: PathBuf| {
        let mut config = Config::default();
        config.http.addr = "127.0.0.1:0".parse().expect("addr");
        config.storage.data_dir = data;
        config.storage.database_url = url.clone();
        config.auth.open = true;
        config.auth.tokens = vec![TOKEN.into()];
        config.network.file =
            Some(PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/hongfeng.toml"));
        config.hj212.addr = Some("127.0.0.1:0".parse().expect("addr"));
        config
    };
    let config_a = node(dir.path().join("a"));
    let a = server::start(
        config_a.clone(),
        server::open_store(&config_a).expect("store A"),
    )
    .await
    .expect("node A starts");
    let config_b = node(dir.path().join("b"));
    let b = server::start(
        config_b.clone(),
        server::open_store(&config_b).expect("store B"),
    )
    .await
    .expect("node B starts");

    let upload = |addr: std::net::SocketAddr, minute: u32, value: f64| async move {
        let mut st = TestStation::connect(addr, R01_MN, R01_PW)
            .await
            .expect("connect");
        st.upload(
            &format!("202603151107{minute:02}001"),
            "2051",
            &format!("DataTime=202603151106{minute:02};w01010-Min={value},w01010-Avg={value},w01010-Max={value},w01010-Flag=N"),
            Duration::from_secs(10),
        )
        .await
        .expect("io")
    };
    let (ra, rb) = tokio::join!(
        upload(a.hj212_addr.expect("HJ 212 A"), 0, 15.1),
        upload(b.hj212_addr.expect("HJ 212 B"), 1, 15.7)
    );
    assert!(
        ra.is_some() && rb.is_some(),
        "both frames are acknowledged: {ra:?} {rb:?}"
    );

    let client = reqwest::Client::new();
    let found = get(
        &client,
        format!(
            "http://{}/v1.1/Datastreams?$filter=properties/key eq 'datastream:R01:water_temp:minute'&$expand=Observations($select=result;$orderby=phenomenonTime)&$select=id",
            b.http_addr
        ),
    )
    .await;
    let streams = found["value"].as_array().expect("value");
    assert_eq!(streams.len(), 1, "created once across the nodes: {found}");
    let results: Vec<f64> = streams[0]["Observations"]
        .as_array()
        .expect("observations")
        .iter()
        .filter_map(|o| o["result"].as_f64())
        .collect();
    assert_eq!(results, [15.1, 15.7], "both nodes' values in it: {found}");
    a.stop().await.expect("stop A");
    b.stop().await.expect("stop B");
}
