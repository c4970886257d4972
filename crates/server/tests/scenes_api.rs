//! Scenes end to end: the real server on a random port with `config/hongfeng.toml` and a real
//! SQLite file; synthetic Sentinel-2 scenes (our GeoTIFF writer) go in through
//! `POST /api/v1/scenes`, come back from the list, the document, the overlay and
//! `/api/v1/network`, raise `bloom_area`; bad files are refused with the reason and store nothing.
#[path = "common/backend.rs"]
mod backend;

use imagery::synthetic::{Cover, Synthetic, write};
use serde_json::Value;
use server::config::Config;
use std::path::PathBuf;

const TOKEN: &str = "scene-test-token";

fn hongfeng() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/hongfeng.toml")
}

fn network() -> network::Network {
    let text = std::fs::read_to_string(hongfeng()).expect("hongfeng.toml");
    network::parse_network(&text, "hongfeng.toml").expect("parses")
}

/// A 40 m scene over the whole lake with a scum patch in the south basin.
fn bloom_scene() -> (Vec<u8>, u64) {
    let s = Synthetic {
        res: 40.0,
        scum: vec![[106.386, 26.462, 106.398, 26.474]],
        ..Synthetic::sentinel2([106.355, 26.415, 106.46, 26.61])
    };
    let w = write(&network(), &s).expect("scene");
    let n = w.count(Cover::Scum);
    (w.bytes, n)
}

struct Server {
    base: String,
    client: reqwest::Client,
    running: server::Running,
    _dir: tempfile::TempDir,
}

async fn start() -> Server {
    let dir = tempfile::tempdir().expect("tempdir");
    let mut config = Config::default();
    config.http.addr = "127.0.0.1:0".parse().expect("addr");
    config.storage.data_dir = dir.path().to_path_buf();
    config.auth.tokens = vec![TOKEN.into()];
    config.network.file = Some(hongfeng());
    // The planted patch covers a few % of the south basin: alert on it.
    config.imagery.alert_coverage = 0.01;
    let store = backend::open_store(&config).expect("store");
    let running = server::start(config, store).await.expect("server starts");
    Server {
        base: format!("http://{}", running.http_addr),
        client: reqwest::Client::new(),
        running,
        _dir: dir,
    }
}

impl Server {
    async fn post(&self, query: &str, ctype: &str, body: Vec<u8>, token: bool) -> (u16, Value) {
        let mut r = self
            .client
            .post(format!("{}/api/v1/scenes{query}", self.base))
            .header("content-type", ctype)
            .body(body);
        if token {
            r = r.bearer_auth(TOKEN);
        }
        let resp = r.send().await.expect("post");
        let status = resp.status().as_u16();
        (status, resp.json().await.unwrap_or(Value::Null))
    }

    async fn raw(&self, path: &str) -> reqwest::Response {
        self.client
            .get(format!("{}{path}", self.base))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("get")
    }

    async fn get(&self, path: &str) -> Value {
        let resp = self.raw(path).await;
        assert!(resp.status().is_success(), "{path}: {}", resp.status());
        resp.json().await.expect("json")
    }

    async fn scene_count(&self) -> usize {
        self.get("/api/v1/scenes").await["value"]
            .as_array()
            .map_or(0, Vec::len)
    }
}

