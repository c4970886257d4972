//! The domain API on the Hongfeng demo network: values posted through SensorThings come back
//! judged by GB 3838-2002 in `/api/v1/network`, `/api/v1/series` and `/api/v1/assessment`.

#[path = "common/backend.rs"]
mod backend;
use serde_json::{Value, json};
use server::config::Config;

struct Demo {
    api: String,
    sta: String,
    client: reqwest::Client,
    running: server::Running,
    _dir: tempfile::TempDir,
}

async fn start() -> Demo {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::default();
    config.http.addr = "127.0.0.1:0".parse().unwrap();
    config.storage.data_dir = dir.path().to_path_buf();
    config.auth.open = true;
    config.network.file =
        Some(concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/hongfeng.toml").into());
    let store = backend::open_store(&config).unwrap();
    let running = server::start(config, store).await.unwrap();
    Demo {
        api: format!("http://{}/api/v1", running.http_addr),
        sta: format!("http://{}/v1.1", running.http_addr),
        client: reqwest::Client::new(),
        running,
        _dir: dir,
    }
}

impl Demo {
    async fn get(&self, url: &str) -> (u16, Value) {
        let r = self.client.get(url).send().await.unwrap();
        (r.status().as_u16(), r.json().await.unwrap())
    }

    fn datastream(network: &Value, station: &str, parameter: &str, kind: &str) -> i64 {
        let s = network["stations"]
            .as_array()
            .unwrap()
            .iter()
            .find(|s| s["code"] == station)
            .unwrap();
        s["datastreams"]
            .as_array()
            .unwrap()
            .iter()
            .find(|d| d["parameter"] == parameter && d["data_kind"] == kind)
            .unwrap_or_else(|| panic!("{station} {parameter} {kind}"))["id"]
            .as_i64()
            .unwrap()
    }

    /// Posts hourly values (one per hour from 2026-03-01T00:00Z) through CreateObservations.
    async fn post_hourly(&self, ds: i64, values: &[f64], flag: &str) {
        let rows: Vec<Value> = values
            .iter()
            .enumerate()
            .map(|(h, v)| json!([format!("2026-03-{:02}T{:02}:00:00Z", 1 + h / 24, h % 24), v, { "flag": flag }]))
            .collect();
        let body = json!([{ "Datastream": { "@iot.id": ds }, "components": ["phenomenonTime", "result", "resultQuality"], "dataArray": rows }]);
        let r = self
            .client
            .post(format!("{}/CreateObservations", self.sta))
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(r.status(), 201);
        let urls: Vec<Value> = r.json().await.unwrap();
        assert!(urls.iter().all(|u| u != "error"));
    }
}

#[tokio::test]
async fn the_intake_is_judged_against_class_ii() {
    let d = start().await;
    let (status, net) = d.get(&format!("{}/network", d.api)).await;
    assert_eq!(status, 200);
    assert_eq!(net["stations"].as_array().unwrap().len(), 18);
    assert_eq!(net["video_points"].as_array().unwrap().len(), 52);
    assert!(net["zones"]["features"].as_array().unwrap().len() >= 2);
    let w01 = net["stations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "W01")
        .unwrap();
    assert_eq!(
        (w01["kind"].as_str(), w01["target_class"].as_str()),
        (Some("intake"), Some("II"))
    );
    assert_eq!(w01["class"], Value::Null, "no data yet");

    // A month of hourly values at the intake: TP at 0.030 mg/L is Class III for a lake
    // (GB 3838-2002 Table 1: II ≤ 0.025, III ≤ 0.05); everything else Class II or better.
    // Values vary a little, as real ones do: QC flags a series that does not move at all.
    let wobble = |base: f64, step: f64| -> Vec<f64> {
        (0..24 * 10).map(|h| base + (h % 5) as f64 * step).collect()
    };
    d.post_hourly(
        Demo::datastream(&net, "W01", "tp", "hourly"),
        &wobble(0.028, 0.001),
        "N",
    )
    .await;
    d.post_hourly(
        Demo::datastream(&net, "W01", "nh3_n", "hourly"),
        &wobble(0.38, 0.01),
        "N",
    )
    .await;
    d.post_hourly(
        Demo::datastream(&net, "W01", "cod_mn", "hourly"),
        &wobble(2.9, 0.05),
        "N",
    )
    .await;
    d.post_hourly(
        Demo::datastream(&net, "W01", "ph", "hourly"),
        &wobble(7.5, 0.05),
        "N",
    )
    .await;
    d.post_hourly(
        Demo::datastream(&net, "W01", "do", "hourly"),
        &wobble(6.9, 0.05),
        "N",
    )
    .await;
    // Maintenance values (flag M) must not count: were they counted, NH3-N would be Class V.
    let nh3 = Demo::datastream(&net, "W01", "nh3_n", "hourly");
    let rows: Vec<Value> = (0..24)
        .map(|h| json!([format!("2026-03-20T{h:02}:00:00Z"), 1.9, { "flag": "M" }]))
        .collect();
    let body = json!([{ "Datastream": { "@iot.id": nh3 }, "components": ["phenomenonTime", "result", "resultQuality"], "dataArray": rows }]);
    d.client
        .post(format!("{}/CreateObservations", d.sta))
        .json(&body)
        .send()
        .await
        .unwrap();

    let (status, a) = d
        .get(&format!("{}/assessment?scope=station:W01&from=2026-03-01T00:00:00%2B08:00&to=2026-04-01T00:00:00%2B08:00", d.api))
        .await;
    assert_eq!(status, 200, "{a}");
    assert_eq!(a["station"], "W01");
    assert_eq!(a["class"], "III");
    assert_eq!(a["limiting_parameters"], json!(["tp"]));
    assert_eq!(a["target"]["meets_target"], false);
    let tp = a["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["parameter"] == "tp")
        .unwrap();
    assert_eq!(tp["class"], "III", "{tp}");
    let nh3 = a["indicators"]
        .as_array()
        .unwrap()
        .iter()
        .find(|i| i["parameter"] == "nh3_n")
        .unwrap();
    assert_eq!(nh3["class"], "II", "flagged values excluded: {nh3}");
    assert!(
        a["drinking_water"].is_object(),
        "the intake gets the Table 2/3 block"
    );

    // The network view judges the latest valid values the same way.
    let (_, net) = d.get(&format!("{}/network", d.api)).await;
    let w01 = net["stations"]
        .as_array()
        .unwrap()
        .iter()
        .find(|s| s["code"] == "W01")
        .unwrap();
    assert_eq!(w01["class"], "III");
    assert_eq!(w01["meets_target"], false);

    // Scopes that are not in the network are a 404 naming them; bad periods a 400.
    let (status, e) = d
        .get(&format!("{}/assessment?scope=station:X99", d.api))
        .await;
    assert_eq!(status, 404);
    assert!(e["message"].as_str().unwrap().contains("X99"));
    let (status, _) = d
        .get(&format!(
            "{}/assessment?scope=station:W01&period=fortnight",
            d.api
        ))
        .await;
    assert_eq!(status, 400);
    let (status, _) = d.get(&format!("{}/assessment?scope=lake:all", d.api)).await;
    assert_eq!(status, 400);

    // A lake basin: the mean of its points.
    for code in ["L01", "L02", "L03"] {
        let values: Vec<f64> = (0..48).map(|h| 0.02 + (h % 4) as f64 * 0.001).collect();
        d.post_hourly(Demo::datastream(&net, code, "tp", "hourly"), &values, "N")
            .await;
    }
    let (status, basin) = d
        .get(&format!(
            "{}/assessment?scope=basin:north&from=2026-03-01T00:00:00Z&to=2026-03-31T00:00:00Z",
            d.api
        ))
        .await;
    assert_eq!(status, 200, "{basin}");
    assert_eq!(
        basin["stations"].as_array().unwrap().len(),
        3,
        "the intake is excluded from basin means by default"
    );
    d.running.stop().await.unwrap();
}

#[tokio::test]
async fn series_are_raw_or_aggregated_with_class_bands() {
    let d = start().await;
    let (_, net) = d.get(&format!("{}/network", d.api)).await;
    let ds = Demo::datastream(&net, "L06", "tp", "hourly");
    let values: Vec<f64> = (0..24 * 20)
        .map(|h| 0.02 + (h % 24) as f64 * 0.001)
        .collect();
    d.post_hourly(ds, &values, "N").await;
    let (status, raw) = d
        .get(&format!("{}/series?datastream={ds}&from=2026-03-01T00:00:00Z&to=2026-03-02T00:00:00Z&interval=raw", d.api))
        .await;
    assert_eq!(status, 200, "{raw}");
    let points = raw["points"].as_array().unwrap();
    assert_eq!(points.len(), 24);
    assert_eq!(
        points[3],
        json!({ "t": "2026-03-01T03:00:00.000Z", "v": 0.023, "flag": "N" })
    );
    assert_eq!(
        raw["bands"][1],
        json!({ "class": "II", "upper": 0.025 }),
        "lake TP limits"
    );
    assert_eq!(raw["unit"], "mg/L");
    let (_, daily) = d
        .get(&format!("{}/series?datastream={ds}&from=2026-03-01T00:00:00Z&to=2026-03-21T00:00:00Z&interval=86400", d.api))
        .await;
    let buckets = daily["buckets"].as_array().unwrap();
    assert_eq!(buckets.len(), 20);
    assert_eq!(buckets[0]["n"], 24);
    assert!((buckets[0]["avg"].as_f64().unwrap() - 0.0315).abs() < 1e-9);
    assert_eq!(buckets[0]["min"], 0.02);
    let (status, e) = d
        .get(&format!("{}/series?datastream={ds}&interval=often", d.api))
        .await;
    assert_eq!(status, 400);
    assert!(e["message"].as_str().unwrap().contains("interval"));
    let (status, _) = d.get(&format!("{}/series?datastream=999999", d.api)).await;
    assert_eq!(status, 404);
    d.running.stop().await.unwrap();
}
