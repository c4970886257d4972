//! Automatic QC checks over one parameter's series (§13.3, §13.4). They only flag values; data
//! is never deleted. The thresholds are conventions, configurable per parameter.

use crate::catalogue::{self, InstrumentKind, codes as c};
use crate::sample::Sample;
use serde::{Deserialize, Serialize, Serializer};
use std::collections::BTreeMap;

/// QC flags of one value, as a small bit set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Hash)]
pub struct QcFlags(u8);

impl QcFlags {
    /// HJ 212 data flag other than N (or S unless `qc.flag_s_valid`).
    pub const INSTRUMENT_FLAG: Self = Self(1);
    /// Negative value (not water temperature), or pH outside 0–14.
    pub const OUT_OF_RANGE: Self = Self(1 << 1);
    /// Above the instrument's range (or flag T).
    pub const ABOVE_INSTRUMENT_RANGE: Self = Self(1 << 2);
    /// 恒值: unchanged for too long.
    pub const CONSTANT: Self = Self(1 << 3);
    /// 突变: jump larger than the configured share of the normal range.
    pub const SPIKE: Self = Self(1 << 4);
    /// Exactly 0 from an instrument that reports no detection limit.
    pub const SUSPECT_ZERO: Self = Self(1 << 5);

    const NAMES: [(Self, &'static str); 6] = [
        (Self::INSTRUMENT_FLAG, "instrument_flag"),
        (Self::OUT_OF_RANGE, "out_of_range"),
        (Self::ABOVE_INSTRUMENT_RANGE, "above_instrument_range"),
        (Self::CONSTANT, "constant"),
        (Self::SPIKE, "spike"),
        (Self::SUSPECT_ZERO, "suspect_zero"),
    ];

    pub fn is_empty(self) -> bool {
        self.0 == 0
    }

    pub fn contains(self, other: Self) -> bool {
        self.0 & other.0 == other.0
    }

    pub fn insert(&mut self, other: Self) {
        self.0 |= other.0;
    }

    /// Whether the value is kept out of statistics. Every flag excludes: invalid ones for good,
    /// suspect ones (constant, spike, zero) until a reviewer accepts them.
    pub fn excludes(self) -> bool {
        !self.is_empty()
    }

    pub fn names(self) -> Vec<&'static str> {
        Self::NAMES
            .iter()
            .filter(|(f, _)| self.contains(*f))
            .map(|(_, n)| *n)
            .collect()
    }
}

impl Serialize for QcFlags {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.names().serialize(s)
    }
}

/// Thresholds and switches of the QC checks for one parameter (`qc.*`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct QcThresholds {
    /// Overrides the catalogue's instrument kind (probe / analyser / manual).
    pub instrument: Option<InstrumentKind>,
    pub flag_check: bool,
    pub range_check: bool,
    pub constant_check: bool,
    pub gap_check: bool,
    pub spike_check: bool,
    pub zero_check: bool,
    /// Upper end of the instrument's measuring range.
    pub instrument_max: Option<f64>,
    /// Probes: constant when unchanged for at least this long (6 h).
    pub probe_constant_hours: f64,
    /// Analysers: constant after this many identical consecutive cycles (6 = 24 h).
    pub analyser_constant_cycles: usize,
    /// Probes: a gap is no data for at least this long (2 h).
    pub probe_gap_hours: f64,
    /// Analysers: the nominal cycle (4 h) …
    pub analyser_cycle_hours: f64,
    /// … plus this grace before a missed cycle is a gap (30 min).
    pub analyser_grace_minutes: f64,
    /// Spike when consecutive values differ by more than this share of the normal range (0.5).
    pub spike_fraction: f64,
    /// The parameter's normal range at this station (e.g. P1–P99 of the last 90 days); the
    /// spike check runs only when it is set.
    pub normal_range: Option<[f64; 2]>,
    /// The instrument reports a detection limit, so an exact 0 is a real reading.
    pub reports_detection_limit: bool,
}

impl Default for QcThresholds {
    fn default() -> Self {
        Self {
            instrument: None,
            flag_check: true,
            range_check: true,
            constant_check: true,
            gap_check: true,
            spike_check: true,
            zero_check: true,
            instrument_max: None,
            probe_constant_hours: 6.0,
            analyser_constant_cycles: 6,
            probe_gap_hours: 2.0,
            analyser_cycle_hours: 4.0,
            analyser_grace_minutes: 30.0,
            spike_fraction: 0.5,
            normal_range: None,
            reports_detection_limit: false,
        }
    }
}

