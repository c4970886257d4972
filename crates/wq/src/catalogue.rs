//! The parameter catalogue: every quantity the platform knows, with its stable code, names,
//! GB 3838 unit, HJ 212 codes (with their default wire units) and rounding decimals.

pub use crate::parameter::{Decimals, Gb3838Ref, Hj212Code, InstrumentKind, Parameter, codes};
use crate::tables::{self, TABLE2_PARAMETERS, TABLE3_COMPONENTS, TABLE3_PARAMETERS};
use crate::unit::Unit;

const fn hj(code: &'static str, unit: Unit) -> Hj212Code {
    Hj212Code { code, unit }
}

const fn explicit(hourly: u8, evaluation: u8) -> Decimals {
    Decimals::Explicit { hourly, evaluation }
}

use Unit::*;
use codes as c;

/// Table 1 items and the unclassified quantities of automatic stations.
pub static CORE_PARAMETERS: &[Parameter] = &[
    Parameter {
        code: c::WATER_TEMPERATURE,
        name_zh: "水温",
        name_en: "water temperature",
        aliases: &["temperature", "temp", "WT"],
        unit: Celsius,
        hj212_2017: &[hj("w01010", Celsius)],
        hj212_2005: &[],
        gb3838: Gb3838Ref::Table1 { no: 1 },
        decimals: explicit(1, 1),
        instrument: InstrumentKind::Probe,
    },
    Parameter {
        code: c::PH,
        name_zh: "pH",
        name_en: "pH",
        aliases: &["ph值", "pH value"],
        unit: Dimensionless,
        hj212_2017: &[hj("w01001", Dimensionless)],
        hj212_2005: &["001"],
        gb3838: Gb3838Ref::Table1 { no: 2 },
        decimals: explicit(2, 0),
        instrument: InstrumentKind::Probe,
    },
    Parameter {
        code: c::DO,
        name_zh: "溶解氧",
        name_en: "dissolved oxygen",
        aliases: &["DO"],
        unit: MgPerL,
        hj212_2017: &[hj("w01009", MgPerL)],
        hj212_2005: &[],
        gb3838: Gb3838Ref::Table1 { no: 3 },
        decimals: explicit(2, 1),
        instrument: InstrumentKind::Probe,
    },
    Parameter {
        code: c::COD_MN,
        name_zh: "高锰酸盐指数",
        name_en: "permanganate index",
        aliases: &["CODMn", "COD_Mn", "IMn", "高锰酸钾指数"],
        unit: MgPerL,
        hj212_2017: &[hj("w01019", MgPerL)],
        hj212_2005: &[],
        gb3838: Gb3838Ref::Table1 { no: 4 },
        decimals: explicit(2, 1),
        instrument: InstrumentKind::Analyser,
    },
    Parameter {
        code: c::COD,
        name_zh: "化学需氧量",
        name_en: "chemical oxygen demand",
        aliases: &["COD", "CODCr"],
        unit: MgPerL,
        hj212_2017: &[hj("w01018", MgPerL)],
        hj212_2005: &["011"],
        gb3838: Gb3838Ref::Table1 { no: 5 },
        decimals: explicit(2, 1),
        instrument: InstrumentKind::Manual,
    },
    Parameter {
        code: c::BOD5,
        name_zh: "五日生化需氧量",
        name_en: "five-day biochemical oxygen demand",
        aliases: &["BOD5", "BOD", "生化需氧量"],
        unit: MgPerL,
        hj212_2017: &[hj("w01017", MgPerL)],
        hj212_2005: &["010"],
        gb3838: Gb3838Ref::Table1 { no: 6 },
        decimals: Decimals::FromLimit,
        instrument: InstrumentKind::Manual,
    },
    Parameter {
        code: c::NH3_N,
        name_zh: "氨氮",
        name_en: "ammonia nitrogen",
        aliases: &["NH3-N", "NH3N", "NH4-N", "ammonia"],
        unit: MgPerL,
        hj212_2017: &[hj("w21003", MgPerL)],
        hj212_2005: &["060"],
        gb3838: Gb3838Ref::Table1 { no: 7 },
        decimals: explicit(3, 2),
        instrument: InstrumentKind::Analyser,
    },
    Parameter {
        code: c::TP,
        name_zh: "总磷",
        name_en: "total phosphorus",
        aliases: &["TP"],
        unit: MgPerL,
        hj212_2017: &[hj("w21011", MgPerL)],
        hj212_2005: &["101"],
        gb3838: Gb3838Ref::Table1 { no: 8 },
        decimals: explicit(3, 3),
        instrument: InstrumentKind::Analyser,
    },
    Parameter {
        code: c::TN,
        name_zh: "总氮",
        name_en: "total nitrogen",
        aliases: &["TN"],
        unit: MgPerL,
        hj212_2017: &[hj("w21001", MgPerL)],
        hj212_2005: &["065"],
        gb3838: Gb3838Ref::Table1 { no: 9 },
        decimals: explicit(2, 2),
        instrument: InstrumentKind::Analyser,
    },
    Parameter {
        code: c::CU,
        name_zh: "铜",
        name_en: "copper",
        aliases: &["Cu", "总铜"],
        unit: MgPerL,
        hj212_2017: &[hj("w20122", MgPerL), hj("w20138", MgPerL)],
        hj212_2005: &["029"],
        gb3838: Gb3838Ref::Table1 { no: 10 },
        decimals: Decimals::FromLimit,
        instrument: InstrumentKind::Manual,
    },
    Parameter {
        code: c::ZN,
        name_zh: "锌",
        name_en: "zinc",
        aliases: &["Zn", "总锌"],
        unit: MgPerL,
        hj212_2017: &[hj("w20123", MgPerL), hj("w20139", MgPerL)],
        hj212_2005: &["030"],
        gb3838: Gb3838Ref::Table1 { no: 11 },
        decimals: Decimals::FromLimit,
        instrument: InstrumentKind::Manual,
    },
    Parameter {
        code: c::FLUORIDE,
        name_zh: "氟化物",
        name_en: "fluoride",
        aliases: &["F", "F-"],
        unit: MgPerL,
        hj212_2017: &[hj("w21017", MgPerL)],
        hj212_2005: &["072"],
        gb3838: Gb3838Ref::Table1 { no: 12 },
        // The class Ⅰ limit is printed "1.0": one decimal, plus one (§11).
        decimals: explicit(2, 2),
        instrument: InstrumentKind::Manual,
    },
    Parameter {
        code: c::SE,
        name_zh: "硒",
        name_en: "selenium",
        aliases: &["Se", "总硒"],
        unit: MgPerL,
        hj212_2017: &[hj("w20128", UgPerL), hj("w20140", MgPerL)],
        hj212_2005: &["035"],
        gb3838: Gb3838Ref::Table1 { no: 13 },
        decimals: Decimals::FromLimit,
        instrument: InstrumentKind::Manual,
    },
    Parameter {
        code: c::AS,
        name_zh: "砷",
        name_en: "arsenic",
        aliases: &["As", "总砷"],
        unit: MgPerL,
        hj212_2017: &[hj("w20119", UgPerL), hj("w20141", MgPerL)],
        hj212_2005: &["026"],
        gb3838: Gb3838Ref::Table1 { no: 14 },
        decimals: Decimals::FromLimit,
        instrument: InstrumentKind::Manual,
    },
    Parameter {
        code: c::HG,
        name_zh: "汞",
        name_en: "mercury",
        aliases: &["Hg", "总汞"],
        unit: MgPerL,
        hj212_2017: &[hj("w20111", UgPerL), hj("w20142", UgPerL)],
        hj212_2005: &["020"],
        gb3838: Gb3838Ref::Table1 { no: 15 },
        decimals: Decimals::FromLimit,
        instrument: InstrumentKind::Manual,
    },
    Parameter {
        code: c::CD,
        name_zh: "镉",
        name_en: "cadmium",
        aliases: &["Cd", "总镉"],
        unit: MgPerL,
        hj212_2017: &[hj("w20115", UgPerL), hj("w20143", UgPerL)],
        hj212_2005: &["022"],
        gb3838: Gb3838Ref::Table1 { no: 16 },
        decimals: Decimals::FromLimit,
        instrument: InstrumentKind::Manual,
    },
    Parameter {
        code: c::CR6,
        name_zh: "六价铬",
        name_en: "hexavalent chromium",
        aliases: &[
            "铬（六价）",
            "铬(六价)",
            "Cr6+",
            "Cr(VI)",
            "Cr6",
            "chromium (VI)",
        ],
        unit: MgPerL,
        hj212_2017: &[hj("w20117", UgPerL)],
        hj212_2005: &["024"],
        gb3838: Gb3838Ref::Table1 { no: 17 },
        decimals: Decimals::FromLimit,
        instrument: InstrumentKind::Manual,
    },
    Parameter {
        code: c::PB,
        name_zh: "铅",
        name_en: "lead",
        aliases: &["Pb", "总铅"],
        unit: MgPerL,
        hj212_2017: &[hj("w20120", UgPerL), hj("w20144", MgPerL)],
        hj212_2005: &["027"],
        gb3838: Gb3838Ref::Table1 { no: 18 },
        decimals: Decimals::FromLimit,
        instrument: InstrumentKind::Manual,
    },
    Parameter {
        code: c::CYANIDE,
        name_zh: "氰化物",
        name_en: "cyanide",
        aliases: &["CN", "CN-", "总氰化物"],
        unit: MgPerL,
        hj212_2017: &[hj("w21016", MgPerL)],
        hj212_2005: &["070"],
        gb3838: Gb3838Ref::Table1 { no: 19 },
        decimals: Decimals::FromLimit,
        instrument: InstrumentKind::Manual,
    },
    Parameter {
        code: c::VOLATILE_PHENOLS,
        name_zh: "挥发酚",
        name_en: "volatile phenols",
        aliases: &["volatile phenol", "phenols"],
        unit: MgPerL,
        hj212_2017: &[hj("w23002", MgPerL)],
        hj212_2005: &["110"],
        gb3838: Gb3838Ref::Table1 { no: 20 },
        decimals: Decimals::FromLimit,
        instrument: InstrumentKind::Manual,
    },
    Parameter {
        code: c::PETROLEUM,
        name_zh: "石油类",
        name_en: "petroleum",
        aliases: &["oil", "petroleum oils"],
        unit: MgPerL,
        hj212_2017: &[hj("w22001", MgPerL)],
        hj212_2005: &["080"],
        gb3838: Gb3838Ref::Table1 { no: 21 },
        decimals: Decimals::FromLimit,
        instrument: InstrumentKind::Manual,
    },
    Parameter {
        code: c::LAS,
        name_zh: "阴离子表面活性剂",
        name_en: "anionic surfactants",
        aliases: &["LAS", "anionic surfactant"],
        unit: MgPerL,
        hj212_2017: &[hj("w19002", MgPerL)],
        hj212_2005: &["520"],
        gb3838: Gb3838Ref::Table1 { no: 22 },
        decimals: Decimals::FromLimit,
        instrument: InstrumentKind::Manual,
    },
    Parameter {
        code: c::SULFIDE,
        name_zh: "硫化物",
        name_en: "sulfide",
        aliases: &["sulphide", "S2-"],
        unit: MgPerL,
        hj212_2017: &[hj("w21019", MgPerL)],
        hj212_2005: &["071"],
        gb3838: Gb3838Ref::Table1 { no: 23 },
        decimals: Decimals::FromLimit,
        instrument: InstrumentKind::Manual,
    },
    Parameter {
        code: c::FECAL_COLIFORM,
        name_zh: "粪大肠菌群",
        name_en: "fecal coliform",
        aliases: &["faecal coliform", "fecal coliforms"],
        unit: CountPerL,
        hj212_2017: &[hj("w02003", CountPerL)],
        hj212_2005: &["550"],
        gb3838: Gb3838Ref::Table1 { no: 24 },
        // Integer counts (project choice, §11).
        decimals: explicit(0, 0),
        instrument: InstrumentKind::Manual,
    },
    Parameter {
        code: c::CONDUCTIVITY,
        name_zh: "电导率",
        name_en: "conductivity",
        aliases: &["EC", "cond"],
        unit: MicroSiemensPerCm,
        hj212_2017: &[hj("w01014", MicroSiemensPerCm)],
        hj212_2005: &[],
        gb3838: Gb3838Ref::NotInStandard,
        decimals: explicit(1, 1),
        instrument: InstrumentKind::Probe,
    },
    Parameter {
        code: c::TURBIDITY,
        name_zh: "浊度",
        name_en: "turbidity",
        aliases: &["turb"],
        unit: Ntu,
        hj212_2017: &[hj("w01003", Ntu)],
        hj212_2005: &[],
        gb3838: Gb3838Ref::NotInStandard,
        decimals: explicit(1, 1),
        instrument: InstrumentKind::Probe,
    },
    Parameter {
        code: c::CHL_A,
        name_zh: "叶绿素a",
        name_en: "chlorophyll a",
        aliases: &["chl-a", "chla", "chlorophyll-a", "叶绿素"],
        unit: MgPerM3,
        // The wire unit varies between stations (mg/L or µg/L); µg/L (= mg/m³) is assumed and
        // must be configured per station where it differs (hj212.md §13.2).
        hj212_2017: &[hj("w01016", UgPerL)],
        hj212_2005: &[],
        gb3838: Gb3838Ref::NotInStandard,
        // 1 decimal in mg/m³ (project choice, §11).
        decimals: explicit(1, 1),
        instrument: InstrumentKind::Probe,
    },
    Parameter {
        code: c::ALGAL_DENSITY,
        name_zh: "藻密度",
        name_en: "algal density",
        aliases: &["algae density", "algal cells"],
        unit: CellsPerL,
        hj212_2017: &[hj("w19011", CellsPerL)],
        hj212_2005: &[],
        gb3838: Gb3838Ref::NotInStandard,
        decimals: explicit(0, 0),
        instrument: InstrumentKind::Probe,
    },
    Parameter {
        code: c::SD,
        name_zh: "透明度",
        name_en: "transparency",
        aliases: &["SD", "Secchi depth", "secchi"],
        unit: Metre,
        hj212_2017: &[hj("w01004", Metre)],
        hj212_2005: &[],
        gb3838: Gb3838Ref::NotInStandard,
        // Not in the reference's list and has no limit; 2 decimals in m (project choice).
        decimals: explicit(2, 2),
        instrument: InstrumentKind::Manual,
    },
];

