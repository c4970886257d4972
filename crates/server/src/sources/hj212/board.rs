//! Station status for HJ 212 ingestion: online/offline, last frame, counters, rejects by reason.
//! The listener writes it; `/api/v1/stations` and `/metrics` read it through
//! [`SourceStatus`], the shape every source shares.

use crate::network::StationRegistry;
use crate::sources::status::{DeviceStatus, SourceStatus};
use serde::Serialize;
use serde_json::{Value, json};
use std::collections::BTreeMap;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU64, Ordering};

/// Why a frame was not stored and answered. Stable snake_case names (API and metric labels).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum RejectReason {
    /// The CRC did not match the data segment.
    BadCrc,
    /// Length field, line end or size wrong: the frame could not be delimited.
    BadFraming,
    /// The data segment (header or CP) did not parse, or was not UTF-8.
    MalformedSegment,
    /// The MN is not in the network configuration.
    UnknownMn,
    /// The PW does not match the station's.
    WrongPassword,
    /// A measurement upload without a usable DataTime (or dated before 1900).
    BadDataTime,
    /// A value time later than now + `[ingest] clock_tolerance_s` (or after 2200): the station's
    /// clock is wrong; it is sent a 1012 set-time request.
    FutureTime,
    /// Ignored while the source IP is in password backoff or the (MN, IP) pair is locked.
    AuthThrottled,
    /// The store refused or failed the write (no answer, so the station resends).
    StoreFailed,
}

impl RejectReason {
    pub const ALL: [RejectReason; 9] = [
        RejectReason::BadCrc,
        RejectReason::BadFraming,
        RejectReason::MalformedSegment,
        RejectReason::UnknownMn,
        RejectReason::WrongPassword,
        RejectReason::BadDataTime,
        RejectReason::FutureTime,
        RejectReason::AuthThrottled,
        RejectReason::StoreFailed,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            RejectReason::BadCrc => "bad_crc",
            RejectReason::BadFraming => "bad_framing",
            RejectReason::MalformedSegment => "malformed_segment",
            RejectReason::UnknownMn => "unknown_mn",
            RejectReason::WrongPassword => "wrong_password",
            RejectReason::BadDataTime => "bad_data_time",
            RejectReason::FutureTime => "future_time",
            RejectReason::AuthThrottled => "auth_throttled",
            RejectReason::StoreFailed => "store_failed",
        }
    }

    /// The reason for a decoder error.
    pub fn of(error: &hj212::Hj212Error) -> RejectReason {
        use hj212::Hj212Error as E;
        match error {
            E::CrcMismatch { .. } | E::BadCrcField(_) => RejectReason::BadCrc,
            E::BadLengthField(_)
            | E::ShortLengthField(_)
            | E::LengthMismatch { .. }
            | E::Truncated { .. }
            | E::MissingLineEnd
            | E::SegmentTooLong { .. } => RejectReason::BadFraming,
            E::BadTime { .. } => RejectReason::BadDataTime,
            _ => RejectReason::MalformedSegment,
        }
    }
}

#[derive(Debug, Default)]
struct StationState {
    last_frame_micros: Option<i64>,
    frames: u64,
    values: u64,
    open_connections: u64,
    rejects: BTreeMap<RejectReason, u64>,
    /// Unknown-credential failures for this MN, from any address.
    auth_failures: u64,
    /// The latest lockout of this MN from one address: (peer IP, locked until, µs).
    lockout: Option<(String, i64)>,
}

/// A possible password-guessing attack on a station, as `/api/v1/stations` shows it.
#[derive(Debug, Clone, Serialize)]
pub struct LockoutView {
    /// The address the guesses came from; frames for this MN from it are ignored until `until`.
    pub peer: String,
    pub until: String,
    /// True while the lockout lasts.
    pub active: bool,
}

/// One station's HJ 212 status; `/api/v1/stations` serves it as a [`DeviceStatus`] whose
/// details are `mn`, `auth_failures` and `auth_lockout`.
#[derive(Debug, Clone, Serialize)]
pub struct StationStatus {
    pub station: String,
    pub mn: String,
    /// `online` when a valid frame arrived within `offline_after_s`, else `offline`.
    pub status: &'static str,
    #[serde(skip)]
    pub last_frame_micros: Option<i64>,
    pub connected: bool,
    pub last_frame_at: Option<String>,
    pub frames_received: u64,
    pub values_received: u64,
    pub frames_rejected: BTreeMap<&'static str, u64>,
    /// Wrong-PW frames for this station's MN, from any address (a possible attack when high).
    pub auth_failures: u64,
    /// The latest lockout (possible password guessing), when there was one.
    pub auth_lockout: Option<LockoutView>,
}

/// Status of every registered station plus listener-wide counters.
#[derive(Debug, Default)]
pub struct StationBoard {
    stations: Vec<(String, String, Mutex<StationState>)>,
    offline_after_micros: i64,
    /// Rejects that cannot be attributed to a registered station (unknown or unreadable MN).
    unattributed: Mutex<BTreeMap<RejectReason, u64>>,
    pub connections_total: AtomicU64,
    pub connections_open: AtomicU64,
    pub answers_total: AtomicU64,
    /// Values dropped because the station does not measure the factor (no datastream).
    pub values_unmapped: AtomicU64,
    /// Frames refused for their credentials (unknown MN or wrong PW), judged.
    pub auth_failures_total: AtomicU64,
    /// Frames ignored because their IP was in backoff or their (MN, IP) pair locked.
    pub auth_ignored_total: AtomicU64,
    /// (MN, IP) lockouts begun.
    pub auth_lockouts_total: AtomicU64,
    /// Connections closed at accept: over `max_connections` / over `max_connections_per_ip`.
    pub refused_total: AtomicU64,
    pub refused_per_ip: AtomicU64,
    /// Connections closed by a timeout: idle, partial frame, no valid first frame.
    pub closed_idle: AtomicU64,
    pub closed_partial_frame: AtomicU64,
    pub closed_first_frame: AtomicU64,
    /// 1012 set-time requests sent to stations with a clock in the future.
    pub set_time_sent: AtomicU64,
    /// Rejection log lines written, and rejections left out of the log (summed up instead).
    pub reject_log_lines: AtomicU64,
    pub reject_log_suppressed: AtomicU64,
}

