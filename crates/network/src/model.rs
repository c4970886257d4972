//! The validated network model handed to the rest of qingshui.
//!
//! Every entity has a stable identifier (station `code`, basin/zone/video-point `id`, parameter
//! `code`) so that loaders can upsert idempotently. Coordinates are WGS 84 (EPSG:4326) and every
//! position and polygon uses GeoJSON order `[lon, lat]`.

use serde::{Deserialize, Serialize};
use std::fmt;

/// A whole monitoring network, as read from one network file.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Network {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    /// True when coordinates are schematic (not surveyed); the UI must say so.
    pub schematic: bool,
    pub crs: String,
    /// Local time of the stations, e.g. `+08:00` (HJ 212 data times are Beijing time).
    pub utc_offset: String,
    /// Every coordinate in the file lies inside this box.
    pub bbox: Option<BBox>,
    /// Prefix of each ObservedProperty definition URI; the parameter code is appended.
    pub definition_base: String,
    /// Whether the intake counts in basin and whole-lake means (hongfeng.md §3.1; default false).
    pub intake_in_basin_means: bool,
    pub cadence: Cadence,
    /// HJ 212 system code (ST) used when a station does not set its own.
    pub hj212_st: String,
    pub basins: Vec<Basin>,
    pub parameters: Vec<Parameter>,
    pub stations: Vec<Station>,
    pub zones: Vec<Zone>,
    pub video_points: Vec<VideoPoint>,
    /// Devices publishing their own JSON over MQTT, mapped to the stations' datastreams.
    pub mqtt_devices: Vec<MqttDevice>,
}

/// `[[mqtt_devices]]`: a topic pattern whose JSON payloads carry values of station parameters.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct MqttDevice {
    /// `/`-separated segments; at most one is `{name}`, bound to a station code.
    pub topic: String,
    /// The station of a pattern without a `{…}` segment.
    pub station: Option<String>,
    /// JSON pointer to the value time; `None`: the time of receipt.
    pub time: Option<String>,
    /// (parameter code, JSON pointer), ordered by parameter code.
    pub values: Vec<(String, String)>,
}

impl MqttDevice {
    /// The station a topic names under this pattern, or `None` when it does not match.
    pub fn station_for(&self, topic: &str) -> Option<String> {
        let mut bound = self.station.clone();
        let mut pattern = self.topic.split('/');
        let mut actual = topic.split('/');
        loop {
            match (pattern.next(), actual.next()) {
                (None, None) => return bound,
                (Some(p), Some(a)) if p.starts_with('{') && p.ends_with('}') => {
                    if a.is_empty() {
                        return None;
                    }
                    bound = Some(a.to_string());
                }
                (Some(p), Some(a)) if p == a => {}
                _ => return None,
            }
        }
    }
}

/// `[lon_min, lat_min, lon_max, lat_max]`, as in GeoJSON.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct BBox {
    pub lon_min: f64,
    pub lat_min: f64,
    pub lon_max: f64,
    pub lat_max: f64,
}

impl BBox {
    pub fn contains(&self, p: Position) -> bool {
        (self.lon_min..=self.lon_max).contains(&p.lon)
            && (self.lat_min..=self.lat_max).contains(&p.lat)
    }
}

/// How often stations report (network defaults; a station may override the real-time interval).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Cadence {
    /// Seconds between HJ 212 real-time (2011) frames from probes.
    pub realtime_interval_s: u32,
    /// Local hours at which analysers finish a cycle (HJ 915: every 4 h at 00, 04, …, 20).
    pub analyser_cycle_hours: Vec<u8>,
}

/// A WGS 84 position.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Position {
    pub lon: f64,
    pub lat: f64,
}

/// An evaluation sub-area of the lake.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Basin {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub note: Option<String>,
}

/// One entry of the file's parameter catalogue.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Parameter {
    /// Stable lowercase code (`tp`, `nh3_n`, …), one of `wq`'s catalogue codes.
    pub code: String,
    /// HJ 212-2017 factor code (`w21011`, …).
    pub hj212: String,
    pub name_zh: String,
    pub name_en: String,
    /// Unit symbol as displayed (`mg/L`, `℃`, …).
    pub unit: String,
    pub unit_name: String,
    /// UCUM code of the unit (`mg/L`, `Cel`, …), used for the SensorThings unit definition.
    pub ucum: String,
    /// Decimals of hourly data (water-quality.md §11).
    pub decimals: u8,
}

/// Which evaluation rules a station follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StationKind {
    /// River micro-station (inflow or outflow): river rules, river TP column, TN not classified.
    River,
    /// In-lake point: lake rules, lake TP column, TN on a separate line, TLI.
    Lake,
    /// Drinking-water intake: lake rules plus GB 3838 Tables 2 and 3.
    Intake,
}