/// Every catalogue entry: Table 1 and station quantities, Table 2, Table 3 and the Table 3
/// isomer components.
pub fn all() -> impl Iterator<Item = &'static Parameter> {
    CORE_PARAMETERS
        .iter()
        .chain(TABLE2_PARAMETERS.iter())
        .chain(TABLE3_PARAMETERS.iter())
        .chain(TABLE3_COMPONENTS.iter())
}

/// Looks a parameter up by its stable code.
pub fn by_code(code: &str) -> Option<&'static Parameter> {
    all().find(|p| p.code == code)
}

/// How a header or parameter cell identified a parameter.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Resolved {
    pub parameter: &'static Parameter,
    /// The unit implied by the spelling: an HJ 212 2017 code brings its default wire unit,
    /// everything else the GB 3838 unit.
    pub implied_unit: Unit,
}

/// Normalises a spelling for matching: case, white space and the punctuation people vary.
fn normalise(s: &str) -> String {
    s.chars()
        .filter(|c| !c.is_whitespace() && !matches!(c, '-' | '_' | '·' | '（' | '）' | '(' | ')'))
        .map(|c| match c {
            '₃' => '3',
            '₅' => '5',
            '⁶' => '6',
            '⁺' => '+',
            c => c.to_ascii_lowercase(),
        })
        .collect()
}

