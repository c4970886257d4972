//! What a catalogue entry is: the types of the parameter catalogue (`catalogue.rs`, the data)
//! and of GB 3838's tables (`tables.rs`), kept apart from both so that neither depends on the
//! other's module for them.

use crate::unit::Unit;
use serde::Serialize;

/// Stable catalogue codes of the parameters the evaluation refers to by name.
pub mod codes {
    pub const WATER_TEMPERATURE: &str = "water_temp";
    pub const PH: &str = "ph";
    pub const DO: &str = "do";
    pub const COD_MN: &str = "cod_mn";
    pub const COD: &str = "cod";
    pub const BOD5: &str = "bod5";
    pub const NH3_N: &str = "nh3_n";
    pub const TP: &str = "tp";
    pub const TN: &str = "tn";
    pub const CU: &str = "cu";
    pub const ZN: &str = "zn";
    pub const FLUORIDE: &str = "fluoride";
    pub const SE: &str = "se";
    pub const AS: &str = "as";
    pub const HG: &str = "hg";
    pub const CD: &str = "cd";
    pub const CR6: &str = "cr6";
    pub const PB: &str = "pb";
    pub const CYANIDE: &str = "cyanide";
    pub const VOLATILE_PHENOLS: &str = "volatile_phenols";
    pub const PETROLEUM: &str = "petroleum";
    pub const LAS: &str = "las";
    pub const SULFIDE: &str = "sulfide";
    pub const FECAL_COLIFORM: &str = "fecal_coliform";
    pub const CONDUCTIVITY: &str = "conductivity";
    pub const TURBIDITY: &str = "turbidity";
    pub const CHL_A: &str = "chl_a";
    pub const ALGAL_DENSITY: &str = "algal_density";
    pub const SD: &str = "sd";
}

/// An HJ 212 factor code with the unit a station sends by default (hj212.md §13).
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Hj212Code {
    pub code: &'static str,
    pub unit: Unit,
}

/// Where a parameter sits in GB 3838-2002.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "table", rename_all = "snake_case")]
pub enum Gb3838Ref {
    NotInStandard,
    Table1 {
        no: u8,
    },
    Table2 {
        no: u8,
    },
    Table3 {
        no: u8,
    },
    /// One isomer or congener of a Table 3 sum item (e.g. p-xylene of 二甲苯).
    Table3Component {
        of: &'static str,
    },
}

/// How values of a parameter are usually produced; selects the QC rule variant (§13.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum InstrumentKind {
    /// Continuous probe (the five conventional parameters, chl-a, algal density).
    Probe,
    /// Cyclic analyser, normally one result every 4 h (CODMn, NH3-N, TP, TN).
    Analyser,
    /// Laboratory / manual sampling.
    Manual,
}

/// Rounding decimals of a parameter (§11).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Decimals {
    /// From the reference's decimal table.
    Explicit { hourly: u8, evaluation: u8 },
    /// "Decimals of the class Ⅰ limit (or the single limit) plus one".
    FromLimit,
}

/// One catalogue entry.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Parameter {
    /// Stable code used in APIs, configuration and storage.
    pub code: &'static str,
    pub name_zh: &'static str,
    pub name_en: &'static str,
    /// Further spellings accepted in file headers (abbreviations, formulas).
    pub aliases: &'static [&'static str],
    /// The GB 3838 unit; every value is converted to it before evaluation.
    pub unit: Unit,
    pub hj212_2017: &'static [Hj212Code],
    /// HJ/T 212-2005 codes. Their wire unit is taken to be the GB 3838 unit.
    pub hj212_2005: &'static [&'static str],
    pub gb3838: Gb3838Ref,
    pub decimals: Decimals,
    pub instrument: InstrumentKind,
}
