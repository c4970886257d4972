//! The GB/T 28181 listener end to end: simulated cameras (crates/sim) register over real UDP
//! with digest, keep alive, answer the platform's queries and raise alarms; a raw socket checks
//! the refusals (bad password, unknown device, malformed SIP).

#[path = "common/video.rs"]
mod video;

use gb28181::Message;
use gb28181::digest::{self, Credentials};
use gb28181::sip::{self, Limits};
use serde_json::Value;
use sim::send::camera::{SimCamera, intrusion_alarm};
use std::time::Duration;
use tokio::net::UdpSocket;

const WAIT: Duration = Duration::from_secs(20);

#[tokio::test]
async fn cameras_register_report_health_and_raise_an_intrusion() {
    let srv = video::start(1, 3).await;
    let mut c1 = video::camera(srv.sip, 1, video::PASSWORD);
    c1.clock_offset_s = 120;
    let mut v01 = SimCamera::start(c1).await.expect("camera");
    assert!(v01.wait_registered(WAIT).await, "V01 registers with digest");
    let points = srv
        .until("V01 online with device info, drift and arming", WAIT, |p| {
            let v = &p[0];
            v["online"] == true
                && v["camera"]["firmware"] == "sim-1.0"
                && v["camera"]["armed"] == true
                && v["camera"]["clock_drift_s"].is_i64()
                && v["camera"]["catalog_channels"] == 1
        })
        .await;
    let v = &points[0];
    assert_eq!(v["id"], "V01");
    assert_eq!(v["device_id"], "52018100431322000001");
    assert_eq!(v["camera"]["manufacturer"], "SIM");
    assert_eq!(v["camera"]["transport"], "udp");
    let drift = v["camera"]["clock_drift_s"].as_i64().unwrap_or_default();
    assert!((110..=130).contains(&drift), "clock drift {drift} ≈ 120 s");
    let seen = v01.seen();
    for q in ["Catalog", "DeviceInfo", "DeviceStatus"] {
        assert!(seen.queries.iter().any(|s| s == q), "{q} asked: {seen:?}");
    }
    assert!(seen.armed, "SetGuard sent after register");

    // Every other configured camera: offline (never unknown) once one window has passed.
    srv.until("the 51 silent cameras offline", WAIT, |p| {
        p.len() == 52 && p[1..].iter().all(|v| v["online"] == false)
    })
    .await;

    // An intrusion into the intake's first-level protection zone: a critical alert.
    assert!(v01.alarm(intrusion_alarm("person entering zone 1")).await);
    let alert = srv
        .alert("rule=intrusion", WAIT, |a| a["source"] == "V01")
        .await;
    assert_eq!(alert["severity"], "critical", "{alert}");
    assert_eq!(alert["details"]["zone"], "pz1_intake");
    assert_eq!(alert["details"]["zone_kind"], "protection_level1");
    assert_eq!(alert["details"]["alarm_type"], 6);
    let msg = alert["message"].as_str().unwrap_or_default();
    assert!(
        msg.contains("区域入侵") && msg.contains("intrusion"),
        "bilingual: {msg}"
    );
    // Evidence: the platform asked for a snapshot, the camera uploaded a JPEG, and the alert
    // links it.
    let linked = srv
        .alert("rule=intrusion", WAIT, |a| {
            a["source"] == "V01" && a["details"]["snapshot"].is_string()
        })
        .await;
    let url = linked["details"]["snapshot"].as_str().unwrap_or_default();
    let jpeg = srv
        .client
        .get(format!("{}{url}", srv.http))
        .send()
        .await
        .expect("GET snapshot");
    assert_eq!(jpeg.status().as_u16(), 200);
    assert_eq!(
        jpeg.headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok()),
        Some("image/jpeg")
    );
    let bytes = jpeg.bytes().await.expect("bytes");
    assert_eq!(&bytes[..3], &[0xFF, 0xD8, 0xFF]);
    assert_eq!(v01.seen().snapshots_uploaded, 1);
    // The session was used once: a second upload is refused, as is a non-JPEG.
    let session = url.rsplit('/').next().unwrap_or_default();
    for (body, status) in [(bytes.to_vec(), 404), (b"not a picture".to_vec(), 400)] {
        let r = srv
            .client
            .put(format!("{}/api/v1/video/snapshots/{session}", srv.http))
            .body(body)
            .send()
            .await
            .expect("PUT");
        assert_eq!(r.status().as_u16(), status);
        let err: Value = r.json().await.expect("JSON error");
        assert_eq!(err["type"], "error", "{err}");
    }
    // The standard's answer to an alarm: a Response MESSAGE with Result OK.
    let start = std::time::Instant::now();
    while v01.seen().alarm_acks == 0 {
        assert!(start.elapsed() < WAIT, "alarm response MESSAGE");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let metrics = srv
        .client
        .get(format!("{}/metrics", srv.http))
        .send()
        .await
        .expect("GET")
        .text()
        .await
        .expect("text");
    for line in [
        "qingshui_source_device_online{source=\"gb28181\",station=\"V01\"} 1",
        "qingshui_gb28181_cameras{state=\"online\"} 1",
        "qingshui_gb28181_alarms_total{station=\"V01\"} 1",
    ] {
        assert!(metrics.contains(line), "missing {line}");
    }
    v01.stop();
    srv.stop().await;
}

