//! The rules, evaluated one committed observation at a time (and the offline check on a clock
//! tick). Every rule is a small state machine per source; [`Evaluator`] holds them all and turns
//! observations into [`Verdict`]s, which the engine applies to the alert lifecycle.

use crate::SECOND;
use crate::debounce::{Debounce, Durations, Level, Step};
use crate::lifecycle::Trigger;
use crate::model::{RuleKind, Severity};
use crate::trend;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use wq::classify::{ClassLimits, ClassifyContext, class_limits};
use wq::qc::{QcFlags, QcSettings};
use wq::{DataFlag, Sample, WaterClass, WaterType};

// ---------------------------------------------------------------------------------------------
// Settings (`[alerts.*]` in the server configuration)
// ---------------------------------------------------------------------------------------------

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

// ---------------------------------------------------------------------------------------------
// Inputs and outputs
// ---------------------------------------------------------------------------------------------

/// What the rules need to know about a datastream (from its and its Thing's properties).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamInfo {
    pub datastream_id: i64,
    pub station: String,
    /// Catalogue code (`tp`, `nh3_n`, …).
    pub parameter: String,
    pub data_kind: String,
    /// Reporting interval (s), when the datastream has a cadence.
    pub interval_s: Option<i64>,
    pub water_type: WaterType,
    pub target_class: Option<WaterClass>,
    pub drinking_water: bool,
}

impl StreamInfo {
    /// The alert source of per-datastream rules: `W01:tp:hourly`.
    pub fn source(&self) -> String {
        format!("{}:{}:{}", self.station, self.parameter, self.data_kind)
    }

    fn covers(&self) -> i64 {
        self.interval_s.unwrap_or(0).max(0) * SECOND
    }
}

/// One committed value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    /// Phenomenon time (µs).
    pub t: i64,
    /// The numeric result, if it is a number.
    pub value: Option<f64>,
    pub flag: DataFlag,
    /// Reported below the detection limit.
    pub censored: bool,
}

impl Reading {
    /// Reads a store observation: the result as a number (or numeric text), the HJ 212 flag
    /// from `resultQuality.flag` (absent = N) and `resultQuality.censored`.
    pub fn from_json(t: i64, result: &Value, quality: Option<&Value>) -> Reading {
        let value = match result {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        }
        .filter(|v| v.is_finite());
        let flag = quality
            .and_then(|q| q.get("flag"))
            .and_then(Value::as_str)
            .and_then(DataFlag::parse)
            .unwrap_or(DataFlag::N);
        let censored = quality
            .and_then(|q| q.get("censored"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        Reading {
            t,
            value,
            flag,
            censored,
        }
    }

    /// A value the threshold rules may use: numeric, flag N.
    fn valid_value(&self) -> Option<f64> {
        if self.flag == DataFlag::N {
            self.value
        } else {
            None
        }
    }
}

/// What the rules decided about one source.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Raise or re-trigger.
    Trigger(Trigger),
    /// The condition ended: clear the open alert of (rule, source).
    Resolve {
        rule: RuleKind,
        source: String,
        message: String,
        details: Value,
    },
}

impl Verdict {
    pub fn key(&self) -> (RuleKind, &str) {
        match self {
            Verdict::Trigger(t) => (t.rule, &t.source),
            Verdict::Resolve { rule, source, .. } => (*rule, source),
        }
    }
}

fn parameter_name(code: &str) -> String {
    wq::catalogue::by_code(code)
        .map(|p| p.name_en.to_owned())
        .unwrap_or_else(|| code.to_owned())
}

fn unit(code: &str) -> &'static str {
    wq::catalogue::by_code(code)
        .map(|p| p.unit.symbol())
        .unwrap_or("")
}

fn trigger(
    info: &StreamInfo,
    rule: RuleKind,
    severity: Severity,
    message: String,
    details: Value,
    t: i64,
) -> Verdict {
    Verdict::Trigger(Trigger {
        rule,
        source: info.source(),
        station: Some(info.station.clone()),
        parameter: Some(info.parameter.clone()),
        datastream_id: Some(info.datastream_id),
        severity,
        message,
        details,
        observed_at: Some(t),
    })
}

