//! The SensorThings MQTT extension end to end (issue 17): the real server on random 127.0.0.1
//! ports with a real SQLite file, driven by rumqttc's client (an independent MQTT stack; the
//! Python suite adds paho-mqtt and mosquitto's clients). Create by publish and read over HTTP;
//! refusals without a PUBACK; subscriptions fed from the commit stream with `$select`, the
//! retained latest value, entity and property topics; reconnecting keeps receiving.

#[path = "common/backend.rs"]
mod backend;

use reqwest::StatusCode;
use rumqttc::{AsyncClient, ConnectionError, Event, EventLoop, MqttOptions, Packet, QoS};
use serde_json::{Value, json};
use server::config::Config;
use std::time::Duration;
use tokio::sync::mpsc;

const TOKEN: &str = "mqtt-test-token";

struct TestServer {
    http: String,
    mqtt_port: u16,
    client: reqwest::Client,
    running: Option<server::Running>,
    _dir: tempfile::TempDir,
}

async fn start_with(edit: impl FnOnce(&mut Config)) -> TestServer {
    start_on(edit, None).await
}

/// `commit_stream_capacity`: `Some` opens the store with that small a commit stream, so the
/// fan-out falls behind it.
async fn start_on(
    edit: impl FnOnce(&mut Config),
    commit_stream_capacity: Option<usize>,
) -> TestServer {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::default();
    config.http.addr = "127.0.0.1:0".parse().expect("addr");
    config.storage.data_dir = dir.path().to_path_buf();
    config.storage.synchronous = "normal".into();
    config.auth.tokens = vec![TOKEN.into()];
    config.mqtt.listen = Some("127.0.0.1:0".parse().expect("addr"));
    edit(&mut config);
    let store: std::sync::Arc<dyn store::Store> = match commit_stream_capacity {
        None => server::open_store(&config).expect("store"),
        Some(capacity) => {
            let mut sc = store_sqlite::SqliteConfig::new(config.database_path());
            sc.synchronous_full = false;
            sc.commit_stream_capacity = capacity;
            std::sync::Arc::new(store_sqlite::SqliteStore::open(sc).expect("store"))
        }
    };
    let running = server::start(config, store).await.expect("server starts");
    let mqtt_port = running.source_addrs["mqtt"].port();
    let s = TestServer {
        http: format!("http://{}", running.http_addr),
        mqtt_port,
        client: reqwest::Client::new(),
        running: Some(running),
        _dir: dir,
    };
    // One Thing with two datastreams: ids 1 and 2.
    let datastreams: Vec<Value> = [0, 1].iter().map(|k| json!({
            "name": format!("ds{k}"), "description": "d",
            "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
            "unitOfMeasurement": { "name": "mg/L", "symbol": "mg/L", "definition": "ucum:mg/L" },
            "Sensor": { "name": "s", "description": "s", "encodingType": "text/html", "metadata": "m" },
            "ObservedProperty": { "name": format!("p{k}"), "definition": format!("urn:p{k}"), "description": "p" }
        })).collect();
    // The Location gives observations their FeatureOfInterest.
    let thing = json!({
        "name": "buoy", "description": "test buoy", "Datastreams": datastreams,
        "Locations": [{ "name": "l", "description": "l", "encodingType": "application/geo+json",
                        "location": { "type": "Point", "coordinates": [106.4, 26.5] } }]
    });
    let (st, _) = s.send(reqwest::Method::POST, "/v1.1/Things", thing).await;
    assert_eq!(st, StatusCode::CREATED);
    s
}

async fn start() -> TestServer {
    start_with(|_| {}).await
}

impl TestServer {
    async fn get(&self, path: &str) -> Value {
        let r = self
            .client
            .get(format!("{}{path}", self.http))
            .send()
            .await
            .expect("GET");
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.expect("JSON")
    }

    async fn send(&self, method: reqwest::Method, path: &str, body: Value) -> (StatusCode, Value) {
        let r = self
            .client
            .request(method, format!("{}{path}", self.http))
            .bearer_auth(TOKEN)
            .json(&body)
            .send()
            .await
            .expect("request");
        let status = r.status();
        (status, r.json().await.unwrap_or(Value::Null))
    }

    async fn metrics(&self) -> String {
        self.client
            .get(format!("{}/metrics", self.http))
            .send()
            .await
            .expect("metrics")
            .text()
            .await
            .expect("text")
    }