/// Resolves a stable code, Chinese or English name, alias, HJ 212-2017 code (also with the
/// `-Rtd`/`-Avg` field suffix) or HJ/T 212-2005 code.
pub fn resolve(name: &str) -> Option<Resolved> {
    let trimmed = name.trim();
    let base = ["-Rtd", "-Avg", "-rtd", "-avg", "-RTD", "-AVG"]
        .iter()
        .find_map(|s| trimmed.strip_suffix(s))
        .unwrap_or(trimmed);
    let lower = base.to_ascii_lowercase();
    for p in all() {
        if let Some(h) = p.hj212_2017.iter().find(|h| h.code == lower) {
            return Some(Resolved {
                parameter: p,
                implied_unit: h.unit,
            });
        }
        if p.hj212_2005.contains(&lower.as_str()) {
            return Some(Resolved {
                parameter: p,
                implied_unit: p.unit,
            });
        }
    }
    let key = normalise(base);
    if key.is_empty() {
        return None;
    }
    all()
        .find(|p| {
            normalise(p.code) == key
                || normalise(p.name_zh) == key
                || normalise(p.name_en) == key
                || p.aliases.iter().any(|a| normalise(a) == key)
        })
        .map(|p| Resolved {
            parameter: p,
            implied_unit: p.unit,
        })
}

