//! Smoke test of `qingshui demo`: the real binary on a temporary data directory, free ports and a
//! high speed; everything is checked through the public HTTP APIs.

mod served;

use serde_json::Value;
use served::free_port;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// Stops the demo with SIGTERM (graceful) when dropped, SIGKILL as a last resort.
struct Demo {
    child: Child,
}

impl Demo {
    fn terminate(&mut self) -> Option<std::process::ExitStatus> {
        served::sigterm(&self.child);
        let deadline = Instant::now() + Duration::from_secs(20);
        while Instant::now() < deadline {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(100));
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
        None
    }
}

impl Drop for Demo {
    fn drop(&mut self) {
        if let Ok(None) = self.child.try_wait() {
            let _ = self.child.kill();
            let _ = self.child.wait();
        }
    }
}

async fn get(http: &reqwest::Client, url: &str) -> Value {
    let response = http
        .get(url)
        .send()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: {e}"));
    assert!(
        response.status().is_success(),
        "GET {url}: {}",
        response.status()
    );
    response
        .json()
        .await
        .unwrap_or_else(|e| panic!("GET {url}: not JSON: {e}"))
}

fn values(page: &Value) -> &Vec<Value> {
    page["value"].as_array().expect("a value array")
}

/// Start of a phenomenonTime (instant or `start/end`), as Unix seconds.
fn start_of(time: &Value) -> i64 {
    let text = time.as_str().expect("a phenomenonTime string");
    let start = text.split('/').next().unwrap_or(text);
    chrono::DateTime::parse_from_rfc3339(start)
        .expect("RFC 3339")
        .timestamp()
}

async fn datastream_id(http: &reqwest::Client, sta: &str, key: &str) -> i64 {
    let url = format!("{sta}/Datastreams?$filter=properties/key%20eq%20'{key}'&$select=id");
    let page = get(http, &url).await;
    values(&page)
        .first()
        .and_then(|d| d["@iot.id"].as_i64())
        .unwrap_or_else(|| panic!("no datastream {key}"))
}

/// (first or last) observation time of a datastream.
async fn observation_time(http: &reqwest::Client, sta: &str, id: i64, order: &str) -> Option<i64> {
    let url =
        format!("{sta}/Datastreams({id})/Observations?$orderby=phenomenonTime%20{order}&$top=1");
    let page = get(http, &url).await;
    values(&page)
        .first()
        .map(|o| start_of(&o["phenomenonTime"]))
}

fn station<'a>(status: &'a Value, code: &str) -> &'a Value {
    values(status)
        .iter()
        .find(|s| s["station"] == code)
        .unwrap_or_else(|| panic!("station {code} in /api/v1/stations"))
}

