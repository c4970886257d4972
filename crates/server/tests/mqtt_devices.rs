//! The generic device mapping over MQTT (issue 17): `[[mqtt_devices]]` in the network file maps
//! a topic pattern and JSON pointers to station datastreams. A device publishing its own JSON to
//! `buoy/L01/telemetry` gets its values stored on L01's real-time datastreams, acknowledged after
//! the commit; a message that cannot be mapped whole is stored not at all.

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{Value, json};
use server::config::Config;
use std::path::PathBuf;
use std::time::Duration;

const TOKEN: &str = "mqtt-devices-token";

async fn puback(eventloop: &mut rumqttc::EventLoop, wait: Duration) -> bool {
    let deadline = tokio::time::Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(tokio::time::Instant::now());
        match tokio::time::timeout(left, eventloop.poll()).await {
            Ok(Ok(Event::Incoming(Packet::PubAck(_)))) => return true,
            Ok(Ok(_)) => {}
            Ok(Err(e)) => panic!("connection error: {e}"),
            Err(_) => return false,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mapped_device_topic_stores_on_the_station_datastreams() {
    let dir = tempfile::tempdir().expect("dir");
    let hongfeng = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/hongfeng.toml");
    let text = std::fs::read_to_string(&hongfeng).expect("network file");
    let network = dir.path().join("net.toml");
    std::fs::write(
        &network,
        format!(
            "{text}\n[[mqtt_devices]]\ntopic = \"buoy/{{station}}/telemetry\"\ntime = \"/ts\"\nvalues = {{ water_temp = \"/t\", ph = \"/chem/ph\" }}\n"
        ),
    )
    .expect("write");
    let mut config = Config::default();
    config.http.addr = "127.0.0.1:0".parse().expect("addr");
    config.storage.data_dir = dir.path().join("data");
    config.storage.synchronous = "normal".into();
    config.auth.tokens = vec![TOKEN.into()];
    config.network.file = Some(network);
    config.mqtt.listen = Some("127.0.0.1:0".parse().expect("addr"));
    config.alerts.offline.enabled = false;
    let store = server::open_store(&config).expect("store");
    let running = server::start(config, store).await.expect("starts");
    let http = format!("http://{}", running.http_addr);
    let port = running.source_addrs["mqtt"].port();
    let client = reqwest::Client::new();
    let results = |parameter: &'static str| {
        let (client, http) = (client.clone(), http.clone());
        async move {
            let url = format!(
                "{http}/v1.1/Datastreams?$filter=properties/station_code eq 'L01' and properties/parameter eq '{parameter}' and properties/data_kind eq 'realtime'&$expand=Observations($select=result,phenomenonTime)"
            );
            let v: Value = client
                .get(url)
                .send()
                .await
                .expect("GET")
                .json()
                .await
                .expect("JSON");
            v["value"][0]["Observations"]
                .as_array()
                .expect("one datastream")
                .clone()
        }
    };

    let mut o = MqttOptions::new("buoy-L01", "127.0.0.1", port);
    o.set_credentials("buoy-L01", TOKEN);
    let (c, mut eventloop) = AsyncClient::new(o, 10);
    c.publish(
        "buoy/L01/telemetry",
        QoS::AtLeastOnce,
        false,
        json!({ "ts": "2026-03-01T08:00:00Z", "t": 14.25, "chem": { "ph": 7.9 }, "battery": 80 })
            .to_string(),
    )
    .await
    .expect("publish");
    assert!(
        puback(&mut eventloop, Duration::from_secs(5)).await,
        "PUBACK"
    );
    let t = results("water_temp").await;
    assert_eq!(t.len(), 1);
    assert_eq!(t[0]["result"], 14.25);
    assert_eq!(t[0]["phenomenonTime"], "2026-03-01T08:00:00Z");
    assert_eq!(results("ph").await[0]["result"], 7.9);

    // Not mappable as a whole (ph is an object): nothing stored, no PUBACK.
    c.publish(
        "buoy/L01/telemetry",
        QoS::AtLeastOnce,
        false,
        json!({ "ts": "2026-03-01T09:00:00Z", "t": 15.0, "chem": { "ph": { "v": 8 } } })
            .to_string(),
    )
    .await
    .expect("publish");
    // A station without such datastreams (Z99 is not in the file): refused as well.
    c.publish(
        "buoy/Z99/telemetry",
        QoS::AtLeastOnce,
        false,
        json!({ "ts": "2026-03-01T09:00:00Z", "t": 15.0 }).to_string(),
    )
    .await
    .expect("publish");
    assert!(!puback(&mut eventloop, Duration::from_millis(1500)).await);
    assert_eq!(results("water_temp").await.len(), 1);
    let metrics = client
        .get(format!("{http}/metrics"))
        .send()
        .await
        .expect("metrics")
        .text()
        .await
        .expect("text");
    assert!(
        metrics.contains("qingshui_mqtt_refusals_total{reason=\"bad_payload\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("qingshui_mqtt_refusals_total{reason=\"rejected\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("qingshui_mqtt_observations_stored_total 2"),
        "{metrics}"
    );
    running.stop().await.expect("stops");
}
