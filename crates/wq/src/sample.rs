//! One measured value as the evaluation sees it, and the HJ 212 data flag it came with.

use serde::{Deserialize, Deserializer, Serialize, Serializer};
use std::fmt;

/// HJ 212 data flag (`xxxxxx-Flag`, hj212.md §9; validity per water-quality.md §13.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum DataFlag {
    /// Instrument working normally.
    #[default]
    N,
    /// Instrument stopped.
    F,
    /// Maintenance.
    M,
    /// Manually entered set value.
    S,
    /// Instrument fault.
    D,
    /// Calibration.
    C,
    /// Above the instrument's upper measuring limit.
    T,
    /// Instrument–logger communication fault.
    B,
    /// A letter HJ 212-2017 does not define; stored verbatim, invalid.
    Other(u8),
}

impl DataFlag {
    /// Reads a flag; an empty text means N (hj212.md §9: "flag absent: treat as N").
    pub fn parse(text: &str) -> Option<DataFlag> {
        let t = text.trim();
        let mut chars = t.chars();
        let (Some(ch), None) = (chars.next(), chars.next()) else {
            return if t.is_empty() {
                Some(DataFlag::N)
            } else {
                None
            };
        };
        Some(match ch.to_ascii_uppercase() {
            'N' => Self::N,
            'F' => Self::F,
            'M' => Self::M,
            'S' => Self::S,
            'D' => Self::D,
            'C' => Self::C,
            'T' => Self::T,
            'B' => Self::B,
            other if other.is_ascii_alphabetic() => Self::Other(other as u8),
            _ => return None,
        })
    }

    pub fn letter(self) -> char {
        match self {
            Self::N => 'N',
            Self::F => 'F',
            Self::M => 'M',
            Self::S => 'S',
            Self::D => 'D',
            Self::C => 'C',
            Self::T => 'T',
            Self::B => 'B',
            Self::Other(b) => b as char,
        }
    }

    /// Whether a value with this flag may enter statistics (§13.3). S is invalid unless
    /// `qc.flag_s_valid` is set.
    pub fn is_valid_for_statistics(self, flag_s_valid: bool) -> bool {
        match self {
            Self::N => true,
            Self::S => flag_s_valid,
            _ => false,
        }
    }
}

impl fmt::Display for DataFlag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.letter())
    }
}

impl Serialize for DataFlag {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(&self.letter())
    }
}

impl<'de> Deserialize<'de> for DataFlag {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = String::deserialize(d)?;
        DataFlag::parse(&s).ok_or_else(|| serde::de::Error::custom(format!("bad data flag {s:?}")))
    }
}

/// One value of one parameter, in the parameter's catalogue (GB 3838) unit.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// Unix seconds (UTC).
    pub time: i64,
    /// The measured value, or the detection limit when `censored`.
    pub value: f64,
    /// Below the detection limit ("0.01L"): `value` holds the DL, and statistics use ½ DL.
    #[serde(default)]
    pub censored: bool,
    #[serde(default)]
    pub flag: DataFlag,
}

impl Sample {
    pub fn new(time: i64, value: f64) -> Self {
        Self {
            time,
            value,
            censored: false,
            flag: DataFlag::N,
        }
    }

    /// A value reported below the detection limit `dl`.
    pub fn below_detection_limit(time: i64, dl: f64) -> Self {
        Self {
            time,
            value: dl,
            censored: true,
            flag: DataFlag::N,
        }
    }

    pub fn with_flag(mut self, flag: DataFlag) -> Self {
        self.flag = flag;
        self
    }

    /// The number statistics use: the value, or ½ DL when censored (§9.3).
    pub fn statistical_value(&self) -> f64 {
        if self.censored {
            self.value * 0.5
        } else {
            self.value
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flags() {
        assert_eq!(DataFlag::parse("N"), Some(DataFlag::N));
        assert_eq!(DataFlag::parse(""), Some(DataFlag::N));
        assert_eq!(DataFlag::parse("p"), Some(DataFlag::Other(b'P')));
        assert_eq!(DataFlag::parse("NN"), None);
        assert!(DataFlag::N.is_valid_for_statistics(false));
        assert!(!DataFlag::S.is_valid_for_statistics(false));
        assert!(DataFlag::S.is_valid_for_statistics(true));
        for f in [
            DataFlag::F,
            DataFlag::M,
            DataFlag::D,
            DataFlag::C,
            DataFlag::T,
            DataFlag::B,
        ] {
            assert!(!f.is_valid_for_statistics(true), "{f}");
        }
        assert_eq!(std::mem::size_of::<Sample>(), 24);
    }
}
