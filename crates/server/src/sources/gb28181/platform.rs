//! The platform side of GB/T 28181 for the configured video points: what to answer and what
//! to send for each SIP message, without sockets (the listener in `mod.rs` moves the bytes).
//!
//! `handle` takes one parsed message, where it came from and `now`; it returns the packets to
//! send (responses and platform requests, each addressed to a peer) and the alert verdicts it
//! produced. `sweep` finds online/offline transitions. The protocol rules live in the pure
//! `gb28181` crate; this file only keeps per-camera state.

use super::verdicts;
use alerts::rules::Verdict;
use chrono::{DateTime, Utc};
use gb28181::device::CatalogProgress;
use gb28181::manscdp::{
    Ack, AlarmClass, Body, CONTENT_TYPE, CatalogItem, Control, ControlCmd, DeviceInfo, Query,
};
use gb28181::{CatalogAssembler, Liveness, Message, Registration};
use std::collections::{BTreeMap, HashMap};
use std::hash::{BuildHasher, RandomState};
use std::net::SocketAddr;

/// Where a device is reached: its UDP address, or the TCP connection it registered on.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Peer {
    Udp(SocketAddr),
    Tcp { conn: u64, addr: SocketAddr },
}

impl Peer {
    pub fn addr(&self) -> SocketAddr {
        match self {
            Peer::Udp(a) | Peer::Tcp { addr: a, .. } => *a,
        }
    }

    pub(super) fn transport(&self) -> &'static str {
        match self {
            Peer::Udp(_) => "UDP",
            Peer::Tcp { .. } => "TCP",
        }
    }
}

/// A packet to send.
#[derive(Debug, Clone)]
pub struct Out {
    pub to: Peer,
    pub bytes: Vec<u8>,
}

/// The platform's settings (from `[gb28181]`).
#[derive(Debug, Clone)]
pub struct Settings {
    pub platform_id: String,
    pub domain: String,
    pub password: crate::config::Secret,
    pub device_passwords: BTreeMap<String, crate::config::Secret>,
    pub liveness: Liveness,
    pub min_expires_s: u32,
    pub max_expires_s: u32,
    pub nonce_ttl_s: i64,
    pub arm_on_register: bool,
    /// Local time offset for the `Date` header and camera clocks (the network's `utc_offset`).
    pub utc_offset_s: i32,
    /// Where cameras upload alarm snapshots (`…/api/v1/video/snapshots`); `None`: never asked.
    pub snapshot_base: Option<String>,
    /// An unanswered registration query is sent again after this long (seconds) …
    pub query_retry_s: u32,
    /// … at most this many times.
    pub query_retries: u32,
}

/// A configured camera (one video point).
#[derive(Debug, Clone)]
pub struct Camera {
    pub video_id: String,
    pub name_zh: String,
    pub name_en: String,
    pub zone: String,
    /// `protection_level1`, … (decides intrusion severity).
    pub zone_kind: String,
    pub zone_name_zh: String,
    pub zone_name_en: String,
    pub device_id: String,
    pub channel_id: String,
}

