//! Units of measurement and the conversions the evaluation needs (HJ 212 default units differ
//! from the GB 3838 table units: see the "unit trap" in the reference).

use serde::{Deserialize, Serialize};
use std::fmt;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Unit {
    MgPerL,
    UgPerL,
    NgPerL,
    /// mg/m³, numerically equal to µg/L (chl-a).
    MgPerM3,
    Celsius,
    /// pH has no unit.
    Dimensionless,
    MicroSiemensPerCm,
    Ntu,
    /// 个/L (fecal coliform).
    CountPerL,
    CellsPerL,
    Metre,
    Centimetre,
}

/// Two units that measure different quantities.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unit mismatch: {from} cannot be converted to {to}")]
pub struct UnitMismatch {
    pub from: Unit,
    pub to: Unit,
}

/// What kind of quantity a unit measures, with its factor to the base unit of that kind.
fn dimension(unit: Unit) -> (u8, f64) {
    match unit {
        // mass concentration, base mg/L
        Unit::MgPerL => (0, 1.0),
        Unit::UgPerL | Unit::MgPerM3 => (0, 1e-3),
        Unit::NgPerL => (0, 1e-6),
        Unit::Celsius => (1, 1.0),
        Unit::Dimensionless => (2, 1.0),
        Unit::MicroSiemensPerCm => (3, 1.0),
        Unit::Ntu => (4, 1.0),
        // Counts per litre: coliforms and algal cells are both "per litre" counts. They stay
        // separate so that a cells/L column is not accepted as fecal coliform by accident.
        Unit::CountPerL => (5, 1.0),
        Unit::CellsPerL => (6, 1.0),
        Unit::Metre => (7, 1.0),
        Unit::Centimetre => (7, 0.01),
    }
}

impl Unit {
    pub fn symbol(self) -> &'static str {
        match self {
            Self::MgPerL => "mg/L",
            Self::UgPerL => "µg/L",
            Self::NgPerL => "ng/L",
            Self::MgPerM3 => "mg/m³",
            Self::Celsius => "℃",
            Self::Dimensionless => "",
            Self::MicroSiemensPerCm => "µS/cm",
            Self::Ntu => "NTU",
            Self::CountPerL => "个/L",
            Self::CellsPerL => "cells/L",
            Self::Metre => "m",
            Self::Centimetre => "cm",
        }
    }

    /// Reads a unit as written in a file header or unit column. Returns `None` when unknown.
    pub fn parse(text: &str) -> Option<Unit> {
        let t: String = text
            .trim()
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| match c {
                'μ' | 'µ' => 'u',
                '³' => '3',
                '／' => '/',
                c => c.to_ascii_lowercase(),
            })
            .collect();
        let unit = match t.as_str() {
            "mg/l" | "毫克/升" | "mg/dm3" => Self::MgPerL,
            "ug/l" | "微克/升" => Self::UgPerL,
            "ng/l" | "纳克/升" => Self::NgPerL,
            "mg/m3" | "毫克/立方米" => Self::MgPerM3,
            "℃" | "°c" | "degc" | "摄氏度" => Self::Celsius,
            "" | "-" | "—" | "无量纲" | "ph" | "无" => Self::Dimensionless,
            "us/cm" | "微西门子/厘米" => Self::MicroSiemensPerCm,
            "ntu" | "度" => Self::Ntu,
            "个/l" | "mpn/l" | "cfu/l" => Self::CountPerL,
            "cells/l" | "cell/l" | "个细胞/l" | "细胞/l" => Self::CellsPerL,
            "m" | "米" => Self::Metre,
            "cm" | "厘米" => Self::Centimetre,
            _ => return None,
        };
        Some(unit)
    }

    /// Converts `value` from `self` to `to`.
    pub fn convert(self, value: f64, to: Unit) -> Result<f64, UnitMismatch> {
        if self == to {
            return Ok(value);
        }
        let (d_from, f_from) = dimension(self);
        let (d_to, f_to) = dimension(to);
        if d_from != d_to {
            return Err(UnitMismatch { from: self, to });
        }
        Ok(value * f_from / f_to)
    }
}

impl fmt::Display for Unit {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Dimensionless => f.write_str("dimensionless"),
            u => f.write_str(u.symbol()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn converts_concentrations() {
        // Hg at 0.05 µg/L = 0.00005 mg/L (hj212.md §13.1)
        let mg = Unit::UgPerL.convert(0.05, Unit::MgPerL).unwrap();
        assert!((mg - 0.00005).abs() < 1e-15);
        assert_eq!(Unit::MgPerL.convert(0.012, Unit::MgPerM3).unwrap(), 12.0);
        assert_eq!(Unit::Centimetre.convert(150.0, Unit::Metre).unwrap(), 1.5);
        assert!(Unit::Celsius.convert(1.0, Unit::MgPerL).is_err());
        assert!(Unit::CellsPerL.convert(1.0, Unit::CountPerL).is_err());
    }

    #[test]
    fn parses_unit_spellings() {
        assert_eq!(Unit::parse("mg/L"), Some(Unit::MgPerL));
        assert_eq!(Unit::parse("μg/L"), Some(Unit::UgPerL));
        assert_eq!(Unit::parse("µg/L"), Some(Unit::UgPerL));
        assert_eq!(Unit::parse("mg/m³"), Some(Unit::MgPerM3));
        assert_eq!(Unit::parse("个/L"), Some(Unit::CountPerL));
        assert_eq!(Unit::parse("°C"), Some(Unit::Celsius));
        assert_eq!(Unit::parse("furlong"), None);
    }
}
