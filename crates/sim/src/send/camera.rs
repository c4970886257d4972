//! A simulated GB/T 28181 camera (device side, UAC) over real UDP on loopback, built on the
//! `gb28181` codec: REGISTER with digest (401 → 200), refresh at half the granted Expires,
//! keepalives, answers to Catalog / DeviceInfo / DeviceStatus queries and DeviceControl, and
//! alarms on command. Live view: an INVITE is answered `200` with an SDP answer (`a=sendonly`,
//! the offer's `y=`), at once or after `invite_answer_delay`; ACK, BYE and CANCEL are recorded;
//! no RTP is sent. Dropping the handle or [`SimCamera::stop`] makes it go silent (it does
//! not unregister), as a camera losing power does.

use gb28181::Message;
use gb28181::digest::{self, Credentials};
use gb28181::manscdp::{
    Ack, Alarm, Body, CONTENT_TYPE, CatalogItem, CatalogPage, DeviceInfo, DeviceStatus, Keepalive,
};
use gb28181::sip::{self, Limits};
use std::io;
use std::net::SocketAddr;
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::net::UdpSocket;
use tokio::sync::{mpsc, watch};
use tokio::task::JoinHandle;

/// Who the camera is and where its platform is.
#[derive(Debug, Clone)]
pub struct CameraConfig {
    pub platform: SocketAddr,
    pub platform_id: String,
    pub domain: String,
    pub device_id: String,
    pub channel_id: String,
    pub password: String,
    pub name: String,
    pub expires_s: u32,
    pub keepalive: Duration,
    /// The camera clock's error, seconds (shows as clock drift on the platform).
    pub clock_offset_s: i64,
    pub lon: f64,
    pub lat: f64,
    /// Answer SnapShotConfig by uploading a JPEG (false: a camera that cannot upload).
    pub upload_snapshots: bool,
    /// Answer live-view INVITEs with 200 + SDP (false: a camera that never answers them, as one
    /// behind a broken uplink does).
    pub answer_invites: bool,
    /// Answer a live-view INVITE only after this long (a camera on a slow uplink, answering
    /// after the platform gave up). Zero: at once.
    pub invite_answer_delay: Duration,
    /// Ignore this many DeviceInfo queries before answering one (a lost answer, as a full
    /// receive buffer at the platform makes). Zero: answer every one.
    pub ignore_device_info: u32,
}

/// What the camera saw, for tests and the demo's log.
#[derive(Debug, Default, Clone)]
pub struct CameraSeen {
    pub queries: Vec<String>,
    pub armed: bool,
    pub alarm_acks: u32,
    pub register_failures: u32,
    pub snapshots_uploaded: u32,
    /// Each INVITE received: its Subject header and SDP body (text).
    pub invites: Vec<(String, String)>,
    /// ACKs and BYEs received (method, CSeq header).
    pub acks: Vec<String>,
    pub byes: Vec<String>,
    /// CANCELs received (CSeq header).
    pub cancels: Vec<String>,
}

/// A running simulated camera.
pub struct SimCamera {
    commands: mpsc::Sender<Alarm>,
    registered: watch::Receiver<bool>,
    seen: Arc<Mutex<CameraSeen>>,
    task: JoinHandle<()>,
    pub local: SocketAddr,
}

impl SimCamera {
    /// Binds a loopback UDP port and starts registering.
    pub async fn start(config: CameraConfig) -> io::Result<SimCamera> {
        let socket = UdpSocket::bind("127.0.0.1:0").await?;
        let local = socket.local_addr()?;
        let (commands, rx) = mpsc::channel(16);
        let (reg_tx, registered) = watch::channel(false);
        let seen = Arc::new(Mutex::new(CameraSeen::default()));
        let device = Device {
            config,
            socket: Arc::new(socket),
            local,
            seq: AtomicU64::new(1),
            device_info_ignored: AtomicU32::new(0),
            seen: seen.clone(),
            registered: reg_tx,
        };
        let task = tokio::spawn(device.run(rx));
        Ok(SimCamera {
            commands,
            registered,
            seen,
            task,
            local,
        })
    }

