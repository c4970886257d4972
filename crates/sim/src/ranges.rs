//! The assumed normal ranges of hongfeng.md §4 (assumptions, not measurements). The generator
//! keeps weather-and-season values inside them; scripted and recurrent events may leave them.

/// What the generator knows how to produce.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Quantity {
    Temp,
    Ph,
    Do,
    Conductivity,
    Turbidity,
    CodMn,
    Nh3n,
    Tp,
    Tn,
    Chla,
    AlgalDensity,
    Sd,
    FecalColiform,
    Fe,
    Mn,
}

impl Quantity {
    pub fn from_code(code: &str) -> Option<Quantity> {
        Some(match code {
            "water_temp" => Quantity::Temp,
            "ph" => Quantity::Ph,
            "do" => Quantity::Do,
            "conductivity" => Quantity::Conductivity,
            "turbidity" => Quantity::Turbidity,
            "cod_mn" => Quantity::CodMn,
            "nh3_n" => Quantity::Nh3n,
            "tp" => Quantity::Tp,
            "tn" => Quantity::Tn,
            "chl_a" => Quantity::Chla,
            "algal_density" => Quantity::AlgalDensity,
            "sd" => Quantity::Sd,
            "fecal_coliform" => Quantity::FecalColiform,
            "fe" => Quantity::Fe,
            "mn" => Quantity::Mn,
            _ => return None,
        })
    }

    /// Values spread over orders of magnitude: drawn on a log scale within the range.
    pub fn is_logarithmic(self) -> bool {
        matches!(
            self,
            Quantity::Turbidity | Quantity::Tp | Quantity::AlgalDensity | Quantity::FecalColiform
        )
    }
}

/// Which table of hongfeng.md §4 a station follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Profile {
    /// §4.1, north basin.
    LakeNorth,
    /// §4.1, south basin.
    LakeSouth,
    /// §4.2 (other variables as the north basin).
    Intake,
    /// §4.3 base flow.
    River,
    /// §4.3, R09: DO 5.5–8, NH3-N 0.3–1.5.
    RiverTown,
    /// §4.3, R10: like L01 surface in winter; in summer like 8–15 m depth.
    DeepOutflow,
}

/// (low, high) of a quantity at a station profile; `None` if the reference gives no range.
pub(crate) fn normal_range(profile: Profile, q: Quantity) -> Option<(f64, f64)> {
    use Quantity as Q;
    let lake_north = |q| match q {
        Q::Temp => Some((9.0, 28.0)),
        Q::Ph => Some((7.6, 8.6)),
        Q::Do => Some((6.5, 10.0)),
        Q::Conductivity => Some((280.0, 400.0)),
        Q::Turbidity => Some((1.0, 6.0)),
        Q::CodMn => Some((2.0, 3.5)),
        Q::Nh3n => Some((0.05, 0.25)),
        Q::Tp => Some((0.015, 0.035)),
        Q::Tn => Some((1.2, 2.0)),
        Q::Chla => Some((2.0, 18.0)),
        Q::AlgalDensity => Some((2e5, 3e6)),
        Q::Sd => Some((2.0, 3.5)),
        _ => None,
    };
    let river = |q| match q {
        Q::Temp => Some((7.0, 25.0)),
        Q::Ph => Some((7.4, 8.3)),
        Q::Do => Some((7.0, 10.0)),
        Q::Conductivity => Some((300.0, 600.0)),
        Q::Turbidity => Some((3.0, 30.0)),
        Q::CodMn => Some((1.5, 5.0)),
        Q::Nh3n => Some((0.1, 1.0)),
        Q::Tp => Some((0.03, 0.20)),
        Q::Tn => Some((1.5, 5.0)),
        Q::FecalColiform => Some((500.0, 10_000.0)),
        _ => None,
    };
    match profile {
        Profile::LakeNorth => lake_north(q),
        Profile::LakeSouth => match q {
            Q::Temp => Some((9.0, 29.0)),
            Q::Ph => Some((7.8, 8.8)),
            Q::Do => Some((6.0, 10.0)),
            Q::Conductivity => Some((300.0, 420.0)),
            Q::Turbidity => Some((2.0, 10.0)),
            Q::CodMn => Some((2.5, 4.0)),
            Q::Nh3n => Some((0.08, 0.30)),
            Q::Tp => Some((0.025, 0.060)),
            Q::Tn => Some((1.4, 2.5)),
            Q::Chla => Some((3.0, 30.0)),
            Q::AlgalDensity => Some((5e5, 8e6)),
            Q::Sd => Some((1.2, 3.0)),
            _ => None,
        },
        Profile::Intake => match q {
            Q::Do => Some((6.5, 10.0)),
            Q::CodMn => Some((1.8, 3.5)),
            Q::Nh3n => Some((0.05, 0.20)),
            // 0.010–0.025, "occasionally below a DL of 0.01 in winter": the low end is 0.008.
            Q::Tp => Some((0.008, 0.025)),
            Q::Tn => Some((1.0, 2.0)),
            Q::Fe => Some((0.02, 0.15)),
            Q::Mn => Some((0.01, 0.06)),
            _ => lake_north(q),
        },
        Profile::River => river(q),
        Profile::RiverTown => match q {
            Q::Do => Some((5.5, 8.0)),
            Q::Nh3n => Some((0.3, 1.5)),
            _ => river(q),
        },
        // Winter like L01 surface; summer like 8–15 m depth (temperature 14–20 inside the lake
        // range, DO 3–6, NH3-N 0.2–0.5): the union of both.
        Profile::DeepOutflow => match q {
            Q::Do => Some((3.0, 10.0)),
            Q::Nh3n => Some((0.05, 0.5)),
            Q::FecalColiform => river(q),
            _ => lake_north(q),
        },
    }
}