    async fn metric(&self, line_start: &str) -> u64 {
        let m = self.metrics().await;
        m.lines()
            .find_map(|l| l.strip_prefix(line_start)?.trim().parse().ok())
            .unwrap_or_else(|| panic!("no metric {line_start} in\n{m}"))
    }

    async fn results(&self, ds: i64) -> Vec<Value> {
        let v = self
            .get(&format!(
                "/v1.1/Datastreams({ds})/Observations?$orderby=phenomenonTime&$select=result"
            ))
            .await;
        v["value"]
            .as_array()
            .expect("value")
            .iter()
            .map(|o| o["result"].clone())
            .collect()
    }

    async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await.expect("stops");
        }
    }
}

/// A connected test client: its handle and every packet it receives.
struct Mqtt {
    client: AsyncClient,
    incoming: mpsc::UnboundedReceiver<Result<Packet, String>>,
}

fn options(id: &str, port: u16, login: Option<(&str, &str)>) -> MqttOptions {
    let mut o = MqttOptions::new(id, "127.0.0.1", port);
    o.set_keep_alive(Duration::from_secs(5));
    if let Some((u, p)) = login {
        o.set_credentials(u, p);
    }
    o
}

fn drive(mut eventloop: EventLoop) -> mpsc::UnboundedReceiver<Result<Packet, String>> {
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        loop {
            match eventloop.poll().await {
                Ok(Event::Incoming(p)) => {
                    if tx.send(Ok(p)).is_err() {
                        return;
                    }
                }
                Ok(Event::Outgoing(_)) => {}
                Err(e) => {
                    let _ = tx.send(Err(e.to_string()));
                    if matches!(e, ConnectionError::ConnectionRefused(_)) {
                        return;
                    }
                    return;
                }
            }
        }
    });
    rx
}

async fn connect(id: &str, port: u16, login: Option<(&str, &str)>) -> Mqtt {
    let (client, eventloop) = AsyncClient::new(options(id, port, login), 100);
    let mut incoming = drive(eventloop);
    match next(&mut incoming, Duration::from_secs(5)).await {
        Some(Ok(Packet::ConnAck(a))) => {
            assert_eq!(a.code, rumqttc::ConnectReturnCode::Success)
        }
        other => panic!("no CONNACK: {other:?}"),
    }
    Mqtt { client, incoming }
}

async fn next(
    rx: &mut mpsc::UnboundedReceiver<Result<Packet, String>>,
    wait: Duration,
) -> Option<Result<Packet, String>> {
    tokio::time::timeout(wait, rx.recv()).await.ok().flatten()
}