    /// Waits until the platform accepted the registration (false on timeout).
    pub async fn wait_registered(&mut self, within: Duration) -> bool {
        tokio::time::timeout(within, self.registered.wait_for(|r| *r))
            .await
            .is_ok_and(|r| r.is_ok())
    }

    /// Sends an alarm notify (its SN and DeviceID are filled in).
    pub async fn alarm(&self, alarm: Alarm) -> bool {
        self.commands.send(alarm).await.is_ok()
    }

    pub fn seen(&self) -> CameraSeen {
        self.seen.lock().map(|s| s.clone()).unwrap_or_default()
    }

    /// Goes silent: no more keepalives, no answers.
    pub fn stop(self) {
        self.task.abort();
    }
}

struct Device {
    config: CameraConfig,
    /// Shared with the task sending a delayed INVITE answer.
    socket: Arc<UdpSocket>,
    local: SocketAddr,
    seq: AtomicU64,
    /// DeviceInfo queries ignored so far (`ignore_device_info`).
    device_info_ignored: AtomicU32,
    seen: Arc<Mutex<CameraSeen>>,
    registered: watch::Sender<bool>,
}

const RETRY: Duration = Duration::from_secs(2);

impl Device {
    fn next(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }

    fn note(&self, f: impl FnOnce(&mut CameraSeen)) {
        if let Ok(mut s) = self.seen.lock() {
            f(&mut s);
        }
    }

    fn base(&self, method: &str, call_id: &str, cseq: u64, to_user: &str) -> Message {
        let c = &self.config;
        let n = self.next();
        Message::request(method, &format!("sip:{}@{}", c.platform_id, c.domain))
            .with(
                "Via",
                format!("SIP/2.0/UDP {};rport;branch=z9hG4bK{n}", self.local),
            )
            .with(
                "From",
                format!("<sip:{}@{}>;tag=d{n}", c.device_id, c.domain),
            )
            .with("To", format!("<sip:{to_user}@{}>", c.domain))
            .with("Call-ID", call_id.to_string())
            .with("CSeq", format!("{cseq} {method}"))
            .with("Max-Forwards", "70")
            .with("User-Agent", "qingshui-sim-camera")
    }

    async fn send(&self, m: &Message) {
        let _ = self
            .socket
            .send_to(&m.to_bytes(), self.config.platform)
            .await;
    }

    async fn message(&self, body: &Body) {
        let call = format!("m{}-{}", self.next(), self.config.device_id);
        let m = self
            .base("MESSAGE", &call, 1, &self.config.platform_id.clone())
            .with_body(CONTENT_TYPE, body.encode());
        self.send(&m).await;
    }

    /// Receives one SIP message (None on timeout or garbage).
    async fn recv(&self, within: Duration) -> Option<Message> {
        let mut buf = vec![0u8; 65_536];
        let (n, _) = tokio::time::timeout(within, self.socket.recv_from(&mut buf))
            .await
            .ok()?
            .ok()?;
        sip::parse_datagram(&buf[..n], Limits::default()).ok()
    }

    /// REGISTER → 401 → REGISTER with digest → 200. Queries that arrive meanwhile are answered.
    async fn register(&self, call_id: &str) -> bool {
        let c = &self.config;
        let contact = format!("<sip:{}@{}>", c.device_id, self.local);
        let first = self
            .base("REGISTER", call_id, self.next(), &c.device_id)
            .with("Contact", contact.clone())
            .with("Expires", c.expires_s.to_string());
        self.send(&first).await;
        let mut authorization: Option<String> = None;
        for _ in 0..8 {
            let Some(reply) = self.recv(RETRY).await else {
                return false;
            };
            if reply.method().is_some() {
                self.answer(&reply).await;
                continue;
            }
            match reply.status() {
                Some(200) => return true,
                Some(401) if authorization.is_none() => {
                    let Some(ch) = reply
                        .header("WWW-Authenticate")
                        .and_then(|v| digest::parse_challenge(v).ok())
                    else {
                        return false;
                    };
                    let mut creds = Credentials {
                        username: c.device_id.clone(),
                        realm: ch.realm,
                        nonce: ch.nonce,
                        uri: format!("sip:{}@{}", c.platform_id, c.domain),
                        qop: ch.qop_auth.then(|| "auth".to_string()),
                        nc: ch.qop_auth.then(|| "00000001".to_string()),
                        cnonce: ch.qop_auth.then(|| format!("{:08x}", self.next())),
                        ..Credentials::default()
                    };
                    let Ok(resp) = digest::response("REGISTER", &c.password, &creds) else {
                        return false;
                    };
                    creds.response = resp;
                    let value = creds.header_value();
                    authorization = Some(value.clone());
                    let again = self
                        .base("REGISTER", call_id, self.next(), &c.device_id)
                        .with("Contact", contact.clone())
                        .with("Authorization", value)
                        .with("Expires", c.expires_s.to_string());
                    self.send(&again).await;
                }
                _ => return false,
            }
        }
        false
    }