/// What the platform knows of one camera.
#[derive(Debug, Default, Clone)]
pub struct CameraState {
    pub registration: Registration,
    pub peer: Option<Peer>,
    /// Challenges issued and not yet spent (a few: a retransmitted REGISTER gets its own
    /// 401, and the device may answer either).
    pub nonces: Vec<(String, DateTime<Utc>)>,
    pub info: Option<DeviceInfo>,
    pub catalog: Vec<CatalogItem>,
    /// Camera clock minus platform clock, seconds (from DeviceStatus `DeviceTime`).
    pub clock_drift_s: Option<i64>,
    pub armed: bool,
    pub last_keepalive: Option<DateTime<Utc>>,
    pub last_alarm: Option<(DateTime<Utc>, &'static str)>,
    pub messages: u64,
    pub alarms: u64,
    pub rejects: BTreeMap<&'static str, u64>,
    /// The online state last reported as an alert transition (`None`: never decided).
    pub reported_online: Option<bool>,
    /// Registration queries not answered yet (queries.rs).
    pub pending: Vec<super::queries::PendingQuery>,
    /// Queries sent again to this camera.
    pub query_retries: u64,
}

/// Outstanding challenges kept per camera.
pub(super) const MAX_NONCES: usize = 4;

/// Why a message was refused; stable names for `/metrics` and the status board.
pub mod reason {
    pub const MALFORMED_SIP: &str = "malformed_sip";
    pub const OVERSIZED: &str = "oversized";
    pub const BAD_BODY: &str = "bad_body";
    pub const UNKNOWN_DEVICE: &str = "unknown_device";
    pub const BAD_PASSWORD: &str = "bad_password";
    pub const NOT_REGISTERED: &str = "not_registered";
    pub const NO_PASSWORD: &str = "no_password_configured";
    pub const MISSING_EXPIRES: &str = "missing_expires";
    pub const UNSUPPORTED_METHOD: &str = "unsupported_method";
}

pub struct Platform {
    pub settings: Settings,
    /// The address the listener is bound to (Via / Contact of platform requests).
    pub local: SocketAddr,
    pub cameras: Vec<Camera>,
    pub states: Vec<CameraState>,
    by_id: HashMap<String, usize>,
    catalogs: CatalogAssembler,
    sn: u32,
    seq: u64,
    nonce_key: RandomState,
    /// Live-view dialogs by Call-ID (play.rs).
    pub(super) dialogs: HashMap<String, super::play::Dialog>,
    /// INVITEs given up on, by Call-ID (cancel.rs).
    pub(super) cancelled: HashMap<String, super::cancel::Cancelled>,
    /// Sequence of the SSRCs handed out.
    pub(super) streams: u32,
    /// Rejects no camera can be blamed for.
    pub unattributed: BTreeMap<&'static str, u64>,
    pub registrations: u64,
    /// Queries sent again, all cameras (`qingshui_gb28181_query_retries_total`).
    pub query_retries: u64,
    pub started: DateTime<Utc>,
    pub snapshots: Option<std::sync::Arc<super::snapshots::SnapshotStore>>,
}

/// One sweep: alerts to raise and queries to send again.
#[derive(Debug, Default)]
pub struct Swept {
    pub verdicts: Vec<Verdict>,
    pub out: Vec<Out>,
}

/// One handled message: packets to send and alerts to raise.
#[derive(Debug, Default)]
pub struct Handled {
    pub out: Vec<Out>,
    pub verdicts: Vec<Verdict>,
    /// A reason when the message was refused (for the rate-limited log).
    pub rejected: Option<&'static str>,
    /// Answers to live-view INVITEs, for the play requests waiting on them.
    pub answers: Vec<super::play::InviteAnswer>,
    /// Dialogs the camera ended (BYE): their media server ports can be closed.
    pub ended: Vec<super::play::Dialog>,
    /// Abandoned INVITEs the camera answered 2xx anyway (ended with BYE at once).
    pub late: Vec<super::cancel::LateAnswer>,
}

impl Platform {
    pub fn new(
        settings: Settings,
        local: SocketAddr,
        cameras: Vec<Camera>,
        now: DateTime<Utc>,
    ) -> Self {
        let mut by_id = HashMap::new();
        for (i, c) in cameras.iter().enumerate() {
            by_id.insert(c.device_id.clone(), i);
            by_id.insert(c.channel_id.clone(), i);
        }
        Platform {
            settings,
            local,
            states: vec![CameraState::default(); cameras.len()],
            cameras,
            by_id,
            catalogs: CatalogAssembler::new(4096, chrono::Duration::seconds(60)),
            sn: 0,
            seq: 0,
            nonce_key: RandomState::new(),
            dialogs: HashMap::new(),
            cancelled: HashMap::new(),
            streams: 0,
            unattributed: BTreeMap::new(),
            registrations: 0,
            query_retries: 0,
            started: now,
            snapshots: None,
        }
    }

