//! Acknowledgement follows commit, under a crash: 50 HJ 212 stations stream real-time data to a
//! `qingshui serve` process, which is SIGKILLed mid-stream. After a restart on the same data
//! directory, every value that was answered with a 9014 must be stored.

#[path = "../../server/tests/common/station.rs"]
mod station;

use serde_json::Value;
use station::{TestStation, field, synthetic_cp, synthetic_network, synthetic_station, utc_iso};
use std::collections::{HashMap, HashSet};
use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const STATIONS: usize = 50;
/// 2026-01-01T00:00:00Z; each frame of a station is one minute after the previous one.
const BASE_UNIX_S: i64 = 1_767_225_600;

fn free_port() -> SocketAddr {
    let l = TcpListener::bind("127.0.0.1:0").expect("bind");
    l.local_addr().expect("addr")
}

fn serve(data: &Path, network: &Path, http: SocketAddr, hj212: SocketAddr) -> Child {
    let log = std::fs::File::create(data.with_extension("log")).expect("log file");
    Command::new(env!("CARGO_BIN_EXE_qingshui"))
        .args(["serve", "--open", "--data-dir"])
        .arg(data)
        .arg("--network")
        .arg(network)
        .args(["--http", &http.to_string(), "--hj212", &hj212.to_string()])
        .env("QINGSHUI_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .spawn()
        .expect("qingshui starts")
}

fn wait_for_port(addr: SocketAddr, child: &mut Child) {
    let deadline = Instant::now() + Duration::from_secs(60);
    while TcpStream::connect(addr).is_err() {
        assert!(
            child.try_wait().expect("wait").is_none(),
            "qingshui exited before listening on {addr}"
        );
        assert!(
            Instant::now() < deadline,
            "qingshui did not listen on {addr}"
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// A GET over a plain HTTP/1.0 connection (the qingshui crate has no HTTP client dependency).
fn get(http: SocketAddr, path_and_query: &str) -> Value {
    let target = path_and_query.replace(' ', "%20").replace('\'', "%27");
    let mut s = TcpStream::connect(http).expect("connect");
    write!(s, "GET {target} HTTP/1.0\r\nHost: {http}\r\n\r\n").expect("send");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read");
    let text = String::from_utf8_lossy(&raw);
    let (head, body) = text.split_once("\r\n\r\n").expect("HTTP response");
    assert!(
        head.starts_with("HTTP/1.0 200") || head.starts_with("HTTP/1.1 200"),
        "GET {target}: {head}"
    );
    serde_json::from_str(body).expect("JSON body")
}

/// What a station was told is stored: (station code, factor index) → {(time, value)}.
type Acked = Arc<Mutex<Vec<(usize, i64, Vec<String>)>>>;

async fn stream(addr: SocketAddr, index: usize, acked: Acked) {
    let (_, mn, pw) = synthetic_station(index);
    let Ok(mut st) = TestStation::connect(addr, &mn, &pw).await else {
        return;
    };
    for seq in 0u64.. {
        let t = BASE_UNIX_S + seq as i64 * 60;
        let (cp, values) = synthetic_cp(t, index, seq);
        let qn = format!("{}{:03}", station::beijing_time(t), seq % 1000);
        match st.upload(&qn, "2011", &cp, Duration::from_secs(30)).await {
            Ok(Some(answer))
                if field(&answer, "CN") == Some("9014")
                    && field(&answer, "QN") == Some(qn.as_str()) =>
            {
                if let Ok(mut a) = acked.lock() {
                    a.push((index, t, values));
                }
            }
            // Killed: EOF, reset or silence. Whatever was not answered may or may not be stored.
            _ => return,
        }
    }
}

#[test]
fn every_answered_value_survives_sigkill() {
    let dir = tempfile::tempdir().expect("temp dir");
    let hongfeng = std::fs::read_to_string(
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../config/hongfeng.toml"),
    )
    .expect("hongfeng");
    let network = dir.path().join("network.toml");
    std::fs::write(&network, synthetic_network(&hongfeng, STATIONS)).expect("write network");
    let data = dir.path().join("data");
    let (http, hj212) = (free_port(), free_port());
    let mut child = serve(&data, &network, http, hj212);
    wait_for_port(hj212, &mut child);

    let acked: Acked = Arc::new(Mutex::new(Vec::new()));
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    let tasks: Vec<_> = (0..STATIONS)
        .map(|i| runtime.spawn(stream(hj212, i, acked.clone())))
        .collect();

    // Let the stations stream for a while, then kill the server mid-stream.
    let started = Instant::now();
    while acked.lock().map(|a| a.len()).unwrap_or(0) < 3_000
        && started.elapsed() < Duration::from_secs(20)
    {
        std::thread::sleep(Duration::from_millis(50));
    }
    child.kill().expect("SIGKILL"); // std's kill() is SIGKILL on Unix
    let _ = child.wait();
    runtime.block_on(async {
        for t in tasks {
            let _ = t.await;
        }
    });
    let acked = std::mem::take(&mut *acked.lock().expect("lock"));
    assert!(
        acked.len() > 100,
        "the stations streamed before the kill ({} frames answered)",
        acked.len()
    );

    // Restart on the same data directory and read everything back through the STA API.
    let http2 = free_port();
    let mut child = serve(&data, &network, http2, free_port());
    wait_for_port(http2, &mut child);
    let streams = get(
        http2,
        "/v1.1/Datastreams?$filter=properties/data_kind eq 'realtime'&$select=id,properties&$top=10000",
    );
    let mut datastream: HashMap<(String, String), i64> = HashMap::new();
    for d in streams["value"].as_array().expect("datastreams") {
        let p = &d["properties"];
        if let (Some(st), Some(code), Some(id)) = (
            p["station_code"].as_str(),
            p["hj212"].as_str(),
            d["@iot.id"].as_i64(),
        ) {
            datastream.insert((st.to_owned(), code.to_owned()), id);
        }
    }
    // Results compared as numbers: "29.000" is stored as 29.0 and may read back as 29.
    let mut stored: HashMap<i64, HashSet<(String, u64)>> = HashMap::new();
    let mut missing = Vec::new();
    for (index, t, values) in &acked {
        let (code, _, _) = synthetic_station(*index);
        for (k, value) in values.iter().enumerate() {
            let factor = station::SYNTHETIC_FACTORS[k];
            let id = datastream[&(code.clone(), factor.to_owned())];
            let set = stored.entry(id).or_insert_with(|| {
                let obs = get(http2, &format!("/v1.1/Datastreams({id})/Observations?$select=phenomenonTime,result&$top=10000"));
                obs["value"]
                    .as_array()
                    .expect("observations")
                    .iter()
                    .map(|o| (o["phenomenonTime"].as_str().unwrap_or_default().to_owned(), o["result"].as_f64().unwrap_or(f64::NAN).to_bits()))
                    .collect()
            });
            let expected_value: f64 = value.parse().expect("number");
            let key = (utc_iso(*t), expected_value.to_bits());
            if !set.contains(&key) {
                missing.push(format!("{code} {factor} {key:?}"));
            }
        }
    }
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        missing.is_empty(),
        "{} of {} answered values lost after SIGKILL, e.g. {:?}",
        missing.len(),
        acked.len() * 7,
        &missing[..missing.len().min(5)]
    );
}