impl Parameter {
    /// Routine water-quality indicator (§4): Table 1 minus water temperature, TN and fecal
    /// coliform.
    pub fn is_routine(&self) -> bool {
        matches!(self.gb3838, Gb3838Ref::Table1 { .. })
            && !matches!(self.code, c::WATER_TEMPERATURE | c::TN | c::FECAL_COLIFORM)
    }

    /// TN and fecal coliform: classed on their own line, never in the station class.
    pub fn is_reference_indicator(&self) -> bool {
        matches!(self.code, c::TN | c::FECAL_COLIFORM)
    }

    /// pH, DO and water temperature never get an exceedance multiple (§7).
    pub fn is_exceedance_exempt(&self) -> bool {
        matches!(self.code, c::WATER_TEMPERATURE | c::PH | c::DO)
    }

    /// Evaluation decimals (§11); pH can be overridden by `rounding.ph_eval_decimals`.
    pub fn evaluation_decimals(&self) -> u32 {
        match self.decimals {
            Decimals::Explicit { evaluation, .. } => u32::from(evaluation),
            Decimals::FromLimit => self.decimals_from_limit(),
        }
    }

    /// Hourly-data decimals (§11).
    pub fn hourly_decimals(&self) -> u32 {
        match self.decimals {
            Decimals::Explicit { hourly, .. } => u32::from(hourly),
            Decimals::FromLimit => self.decimals_from_limit(),
        }
    }