    pub fn camera_index(&self, id: &str) -> Option<usize> {
        self.by_id.get(id).copied()
    }

    /// True once the listener ran past one offline window: from then on a camera never heard
    /// from is offline, not unknown.
    pub fn past_first_window(&self, now: DateTime<Utc>) -> bool {
        let l = self.settings.liveness;
        let window = i64::from(l.interval_s.saturating_mul(l.count));
        now >= self.started + chrono::Duration::seconds(window)
    }

    pub fn is_online(&self, i: usize, now: DateTime<Utc>) -> bool {
        self.states[i]
            .registration
            .is_online(now, self.settings.liveness)
    }

    pub(super) fn reject(&mut self, camera: Option<usize>, why: &'static str) {
        match camera {
            Some(i) => *self.states[i].rejects.entry(why).or_default() += 1,
            None => *self.unattributed.entry(why).or_default() += 1,
        }
    }

    /// Counts a message that could not be parsed (dropped: nothing to answer with).
    pub fn unparsable(&mut self, why: &'static str) {
        self.reject(None, why);
    }

    pub(super) fn next_sn(&mut self) -> u32 {
        self.sn = self.sn.wrapping_add(1);
        self.sn
    }

    pub(super) fn token(&mut self, what: &str) -> String {
        self.seq += 1;
        // Unpredictable per process (RandomState keys), unique per call (the counter).
        let h = self.nonce_key.hash_one((what, self.seq));
        format!("{h:016x}{:08x}", self.seq)
    }

    /// A response to `req` whose Via names where it really came from (NAT).
    pub(super) fn response(
        &mut self,
        req: &Message,
        peer: Peer,
        status: u16,
        reason: &str,
    ) -> Message {
        let tag = self.token("tag");
        let mut r = Message::response_to(req, status, reason, &tag[..12]);
        if let Some(via) = req.header("Via") {
            let ip = peer.addr().ip().to_string();
            r.set(
                "Via",
                gb28181::sip::via_with_source(via, &ip, peer.addr().port()),
            );
        }
        r.with("User-Agent", "qingshui")
    }

    pub(super) fn respond(&mut self, req: &Message, peer: Peer, status: u16, reason: &str) -> Out {
        let bytes = self.response(req, peer, status, reason).to_bytes();
        Out { to: peer, bytes }
    }

    /// A MESSAGE from the platform to camera `i` carrying `body`.
    pub(super) fn request(&mut self, i: usize, body: &Body) -> Option<Out> {
        let peer = self.states[i].peer?;
        let device = self.cameras[i].device_id.clone();
        let domain = self.settings.domain.clone();
        let platform = self.settings.platform_id.clone();
        let branch = self.token("branch");
        let tag = self.token("ftag");
        let call = self.token("call");
        let m = Message::request("MESSAGE", &format!("sip:{device}@{domain}"))
            .with(
                "Via",
                format!(
                    "SIP/2.0/{} {};rport;branch=z9hG4bK{branch}",
                    peer.transport(),
                    self.local
                ),
            )
            .with(
                "From",
                format!("<sip:{platform}@{domain}>;tag={}", &tag[..12]),
            )
            .with("To", format!("<sip:{device}@{domain}>"))
            .with("Call-ID", format!("{call}@{}", self.local.ip()))
            .with("CSeq", "1 MESSAGE")
            .with("Max-Forwards", "70")
            .with("User-Agent", "qingshui")
            .with_body(CONTENT_TYPE, body.encode());
        Some(Out {
            to: peer,
            bytes: m.to_bytes(),
        })
    }

    pub(super) fn query(&mut self, i: usize, cmd: &str) -> Option<Out> {
        let sn = self.next_sn();
        let device_id = self.cameras[i].device_id.clone();
        self.request(
            i,
            &Body::Query(Query {
                cmd: cmd.into(),
                sn,
                device_id,
            }),
        )
    }