impl StationBoard {
    pub fn new(registry: &StationRegistry, offline_after_s: u64) -> StationBoard {
        StationBoard {
            stations: registry
                .stations()
                .iter()
                .map(|s| {
                    (
                        s.code.clone(),
                        s.mn.clone(),
                        Mutex::new(StationState::default()),
                    )
                })
                .collect(),
            offline_after_micros: i64::try_from(offline_after_s.saturating_mul(1_000_000))
                .unwrap_or(i64::MAX),
            ..StationBoard::default()
        }
    }

    fn with(&self, index: usize, f: impl FnOnce(&mut StationState)) {
        if let Some((_, _, state)) = self.stations.get(index)
            && let Ok(mut s) = state.lock()
        {
            f(&mut s);
        }
    }

    /// A valid, authenticated frame arrived from the station.
    pub fn frame(&self, index: usize, values: u64, now_micros: i64) {
        self.with(index, |s| {
            s.frames += 1;
            s.values += values;
            s.last_frame_micros = Some(now_micros);
        });
    }

    /// A frame was rejected; `station` when it can be attributed to a registered station.
    pub fn reject(&self, station: Option<usize>, reason: RejectReason) {
        match station {
            Some(index) => self.with(index, |s| *s.rejects.entry(reason).or_default() += 1),
            None => {
                if let Ok(mut m) = self.unattributed.lock() {
                    *m.entry(reason).or_default() += 1;
                }
            }
        }
    }

    /// A frame for the station failed its credentials (counted per MN, whatever the address).
    pub fn auth_failure(&self, index: usize) {
        self.with(index, |s| s.auth_failures += 1);
    }

    /// Frames for the station from `peer` are locked out until `until_micros`.
    pub fn lockout(&self, index: usize, peer: String, until_micros: i64) {
        self.with(index, |s| s.lockout = Some((peer, until_micros)));
    }

    /// A connection started (`+1`) or stopped (`-1`) carrying frames of the station.
    pub fn connection(&self, index: usize, opened: bool) {
        self.with(index, |s| {
            s.open_connections = if opened {
                s.open_connections + 1
            } else {
                s.open_connections.saturating_sub(1)
            };
        });
    }

    pub fn snapshot(&self, now_micros: i64) -> Vec<StationStatus> {
        self.stations
            .iter()
            .filter_map(|(code, mn, state)| {
                let s = state.lock().ok()?;
                let online = s
                    .last_frame_micros
                    .is_some_and(|t| now_micros.saturating_sub(t) < self.offline_after_micros);
                Some(StationStatus {
                    station: code.clone(),
                    mn: mn.clone(),
                    status: if online { "online" } else { "offline" },
                    connected: s.open_connections > 0,
                    last_frame_at: s.last_frame_micros.map(sta::time::format_instant),
                    last_frame_micros: s.last_frame_micros,
                    frames_received: s.frames,
                    values_received: s.values,
                    frames_rejected: s.rejects.iter().map(|(r, n)| (r.as_str(), *n)).collect(),
                    auth_failures: s.auth_failures,
                    auth_lockout: s.lockout.as_ref().map(|(peer, until)| LockoutView {
                        peer: peer.clone(),
                        until: sta::time::format_instant(*until),
                        active: now_micros < *until,
                    }),
                })
            })
            .collect()
    }

    pub fn unattributed_rejects(&self) -> BTreeMap<&'static str, u64> {
        self.unattributed
            .lock()
            .map(|m| m.iter().map(|(r, n)| (r.as_str(), *n)).collect())
            .unwrap_or_default()
    }

    pub fn is_empty(&self) -> bool {
        self.stations.is_empty()
    }

    pub fn load(counter: &AtomicU64) -> u64 {
        counter.load(Ordering::Relaxed)
    }
}

impl StationStatus {
    fn into_device(self) -> DeviceStatus {
        let mut details = serde_json::Map::new();
        details.insert("mn".into(), Value::String(self.mn));
        details.insert("auth_failures".into(), json!(self.auth_failures));
        details.insert("auth_lockout".into(), json!(self.auth_lockout));
        DeviceStatus {
            station: self.station,
            name: None,
            source: "hj212",
            status: self.status,
            connected: self.connected,
            last_frame_at: self.last_frame_at,
            last_frame_micros: self.last_frame_micros,
            frames_received: self.frames_received,
            values_received: self.values_received,
            frames_rejected: self.frames_rejected,
            details,
        }
    }
}

impl SourceStatus for StationBoard {
    fn source(&self) -> &'static str {
        "hj212"
    }

    fn devices(&self, now_micros: i64) -> Vec<DeviceStatus> {
        self.snapshot(now_micros)
            .into_iter()
            .map(StationStatus::into_device)
            .collect()
    }

    fn unattributed_rejects(&self) -> BTreeMap<&'static str, u64> {
        StationBoard::unattributed_rejects(self)
    }

    fn render_metrics(&self, out: &mut String, now_micros: i64) {
        self.render_hj212_lines(out, now_micros);
    }
}
