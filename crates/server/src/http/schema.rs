//! The typed bodies of the domain API (`/api/v1`). Handlers build these instead of ad-hoc JSON so
//! that the OpenAPI document (`openapi.rs`) is derived from what is actually sent, and the
//! dashboard's types (generated from that document) fail to type-check when a field changes.
//!
//! Parts whose shape is owned elsewhere and not yet typed (the assessment explanation of `wq`,
//! an alert as the `alerts` crate serialises it, GeoJSON zones) are free-form objects here.

use serde::{Deserialize, Serialize};
use serde_json::Value;
#[allow(unused_imports)] // named in `#[schema(value_type = …)]` only
use std::collections::HashMap;
use utoipa::ToSchema;
use wq::WaterClass;

/// A GB 3838-2002 class as the API names it, best first.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
pub enum ClassKey {
    I,
    II,
    III,
    IV,
    V,
    WorseThanV,
}

impl From<WaterClass> for ClassKey {
    fn from(c: WaterClass) -> Self {
        match c {
            WaterClass::I => ClassKey::I,
            WaterClass::II => ClassKey::II,
            WaterClass::III => ClassKey::III,
            WaterClass::IV => ClassKey::IV,
            WaterClass::V => ClassKey::V,
            WaterClass::WorseThanV => ClassKey::WorseThanV,
        }
    }
}

/// Every error: the HTTP status again, `"error"`, and a message naming the problem.
#[derive(Debug, Serialize, ToSchema)]
pub struct ErrorBody {
    pub code: u16,
    #[serde(rename = "type")]
    pub kind: String,
    pub message: String,
}

/// `GET /api/v1/health`.
#[derive(Debug, Serialize, ToSchema)]
pub struct Health {
    pub status: String,
    pub version: String,
    /// The store's counters (commits, observations inserted/replaced, reads timed out, …).
    #[schema(value_type = HashMap<String, Value>)]
    pub store: Value,
    /// The backend (`sqlite`, `postgres`) and, on PostgreSQL, this node's id, one round trip
    /// to the database, a replica's replay lag, the age of the last commit another node
    /// announced and whether this node leads the alert engine (docs/postgres.md).
    #[schema(value_type = HashMap<String, Value>)]
    pub backend: Value,
}

/// `GET /api/v1/latest`: the latest observation of each datastream, as the store keeps it.
#[derive(Debug, Serialize, ToSchema)]
pub struct LatestList {
    #[schema(value_type = Vec<HashMap<String, Value>>)]
    pub value: Vec<Value>,
}

