//! Sensor faults from instrument flags and the `wq` QC checks.

#[allow(unused_imports)]
use super::*;

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

    pub fn describe_zh(self) -> String {
        match self {
            Fault::Flag('D') => "仪器故障（标记 D）".into(),
            Fault::Flag('F') => "仪器停运（标记 F）".into(),
            Fault::Flag('M') => "维护（标记 M）".into(),
            Fault::Flag('C') => "校准（标记 C）".into(),
            Fault::Flag('T') => "超量程（标记 T）".into(),
            Fault::Flag(c) => format!("数据标记 {c}"),
            Fault::Constant => "恒值".into(),
            Fault::Spike => "突变".into(),
            Fault::OutOfRange => "超出合理范围".into(),
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
pub(super) const MAX_QC_SAMPLES: usize = 2048;

#[derive(Debug, Default)]
pub(super) struct FaultState {
    pub(super) window: VecDeque<Sample>,
    pub(super) raised: bool,
    pub(super) healthy_run: usize,
}

impl FaultState {
    pub(super) fn observe(
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
            return Some(resolve_text(
                info,
                RuleKind::SensorFault,
                Text::new("fault_clear")
                    .with("station", info.station.as_str())
                    .with("parameter", parameter_names(&info.parameter)),
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
        let en: Vec<String> = faults.iter().map(|f| f.describe()).collect();
        let zh: Vec<String> = faults.iter().map(|f| f.describe_zh()).collect();
        let text = Text::new("fault")
            .with("station", info.station.as_str())
            .with("parameter", parameter_names(&info.parameter))
            .with("faults", both(zh.join("、"), en.join(", ")));
        let details = json!({ "faults": faults, "value": r.value, "flag": r.flag.letter().to_string(), "time_us": r.t });
        Some(trigger_text(
            info,
            RuleKind::SensorFault,
            severity,
            text,
            details,
            r.t,
        ))
    }
}
