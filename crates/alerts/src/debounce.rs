//! The filter between a threshold and an alert: a minimum duration before raising, and
//! hysteresis plus a minimum duration before clearing, so one noisy value does not flap.
//!
//! Durations are measured in *data coverage*: the span from the first sample of a run to the
//! current one, plus the current sample's reporting interval. One 4-hourly analyser result thus
//! covers 4 h and can raise a 15-minute rule at once, while 5-minute probe values need three in a
//! row. A value between the clear threshold and the raise threshold (the hysteresis band) neither
//! raises nor clears: it ends a pending raise and a pending clear.

use serde::{Deserialize, Serialize};

/// Where one value stands against a rule's thresholds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Level {
    /// Over the raise threshold.
    Breach,
    /// Between the clear threshold and the raise threshold.
    Band,
    /// Back on the good side of the clear threshold.
    Normal,
}

/// What the filter decided for one value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Step {
    /// Nothing to report.
    Quiet,
    /// The condition has held long enough: raise.
    Raise,
    /// Still breaching while raised: re-trigger (update the open alert).
    Hold,
    /// Normal for long enough: clear.
    Clear,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Durations {
    /// Coverage (s) a breach must have before the alert is raised.
    pub raise_s: i64,
    /// Coverage (s) of normal values before it clears.
    pub clear_s: i64,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
enum Phase {
    #[default]
    Idle,
    Pending {
        since: i64,
    },
    Raised {
        recovering_since: Option<i64>,
    },
}

/// The state of one (rule, source).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Debounce {
    phase: Phase,
    last_t: Option<i64>,
}

impl Debounce {
    /// Feeds one value at `t` (µs) that represents `covers` µs of data (its reporting interval).
    /// Values older than the last one (backfill) do not move the state.
    pub fn step(&mut self, t: i64, covers: i64, level: Level, d: Durations) -> Step {
        if self.last_t.is_some_and(|last| t <= last) {
            return Step::Quiet;
        }
        self.last_t = Some(t);
        let held = |since: i64, need_s: i64| {
            t - since + covers.max(0) >= need_s.saturating_mul(crate::SECOND)
        };
        match (self.phase, level) {
            (Phase::Idle, Level::Breach) | (Phase::Pending { .. }, Level::Breach) => {
                let since = match self.phase {
                    Phase::Pending { since } => since,
                    _ => t,
                };
                if held(since, d.raise_s) {
                    self.phase = Phase::Raised {
                        recovering_since: None,
                    };
                    Step::Raise
                } else {
                    self.phase = Phase::Pending { since };
                    Step::Quiet
                }
            }
            (Phase::Idle | Phase::Pending { .. }, _) => {
                self.phase = Phase::Idle;
                Step::Quiet
            }
            (Phase::Raised { .. }, Level::Breach) => {
                self.phase = Phase::Raised {
                    recovering_since: None,
                };
                Step::Hold
            }
            (Phase::Raised { .. }, Level::Band) => {
                self.phase = Phase::Raised {
                    recovering_since: None,
                };
                Step::Quiet
            }
            (Phase::Raised { recovering_since }, Level::Normal) => {
                let since = recovering_since.unwrap_or(t);
                if held(since, d.clear_s) {
                    self.phase = Phase::Idle;
                    Step::Clear
                } else {
                    self.phase = Phase::Raised {
                        recovering_since: Some(since),
                    };
                    Step::Quiet
                }
            }
        }
    }

    pub fn is_raised(&self) -> bool {
        matches!(self.phase, Phase::Raised { .. })
    }

    /// An alert for this source is open (restored after a restart): the next normal values clear it.
    pub fn set_raised(&mut self) {
        self.phase = Phase::Raised {
            recovering_since: None,
        };
    }

    /// The alert was cleared by hand: start over, so a persisting condition raises a new alert
    /// only after the raise duration again.
    pub fn reset(&mut self) {
        self.phase = Phase::Idle;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIN: i64 = 60 * crate::SECOND;

    /// Runs 5-minute values through a 15-minute raise / 10-minute clear filter.
    fn run(levels: &[Level]) -> Vec<Step> {
        let d = Durations {
            raise_s: 900,
            clear_s: 600,
        };
        let mut f = Debounce::default();
        levels
            .iter()
            .enumerate()
            .map(|(i, &l)| f.step(i as i64 * 5 * MIN, 5 * MIN, l, d))
            .collect()
    }

    #[test]
    fn table() {
        use Level::*;
        use Step::*;
        let cases: &[(&[Level], &[Step])] = &[
            // one noisy value does not raise
            (
                &[Normal, Breach, Normal, Normal],
                &[Quiet, Quiet, Quiet, Quiet],
            ),
            // three 5-min values cover 15 min: raise on the third
            (&[Breach, Breach, Breach], &[Quiet, Quiet, Raise]),
            // a band value interrupts the pending raise
            (
                &[Breach, Breach, Band, Breach, Breach],
                &[Quiet, Quiet, Quiet, Quiet, Quiet],
            ),
            // raised: breaches re-trigger; band values hold without clearing (hysteresis)
            (
                &[Breach, Breach, Breach, Breach, Band, Band, Band],
                &[Quiet, Quiet, Raise, Hold, Quiet, Quiet, Quiet],
            ),
            // clearing needs 10 min of normal values; a band value restarts the count
            (
                &[Breach, Breach, Breach, Normal, Band, Normal, Normal],
                &[Quiet, Quiet, Raise, Quiet, Quiet, Quiet, Clear],
            ),
            // after clearing, a new breach needs the full duration again
            (
                &[
                    Breach, Breach, Breach, Normal, Normal, Breach, Breach, Breach,
                ],
                &[Quiet, Quiet, Raise, Quiet, Clear, Quiet, Quiet, Raise],
            ),
        ];
        for (i, (levels, want)) in cases.iter().enumerate() {
            assert_eq!(run(levels), *want, "case {i}");
        }
    }

    #[test]
    fn one_long_interval_value_covers_the_duration() {
        let d = Durations {
            raise_s: 900,
            clear_s: 900,
        };
        let mut f = Debounce::default();
        let four_h = 240 * MIN;
        assert_eq!(f.step(0, four_h, Level::Breach, d), Step::Raise);
        assert_eq!(f.step(four_h, four_h, Level::Normal, d), Step::Clear);
    }

    #[test]
    fn backfill_does_not_move_the_state() {
        let d = Durations {
            raise_s: 0,
            clear_s: 0,
        };
        let mut f = Debounce::default();
        assert_eq!(f.step(10 * MIN, MIN, Level::Breach, d), Step::Raise);
        assert_eq!(f.step(5 * MIN, MIN, Level::Normal, d), Step::Quiet);
        assert!(f.is_raised());
    }

    #[test]
    fn restore_and_reset() {
        let d = Durations {
            raise_s: 0,
            clear_s: 0,
        };
        let mut f = Debounce::default();
        f.set_raised();
        assert_eq!(f.step(0, MIN, Level::Normal, d), Step::Clear);
        assert_eq!(f.step(MIN, MIN, Level::Breach, d), Step::Raise);
        f.reset();
        assert_eq!(
            f.step(2 * MIN, MIN, Level::Breach, d),
            Step::Raise,
            "reset then raise again"
        );
    }
}
