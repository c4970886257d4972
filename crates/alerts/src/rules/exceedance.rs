//! Exceedance of the station's target class, with minimum duration and hysteresis.

#[allow(unused_imports)]
use super::*;

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
pub(super) struct ExceedanceState {
    pub(super) filter: Debounce,
}

impl ExceedanceState {
    pub(super) fn observe(
        &mut self,
        s: &ExceedanceSettings,
        info: &StreamInfo,
        r: &Reading,
    ) -> Option<Verdict> {
        if !s.alert_separately_reported && s.separately_reported.contains(&info.parameter) {
            return None;
        }
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
                let text = Text::new(if separate {
                    "exceedance_separate"
                } else {
                    "exceedance"
                })
                .with("station", info.station.as_str())
                .with("parameter", parameter_names(&info.parameter))
                .with("value", v)
                .with("unit", unit)
                .with("class", class_names(class))
                .with("target", class_names(target))
                .with("limit", limit.text());
                let details = json!({
                    "value": v, "unit": unit, "class": class.roman(), "target_class": target.roman(),
                    "limit": limit.text(), "time_us": r.t,
                });
                Some(trigger_text(
                    info,
                    RuleKind::Exceedance,
                    severity,
                    text,
                    details,
                    r.t,
                ))
            }
            Step::Clear => Some(resolve_text(
                info,
                RuleKind::Exceedance,
                Text::new("exceedance_clear")
                    .with("station", info.station.as_str())
                    .with("parameter", parameter_names(&info.parameter))
                    .with("target", class_names(target))
                    .with("value", v)
                    .with("unit", unit),
                json!({ "value": v, "time_us": r.t }),
            )),
            Step::Quiet => None,
        }
    }
}
