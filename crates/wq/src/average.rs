//! Means (§9): arithmetic for concentrations, through the hydrogen-ion concentration for pH,
//! with below-detection-limit values entering as ½ DL.

use crate::catalogue::codes;
use serde::Serialize;

/// How values of a parameter are averaged.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MeanKind {
    Arithmetic,
    /// pH: −log10(mean of 10^(−pH)) at every aggregation level (§9.2).
    HydrogenIon,
}

impl MeanKind {
    pub fn for_parameter(code: &str) -> Self {
        if code == codes::PH {
            Self::HydrogenIon
        } else {
            Self::Arithmetic
        }
    }
}

/// A mean and what went into it.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Mean {
    /// The mean in the parameter's unit (pH in pH units), unrounded.
    pub value: f64,
    /// Number of values (or daily means) averaged.
    pub n: u32,
    /// Every input was below its detection limit: the mean is shown as "DL L".
    pub all_censored: bool,
    /// Largest detection limit among the censored inputs.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detection_limit: Option<f64>,
}

/// Streaming mean accumulator; cheap enough for the per-sample loop.
#[derive(Debug, Clone, Copy, Default)]
pub struct MeanAccumulator {
    sum: f64,
    n: u32,
    n_censored: u32,
    max_dl: f64,
}

impl MeanAccumulator {
    /// Adds a value. `censored_dl` is the detection limit when the value is below it; the
    /// value then enters as ½ DL. A censored mean (from a lower level) passes its own value
    /// with `censored_dl` so that the "all censored" status carries upwards.
    #[inline]
    pub fn push(&mut self, value: f64, censored_dl: Option<f64>, kind: MeanKind) {
        let v = match censored_dl {
            Some(dl) => {
                self.n_censored += 1;
                self.max_dl = self.max_dl.max(dl);
                value
            }
            None => value,
        };
        self.sum += match kind {
            MeanKind::Arithmetic => v,
            MeanKind::HydrogenIon => 10f64.powf(-v),
        };
        self.n += 1;
    }

    /// Adds a raw sample value: ½ DL when censored.
    #[inline]
    pub fn push_sample(&mut self, value: f64, censored: bool, kind: MeanKind) {
        if censored {
            self.push(value * 0.5, Some(value), kind)
        } else {
            self.push(value, None, kind)
        }
    }

    /// Adds a lower-level mean.
    pub fn push_mean(&mut self, mean: &Mean, kind: MeanKind) {
        let dl = if mean.all_censored {
            Some(mean.detection_limit.unwrap_or(0.0))
        } else {
            None
        };
        self.push(mean.value, dl, kind);
    }

    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    pub fn finish(&self, kind: MeanKind) -> Option<Mean> {
        if self.n == 0 {
            return None;
        }
        let m = self.sum / f64::from(self.n);
        let value = match kind {
            MeanKind::Arithmetic => m,
            MeanKind::HydrogenIon => -m.log10(),
        };
        let all_censored = self.n_censored == self.n;
        Some(Mean {
            value,
            n: self.n,
            all_censored,
            detection_limit: (self.n_censored > 0).then_some(self.max_dl),
        })
    }
}

/// Mean of pH values on [H⁺].
pub fn ph_mean(values: &[f64]) -> Option<f64> {
    let mut acc = MeanAccumulator::default();
    for &v in values {
        acc.push(v, None, MeanKind::HydrogenIon);
    }
    acc.finish(MeanKind::HydrogenIon).map(|m| m.value)
}

/// Arithmetic mean with optional censoring: `(value, censored)` pairs, censored values being
/// their DL.
pub fn mean_with_censoring(values: &[(f64, bool)]) -> Option<Mean> {
    let mut acc = MeanAccumulator::default();
    for &(v, c) in values {
        acc.push_sample(v, c, MeanKind::Arithmetic);
    }
    acc.finish(MeanKind::Arithmetic)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ph_mean_on_hydrogen_ions() {
        // §9.2: pH 7, 8, 9 → 7.43 (arithmetic would be 8.00)
        let m = ph_mean(&[7.0, 8.0, 9.0]).unwrap();
        assert_eq!(crate::rounding::round_half_even(m, 2).text, "7.43");
        assert_eq!(ph_mean(&[7.5]).unwrap(), 7.5);
        assert!(ph_mean(&[]).is_none());
    }

    #[test]
    fn censored_values_enter_as_half_dl() {
        let m = mean_with_censoring(&[(0.01, true), (0.03, false)]).unwrap();
        assert!((m.value - 0.0175).abs() < 1e-12);
        assert!(!m.all_censored);
        let m = mean_with_censoring(&[(0.01, true), (0.01, true)]).unwrap();
        assert!((m.value - 0.005).abs() < 1e-12);
        assert!(m.all_censored);
        assert_eq!(m.detection_limit, Some(0.01));
    }

    #[test]
    fn censored_status_carries_through_levels() {
        let day = mean_with_censoring(&[(0.02, true)]).unwrap();
        let mut acc = MeanAccumulator::default();
        acc.push_mean(&day, MeanKind::Arithmetic);
        acc.push_mean(&day, MeanKind::Arithmetic);
        let m = acc.finish(MeanKind::Arithmetic).unwrap();
        assert!(m.all_censored);
        assert_eq!(m.value, 0.01);
    }
}