    /// Live view: INVITE → 200 with an SDP answer, ACK and BYE noted (BYE answered 200).
    async fn dialog(&self, req: &Message, method: &str) {
        let cseq = req.header("CSeq").unwrap_or_default().to_string();
        match method {
            "INVITE" => {
                let subject = req.header("Subject").unwrap_or_default().to_string();
                let body = String::from_utf8_lossy(&req.body).to_string();
                self.note(|s| s.invites.push((subject, body)));
                if !self.config.answer_invites {
                    return;
                }
                let Ok(offer) = gb28181::sdp::Sdp::parse(&req.body) else {
                    let bad = Message::response_to(req, 488, "Not Acceptable Here", "d0");
                    let _ = self
                        .socket
                        .send_to(&bad.to_bytes(), self.config.platform)
                        .await;
                    return;
                };
                let ip = self.local.ip().to_string();
                // The port RTP would leave from; nothing is sent from it (no media here).
                let sdp = gb28181::sdp::answer(&offer, &self.config.channel_id, &ip, 15_060);
                let tag = format!("d{}", self.next());
                let ok = Message::response_to(req, 200, "OK", &tag)
                    .with(
                        "Contact",
                        format!("<sip:{}@{}>", self.config.channel_id, self.local),
                    )
                    .with_body("application/sdp", sdp.into_bytes());
                let delay = self.config.invite_answer_delay;
                if !delay.is_zero() {
                    // A camera that will take a while says so first (RFC 3261 §8.2.6.1).
                    let trying = Message::response_to(req, 100, "Trying", &tag);
                    let _ = self
                        .socket
                        .send_to(&trying.to_bytes(), self.config.platform)
                        .await;
                }
                if delay.is_zero() {
                    let _ = self
                        .socket
                        .send_to(&ok.to_bytes(), self.config.platform)
                        .await;
                } else {
                    // Late, and regardless of a CANCEL meanwhile: a 200 crossing the CANCEL,
                    // the case the platform must end with ACK + BYE.
                    let (socket, to) = (self.socket.clone(), self.config.platform);
                    tokio::spawn(async move {
                        tokio::time::sleep(delay).await;
                        let _ = socket.send_to(&ok.to_bytes(), to).await;
                    });
                }
            }
            "ACK" => self.note(|s| s.acks.push(cseq)),
            "CANCEL" => {
                self.note(|s| s.cancels.push(cseq));
                let ok = Message::response_to(req, 200, "OK", "d0");
                let _ = self
                    .socket
                    .send_to(&ok.to_bytes(), self.config.platform)
                    .await;
            }
            _ => {
                self.note(|s| s.byes.push(cseq));
                let ok = Message::response_to(req, 200, "OK", "d0");
                let _ = self
                    .socket
                    .send_to(&ok.to_bytes(), self.config.platform)
                    .await;
            }
        }
    }

