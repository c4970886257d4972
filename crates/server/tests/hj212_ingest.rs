//! HJ 212 ingestion end to end: the real server (HTTP + HJ 212 listener) on random ports with a
//! temp SQLite file and `config/hongfeng.toml`; test stations open real TCP connections; values
//! are read back through the SensorThings API.
#[path = "common/backend.rs"]
mod backend;

mod common;

use common::station::{TestStation, encode_frame, field};
use serde_json::{Value, json};
use server::config::Config;
use std::path::PathBuf;
use std::time::Duration;

const WAIT: Duration = Duration::from_secs(10);
/// How long "no answer" is waited for.
const SILENCE: Duration = Duration::from_millis(700);
const R01_MN: &str = "010000520181000000000001";
const R01_PW: &str = "520001";
const L01_MN: &str = "01000052018100000000000B";
const L01_PW: &str = "52000B";
/// The tests read as an operator: MNs are shown only to requests with a token (issue #10).
const OPERATOR_TOKEN: &str = "operator-token";

fn hongfeng() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/hongfeng.toml")
}

struct TestServer {
    http: String,
    hj212: Option<std::net::SocketAddr>,
    client: reqwest::Client,
    running: Option<server::Running>,
    _dir: tempfile::TempDir,
}

async fn start(tweak: impl FnOnce(&mut Config)) -> TestServer {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::default();
    config.http.addr = "127.0.0.1:0".parse().expect("addr");
    config.storage.data_dir = dir.path().to_path_buf();
    config.auth.open = true;
    config.network.file = Some(hongfeng());
    config.hj212.addr = Some("127.0.0.1:0".parse().expect("addr"));
    config.auth.tokens = vec![OPERATOR_TOKEN.into()];
    tweak(&mut config);
    let store = backend::open_store(&config).expect("store");
    let running = server::start(config, store).await.expect("server starts");
    TestServer {
        http: format!("http://{}", running.http_addr),
        hj212: running.hj212_addr,
        client: reqwest::Client::new(),
        running: Some(running),
        _dir: dir,
    }
}

impl TestServer {
    async fn get(&self, path: &str) -> Value {
        let r = self
            .client
            .get(format!("{}{path}", self.http))
            .bearer_auth(OPERATOR_TOKEN)
            .send()
            .await
            .expect("GET");
        assert!(r.status().is_success(), "GET {path}: {}", r.status());
        r.json().await.expect("JSON")
    }

    async fn text(&self, path: &str) -> String {
        self.client
            .get(format!("{}{path}", self.http))
            .bearer_auth(OPERATOR_TOKEN)
            .send()
            .await
            .expect("GET")
            .text()
            .await
            .expect("text")
    }

    async fn datastream(&self, key: &str) -> i64 {
        let v = self
            .get(&format!(
                "/v1.1/Datastreams?$filter=properties/key eq '{key}'"
            ))
            .await;
        v["value"][0]["@iot.id"]
            .as_i64()
            .unwrap_or_else(|| panic!("no datastream {key}: {v}"))
    }

    /// All observations of a datastream, oldest first.
    async fn observations(&self, key: &str) -> Vec<Value> {
        let id = self.datastream(key).await;
        let v = self
            .get(&format!(
                "/v1.1/Datastreams({id})/Observations?$orderby=phenomenonTime asc&$top=1000"
            ))
            .await;
        v["value"].as_array().cloned().unwrap_or_default()
    }

    async fn station(&self, code: &str) -> Value {
        let v = self.get("/api/v1/stations").await;
        v["value"]
            .as_array()
            .and_then(|a| a.iter().find(|s| s["station"] == code).cloned())
            .expect("station listed")
    }

    async fn stop(mut self) {
        if let Some(r) = self.running.take() {
            r.stop().await.expect("clean stop");
        }
    }
}

/// The answer must be a 9014 (ST=91, version bits of Flag=5 → 4) echoing the frame's QN, PW, MN.
fn assert_data_answer(answer: Option<String>, qn: &str, mn: &str) {
    let answer = answer.unwrap_or_else(|| panic!("no answer to QN {qn}"));
    assert_eq!(field(&answer, "QN"), Some(qn), "{answer}");
    assert_eq!(field(&answer, "CN"), Some("9014"), "{answer}");
    assert_eq!(field(&answer, "ST"), Some("91"), "{answer}");
    assert_eq!(field(&answer, "MN"), Some(mn), "{answer}");
    assert_eq!(field(&answer, "Flag"), Some("4"), "{answer}");
}