    /// Evidence for an intrusion: a snapshot session for its alert and the request that asks
    /// camera `i` to upload there (nothing without snapshot storage).
    fn ask_snapshot(&mut self, i: usize, verdict: &Verdict) -> Option<Out> {
        let (Some(store), Some(base), Verdict::Trigger(t)) = (
            self.snapshots.clone(),
            self.settings.snapshot_base.clone(),
            verdict,
        ) else {
            return None;
        };
        let session = store.issue(t.clone())?;
        self.snapshot_request(i, format!("{base}/{session}"), session)
    }

    /// The 2022 snapshot request for camera `i` (upload to `url`).
    pub fn snapshot_request(&mut self, i: usize, url: String, session_id: String) -> Option<Out> {
        let sn = self.next_sn();
        let device_id = self.cameras[i].channel_id.clone();
        let body = Body::Control(Control {
            sn,
            device_id,
            cmd: ControlCmd::Snapshot {
                count: 1,
                interval: 1,
                upload_url: url,
                session_id,
            },
        });
        self.request(i, &body)
    }

    pub fn handle(&mut self, msg: &Message, peer: Peer, now: DateTime<Utc>) -> Handled {
        let mut h = Handled::default();
        let Some(method) = msg.method().map(str::to_string) else {
            // Responses to INVITE drive live view; to our MESSAGEs they carry nothing (the
            // business answer comes as its own MESSAGE).
            self.on_response(msg, &mut h);
            return h;
        };
        if msg.call_id().is_err() || msg.cseq().is_err() {
            // No transaction to answer in.
            self.reject(None, reason::MALFORMED_SIP);
            h.rejected = Some(reason::MALFORMED_SIP);
            return h;
        }
        let from = msg.from_user().ok().map(str::to_string);
        let camera = from.as_deref().and_then(|u| self.camera_index(u));
        match method.as_str() {
            "REGISTER" => self.register(msg, peer, now, camera, &mut h),
            "MESSAGE" => self.message(msg, peer, now, camera, &mut h),
            "OPTIONS" => h.out.push(self.respond(msg, peer, 200, "OK")),
            "BYE" => self.on_bye(msg, peer, &mut h),
            // Cameras never INVITE the platform, so no ACK of theirs ends a transaction of ours.
            "ACK" => {}
            _ => {
                self.reject(camera, reason::UNSUPPORTED_METHOD);
                let r = self
                    .response(msg, peer, 405, "Method Not Allowed")
                    .with("Allow", "REGISTER, MESSAGE, OPTIONS, ACK, BYE");
                h.out.push(Out {
                    to: peer,
                    bytes: r.to_bytes(),
                });
            }
        }
        h
    }