#[tokio::test]
async fn a_silent_camera_goes_offline_and_comes_back() {
    let srv = video::start(1, 2).await;
    let mut cam = SimCamera::start(video::camera(srv.sip, 2, video::PASSWORD))
        .await
        .expect("camera");
    assert!(cam.wait_registered(WAIT).await);
    srv.until("V02 online", WAIT, |p| p[1]["online"] == true)
        .await;
    cam.stop();
    // Offline after min(expires, 1 s × 2) of silence.
    srv.until("V02 offline", WAIT, |p| p[1]["online"] == false)
        .await;
    let alert = srv
        .alert("rule=camera_offline", WAIT, |a| a["source"] == "V02")
        .await;
    assert_eq!(alert["state"], "active", "{alert}");
    // Back: a new registration (new Call-ID, as after a reboot).
    let mut again = SimCamera::start(video::camera(srv.sip, 2, video::PASSWORD))
        .await
        .expect("camera");
    assert!(again.wait_registered(WAIT).await);
    srv.until("V02 back online", WAIT, |p| p[1]["online"] == true)
        .await;
    srv.alert("rule=camera_offline&state=cleared", WAIT, |a| {
        a["source"] == "V02"
    })
    .await;
    again.stop();
    srv.stop().await;
}

async fn exchange(sock: &UdpSocket, to: std::net::SocketAddr, m: &Message) -> Message {
    sock.send_to(&m.to_bytes(), to).await.expect("send");
    let mut buf = vec![0u8; 65_536];
    loop {
        let (n, _) = tokio::time::timeout(WAIT, sock.recv_from(&mut buf))
            .await
            .expect("a reply")
            .expect("recv");
        let reply = sip::parse_datagram(&buf[..n], Limits::default()).expect("SIP reply");
        // Skip the platform's own queries (sent after a successful REGISTER).
        if reply.status().is_some() {
            return reply;
        }
    }
}

fn register(device: &str, call: &str, cseq: u32, expires: Option<u32>) -> Message {
    let mut m = Message::request("REGISTER", "sip:52018100432002000001@5201810043")
        .with("Via", "SIP/2.0/UDP 127.0.0.1:9;rport;branch=z9hG4bKraw")
        .with("From", format!("<sip:{device}@5201810043>;tag=raw"))
        .with("To", format!("<sip:{device}@5201810043>"))
        .with("Call-ID", call)
        .with("CSeq", format!("{cseq} REGISTER"));
    if let Some(e) = expires {
        m = m.with("Expires", e.to_string());
    }
    m
}

fn authorize(m: Message, challenge: &Message, password: &str) -> Message {
    let ch = digest::parse_challenge(challenge.header("WWW-Authenticate").expect("challenge"))
        .expect("digest challenge");
    let mut c = Credentials {
        username: "52018100431322000003".into(),
        realm: ch.realm,
        nonce: ch.nonce,
        // As SIPp does: the platform's address, not the Request-URI.
        uri: "sip:127.0.0.1:5060".into(),
        qop: Some("auth".into()),
        nc: Some("00000001".into()),
        cnonce: Some("0a4f113b".into()),
        ..Credentials::default()
    };
    c.response = digest::response("REGISTER", password, &c).expect("digest");
    m.with("Authorization", c.header_value())
}

