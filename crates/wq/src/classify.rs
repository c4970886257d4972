//! Single-factor classification (单因子评价, §5.1) and exceedance multiples (§7).

use crate::catalogue::{self, codes as c};
use crate::class::WaterClass;
use crate::rounding;
use crate::tables::{self, Table1Limits};
use serde::{Deserialize, Serialize};

/// Water-body type configured for a station (§5.4). `Lake` covers reservoirs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum WaterType {
    #[default]
    River,
    Lake,
}

/// How DO class Ⅰ is decided (`eval.do_class1`).
#[derive(Debug, Clone, Copy, PartialEq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case", tag = "mode")]
pub enum DoClass1Rule {
    /// DO ≥ 7.5 mg/L (default; every implementation found does this).
    #[default]
    Fixed7_5,
    /// DO ≥ 90 % of saturation, DO_sat = 468 / (31.6 + T) × `pressure_factor` (1.0 at sea level,
    /// ≈ 0.861 at 1,240 m). Needs a water temperature; without one the fixed 7.5 is used.
    Saturation { pressure_factor: f64 },
}

/// What single-factor classification needs besides the value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ClassifyContext {
    pub water_type: WaterType,
    pub do_class1: DoClass1Rule,
    /// Water temperature (℃) for the DO saturation rule.
    pub water_temperature: Option<f64>,
}

impl ClassifyContext {
    pub fn new(water_type: WaterType) -> Self {
        Self {
            water_type,
            do_class1: DoClass1Rule::Fixed7_5,
            water_temperature: None,
        }
    }
}

/// Direction of a limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Direction {
    /// "≤": the value must not exceed the limit.
    AtMost,
    /// "≥": the value must be at least the limit.
    AtLeast,
    /// Within an inclusive range (pH 6–9).
    Range,
}

/// The limit a value was compared with: for class Ⅰ–Ⅴ the limit of that class that the value
/// satisfied; for 劣Ⅴ the class Ⅴ limit it failed.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ComparedLimit {
    /// The class whose limit this is.
    pub class: WaterClass,
    pub direction: Direction,
    /// The limit (the lower bound for a range).
    pub limit: f64,
    /// The upper bound of a range.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub upper: Option<f64>,
    /// Readable form: "≤0.05", "≥5", "6–9".
    pub text: String,
}

/// Why a value carries no class.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum NotClassifiedReason {
    /// Water temperature has a change limit, not a class limit (§2.1).
    WaterTemperature,
    /// TN limits apply to lakes and reservoirs only.
    TnInRiver,
    /// The parameter is not in Table 1.
    NoClassLimits,
}

/// Result of single-factor classification.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "result", rename_all = "snake_case")]
pub enum Classification {
    Classified {
        class: WaterClass,
        limit: ComparedLimit,
    },
    NotClassified {
        reason: NotClassifiedReason,
    },
}

impl Classification {
    pub fn class(&self) -> Option<WaterClass> {
        match self {
            Self::Classified { class, .. } => Some(*class),
            Self::NotClassified { .. } => None,
        }
    }
}

/// Limits of a classed parameter for a water type.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum ClassLimits {
    AtMost([f64; 5]),
    AtLeast([f64; 5]),
    Range { min: f64, max: f64 },
}

/// The class limits of `code` for `water_type`, or why it is not classed.
pub fn class_limits(code: &str, water_type: WaterType) -> Result<ClassLimits, NotClassifiedReason> {
    let row = tables::table1_row(code).ok_or(NotClassifiedReason::NoClassLimits)?;
    match (row.limits, water_type) {
        (Table1Limits::ThermalChange { .. }, _) => Err(NotClassifiedReason::WaterTemperature),
        (Table1Limits::Range { min, max }, _) => Ok(ClassLimits::Range { min, max }),
        (Table1Limits::AtLeast { limits }, _) => Ok(ClassLimits::AtLeast(limits)),
        (Table1Limits::AtMost { limits }, _) => Ok(ClassLimits::AtMost(limits)),
        (Table1Limits::AtMostByWaterType { river, .. }, WaterType::River) => {
            Ok(ClassLimits::AtMost(river))
        }
        (Table1Limits::AtMostByWaterType { lake, .. }, WaterType::Lake) => {
            Ok(ClassLimits::AtMost(lake))
        }
        (Table1Limits::AtMostLakeOnly { .. }, WaterType::River) => {
            Err(NotClassifiedReason::TnInRiver)
        }
        (Table1Limits::AtMostLakeOnly { limits }, WaterType::Lake) => {
            Ok(ClassLimits::AtMost(limits))
        }
    }
}

/// DO saturation at sea level, 468 / (31.6 + T) mg/L (HJ 2.3-2018 formula, §2.1).
pub fn do_saturation(temperature_c: f64) -> f64 {
    468.0 / (31.6 + temperature_c)
}

