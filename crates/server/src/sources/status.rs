//! The one status shape every source reports through: per device (id, name, online / last
//! seen, counters, rejects by reason) and per source (rejects no device can be blamed for,
//! its own metric lines). `/api/v1/stations`, `/metrics` and the dashboard read only this.

use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::BTreeMap;
use std::sync::Arc;

/// One device's status as `/api/v1/stations` serves it, whatever the source.
#[derive(Debug, Clone, Serialize)]
pub struct DeviceStatus {
    /// The station (device) code of the network file.
    pub station: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub name: Option<String>,
    /// The source that reaches the device (`hj212`, …).
    pub source: &'static str,
    /// `online` when a valid frame arrived within the source's offline delay, else `offline`.
    pub status: &'static str,
    pub connected: bool,
    pub last_frame_at: Option<String>,
    /// The same instant in µs, for `/metrics`.
    #[serde(skip)]
    pub last_frame_micros: Option<i64>,
    pub frames_received: u64,
    pub values_received: u64,
    /// Frames not stored, by reason (stable snake_case names).
    pub frames_rejected: BTreeMap<&'static str, u64>,
    /// Fields only this protocol has (HJ 212: `mn`, `auth_failures`, `auth_lockout`), served
    /// beside the common ones.
    #[serde(flatten)]
    pub details: Map<String, Value>,
}

impl DeviceStatus {
    pub fn online(&self) -> bool {
        self.status == "online"
    }
}

/// What a running source shows of itself. Reads must be cheap: `/metrics` and
/// `/api/v1/stations` call them on every request.
pub trait SourceStatus: Send + Sync {
    /// The source's name, as in [`super::Source::name`].
    fn source(&self) -> &'static str;
    /// Every device the source knows, reached or not.
    fn devices(&self, now_micros: i64) -> Vec<DeviceStatus>;
    /// Rejects that cannot be attributed to a known device, by reason.
    fn unattributed_rejects(&self) -> BTreeMap<&'static str, u64>;
    /// Metric lines only this source has (HJ 212 keeps its historic `qingshui_hj212_*` names).
    fn render_metrics(&self, _out: &mut String, _now_micros: i64) {}
}

/// The status of every started source, in start order.
#[derive(Default, Clone)]
pub struct SourceBoard {
    sources: Vec<Arc<dyn SourceStatus>>,
}

impl SourceBoard {
    pub fn new(sources: Vec<Arc<dyn SourceStatus>>) -> SourceBoard {
        SourceBoard { sources }
    }

    pub fn sources(&self) -> &[Arc<dyn SourceStatus>] {
        &self.sources
    }

    /// The devices of every source.
    pub fn devices(&self, now_micros: i64) -> Vec<DeviceStatus> {
        self.sources
            .iter()
            .flat_map(|s| s.devices(now_micros))
            .collect()
    }

    /// Unattributed rejects of every source, summed by reason.
    pub fn unattributed_rejects(&self) -> BTreeMap<&'static str, u64> {
        let mut all = BTreeMap::new();
        for source in &self.sources {
            for (reason, n) in source.unattributed_rejects() {
                *all.entry(reason).or_default() += n;
            }
        }
        all
    }
}
