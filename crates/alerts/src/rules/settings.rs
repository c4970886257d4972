//! Rule settings: the `[alerts.*]` sections of the server configuration.

#[allow(unused_imports)]
use super::*;

/// `[alerts.exceedance]`: a parameter worse than the station's target class.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct ExceedanceSettings {
    pub enabled: bool,
    /// Data coverage (s) a breach needs before the alert is raised.
    pub min_duration_s: i64,
    /// Data coverage (s) of values back on the good side of the clear threshold before it clears.
    pub clear_duration_s: i64,
    /// Share of the limit between the raise and the clear threshold: with 0.05 a TP alert on
    /// a 0.025 mg/L limit clears at ≤ 0.02375 (DO, "≥": at ≥ limit × 1.05).
    pub hysteresis: f64,
    /// Raise the severity one step at drinking-water sources.
    pub drinking_water_escalation: bool,
    /// Items the national method reports on their own line, outside the station class (TN of
    /// lakes, fecal coliform): still watched, but raised as `warning` — a lake whose TN sits
    /// above its class limit all year must not bury the alerts that need action.
    pub separately_reported: Vec<String>,
    /// Raise those separately reported items at all. Off by default: the national method puts
    /// them on their own line of the assessment (the water-quality report says so), and a duty
    /// officer cannot act on a lake's all-year TN — eight such warnings opened the demo.
    pub alert_separately_reported: bool,
}

impl Default for ExceedanceSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            min_duration_s: 900,
            clear_duration_s: 900,
            hysteresis: 0.05,
            drinking_water_escalation: true,
            separately_reported: vec!["tn".into(), "fecal_coliform".into()],
            alert_separately_reported: false,
        }
    }
}

/// `[alerts.trend]`: a parameter heading for its target-class limit.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct TrendSettings {
    pub enabled: bool,
    /// Window of valid values the line is fitted through.
    pub window_s: i64,
    /// Fewest values in the window for a fit.
    pub min_points: usize,
    /// How far ahead of the latest value the line is extended.
    pub horizon_s: i64,
    /// Only values already within this share of the limit are projected (0.8: TP from
    /// 0.020 mg/L on a 0.025 limit; DO from 5 / 0.8 = 6.25 mg/L down on a 5 limit).
    pub min_fraction: f64,
    pub severity: Severity,
}

impl Default for TrendSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            window_s: 24 * 3600,
            min_points: 4,
            horizon_s: 12 * 3600,
            min_fraction: 0.8,
            severity: Severity::Warning,
        }
    }
}

/// `[alerts.sensor_fault]`: instrument flags and QC faults.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct SensorFaultSettings {
    pub enabled: bool,
    /// HJ 212 data flags that are faults (B, communication fault, is off by default: the
    /// offline rule covers a silent logger).
    pub flags: Vec<String>,
    pub constant: bool,
    pub spike: bool,
    pub out_of_range: bool,
    /// Consecutive healthy values that clear the alert.
    pub clear_after: usize,
    /// The `wq` QC thresholds (constant-value durations, spike normal ranges per parameter, …).
    pub qc: QcSettings,
}

impl Default for SensorFaultSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            flags: ["D", "F", "M", "C", "T"].map(String::from).to_vec(),
            constant: true,
            spike: true,
            out_of_range: true,
            clear_after: 1,
            qc: QcSettings::default(),
        }
    }
}

/// `[alerts.offline]`: a station that stops sending.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct OfflineSettings {
    pub enabled: bool,
    /// Offline after this many reporting intervals without data (the station's shortest
    /// datastream `interval_s`; 2 × 300 s = 10 min, as the HJ 212 status board).
    pub multiple: f64,
    /// Never sooner than this (s).
    pub min_silence_s: i64,
    /// A fixed silence (s) for every station instead of `multiple` × interval.
    pub after_s: Option<i64>,
    pub severity: Severity,
}

impl Default for OfflineSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            multiple: 2.0,
            min_silence_s: 0,
            after_s: None,
            severity: Severity::Major,
        }
    }
}

/// `[alerts.bloom]`: chlorophyll-a or algal density over the bloom thresholds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BloomSettings {
    pub enabled: bool,
    /// `[alert, bloom]` in mg/m³ (= µg/L).
    pub chl_a: [f64; 2],
    /// `[alert, bloom]` in cells/L (2 × 10⁶ cells/L is WHO's alert level 1 for cyanobacteria).
    pub algal_density: [f64; 2],
    pub min_duration_s: i64,
    pub clear_duration_s: i64,
    pub hysteresis: f64,
}

impl Default for BloomSettings {
    fn default() -> Self {
        Self {
            enabled: true,
            chl_a: [10.0, 30.0],
            algal_density: [2.0e6, 1.0e7],
            min_duration_s: 1800,
            clear_duration_s: 3600,
            hysteresis: 0.1,
        }
    }
}

/// All rule settings.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RuleSettings {
    /// Data kinds (`realtime`, `hourly`, `daily`, `manual`) the threshold rules (exceedance,
    /// trend, bloom) read. GB 3838 compares hourly values, and every automatic parameter has an
    /// hourly datastream, so one alert per station and parameter by default. QC and offline
    /// rules read every kind.
    pub threshold_data_kinds: Vec<String>,
    pub exceedance: ExceedanceSettings,
    pub trend: TrendSettings,
    pub sensor_fault: SensorFaultSettings,
    pub offline: OfflineSettings,
    pub bloom: BloomSettings,
}

impl Default for RuleSettings {
    fn default() -> Self {
        Self {
            threshold_data_kinds: vec!["hourly".into()],
            exceedance: ExceedanceSettings::default(),
            trend: TrendSettings::default(),
            sensor_fault: SensorFaultSettings::default(),
            offline: OfflineSettings::default(),
            bloom: BloomSettings::default(),
        }
    }
}