fn resolve(info: &StreamInfo, rule: RuleKind, message: String, details: Value) -> Verdict {
    Verdict::Resolve {
        rule,
        source: info.source(),
        message,
        details,
    }
}

// ---------------------------------------------------------------------------------------------
// Exceedance of the target class
// ---------------------------------------------------------------------------------------------

/// The target-class limit of a parameter at a station.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum TargetLimit {
    AtMost(f64),
    AtLeast(f64),
    Range(f64, f64),
}

impl TargetLimit {
    /// The limit of `target` for `code` in `water_type`, if GB 3838 classes the parameter.
    pub fn of(code: &str, water_type: WaterType, target: WaterClass) -> Option<TargetLimit> {
        let i = target.limit_index()?;
        Some(match class_limits(code, water_type).ok()? {
            ClassLimits::AtMost(l) => TargetLimit::AtMost(l[i]),
            ClassLimits::AtLeast(l) => TargetLimit::AtLeast(l[i]),
            ClassLimits::Range { min, max } => TargetLimit::Range(min, max),
        })
    }

    /// Breach beyond the limit; band within `hysteresis` (a share of the limit) inside it.
    pub fn level(self, v: f64, hysteresis: f64) -> Level {
        let h = hysteresis.max(0.0);
        match self {
            TargetLimit::AtMost(l) if v > l => Level::Breach,
            TargetLimit::AtMost(l) if v > l * (1.0 - h) => Level::Band,
            TargetLimit::AtLeast(l) if v < l => Level::Breach,
            TargetLimit::AtLeast(l) if v < l * (1.0 + h) => Level::Band,
            TargetLimit::Range(lo, hi) if v < lo || v > hi => Level::Breach,
            TargetLimit::Range(lo, hi) if v < lo * (1.0 + h) || v > hi * (1.0 - h) => Level::Band,
            _ => Level::Normal,
        }
    }

    pub fn text(self) -> String {
        match self {
            TargetLimit::AtMost(l) => format!("≤{l}"),
            TargetLimit::AtLeast(l) => format!("≥{l}"),
            TargetLimit::Range(lo, hi) => format!("{lo}–{hi}"),
        }
    }
}

/// Severity of a class worse than the target: one class worse is minor, two major, three or
/// more (or 劣Ⅴ two classes past a Ⅲ target) critical; one step more at drinking-water sources.
pub fn exceedance_severity(
    class: WaterClass,
    target: WaterClass,
    drinking_water_escalation: bool,
) -> Severity {
    let gap = (class as i32 - target as i32).max(1);
    let base = match gap {
        1 => Severity::Minor,
        2 => Severity::Major,
        _ => Severity::Critical,
    };
    if drinking_water_escalation {
        base.raised()
    } else {
        base
    }
}

#[derive(Debug, Default)]
struct ExceedanceState {
    filter: Debounce,
}

