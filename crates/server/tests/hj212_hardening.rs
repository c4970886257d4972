//! HJ 212 hardening (issue #10): what a peer on the network can no longer do to the listener.
//! A real server (HTTP + HJ 212 on random 127.0.0.1 ports, a temp SQLite file, the Hongfeng
//! network); real TCP connections; effects read back through `/metrics` and `/api/v1/stations`.

mod common;

use common::station::{TestStation, beijing_time, encode_frame, field};
use serde_json::Value;
use server::config::Config;
use std::net::SocketAddr;
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

/// Generous bound for things that must happen "soon" on a loaded 2-core machine.
const WAIT: Duration = Duration::from_secs(10);
/// How long "no answer" is waited for.
const SILENCE: Duration = Duration::from_millis(700);
const R01_MN: &str = "010000520181000000000001";
const R01_PW: &str = "520001";
const L01_MN: &str = "01000052018100000000000B";
const L01_PW: &str = "52000B";

struct Hardened {
    running: server::Running,
    hj212: SocketAddr,
    http: String,
    _dir: tempfile::TempDir,
}

/// The server with `[hj212]` settings changed by `tweak` (defaults otherwise).
async fn serve(tweak: impl FnOnce(&mut Config)) -> Hardened {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut config = Config::default();
    config.http.addr = "127.0.0.1:0".parse().expect("addr");
    config.hj212.addr = Some("127.0.0.1:0".parse().expect("addr"));
    config.storage.data_dir = dir.path().to_path_buf();
    // Commits need not survive power loss here; keeps fsync out of the timed paths.
    config.storage.synchronous = "normal".into();
    config.network.file = Some(
        std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../config/hongfeng.toml"),
    );
    tweak(&mut config);
    let store = server::open_store(&config).expect("store");
    let running = server::start(config, store).await.expect("server starts");
    Hardened {
        hj212: running.hj212_addr.expect("HJ 212 listener"),
        http: format!("http://{}", running.http_addr),
        running,
        _dir: dir,
    }
}

impl Hardened {
    async fn get(&self, path: &str) -> String {
        reqwest::get(format!("{}{path}", self.http))
            .await
            .expect("GET")
            .text()
            .await
            .expect("body")
    }

    /// The value of one `/metrics` sample (`name{labels}` exactly as printed); 0 when absent.
    async fn metric(&self, sample: &str) -> u64 {
        let text = self.get("/metrics").await;
        text.lines()
            .find_map(|l| l.strip_prefix(sample)?.strip_prefix(' ')?.parse().ok())
            .unwrap_or(0)
    }

    async fn station(&self, code: &str) -> Value {
        let v: Value = serde_json::from_str(&self.get("/api/v1/stations").await).expect("JSON");
        v["value"]
            .as_array()
            .and_then(|a| a.iter().find(|s| s["station"] == code).cloned())
            .expect("station listed")
    }

    async fn connect(&self, mn: &str, pw: &str) -> TestStation {
        TestStation::connect(self.hj212, mn, pw)
            .await
            .expect("connect")
    }

    async fn stop(self) {
        self.running.stop().await.expect("clean stop");
    }
}

/// A QN and a real-time CP dated now (Beijing time), unique per `seq` within the second.
fn now_upload(seq: u32) -> (String, String) {
    let now = chrono::Utc::now().timestamp();
    let t = beijing_time(now);
    (
        format!("{t}{:03}", seq % 1000),
        format!("DataTime={t};w01010-Rtd=14.{seq},w01010-Flag=N"),
    )
}

/// Uploads real-time data and expects its 9014.
async fn uploaded(st: &mut TestStation, seq: u32) {
    let (qn, cp) = now_upload(seq);
    let answer = st.upload(&qn, "2011", &cp, WAIT).await.expect("io");
    let answer = answer.unwrap_or_else(|| panic!("no answer to {qn}"));
    assert_eq!(field(&answer, "CN"), Some("9014"), "{answer}");
    assert_eq!(field(&answer, "QN"), Some(qn.as_str()), "{answer}");
}

