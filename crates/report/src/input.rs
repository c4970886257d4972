//! What the shell gathers for a report: the network's names, the assessments of the period (the
//! very results `/api/v1/assessment` serialises), the trend months, scenes, alerts and the
//! station-day means.

use crate::{Lang, ReportPeriod};
use wq::{StationAssessment, WaterBodyAssessment, WaterClass};

#[derive(Debug, Clone)]
pub struct StationInfo {
    pub code: String,
    pub name_zh: String,
    pub name_en: String,
    /// `lake`, `river` or `intake`.
    pub kind: String,
    pub basin: String,
    pub target: WaterClass,
    /// The speaking datastream of each parameter and the values it should deliver in the period
    /// (`None` when its cadence is irregular, e.g. manual samples).
    pub expected: Vec<(String, Option<u64>)>,
}

impl StationInfo {
    pub fn name(&self, lang: Lang) -> &str {
        lang.t(&self.name_zh, &self.name_en)
    }
}

#[derive(Debug, Clone)]
pub struct BasinInfo {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
}

/// What data review did to the period's values (`review` of the assessment answer).
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct ReviewCounts {
    pub invalidated: u64,
    pub confirmed: u64,
    pub unreviewed: u64,
}

/// A water body's result: the lake, a basin, the rivers.
#[derive(Debug, Clone)]
pub struct BodyResult {
    pub id: String,
    pub name_zh: String,
    pub name_en: String,
    pub result: WaterBodyAssessment,
}

/// One month of the trend span.
#[derive(Debug, Clone)]
pub struct TrendMonth {
    pub period: ReportPeriod,
    /// The lake's result that month (its per-station results give the class map).
    pub lake: Option<WaterBodyAssessment>,
    /// Station results outside the lake (rivers), when the scope has them.
    pub others: Vec<StationAssessment>,
}

/// A satellite or drone scene of the period (the stored scene document's figures).
#[derive(Debug, Clone, PartialEq)]
pub struct SceneFact {
    /// Acquisition time, unix ms.
    pub time_ms: i64,
    pub sensor: String,
    pub bloom_area_km2: f64,
    pub coverage: f64,
    pub valid_fraction: f64,
    pub cloud_limited: bool,
    pub grade: String,
}

/// An alert raised in the period.
#[derive(Debug, Clone, PartialEq)]
pub struct AlertFact {
    pub id: i64,
    pub rule: String,
    /// The rule's name in both languages (the alerts crate's labels).
    pub rule_zh: String,
    pub rule_en: String,
    pub severity: String,
    pub station: Option<String>,
    pub message: String,
    /// Unix ms.
    pub created_at: i64,
    pub acknowledged_at: Option<i64>,
    pub cleared_at: Option<i64>,
}

/// The mean of one station-day of one parameter (valid values, as the assessment counts them).
#[derive(Debug, Clone, PartialEq)]
pub struct DayMean {
    pub station: String,
    pub parameter: String,
    /// Local date `YYYY-MM-DD`.
    pub day: String,
    pub mean: f64,
    pub n: u32,
}

#[derive(Debug, Clone)]
pub struct ReportInput {
    pub lang: Lang,
    pub period: ReportPeriod,
    pub utc_offset_s: i32,
    pub network_zh: String,
    pub network_en: String,
    /// The lake's name, for the class line ("红枫湖").
    pub lake_zh: String,
    pub lake_en: String,
    /// The scope as asked (`waterbody:lake`, `network`, `basin:north`, `station:W01`).
    pub scope: String,
    pub scope_zh: String,
    pub scope_en: String,
    pub stations: Vec<StationInfo>,
    pub basins: Vec<BasinInfo>,
    /// The lake (all in-lake points) — for lake, network and basin scopes.
    pub lake: Option<BodyResult>,
    /// Each basin's result.
    pub basin_results: Vec<BodyResult>,
    /// Each station of the scope, in network order.
    pub station_results: Vec<StationAssessment>,
    /// The lake's (or the single station's) TLI of the period before and a year before.
    pub tli_previous: Option<f64>,
    pub tli_year_ago: Option<f64>,
    pub trend: Vec<TrendMonth>,
    pub scenes: Vec<SceneFact>,
    pub alerts: Vec<AlertFact>,
    pub review: ReviewCounts,
    pub day_means: Vec<DayMean>,
    /// When the report was made, RFC 3339 (shown on the cover; the shell's clock).
    pub generated_at: String,
}
