//! GB 3838 functional classes, the water-quality grade words (水质状况) and their colours.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// A GB 3838-2002 functional class. Ordered so that greater means worse.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub enum WaterClass {
    I,
    II,
    III,
    IV,
    V,
    /// 劣Ⅴ: no class limit is satisfied.
    WorseThanV,
}

impl WaterClass {
    /// The five classes that have limits, best first (the scan order of single-factor evaluation).
    pub const WITH_LIMITS: [WaterClass; 5] = [Self::I, Self::II, Self::III, Self::IV, Self::V];
    pub const ALL: [WaterClass; 6] = [
        Self::I,
        Self::II,
        Self::III,
        Self::IV,
        Self::V,
        Self::WorseThanV,
    ];

    /// Index into a five-column limit row (`None` for 劣Ⅴ, which has no limit).
    pub fn limit_index(self) -> Option<usize> {
        match self {
            Self::I => Some(0),
            Self::II => Some(1),
            Self::III => Some(2),
            Self::IV => Some(3),
            Self::V => Some(4),
            Self::WorseThanV => None,
        }
    }

    /// Roman numeral as printed in the standard: Ⅰ … Ⅴ, 劣Ⅴ.
    pub fn roman(self) -> &'static str {
        match self {
            Self::I => "Ⅰ",
            Self::II => "Ⅱ",
            Self::III => "Ⅲ",
            Self::IV => "Ⅳ",
            Self::V => "Ⅴ",
            Self::WorseThanV => "劣Ⅴ",
        }
    }

    /// Short label: "Ⅲ类" / "劣Ⅴ类".
    pub fn label_zh(self) -> String {
        format!("{}类", self.roman())
    }

    /// Short label in English: "Class III" / "Worse than V".
    pub fn label_en(self) -> &'static str {
        match self {
            Self::I => "Class I",
            Self::II => "Class II",
            Self::III => "Class III",
            Self::IV => "Class IV",
            Self::V => "Class V",
            Self::WorseThanV => "Worse than V",
        }
    }

    /// The report wording: "符合Ⅲ类" for Ⅰ–Ⅴ, "劣于Ⅴ类" for 劣Ⅴ (§5.2).
    pub fn wording_zh(self) -> String {
        match self {
            Self::WorseThanV => "劣于Ⅴ类".to_string(),
            c => format!("符合{}类", c.roman()),
        }
    }

    pub fn wording_en(self) -> String {
        match self {
            Self::WorseThanV => "worse than Class V".to_string(),
            c => format!("meets {}", c.label_en()),
        }
    }

    /// 水质状况 for a single station's class (§5.3).
    pub fn grade(self) -> Grade {
        match self {
            Self::I | Self::II => Grade::Excellent,
            Self::III => Grade::Good,
            Self::IV => Grade::SlightlyPolluted,
            Self::V => Grade::ModeratelyPolluted,
            Self::WorseThanV => Grade::HeavilyPolluted,
        }
    }
}

impl fmt::Display for WaterClass {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.roman())
    }
}

/// Error for a class text that cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown water class {0:?} (expected I, II, III, IV, V or 劣V)")]
pub struct ParseClassError(pub String);

impl FromStr for WaterClass {
    type Err = ParseClassError;

    /// Accepts "III", "Ⅲ", "3", "Ⅲ类", "class III", "劣Ⅴ", "劣V", "WorseThanV".
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let t = s.trim();
        let t = t.strip_suffix('类').unwrap_or(t);
        let lower = t.to_ascii_lowercase();
        let lower = lower.strip_prefix("class").unwrap_or(&lower).trim();
        let class = match lower {
            "i" | "ⅰ" | "Ⅰ" | "1" => Self::I,
            "ii" | "ⅱ" | "Ⅱ" | "2" => Self::II,
            "iii" | "ⅲ" | "Ⅲ" | "3" => Self::III,
            "iv" | "ⅳ" | "Ⅳ" | "4" => Self::IV,
            "v" | "ⅴ" | "Ⅴ" | "5" => Self::V,
            "劣ⅴ" | "劣Ⅴ" | "劣v" | "劣5" | "worsethanv" | "worse_than_v" | "6" => {
                Self::WorseThanV
            }
            _ => return Err(ParseClassError(s.to_string())),
        };
        Ok(class)
    }
}

/// 水质状况: the grade word shown with a class or a multi-station result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Grade {
    Excellent,
    Good,
    SlightlyPolluted,
    ModeratelyPolluted,
    HeavilyPolluted,
    NoData,
}

