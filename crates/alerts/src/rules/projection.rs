//! A parameter heading for its target-class limit: a least-squares projection over a window.

#[allow(unused_imports)]
use super::*;

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
pub(super) struct TrendState {
    pub(super) window: VecDeque<(i64, f64)>,
    pub(super) raised: bool,
}

impl TrendState {
    pub(super) fn observe(
        &mut self,
        s: &TrendSettings,
        info: &StreamInfo,
        r: &Reading,
    ) -> Option<Verdict> {
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
        let unit = unit(&info.parameter);
        match project(&points, limit, s) {
            Some(p) => {
                self.raised = true;
                let hours = p.seconds_to_limit / 3600.0;
                let text = Text::new("trend")
                    .with("station", info.station.as_str())
                    .with("parameter", parameter_names(&info.parameter))
                    .with("value", v)
                    .with("unit", unit)
                    .with("target", class_names(target))
                    .with("limit", limit.text())
                    .with("hours", format!("{hours:.1}"))
                    .with("slope", format!("{:+.4}", p.line.slope_per_hour));
                let details = json!({
                    "value": v, "unit": unit, "limit": limit.text(), "target_class": target.roman(),
                    "slope_per_hour": p.line.slope_per_hour, "projected": p.projected,
                    "horizon_s": s.horizon_s, "hours_to_limit": hours, "points": points.len(),
                });
                Some(trigger_text(
                    info,
                    RuleKind::Trend,
                    s.severity,
                    text,
                    details,
                    r.t,
                ))
            }
            None if self.raised => {
                self.raised = false;
                let key = if limit.level(v, 0.0) == Level::Breach {
                    "trend_reached"
                } else {
                    "trend_clear"
                };
                Some(resolve_text(
                    info,
                    RuleKind::Trend,
                    Text::new(key)
                        .with("station", info.station.as_str())
                        .with("parameter", parameter_names(&info.parameter)),
                    json!({ "value": v }),
                ))
            }
            None => None,
        }
    }
}