/// `qc.*`
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct QcSettings {
    /// `qc.flag_s_valid`: count S-flagged (manually set) values (off).
    pub flag_s_valid: bool,
    /// Run the value checks (range, constant, spike, zero) before averaging (on). The flag
    /// rule of §13.3 always applies.
    pub apply_checks: bool,
    /// Thresholds for parameters without their own entry.
    pub defaults: QcThresholds,
    /// Per-parameter thresholds, keyed by catalogue code.
    pub per_parameter: BTreeMap<String, QcThresholds>,
}

impl Default for QcSettings {
    fn default() -> Self {
        Self {
            flag_s_valid: false,
            apply_checks: true,
            defaults: QcThresholds::default(),
            per_parameter: BTreeMap::new(),
        }
    }
}

impl QcSettings {
    pub fn thresholds_for(&self, code: &str) -> &QcThresholds {
        self.per_parameter.get(code).unwrap_or(&self.defaults)
    }
}

/// A stretch without data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Gap {
    /// Time of the last value before the gap.
    pub after: i64,
    /// Time of the first value after it.
    pub before: i64,
}

/// QC result for one series: one flag set per sample (same order) and the gap events.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct QcReport {
    pub flags: Vec<QcFlags>,
    pub gaps: Vec<Gap>,
}

impl QcReport {
    pub fn n_flagged(&self) -> usize {
        self.flags.iter().filter(|f| f.excludes()).count()
    }
}

fn instrument_kind(code: &str, t: &QcThresholds) -> InstrumentKind {
    t.instrument
        .or_else(|| catalogue::by_code(code).map(|p| p.instrument))
        .unwrap_or(InstrumentKind::Manual)
}

/// Runs every enabled check on a series sorted by time.
pub fn check_series(code: &str, samples: &[Sample], settings: &QcSettings) -> QcReport {
    let t = settings.thresholds_for(code);
    let kind = instrument_kind(code, t);
    let mut flags = vec![QcFlags::default(); samples.len()];
    if t.flag_check {
        check_flags(samples, settings.flag_s_valid, &mut flags);
    }
    let mut gaps = Vec::new();
    if settings.apply_checks {
        if t.range_check {
            check_range(code, samples, t.instrument_max, &mut flags);
        }
        if t.zero_check && !t.reports_detection_limit && code != c::WATER_TEMPERATURE {
            check_zero(samples, &mut flags);
        }
        if t.constant_check {
            check_constant(samples, kind, t, &mut flags);
        }
        if t.spike_check
            && let Some([lo, hi]) = t.normal_range
        {
            check_spike(samples, t.spike_fraction * (hi - lo), &mut flags);
        }
        if t.gap_check {
            gaps = find_gaps(samples, kind, t);
        }
    }
    QcReport { flags, gaps }
}

/// Instrument flags (§13.3): anything but N is invalid; S only if `flag_s_valid` is off.
pub fn check_flags(samples: &[Sample], flag_s_valid: bool, flags: &mut [QcFlags]) {
    for (s, f) in samples.iter().zip(flags) {
        if !s.flag.is_valid_for_statistics(flag_s_valid) {
            f.insert(QcFlags::INSTRUMENT_FLAG);
        }
        if s.flag == crate::sample::DataFlag::T {
            f.insert(QcFlags::ABOVE_INSTRUMENT_RANGE);
        }
    }
}

/// Range (§13.4): negative values (any item but water temperature), pH outside 0–14, values
/// above the instrument's range.
pub fn check_range(
    code: &str,
    samples: &[Sample],
    instrument_max: Option<f64>,
    flags: &mut [QcFlags],
) {
    let allow_negative = code == c::WATER_TEMPERATURE;
    let is_ph = code == c::PH;
    for (s, f) in samples.iter().zip(flags) {
        let v = s.value;
        if !v.is_finite() || (!allow_negative && v < 0.0) || (is_ph && !(0.0..=14.0).contains(&v)) {
            f.insert(QcFlags::OUT_OF_RANGE);
        }
        if instrument_max.is_some_and(|max| v > max) {
            f.insert(QcFlags::ABOVE_INSTRUMENT_RANGE);
        }
    }
}

