//! The file format, as serde sees it: one struct per TOML table, with spans on every value that
//! validation may complain about. Also serialised back to TOML by [`crate::Network::to_toml`].

use crate::model::{RiverRole, SimHints, StationKind, VideoKind, ZoneKind};
use serde::{Deserialize, Serialize};
use toml::Spanned;

/// One polygon ring as written: positions are checked to be `[lon, lat]` pairs after parsing
/// (serde would silently ignore a third number in a fixed-size array).
pub(crate) type Ring = Vec<Vec<f64>>;

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawFile {
    pub schema_version: Spanned<i64>,
    pub network: RawNetwork,
    pub cadence: RawCadence,
    #[serde(default)]
    pub basins: Vec<RawBasin>,
    pub parameters: Vec<RawParameter>,
    pub stations: Vec<RawStation>,
    #[serde(default)]
    pub zones: Vec<RawZone>,
    #[serde(default)]
    pub video_points: Vec<RawVideoPoint>,
    /// Devices that publish their own JSON over MQTT (docs/mqtt.md, "Device mapping").
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub mqtt_devices: Vec<RawMqttDevice>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawMqttDevice {
    /// `farm/{station}/telemetry`: `/`-separated; at most one `{name}` segment, bound to a
    /// station code.
    pub topic: Spanned<String>,
    /// The station, when the topic has no `{…}` segment.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub station: Option<Spanned<String>>,
    /// JSON pointer to the value time (RFC 3339 text or Unix seconds); absent: time of receipt.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub time: Option<Spanned<String>>,
    /// Parameter code → JSON pointer into the payload.
    pub values: Spanned<std::collections::BTreeMap<String, String>>,
}

fn default_crs() -> String {
    "EPSG:4326".to_owned()
}
fn default_utc_offset() -> String {
    "+08:00".to_owned()
}
fn default_st() -> String {
    "21".to_owned()
}
fn default_definition_base() -> String {
    "urn:qingshui:parameter:".to_owned()
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawNetwork {
    pub id: Spanned<String>,
    pub name_zh: String,
    pub name_en: String,
    #[serde(default)]
    pub schematic: bool,
    #[serde(default = "default_crs")]
    pub crs: String,
    #[serde(default = "default_utc_offset")]
    pub utc_offset: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bbox: Option<Spanned<Vec<f64>>>,
    #[serde(default = "default_definition_base")]
    pub definition_base: String,
    #[serde(default)]
    pub intake_in_basin_means: bool,
    #[serde(default = "default_st")]
    pub hj212_st: String,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawCadence {
    pub realtime_interval_s: Spanned<i64>,
    pub analyser_cycle_hours: Spanned<Vec<i64>>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawBasin {
    pub id: Spanned<String>,
    pub name_zh: String,
    pub name_en: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawParameter {
    pub code: Spanned<String>,
    pub hj212: Spanned<String>,
    pub name_zh: String,
    pub name_en: String,
    pub unit: String,
    pub unit_name: String,
    pub ucum: String,
    pub decimals: Spanned<i64>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawStation {
    pub code: Spanned<String>,
    pub name_zh: String,
    pub name_en: String,
    pub kind: StationKind,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub role: Option<Spanned<RiverRole>>,
    pub basin: Spanned<String>,
    pub target_class: Spanned<String>,
    pub lon: Spanned<f64>,
    pub lat: Spanned<f64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub depth_m: Option<Spanned<f64>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub mn: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pw: Option<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub st: Option<Spanned<String>>,
    /// `[[stations.links]]`; `mn`/`pw`/`st` above are the short form of one HJ 212 link, the
    /// form [`crate::Network::to_toml`] writes (so links are read, never written).
    #[serde(default, skip_serializing)]
    pub links: Vec<Spanned<RawLink>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub realtime_interval_s: Option<Spanned<i64>>,
    #[serde(default)]
    pub probes: Vec<Spanned<String>>,
    #[serde(default)]
    pub analysers: Vec<Spanned<String>>,
    #[serde(default)]
    pub manual: Vec<Spanned<String>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sim: Option<Spanned<SimHints>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// One `[[stations.links]]` table: `protocol` and the fields of every protocol; each protocol
/// takes its own (HJ 212: `mn`, `pw`, optional `st`).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawLink {
    pub protocol: Spanned<String>,
    pub mn: Option<Spanned<String>>,
    pub pw: Option<Spanned<String>>,
    pub st: Option<Spanned<String>>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawZone {
    pub id: Spanned<String>,
    pub name_zh: String,
    pub name_en: String,
    pub kind: ZoneKind,
    #[serde(default)]
    pub schematic: bool,
    pub polygon: Spanned<Vec<Ring>>,
}

#[derive(Debug, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub(crate) struct RawVideoPoint {
    pub id: Spanned<String>,
    pub name_zh: String,
    pub name_en: String,
    pub kind: VideoKind,
    pub zone: Spanned<String>,
    pub lon: Spanned<f64>,
    pub lat: Spanned<f64>,
    /// GB/T 28181 device ID (20 digits); absent: the point is not connected.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub device_id: Option<Spanned<String>>,
    /// GB/T 28181 channel ID when it differs from the device ID (an NVR channel).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel_id: Option<Spanned<String>>,
}
