//! The trend rule's projection: an ordinary least-squares line through the valid values of a
//! window, extended `horizon` ahead of the latest value. Deliberately simple and explainable: the
//! alert states the slope, the projected value and when the line meets the limit.

use serde::Serialize;

/// A fitted line `value = intercept + slope × (t − t_last)`, t in seconds.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Line {
    /// Units per hour (the unit of the parameter).
    pub slope_per_hour: f64,
    /// The fitted value at the latest sample's time.
    pub value_now: f64,
}

impl Line {
    /// The fitted value `seconds` after the latest sample.
    pub fn at(&self, seconds: f64) -> f64 {
        self.value_now + self.slope_per_hour * seconds / 3600.0
    }

    /// Seconds from the latest sample until the line reaches `limit` (None if it never does
    /// going forward).
    pub fn seconds_to(&self, limit: f64) -> Option<f64> {
        if self.slope_per_hour == 0.0 {
            return None;
        }
        let s = (limit - self.value_now) / self.slope_per_hour * 3600.0;
        (s >= 0.0).then_some(s)
    }
}

/// Fits a line through `(t_seconds, value)` points (any order). Needs two distinct times.
pub fn fit(points: &[(i64, f64)]) -> Option<Line> {
    let last = points.iter().map(|p| p.0).max()?;
    let n = points.len() as f64;
    if points.len() < 2 {
        return None;
    }
    // Centre on the latest time so large epoch values do not cost precision.
    let xs: Vec<f64> = points.iter().map(|p| (p.0 - last) as f64).collect();
    let mean_x = xs.iter().sum::<f64>() / n;
    let mean_y = points.iter().map(|p| p.1).sum::<f64>() / n;
    let (mut sxx, mut sxy) = (0.0, 0.0);
    for (x, p) in xs.iter().zip(points) {
        sxx += (x - mean_x) * (x - mean_x);
        sxy += (x - mean_x) * (p.1 - mean_y);
    }
    if sxx == 0.0 {
        return None;
    }
    let slope = sxy / sxx; // per second
    let value_now = mean_y - slope * mean_x; // at x = 0 (the latest time)
    Some(Line {
        slope_per_hour: slope * 3600.0,
        value_now,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn straight_line() {
        let pts: Vec<(i64, f64)> = (0..5)
            .map(|i| (1_700_000_000 + i * 3600, 0.010 + 0.002 * i as f64))
            .collect();
        let l = fit(&pts).expect("fit");
        assert!((l.slope_per_hour - 0.002).abs() < 1e-12);
        assert!((l.value_now - 0.018).abs() < 1e-12);
        assert!((l.at(3600.0) - 0.020).abs() < 1e-12);
        let s = l.seconds_to(0.025).expect("reaches");
        assert!((s - 3.5 * 3600.0).abs() < 1e-6);
        assert_eq!(l.seconds_to(0.0), None, "the past does not count");
    }

    #[test]
    fn degenerate() {
        assert_eq!(fit(&[]), None);
        assert_eq!(fit(&[(0, 1.0)]), None);
        assert_eq!(fit(&[(5, 1.0), (5, 2.0)]), None);
        let flat = fit(&[(0, 1.0), (60, 1.0)]).expect("fit");
        assert_eq!(flat.seconds_to(2.0), None);
    }
}