    fn decimals_from_limit(&self) -> u32 {
        tables::limit_decimals(self.code)
            .map(|d| d + 1)
            .unwrap_or(3)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_unique() {
        let mut seen = std::collections::BTreeSet::new();
        for p in all() {
            assert!(seen.insert(p.code), "duplicate code {}", p.code);
        }
        // 29 core + 5 Table 2 + 80 Table 3 + 22 isomer components
        assert_eq!(seen.len(), 29 + 5 + 80 + 22);
    }

    #[test]
    fn resolves_spellings() {
        for (s, code) in [
            ("总磷", c::TP),
            ("TP", c::TP),
            ("w21011", c::TP),
            ("w21011-Avg", c::TP),
            ("101", c::TP),
            ("NH3-N", c::NH3_N),
            ("氨氮", c::NH3_N),
            ("ammonia nitrogen", c::NH3_N),
            ("CODMn", c::COD_MN),
            ("COD", c::COD),
            ("高锰酸盐指数", c::COD_MN),
            ("铬（六价）", c::CR6),
            ("二甲苯", "xylene"),
            ("chl-a", c::CHL_A),
            ("dissolved oxygen", c::DO),
        ] {
            assert_eq!(resolve(s).map(|r| r.parameter.code), Some(code), "{s}");
        }
        assert!(resolve("unobtainium").is_none());
        assert_eq!(resolve("w20111").unwrap().implied_unit, Unit::UgPerL);
        assert_eq!(resolve("汞").unwrap().implied_unit, Unit::MgPerL);
    }

    #[test]
    fn decimals_follow_the_reference() {
        for (code, eval) in [
            (c::WATER_TEMPERATURE, 1),
            (c::PH, 0),
            (c::DO, 1),
            (c::COD_MN, 1),
            (c::COD, 1),
            (c::NH3_N, 2),
            (c::TP, 3),
            (c::TN, 2),
            (c::CONDUCTIVITY, 1),
            (c::TURBIDITY, 1),
            (c::ALGAL_DENSITY, 0),
            // "class Ⅰ limit decimals + 1" examples of §11
            (c::CU, 3),
            (c::HG, 6),
            (c::CD, 4),
            (c::CYANIDE, 4),
            (c::LAS, 2),
            (c::FLUORIDE, 2),
            (c::BOD5, 1),
            (c::SE, 3),
            (c::FECAL_COLIFORM, 0),
            (c::CHL_A, 1),
        ] {
            assert_eq!(by_code(code).unwrap().evaluation_decimals(), eval, "{code}");
        }
        assert_eq!(by_code(c::PH).unwrap().hourly_decimals(), 2);
        assert_eq!(by_code(c::NH3_N).unwrap().hourly_decimals(), 3);
        // Table 3: benzo(a)pyrene 2.8e-6 has 7 decimals → 8; Co "1.0" → 2; components follow
        // their sum item.
        assert_eq!(by_code("benzo_a_pyrene").unwrap().evaluation_decimals(), 8);
        assert_eq!(by_code("co").unwrap().evaluation_decimals(), 2);
        assert_eq!(by_code("sulfate").unwrap().evaluation_decimals(), 1);
        assert_eq!(by_code("fe").unwrap().evaluation_decimals(), 2);
        assert_eq!(by_code("p_xylene").unwrap().evaluation_decimals(), 2);
    }

    #[test]
    fn routine_set_has_21_items() {
        let routine: Vec<_> = all().filter(|p| p.is_routine()).collect();
        assert_eq!(routine.len(), 21);
    }
}