impl StationKind {
    pub fn as_str(self) -> &'static str {
        match self {
            StationKind::River => "river",
            StationKind::Lake => "lake",
            StationKind::Intake => "intake",
        }
    }

    /// The water-body type for evaluation (`river` or `lake`).
    pub fn water_type(self) -> &'static str {
        match self {
            StationKind::River => "river",
            StationKind::Lake | StationKind::Intake => "lake",
        }
    }
}

/// Whether a river station measures water entering or leaving the lake.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum RiverRole {
    Inflow,
    Outflow,
}

/// GB 3838-2002 functional class a station is held to (Ⅰ–Ⅴ; 劣Ⅴ is never a target).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
pub enum TargetClass {
    I,
    II,
    III,
    IV,
    V,
}

impl TargetClass {
    /// Accepts `I`…`V` and the Unicode numerals `Ⅰ`…`Ⅴ`.
    pub fn parse(text: &str) -> Option<TargetClass> {
        Some(match text {
            "I" | "Ⅰ" => TargetClass::I,
            "II" | "Ⅱ" => TargetClass::II,
            "III" | "Ⅲ" => TargetClass::III,
            "IV" | "Ⅳ" => TargetClass::IV,
            "V" | "Ⅴ" => TargetClass::V,
            _ => return None,
        })
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TargetClass::I => "I",
            TargetClass::II => "II",
            TargetClass::III => "III",
            TargetClass::IV => "IV",
            TargetClass::V => "V",
        }
    }

    /// 1 for Ⅰ … 5 for Ⅴ.
    pub fn number(self) -> u8 {
        self as u8 + 1
    }
}

impl fmt::Display for TargetClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How a parameter is measured at a station, which decides its data kinds and cadence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Method {
    /// In-situ probe: HJ 212 real-time (2011) every `realtime_interval_s`, plus hourly (2061).
    Probe,
    /// Wet-chemistry analyser: one result per cycle, sent as hourly (2061) data at cycle hours.
    Analyser,
    /// Sampled by hand and entered (monthly); never sent over HJ 212.
    Manual,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Probe => "probe",
            Method::Analyser => "analyser",
            Method::Manual => "manual",
        }
    }
}

/// One parameter measured at one station.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct StationParameter {
    pub code: String,
    pub method: Method,
}

/// The HJ 212 identity of an automatic station.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Hj212Link {
    pub mn: String,
    pub pw: String,
    pub st: String,
}

/// How one source reaches a device: a protocol and that protocol's identity of it. A station
/// has at most one link per protocol.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "protocol", rename_all = "snake_case")]
pub enum DeviceLink {
    Hj212(Hj212Link),
}

impl DeviceLink {
    /// The `protocol` name of the network file.
    pub fn protocol(&self) -> &'static str {
        match self {
            DeviceLink::Hj212(_) => "hj212",
        }
    }
}

/// Simulator hints of a station (see docs/network.md); all optional in the file.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, Default)]
#[serde(deny_unknown_fields)]
pub struct SimHints {
    /// Storm response 0–1: for rivers the runoff response (R01 = 1); for lake points the response
    /// to storms on the main inflow 1–3 days later (L07 strongest).
    #[serde(default)]
    pub storm: f64,
    /// Algal-bloom response 0–1 (the sheltered south-lake bay L06 = 1).
    #[serde(default)]
    pub bloom: f64,
    /// 0–1: how much steadier than its basin the station is (intake and dam point).
    #[serde(default)]
    pub stability: f64,
    #[serde(default)]
    pub variant: SimVariant,
}

/// Special behaviour of a station in the simulator.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum SimVariant {
    #[default]
    Standard,
    /// Town-influenced river: higher NH3-N, lower DO (R09).
    Town,
    /// Outflow drawing deep water: colder, less DO, more NH3-N in summer (R10).
    DeepOutflow,
}

/// A monitoring station (a SensorThings Thing).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Station {
    /// Stable code, e.g. `R01`, `L03`, `W01`.
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub kind: StationKind,
    /// Inflow or outflow, for river stations.
    pub role: Option<RiverRole>,
    pub basin: String,
    pub target_class: TargetClass,
    pub position: Position,
    /// Sampling depth below the surface, metres.
    pub depth_m: Option<f64>,
    /// The protocol links that reach the station (HJ 212 for stations that send data).
    pub links: Vec<DeviceLink>,
    /// Real-time interval of this station's probes, seconds.
    pub realtime_interval_s: u32,
    pub parameters: Vec<StationParameter>,
    pub sim: SimHints,
    pub note: Option<String>,
}

impl Station {
    /// True for an intake (GB 3838 Tables 2 and 3 apply).
    pub fn is_drinking_water_source(&self) -> bool {
        self.kind == StationKind::Intake
    }

    pub fn parameter(&self, code: &str) -> Option<&StationParameter> {
        self.parameters.iter().find(|p| p.code == code)
    }