#[tokio::test]
async fn a_scene_goes_in_and_comes_back_with_its_figures_overlay_and_alert() {
    let srv = start().await;
    let (bytes, planted) = bloom_scene();
    let (status, s) = srv
        .post(
            "?sensor=sentinel-2a&time=2026-07-15T03:20:00Z",
            "image/tiff",
            bytes,
            true,
        )
        .await;
    assert_eq!(status, 201, "{s}");
    let id = s["id"].as_i64().expect("id");
    assert_eq!(s["sensor"], "sentinel-2a");
    assert_eq!(s["time"], "2026-07-15T03:20:00Z");
    let area = s["bloom_area_km2"].as_f64().unwrap();
    assert!(
        (area - planted as f64 * 1600.0 / 1e6).abs() < 1e-9,
        "{area} vs {planted} px"
    );
    assert_eq!(s["valid_fraction"].as_f64(), Some(1.0));

    let doc = srv.get(&format!("/api/v1/scenes/{id}")).await;
    let south = doc["basins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["basin"] == "south")
        .unwrap();
    assert_eq!(south["bloom_pixels"].as_u64(), Some(planted));
    assert_eq!(doc["epsg"], 32648);
    assert_eq!(doc["boa_add_offset"].as_f64(), Some(-1000.0));

    let png = srv.raw(&format!("/api/v1/scenes/{id}/overlay.png")).await;
    assert_eq!(png.headers()["content-type"], "image/png");
    assert!(png.bytes().await.unwrap().starts_with(b"\x89PNG"));

    let net = srv.get("/api/v1/network").await;
    let listed = &net["scenes"][0];
    assert_eq!(listed["id"].as_i64(), Some(id));
    assert_eq!(
        listed["overlay_url"],
        format!("/api/v1/scenes/{id}/overlay.png")
    );
    assert_eq!(listed["bounds"].as_array().map(Vec::len), Some(4));

    // The figures are observations of the water-body Things' Datastreams, seen through STA.
    let q = "/v1.1/Datastreams?$filter=properties/key%20eq%20'datastream:waterbody:south:bloom_area'&$expand=Observations,Thing";
    let ds = srv.get(q).await;
    let d = &ds["value"][0];
    assert_eq!(d["Thing"]["properties"]["key"], "waterbody:south", "{ds}");
    let obs = &d["Observations"][0];
    assert!(
        (obs["result"].as_f64().unwrap() - south["bloom_area_km2"].as_f64().unwrap()).abs() < 1e-12
    );
    // STA echoes times without zero fractional seconds (issue 12).
    assert_eq!(obs["phenomenonTime"], "2026-07-15T03:20:00Z");
    let lake = srv.get("/v1.1/Datastreams?$filter=properties/key%20eq%20'datastream:waterbody:lake:valid_fraction'&$expand=Observations").await;
    assert_eq!(
        lake["value"][0]["Observations"][0]["result"].as_f64(),
        Some(1.0)
    );

    // The south basin's coverage is over the (test) share: one bloom_area alert, bilingual.
    let alerts = srv.get("/api/v1/alerts?rule=bloom_area").await;
    let list = alerts["value"].as_array().cloned().unwrap_or_default();
    let a = list
        .iter()
        .find(|a| a["source"] == "imagery:basin:south")
        .unwrap_or_else(|| panic!("{alerts}"));
    let (zh, en) = (
        a["message_zh"].as_str().unwrap_or_default(),
        a["message_en"].as_str().unwrap_or_default(),
    );
    assert!(
        zh.contains("南部湖区")
            && zh.contains("水华覆盖")
            && en.contains("bloom covers")
            && en.contains("South basin"),
        "{a}"
    );
    assert!(!list.iter().any(|a| a["source"] == "imagery:basin:north"));
    srv.running.stop().await.expect("stops");
}

type Case = (
    &'static str,
    String,
    &'static str,
    Vec<u8>,
    bool,
    u16,
    &'static str,
);

#[tokio::test]
async fn bad_files_get_a_4xx_with_the_reason_and_nothing_is_stored() {
    let srv = start().await;
    let (good, _) = bloom_scene();
    let t = "?time=2026-07-15T03:20:00Z";
    let mut far = Synthetic {
        res: 200.0,
        ..Synthetic::sentinel2([107.3, 26.4, 107.4, 26.5])
    };
    far.scum.clear();
    let far = write(&network(), &far).unwrap().bytes;
    let mut plain = std::io::Cursor::new(Vec::new());
    tiff::encoder::TiffEncoder::new(&mut plain)
        .unwrap()
        .write_image::<tiff::encoder::colortype::Gray16>(4, 4, &[1u16; 16])
        .unwrap();
    // (what, query, content type, body, with token, status, reason in the message)
    let cases: Vec<Case> = vec![
        (
            "no token",
            t.into(),
            "image/tiff",
            good.clone(),
            false,
            401,
            "Bearer",
        ),
        (
            "wrong type",
            t.into(),
            "application/json",
            good.clone(),
            true,
            415,
            "image/tiff",
        ),
        (
            "not a TIFF",
            t.into(),
            "image/tiff",
            b"GIF89a....".to_vec(),
            true,
            415,
            "not_tiff",
        ),
        (
            "no georeference",
            t.into(),
            "image/tiff",
            plain.into_inner(),
            true,
            422,
            "no_georeference",
        ),
        (
            "not over the lake",
            t.into(),
            "image/tiff",
            far,
            true,
            422,
            "not_over_lake",
        ),
        (
            "unknown bands",
            format!("{t}&bands=B03,B04,B05,B06,B99,B11"),
            "image/tiff",
            good.clone(),
            true,
            422,
            "B99",
        ),
        (
            "no time",
            String::new(),
            "image/tiff",
            good.clone(),
            true,
            400,
            "acquisition time",
        ),
        (
            "future",
            "?time=2999-01-01T00:00:00Z".into(),
            "image/tiff",
            good.clone(),
            true,
            400,
            "future",
        ),
    ];
    for (what, q, ctype, body, token, want, reason) in cases {
        let (status, err) = srv.post(&q, ctype, body, token).await;
        assert_eq!(status, want, "{what}: {err}");
        assert_eq!(err["type"], "error", "{what}");
        let msg = err["message"].as_str().unwrap_or_default();
        assert!(msg.contains(reason), "{what}: {msg}");
        assert_eq!(srv.scene_count().await, 0, "{what} stored nothing");
    }
    assert!(
        srv.get("/api/v1/network").await["scenes"]
            .as_array()
            .unwrap()
            .is_empty()
    );
    srv.running.stop().await.expect("stops");
}

#[tokio::test]
async fn same_day_station_chl_a_calibrates_ndci() {
    let srv = start().await;
    let time = "2026-07-15T03:20:00Z";
    // Clear water at L01-L03 (NDCI < 0), high-chlorophyll water at L05 and L06 (NDCI ≈ 0.2).
    let mut expect = Vec::new();
    for (code, chl) in [
        ("L01", 8.0),
        ("L02", 9.0),
        ("L03", 10.0),
        ("L05", 40.0),
        ("L06", 42.0),
    ] {
        let key = format!("datastream:{code}:chl_a:hourly");
        let ds = srv
            .get(&format!(
                "/v1.1/Datastreams?$filter=properties/key%20eq%20'{key}'"
            ))
            .await;
        let id = ds["value"][0]["@iot.id"]
            .as_i64()
            .unwrap_or_else(|| panic!("{key}: {ds}"));
        let r = srv
            .client
            .post(format!("{}/v1.1/Datastreams({id})/Observations", srv.base))
            .bearer_auth(TOKEN)
            .json(&serde_json::json!({"phenomenonTime": time, "result": chl}))
            .send()
            .await
            .unwrap();
        assert!(r.status().is_success(), "{}", r.status());
        expect.push((code, chl));
    }
    let s = Synthetic {
        res: 40.0,
        high_chl: vec![
            [106.395, 26.487, 106.401, 26.493],
            [106.377, 26.467, 106.383, 26.473],
        ],
        ..Synthetic::sentinel2([106.355, 26.415, 106.46, 26.61])
    };
    let bytes = write(&network(), &s).unwrap().bytes;
    let (status, summary) = srv
        .post(&format!("?time={time}"), "image/tiff", bytes, true)
        .await;
    assert_eq!(status, 201, "{summary}");
    let doc = srv.get(&format!("/api/v1/scenes/{}", summary["id"])).await;
    let fit = &doc["chl_fit"];
    assert_eq!(fit["n"].as_u64(), Some(expect.len() as u64), "{doc}");
    // Two NDCI levels: the slope joins the two groups' means ((41 − 9) / ΔNDCI) and r² is high.
    assert!(fit["slope"].as_f64().unwrap() > 50.0, "{fit}");
    assert!(fit["r2"].as_f64().unwrap() > 0.95, "{fit}");
    let south = doc["basins"]
        .as_array()
        .unwrap()
        .iter()
        .find(|b| b["basin"] == "south")
        .unwrap();
    let est = south["chl_a_estimate"].as_f64().unwrap();
    assert!((5.0..45.0).contains(&est), "{est}");
    srv.running.stop().await.expect("stops");
}