/// `GET /api/v1/network`: the loaded network with the latest judged values of every station.
#[derive(Debug, Serialize, ToSchema)]
pub struct NetworkBody {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    /// True when the coordinates are a schematic, not a survey.
    pub schematic: bool,
    /// `[lon_min, lat_min, lon_max, lat_max]`.
    #[schema(required = true)]
    pub bbox: Option<[f64; 4]>,
    /// A GeoJSON FeatureCollection of the network's zones.
    #[schema(value_type = HashMap<String, Value>)]
    pub zones: Value,
    pub basins: Vec<BasinBody>,
    pub parameters: Vec<ParameterBody>,
    pub stations: Vec<StationBody>,
    pub video_points: Vec<VideoPointBody>,
    /// The latest satellite/drone scenes, newest first (`[imagery] network_scenes`).
    pub scenes: Vec<super::scenes::SceneSummary>,
    /// The class colours (`wq`'s configured palette): the one palette the dashboard draws with.
    pub palette: Palette,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct BasinBody {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct ParameterBody {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    pub unit: String,
    pub decimals: u8,
    /// HJ 212-2017 factor code.
    pub hj212: String,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StationBody {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// `river`, `lake` or `intake`.
    pub kind: String,
    /// `river` or `lake`: which limits apply.
    pub water_type: String,
    pub basin: String,
    pub target_class: ClassKey,
    pub lon: f64,
    pub lat: f64,
    #[schema(required = true)]
    pub thing_id: Option<i64>,
    /// Online state from the ingestion source; `null` for stations no source reports.
    #[schema(required = true)]
    pub status: Option<StationLinkStatus>,
    pub latest: Vec<StationLatest>,
    /// The worst class of the routine parameters' speaking datastreams.
    #[schema(required = true)]
    pub class: Option<ClassKey>,
    #[schema(required = true)]
    pub meets_target: Option<bool>,
    pub datastreams: Vec<DatastreamRef>,
}

#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct StationLinkStatus {
    pub online: bool,
    #[schema(required = true)]
    pub last_seen: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StationLatest {
    pub parameter: String,
    pub datastream_id: i64,
    pub data_kind: String,
    #[schema(required = true)]
    pub time: Option<String>,
    /// Usually a number; whatever the observation's result was otherwise.
    #[schema(value_type = Option<f64>)]
    pub value: Value,
    /// The HJ 212 data flag (`N` = valid).
    #[schema(required = true)]
    pub flag: Option<String>,
    #[schema(required = true)]
    pub class: Option<ClassKey>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DatastreamRef {
    pub id: i64,
    pub parameter: String,
    pub data_kind: String,
    /// This datastream speaks for its parameter (hourly, then manual, then real-time): the one
    /// the station's class and the dashboard use.
    pub speaks: bool,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct VideoPointBody {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub kind: String,
    pub zone: String,
    pub lon: f64,
    pub lat: f64,
    /// The camera's 20-digit GB/T 28181 device ID, when it is connected that way.
    pub device_id: Option<String>,
    /// `true`/`false` from GB/T 28181 registration and keepalive; `null` only while unknown
    /// (no listener, or the listener has not yet run one offline window).
    #[schema(required = true)]
    pub online: Option<bool>,
    /// GB/T 28181 health: registration, last keepalive, device info, clock drift, alarms.
    #[schema(value_type = Option<Object>)]
    pub camera: Option<serde_json::Value>,
}

/// Fill colours (`#RRGGBB`) of the classes and of "no data".
#[derive(Debug, Serialize, ToSchema)]
pub struct Palette {
    #[serde(rename = "I")]
    pub i: String,
    #[serde(rename = "II")]
    pub ii: String,
    #[serde(rename = "III")]
    pub iii: String,
    #[serde(rename = "IV")]
    pub iv: String,
    #[serde(rename = "V")]
    pub v: String,
    #[serde(rename = "WorseThanV")]
    pub worse_than_v: String,
    pub none: String,
}

impl From<&wq::class::Palette> for Palette {
    fn from(p: &wq::class::Palette) -> Self {
        Palette {
            i: p.class_i.clone(),
            ii: p.class_ii.clone(),
            iii: p.class_iii.clone(),
            iv: p.class_iv.clone(),
            v: p.class_v.clone(),
            worse_than_v: p.worse_than_v.clone(),
            none: p.no_data.clone(),
        }
    }
}

/// `GET /api/v1/series`: raw points or aggregated buckets of one datastream, with class bands.
#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesBody {
    pub datastream_id: i64,
    pub station: String,
    pub parameter: String,
    pub data_kind: String,
    #[schema(required = true)]
    pub unit: Option<String>,
    pub water_type: String,
    pub from: String,
    pub to: String,
    /// Bucket width in seconds; `null` for raw points.
    #[schema(required = true)]
    pub interval_s: Option<i64>,
    #[schema(required = true)]
    pub points: Option<Vec<SeriesPoint>>,
    #[schema(required = true)]
    pub buckets: Option<Vec<SeriesBucket>>,
    pub bands: Vec<Band>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesPoint {
    pub t: String,
    #[schema(required = true)]
    pub v: Option<f64>,
    #[schema(required = true)]
    pub flag: Option<String>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct SeriesBucket {
    pub t: String,
    pub avg: f64,
    pub min: f64,
    pub max: f64,
    pub n: i64,
    pub flagged: i64,
}

/// One class band of a chart: values up to `upper` (or from `lower`) are in `class`.
#[derive(Debug, PartialEq, Serialize, ToSchema)]
pub struct Band {
    pub class: ClassKey,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upper: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lower: Option<f64>,
}

/// `GET /api/v1/assessment`: the scope and period, then `wq`'s evaluation with its explanation
/// (a station assessment, or a water body's with `method` and `stations`).
#[derive(Debug, Serialize, ToSchema)]
pub struct AssessmentBody {
    pub scope: String,
    pub from: String,
    pub to: String,
    #[serde(flatten)]
    #[schema(value_type = HashMap<String, Value>)]
    pub result: serde_json::Map<String, Value>,
}

/// `event: observation` of `/api/v1/events`: a committed new or changed value.
#[derive(Debug, Serialize, ToSchema)]
pub struct ObservationEvent {
    pub id: i64,
    pub datastream_id: i64,
    #[schema(required = true)]
    pub station: Option<String>,
    #[schema(required = true)]
    pub parameter: Option<String>,
    #[schema(required = true)]
    pub data_kind: Option<String>,
    pub time: String,
    #[schema(required = true, value_type = Option<f64>)]
    pub value: Value,
    #[schema(required = true, value_type = Option<String>)]
    pub flag: Value,
    /// What the idempotency rule did: `inserted` or `replaced`.
    #[schema(value_type = String)]
    pub change: store::UpsertKind,
}

/// `event: ready`, the first message of `/api/v1/events`: the stations subscribed to (all when
/// empty).
#[derive(Debug, Serialize, ToSchema)]
pub struct ReadyEvent {
    pub stations: Vec<String>,
}

/// `event: lagged`: this client fell behind and missed events; reload what it shows.
#[derive(Debug, Serialize, ToSchema)]
pub struct LaggedEvent {
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missed_batches: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub missed_alerts: Option<u64>,
}

/// `GET /api/v1/stations`: status of every station an ingestion source knows.
#[derive(Debug, Serialize, ToSchema)]
pub struct StationsBody {
    /// One entry per station: counters, online state, rejects by reason (`mn` only with a token).
    #[schema(value_type = Vec<HashMap<String, Value>>)]
    pub value: Vec<Value>,
    pub offline_after_s: u64,
    /// Rejected frames that named no known station, by reason.
    pub unattributed_rejects: std::collections::BTreeMap<String, u64>,
}

/// `GET /api/v1/alerts`: one page of alerts and the total that match the filter.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertList {
    pub count: u64,
    pub value: Vec<AlertView>,
}

/// An alert as the API shows it: the `alerts` crate's record with its times as ISO 8601
/// (read back from `crate::alerts::view`, so both say the same).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct AlertView {
    pub id: i64,
    /// `exceedance`, `trend`, `fault`, `offline`, `bloom`, `intrusion`, …
    pub rule: String,
    /// What the alert is about: `W01:tp:hourly` (a datastream), `W01` (a station), `V07`.
    pub source: String,
    #[schema(required = true)]
    pub station: Option<String>,
    #[schema(required = true)]
    pub parameter: Option<String>,
    #[schema(required = true)]
    pub datastream_id: Option<i64>,
    pub severity: SeverityKey,
    pub state: AlertStateKey,
    pub acknowledged: bool,
    #[schema(required = true)]
    pub acknowledged_by: Option<String>,
    #[schema(required = true)]
    pub acknowledged_at: Option<String>,
    #[schema(required = true)]
    pub cleared_at: Option<String>,
    #[schema(required = true)]
    pub cleared_by: Option<String>,
    pub created_at: String,
    pub updated_at: String,
    #[schema(required = true)]
    pub first_observed: Option<String>,
    #[schema(required = true)]
    pub last_observed: Option<String>,
    /// How many times the condition re-triggered while the alert was open.
    pub count: u32,
    /// The message in English (kept for clients of the first API); the dashboard reads
    /// `message_zh` / `message_en`.
    pub message: String,
    /// 中文告警信息 (rendered from the stored template, `details.text`).
    pub message_zh: String,
    /// The message in English.
    pub message_en: String,
    /// The rule's name in Chinese and English.
    pub rule_zh: String,
    pub rule_en: String,
    /// Rule-specific facts: value, limit, class, projection, faults, …
    #[schema(value_type = HashMap<String, Value>)]
    pub details: Value,
}

/// `alerts::model::Severity` as the API names it (that pure crate carries no schema derive).
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum SeverityKey {
    Warning,
    Minor,
    Major,
    Critical,
}

/// `alerts::model::AlertState` as the API names it.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum AlertStateKey {
    Active,
    Acknowledged,
    Cleared,
}

impl AlertView {
    pub fn of(alert: &alerts::model::Alert) -> Result<Self, serde_json::Error> {
        serde_json::from_value(crate::alerts::view(alert))
    }
}

/// `GET /api/v1/alerts/{id}`: the alert, its history (oldest first) and its comments.
#[derive(Debug, Serialize, ToSchema)]
pub struct AlertDetail {
    #[serde(flatten)]
    pub alert: AlertView,
    #[schema(value_type = Vec<HashMap<String, Value>>)]
    pub history: Vec<Value>,
    pub comments: Vec<AlertComment>,
}

#[derive(Debug, Serialize, ToSchema)]
pub struct AlertComment {
    #[schema(required = true, value_type = Option<String>)]
    pub at: Value,
    #[schema(required = true, value_type = Option<String>)]
    pub by: Value,
    #[schema(required = true, value_type = Option<String>)]
    pub text: Value,
}

/// The body of `ack`, `clear` and `comments`: who, and an optional note (`text` for comments).
#[derive(Debug, Default, Deserialize, ToSchema)]
pub struct ByBody {
    #[serde(default)]
    pub by: String,
    #[serde(default)]
    pub comment: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
}