impl Grade {
    pub fn word_zh(self) -> &'static str {
        match self {
            Self::Excellent => "优",
            Self::Good => "良好",
            Self::SlightlyPolluted => "轻度污染",
            Self::ModeratelyPolluted => "中度污染",
            Self::HeavilyPolluted => "重度污染",
            Self::NoData => "未监测",
        }
    }

    pub fn word_en(self) -> &'static str {
        match self {
            Self::Excellent => "excellent",
            Self::Good => "good",
            Self::SlightlyPolluted => "slightly polluted",
            Self::ModeratelyPolluted => "moderately polluted",
            Self::HeavilyPolluted => "heavily polluted",
            Self::NoData => "no data",
        }
    }

    /// The official colour word (蓝/绿/黄/橙/红).
    pub fn colour_word_zh(self) -> &'static str {
        match self {
            Self::Excellent => "蓝",
            Self::Good => "绿",
            Self::SlightlyPolluted => "黄",
            Self::ModeratelyPolluted => "橙",
            Self::HeavilyPolluted => "红",
            Self::NoData => "—",
        }
    }
}

/// Hex colours per class (`ui.class_palette`). The hex values are no regulation; the default is
/// the national real-time release pages' palette (§5.3).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default)]
pub struct Palette {
    pub class_i: String,
    pub class_ii: String,
    pub class_iii: String,
    pub class_iv: String,
    pub class_v: String,
    pub worse_than_v: String,
    pub no_data: String,
}

impl Default for Palette {
    fn default() -> Self {
        Self::national_release()
    }
}

impl Palette {
    /// Default: the national real-time release system palette.
    pub fn national_release() -> Self {
        Self {
            class_i: "#CCFFFF".into(),
            class_ii: "#00CCFF".into(),
            class_iii: "#00FF00".into(),
            class_iv: "#FFFF00".into(),
            class_v: "#FF9B00".into(),
            worse_than_v: "#FF0000".into(),
            no_data: "#ABABAB".into(),
        }
    }

    /// The alternative palette from a public SQL seed.
    pub fn alternative() -> Self {
        Self {
            class_i: "#5AB1EF".into(),
            class_ii: "#5AB1EF".into(),
            class_iii: "#42CC70".into(),
            class_iv: "#E8DD3E".into(),
            class_v: "#F5A524".into(),
            worse_than_v: "#ED5466".into(),
            no_data: "#ABABAB".into(),
        }
    }

    pub fn class_colour(&self, class: Option<WaterClass>) -> &str {
        match class {
            Some(WaterClass::I) => &self.class_i,
            Some(WaterClass::II) => &self.class_ii,
            Some(WaterClass::III) => &self.class_iii,
            Some(WaterClass::IV) => &self.class_iv,
            Some(WaterClass::V) => &self.class_v,
            Some(WaterClass::WorseThanV) => &self.worse_than_v,
            None => &self.no_data,
        }
    }

    /// Colour of a grade (multi-station results): 优 takes the class Ⅱ colour, the blue shown
    /// for an intake-quality water; the others take the class with the same colour word.
    pub fn grade_colour(&self, grade: Grade) -> &str {
        match grade {
            Grade::Excellent => &self.class_ii,
            Grade::Good => &self.class_iii,
            Grade::SlightlyPolluted => &self.class_iv,
            Grade::ModeratelyPolluted => &self.class_v,
            Grade::HeavilyPolluted => &self.worse_than_v,
            Grade::NoData => &self.no_data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn order_is_best_to_worst() {
        assert!(WaterClass::I < WaterClass::II);
        assert!(WaterClass::V < WaterClass::WorseThanV);
    }

    #[test]
    fn parses_class_spellings() {
        for (s, c) in [
            ("III", WaterClass::III),
            ("Ⅲ类", WaterClass::III),
            ("2", WaterClass::II),
            ("劣Ⅴ", WaterClass::WorseThanV),
            ("class iv", WaterClass::IV),
        ] {
            assert_eq!(s.parse::<WaterClass>().unwrap(), c, "{s}");
        }
        assert!("VI".parse::<WaterClass>().is_err());
    }

    #[test]
    fn wording_and_grades() {
        assert_eq!(WaterClass::III.wording_zh(), "符合Ⅲ类");
        assert_eq!(WaterClass::WorseThanV.wording_zh(), "劣于Ⅴ类");
        assert_eq!(WaterClass::II.grade().word_zh(), "优");
        assert_eq!(WaterClass::IV.grade().colour_word_zh(), "黄");
        let p = Palette::default();
        assert_eq!(p.class_colour(Some(WaterClass::V)), "#FF9B00");
        assert_eq!(p.class_colour(None), "#ABABAB");
    }
}