/// Waits until the server closes `stream`; how long that took.
async fn closed_within(stream: &mut TcpStream, bound: Duration) -> Duration {
    let start = Instant::now();
    let mut buf = [0u8; 256];
    loop {
        match tokio::time::timeout(bound, stream.read(&mut buf)).await {
            Err(_) => panic!("still open after {bound:?}"),
            Ok(Ok(0)) | Ok(Err(_)) => return start.elapsed(),
            Ok(Ok(_)) => {}
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connections_over_the_per_ip_cap_are_closed_at_once() {
    let srv = serve(|c| {
        c.hj212.max_connections_per_ip = 3;
        // Loopback is exempt by default (local tools); the test stands in for a remote peer.
        c.hj212.per_ip_exempt.clear();
    })
    .await;
    let mut held = Vec::new();
    for _ in 0..3 {
        held.push(TcpStream::connect(srv.hj212).await.expect("connect"));
    }
    let mut over = TcpStream::connect(srv.hj212).await.expect("connect");
    let took = closed_within(&mut over, WAIT).await;
    assert!(
        took < Duration::from_secs(2),
        "closed at once, took {took:?}"
    );
    assert_eq!(
        srv.metric("qingshui_hj212_connections_refused_total{cap=\"max_connections_per_ip\"}")
            .await,
        1
    );
    // A slot freed is a slot for a station again.
    drop(held.pop());
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut st = srv.connect(R01_MN, R01_PW).await;
    uploaded(&mut st, 1).await;
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn idle_partial_and_silent_connections_are_closed_after_their_timeouts() {
    let srv = serve(|c| {
        c.hj212.idle_timeout_s = 1;
        c.hj212.partial_frame_timeout_s = 1;
        c.hj212.first_frame_timeout_s = 2;
    })
    .await;
    // Idle: a station that uploaded once, then fell silent.
    let mut idle = srv.connect(R01_MN, R01_PW).await;
    uploaded(&mut idle, 1).await;
    let start = Instant::now();
    let end = idle.answer(WAIT).await;
    let took = start.elapsed();
    assert!(
        matches!(&end, Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof),
        "closed, not {end:?}"
    );
    assert!(
        took >= Duration::from_millis(800),
        "not before its timeout: {took:?}"
    );

    // Partial frame: a valid frame, then half a frame dribbled a byte at a time (never idle).
    let mut partial = TcpStream::connect(srv.hj212).await.expect("connect");
    let (qn, cp) = now_upload(2);
    let frame = encode_frame(&format!(
        "QN={qn};ST=21;CN=2011;PW={R01_PW};MN={R01_MN};Flag=5;CP=&&{cp}&&"
    ));
    partial.write_all(&frame).await.expect("send");
    let half = &frame[..frame.len() / 2];
    let start = Instant::now();
    let mut closed = false;
    for byte in half {
        if partial.write_all(&[*byte]).await.is_err() {
            closed = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
        if start.elapsed() > WAIT {
            break;
        }
    }
    if !closed {
        closed_within(&mut partial, WAIT).await;
    }
    assert!(
        start.elapsed() < WAIT,
        "partial frame held for {:?}",
        start.elapsed()
    );

    // No valid frame at all: garbage dribbled more often than the idle timeout.
    let mut silent = TcpStream::connect(srv.hj212).await.expect("connect");
    let start = Instant::now();
    while start.elapsed() < WAIT {
        if silent.write_all(b"x").await.is_err() {
            break;
        }
        let mut buf = [0u8; 16];
        match tokio::time::timeout(Duration::from_millis(300), silent.read(&mut buf)).await {
            Ok(Ok(0)) | Ok(Err(_)) => break,
            _ => {}
        }
    }
    let took = start.elapsed();
    assert!(
        took >= Duration::from_millis(1800) && took < WAIT,
        "closed after the first-frame timeout: {took:?}"
    );
    let timed_out =
        |t: &str| format!("qingshui_hj212_connections_timed_out_total{{timeout=\"{t}\"}}");
    assert_eq!(srv.metric(&timed_out("idle")).await, 1);
    assert_eq!(srv.metric(&timed_out("partial_frame")).await, 1);
    assert_eq!(srv.metric(&timed_out("first_frame")).await, 1);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_truncated_frame_does_not_delay_the_next_one() {
    let srv = serve(|_| {}).await;
    let mut st = srv.connect(R01_MN, R01_PW).await;
    uploaded(&mut st, 1).await;
    let cut = format!(
        "##9999QN=20260315093000123;ST=21;CN=2011;PW={R01_PW};MN={R01_MN};Flag=5;CP=&&DataTime=2026"
    );
    st.send(cut.as_bytes()).await.expect("send");
    tokio::time::sleep(Duration::from_millis(200)).await;
    // A 9015 heartbeat is answered without a store write: the delay measured is the decoder's.
    let heartbeat = encode_frame(&st.segment("20260315093001000", "9015", 9, "", ""));
    let start = Instant::now();
    st.send(&heartbeat).await.expect("send");
    let answer = st
        .answer(WAIT)
        .await
        .expect("io")
        .expect("heartbeat answered");
    let delay = start.elapsed();
    assert_eq!(field(&answer, "CN"), Some("9013"), "{answer}");
    assert!(
        delay <= Duration::from_millis(100),
        "answered after {delay:?}"
    );
    // And a data frame behind another truncated one is stored and answered.
    st.send(cut.as_bytes()).await.expect("send");
    uploaded(&mut st, 2).await;
    assert_eq!(
        srv.station("R01").await["frames_rejected"]["bad_framing"],
        2,
        "both truncated frames counted"
    );
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_megabyte_of_truncated_fragments_logs_a_bounded_number_of_lines() {
    let srv = serve(|_| {}).await;
    let mut st = srv.connect(R01_MN, R01_PW).await;
    let fragment =
        format!("##9999QN=20260315093000123;ST=21;CN=2011;PW={R01_PW};MN={R01_MN};CP=&&w01");
    let count = (1 << 20) / fragment.len();
    let flood = fragment.repeat(count);
    st.send(flood.as_bytes()).await.expect("send");
    uploaded(&mut st, 1).await;
    let rejected = srv.station("R01").await["frames_rejected"]["bad_framing"]
        .as_u64()
        .unwrap_or(0);
    assert_eq!(rejected, count as u64, "every fragment counted");
    drop(st);
    tokio::time::sleep(Duration::from_millis(300)).await;
    let lines = srv.metric("qingshui_hj212_reject_log_lines_total").await;
    let suppressed = srv
        .metric("qingshui_hj212_reject_log_suppressed_total")
        .await;
    // 5 lines per 10 s and one summary per interval; the flood takes a few seconds at most.
    println!("{count} fragments rejected: {lines} log lines, {suppressed} left out");
    assert!(
        lines <= 20,
        "{lines} log lines for {count} rejected fragments"
    );
    assert!(
        suppressed + 20 >= count as u64,
        "{suppressed} of {count} left out"
    );
    srv.stop().await;
}

/// Guesses PWs for R01 (new connection each, as the server closes after a failure) until
/// `run` is over; returns how many were sent.
async fn guess(addr: SocketAddr, run: Duration) -> u32 {
    let start = Instant::now();
    let mut sent = 0u32;
    while start.elapsed() < run {
        let pw = format!("{:06}", 100_000 + sent);
        let mut st = TestStation::connect(addr, R01_MN, &pw)
            .await
            .expect("connect");
        let (qn, cp) = now_upload(sent);
        // Closed or silent: a wrong guess. Never a 9014.
        if let Ok(Some(answer)) = st.upload(&qn, "2011", &cp, Duration::from_secs(2)).await {
            panic!("a wrong PW was answered: {answer}");
        }
        sent += 1;
    }
    sent
}

/// Right PW, and the frame is ignored: no answer, the connection closed like for a wrong one.
async fn ignored(srv: &Hardened, mn: &str, pw: &str) {
    let mut st = srv.connect(mn, pw).await;
    let (qn, cp) = now_upload(900);
    match st.upload(&qn, "2011", &cp, SILENCE).await {
        Ok(None) | Err(_) => {}
        Ok(Some(answer)) => panic!("answered while locked: {answer}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_passwords_are_throttled_then_locked_and_the_lock_expires() {
    // Unthrottled (the old behaviour): every guess is judged.
    let open = serve(|c| {
        c.hj212.auth_backoff_after = 0;
        c.hj212.auth_fail_lockout_after = 0;
    })
    .await;
    let run = Duration::from_secs(1);
    let sent = guess(open.hj212, run).await;
    let judged_open = open.metric("qingshui_hj212_auth_failures_total").await;
    open.stop().await;
    let open_rate = judged_open as f64 / run.as_secs_f64();

    let srv = serve(|c| {
        c.hj212.auth_backoff_after = 3;
        c.hj212.auth_backoff_base_ms = 100;
        c.hj212.auth_backoff_max_s = 1;
        c.hj212.auth_fail_lockout_after = 10;
        c.hj212.auth_lockout_s = 5;
    })
    .await;
    let run = Duration::from_secs(2);
    let began = Instant::now();
    let guesses = guess(srv.hj212, run).await;
    let judged = srv.metric("qingshui_hj212_auth_failures_total").await;
    let rate = judged as f64 / run.as_secs_f64();
    println!(
        "unthrottled: {sent} guesses, {open_rate:.0} judged/s; throttled: {guesses} guesses, {judged} judged, {rate:.1} judged/s"
    );
    assert!(open_rate > 100.0, "baseline {open_rate:.0}/s");
    assert!(guesses >= 10, "the guesser kept going ({guesses})");
    assert!(rate <= 5.0, "{rate:.1} judged guesses/s");
    assert_eq!(srv.metric("qingshui_hj212_auth_lockouts_total").await, 1);
    let status = srv.station("R01").await;
    assert_eq!(status["auth_lockout"]["peer"], "127.0.0.1", "{status}");
    assert_eq!(status["auth_lockout"]["active"], true, "{status}");
    assert!(status["auth_failures"].as_u64() >= Some(10), "{status}");
    // Raised as an alert (the engine's external path), once for the lockout.
    let alerts = srv.get("/api/v1/alerts").await;
    let list: serde_json::Value = serde_json::from_str(&alerts).expect("alerts JSON");
    let guessing: Vec<&serde_json::Value> = list["value"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter(|a| {
                    a["message_en"].as_str().is_some_and(|m| {
                        m.contains("possible password guessing on station R01 from 127.0.0.1")
                    })
                })
                .collect()
        })
        .unwrap_or_default();
    assert_eq!(guessing.len(), 1, "{alerts}");
    assert!(
        guessing[0]["message_zh"]
            .as_str()
            .is_some_and(|m| m.contains("疑似密码猜测")),
        "{alerts}"
    );

    // The backoff (1 s at most) is over, the lock (5 s) is not: R01 from this address stays
    // ignored even with the right PW, while another station from the same address is served.
    tokio::time::sleep(Duration::from_millis(1200)).await;
    ignored(&srv, R01_MN, R01_PW).await;
    let mut l01 = srv.connect(L01_MN, L01_PW).await;
    uploaded(&mut l01, 1).await;

    // After the lockout the right PW works again.
    let expired = Duration::from_secs(6);
    tokio::time::sleep(expired.saturating_sub(began.elapsed())).await;
    let mut r01 = srv.connect(R01_MN, R01_PW).await;
    uploaded(&mut r01, 2).await;
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_frame_from_2099_is_refused_and_the_station_gets_a_1012() {
    let srv = serve(|_| {}).await;
    let inserted = srv.metric("qingshui_observations_inserted_total").await;
    let mut st = srv.connect(R01_MN, R01_PW).await;
    let answer = st
        .upload(
            "20990315100000000",
            "2061",
            "DataTime=20990315090000;w01010-Avg=14.6,w01010-Flag=N",
            WAIT,
        )
        .await
        .expect("io")
        .expect("a set-time request");
    assert_eq!(field(&answer, "CN"), Some("1012"), "{answer}");
    assert_eq!(field(&answer, "MN"), Some(R01_MN), "{answer}");
    let system_time = answer
        .split("SystemTime=")
        .nth(1)
        .and_then(|t| t.get(..14))
        .unwrap_or_else(|| panic!("no SystemTime: {answer}"));
    let now = chrono::Utc::now().timestamp();
    let (earliest, latest) = (beijing_time(now - 60), beijing_time(now + 60));
    assert!(
        (earliest.as_str()..=latest.as_str()).contains(&system_time),
        "the platform's time, not {system_time}: {answer}"
    );
    // No 9014: the frame is not stored (so it can move neither a latest value nor the alert clock).
    assert_eq!(st.answer(SILENCE).await.expect("io"), None);
    assert_eq!(
        srv.metric("qingshui_observations_inserted_total").await,
        inserted
    );
    assert_eq!(
        srv.station("R01").await["frames_rejected"]["future_time"],
        1
    );
    assert_eq!(
        srv.metric("qingshui_hj212_set_time_requests_total").await,
        1
    );
    // The station, its clock set, uploads again and is answered.
    uploaded(&mut st, 1).await;
    // The refused frame moved no rule clock: a real hourly exceedance (TP 0.5 mg/L at a river
    // inlet whose target is Class III, limit 0.2) raises its alert at once.
    let hour = beijing_time(now - 3_600);
    let hour = format!("{}0000", &hour[..10]);
    let answer = st
        .upload(
            &format!("{hour}002"),
            "2061",
            &format!("DataTime={hour};w21011-Avg=0.5,w21011-Flag=N"),
            WAIT,
        )
        .await
        .expect("io")
        .expect("the hourly frame is answered");
    assert_eq!(field(&answer, "CN"), Some("9014"), "{answer}");
    let started = Instant::now();
    loop {
        let alerts: serde_json::Value =
            serde_json::from_str(&srv.get("/api/v1/alerts?state=active&station=R01").await)
                .expect("alerts JSON");
        let raised = alerts["value"].as_array().is_some_and(|a| {
            a.iter()
                .any(|a| a["rule"] == "exceedance" && a["parameter"] == "tp")
        });
        if raised {
            break;
        }
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "no exceedance alert after the refused 2099 frame: {alerts}"
        );
        tokio::time::sleep(Duration::from_millis(25)).await;
    }
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_mn_and_a_wrong_password_look_the_same() {
    let srv = serve(|c| c.hj212.close_on_auth_failure = false).await;
    let (qn, cp) = now_upload(1);
    let mut st = srv.connect(R01_MN, R01_PW).await;
    for (mn, pw) in [("010000520181999999999999", R01_PW), (R01_MN, "000000")] {
        let frame = encode_frame(&format!(
            "QN={qn};ST=21;CN=2011;PW={pw};MN={mn};Flag=5;CP=&&{cp}&&"
        ));
        st.send(&frame).await.expect("send");
        // Neither is answered, neither closes (with close_on_auth_failure off).
        assert_eq!(st.answer(SILENCE).await.expect("open"), None, "{mn}/{pw}");
    }
    uploaded(&mut st, 2).await;
    assert_eq!(srv.metric("qingshui_hj212_auth_failures_total").await, 2);
    srv.stop().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sockets_that_never_send_a_frame_do_not_starve_stations() {
    let srv = serve(|c| {
        c.hj212.max_connections = 5;
        c.hj212.first_frame_timeout_s = 1;
    })
    .await;
    // Every slot taken by a socket that never sends anything.
    let mut squatters = Vec::new();
    for _ in 0..5 {
        squatters.push(TcpStream::connect(srv.hj212).await.expect("connect"));
    }
    let mut refused = TcpStream::connect(srv.hj212).await.expect("connect");
    closed_within(&mut refused, WAIT).await;
    assert_eq!(
        srv.metric("qingshui_hj212_connections_refused_total{cap=\"max_connections\"}")
            .await,
        1
    );
    // Within the first-frame timeout the squatters are gone and a station is served again.
    for s in &mut squatters {
        closed_within(s, WAIT).await;
    }
    // The slot is given back just after the close the client saw.
    tokio::time::sleep(Duration::from_millis(200)).await;
    let mut st = srv.connect(R01_MN, R01_PW).await;
    uploaded(&mut st, 1).await;
    srv.stop().await;
}
