//! What an alert is: the record served by the API and persisted by the store.

use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::fmt;
use std::str::FromStr;

/// How urgent an alert is. Ordered so that greater means more urgent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Warning,
    Minor,
    Major,
    Critical,
}

impl Severity {
    pub const ALL: [Severity; 4] = [Self::Warning, Self::Minor, Self::Major, Self::Critical];

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Warning => "warning",
            Self::Minor => "minor",
            Self::Major => "major",
            Self::Critical => "critical",
        }
    }

    /// One step more urgent (critical stays critical).
    pub fn raised(self) -> Severity {
        match self {
            Self::Warning => Self::Minor,
            Self::Minor => Self::Major,
            Self::Major | Self::Critical => Self::Critical,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Severity {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str().eq_ignore_ascii_case(s.trim()))
            .ok_or_else(|| format!("unknown severity '{s}' (critical, major, minor, warning)"))
    }
}

/// The three states of the lifecycle as the API filters them. An alert is `cleared` once its
/// condition ended (or someone cleared it), whether or not it was acknowledged first; the
/// `acknowledged` flag of [`Alert`] keeps that apart (ThingsBoard's CLEARED_UNACK/CLEARED_ACK).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AlertState {
    /// Raised and nobody has taken it yet.
    Active,
    /// Someone has taken it; the condition still holds.
    Acknowledged,
    Cleared,
}

impl AlertState {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Acknowledged => "acknowledged",
            Self::Cleared => "cleared",
        }
    }
}

impl FromStr for AlertState {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim().to_ascii_lowercase().as_str() {
            "active" => Ok(Self::Active),
            "acknowledged" | "ack" => Ok(Self::Acknowledged),
            "cleared" => Ok(Self::Cleared),
            other => Err(format!(
                "unknown alert state '{other}' (active, acknowledged, cleared)"
            )),
        }
    }
}

/// Which rule raised an alert.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RuleKind {
    /// A parameter is worse than the station's target class.
    Exceedance,
    /// A parameter is heading for its limit.
    Trend,
    /// Instrument flag or QC fault (constant value, spike, out of range).
    SensorFault,
    /// No data for too long.
    Offline,
    /// Chlorophyll-a or algal density over the bloom thresholds.
    Bloom,
    /// An intrusion reported by a video point (pushed from outside; see `docs/alerts.md`).
    Intrusion,
    /// A camera reports video loss, tamper, image occlusion or a disk fault.
    VideoFault,
    /// A camera stopped keeping alive (its offline window passed) or came back.
    CameraOffline,
    /// A satellite or drone scene shows a bloom over a basin share, or near the intake.
    BloomArea,
    /// Repeated wrong credentials for one device (possible password guessing).
    CredentialGuessing,
}

impl RuleKind {
    pub const ALL: [RuleKind; 10] = [
        Self::Exceedance,
        Self::Trend,
        Self::SensorFault,
        Self::Offline,
        Self::Bloom,
        Self::Intrusion,
        Self::VideoFault,
        Self::CameraOffline,
        Self::BloomArea,
        Self::CredentialGuessing,
    ];

    /// The rule's name for people (the dashboard's labels are the same).
    pub fn label(self, lang: crate::text::Lang) -> &'static str {
        let (zh, en) = match self {
            Self::Exceedance => ("超标", "Exceedance"),
            Self::Trend => ("趋势预警", "Trend"),
            Self::SensorFault => ("仪器/质控异常", "Instrument/QC fault"),
            Self::Offline => ("数据中断", "Data gap"),
            Self::Bloom => ("藻类水华", "Algal bloom"),
            Self::Intrusion => ("视频入侵", "Video intrusion"),
            Self::VideoFault => ("视频故障", "Video fault"),
            Self::CameraOffline => ("摄像机离线", "Camera offline"),
            Self::BloomArea => ("遥感水华面积", "Bloom area (imagery)"),
            Self::CredentialGuessing => ("疑似密码猜测", "Possible password guessing"),
        };
        match lang {
            crate::text::Lang::Zh => zh,
            crate::text::Lang::En => en,
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Self::Exceedance => "exceedance",
            Self::Trend => "trend",
            Self::SensorFault => "sensor_fault",
            Self::Offline => "offline",
            Self::Bloom => "bloom",
            Self::Intrusion => "intrusion",
            Self::VideoFault => "video_fault",
            Self::CameraOffline => "camera_offline",
            Self::BloomArea => "bloom_area",
            Self::CredentialGuessing => "credential_guessing",
        }
    }
}

impl FromStr for RuleKind {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::ALL
            .into_iter()
            .find(|v| v.as_str() == s.trim())
            .ok_or_else(|| format!("unknown rule '{s}'"))
    }
}

/// One alert: one rule firing for one source (a datastream, a station or a video point). At most
/// one alert per (rule, source) is not cleared at any time; re-triggering updates it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Alert {
    /// Store id; 0 until persisted.
    pub id: i64,
    pub rule: RuleKind,
    /// What the alert is about, stable across restarts: `W01:tp:hourly` (a datastream),
    /// `W01` (a station), `V07` (a video point).
    pub source: String,
    pub station: Option<String>,
    pub parameter: Option<String>,
    pub datastream_id: Option<i64>,
    pub severity: Severity,
    pub state: AlertState,
    pub acknowledged: bool,
    pub acknowledged_by: Option<String>,
    pub acknowledged_at: Option<i64>,
    pub cleared_at: Option<i64>,
    /// Who cleared it by hand; `None` when the condition ended by itself.
    pub cleared_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    /// Phenomenon time of the observation that raised it, and of the latest that re-triggered it.
    pub first_observed: Option<i64>,
    pub last_observed: Option<i64>,
    /// How many times the condition re-triggered while the alert was open.
    pub count: u32,
    pub message: String,
    /// Rule-specific facts: value, limit, class, projection, faults, …
    pub details: Value,
}

/// What happened to an alert, in its history.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Action {
    Raised,
    /// Re-triggered with the same or lower severity.
    Updated,
    /// Re-triggered with a higher severity.
    Escalated,
    Acknowledged,
    Cleared,
    Commented,
}

impl Action {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Raised => "raised",
            Self::Updated => "updated",
            Self::Escalated => "escalated",
            Self::Acknowledged => "acknowledged",
            Self::Cleared => "cleared",
            Self::Commented => "commented",
        }
    }
}

impl FromStr for Action {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        [
            Self::Raised,
            Self::Updated,
            Self::Escalated,
            Self::Acknowledged,
            Self::Cleared,
            Self::Commented,
        ]
        .into_iter()
        .find(|a| a.as_str() == s.trim())
        .ok_or_else(|| format!("unknown alert action '{s}'"))
    }
}

/// One line of an alert's history. Comments are history lines with `action = commented`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct HistoryEntry {
    pub at: i64,
    pub action: Action,
    /// A person (API) or `None` for the engine.
    pub by: Option<String>,
    pub severity: Severity,
    pub state: AlertState,
    pub message: Option<String>,
    #[serde(default, skip_serializing_if = "Value::is_null")]
    pub details: Value,
}
