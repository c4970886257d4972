//! Lost query answers are asked for again: a simulated camera that ignores the first
//! DeviceInfo query (as if its answer was dropped) gets its device info recorded after the
//! retry; answered queries are not asked again, and a camera that never answers is asked
//! `query_retries` more times, then left alone.

#[path = "common/video.rs"]
mod video;

use sim::send::camera::SimCamera;
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);

async fn metrics(srv: &video::VideoServer) -> String {
    srv.client
        .get(format!("{}/metrics", srv.http))
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("text")
}

#[tokio::test]
async fn an_ignored_device_info_query_is_asked_again() {
    let srv = video::start_with(60, 3, |c| {
        c.gb28181.query_retry_s = 1;
        c.gb28181.query_retries = 3;
    })
    .await;
    let mut cfg = video::camera(srv.sip, 1, video::PASSWORD);
    cfg.ignore_device_info = 1;
    let mut cam = SimCamera::start(cfg).await.expect("camera");
    assert!(cam.wait_registered(WAIT).await);
    let asked = Instant::now();
    let points = srv
        .until("V01 device info after the retry", WAIT, |p| {
            p[0]["camera"]["manufacturer"] == "SIM"
        })
        .await;
    // Not before the retry delay: the first answer really was not given.
    assert!(
        asked.elapsed() >= Duration::from_millis(800),
        "{:?}",
        asked.elapsed()
    );
    let v = &points[0]["camera"];
    assert_eq!(v["query_retries"], 1, "only DeviceInfo was re-asked: {v}");
    assert_eq!(v["queries_unanswered"], serde_json::json!([]));
    let seen = cam.seen();
    let n = |q: &str| seen.queries.iter().filter(|s| *s == q).count();
    assert_eq!(n("DeviceInfo"), 2, "{seen:?}");
    assert_eq!(n("Catalog"), 1, "answered queries are not asked again");
    assert_eq!(n("DeviceStatus"), 1);
    assert!(
        metrics(&srv)
            .await
            .contains("qingshui_gb28181_query_retries_total 1"),
        "the retry is counted"
    );
    cam.stop();
    srv.stop().await;
}

#[tokio::test]
async fn retries_stop_at_query_retries() {
    let srv = video::start_with(60, 3, |c| {
        c.gb28181.query_retry_s = 1;
        c.gb28181.query_retries = 2;
    })
    .await;
    // Ignores more DeviceInfo queries than the platform sends: 1 + 2 retries, then it gives up.
    let mut cfg = video::camera(srv.sip, 1, video::PASSWORD);
    cfg.ignore_device_info = 10;
    let mut cam = SimCamera::start(cfg).await.expect("camera");
    assert!(cam.wait_registered(WAIT).await);
    srv.until("the retries given up", WAIT, |p| {
        p[0]["camera"]["queries_unanswered"] == serde_json::json!([])
            && p[0]["camera"]["catalog_channels"] == 1
    })
    .await;
    // Two more sweeps' worth: nothing further is sent.
    tokio::time::sleep(Duration::from_millis(2500)).await;
    let seen = cam.seen();
    let asked = seen.queries.iter().filter(|s| *s == "DeviceInfo").count();
    assert_eq!(asked, 3, "first query and query_retries = 2: {seen:?}");
    let v = srv.video_point("V01").await;
    assert_eq!(v["camera"]["manufacturer"], serde_json::Value::Null);
    assert_eq!(v["camera"]["query_retries"], 2);
    cam.stop();
    srv.stop().await;
}