    /// Answers a platform request: 200, then the MANSCDP response it asks for.
    async fn answer(&self, req: &Message) {
        if let Some(m @ ("INVITE" | "ACK" | "BYE" | "CANCEL")) = req.method() {
            return self.dialog(req, m).await;
        }
        let ok = Message::response_to(req, 200, "OK", &format!("d{}", self.next()));
        let _ = self
            .socket
            .send_to(&ok.to_bytes(), self.config.platform)
            .await;
        let Ok(body) = Body::parse(&req.body) else {
            return;
        };
        let c = &self.config;
        let reply = match body {
            Body::Query(q) => {
                self.note(|s| s.queries.push(q.cmd.clone()));
                if q.cmd == "DeviceInfo"
                    && self.device_info_ignored.load(Ordering::Relaxed) < c.ignore_device_info
                {
                    // As if the answer was lost on its way (the 200 above still went out).
                    self.device_info_ignored.fetch_add(1, Ordering::Relaxed);
                    return;
                }
                match q.cmd.as_str() {
                    "Catalog" => Body::Catalog(CatalogPage {
                        sn: q.sn,
                        device_id: c.device_id.clone(),
                        sum_num: 1,
                        items: vec![CatalogItem {
                            device_id: c.channel_id.clone(),
                            name: Some(c.name.clone()),
                            manufacturer: Some("SIM".into()),
                            model: Some("IPC-SIM".into()),
                            civil_code: Some(c.domain.chars().take(6).collect()),
                            parent_id: Some(c.device_id.clone()),
                            status: Some("ON".into()),
                            longitude: Some(c.lon),
                            latitude: Some(c.lat),
                            ..CatalogItem::default()
                        }],
                    }),
                    "DeviceInfo" => Body::DeviceInfo(DeviceInfo {
                        sn: q.sn,
                        device_id: c.device_id.clone(),
                        device_name: Some(c.name.clone()),
                        result: Some("OK".into()),
                        manufacturer: Some("SIM".into()),
                        model: Some("IPC-SIM".into()),
                        firmware: Some("sim-1.0".into()),
                        channels: Some(1),
                    }),
                    "DeviceStatus" => Body::DeviceStatus(DeviceStatus {
                        sn: q.sn,
                        device_id: c.device_id.clone(),
                        result: Some("OK".into()),
                        online: Some("ONLINE".into()),
                        status: Some("OK".into()),
                        encode: Some("ON".into()),
                        record: Some("OFF".into()),
                        // The camera keeps local time (Beijing, as the Hongfeng network).
                        device_time: Some(
                            chrono::Utc::now().naive_utc()
                                + chrono::Duration::hours(8)
                                + chrono::Duration::seconds(c.clock_offset_s),
                        ),
                    }),
                    _ => return,
                }
            }
            Body::Control(ctl) => {
                if matches!(ctl.cmd, gb28181::manscdp::ControlCmd::Guard { arm: true }) {
                    self.note(|s| s.armed = true);
                }
                if let gb28181::manscdp::ControlCmd::Snapshot {
                    upload_url,
                    session_id,
                    ..
                } = &ctl.cmd
                {
                    self.snapshot(upload_url, session_id).await;
                }
                Body::Ack(Ack {
                    cmd: "DeviceControl".into(),
                    sn: ctl.sn,
                    device_id: c.device_id.clone(),
                    ok: true,
                })
            }
            Body::Ack(a) if a.cmd == "Alarm" => {
                self.note(|s| s.alarm_acks += 1);
                return;
            }
            _ => return,
        };
        self.message(&reply).await;
    }

    /// Uploads a generated picture and reports it (2022 UploadSnapShotFinished).
    async fn snapshot(&self, url: &str, session: &str) {
        if !self.config.upload_snapshots {
            return;
        }
        let sent = reqwest::Client::new()
            .put(url)
            .header("content-type", "image/jpeg")
            .body(gray_jpeg(8, 6))
            .timeout(Duration::from_secs(10))
            .send()
            .await;
        if !sent.is_ok_and(|r| r.status().is_success()) {
            return;
        }
        self.note(|s| s.snapshots_uploaded += 1);
        let done = Body::SnapshotFinished(gb28181::manscdp::SnapshotFinished {
            sn: 0,
            device_id: self.config.channel_id.clone(),
            session_id: session.to_string(),
            snapshots: vec![format!("{session}-1")],
        });
        self.message(&done).await;
    }