/// An exact 0 from an instrument without a reported detection limit is suspect (§5.1).
pub fn check_zero(samples: &[Sample], flags: &mut [QcFlags]) {
    for (s, f) in samples.iter().zip(flags) {
        if s.value == 0.0 && !s.censored {
            f.insert(QcFlags::SUSPECT_ZERO);
        }
    }
}

/// Constant value (恒值): probes unchanged for ≥ `probe_constant_hours`; analysers the same
/// value for ≥ `analyser_constant_cycles` cycles. Values already flagged and censored values
/// (a repeated "0.01L" is normal) do not take part. Manual data is not checked.
pub fn check_constant(
    samples: &[Sample],
    kind: InstrumentKind,
    t: &QcThresholds,
    flags: &mut [QcFlags],
) {
    if kind == InstrumentKind::Manual {
        return;
    }
    let min_seconds = (t.probe_constant_hours * 3600.0) as i64;
    // Indices of the current run of equal values.
    let mut run: Vec<usize> = Vec::new();
    let close_run = |run: &mut Vec<usize>, flags: &mut [QcFlags]| {
        if let (Some(&first), Some(&last)) = (run.first(), run.last()) {
            let constant = match kind {
                InstrumentKind::Probe => samples[last].time - samples[first].time >= min_seconds,
                _ => run.len() >= t.analyser_constant_cycles.max(2),
            };
            if constant && run.len() >= 2 {
                for &i in run.iter() {
                    flags[i].insert(QcFlags::CONSTANT);
                }
            }
        }
        run.clear();
    };
    for i in 0..samples.len() {
        let s = &samples[i];
        if s.censored || flags[i].excludes() {
            continue;
        }
        match run.last() {
            Some(&j) if samples[j].value == s.value => run.push(i),
            _ => {
                close_run(&mut run, flags);
                run.push(i);
            }
        }
    }
    close_run(&mut run, flags);
}

/// Spike (突变): the change from the previous usable value exceeds `max_jump`.
pub fn check_spike(samples: &[Sample], max_jump: f64, flags: &mut [QcFlags]) {
    let mut previous: Option<f64> = None;
    for (s, f) in samples.iter().zip(flags.iter_mut()) {
        if f.excludes() || s.censored {
            continue;
        }
        if previous.is_some_and(|p| (s.value - p).abs() > max_jump) {
            f.insert(QcFlags::SPIKE);
        }
        previous = Some(s.value);
    }
}