impl Mqtt {
    /// The next packet of a kind the filter accepts, within `wait`.
    async fn wait_for<T>(
        &mut self,
        wait: Duration,
        mut f: impl FnMut(&Packet) -> Option<T>,
    ) -> Option<T> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            match next(&mut self.incoming, left).await {
                Some(Ok(p)) => {
                    if let Some(t) = f(&p) {
                        return Some(t);
                    }
                }
                Some(Err(e)) => panic!("connection error: {e}"),
                None => return None,
            }
        }
    }

    async fn puback(&mut self, wait: Duration) -> bool {
        self.wait_for(wait, |p| matches!(p, Packet::PubAck(_)).then_some(()))
            .await
            .is_some()
    }

    async fn subscribe(&mut self, topic: &str) -> rumqttc::SubscribeReasonCode {
        self.client
            .subscribe(topic, QoS::AtLeastOnce)
            .await
            .expect("subscribe");
        self.wait_for(Duration::from_secs(5), |p| match p {
            Packet::SubAck(s) => s.return_codes.first().copied(),
            _ => None,
        })
        .await
        .expect("SUBACK")
    }

    /// The next message (topic, JSON, retain flag).
    async fn message(&mut self, wait: Duration) -> Option<(String, Value, bool)> {
        self.wait_for(wait, |p| match p {
            Packet::Publish(m) => Some((
                m.topic.clone(),
                serde_json::from_slice(&m.payload).expect("JSON payload"),
                m.retain,
            )),
            _ => None,
        })
        .await
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn publish_creates_an_observation_acknowledged_after_commit() {
    let s = start().await;
    let mut m = connect("sonde-1", s.mqtt_port, Some(("sonde-1", TOKEN))).await;
    m.client
        .publish(
            "v1.1/Datastreams(1)/Observations",
            QoS::AtLeastOnce,
            false,
            json!({ "phenomenonTime": "2026-03-01T08:00:00Z", "result": 7.25 }).to_string(),
        )
        .await
        .expect("publish");
    assert!(m.puback(Duration::from_secs(5)).await, "PUBACK");
    // The PUBACK came after the commit: the value is readable at once.
    assert_eq!(s.results(1).await, vec![json!(7.25)]);

    // The top-level collection with a Datastream link, as over HTTP.
    m.client
        .publish(
            "v1.1/Observations",
            QoS::AtLeastOnce,
            false,
            json!({ "phenomenonTime": "2026-03-01T08:00:00Z", "result": 3, "Datastream": { "@iot.id": 2 } })
                .to_string(),
        )
        .await
        .expect("publish");
    assert!(m.puback(Duration::from_secs(5)).await, "PUBACK");
    assert_eq!(s.results(2).await, vec![json!(3)]);

    // A resend (same time and value) is acknowledged and stored once: HTTP's idempotency.
    m.client
        .publish(
            "v1.1/Datastreams(1)/Observations",
            QoS::AtLeastOnce,
            false,
            json!({ "phenomenonTime": "2026-03-01T08:00:00Z", "result": 7.25 }).to_string(),
        )
        .await
        .expect("publish");
    assert!(
        m.puback(Duration::from_secs(5)).await,
        "PUBACK of the resend"
    );
    assert_eq!(s.results(1).await, vec![json!(7.25)]);

    // QoS 2: PUBREC after the commit, PUBCOMP on PUBREL; stored once.
    m.client
        .publish(
            "v1.1/Datastreams(1)/Observations",
            QoS::ExactlyOnce,
            false,
            json!({ "phenomenonTime": "2026-03-01T09:00:00Z", "result": 8.5 }).to_string(),
        )
        .await
        .expect("publish");
    let mut rec = false;
    let comp = m
        .wait_for(Duration::from_secs(5), |p| match p {
            Packet::PubRec(_) => {
                rec = true;
                None
            }
            Packet::PubComp(_) => Some(()),
            _ => None,
        })
        .await;
    assert!(rec && comp.is_some(), "PUBREC then PUBCOMP");
    assert_eq!(s.results(1).await, vec![json!(7.25), json!(8.5)]);

    assert_eq!(s.metric("qingshui_mqtt_pubacks_total").await, 4);
    assert_eq!(s.metric("qingshui_mqtt_connected_clients").await, 1);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_payloads_and_missing_rights_get_no_puback() {
    let s = start().await;
    let mut m = connect("dev", s.mqtt_port, Some(("dev", TOKEN))).await;
    for (topic, payload) in [
        ("v1.1/Datastreams(1)/Observations", "not json".to_string()),
        (
            "v1.1/Datastreams(1)/Observations",
            json!({ "phenomenonTime": "2026-03-01T08:00:00Z" }).to_string(),
        ),
        (
            "v1.1/Datastreams(99)/Observations",
            json!({ "phenomenonTime": "2026-03-01T08:00:00Z", "result": 1 }).to_string(),
        ),
        (
            "v1.1/Datastreams(1)/Observations",
            json!({ "phenomenonTime": "2099-03-01T08:00:00Z", "result": 1 }).to_string(),
        ),
        (
            "v1.1/Things",
            json!({ "name": "x", "description": "y" }).to_string(),
        ),
    ] {
        m.client
            .publish(topic, QoS::AtLeastOnce, false, payload)
            .await
            .expect("publish");
    }
    assert!(
        !m.puback(Duration::from_millis(1500)).await,
        "a refused publish must not be acknowledged"
    );
    assert!(s.results(1).await.is_empty(), "nothing stored");
    let things = s.get("/v1.1/Things?$count=true&$top=0").await;
    assert_eq!(things["@iot.count"], 1, "no Thing created over MQTT");
    assert_eq!(
        s.metric("qingshui_mqtt_refusals_total{reason=\"bad_payload\"}")
            .await,
        1
    );
    assert_eq!(
        s.metric("qingshui_mqtt_refusals_total{reason=\"rejected\"}")
            .await,
        3
    );
    assert_eq!(
        s.metric("qingshui_mqtt_refusals_total{reason=\"unknown_topic\"}")
            .await,
        1
    );
    // The connection is still usable: a good publish after the bad ones is acknowledged.
    m.client
        .publish(
            "v1.1/Datastreams(1)/Observations",
            QoS::AtLeastOnce,
            false,
            json!({ "phenomenonTime": "2026-03-01T08:00:00Z", "result": 1 }).to_string(),
        )
        .await
        .expect("publish");
    assert!(m.puback(Duration::from_secs(5)).await);

    // Anonymous (no --open): connected, may read, may not create.
    let mut anon = connect("anon", s.mqtt_port, None).await;
    anon.client
        .publish(
            "v1.1/Datastreams(1)/Observations",
            QoS::AtLeastOnce,
            false,
            json!({ "phenomenonTime": "2026-03-01T09:00:00Z", "result": 2 }).to_string(),
        )
        .await
        .expect("publish");
    assert!(!anon.puback(Duration::from_millis(1000)).await);

    // A viewer account by name and password: the same refusal.
    let (st, _) = s
        .send(
            reqwest::Method::POST,
            "/api/v1/users",
            json!({ "name": "li", "role": "viewer", "password": "a long enough password" }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let mut viewer = connect("li", s.mqtt_port, Some(("li", "a long enough password"))).await;
    viewer
        .client
        .publish(
            "v1.1/Datastreams(1)/Observations",
            QoS::AtLeastOnce,
            false,
            json!({ "phenomenonTime": "2026-03-01T10:00:00Z", "result": 3 }).to_string(),
        )
        .await
        .expect("publish");
    assert!(!viewer.puback(Duration::from_millis(1000)).await);
    assert_eq!(s.results(1).await, vec![json!(1)]);
    assert_eq!(
        s.metric("qingshui_mqtt_refusals_total{reason=\"not_authorised\"}")
            .await,
        2
    );

    // A wrong password is refused at CONNECT.
    let (_c, el) = AsyncClient::new(options("x", s.mqtt_port, Some(("li", "wrong"))), 10);
    let mut rx = drive(el);
    match next(&mut rx, Duration::from_secs(5)).await {
        Some(Err(e)) => assert!(e.contains("refused") || e.contains("Refused"), "{e}"),
        other => panic!("expected a refused CONNECT, got {other:?}"),
    }
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn subscribers_get_committed_values_with_select_and_the_retained_latest() {
    let s = start().await;
    // A value before anyone subscribes: it becomes the retained latest value.
    let (st, _) = s
        .send(
            reqwest::Method::POST,
            "/v1.1/Datastreams(1)/Observations",
            json!({ "phenomenonTime": "2026-03-01T07:00:00Z", "result": 1.5 }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let mut sub = connect("dash", s.mqtt_port, None).await;
    let code = sub.subscribe("v1.1/Datastreams(1)/Observations").await;
    assert!(matches!(code, rumqttc::SubscribeReasonCode::Success(_)));
    let (topic, v, retain) = sub
        .message(Duration::from_secs(5))
        .await
        .expect("retained latest value");
    assert_eq!(topic, "v1.1/Datastreams(1)/Observations");
    assert!(retain, "the current value comes as a retained message");
    assert_eq!(v["result"], 1.5);
    assert!(
        v["@iot.selfLink"]
            .as_str()
            .is_some_and(|l| l.starts_with(&s.http)),
        "{v}"
    );

    let mut sel = connect("dash-select", s.mqtt_port, None).await;
    sel.subscribe("v1.1/Datastreams(1)/Observations?$select=result,phenomenonTime")
        .await;
    let (_, v, _) = sel.message(Duration::from_secs(5)).await.expect("retained");
    assert_eq!(v.as_object().map(|o| o.len()), Some(2), "{v}");

    // An HTTP-created observation reaches both, in order, after its commit.
    for (i, r) in [2.5, 3.5].iter().enumerate() {
        let (st, _) = s
            .send(
                reqwest::Method::POST,
                "/v1.1/Datastreams(1)/Observations",
                json!({ "phenomenonTime": format!("2026-03-01T08:0{i}:00Z"), "result": r }),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED);
    }
    for want in [2.5, 3.5] {
        let (_, v, retain) = sub.message(Duration::from_secs(5)).await.expect("live");
        assert!(!retain);
        assert_eq!(v["result"], want);
        assert!(v["@iot.id"].is_i64());
        let (_, v, _) = sel.message(Duration::from_secs(5)).await.expect("live");
        assert_eq!(
            v,
            json!({ "phenomenonTime": format!("2026-03-01T08:0{}:00Z", if want == 2.5 { 0 } else { 1 }), "result": want })
        );
    }
    // The other datastream's values are not sent on this topic.
    let (st, _) = s
        .send(
            reqwest::Method::POST,
            "/v1.1/Datastreams(2)/Observations",
            json!({ "phenomenonTime": "2026-03-01T08:00:00Z", "result": 9 }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    assert!(sub.message(Duration::from_millis(500)).await.is_none());

    // A topic that is not an STA one is refused in SUBACK.
    assert_eq!(
        sub.subscribe("v1.1/#").await,
        rumqttc::SubscribeReasonCode::Failure
    );
    assert!(s.metric("qingshui_mqtt_publishes_out_total").await >= 6);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn entity_property_and_navigation_topics() {
    let s = start().await;
    let mut m = connect("watcher", s.mqtt_port, None).await;
    m.subscribe("v1.1/Things(1)/name").await;
    m.subscribe("v1.1/Things(1)/Datastreams?$select=name").await;
    m.subscribe("v1.1/Observations").await;
    let (st, _) = s
        .send(
            reqwest::Method::PATCH,
            "/v1.1/Things(1)",
            json!({ "name": "buoy A" }),
        )
        .await;
    assert!(st.is_success(), "{st}");
    let (topic, v, _) = m.message(Duration::from_secs(5)).await.expect("property");
    assert_eq!(topic, "v1.1/Things(1)/name");
    assert_eq!(v, json!({ "name": "buoy A" }));

    let (st, _) = s
        .send(
            reqwest::Method::POST,
            "/v1.1/Things(1)/Datastreams",
            json!({
                "name": "ds-new", "description": "d",
                "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
                "unitOfMeasurement": { "name": "m", "symbol": "m", "definition": "ucum:m" },
                "Sensor": { "@iot.id": 1 },
                "ObservedProperty": { "@iot.id": 1 }
            }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (topic, v, _) = m.message(Duration::from_secs(5)).await.expect("member");
    assert_eq!(topic, "v1.1/Things(1)/Datastreams?$select=name");
    assert_eq!(v, json!({ "name": "ds-new" }));

    // Published over MQTT, received over MQTT on the collection of all observations.
    let p = connect("pub", s.mqtt_port, Some(("pub", TOKEN))).await;
    p.client
        .publish(
            "v1.1/Datastreams(2)/Observations",
            QoS::AtLeastOnce,
            false,
            json!({ "phenomenonTime": "2026-03-01T08:00:00Z", "result": 42 }).to_string(),
        )
        .await
        .expect("publish");
    let (topic, v, _) = m
        .message(Duration::from_secs(5))
        .await
        .expect("observation");
    assert_eq!(topic, "v1.1/Observations");
    assert_eq!(v["result"], 42);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_reconnected_subscriber_keeps_receiving() {
    let s = start().await;
    let post = |t: &'static str, r: i64| {
        let s = &s;
        async move {
            let (st, _) = s
                .send(
                    reqwest::Method::POST,
                    "/v1.1/Datastreams(1)/Observations",
                    json!({ "phenomenonTime": t, "result": r }),
                )
                .await;
            assert_eq!(st, StatusCode::CREATED);
        }
    };
    for round in 0..3i64 {
        // The same client id each time, as a dashboard that lost its network would reconnect.
        let mut m = connect("dash", s.mqtt_port, None).await;
        m.subscribe("v1.1/Datastreams(1)/Observations?$select=result")
            .await;
        if round > 0 {
            let (_, v, retain) = m.message(Duration::from_secs(5)).await.expect("retained");
            assert!(retain);
            assert_eq!(v["result"], round - 1);
        }
        let times = [
            "2026-03-01T08:00:00Z",
            "2026-03-01T09:00:00Z",
            "2026-03-01T10:00:00Z",
        ];
        post(times[round as usize], round).await;
        // In round 0 the retained read may run after this commit: it then comes as the retained
        // message too (a repeat, never a loss); the live message follows either way.
        let v = loop {
            let (_, v, retain) = m.message(Duration::from_secs(5)).await.expect("live");
            if !retain {
                break v;
            }
            assert_eq!(round, 0, "only round 0 can see its own value retained");
            assert_eq!(v["result"], round);
        };
        assert_eq!(v["result"], round);
        // Drop without DISCONNECT: the socket just goes away.
        drop(m);
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    // The MQTT endpoint and both classes are advertised.
    let root = s.get("/v1.1").await;
    let settings = &root["serverSettings"];
    let create = "http://www.opengis.net/spec/iot_sensing/1.1/req/create-observations-via-mqtt/observations-creation";
    let receive =
        "http://www.opengis.net/spec/iot_sensing/1.1/req/receive-updates-via-mqtt/receive-updates";
    let endpoint = format!("mqtt://127.0.0.1:{}", s.mqtt_port);
    assert_eq!(settings[create]["endpoints"], json!([endpoint]));
    assert_eq!(settings[receive]["endpoints"], json!([endpoint]));
    let conformance = settings["conformance"].as_array().expect("list");
    assert!(conformance.iter().any(|c| c == create));
    assert!(conformance.iter().any(|c| c == receive));
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_subscriber_costs_its_queue_and_counts_drops() {
    let s = start_with(|c| {
        c.mqtt.queue = 4;
        c.mqtt.write_timeout_s = 1;
    })
    .await;
    // A raw TCP client that subscribes and then never reads: its socket buffer fills, then its
    // queue, then messages are dropped and counted — the server carries on.
    use rumqttc::mqttbytes::v4::{Connect, Packet as P, Subscribe};
    use tokio::io::AsyncWriteExt;
    let mut tcp = tokio::net::TcpStream::connect(("127.0.0.1", s.mqtt_port))
        .await
        .expect("tcp");
    let mut buf = bytes::BytesMut::new();
    P::Connect(Connect::new("slow"))
        .write(&mut buf, 1 << 20)
        .expect("encode");
    P::Subscribe(Subscribe::new(
        "v1.1/Observations",
        rumqttc::mqttbytes::QoS::AtMostOnce,
    ))
    .write(&mut buf, 1 << 20)
    .expect("encode");
    tcp.write_all(&buf).await.expect("send");
    tokio::time::sleep(Duration::from_millis(200)).await;
    // Large-ish observations so the socket buffers fill quickly.
    let big = "x".repeat(60_000);
    let rows: Vec<Value> = (0..200)
        .map(|i| json!([format!("2026-03-01T08:{:02}:{:02}Z", i / 60, i % 60), i, { "note": big }]))
        .collect();
    let (st, _) = s
        .send(
            reqwest::Method::POST,
            "/v1.1/CreateObservations",
            json!([{ "Datastream": { "@iot.id": 1 }, "components": ["phenomenonTime", "result", "parameters"], "dataArray": rows }]),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    loop {
        if s.metric("qingshui_mqtt_dropped_total").await > 0 {
            break;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no drop counted:\n{}",
            s.metrics().await
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(s.metric("qingshui_mqtt_queue_depth").await <= 4);
    // The client that reads nothing is closed after write_timeout_s; its queue is released.
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while s.metric("qingshui_mqtt_connected_clients").await > 0 {
        assert!(
            tokio::time::Instant::now() < deadline,
            "the stuck client was not closed"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert_eq!(s.metric("qingshui_mqtt_queue_depth").await, 0);
    // Others are still served.
    let mut m = connect("fast", s.mqtt_port, None).await;
    m.subscribe("v1.1/Datastreams(2)/Observations").await;
    let (st, _) = s
        .send(
            reqwest::Method::POST,
            "/v1.1/Datastreams(2)/Observations",
            json!({ "phenomenonTime": "2026-03-01T08:00:00Z", "result": 5 }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let (_, v, _) = m.message(Duration::from_secs(5)).await.expect("delivered");
    assert_eq!(v["result"], 5);
    drop(tcp);
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mqtt5_refusals_carry_a_reason_code_and_string() {
    use rumqttc::v5::mqttbytes::QoS as Q5;
    use rumqttc::v5::mqttbytes::v5::{Packet as P5, PubAckReason};
    use rumqttc::v5::{AsyncClient as Client5, Event as Event5, MqttOptions as Options5};
    let s = start().await;
    let connect5 = |id: &str, login: Option<&str>| {
        let mut o = Options5::new(id, "127.0.0.1", s.mqtt_port);
        o.set_keep_alive(Duration::from_secs(5));
        if let Some(token) = login {
            o.set_credentials(id, token);
        }
        let (client, mut el) = Client5::new(o, 10);
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(async move {
            loop {
                match el.poll().await {
                    Ok(Event5::Incoming(p)) => {
                        if tx.send(p).is_err() {
                            return;
                        }
                    }
                    Ok(_) => {}
                    Err(e) => {
                        eprintln!("MQTT 5 client: {e}");
                        return;
                    }
                }
            }
        });
        (client, rx)
    };
    async fn next5(rx: &mut mpsc::UnboundedReceiver<P5>, mut f: impl FnMut(&P5) -> bool) -> P5 {
        loop {
            let p = tokio::time::timeout(Duration::from_secs(5), rx.recv())
                .await
                .expect("a packet in time")
                .expect("connection open");
            if f(&p) {
                return p;
            }
        }
    }
    let (c, mut rx) = connect5("v5-sonde", Some(TOKEN));
    let P5::ConnAck(ack) = next5(&mut rx, |p| matches!(p, P5::ConnAck(_))).await else {
        unreachable!()
    };
    assert_eq!(
        ack.code,
        rumqttc::v5::mqttbytes::v5::ConnectReturnCode::Success
    );
    let topic = "v1.1/Datastreams(1)/Observations";
    for (payload, want) in [
        ("not json".to_string(), PubAckReason::PayloadFormatInvalid),
        (
            json!({ "phenomenonTime": "2026-03-01T08:00:00Z" }).to_string(),
            PubAckReason::ImplementationSpecificError,
        ),
        (
            json!({ "phenomenonTime": "2026-03-01T08:00:00Z", "result": 4.5 }).to_string(),
            PubAckReason::Success,
        ),
    ] {
        c.publish(topic, Q5::AtLeastOnce, false, payload)
            .await
            .expect("publish");
        let P5::PubAck(ack) = next5(&mut rx, |p| matches!(p, P5::PubAck(_))).await else {
            unreachable!()
        };
        assert_eq!(ack.reason, want);
        if want != PubAckReason::Success {
            let why = ack
                .properties
                .and_then(|p| p.reason_string)
                .expect("a reason string");
            assert!(!why.is_empty());
        }
    }
    c.publish("v1.1/Things", Q5::AtLeastOnce, false, "{}")
        .await
        .expect("publish");
    let P5::PubAck(ack) = next5(&mut rx, |p| matches!(p, P5::PubAck(_))).await else {
        unreachable!()
    };
    assert_eq!(ack.reason, PubAckReason::TopicNameInvalid);
    assert_eq!(s.results(1).await, vec![json!(4.5)]);

    // Anonymous: NotAuthorized; and an MQTT 5 subscriber gets the retained latest value.
    let (anon, mut arx) = connect5("v5-anon", None);
    next5(&mut arx, |p| matches!(p, P5::ConnAck(_))).await;
    anon.publish(
        topic,
        Q5::AtLeastOnce,
        false,
        json!({ "phenomenonTime": "2026-03-01T09:00:00Z", "result": 1 }).to_string(),
    )
    .await
    .expect("publish");
    let P5::PubAck(ack) = next5(&mut arx, |p| matches!(p, P5::PubAck(_))).await else {
        unreachable!()
    };
    assert_eq!(ack.reason, PubAckReason::NotAuthorized);
    anon.subscribe("v1.1/#", Q5::AtMostOnce)
        .await
        .expect("subscribe");
    let P5::SubAck(sa) = next5(&mut arx, |p| matches!(p, P5::SubAck(_))).await else {
        unreachable!()
    };
    assert_eq!(
        sa.return_codes,
        vec![rumqttc::v5::mqttbytes::v5::SubscribeReasonCode::TopicFilterInvalid]
    );
    anon.subscribe(topic, Q5::AtMostOnce)
        .await
        .expect("subscribe");
    let P5::Publish(m) = next5(&mut arx, |p| matches!(p, P5::Publish(_))).await else {
        unreachable!()
    };
    assert!(m.retain);
    let v: Value = serde_json::from_slice(&m.payload).expect("JSON");
    assert_eq!(v["result"], 4.5);
    assert_eq!(
        s.metric("qingshui_mqtt_refusals_total{reason=\"not_authorised\"}")
            .await,
        1
    );
    s.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn a_fan_out_that_falls_behind_re_reads_what_it_missed() {
    // A commit stream of one batch: with 8 concurrent writers the fan-out (one store read per
    // message) cannot keep up and is told it lagged; it must re-read and send every value.
    let s = start_on(|_| {}, Some(1)).await;
    let mut sub = connect("all", s.mqtt_port, None).await;
    sub.subscribe("v1.1/Observations?$select=result").await;
    let writers: Vec<_> = (0..8i64)
        .map(|w| {
            let (client, http) = (s.client.clone(), s.http.clone());
            tokio::spawn(async move {
                for i in 0..25i64 {
                    let r = client
                        .post(format!(
                            "{http}/v1.1/Datastreams({})/Observations",
                            1 + w % 2
                        ))
                        .bearer_auth(TOKEN)
                        .json(&json!({
                            "phenomenonTime": format!("2026-03-01T{:02}:{:02}:00Z", w, i),
                            "result": w * 100 + i
                        }))
                        .send()
                        .await
                        .expect("POST");
                    assert_eq!(r.status(), StatusCode::CREATED);
                }
            })
        })
        .collect();
    for w in writers {
        w.await.expect("writer");
    }
    let mut got = std::collections::BTreeSet::new();
    while got.len() < 200 {
        match sub.message(Duration::from_secs(10)).await {
            Some((_, v, _)) => {
                got.insert(v["result"].as_i64().expect("result"));
            }
            None => break,
        }
    }
    let lagged = s.metric("qingshui_mqtt_commit_lag_batches_total").await;
    assert_eq!(
        got.len(),
        200,
        "every committed value reaches the subscriber (lagged {lagged} batches)"
    );
    assert!(lagged > 0, "the test did not make the fan-out lag");
    assert!(s.metric("qingshui_mqtt_recovered_observations_total").await > 0);
    s.stop().await;
}

/// Several nodes on one PostgreSQL (`QINGSHUI_TEST_DATABASE_URL`; skipped without it, run by
/// `make test-postgres`): another node's observation whose id is smaller than one this node
/// already sent, committed after it, still reaches the subscriber — once streamed late through
/// its notification (the fan-out used to drop an id at or below the largest it had sent), once
/// never notified at all (the fan-out's sweep finds it in the store).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn out_of_order_ids_from_another_node_reach_subscribers() {
    let Some((schema, url)) = backend::fresh_postgres_schema("mqtt_ooo_") else {
        return;
    };
    let s = start_with(|c| c.storage.database_url = url.clone()).await;
    // A first value (the held ones take its feature of interest), then a subscriber.
    let (st, _) = s
        .send(
            reqwest::Method::POST,
            "/v1.1/Datastreams(1)/Observations",
            json!({ "phenomenonTime": "2026-03-01T00:00:00Z", "result": 1 }),
        )
        .await;
    assert_eq!(st, StatusCode::CREATED);
    let mut sub = connect("dash-ooo", s.mqtt_port, None).await;
    sub.subscribe("v1.1/Datastreams(1)/Observations").await;
    let (_, v, retain) = sub.message(Duration::from_secs(5)).await.expect("retained");
    assert!(retain && v["result"] == 1, "{v}");

    for (k, announce) in [(1i64, true), (2, false)] {
        // Another node's writer holds a smaller id…
        let time = 1_772_323_200_000_000 + k * 3_600_000_000; // 2026-03-01T0k:00:00Z
        let held = backend::hold_in_flight(&url, &schema, 1, time, 10.0 * k as f64, announce).await;
        // …while this node commits a larger one, sent at once.
        let (st, created) = s
            .send(
                reqwest::Method::POST,
                "/v1.1/Datastreams(1)/Observations",
                json!({ "phenomenonTime": format!("2026-03-01T0{k}:30:00Z"), "result": 100 + k }),
            )
            .await;
        assert_eq!(st, StatusCode::CREATED);
        assert!(created["@iot.id"].as_i64().is_some_and(|id| id > held.id));
        let (_, v, _) = sub.message(Duration::from_secs(5)).await.expect("live");
        assert_eq!(v["result"], 100 + k);
        // The held one commits: it arrives too, after the larger id.
        let held_id = held.id;
        backend::commit_in_flight(held).await;
        let (_, v, _) = sub
            .message(Duration::from_secs(10))
            .await
            .unwrap_or_else(|| panic!("the held observation (announced: {announce}) never came"));
        assert_eq!(v["@iot.id"], held_id, "{v}");
        assert_eq!(v["result"].as_f64(), Some(10.0 * k as f64));
    }
    assert_eq!(
        s.metric("qingshui_mqtt_swept_observations_total").await,
        1,
        "only the never-notified one came from the store"
    );
    // Nothing is sent twice.
    assert!(sub.message(Duration::from_millis(2500)).await.is_none());
    s.stop().await;
}