#[test]
fn test_station_crc_matches_the_reference_vector() {
    let seg = "QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&";
    assert!(encode_frame(seg).ends_with(b"1C80\r\n"));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn realtime_hourly_resend_backfill_split_and_bad_crc() {
    let srv = start(|_| {}).await;
    let mut st = TestStation::connect(srv.hj212.expect("HJ 212 listener"), R01_MN, R01_PW)
        .await
        .expect("connect");

    // Real-time data (2011): Rtd values with their flags.
    let qn = "20260315093000123";
    let cp = "DataTime=20260315093000;w01010-Rtd=14.6,w01010-Flag=N;w01001-Rtd=7.82,w01001-Flag=N;w01009-Rtd=9.41,w01009-Flag=D";
    assert_data_answer(
        st.upload(qn, "2011", cp, WAIT).await.expect("io"),
        qn,
        R01_MN,
    );

    // Hourly data (2061), then the same frame resent three times: each is answered, none stored twice.
    let hourly_qn = "20260315100000456";
    let hourly_cp = "DataTime=20260315090000;w21011-Min=0.021,w21011-Avg=0.024,w21011-Max=0.027,w21011-Cou=12,w21011-Flag=N;\
                     w21003-Avg=0.15,w21003-Flag=N;w21001-Min=0.88,w21001-Avg=0.95,w21001-Max=1.02,w21001-Flag=M";
    for _ in 0..4 {
        assert_data_answer(
            st.upload(hourly_qn, "2061", hourly_cp, WAIT)
                .await
                .expect("io"),
            hourly_qn,
            R01_MN,
        );
    }

    // Backfill of an earlier hour, with a new QN (reference §10.3).
    let backfill_qn = "20260315110000101";
    let backfill_cp =
        "DataTime=20260315080000;w21011-Avg=0.026,w21011-Flag=N;w21001-Avg=1.12,w21001-Flag=N";
    assert_data_answer(
        st.upload(backfill_qn, "2061", backfill_cp, WAIT)
            .await
            .expect("io"),
        backfill_qn,
        R01_MN,
    );

    // A split upload (PNUM=2): each sub-packet has its own QN and gets its own 9014.
    let parts = [
        (
            "20260315110000457",
            "PNUM=2;PNO=1;",
            "DataTime=20260315100000;w01019-Avg=2.3,w01019-Flag=N;w21003-Avg=0.16,w21003-Flag=N",
        ),
        (
            "20260315110000458",
            "PNUM=2;PNO=2;",
            "DataTime=20260315100000;w21011-Avg=0.025,w21011-Flag=N;w21001-Avg=0.97,w21001-Flag=N",
        ),
    ];
    for (qn, split, cp) in parts {
        st.send(&encode_frame(&st.segment(qn, "2061", 7, split, cp)))
            .await
            .expect("send");
        assert_data_answer(st.answer(WAIT).await.expect("io"), qn, R01_MN);
    }

    // A bad CRC: not answered; the connection stays up and the next frame is answered.
    let mut bad = encode_frame(&st.segment(
        "20260315110500001",
        "2011",
        5,
        "",
        "DataTime=20260315110500;w01010-Rtd=99.9",
    ));
    let crc_at = bad.len() - 6;
    bad[crc_at] = if bad[crc_at] == b'0' { b'1' } else { b'0' };
    st.send(&bad).await.expect("send");
    assert_eq!(
        st.answer(SILENCE).await.expect("still connected"),
        None,
        "a bad-CRC frame is never answered"
    );
    let after = "20260315110500002";
    assert_data_answer(
        st.upload(
            after,
            "2011",
            "DataTime=20260315110500;w01010-Rtd=15.1,w01010-Flag=N",
            WAIT,
        )
        .await
        .expect("io"),
        after,
        R01_MN,
    );

    // A malformed segment with a valid CRC (CP cannot parse): not answered either.
    st.send(&encode_frame(&st.segment(
        "20260315110600001",
        "2011",
        5,
        "",
        "DataTime=20260315110600;w01010-Rtd",
    )))
    .await
    .expect("send");
    assert_eq!(st.answer(SILENCE).await.expect("still connected"), None);

    // Minute (2051) and daily (2031) data go to their own datastreams, created on demand.
    let minute_qn = "20260315110700001";
    assert_data_answer(
        st.upload(
            minute_qn,
            "2051",
            "DataTime=20260315110600;w01010-Min=15.0,w01010-Avg=15.2,w01010-Max=15.3,w01010-Flag=N",
            WAIT,
        )
        .await
        .expect("io"),
        minute_qn,
        R01_MN,
    );
    let daily_qn = "20260316000100001";
    assert_data_answer(
        st.upload(daily_qn, "2031", "DataTime=20260315000000;w21011-Min=0.02,w21011-Avg=0.025,w21011-Max=0.03,w21011-Flag=N", WAIT)
            .await
            .expect("io"),
        daily_qn,
        R01_MN,
    );

    // A heartbeat notification (9015) is answered 9013.
    st.send(&encode_frame(&st.segment(
        "20260315110800001",
        "9015",
        9,
        "",
        "",
    )))
    .await
    .expect("send");
    let hb = st.answer(WAIT).await.expect("io").expect("9013");
    assert_eq!(
        (field(&hb, "CN"), field(&hb, "QN")),
        (Some("9013"), Some("20260315110800001"))
    );

    // --- read back through the STA API ---
    let temp = srv.observations("datastream:R01:water_temp:realtime").await;
    assert_eq!(temp.len(), 2, "{temp:?}");
    assert_eq!(temp[0]["result"], json!(14.6));
    assert_eq!(
        temp[0]["phenomenonTime"], "2026-03-15T01:30:00Z",
        "09:30 Beijing time is 01:30 UTC"
    );
    assert_eq!(temp[0]["resultQuality"], json!({"flag": "N"}));
    assert_eq!(temp[0]["parameters"]["source"], "hj212");
    assert_eq!(temp[0]["parameters"]["mn"], R01_MN);
    assert_eq!(temp[0]["parameters"]["qn"], qn);
    assert_eq!(temp[0]["parameters"]["cn"], "2011");
    assert_eq!(
        temp[1]["result"],
        json!(15.1),
        "the bad-CRC value 99.9 is not stored"
    );
    let dissolved_oxygen = srv.observations("datastream:R01:do:realtime").await;
    assert_eq!(dissolved_oxygen.len(), 1);
    assert_eq!(
        dissolved_oxygen[0]["resultQuality"]["flag"], "D",
        "the data flag is stored with the value"
    );

    let tp = srv.observations("datastream:R01:tp:hourly").await;
    let times: Vec<&str> = tp
        .iter()
        .filter_map(|o| o["phenomenonTime"].as_str())
        .collect();
    assert_eq!(
        times,
        [
            "2026-03-15T00:00:00Z/2026-03-15T01:00:00Z",
            "2026-03-15T01:00:00Z/2026-03-15T02:00:00Z",
            "2026-03-15T02:00:00Z/2026-03-15T03:00:00Z"
        ],
        "backfill, hourly (sent four times, stored once) and split: one observation each"
    );
    assert_eq!(tp[0]["result"], json!(0.026));
    assert_eq!(tp[1]["result"], json!(0.024));
    assert_eq!(tp[1]["parameters"]["min"], json!(0.021));
    assert_eq!(tp[1]["parameters"]["max"], json!(0.027));
    assert_eq!(tp[1]["parameters"]["cou"], json!(12));
    assert_eq!(tp[1]["parameters"]["qn"], hourly_qn);
    assert_eq!(tp[2]["result"], json!(0.025));
    let tn = srv.observations("datastream:R01:tn:hourly").await;
    assert_eq!(tn.len(), 3);
    assert_eq!(tn[1]["resultQuality"], json!({"flag": "M"}));
    let cod = srv.observations("datastream:R01:cod_mn:hourly").await;
    assert_eq!(cod.len(), 1, "the first split part");
    assert_eq!(cod[0]["result"], json!(2.3));

    let minute = srv.observations("datastream:R01:water_temp:minute").await;
    assert_eq!(minute.len(), 1);
    assert_eq!(minute[0]["result"], json!(15.2));
    assert_eq!(minute[0]["parameters"]["max"], json!(15.3));
    let daily = srv.observations("datastream:R01:tp:daily").await;
    assert_eq!(daily.len(), 1);
    assert_eq!(
        daily[0]["phenomenonTime"],
        "2026-03-14T16:00:00Z/2026-03-15T16:00:00Z"
    );

    // Duplicates were recognised, not stored: 3 resends × 3 values.
    let health = srv.get("/api/v1/health").await;
    assert!(
        health["store"]["observations_unchanged"]
            .as_u64()
            .unwrap_or(0)
            >= 9,
        "{health}"
    );

    // Station status and metrics.
    let r01 = srv.station("R01").await;
    assert_eq!(r01["status"], "online");
    assert_eq!(r01["connected"], true);
    assert_eq!(r01["frames_received"], 12, "{r01}");
    assert_eq!(
        r01["frames_rejected"],
        json!({"bad_crc": 1, "malformed_segment": 1})
    );
    assert!(r01.get("pw").is_none());
    assert_eq!(srv.station("R02").await["status"], "offline");
    let metrics = srv.text("/metrics").await;
    assert!(
        metrics
            .contains("qingshui_hj212_frames_rejected_total{station=\"R01\",reason=\"bad_crc\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("qingshui_hj212_station_online{station=\"R01\"} 1"),
        "{metrics}"
    );
    assert!(
        metrics.contains("qingshui_hj212_frames_received_total{station=\"R01\"} 12"),
        "{metrics}"
    );
    assert!(
        metrics.contains("qingshui_hj212_answers_total 12"),
        "{metrics}"
    );

    drop(st);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_mn_and_wrong_password_store_nothing_and_close() {
    let srv = start(|_| {}).await;
    let cp = "DataTime=20260315093000;w01010-Rtd=20.0,w01010-Flag=N";

    let mut stranger = TestStation::connect(
        srv.hj212.expect("HJ 212 listener"),
        "999999999999999999999999",
        "123456",
    )
    .await
    .expect("connect");
    let closed = stranger.upload("20260315093000001", "2011", cp, WAIT).await;
    assert!(
        closed.is_err(),
        "the connection is closed after an unknown MN: {closed:?}"
    );

    let mut liar = TestStation::connect(srv.hj212.expect("HJ 212 listener"), L01_MN, "wrong")
        .await
        .expect("connect");
    let closed = liar.upload("20260315093000002", "2011", cp, WAIT).await;
    assert!(
        closed.is_err(),
        "the connection is closed after a wrong PW: {closed:?}"
    );

    assert!(
        srv.observations("datastream:L01:water_temp:realtime")
            .await
            .is_empty()
    );
    let status = srv.get("/api/v1/stations").await;
    assert_eq!(status["unattributed_rejects"], json!({"unknown_mn": 1}));
    let l01 = srv.station("L01").await;
    assert_eq!(l01["frames_rejected"], json!({"wrong_password": 1}));
    assert_eq!(l01["status"], "offline");
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn auth_failure_keeps_the_connection_when_configured() {
    let srv = start(|c| c.hj212.close_on_auth_failure = false).await;
    let mut st = TestStation::connect(srv.hj212.expect("HJ 212 listener"), L01_MN, "wrong")
        .await
        .expect("connect");
    let cp = "DataTime=20260315093000;w01010-Rtd=20.0,w01010-Flag=N";
    assert_eq!(
        st.upload("20260315093000003", "2011", cp, SILENCE)
            .await
            .expect("still open"),
        None
    );
    // The same connection may carry another, valid station (reference §12: route by MN).
    st.pw = L01_PW.to_owned();
    let answer = st
        .upload("20260315093000004", "2011", cp, WAIT)
        .await
        .expect("io");
    assert_data_answer(answer, "20260315093000004", L01_MN);
    assert_eq!(
        srv.observations("datastream:L01:water_temp:realtime")
            .await
            .len(),
        1
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn loading_the_network_twice_changes_nothing_and_keeps_passwords_private() {
    let srv = start(|c| c.hj212.addr = None).await;
    let store = srv.running.as_ref().expect("running").store.clone();
    let text = std::fs::read_to_string(hongfeng()).expect("read");
    let net = network::parse_network(&text, "hongfeng.toml").expect("parses");
    let again = server::network::load_network(&store, &net)
        .await
        .expect("loads");
    assert_eq!((again.created, again.updated), (0, 0), "{again:?}");
    assert_eq!(again.unchanged, again.ids.len(), "every entity unchanged");

    let mut changed = net.clone();
    if let Some(s) = changed.stations.iter_mut().find(|s| s.code == "R01") {
        s.name_en = "Yangchang River inflow (renamed)".into();
    }
    let third = server::network::load_network(&store, &changed)
        .await
        .expect("loads");
    // The station's English name is in its Thing and in its datastreams' descriptions.
    let r01_datastreams = net
        .plan()
        .datastreams
        .iter()
        .filter(|d| d.station_code == "R01")
        .count();
    assert_eq!(
        (third.created, third.updated),
        (0, 1 + r01_datastreams),
        "only what names R01 is patched"
    );
    let fourth = server::network::load_network(&store, &changed)
        .await
        .expect("loads");
    assert_eq!((fourth.created, fourth.updated), (0, 0));

    let things = srv.text("/v1.1/Things?$top=1000").await;
    assert!(things.contains(R01_MN), "MN is shown to a token");
    let anonymous = srv
        .client
        .get(format!("{}/v1.1/Things?$top=1000", srv.http))
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("text");
    assert!(
        !anonymous.contains(R01_MN),
        "MN is hidden from anonymous readers"
    );
    assert!(
        !things.contains("\"pw\"") && !things.contains(R01_PW),
        "PW is never served"
    );
    let thing_count = srv.get("/v1.1/Things?$count=true&$top=1").await["@iot.count"].clone();
    assert_eq!(thing_count, json!(70));
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_bad_network_file_stops_start_up_with_its_position() {
    let dir = tempfile::tempdir().expect("temp dir");
    let bad = dir.path().join("bad.toml");
    let text = std::fs::read_to_string(hongfeng()).expect("read").replacen(
        "basin = \"south\"",
        "basin = \"west\"",
        1,
    );
    std::fs::write(&bad, text).expect("write");
    let mut config = Config::default();
    config.http.addr = "127.0.0.1:0".parse().expect("addr");
    config.storage.data_dir = dir.path().join("data");
    config.network.file = Some(bad.clone());
    let store = backend::open_store(&config).expect("store");
    let err = match server::start(config, store.clone()).await {
        Ok(_) => panic!("a bad network must stop start-up"),
        Err(e) => format!("{e:#}"),
    };
    let position = regex_like_position(&err, &bad.display().to_string());
    assert!(position, "error names file:line:col: {err}");
    assert!(err.contains("unknown basin `west`"), "{err}");
    store.close().await;
}

/// `<file>:<line>:<col>:` at the start of the message.
fn regex_like_position(message: &str, file: &str) -> bool {
    let Some(rest) = message.strip_prefix(file).and_then(|r| r.strip_prefix(':')) else {
        return false;
    };
    let mut parts = rest.splitn(3, ':');
    let numeric =
        |s: Option<&str>| s.is_some_and(|s| !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()));
    numeric(parts.next()) && numeric(parts.next())
}

/// A station is a device that writes: its session on a connection is in the audit trail as
/// `device:<code>` (never its MN), with what it stored and what was refused.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_stations_session_is_in_the_audit_trail() {
    let srv = start(|_| {}).await;
    let mut st = TestStation::connect(srv.hj212.expect("HJ 212 listener"), R01_MN, R01_PW)
        .await
        .expect("connect");
    let qn = "20260316093000123";
    let cp = "DataTime=20260316093000;w01010-Rtd=14.6,w01010-Flag=N;w01001-Rtd=7.82,w01001-Flag=N";
    assert_data_answer(
        st.upload(qn, "2011", cp, WAIT).await.expect("io"),
        qn,
        R01_MN,
    );
    // A frame without a usable DataTime is refused (not answered).
    let bad = st
        .upload(
            "20260316093100123",
            "2011",
            "DataTime=2026131609;w01010-Rtd=1",
            SILENCE,
        )
        .await
        .expect("io");
    assert!(
        bad.is_none(),
        "answered a frame without a DataTime: {bad:?}"
    );
    drop(st);
    let deadline = std::time::Instant::now() + WAIT;
    let entries = loop {
        let v = srv.get("/api/v1/audit?principal=device:R01").await;
        let e = v["value"].as_array().cloned().unwrap_or_default();
        if e.iter().any(|e| e["action"] == "hj212.disconnect")
            || std::time::Instant::now() > deadline
        {
            break e;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    let of = |action: &str| {
        entries
            .iter()
            .filter(|e| e["action"] == action)
            .cloned()
            .collect::<Vec<_>>()
    };
    assert_eq!(of("hj212.connect").len(), 1, "{entries:?}");
    let closed = of("hj212.disconnect");
    assert_eq!(closed.len(), 1, "{entries:?}");
    let d = &closed[0]["details"];
    assert_eq!(d["frames_accepted"], 1, "{d}");
    assert_eq!(d["observations_stored"], 2, "{d}");
    assert_eq!(d["frames_refused"], 1, "{d}");
    assert_eq!(closed[0]["target"], "station R01");
    assert_eq!(closed[0]["from_addr"], "127.0.0.1");
    assert!(
        !entries.iter().any(|e| e.to_string().contains(R01_MN)),
        "the MN is in the trail: {entries:?}"
    );
    srv.stop().await;
}