    /// The station's HJ 212 link, when it sends HJ 212 data.
    // `find_map` stays right once a second protocol makes the match refutable.
    #[allow(clippy::unnecessary_find_map)]
    pub fn hj212(&self) -> Option<&Hj212Link> {
        self.links.iter().find_map(|l| match l {
            DeviceLink::Hj212(h) => Some(h),
        })
    }

    /// Replaces the station's HJ 212 link (or adds it), keeping its other links.
    pub fn set_hj212(&mut self, link: Hj212Link) {
        self.links.retain(|l| !matches!(l, DeviceLink::Hj212(_)));
        self.links.push(DeviceLink::Hj212(link));
    }
}

/// What a zone polygon stands for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ZoneKind {
    /// The water surface of the lake.
    LakeOutline,
    /// First-level (一级) drinking-water protection zone.
    ProtectionLevel1,
    /// Second-level (二级) drinking-water protection zone.
    ProtectionLevel2,
    /// A shore area watched by video points.
    ShoreWatch,
}

impl ZoneKind {
    pub fn as_str(self) -> &'static str {
        match self {
            ZoneKind::LakeOutline => "lake_outline",
            ZoneKind::ProtectionLevel1 => "protection_level1",
            ZoneKind::ProtectionLevel2 => "protection_level2",
            ZoneKind::ShoreWatch => "shore_watch",
        }
    }
}

/// A named area with a GeoJSON polygon.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Zone {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub kind: ZoneKind,
    pub schematic: bool,
    /// GeoJSON Polygon coordinates: outer ring first, then holes; each ring closed.
    pub polygon: Vec<Vec<[f64; 2]>>,
}

/// The kind of camera at a video point.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum VideoKind {
    /// Pan-tilt-zoom dome camera (球机).
    Ptz,
    /// Fixed bullet camera (枪机).
    Fixed,
}

impl VideoKind {
    pub fn as_str(self) -> &'static str {
        match self {
            VideoKind::Ptz => "ptz",
            VideoKind::Fixed => "fixed",
        }
    }
}

/// A video surveillance point (a SensorThings Thing of its own kind).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct VideoPoint {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub kind: VideoKind,
    /// The zone the point watches.
    pub zone: String,
    pub position: Position,
    /// How the platform reaches the camera over GB/T 28181, when it does.
    pub gb28181: Option<GbLink>,
}

/// A video point's GB/T 28181 identity (reference video.md §1.2).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GbLink {
    /// The 20-digit device ID the camera registers with.
    pub device_id: String,
    /// The channel ID its alarms and catalog name; the device ID when they are the same.
    pub channel_id: String,
}

impl Network {
    pub fn station(&self, code: &str) -> Option<&Station> {
        self.stations.iter().find(|s| s.code == code)
    }

    pub fn parameter(&self, code: &str) -> Option<&Parameter> {
        self.parameters.iter().find(|p| p.code == code)
    }

    pub fn basin(&self, id: &str) -> Option<&Basin> {
        self.basins.iter().find(|b| b.id == id)
    }

    pub fn zone(&self, id: &str) -> Option<&Zone> {
        self.zones.iter().find(|z| z.id == id)
    }

    /// The `n` video points nearest station `code`, nearest first, with their distance in
    /// metres (what an operator looks at when the station raises an alert).
    pub fn nearest_video_points(&self, code: &str, n: usize) -> Vec<(&VideoPoint, f64)> {
        let Some(st) = self.station(code) else {
            return Vec::new();
        };
        let mut all: Vec<_> = self
            .video_points
            .iter()
            .map(|v| (v, crate::geo::distance_m(st.position, v.position)))
            .collect();
        all.sort_by(|a, b| a.1.total_cmp(&b.1));
        all.truncate(n);
        all
    }

    /// Stations of one kind, in file order.
    pub fn stations_of(&self, kind: StationKind) -> impl Iterator<Item = &Station> {
        self.stations.iter().filter(move |s| s.kind == kind)
    }

    /// The station with this HJ 212 MN, if any.
    pub fn station_by_mn(&self, mn: &str) -> Option<&Station> {
        self.stations
            .iter()
            .find(|s| s.hj212().is_some_and(|h| h.mn == mn))
    }

    /// The zones as a GeoJSON FeatureCollection (properties: id, names, kind, schematic).
    pub fn zones_geojson(&self) -> serde_json::Value {
        let features: Vec<serde_json::Value> = self
            .zones
            .iter()
            .map(|z| {
                serde_json::json!({
                    "type": "Feature",
                    "id": z.id,
                    "properties": {
                        "id": z.id,
                        "name_zh": z.name_zh,
                        "name_en": z.name_en,
                        "kind": z.kind.as_str(),
                        "schematic": z.schematic,
                    },
                    "geometry": { "type": "Polygon", "coordinates": z.polygon },
                })
            })
            .collect();
        serde_json::json!({ "type": "FeatureCollection", "features": features })
    }
}
