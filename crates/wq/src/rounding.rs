//! 修约: round half to even (四舍六入五成双) on the decimal representation (§11).
//!
//! Binary `f64` cannot hold 0.0245 exactly (it is 0.024499…), so rounding it as a float goes the
//! wrong way. Every value is first turned into its shortest decimal spelling — the number the
//! user wrote or the instrument sent — and rounded there with `rust_decimal`.

use rust_decimal::{Decimal, RoundingStrategy};
use serde::Serialize;
use std::str::FromStr;

/// A value rounded for evaluation or display.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Rounded {
    /// The rounded number (the closest `f64` to the decimal result).
    pub value: f64,
    /// The decimal text with its trailing zeros, e.g. "0.050" or "1.0".
    pub text: String,
}

fn to_decimal(x: f64) -> Option<Decimal> {
    if !x.is_finite() {
        return None;
    }
    // `Display` for f64 prints the shortest string that round-trips, never in exponent form.
    Decimal::from_str(&x.to_string()).ok()
}

fn to_f64(d: Decimal) -> f64 {
    d.to_string().parse().unwrap_or(f64::NAN)
}

/// Number of decimals in the shortest decimal spelling of `x` (0.00005 → 5, 1.0 → 0).
pub fn decimal_places(x: f64) -> u32 {
    to_decimal(x).map(|d| d.normalize().scale()).unwrap_or(0)
}

/// Rounds half to even to `decimals` places. When the result would be 0 but the value is not,
/// one significant digit is kept instead (§11).
pub fn round_half_even(x: f64, decimals: u32) -> Rounded {
    let Some(d) = to_decimal(x) else {
        return Rounded {
            value: x,
            text: x.to_string(),
        };
    };
    let mut r = d.round_dp_with_strategy(decimals, RoundingStrategy::MidpointNearestEven);
    if r.is_zero() && !d.is_zero() {
        r = d
            .round_sf_with_strategy(1, RoundingStrategy::MidpointNearestEven)
            .unwrap_or(r);
        return Rounded {
            value: to_f64(r),
            text: r.normalize().to_string(),
        };
    }
    r.rescale(decimals);
    Rounded {
        value: to_f64(r),
        text: r.to_string(),
    }
}

/// Exceedance multiple `(value − limit) / limit`, computed in decimal arithmetic and rounded
/// half to even to `decimals` places (§7).
pub fn exceedance_multiple(value: f64, limit: f64, decimals: u32) -> Option<f64> {
    let v = to_decimal(value)?;
    let l = to_decimal(limit)?;
    if l.is_zero() {
        return None;
    }
    let m = (v - l).checked_div(l)?;
    Some(to_f64(m.round_dp_with_strategy(
        decimals,
        RoundingStrategy::MidpointNearestEven,
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reference_vectors() {
        // §11 test vectors
        for (x, dp, want) in [
            (0.0245, 3, "0.024"),
            (0.0255, 3, "0.026"),
            (0.02451, 3, "0.025"),
            (2.25, 1, "2.2"),
            (2.35, 1, "2.4"),
            // pH with 0 decimals (§5.1)
            (9.01, 0, "9"),
            (9.49, 0, "9"),
            (9.5, 0, "10"),
            (5.5, 0, "6"),
            (1.0, 2, "1.00"),
        ] {
            let r = round_half_even(x, dp);
            assert_eq!(r.text, want, "{x} to {dp}");
            assert_eq!(r.value, want.parse::<f64>().unwrap());
        }
    }

    #[test]
    fn keeps_one_significant_digit_instead_of_zero() {
        assert_eq!(round_half_even(0.0004, 3).text, "0.0004");
        assert_eq!(round_half_even(0.00046, 3).text, "0.0005");
        assert_eq!(round_half_even(0.0, 3).text, "0.000");
    }

    #[test]
    fn multiples() {
        // §7 examples
        assert_eq!(exceedance_multiple(0.072, 0.05, 2), Some(0.44));
        assert_eq!(exceedance_multiple(1.8, 1.0, 2), Some(0.8));
        assert_eq!(exceedance_multiple(7.2, 6.0, 2), Some(0.2));
        assert_eq!(exceedance_multiple(0.35, 0.2, 2), Some(0.75));
        assert_eq!(exceedance_multiple(1.0, 0.0, 2), None);
    }

    #[test]
    fn decimal_places_of_limits() {
        assert_eq!(decimal_places(0.00005), 5);
        assert_eq!(decimal_places(1.0), 0);
        assert_eq!(decimal_places(0.0000028), 7);
        assert_eq!(decimal_places(3.0), 0);
    }
}