impl ExceedanceState {
    fn observe(
        &mut self,
        s: &ExceedanceSettings,
        info: &StreamInfo,
        r: &Reading,
    ) -> Option<Verdict> {
        let target = info.target_class?;
        let limit = TargetLimit::of(&info.parameter, info.water_type, target)?;
        let v = r.valid_value()?;
        let d = Durations {
            raise_s: s.min_duration_s,
            clear_s: s.clear_duration_s,
        };
        let step = self
            .filter
            .step(r.t, info.covers(), limit.level(v, s.hysteresis), d);
        let name = parameter_name(&info.parameter);
        let unit = unit(&info.parameter);
        match step {
            Step::Raise | Step::Hold => {
                let class =
                    wq::classify(&info.parameter, v, &ClassifyContext::new(info.water_type))
                        .class()?;
                let separate = s.separately_reported.contains(&info.parameter);
                let severity = if separate {
                    Severity::Warning
                } else {
                    exceedance_severity(
                        class,
                        target,
                        s.drinking_water_escalation && info.drinking_water,
                    )
                };
                let message = format!(
                    "{} {name} {v} {unit} is {}, worse than the target {} (limit {}){}",
                    info.station,
                    class.label_en(),
                    target.label_en(),
                    limit.text(),
                    if separate {
                        "; reported on its own line, not in the station class"
                    } else {
                        ""
                    }
                );
                let details = json!({
                    "value": v, "unit": unit, "class": class.roman(), "target_class": target.roman(),
                    "limit": limit.text(), "time_us": r.t,
                });
                Some(trigger(
                    info,
                    RuleKind::Exceedance,
                    severity,
                    message,
                    details,
                    r.t,
                ))
            }
            Step::Clear => Some(resolve(
                info,
                RuleKind::Exceedance,
                format!(
                    "{} {name} back within {} ({v} {unit})",
                    info.station,
                    target.label_en()
                ),
                json!({ "value": v, "time_us": r.t }),
            )),
            Step::Quiet => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Trend towards the limit
// ---------------------------------------------------------------------------------------------

/// The trend rule's verdict on one window.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Projection {
    pub line: trend::Line,
    /// The fitted value `horizon` ahead.
    pub projected: f64,
    /// Seconds until the line meets the limit.
    pub seconds_to_limit: f64,
}

/// Whether the values in `window` (seconds, value) head for `limit` within the horizon.
/// "≤" limits: rising, the latest value within `min_fraction` of the limit and not over it,
/// the line over the limit before the horizon. "≥" limits mirror this. Range limits (pH) are
/// not projected.
pub fn project(window: &[(i64, f64)], limit: TargetLimit, s: &TrendSettings) -> Option<Projection> {
    if window.len() < s.min_points.max(2) {
        return None;
    }
    let latest = window.iter().max_by_key(|p| p.0)?.1;
    let line = trend::fit(window)?;
    let horizon = s.horizon_s as f64;
    let (heading, l) = match limit {
        TargetLimit::AtMost(l) => (
            line.slope_per_hour > 0.0 && latest <= l && latest >= l * s.min_fraction,
            l,
        ),
        TargetLimit::AtLeast(l) => (
            line.slope_per_hour < 0.0
                && latest >= l
                && s.min_fraction > 0.0
                && latest <= l / s.min_fraction,
            l,
        ),
        TargetLimit::Range(..) => return None,
    };
    if !heading {
        return None;
    }
    let seconds = line.seconds_to(l)?;
    (seconds <= horizon).then(|| Projection {
        line,
        projected: line.at(horizon),
        seconds_to_limit: seconds,
    })
}

#[derive(Debug, Default)]
struct TrendState {
    window: VecDeque<(i64, f64)>,
    raised: bool,
}

impl TrendState {
    fn observe(&mut self, s: &TrendSettings, info: &StreamInfo, r: &Reading) -> Option<Verdict> {
        let target = info.target_class?;
        let limit = TargetLimit::of(&info.parameter, info.water_type, target)?;
        let v = r.valid_value()?;
        let t_s = r.t.div_euclid(SECOND);
        if self.window.back().is_some_and(|&(last, _)| t_s <= last) {
            return None; // backfill does not move a trend
        }
        self.window.push_back((t_s, v));
        while self
            .window
            .front()
            .is_some_and(|&(t, _)| t < t_s - s.window_s)
        {
            self.window.pop_front();
        }
        let points: Vec<(i64, f64)> = self.window.iter().copied().collect();
        let name = parameter_name(&info.parameter);
        let unit = unit(&info.parameter);
        match project(&points, limit, s) {
            Some(p) => {
                self.raised = true;
                let hours = p.seconds_to_limit / 3600.0;
                let message = format!(
                    "{} {name} {v} {unit} is heading for the {} limit {}: reached in about {hours:.1} h at {:+.4} {unit}/h",
                    info.station,
                    target.label_en(),
                    limit.text(),
                    p.line.slope_per_hour
                );
                let details = json!({
                    "value": v, "unit": unit, "limit": limit.text(), "target_class": target.roman(),
                    "slope_per_hour": p.line.slope_per_hour, "projected": p.projected,
                    "horizon_s": s.horizon_s, "hours_to_limit": hours, "points": points.len(),
                });
                Some(trigger(
                    info,
                    RuleKind::Trend,
                    s.severity,
                    message,
                    details,
                    r.t,
                ))
            }
            None if self.raised => {
                self.raised = false;
                let why = if limit.level(v, 0.0) == Level::Breach {
                    "the limit is reached (see the exceedance alert)"
                } else {
                    "no longer heading for the limit"
                };
                Some(resolve(
                    info,
                    RuleKind::Trend,
                    format!("{} {name}: {why}", info.station),
                    json!({ "value": v }),
                ))
            }
            None => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Sensor faults
// ---------------------------------------------------------------------------------------------

/// One fault of one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Fault {
    /// An HJ 212 data flag configured as a fault.
    Flag(char),
    Constant,
    Spike,
    OutOfRange,
}

impl Fault {
    pub fn severity(self) -> Severity {
        match self {
            // instrument fault, instrument stopped
            Fault::Flag('D') | Fault::Flag('F') => Severity::Major,
            // maintenance and calibration are planned work
            Fault::Flag('M') | Fault::Flag('C') | Fault::Spike => Severity::Warning,
            Fault::Flag(_) | Fault::Constant | Fault::OutOfRange => Severity::Minor,
        }
    }

    pub fn describe(self) -> String {
        match self {
            Fault::Flag('D') => "instrument fault (flag D)".into(),
            Fault::Flag('F') => "instrument stopped (flag F)".into(),
            Fault::Flag('M') => "maintenance (flag M)".into(),
            Fault::Flag('C') => "calibration (flag C)".into(),
            Fault::Flag('T') => "above the measuring range (flag T)".into(),
            Fault::Flag(c) => format!("data flag {c}"),
            Fault::Constant => "constant value".into(),
            Fault::Spike => "spike".into(),
            Fault::OutOfRange => "out of range".into(),
        }
    }
}

/// The faults of the latest sample of `window` (seconds, sorted by time).
pub fn faults_of_latest(code: &str, window: &[Sample], s: &SensorFaultSettings) -> BTreeSet<Fault> {
    let mut out = BTreeSet::new();
    let Some(latest) = window.last() else {
        return out;
    };
    let letter = latest.flag.letter();
    if s.flags
        .iter()
        .any(|f| f.trim().eq_ignore_ascii_case(&letter.to_string()))
    {
        out.insert(Fault::Flag(letter));
    }
    let report = wq::qc::check_series(code, window, &s.qc);
    if let Some(flags) = report.flags.last() {
        if s.constant && flags.contains(QcFlags::CONSTANT) {
            out.insert(Fault::Constant);
        }
        if s.spike && flags.contains(QcFlags::SPIKE) {
            out.insert(Fault::Spike);
        }
        if s.out_of_range
            && (flags.contains(QcFlags::OUT_OF_RANGE)
                || flags.contains(QcFlags::ABOVE_INSTRUMENT_RANGE))
        {
            // flag T is reported as its own fault
            if latest.flag != DataFlag::T || flags.contains(QcFlags::OUT_OF_RANGE) {
                out.insert(Fault::OutOfRange);
            }
        }
    }
    out
}

/// Samples kept for the QC checks: enough for the constant-value rule (probes: hours;
/// analysers: cycles) and the spike rule (the previous value).
const MAX_QC_SAMPLES: usize = 2048;

#[derive(Debug, Default)]
struct FaultState {
    window: VecDeque<Sample>,
    raised: bool,
    healthy_run: usize,
}

impl FaultState {
    fn observe(
        &mut self,
        s: &SensorFaultSettings,
        info: &StreamInfo,
        r: &Reading,
    ) -> Option<Verdict> {
        let t_s = r.t.div_euclid(SECOND);
        if self.window.back().is_some_and(|last| t_s <= last.time) {
            return None;
        }
        let sample = Sample {
            time: t_s,
            value: r.value.unwrap_or(f64::NAN),
            censored: r.censored,
            flag: r.flag,
        };
        self.window.push_back(sample);
        let th = s.qc.thresholds_for(&info.parameter);
        let interval = info.interval_s.unwrap_or(3600).max(1);
        let keep_s = ((th.probe_constant_hours * 3600.0) as i64)
            .max(th.analyser_constant_cycles as i64 * interval)
            .max(2 * interval);
        while self.window.len() > MAX_QC_SAMPLES
            || self.window.front().is_some_and(|f| f.time < t_s - keep_s)
        {
            self.window.pop_front();
        }
        let faults = if r.value.is_some() || r.flag != DataFlag::N {
            let samples: Vec<Sample> = self.window.iter().copied().collect();
            let mut f = faults_of_latest(&info.parameter, &samples, s);
            if r.value.is_none() {
                f.remove(&Fault::OutOfRange); // a non-numeric result is not a range fault
            }
            f
        } else {
            BTreeSet::new()
        };
        if faults.is_empty() {
            if !self.raised {
                return None;
            }
            self.healthy_run += 1;
            if self.healthy_run < s.clear_after.max(1) {
                return None;
            }
            self.raised = false;
            self.healthy_run = 0;
            return Some(resolve(
                info,
                RuleKind::SensorFault,
                format!(
                    "{} {}: readings are healthy again",
                    info.station,
                    parameter_name(&info.parameter)
                ),
                json!({ "time_us": r.t }),
            ));
        }
        self.raised = true;
        self.healthy_run = 0;
        let severity = faults
            .iter()
            .map(|f| f.severity())
            .max()
            .unwrap_or(Severity::Warning);
        let described: Vec<String> = faults.iter().map(|f| f.describe()).collect();
        let message = format!(
            "{} {}: {}",
            info.station,
            parameter_name(&info.parameter),
            described.join(", ")
        );
        let details = json!({ "faults": faults, "value": r.value, "flag": r.flag.letter().to_string(), "time_us": r.t });
        Some(trigger(
            info,
            RuleKind::SensorFault,
            severity,
            message,
            details,
            r.t,
        ))
    }
}

// ---------------------------------------------------------------------------------------------
// Bloom risk
// ---------------------------------------------------------------------------------------------

/// The `[alert, bloom]` thresholds of a bloom indicator.
pub fn bloom_thresholds(code: &str, s: &BloomSettings) -> Option<[f64; 2]> {
    match code {
        wq::codes::CHL_A => Some(s.chl_a),
        wq::codes::ALGAL_DENSITY => Some(s.algal_density),
        _ => None,
    }
}

#[derive(Debug, Default)]
struct BloomState {
    filter: Debounce,
}

impl BloomState {
    fn observe(&mut self, s: &BloomSettings, info: &StreamInfo, r: &Reading) -> Option<Verdict> {
        let [alert, bloom] = bloom_thresholds(&info.parameter, s)?;
        let v = r.valid_value()?;
        let level = TargetLimit::AtMost(alert).level(v, s.hysteresis);
        let d = Durations {
            raise_s: s.min_duration_s,
            clear_s: s.clear_duration_s,
        };
        let name = parameter_name(&info.parameter);
        let unit = unit(&info.parameter);
        match self.filter.step(r.t, info.covers(), level, d) {
            Step::Raise | Step::Hold => {
                let (stage, base) = if v >= bloom {
                    ("bloom", Severity::Major)
                } else {
                    ("bloom risk", Severity::Minor)
                };
                let severity = if info.drinking_water {
                    base.raised()
                } else {
                    base
                };
                let message = format!(
                    "{} {stage}: {name} {v} {unit} (alert ≥{alert}, bloom ≥{bloom})",
                    info.station
                );
                let details = json!({ "value": v, "unit": unit, "stage": stage, "alert_threshold": alert, "bloom_threshold": bloom, "time_us": r.t });
                Some(trigger(
                    info,
                    RuleKind::Bloom,
                    severity,
                    message,
                    details,
                    r.t,
                ))
            }
            Step::Clear => Some(resolve(
                info,
                RuleKind::Bloom,
                format!(
                    "{} {name} below the bloom alert level ({v} {unit})",
                    info.station
                ),
                json!({ "value": v }),
            )),
            Step::Quiet => None,
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Offline stations
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy, PartialEq)]
struct StationClock {
    /// Wall time (µs) data last arrived.
    last_seen: i64,
    /// The station's shortest reporting interval (s).
    interval_s: i64,
    offline: bool,
    drinking_water: bool,
}

/// Last-seen tracking per station. A station that never reported since it was added is not
/// watched (it is not commissioned); one that reported once is watched from then on.
#[derive(Debug, Default)]
pub struct OfflineTracker {
    stations: BTreeMap<String, StationClock>,
}

impl OfflineTracker {
    /// Data from `station` arrived at wall time `now`. Returns a resolve verdict if it was offline.
    pub fn seen(
        &mut self,
        station: &str,
        interval_s: Option<i64>,
        drinking_water: bool,
        now: i64,
    ) -> Option<Verdict> {
        let interval = interval_s.filter(|&i| i > 0)?;
        let clock = self
            .stations
            .entry(station.to_owned())
            .or_insert(StationClock {
                last_seen: now,
                interval_s: interval,
                offline: false,
                drinking_water,
            });
        clock.interval_s = clock.interval_s.min(interval);
        clock.last_seen = clock.last_seen.max(now);
        clock.drinking_water = drinking_water;
        if clock.offline {
            clock.offline = false;
            return Some(Verdict::Resolve {
                rule: RuleKind::Offline,
                source: station.to_owned(),
                message: format!("{station} is back online"),
                details: json!({ "back_at_us": now }),
            });
        }
        None
    }

    /// Starts watching a station that last reported at `last_seen` (from the store at start).
    pub fn watch(&mut self, station: &str, interval_s: i64, drinking_water: bool, last_seen: i64) {
        let clock = self
            .stations
            .entry(station.to_owned())
            .or_insert(StationClock {
                last_seen,
                interval_s,
                offline: false,
                drinking_water,
            });
        clock.interval_s = clock.interval_s.min(interval_s);
        clock.last_seen = clock.last_seen.max(last_seen);
    }

    /// An offline alert is open for `station` (restored after a restart).
    pub fn set_offline(&mut self, station: &str) {
        if let Some(c) = self.stations.get_mut(station) {
            c.offline = true;
        }
    }

    /// The silence (s) after which a station with this interval is offline.
    pub fn silence_limit_s(s: &OfflineSettings, interval_s: i64) -> i64 {
        s.after_s
            .unwrap_or_else(|| (s.multiple * interval_s as f64).ceil() as i64)
            .max(s.min_silence_s)
    }

    /// Stations that have just gone silent for too long at wall time `now`.
    pub fn check(&mut self, s: &OfflineSettings, now: i64) -> Vec<Verdict> {
        let mut out = Vec::new();
        for (code, c) in self.stations.iter_mut() {
            let limit_s = Self::silence_limit_s(s, c.interval_s);
            let silent_us = now - c.last_seen;
            if !c.offline && silent_us > limit_s.saturating_mul(SECOND) {
                c.offline = true;
                let severity = if c.drinking_water {
                    s.severity.raised()
                } else {
                    s.severity
                };
                out.push(Verdict::Trigger(Trigger {
                    rule: RuleKind::Offline,
                    source: code.clone(),
                    station: Some(code.clone()),
                    parameter: None,
                    datastream_id: None,
                    severity,
                    message: format!("{code} is offline: no data for {} s (limit {limit_s} s)", silent_us / SECOND),
                    details: json!({ "last_seen_us": c.last_seen, "silence_limit_s": limit_s, "interval_s": c.interval_s }),
                    observed_at: None,
                }));
            }
        }
        out
    }
}

// ---------------------------------------------------------------------------------------------
// All rules together
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default)]
struct StreamState {
    exceedance: ExceedanceState,
    trend: TrendState,
    fault: FaultState,
    bloom: BloomState,
}

/// Every rule's state, fed one observation (or clock tick) at a time.
#[derive(Debug, Default)]
pub struct Evaluator {
    pub settings: RuleSettings,
    streams: HashMap<i64, StreamState>,
    offline: OfflineTracker,
    /// Open alerts restored at start whose sources have not been seen yet.
    restored: BTreeSet<(RuleKind, String)>,
}

impl Evaluator {
    pub fn new(settings: RuleSettings) -> Self {
        Evaluator {
            settings,
            ..Default::default()
        }
    }

    /// One committed observation of `info`'s datastream, arrived at wall time `now`.
    pub fn observe(&mut self, info: &StreamInfo, r: &Reading, now: i64) -> Vec<Verdict> {
        let s = &self.settings;
        let mut out = Vec::new();
        if s.offline.enabled
            && let Some(v) =
                self.offline
                    .seen(&info.station, info.interval_s, info.drinking_water, now)
        {
            out.push(v);
        }
        let state = self.streams.entry(info.datastream_id).or_insert_with(|| {
            let mut st = StreamState::default();
            let source = info.source();
            for rule in [
                RuleKind::Exceedance,
                RuleKind::Trend,
                RuleKind::SensorFault,
                RuleKind::Bloom,
            ] {
                if self.restored.remove(&(rule, source.clone())) {
                    match rule {
                        RuleKind::Exceedance => st.exceedance.filter.set_raised(),
                        RuleKind::Trend => st.trend.raised = true,
                        RuleKind::SensorFault => st.fault.raised = true,
                        _ => st.bloom.filter.set_raised(),
                    }
                }
            }
            st
        });
        if s.sensor_fault.enabled {
            out.extend(state.fault.observe(&s.sensor_fault, info, r));
        }
        if s.threshold_data_kinds.iter().any(|k| k == &info.data_kind) {
            if s.exceedance.enabled {
                out.extend(state.exceedance.observe(&s.exceedance, info, r));
            }
            if s.trend.enabled {
                out.extend(state.trend.observe(&s.trend, info, r));
            }
            if s.bloom.enabled {
                out.extend(state.bloom.observe(&s.bloom, info, r));
            }
        }
        out
    }

    /// The clock: stations silent for too long.
    pub fn tick(&mut self, now: i64) -> Vec<Verdict> {
        if !self.settings.offline.enabled {
            return Vec::new();
        }
        self.offline.check(&self.settings.offline, now)
    }

    /// Watch a station from its last data in the store (at start).
    pub fn watch_station(
        &mut self,
        station: &str,
        interval_s: i64,
        drinking_water: bool,
        last_seen: i64,
    ) {
        self.offline
            .watch(station, interval_s, drinking_water, last_seen);
    }

    /// An alert of (rule, source) is open in the store (at start): the rule continues from
    /// "raised", so recovery clears it and a persisting condition updates it.
    pub fn restore_open(&mut self, rule: RuleKind, source: &str) {
        match rule {
            RuleKind::Offline => self.offline.set_offline(source),
            RuleKind::Intrusion => {}
            _ => {
                self.restored.insert((rule, source.to_owned()));
            }
        }
    }

    /// The alert of (rule, source) was cleared by hand at wall time `now`: start its rule over
    /// (a still-silent station gets a full silence period again). `source_of` maps a
    /// datastream id to its source.
    pub fn reset(
        &mut self,
        rule: RuleKind,
        source: &str,
        now: i64,
        source_of: impl Fn(i64) -> Option<String>,
    ) {
        self.restored.remove(&(rule, source.to_owned()));
        if rule == RuleKind::Offline {
            if let Some(c) = self.offline.stations.get_mut(source) {
                c.offline = false;
                c.last_seen = c.last_seen.max(now);
            }
            return;
        }
        for (id, st) in self.streams.iter_mut() {
            if source_of(*id).as_deref() == Some(source) {
                match rule {
                    RuleKind::Exceedance => st.exceedance.filter.reset(),
                    RuleKind::Trend => st.trend.raised = false,
                    RuleKind::SensorFault => {
                        st.fault.raised = false;
                        st.fault.healthy_run = 0;
                    }
                    RuleKind::Bloom => st.bloom.filter.reset(),
                    _ => {}
                }
            }
        }
    }
}