fn fmt_limit(x: f64) -> String {
    // Shortest decimal spelling: 0.00005 stays 0.00005, 15.0 prints 15.
    let s = x.to_string();
    s.strip_suffix(".0").map(str::to_string).unwrap_or(s)
}

fn compared(class: WaterClass, direction: Direction, limit: f64) -> ComparedLimit {
    let sign = if direction == Direction::AtMost {
        "≤"
    } else {
        "≥"
    };
    ComparedLimit {
        class,
        direction,
        limit,
        upper: None,
        text: format!("{sign}{}", fmt_limit(limit)),
    }
}

/// Single-factor class of one value (already rounded to the evaluation decimals, §5.1).
///
/// Limits are inclusive, and the scan runs from Ⅰ to Ⅴ so that the better class wins on a limit
/// shared by several classes. pH within 6–9 is Ⅰ, outside it 劣Ⅴ.
pub fn classify(code: &str, value: f64, ctx: &ClassifyContext) -> Classification {
    let limits = match class_limits(code, ctx.water_type) {
        Ok(l) => l,
        Err(reason) => return Classification::NotClassified { reason },
    };
    match limits {
        ClassLimits::Range { min, max } => {
            let class = if (min..=max).contains(&value) {
                WaterClass::I
            } else {
                WaterClass::WorseThanV
            };
            let limit = ComparedLimit {
                class: WaterClass::I,
                direction: Direction::Range,
                limit: min,
                upper: Some(max),
                text: format!("{}–{}", fmt_limit(min), fmt_limit(max)),
            };
            Classification::Classified { class, limit }
        }
        ClassLimits::AtMost(limits) => scan(&limits, Direction::AtMost, |l| value <= l),
        ClassLimits::AtLeast(mut limits) => {
            if code == c::DO {
                limits[0] = do_class1_limit(ctx);
            }
            scan(&limits, Direction::AtLeast, |l| value >= l)
        }
    }
}

fn do_class1_limit(ctx: &ClassifyContext) -> f64 {
    match (ctx.do_class1, ctx.water_temperature) {
        // Rounded to the DO hourly decimals so that the limit shown is the limit applied.
        (DoClass1Rule::Saturation { pressure_factor }, Some(t)) => {
            rounding::round_half_even(0.9 * do_saturation(t) * pressure_factor, 2).value
        }
        _ => 7.5,
    }
}

fn scan(
    limits: &[f64; 5],
    direction: Direction,
    satisfies: impl Fn(f64) -> bool,
) -> Classification {
    for (class, &limit) in WaterClass::WITH_LIMITS.iter().zip(limits) {
        if satisfies(limit) {
            return Classification::Classified {
                class: *class,
                limit: compared(*class, direction, limit),
            };
        }
    }
    Classification::Classified {
        class: WaterClass::WorseThanV,
        limit: compared(WaterClass::V, direction, limits[4]),
    }
}

/// The limit of `class` for a "≤" parameter (`None` for ranges, "≥" items, 劣Ⅴ and
/// unclassed parameters).
pub fn at_most_limit(code: &str, water_type: WaterType, class: WaterClass) -> Option<f64> {
    match class_limits(code, water_type) {
        Ok(ClassLimits::AtMost(l)) => class.limit_index().map(|i| l[i]),
        _ => None,
    }
}

/// 超标倍数 (C − C_Ⅲ) / C_Ⅲ, only when the class is worse than Ⅲ and never for water
/// temperature, pH or DO (§7).
pub fn exceedance_multiple(
    code: &str,
    value: f64,
    class: WaterClass,
    water_type: WaterType,
    decimals: u32,
) -> Option<f64> {
    if class <= WaterClass::III || catalogue::by_code(code).is_none_or(|p| p.is_exceedance_exempt())
    {
        return None;
    }
    let limit = at_most_limit(code, water_type, WaterClass::III)?;
    rounding::exceedance_multiple(value, limit, decimals)
}

/// "Multiple over target" (C − C_target) / C_target for a target other than Ⅲ; labelled
/// separately from 超标倍数 (§7).
pub fn multiple_over_target(
    code: &str,
    value: f64,
    class: WaterClass,
    target: WaterClass,
    water_type: WaterType,
    decimals: u32,
) -> Option<f64> {
    if class <= target || catalogue::by_code(code).is_none_or(|p| p.is_exceedance_exempt()) {
        return None;
    }
    let limit = at_most_limit(code, water_type, target)?;
    rounding::exceedance_multiple(value, limit, decimals)
}

#[cfg(test)]
mod tests {
    use super::*;
    use WaterClass::*;

    fn class_of(code: &str, value: f64, wt: WaterType) -> Option<WaterClass> {
        classify(code, value, &ClassifyContext::new(wt)).class()
    }

