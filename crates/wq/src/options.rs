//! Every setting of the evaluation. Each default is the one named in the reference (§15); every
//! "uncertain:" point is a setting here rather than a constant in code. All structs deserialize
//! with defaults, so a configuration file only lists what it changes.

use crate::catalogue::codes as c;
use crate::class::{Palette, WaterClass};
use crate::classify::{DoClass1Rule, WaterType};
use crate::qc::QcSettings;
use crate::tli::{TliSettings, TrophicPalette};
use serde::{Deserialize, Serialize};

/// A half-open time interval [start, end) in Unix seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub start: i64,
    pub end: i64,
}

impl Period {
    pub fn contains(&self, t: i64) -> bool {
        self.start <= t && t < self.end
    }
}

/// Options of one evaluation (one station, or one water body).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EvaluationOptions {
    pub water_type: WaterType,
    /// The station's functional (target) class; `None` skips the compliance block.
    pub target_class: Option<WaterClass>,
    /// Runs the Table 2 and Table 3 达标 checks (§3, §12).
    pub drinking_water_source: bool,
    /// Only values inside this period count; `None` takes every value.
    pub period: Option<Period>,
    /// Offset of local time from UTC for day boundaries (Beijing time, UTC+08:00).
    pub utc_offset_seconds: i64,
    pub eval: EvalSettings,
    pub stats: StatsSettings,
    pub rounding: RoundingSettings,
    pub tli: TliSettings,
    pub qc: QcSettings,
    pub ui: UiSettings,
}

impl Default for EvaluationOptions {
    fn default() -> Self {
        Self {
            water_type: WaterType::River,
            target_class: None,
            drinking_water_source: false,
            period: None,
            utc_offset_seconds: 8 * 3600,
            eval: EvalSettings::default(),
            stats: StatsSettings::default(),
            rounding: RoundingSettings::default(),
            tli: TliSettings::default(),
            qc: QcSettings::default(),
            ui: UiSettings::default(),
        }
    }
}

impl EvaluationOptions {
    pub fn new(water_type: WaterType) -> Self {
        Self {
            water_type,
            ..Self::default()
        }
    }
}

/// `eval.*`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct EvalSettings {
    /// `eval.do_class1`: fixed 7.5 mg/L (default) or 90 % saturation.
    pub do_class1: DoClass1Rule,
    /// `eval.isomer_sum`: Table 3 sum items add their components (on).
    pub isomer_sum: bool,
    /// `eval.multiple_decimals`: decimals of exceedance multiples (2).
    pub multiple_decimals: u32,
    pub main_pollutants: MainPollutantSettings,
    /// `eval.core_items`: a class is flagged `partial` when any of these has no valid data.
    pub core_items: Vec<String>,
    pub basin: BasinSettings,
    pub lake: LakeSettings,
}

impl Default for EvalSettings {
    fn default() -> Self {
        Self {
            do_class1: DoClass1Rule::Fixed7_5,
            isomer_sum: true,
            multiple_decimals: 2,
            main_pollutants: MainPollutantSettings::default(),
            core_items: [c::PH, c::DO, c::COD_MN, c::NH3_N, c::TP]
                .map(String::from)
                .to_vec(),
            basin: BasinSettings::default(),
            lake: LakeSettings::default(),
        }
    }
}

/// `eval.main_pollutants.*` (§8).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct MainPollutantSettings {
    /// How many to keep (3).
    pub count: usize,
    /// List cyanide and toxic heavy metals first (on).
    pub toxic_first: bool,
    /// The toxic items: cyanide, Hg, Cd, Cr⁶⁺, Pb, As.
    pub toxic_items: Vec<String>,
}

impl Default for MainPollutantSettings {
    fn default() -> Self {
        Self {
            count: 3,
            toxic_first: true,
            toxic_items: [c::CYANIDE, c::HG, c::CD, c::CR6, c::PB, c::AS]
                .map(String::from)
                .to_vec(),
        }
    }
}

/// Last row of the proportion method (§6.1, `eval.basin.severe_rule`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SevereRule {
    /// G < 75 and B ≥ 40 → 重度污染 (default; leaves no gap at G = 60, B = 40).
    #[default]
    GBelow75,
    /// G < 60 and B ≥ 40 (the usual wording of 22号).
    GBelow60,
}

/// `eval.basin.*`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct BasinSettings {
    /// Sections from which the proportion method applies (5, "含5个").
    pub min_sections: usize,
    pub severe_rule: SevereRule,
    /// How many main pollutants a river or basin lists (3).
    pub main_pollutant_count: usize,
}

impl Default for BasinSettings {
    fn default() -> Self {
        Self {
            min_sections: 5,
            severe_rule: SevereRule::GBelow75,
            main_pollutant_count: 3,
        }
    }
}

/// `eval.lake.order`
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LakeOrder {
    /// Time mean per point, then the mean over points (default).
    #[default]
    TimeThenSpace,
    /// All values of all points pooled into one time aggregation.
    Pooled,
}

#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct LakeSettings {
    pub order: LakeOrder,
}

/// How a period mean is built from automatic data (§9.1).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TimeAggregation {
    /// Daily means of the valid values, then the mean of the daily means (default).
    #[default]
    DailyMeans,
    /// The mean of all valid values in the period.
    AllValues,
}

/// `stats.censored_single`: the value classed for a censored (below-DL) mean.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CensoredSingle {
    /// Classify ½ DL (default).
    #[default]
    HalfDl,
    /// Classify the DL itself (conservative).
    DetectionLimit,
}

/// `stats.*`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct StatsSettings {
    /// A mean is `incomplete` when the share of days with valid data is below this (0.75).
    pub min_coverage: f64,
    pub censored_single: CensoredSingle,
    pub time_aggregation: TimeAggregation,
}

impl Default for StatsSettings {
    fn default() -> Self {
        Self {
            min_coverage: 0.75,
            censored_single: CensoredSingle::HalfDl,
            time_aggregation: TimeAggregation::DailyMeans,
        }
    }
}

/// `rounding.*`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct RoundingSettings {
    /// Round means to the evaluation decimals before classing (on).
    pub enabled: bool,
    /// `rounding.ph_eval_decimals` (0; 2 avoids classing 9.4 as 9).
    pub ph_eval_decimals: u32,
}

impl Default for RoundingSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            ph_eval_decimals: 0,
        }
    }
}

/// `ui.*`
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(default)]
pub struct UiSettings {
    pub class_palette: Palette,
    pub trophic_palette: TrophicPalette,
}