    async fn run(self, mut commands: mpsc::Receiver<Alarm>) {
        let call_id = format!("reg-{}-{}", self.config.device_id, self.local.port());
        loop {
            if self.register(&call_id).await {
                break;
            }
            self.note(|s| s.register_failures += 1);
            tokio::time::sleep(RETRY).await;
        }
        let _ = self.registered.send(true);
        let mut sn: u32 = 0;
        let mut keepalive = tokio::time::interval(self.config.keepalive);
        let refresh_every = Duration::from_secs(u64::from(self.config.expires_s.max(2) / 2));
        let mut refresh =
            tokio::time::interval_at(tokio::time::Instant::now() + refresh_every, refresh_every);
        let mut buf = vec![0u8; 65_536];
        loop {
            tokio::select! {
                _ = keepalive.tick() => {
                    sn = sn.wrapping_add(1);
                    self.message(&Body::Keepalive(Keepalive {
                        sn,
                        device_id: self.config.device_id.clone(),
                        status: "OK".into(),
                        faulty: Vec::new(),
                    })).await;
                }
                _ = refresh.tick() => {
                    let _ = self.register(&call_id).await;
                }
                cmd = commands.recv() => {
                    let Some(mut alarm) = cmd else { return };
                    sn = sn.wrapping_add(1);
                    alarm.sn = sn;
                    alarm.device_id = self.config.channel_id.clone();
                    self.message(&Body::Alarm(alarm)).await;
                }
                got = self.socket.recv_from(&mut buf) => {
                    let Ok((n, _)) = got else { continue };
                    let Ok(m) = sip::parse_datagram(&buf[..n], Limits::default()) else { continue };
                    if m.method().is_some() {
                        self.answer(&m).await;
                    } else if m.status() == Some(403) {
                        // The platform forgot us (restart, expiry): register again.
                        let _ = self.register(&call_id).await;
                    }
                }
            }
        }
    }
}

/// An intrusion alarm (video alarm 5, type 6, entering the area).
pub fn intrusion_alarm(description: &str) -> Alarm {
    Alarm {
        sn: 0,
        device_id: String::new(),
        priority: Some(1),
        methods: vec![5],
        time: Some(chrono::Utc::now().naive_utc() + chrono::Duration::hours(8)),
        description: Some(description.to_string()),
        alarm_type: Some(6),
        event_type: Some(1),
        longitude: None,
        latitude: None,
    }
}

/// A valid baseline JPEG of `w × h` 8×8 blocks of mid grey, written from scratch: one
/// component, a quantisation table of ones, and Huffman tables of one code each (DC category 0,
/// AC end-of-block), so every block is the two bits `00`.
pub fn gray_jpeg(w_blocks: u16, h_blocks: u16) -> Vec<u8> {
    let (w, h) = (w_blocks * 8, h_blocks * 8);
    let mut j = vec![0xFF, 0xD8];
    // DQT: table 0, 8-bit, all ones.
    j.extend_from_slice(&[0xFF, 0xDB, 0x00, 0x43, 0x00]);
    j.extend_from_slice(&[1u8; 64]);
    // SOF0: 8-bit, h × w, one component (id 1, 1×1 sampling, table 0).
    j.extend_from_slice(&[0xFF, 0xC0, 0x00, 0x0B, 0x08]);
    j.extend_from_slice(&h.to_be_bytes());
    j.extend_from_slice(&w.to_be_bytes());
    j.extend_from_slice(&[0x01, 0x01, 0x11, 0x00]);
    // DHT: DC table 0 and AC table 0, each one code of length 1 for symbol 0.
    for class in [0x00u8, 0x10] {
        j.extend_from_slice(&[0xFF, 0xC4, 0x00, 0x14, class, 0x01]);
        j.extend_from_slice(&[0u8; 15]);
        j.push(0x00);
    }
    // SOS: one component, tables 0/0, full spectral range.
    j.extend_from_slice(&[0xFF, 0xDA, 0x00, 0x08, 0x01, 0x01, 0x00, 0x00, 0x3F, 0x00]);
    let bits = usize::from(w_blocks) * usize::from(h_blocks) * 2;
    let mut data = vec![0u8; bits.div_ceil(8)];
    // Pad the last byte with ones, as the standard asks.
    if bits % 8 != 0
        && let Some(last) = data.last_mut()
    {
        *last = 0xFF >> (bits % 8);
    }
    j.extend_from_slice(&data);
    j.extend_from_slice(&[0xFF, 0xD9]);
    j
}