fn wait_for_file_text(path: &Path, needle: &str, timeout: Duration) -> bool {
    let deadline = Instant::now() + timeout;
    while Instant::now() < deadline {
        if std::fs::read_to_string(path).is_ok_and(|t| t.contains(needle)) {
            return true;
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    false
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_serves_the_network_history_and_live_stations() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (http_port, hj212_port) = (free_port(), free_port());
    let stdout_path = dir.path().join("demo.out");
    let stdout = std::fs::File::create(&stdout_path).expect("stdout file");
    let network = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/hongfeng.toml");
    let started = Instant::now();
    // 1200×: the R05 outage (anchor + 3 h, 6 h long) is live 9–27 s after the start.
    let child = Command::new(env!("CARGO_BIN_EXE_qingshui"))
        .arg("demo")
        .arg("--data-dir")
        .arg(dir.path().join("data"))
        .args(["--http", &format!("127.0.0.1:{http_port}")])
        .args(["--hj212", &format!("127.0.0.1:{hj212_port}")])
        .args(["--gb28181", &format!("127.0.0.1:{}", free_port())])
        .args(["--speed", "1200", "--seed", "7", "--history", "3d"])
        .arg("--network")
        .arg(&network)
        .env("QINGSHUI_LOG", "warn")
        .stdout(Stdio::from(stdout))
        .stderr(Stdio::null())
        .spawn()
        .expect("qingshui demo starts");
    let mut demo = Demo { child };

    assert!(
        wait_for_file_text(&stdout_path, "stations live", Duration::from_secs(60)),
        "the demo did not come up: {}",
        std::fs::read_to_string(&stdout_path).unwrap_or_default()
    );
    let ready = started.elapsed();
    let banner = std::fs::read_to_string(&stdout_path).unwrap_or_default();
    let base = format!("http://127.0.0.1:{http_port}");
    let sta = format!("{base}/v1.1");
    assert!(
        banner.contains(&format!("Dashboard:        {base}/")),
        "{banner}"
    );
    assert!(
        banner.contains(&format!("SensorThings API:       {sta}")),
        "{banner}"
    );
    let http = reqwest::Client::new();

    // 18 water stations, each with its Location; 52 video points.
    let stations = get(
        &http,
        &format!(
            "{sta}/Things?$filter=properties/kind%20eq%20'station'&$expand=Locations&$top=100"
        ),
    )
    .await;
    assert_eq!(values(&stations).len(), 18);
    for thing in values(&stations) {
        let locations = thing["Locations"].as_array().expect("expanded Locations");
        assert_eq!(locations.len(), 1, "{}", thing["name"]);
    }
    let video = get(
        &http,
        &format!("{sta}/Things?$filter=properties/kind%20eq%20'video_point'&$top=100&$select=id"),
    )
    .await;
    assert_eq!(values(&video).len(), 52);

    // History: hourly data reach back about three days.
    let now = chrono::Utc::now().timestamp();
    let chl_a = datastream_id(&http, &sta, "datastream:L06:chl_a:hourly").await;
    let first = observation_time(&http, &sta, chl_a, "asc")
        .await
        .expect("history rows");
    assert!(
        first < now - 2 * 86_400,
        "history starts {} s ago",
        now - first
    );

    // Live HJ 212 data arrive: R01's latest real-time value moves forward.
    let r01 = datastream_id(&http, &sta, "datastream:R01:water_temp:realtime").await;
    let before = observation_time(&http, &sta, r01, "desc")
        .await
        .expect("R01 data");
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = observation_time(&http, &sta, r01, "desc")
        .await
        .expect("R01 data");
    assert!(
        after > before,
        "R01 real-time data advance ({before} → {after})"
    );

    // Offline and backfill in the station status: R05 goes offline (disconnected) while the
    // others stay online, then reconnects and delivers the frames it held.
    let deadline = Instant::now() + Duration::from_secs(75);
    let mut offline_frames = None;
    let mut backfilled = false;
    while Instant::now() < deadline && !backfilled {
        let status = get(&http, &format!("{base}/api/v1/stations")).await;
        let r05 = station(&status, "R05");
        let frames = r05["frames_received"].as_u64().unwrap_or(0);
        match offline_frames {
            None if r05["status"] == "offline" && r05["connected"] == false => {
                assert_eq!(station(&status, "R01")["status"], "online");
                offline_frames = Some(frames);
            }
            // 6 h held: 72 real-time and 6 hourly frames, delivered when it is back.
            Some(held_at) if r05["status"] == "online" && frames >= held_at + 78 => {
                backfilled = true
            }
            _ => {}
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    assert!(offline_frames.is_some(), "R05 was never reported offline");
    assert!(backfilled, "R05 did not come back with its held frames");

    // The intake's GB 3838 assessment over the history is computed, against its Class II target.
    let from = chrono::DateTime::from_timestamp(now - 3 * 86_400, 0)
        .expect("time")
        .to_rfc3339();
    let to = chrono::DateTime::from_timestamp(now + 86_400, 0)
        .expect("time")
        .to_rfc3339();
    let url = reqwest::Url::parse_with_params(
        &format!("{base}/api/v1/assessment"),
        &[
            ("scope", "station:W01"),
            ("from", from.as_str()),
            ("to", to.as_str()),
        ],
    )
    .expect("url");
    let assessment = get(&http, url.as_str()).await;
    assert_eq!(assessment["station"], "W01", "{assessment}");
    assert_eq!(assessment["target"]["target_class"], "II", "{assessment}");
    assert!(
        ["I", "II", "III", "IV", "V", "WorseThanV"]
            .contains(&assessment["class"].as_str().unwrap_or("")),
        "the intake has a class: {assessment}"
    );
    let tp = assessment["indicators"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["parameter"] == "tp"))
        .expect("TP judged");
    // The analyser runs every 4 h: three days give about 18 cycles; QC may set a few aside.
    assert!(tp["counts"]["valid"].as_u64().unwrap_or(0) >= 12, "{tp}");
    assert_eq!(
        assessment["trophic"]["status"], "computed",
        "TLI for the lake intake: {assessment}"
    );

    let status = demo.terminate();
    assert!(
        status.is_some_and(|s| s.success()),
        "graceful stop: {status:?}"
    );
    eprintln!(
        "demo ready after {:.1} s; whole smoke test {:.1} s",
        ready.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
}
