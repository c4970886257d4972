//! Bloom risk from chlorophyll a and algal density.

#[allow(unused_imports)]
use super::*;

/// The `[alert, bloom]` thresholds of a bloom indicator.
pub fn bloom_thresholds(code: &str, s: &BloomSettings) -> Option<[f64; 2]> {
    match code {
        wq::codes::CHL_A => Some(s.chl_a),
        wq::codes::ALGAL_DENSITY => Some(s.algal_density),
        _ => None,
    }
}

#[derive(Debug, Default)]
pub(super) struct BloomState {
    pub(super) filter: Debounce,
}

impl BloomState {
    pub(super) fn observe(
        &mut self,
        s: &BloomSettings,
        info: &StreamInfo,
        r: &Reading,
    ) -> Option<Verdict> {
        let [alert, bloom] = bloom_thresholds(&info.parameter, s)?;
        let v = r.valid_value()?;
        let level = TargetLimit::AtMost(alert).level(v, s.hysteresis);
        let d = Durations {
            raise_s: s.min_duration_s,
            clear_s: s.clear_duration_s,
        };
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
                let stage_names = if stage == "bloom" {
                    both("水华", "bloom")
                } else {
                    both("水华风险", "bloom risk")
                };
                let text = Text::new("bloom")
                    .with("station", info.station.as_str())
                    .with("stage", stage_names)
                    .with("parameter", parameter_names(&info.parameter))
                    .with("value", v)
                    .with("unit", unit)
                    .with("alert", alert)
                    .with("bloom", bloom);
                let details = json!({ "value": v, "unit": unit, "stage": stage, "alert_threshold": alert, "bloom_threshold": bloom, "time_us": r.t });
                Some(trigger_text(
                    info,
                    RuleKind::Bloom,
                    severity,
                    text,
                    details,
                    r.t,
                ))
            }
            Step::Clear => Some(resolve_text(
                info,
                RuleKind::Bloom,
                Text::new("bloom_clear")
                    .with("station", info.station.as_str())
                    .with("parameter", parameter_names(&info.parameter))
                    .with("value", v)
                    .with("unit", unit),
                json!({ "value": v }),
            )),
            Step::Quiet => None,
        }
    }
}