#[tokio::test]
async fn refusals_bad_password_unknown_device_malformed_and_unregister() {
    let srv = video::start(60, 3).await;
    let sock = UdpSocket::bind("127.0.0.1:0").await.expect("bind");
    let dev = "52018100431322000003";
    // Unknown device: 403.
    let r = exchange(
        &sock,
        srv.sip,
        &register("52018100431322000999", "u1", 1, Some(3600)),
    )
    .await;
    assert_eq!(r.status(), Some(403));
    // No Expires: 400.
    let r = exchange(&sock, srv.sip, &register(dev, "e1", 1, None)).await;
    assert_eq!(r.status(), Some(400));
    // Challenge, then a wrong password: 403.
    let ch = exchange(&sock, srv.sip, &register(dev, "c1", 1, Some(3600))).await;
    assert_eq!(ch.status(), Some(401));
    let r = exchange(
        &sock,
        srv.sip,
        &authorize(register(dev, "c1", 2, Some(3600)), &ch, "wrong"),
    )
    .await;
    assert_eq!(r.status(), Some(403));
    // Challenge again, right password (uri from the header, not the Request-URI): 200 with
    // the GB Date header and the granted Expires.
    let ch = exchange(&sock, srv.sip, &register(dev, "c1", 3, Some(3600))).await;
    let ok = exchange(
        &sock,
        srv.sip,
        &authorize(register(dev, "c1", 4, Some(3600)), &ch, video::PASSWORD),
    )
    .await;
    assert_eq!(ok.status(), Some(200));
    assert_eq!(ok.header("Expires"), Some("3600"));
    let date = ok.header("Date").expect("Date header");
    assert!(
        gb28181::time::parse(date).is_some() && date.len() == 23,
        "GB date {date}"
    );
    let via = ok.header("Via").expect("Via");
    assert!(
        via.contains("received=127.0.0.1")
            && via.contains(&format!(
                "rport={}",
                sock.local_addr().expect("addr").port()
            )),
        "{via}"
    );
    srv.until("V03 online", WAIT, |p| p[2]["online"] == true)
        .await;
    // A replayed Authorization (its nonce spent by the success) is challenged again.
    let replay = exchange(
        &sock,
        srv.sip,
        &authorize(register(dev, "c1", 5, Some(3600)), &ch, video::PASSWORD),
    )
    .await;
    assert_eq!(
        replay.status(),
        Some(401),
        "a spent nonce is never accepted"
    );

    // Malformed SIP: dropped and counted, the camera stays online.
    for junk in [
        &b"GARBAGE\r\n\r\n"[..],
        b"MESSAGE sip:x SIP/2.0\r\nl: 99\r\n\r\nshort",
    ] {
        sock.send_to(junk, srv.sip).await.expect("send");
    }
    // A MESSAGE with a broken body: 400.
    let bad = Message::request("MESSAGE", "sip:52018100432002000001@5201810043")
        .with("Via", "SIP/2.0/UDP 127.0.0.1:9;branch=z9hG4bKb")
        .with("From", format!("<sip:{dev}@5201810043>;tag=b"))
        .with("To", "<sip:52018100432002000001@5201810043>")
        .with("Call-ID", "bad-body")
        .with("CSeq", "1 MESSAGE")
        .with_body(
            "Application/MANSCDP+xml",
            b"<Notify><CmdType>Keepalive".to_vec(),
        );
    assert_eq!(exchange(&sock, srv.sip, &bad).await.status(), Some(400));
    let stations = srv.get("/api/v1/stations").await;
    assert_eq!(
        stations["unattributed_rejects"]["malformed_sip"], 2,
        "{stations}"
    );
    let v03 = stations["value"]
        .as_array()
        .and_then(|a| a.iter().find(|d| d["station"] == "V03").cloned())
        .unwrap_or(Value::Null);
    assert_eq!(v03["status"], "online", "{v03}");
    assert_eq!(v03["frames_rejected"]["bad_password"], 1, "{v03}");
    assert_eq!(v03["frames_rejected"]["bad_body"], 1, "{v03}");

    // Expires: 0 unregisters at once.
    let ch = exchange(&sock, srv.sip, &register(dev, "c1", 6, Some(0))).await;
    let bye = exchange(
        &sock,
        srv.sip,
        &authorize(register(dev, "c1", 7, Some(0)), &ch, video::PASSWORD),
    )
    .await;
    assert_eq!(bye.status(), Some(200));
    // Not online any more (and still "unknown" rather than offline: the first 180 s window
    // of this listener has not passed).
    srv.until("V03 unregistered", WAIT, |p| {
        p[2]["online"] != true && p[2]["camera"]["registered"] == false
    })
    .await;
    srv.stop().await;
}

#[tokio::test]
async fn video_loss_is_a_video_fault_and_gb18030_bodies_are_read() {
    let srv = video::start(60, 3).await;
    // V21 watches the south shore: an intrusion there is minor, not critical. It cannot
    // upload snapshots: its alerts stand without a picture.
    let mut c21 = video::camera(srv.sip, 21, video::PASSWORD);
    c21.upload_snapshots = false;
    let mut cam = SimCamera::start(c21).await.expect("camera");
    assert!(cam.wait_registered(WAIT).await);
    let mut loss = intrusion_alarm("视频丢失");
    loss.methods = vec![2];
    loss.alarm_type = Some(1);
    loss.event_type = None;
    assert!(cam.alarm(loss).await);
    let fault = srv
        .alert("rule=video_fault", WAIT, |a| a["source"] == "V21")
        .await;
    assert_eq!(fault["severity"], "major");
    assert_eq!(fault["details"]["kind"], "gb28181_video_loss");
    // The sim writes GB18030: the Chinese description arrives intact.
    assert_eq!(fault["details"]["description"], "视频丢失");
    assert!(cam.alarm(intrusion_alarm("boat")).await);
    let intrusion = srv
        .alert("rule=intrusion", WAIT, |a| a["source"] == "V21")
        .await;
    assert_eq!(intrusion["severity"], "minor", "{intrusion}");
    assert_eq!(intrusion["details"]["zone"], "south_shore");
    tokio::time::sleep(Duration::from_millis(500)).await;
    let again = srv
        .alert("rule=intrusion", WAIT, |a| a["source"] == "V21")
        .await;
    assert!(again["details"]["snapshot"].is_null(), "{again}");
    cam.stop();
    srv.stop().await;
}