    #[test]
    fn reference_vectors() {
        // §5.1 test vectors
        let cases: &[(&str, f64, Option<WaterType>, Option<WaterClass>)] = &[
            (c::COD, 15.0, None, Some(I)),
            (c::DO, 7.5, None, Some(I)),
            (c::DO, 7.49, None, Some(II)),
            (c::DO, 5.0, None, Some(III)),
            (c::DO, 1.99, None, Some(WorseThanV)),
            (c::TP, 0.025, Some(WaterType::Lake), Some(II)),
            (c::TP, 0.026, Some(WaterType::Lake), Some(III)),
            (c::TP, 0.21, Some(WaterType::Lake), Some(WorseThanV)),
            (c::TP, 0.026, Some(WaterType::River), Some(II)),
            (c::TP, 0.41, Some(WaterType::River), Some(WorseThanV)),
            (c::NH3_N, 0.15, None, Some(I)),
            (c::NH3_N, 2.01, None, Some(WorseThanV)),
            (c::TN, 1.8, Some(WaterType::Lake), Some(V)),
            (c::TN, 1.8, Some(WaterType::River), None),
            (c::PH, 5.99, None, Some(WorseThanV)),
            (c::PH, 6.0, None, Some(I)),
            (c::PH, 9.0, None, Some(I)),
            (c::PH, 9.01, None, Some(WorseThanV)),
            (c::HG, 0.00005, None, Some(I)),
            (c::COD_MN, 6.0, None, Some(III)),
            (c::COD_MN, 15.1, None, Some(WorseThanV)),
            (c::FECAL_COLIFORM, 2500.0, None, Some(III)),
            // shared limits: the better class wins
            (c::BOD5, 3.0, None, Some(I)),
            (c::CU, 1.0, None, Some(II)),
            (c::ZN, 2.0, None, Some(IV)),
            (c::FLUORIDE, 1.5, None, Some(IV)),
            (c::AS, 0.05, None, Some(I)),
            (c::CD, 0.005, None, Some(II)),
            (c::PB, 0.05, None, Some(III)),
            (c::CYANIDE, 0.2, None, Some(III)),
            (c::LAS, 0.3, None, Some(IV)),
            (c::WATER_TEMPERATURE, 25.0, None, None),
        ];
        for &(code, value, wt, want) in cases {
            let types = match wt {
                Some(t) => vec![t],
                None => vec![WaterType::River, WaterType::Lake],
            };
            for t in types {
                assert_eq!(class_of(code, value, t), want, "{code} {value} {t:?}");
            }
        }
    }

    #[test]
    fn worse_than_v_reports_the_class_v_limit() {
        let r = classify(c::NH3_N, 2.01, &ClassifyContext::new(WaterType::River));
        let Classification::Classified { class, limit } = r else {
            panic!()
        };
        assert_eq!(class, WorseThanV);
        assert_eq!(limit.class, V);
        assert_eq!(limit.text, "≤2");
    }

    #[test]
    fn do_saturation_mode() {
        // DO_sat table (§2.1): 25 ℃ → 8.27 at sea level, 7.12 at 1,240 m.
        assert!((do_saturation(25.0) - 8.27).abs() < 0.005);
        assert!((do_saturation(25.0) * 0.861 - 7.12).abs() < 0.005);
        let ctx = ClassifyContext {
            water_type: WaterType::Lake,
            do_class1: DoClass1Rule::Saturation {
                pressure_factor: 0.861,
            },
            water_temperature: Some(25.0),
        };
        // 90 % of 7.12 ≈ 6.41 → 6.5 is class Ⅰ under this mode, Ⅱ under the default.
        assert_eq!(classify(c::DO, 6.5, &ctx).class(), Some(I));
        assert_eq!(class_of(c::DO, 6.5, WaterType::Lake), Some(II));
    }

    #[test]
    fn multiples() {
        let m = |code, v, wt| {
            let class = class_of(code, v, wt).unwrap();
            exceedance_multiple(code, v, class, wt, 2)
        };
        assert_eq!(m(c::TP, 0.072, WaterType::Lake), Some(0.44));
        assert_eq!(m(c::NH3_N, 1.8, WaterType::River), Some(0.8));
        assert_eq!(m(c::COD_MN, 7.2, WaterType::River), Some(0.2));
        assert_eq!(m(c::TP, 0.35, WaterType::River), Some(0.75));
        assert_eq!(m(c::TN, 1.8, WaterType::Lake), Some(0.8));
        // within Ⅲ: none; exempt items: none
        assert_eq!(m(c::COD_MN, 6.0, WaterType::River), None);
        assert_eq!(m(c::DO, 1.0, WaterType::River), None);
        assert_eq!(m(c::PH, 10.0, WaterType::River), None);
        assert_eq!(
            multiple_over_target(c::TP, 0.15, III, II, WaterType::River, 2),
            Some(0.5)
        );
    }
}