/// Gaps (缺失): probes with no data for ≥ `probe_gap_hours`; analysers with nothing by the
/// next cycle time + grace. Manual data has no expected cadence.
pub fn find_gaps(samples: &[Sample], kind: InstrumentKind, t: &QcThresholds) -> Vec<Gap> {
    let limit = match kind {
        InstrumentKind::Probe => (t.probe_gap_hours * 3600.0) as i64,
        InstrumentKind::Analyser => {
            (t.analyser_cycle_hours * 3600.0 + t.analyser_grace_minutes * 60.0) as i64
        }
        InstrumentKind::Manual => return Vec::new(),
    };
    let exceeds = |d: i64| match kind {
        InstrumentKind::Probe => d >= limit,
        _ => d > limit,
    };
    samples
        .windows(2)
        .filter(|w| exceeds(w[1].time - w[0].time))
        .map(|w| Gap {
            after: w[0].time,
            before: w[1].time,
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sample::DataFlag;

    const H: i64 = 3600;

    fn series(step: i64, values: &[f64]) -> Vec<Sample> {
        values
            .iter()
            .enumerate()
            .map(|(i, &v)| Sample::new(i as i64 * step, v))
            .collect()
    }

    #[test]
    fn flags_and_range() {
        let mut s = series(300, &[7.0, -1.0, 15.0, 7.2, 7.1]);
        s[3].flag = DataFlag::M;
        s[4].flag = DataFlag::T;
        let r = check_series(c::PH, &s, &QcSettings::default());
        assert!(r.flags[0].is_empty());
        assert!(r.flags[1].contains(QcFlags::OUT_OF_RANGE));
        assert!(r.flags[2].contains(QcFlags::OUT_OF_RANGE));
        assert!(r.flags[3].contains(QcFlags::INSTRUMENT_FLAG));
        assert!(r.flags[4].contains(QcFlags::ABOVE_INSTRUMENT_RANGE));
        // negative water temperature is fine
        let t = check_series(
            c::WATER_TEMPERATURE,
            &series(300, &[-0.5, 0.0]),
            &QcSettings::default(),
        );
        assert!(t.flags.iter().all(|f| f.is_empty()));
    }

    #[test]
    fn flag_s_is_configurable() {
        let s = [Sample::new(0, 1.0).with_flag(DataFlag::S)];
        assert!(!check_series(c::COD, &s, &QcSettings::default()).flags[0].is_empty());
        let settings = QcSettings {
            flag_s_valid: true,
            ..QcSettings::default()
        };
        assert!(check_series(c::COD, &s, &settings).flags[0].is_empty());
    }

    #[test]
    fn constant_probe_needs_six_hours() {
        // 5-minute DO: 6 h of identical values = 73 samples spanning exactly 6 h
        let mut v = vec![8.0; 73];
        v.insert(0, 7.9);
        let r = check_series(c::DO, &series(300, &v), &QcSettings::default());
        assert!(!r.flags[0].contains(QcFlags::CONSTANT));
        assert!(r.flags[1..].iter().all(|f| f.contains(QcFlags::CONSTANT)));
        // 5 h 55 min is not constant yet
        let r = check_series(c::DO, &series(300, &[8.0; 72]), &QcSettings::default());
        assert_eq!(r.n_flagged(), 0);
    }

    #[test]
    fn constant_analyser_counts_cycles() {
        let r = check_series(c::TP, &series(4 * H, &[0.024; 5]), &QcSettings::default());
        assert_eq!(
            r.n_flagged(),
            0,
            "5 equal 4-hourly TP values are legitimate"
        );
        let r = check_series(c::TP, &series(4 * H, &[0.024; 6]), &QcSettings::default());
        assert_eq!(r.n_flagged(), 6);
        // censored repeats are not constant-value faults
        let s: Vec<_> = (0..10)
            .map(|i| Sample::below_detection_limit(i * 4 * H, 0.01))
            .collect();
        assert_eq!(
            check_series(c::TP, &s, &QcSettings::default()).n_flagged(),
            0
        );
    }

    #[test]
    fn gaps() {
        let probe = [
            Sample::new(0, 8.0),
            Sample::new(2 * H - 300, 8.1),
            Sample::new(4 * H - 300, 8.2),
        ];
        let r = check_series(c::DO, &probe, &QcSettings::default());
        assert_eq!(
            r.gaps,
            vec![Gap {
                after: 2 * H - 300,
                before: 4 * H - 300
            }]
        );
        let analyser = [
            Sample::new(0, 0.1),
            Sample::new(4 * H + 1800, 0.11),
            Sample::new(8 * H + 1801 + 1800, 0.12),
        ];
        let r = check_series(c::TP, &analyser, &QcSettings::default());
        assert_eq!(r.gaps.len(), 1);
        assert_eq!(r.gaps[0].after, 4 * H + 1800);
    }

    #[test]
    fn spike_needs_a_normal_range() {
        let s = series(300, &[7.0, 7.1, 9.5, 7.1]);
        assert_eq!(
            check_series(c::PH, &s, &QcSettings::default()).n_flagged(),
            0
        );
        let mut settings = QcSettings::default();
        settings.per_parameter.insert(
            c::PH.into(),
            QcThresholds {
                normal_range: Some([6.5, 8.5]),
                ..QcThresholds::default()
            },
        );
        let r = check_series(c::PH, &s, &settings);
        // the jump up and the jump back both exceed 50 % of the 2.0 range
        assert!(r.flags[2].contains(QcFlags::SPIKE));
        assert!(r.flags[3].contains(QcFlags::SPIKE));
        assert!(r.flags[1].is_empty());
    }

    #[test]
    fn suspect_zero_unless_instrument_reports_dl() {
        let s = series(4 * H, &[0.0, 0.1]);
        let r = check_series(c::NH3_N, &s, &QcSettings::default());
        assert!(r.flags[0].contains(QcFlags::SUSPECT_ZERO));
        let mut settings = QcSettings::default();
        settings.defaults.reports_detection_limit = true;
        assert_eq!(check_series(c::NH3_N, &s, &settings).n_flagged(), 0);
    }

    #[test]
    fn checks_never_remove_data() {
        let s = series(300, &[1.0, -1.0, 2.0]);
        let r = check_series(c::COD, &s, &QcSettings::default());
        assert_eq!(r.flags.len(), s.len());
    }
}