    pub(super) fn refuse(
        &mut self,
        msg: &Message,
        peer: Peer,
        camera: Option<usize>,
        (status, text, why): (u16, &str, &'static str),
        h: &mut Handled,
    ) {
        self.reject(camera, why);
        h.rejected = Some(why);
        h.out.push(self.respond(msg, peer, status, text));
    }

    fn message(
        &mut self,
        msg: &Message,
        peer: Peer,
        now: DateTime<Utc>,
        camera: Option<usize>,
        h: &mut Handled,
    ) {
        let body = match Body::parse(&msg.body) {
            Ok(b) => b,
            Err(e) => {
                let text = format!("Bad Request ({e})");
                return self.refuse(msg, peer, camera, (400, &text, reason::BAD_BODY), h);
            }
        };
        // The body names the source (a channel, for alarms); From names the device.
        let camera = camera.or_else(|| self.camera_index(body_device(&body)));
        let Some(i) = camera else {
            return self.refuse(
                msg,
                peer,
                None,
                (403, "Forbidden (unknown device)", reason::UNKNOWN_DEVICE),
                h,
            );
        };
        if !self.states[i].registration.keepalive(now) {
            return self.refuse(
                msg,
                peer,
                camera,
                (403, "Forbidden (not registered)", reason::NOT_REGISTERED),
                h,
            );
        }
        let st = &mut self.states[i];
        st.messages += 1;
        // Devices behind NAT move: the latest packet's source is where they are now.
        st.peer = Some(peer);
        h.out.push(self.respond(msg, peer, 200, "OK"));
        match body {
            Body::Keepalive(_) => self.states[i].last_keepalive = Some(now),
            Body::Catalog(page) => {
                if let CatalogProgress::Complete(items) = self.catalogs.feed(now, page) {
                    self.states[i].catalog = items;
                    self.answered(i, "Catalog");
                }
            }
            Body::DeviceInfo(info) => {
                self.states[i].info = Some(info);
                self.answered(i, "DeviceInfo");
            }
            Body::DeviceStatus(s) => {
                self.answered(i, "DeviceStatus");
                if let Some(t) = s.device_time {
                    let local = now.naive_utc()
                        + chrono::Duration::seconds(i64::from(self.settings.utc_offset_s));
                    self.states[i].clock_drift_s = Some((t - local).num_seconds());
                }
            }
            Body::Ack(a) if a.cmd.eq_ignore_ascii_case("DeviceControl") => {
                self.states[i].armed = a.ok;
            }
            Body::Alarm(a) => {
                let st = &mut self.states[i];
                st.alarms += 1;
                st.last_alarm = Some((now, a.type_label()));
                // The standard's answer: a Response MESSAGE with the alarm's SN.
                let ack = Body::Ack(Ack {
                    cmd: "Alarm".into(),
                    sn: a.sn,
                    device_id: a.device_id.clone(),
                    ok: true,
                });
                h.out.extend(self.request(i, &ack));
                if a.class() != AlarmClass::Other {
                    let verdict = verdicts::alarm(&self.cameras[i], &a, now);
                    if a.class() == AlarmClass::Intrusion {
                        h.out.extend(self.ask_snapshot(i, &verdict));
                    }
                    h.verdicts.push(verdict);
                }
            }
            _ => {}
        }
        h.verdicts.extend(self.transition(i, now));
    }

    /// An alert verdict when camera `i`'s online state changed since last reported.
    pub(super) fn transition(&mut self, i: usize, now: DateTime<Utc>) -> Option<Verdict> {
        let online = self.is_online(i, now);
        let st = &mut self.states[i];
        let before = st.reported_online;
        st.reported_online = Some(online);
        match (before, online) {
            // Offline: only after it was seen online (a camera never heard of is offline on the
            // board, but does not raise one alert per camera at start-up).
            (Some(true), false) => Some(verdicts::offline(&self.cameras[i], st, now)),
            (Some(false), true) => Some(verdicts::back_online(&self.cameras[i])),
            _ => None,
        }
    }

    /// Online/offline transitions since the last sweep, and the unanswered queries due again.
    pub fn sweep(&mut self, now: DateTime<Utc>) -> Swept {
        let verdicts = (0..self.cameras.len())
            .filter_map(|i| self.transition(i, now))
            .collect();
        self.prune_abandoned(now);
        Swept {
            verdicts,
            out: self.retry_queries(now),
        }
    }
}

fn body_device(b: &Body) -> &str {
    match b {
        Body::Keepalive(x) => &x.device_id,
        Body::Query(x) => &x.device_id,
        Body::Catalog(x) => &x.device_id,
        Body::DeviceInfo(x) => &x.device_id,
        Body::DeviceStatus(x) => &x.device_id,
        Body::Alarm(x) => &x.device_id,
        Body::Control(x) => &x.device_id,
        Body::Ack(x) => &x.device_id,
        Body::SnapshotFinished(x) => &x.device_id,
        Body::Other { device_id, .. } => device_id,
    }
}
