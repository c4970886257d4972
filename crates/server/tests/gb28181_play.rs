//! Live view end to end at the SIP/SDP level: a local stub stands in for the ZLMediaKit API
//! (recording `openRtpServer`/`closeRtpServer`), a simulated camera answers the INVITE with
//! 200 + SDP; the play endpoint answers with the stream URLs, stop sends BYE and closes the port.

#[path = "common/video.rs"]
mod video;

use axum::Json;
use axum::extract::{Path, State};
use serde_json::{Value, json};
use sim::send::camera::SimCamera;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const WAIT: Duration = Duration::from_secs(20);
const TOKEN: &str = "operator-token";
const SECRET: &str = "zlm-secret-1";
const STUB_PORT: u64 = 30_123;

type Calls = Arc<Mutex<Vec<(String, Value)>>>;

/// The stub media server: every call recorded; openRtpServer hands out `STUB_PORT`.
async fn stub_media() -> (String, Calls) {
    let calls: Calls = Arc::default();
    async fn api(
        State(calls): State<Calls>,
        Path(call): Path<String>,
        Json(body): Json<Value>,
    ) -> Json<Value> {
        calls
            .lock()
            .expect("lock")
            .push((call.clone(), body.clone()));
        if body["secret"] != SECRET {
            return Json(json!({"code": -100, "msg": "secret error"}));
        }
        match call.as_str() {
            "openRtpServer" => Json(json!({"code": 0, "port": STUB_PORT})),
            "closeRtpServer" => Json(json!({"code": 0, "hit": 1})),
            _ => Json(json!({"code": -300, "msg": "unknown api"})),
        }
    }
    let app = axum::Router::new()
        .route("/index/api/{call}", axum::routing::post(api))
        .with_state(calls.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind stub");
    let addr = listener.local_addr().expect("addr");
    tokio::spawn(async move { axum::serve(listener, app).await });
    (format!("http://{addr}"), calls)
}

async fn with_media(base: &str) -> video::VideoServer {
    let base = base.to_string();
    video::start_with(1, 3, move |c| {
        c.auth.tokens = vec![TOKEN.into()];
        c.gb28181.media.api_base = Some(base);
        c.gb28181.media.secret = server::config::Secret::new(SECRET);
        c.gb28181.media.rtp_ip = Some("127.0.0.1".into());
        c.gb28181.media.timeout_s = 5;
    })
    .await
}

async fn call(srv: &video::VideoServer, method: reqwest::Method, point: &str) -> (u16, Value) {
    let r = srv
        .client
        .request(method, format!("{}/api/v1/video/{point}/play", srv.http))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("request");
    let status = r.status().as_u16();
    (status, r.json().await.expect("JSON body"))
}

async fn until(what: &str, f: impl Fn() -> bool) {
    let start = Instant::now();
    while !f() {
        assert!(start.elapsed() < WAIT, "{what} not within {WAIT:?}");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test]
async fn play_invites_with_the_reference_sdp_and_stop_sends_bye() {
    let (base, calls) = stub_media().await;
    let srv = with_media(&base).await;
    let mut v01 = SimCamera::start(video::camera(srv.sip, 1, video::PASSWORD))
        .await
        .expect("camera");
    assert!(v01.wait_registered(WAIT).await);
    srv.until("V01 online", WAIT, |p| p[0]["online"] == true)
        .await;

    // Playing needs the write role (an operator action).
    let anonymous = srv
        .client
        .post(format!("{}/api/v1/video/V01/play", srv.http))
        .send()
        .await
        .expect("request");
    assert_eq!(anonymous.status(), 401);
    assert!(calls.lock().expect("lock").is_empty(), "nothing opened");

    let started = Instant::now();
    let (status, body) = call(&srv, reqwest::Method::POST, "V01").await;
    // A figure for docs/video.md: openRtpServer + INVITE + 200 + ACK on loopback.
    eprintln!("play answered in {:?}", started.elapsed());
    assert_eq!(status, 200, "{body}");
    let stream = "52018100431322000001_52018100431322000001";
    assert_eq!(body["stream_id"], stream);
    assert_eq!(body["rtp_port"], STUB_PORT);
    assert_eq!(body["already_playing"], false);
    assert_eq!(body["urls"]["hls"], format!("{base}/rtp/{stream}/hls.m3u8"));
    assert_eq!(
        body["urls"]["http_flv"],
        format!("{base}/rtp/{stream}.live.flv")
    );
    assert_eq!(
        body["urls"]["webrtc"],
        format!("{base}/index/api/webrtc?app=rtp&stream={stream}&type=play")
    );
    let ssrc = body["ssrc"].as_str().expect("ssrc").to_string();
    assert_eq!(ssrc.len(), 10, "{ssrc}");
    assert!(ssrc.starts_with('0') && ssrc.bytes().all(|b| b.is_ascii_digit()));
    assert_eq!(&ssrc[1..6], "18100", "domain digits 3..8");

    // The media server was asked for a port with the secret, port 0 and the stream id.
    {
        let c = calls.lock().expect("lock");
        assert_eq!(c.len(), 1, "{c:?}");
        assert_eq!(c[0].0, "openRtpServer");
        assert_eq!(c[0].1["secret"], SECRET);
        assert_eq!(c[0].1["port"], 0);
        assert_eq!(c[0].1["stream_id"], stream);
    }

    // The INVITE the camera saw: Subject and the SDP of the reference.
    let seen = v01.seen();
    assert_eq!(seen.invites.len(), 1, "{seen:?}");
    let (subject, sdp) = &seen.invites[0];
    assert_eq!(
        subject,
        &format!("52018100431322000001:{ssrc},52018100432002000001:0")
    );
    let lines: Vec<&str> = sdp.lines().map(str::trim).collect();
    for want in [
        "s=Play",
        "c=IN IP4 127.0.0.1",
        &format!("m=video {STUB_PORT} RTP/AVP 96 97 98 99"),
        "a=recvonly",
        "a=rtpmap:96 PS/90000",
        &format!("y={ssrc}"),
    ] {
        assert!(lines.contains(&want), "{want:?} in {sdp}");
    }
    // ACK after the 200 (a new transaction with CSeq 1 ACK).
    until("ACK", || !v01.seen().acks.is_empty()).await;
    assert_eq!(v01.seen().acks, ["1 ACK"]);

    // A second play returns the running stream; nothing new is opened or invited.
    let (status, again) = call(&srv, reqwest::Method::POST, "V01").await;
    assert_eq!(status, 200, "{again}");
    assert_eq!(again["already_playing"], true);
    assert_eq!(again["ssrc"], ssrc.as_str());
    assert_eq!(v01.seen().invites.len(), 1);

    // Stop: BYE to the camera, the port closed.
    let (status, stopped) = call(&srv, reqwest::Method::DELETE, "V01").await;
    assert_eq!(status, 200, "{stopped}");
    assert_eq!(stopped["stopped"], true);
    until("BYE", || !v01.seen().byes.is_empty()).await;
    assert_eq!(v01.seen().byes, ["2 BYE"]);
    {
        let c = calls.lock().expect("lock");
        assert_eq!(
            c.last().map(|x| x.0.as_str()),
            Some("closeRtpServer"),
            "{c:?}"
        );
        assert_eq!(
            c.last().map(|x| x.1["stream_id"].clone()),
            Some(json!(stream))
        );
    }
    // Stopping again: nothing was running.
    let (status, none) = call(&srv, reqwest::Method::DELETE, "V01").await;
    assert_eq!((status, none["stopped"].clone()), (200, json!(false)));

    // An unknown point: 404; a camera that never registered: 409, nothing opened for it.
    let before = calls.lock().expect("lock").len();
    let (status, e) = call(&srv, reqwest::Method::POST, "V99").await;
    assert_eq!(status, 404, "{e}");
    let (status, e) = call(&srv, reqwest::Method::POST, "V02").await;
    assert_eq!(status, 409, "{e}");
    assert_eq!(e["type"], "error");
    let msg = e["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("不在线") && msg.contains("not online"),
        "{msg}"
    );
    assert_eq!(calls.lock().expect("lock").len(), before);
    v01.stop();
    srv.stop().await;
}

#[tokio::test]
async fn a_wrong_media_secret_is_a_502_and_no_invite() {
    let (base, calls) = stub_media().await;
    let srv = video::start_with(1, 3, move |c| {
        c.auth.tokens = vec![TOKEN.into()];
        c.gb28181.media.api_base = Some(base);
        c.gb28181.media.secret = server::config::Secret::new("wrong");
    })
    .await;
    let mut v01 = SimCamera::start(video::camera(srv.sip, 1, video::PASSWORD))
        .await
        .expect("camera");
    assert!(v01.wait_registered(WAIT).await);
    srv.until("V01 online", WAIT, |p| p[0]["online"] == true)
        .await;
    let (status, e) = call(&srv, reqwest::Method::POST, "V01").await;
    assert_eq!(status, 502, "{e}");
    let msg = e["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("secret error") && !msg.contains("wrong"),
        "{msg}"
    );
    assert_eq!(calls.lock().expect("lock").len(), 1);
    assert!(v01.seen().invites.is_empty());
    v01.stop();
    srv.stop().await;
}

#[tokio::test]
async fn without_a_media_server_play_is_a_plain_503() {
    let srv = video::start_with(1, 3, |c| c.auth.tokens = vec![TOKEN.into()]).await;
    let (status, e) = call(&srv, reqwest::Method::POST, "V01").await;
    assert_eq!(status, 503, "{e}");
    assert_eq!(e["type"], "error");
    let msg = e["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("没有配置流媒体服务器") && msg.contains("no media server is configured"),
        "{msg}"
    );
    srv.stop().await;
}

#[tokio::test]
async fn a_camera_that_never_answers_is_a_504_the_port_closed_and_a_second_play_409() {
    let (base, calls) = stub_media().await;
    let srv = video::start_with(1, 3, move |c| {
        c.auth.tokens = vec![TOKEN.into()];
        c.gb28181.media.api_base = Some(base);
        c.gb28181.media.secret = server::config::Secret::new(SECRET);
        c.gb28181.media.timeout_s = 1;
    })
    .await;
    let mut cfg = video::camera(srv.sip, 1, video::PASSWORD);
    cfg.answer_invites = false;
    let mut v01 = SimCamera::start(cfg).await.expect("camera");
    assert!(v01.wait_registered(WAIT).await);
    srv.until("V01 online", WAIT, |p| p[0]["online"] == true)
        .await;
    // Two plays at once: one waits for the camera (504 after timeout_s), the other is told a
    // play is being set up (409) — it neither opens the stream again nor closes the first's.
    let started = Instant::now();
    let (a, b) = tokio::join!(
        call(&srv, reqwest::Method::POST, "V01"),
        call(&srv, reqwest::Method::POST, "V01")
    );
    let mut statuses = [a.0, b.0];
    statuses.sort_unstable();
    assert_eq!(statuses, [409, 504], "{a:?} {b:?}");
    assert!(
        started.elapsed() < Duration::from_secs(4),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(v01.seen().invites.len(), 1, "the INVITE was sent");
    let names: Vec<String> = calls
        .lock()
        .expect("lock")
        .iter()
        .map(|c| c.0.clone())
        .collect();
    assert_eq!(names, ["openRtpServer", "closeRtpServer"]);
    // The abandoned request leaves no dialog behind: stopping finds nothing to stop.
    let (status, none) = call(&srv, reqwest::Method::DELETE, "V01").await;
    assert_eq!((status, none["stopped"].clone()), (200, json!(false)));
    v01.stop();
    srv.stop().await;
}

#[tokio::test]
async fn a_timed_out_invite_is_cancelled_and_a_late_200_ended_with_ack_and_bye() {
    let (base, calls) = stub_media().await;
    let srv = video::start_with(1, 3, move |c| {
        c.auth.tokens = vec![TOKEN.into()];
        c.gb28181.media.api_base = Some(base);
        c.gb28181.media.secret = server::config::Secret::new(SECRET);
        c.gb28181.media.timeout_s = 1;
    })
    .await;
    // 100 Trying at once, the 200 only after the platform's 1 s timeout (and despite the
    // CANCEL: the 200 crosses it, as on a slow uplink).
    let mut cfg = video::camera(srv.sip, 1, video::PASSWORD);
    cfg.invite_answer_delay = Duration::from_millis(2500);
    let mut v01 = SimCamera::start(cfg).await.expect("camera");
    assert!(v01.wait_registered(WAIT).await);
    srv.until("V01 online", WAIT, |p| p[0]["online"] == true)
        .await;
    let started = Instant::now();
    let (status, e) = call(&srv, reqwest::Method::POST, "V01").await;
    assert_eq!(status, 504, "{e}");
    assert_eq!(e["type"], "error");
    until("the CANCEL", || !v01.seen().cancels.is_empty()).await;
    assert!(
        started.elapsed() < Duration::from_millis(2400),
        "CANCEL sent at the timeout, before the late 200: {:?}",
        started.elapsed()
    );
    assert_eq!(
        v01.seen().cancels,
        ["1 CANCEL"],
        "same CSeq number as the INVITE"
    );
    assert!(v01.seen().byes.is_empty(), "nothing to BYE before the 200");
    until("ACK and BYE after the late 200", || {
        let s = v01.seen();
        s.acks.iter().any(|a| a == "1 ACK") && s.byes.iter().any(|b| b == "2 BYE")
    })
    .await;
    // The port: closed at the timeout, and again after the late answer (no play owns it).
    until("the port closed after the late answer", || {
        calls
            .lock()
            .expect("lock")
            .iter()
            .filter(|c| c.0 == "closeRtpServer")
            .count()
            == 2
    })
    .await;
    let closes: Vec<Value> = calls
        .lock()
        .expect("lock")
        .iter()
        .filter(|c| c.0 == "closeRtpServer")
        .map(|c| c.1["stream_id"].clone())
        .collect();
    assert_eq!(
        closes,
        [
            json!("52018100431322000001_52018100431322000001"),
            json!("52018100431322000001_52018100431322000001")
        ]
    );
    // No dialog is left: the platform does not think V01 is streaming.
    let (status, none) = call(&srv, reqwest::Method::DELETE, "V01").await;
    assert_eq!((status, none["stopped"].clone()), (200, json!(false)));
    assert_eq!(v01.seen().byes.len(), 1, "one BYE");
    v01.stop();
    srv.stop().await;
}