/// Places `p` (nominally 0–1) in a range, linearly or on a log scale.
pub(crate) fn place(q: Quantity, (lo, hi): (f64, f64), p: f64) -> f64 {
    if q.is_logarithmic() {
        lo * (hi / lo).powf(p)
    } else {
        lo + (hi - lo) * p
    }
}

/// Keeps `x` inside (lo, hi) without flat tops: identity in the middle, exponential approach
/// to the bound in the outer 5 % on each side (strictly monotonic, continuous slope), so a
/// clamped series never turns into a constant that the flat-line QC rule would catch.
pub(crate) fn soft_clamp(x: f64, (lo, hi): (f64, f64)) -> f64 {
    let margin = (hi - lo) * 0.05;
    let (inner_lo, inner_hi) = (lo + margin, hi - margin);
    if x < inner_lo {
        lo + margin * ((x - inner_lo) / margin).exp()
    } else if x > inner_hi {
        hi - margin * (-(x - inner_hi) / margin).exp()
    } else {
        x
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_match_the_reference() {
        // Spot checks against hongfeng.md §4.1–4.3.
        assert_eq!(
            normal_range(Profile::LakeNorth, Quantity::Tp),
            Some((0.015, 0.035))
        );
        assert_eq!(
            normal_range(Profile::LakeSouth, Quantity::Chla),
            Some((3.0, 30.0))
        );
        assert_eq!(
            normal_range(Profile::Intake, Quantity::Nh3n),
            Some((0.05, 0.20))
        );
        assert_eq!(
            normal_range(Profile::Intake, Quantity::Temp),
            Some((9.0, 28.0))
        );
        assert_eq!(
            normal_range(Profile::River, Quantity::Turbidity),
            Some((3.0, 30.0))
        );
        assert_eq!(
            normal_range(Profile::RiverTown, Quantity::Nh3n),
            Some((0.3, 1.5))
        );
        assert_eq!(normal_range(Profile::River, Quantity::Chla), None);
    }

    #[test]
    fn soft_clamp_is_monotonic_and_bounded() {
        let r = (1.0, 2.0);
        let mut last = f64::NEG_INFINITY;
        for i in 0..180 {
            let x = 0.6 + i as f64 * 0.01;
            let y = soft_clamp(x, r);
            assert!(y > 1.0 && y < 2.0 && y > last, "{x} → {y}");
            last = y;
        }
        assert_eq!(soft_clamp(1.5, r), 1.5);
    }
}
