//! GB 3838-2002 Tables 1, 2 and 3 as data (reference §2, §3).

use crate::parameter::{Decimals, Gb3838Ref, Hj212Code, InstrumentKind, Parameter, codes as c};
use crate::unit::Unit;
use serde::Serialize;

/// How a Table 1 row limits a value.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Table1Limits {
    /// Water temperature: a man-made change limit, the same for all classes; never classed.
    ThermalChange {
        max_weekly_rise: f64,
        max_weekly_drop: f64,
    },
    /// pH: the same range for every class.
    Range { min: f64, max: f64 },
    /// "≥": the value must be at least the limit (DO). Columns Ⅰ…Ⅴ.
    AtLeast { limits: [f64; 5] },
    /// "≤": the value must not exceed the limit. Columns Ⅰ…Ⅴ.
    AtMost { limits: [f64; 5] },
    /// "≤" with a river column and a lake/reservoir (湖、库) column (TP).
    AtMostByWaterType { river: [f64; 5], lake: [f64; 5] },
    /// "≤" for lakes and reservoirs only (TN); rivers never class it.
    AtMostLakeOnly { limits: [f64; 5] },
}

/// One row of Table 1.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct Table1Row {
    pub no: u8,
    pub parameter: &'static str,
    pub limits: Table1Limits,
}

const fn at_most(limits: [f64; 5]) -> Table1Limits {
    Table1Limits::AtMost { limits }
}

/// GB 3838-2002 Table 1: the 24 basic items (mg/L unless stated; fecal coliform 个/L).
pub static TABLE1: [Table1Row; 24] = [
    Table1Row {
        no: 1,
        parameter: c::WATER_TEMPERATURE,
        limits: Table1Limits::ThermalChange {
            max_weekly_rise: 1.0,
            max_weekly_drop: 2.0,
        },
    },
    Table1Row {
        no: 2,
        parameter: c::PH,
        limits: Table1Limits::Range { min: 6.0, max: 9.0 },
    },
    // Class Ⅰ: "saturation 90 % (or 7.5)"; the fixed 7.5 is the default (`eval.do_class1`).
    Table1Row {
        no: 3,
        parameter: c::DO,
        limits: Table1Limits::AtLeast {
            limits: [7.5, 6.0, 5.0, 3.0, 2.0],
        },
    },
    Table1Row {
        no: 4,
        parameter: c::COD_MN,
        limits: at_most([2.0, 4.0, 6.0, 10.0, 15.0]),
    },
    Table1Row {
        no: 5,
        parameter: c::COD,
        limits: at_most([15.0, 15.0, 20.0, 30.0, 40.0]),
    },
    Table1Row {
        no: 6,
        parameter: c::BOD5,
        limits: at_most([3.0, 3.0, 4.0, 6.0, 10.0]),
    },
    Table1Row {
        no: 7,
        parameter: c::NH3_N,
        limits: at_most([0.15, 0.5, 1.0, 1.5, 2.0]),
    },
    Table1Row {
        no: 8,
        parameter: c::TP,
        limits: Table1Limits::AtMostByWaterType {
            river: [0.02, 0.1, 0.2, 0.3, 0.4],
            lake: [0.01, 0.025, 0.05, 0.1, 0.2],
        },
    },
    Table1Row {
        no: 9,
        parameter: c::TN,
        limits: Table1Limits::AtMostLakeOnly {
            limits: [0.2, 0.5, 1.0, 1.5, 2.0],
        },
    },
    Table1Row {
        no: 10,
        parameter: c::CU,
        limits: at_most([0.01, 1.0, 1.0, 1.0, 1.0]),
    },
    Table1Row {
        no: 11,
        parameter: c::ZN,
        limits: at_most([0.05, 1.0, 1.0, 2.0, 2.0]),
    },
    Table1Row {
        no: 12,
        parameter: c::FLUORIDE,
        limits: at_most([1.0, 1.0, 1.0, 1.5, 1.5]),
    },
    Table1Row {
        no: 13,
        parameter: c::SE,
        limits: at_most([0.01, 0.01, 0.01, 0.02, 0.02]),
    },
    Table1Row {
        no: 14,
        parameter: c::AS,
        limits: at_most([0.05, 0.05, 0.05, 0.1, 0.1]),
    },
    Table1Row {
        no: 15,
        parameter: c::HG,
        limits: at_most([0.00005, 0.00005, 0.0001, 0.001, 0.001]),
    },
    Table1Row {
        no: 16,
        parameter: c::CD,
        limits: at_most([0.001, 0.005, 0.005, 0.005, 0.01]),
    },
    Table1Row {
        no: 17,
        parameter: c::CR6,
        limits: at_most([0.01, 0.05, 0.05, 0.05, 0.1]),
    },
    Table1Row {
        no: 18,
        parameter: c::PB,
        limits: at_most([0.01, 0.01, 0.05, 0.05, 0.1]),
    },
    Table1Row {
        no: 19,
        parameter: c::CYANIDE,
        limits: at_most([0.005, 0.05, 0.2, 0.2, 0.2]),
    },
    Table1Row {
        no: 20,
        parameter: c::VOLATILE_PHENOLS,
        limits: at_most([0.002, 0.002, 0.005, 0.01, 0.1]),
    },
    Table1Row {
        no: 21,
        parameter: c::PETROLEUM,
        limits: at_most([0.05, 0.05, 0.05, 0.5, 1.0]),
    },
    Table1Row {
        no: 22,
        parameter: c::LAS,
        limits: at_most([0.2, 0.2, 0.2, 0.3, 0.3]),
    },
    Table1Row {
        no: 23,
        parameter: c::SULFIDE,
        limits: at_most([0.05, 0.1, 0.2, 0.5, 1.0]),
    },
    Table1Row {
        no: 24,
        parameter: c::FECAL_COLIFORM,
        limits: at_most([200.0, 2000.0, 10000.0, 20000.0, 40000.0]),
    },
];

/// One row of Table 2 or Table 3: a single limit, judged 达标/超标.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
pub struct SingleLimitRow {
    /// 2 or 3.
    pub table: u8,
    pub no: u8,
    pub parameter: &'static str,
    /// mg/L.
    pub limit: f64,
    /// The limit as printed in the standard ("1.0" has one decimal); sets the rounding decimals.
    pub limit_text: &'static str,
    /// Isomers or congeners whose sum the limit applies to (empty for a plain item).
    pub components: &'static [&'static str],
}

const NO_HJ: &[Hj212Code] = &[];

/// Builds the catalogue entries and the rows of a single-limit table from one list, so that a
/// name and its limit are written once.
macro_rules! single_limit_table {
    ($params:ident, $rows:ident, $table:literal, $variant:ident;
     $( $no:literal $code:literal $zh:literal $en:literal $limit:literal
        hj [$($hj:literal $hju:ident),*] old [$($old:literal),*] sum [$($comp:literal),*] ;)*) => {
        pub static $params: &[Parameter] = &[ $( Parameter {
            code: $code,
            name_zh: $zh,
            name_en: $en,
            aliases: &[],
            unit: Unit::MgPerL,
            hj212_2017: &[$(Hj212Code { code: $hj, unit: Unit::$hju }),*],
            hj212_2005: &[$($old),*],
            gb3838: Gb3838Ref::$variant { no: $no },
            decimals: Decimals::FromLimit,
            instrument: InstrumentKind::Manual,
        } ),* ];
        pub static $rows: &[SingleLimitRow] = &[ $( SingleLimitRow {
            table: $table,
            no: $no,
            parameter: $code,
            limit: $limit,
            limit_text: stringify!($limit),
            components: &[$($comp),*],
        } ),* ];
    };
}

single_limit_table! { TABLE2_PARAMETERS, TABLE2, 2, Table2;
    1 "sulfate" "硫酸盐" "sulfate" 250. hj ["w21038" MgPerL] old [] sum [];
    2 "chloride" "氯化物" "chloride" 250. hj ["w21022" MgPerL] old ["090"] sum [];
    3 "nitrate" "硝酸盐" "nitrate" 10. hj ["w21007" MgPerL] old ["064"] sum [];
    4 "fe" "铁" "iron" 0.3 hj ["w20125" MgPerL] old ["032"] sum [];
    5 "mn" "锰" "manganese" 0.1 hj ["w20124" MgPerL] old ["031"] sum [];
}

single_limit_table! { TABLE3_PARAMETERS, TABLE3, 3, Table3;
    1 "chloroform" "三氯甲烷" "chloroform" 0.06 hj [] old [] sum [];
    2 "carbon_tetrachloride" "四氯化碳" "carbon tetrachloride" 0.002 hj [] old [] sum [];
    3 "bromoform" "三溴甲烷" "bromoform" 0.1 hj [] old [] sum [];
    4 "dichloromethane" "二氯甲烷" "dichloromethane" 0.02 hj [] old [] sum [];
    5 "dichloroethane_1_2" "1,2-二氯乙烷" "1,2-dichloroethane" 0.03 hj [] old [] sum [];
    6 "epichlorohydrin" "环氧氯丙烷" "epichlorohydrin" 0.02 hj [] old [] sum [];
    7 "vinyl_chloride" "氯乙烯" "vinyl chloride" 0.005 hj [] old [] sum [];
    8 "dichloroethene_1_1" "1,1-二氯乙烯" "1,1-dichloroethene" 0.03 hj [] old [] sum [];
    9 "dichloroethene_1_2" "1,2-二氯乙烯" "1,2-dichloroethene" 0.05 hj [] old [] sum [];
    10 "trichloroethene" "三氯乙烯" "trichloroethene" 0.07 hj [] old [] sum [];
    11 "tetrachloroethene" "四氯乙烯" "tetrachloroethene" 0.04 hj [] old [] sum [];
    12 "chloroprene" "氯丁二烯" "chloroprene" 0.002 hj [] old [] sum [];
    13 "hexachlorobutadiene" "六氯丁二烯" "hexachlorobutadiene" 0.0006 hj [] old [] sum [];
    14 "styrene" "苯乙烯" "styrene" 0.02 hj [] old [] sum [];
    15 "formaldehyde" "甲醛" "formaldehyde" 0.9 hj [] old [] sum [];
    16 "acetaldehyde" "乙醛" "acetaldehyde" 0.05 hj [] old [] sum [];
    17 "acrolein" "丙烯醛" "acrolein" 0.1 hj [] old [] sum [];
    18 "chloral" "三氯乙醛" "chloral" 0.01 hj [] old [] sum [];
    19 "benzene" "苯" "benzene" 0.01 hj [] old [] sum [];
    20 "toluene" "甲苯" "toluene" 0.7 hj [] old [] sum [];
    21 "ethylbenzene" "乙苯" "ethylbenzene" 0.3 hj [] old [] sum [];
    22 "xylene" "二甲苯" "xylene" 0.5 hj [] old []
        sum ["p_xylene", "m_xylene", "o_xylene"];
    23 "cumene" "异丙苯" "cumene" 0.25 hj [] old [] sum [];
    24 "chlorobenzene" "氯苯" "chlorobenzene" 0.3 hj [] old [] sum [];
    25 "dichlorobenzene_1_2" "1,2-二氯苯" "1,2-dichlorobenzene" 1.0 hj [] old [] sum [];
    26 "dichlorobenzene_1_4" "1,4-二氯苯" "1,4-dichlorobenzene" 0.3 hj [] old [] sum [];
    27 "trichlorobenzene" "三氯苯" "trichlorobenzene" 0.02 hj [] old []
        sum ["trichlorobenzene_1_2_3", "trichlorobenzene_1_2_4", "trichlorobenzene_1_3_5"];
    28 "tetrachlorobenzene" "四氯苯" "tetrachlorobenzene" 0.02 hj [] old []
        sum ["tetrachlorobenzene_1_2_3_4", "tetrachlorobenzene_1_2_3_5",
             "tetrachlorobenzene_1_2_4_5"];
    29 "hexachlorobenzene" "六氯苯" "hexachlorobenzene" 0.05 hj [] old [] sum [];
    30 "nitrobenzene" "硝基苯" "nitrobenzene" 0.017 hj [] old [] sum [];
    31 "dinitrobenzene" "二硝基苯" "dinitrobenzene" 0.5 hj [] old []
        sum ["p_dinitrobenzene", "m_dinitrobenzene", "o_dinitrobenzene"];
    32 "dinitrotoluene_2_4" "2,4-二硝基甲苯" "2,4-dinitrotoluene" 0.0003 hj [] old [] sum [];
    33 "tnt" "2,4,6-三硝基甲苯" "2,4,6-trinitrotoluene" 0.5 hj [] old [] sum [];
    34 "nitrochlorobenzene" "硝基氯苯" "nitrochlorobenzene" 0.05 hj [] old []
        sum ["p_nitrochlorobenzene", "m_nitrochlorobenzene", "o_nitrochlorobenzene"];
    35 "dinitrochlorobenzene_2_4" "2,4-二硝基氯苯" "2,4-dinitrochlorobenzene" 0.5 hj [] old [] sum [];
    36 "dichlorophenol_2_4" "2,4-二氯苯酚" "2,4-dichlorophenol" 0.093 hj [] old [] sum [];
    37 "trichlorophenol_2_4_6" "2,4,6-三氯苯酚" "2,4,6-trichlorophenol" 0.2 hj [] old [] sum [];
    38 "pentachlorophenol" "五氯酚" "pentachlorophenol" 0.009 hj [] old [] sum [];
    39 "aniline" "苯胺" "aniline" 0.1 hj [] old [] sum [];
    40 "benzidine" "联苯胺" "benzidine" 0.0002 hj [] old [] sum [];
    41 "acrylamide" "丙烯酰胺" "acrylamide" 0.0005 hj [] old [] sum [];
    42 "acrylonitrile" "丙烯腈" "acrylonitrile" 0.1 hj [] old [] sum [];
    43 "dbp" "邻苯二甲酸二丁酯" "dibutyl phthalate" 0.003 hj [] old [] sum [];
    44 "dehp" "邻苯二甲酸二(2-乙基己基)酯" "di(2-ethylhexyl) phthalate" 0.008 hj [] old [] sum [];
    45 "hydrazine_hydrate" "水合肼" "hydrazine hydrate" 0.01 hj [] old [] sum [];
    46 "tetraethyl_lead" "四乙基铅" "tetraethyl lead" 0.0001 hj [] old [] sum [];
    47 "pyridine" "吡啶" "pyridine" 0.2 hj [] old [] sum [];
    48 "turpentine" "松节油" "turpentine" 0.2 hj [] old [] sum [];
    49 "picric_acid" "苦味酸" "picric acid" 0.5 hj [] old [] sum [];
    50 "butyl_xanthate" "丁基黄原酸" "butyl xanthate" 0.005 hj [] old [] sum [];
    51 "active_chlorine" "活性氯" "active chlorine" 0.01 hj [] old [] sum [];
    52 "ddt" "滴滴涕" "DDT" 0.001 hj ["w33007" NgPerL] old ["351"] sum [];
    53 "lindane" "林丹" "lindane" 0.002 hj [] old [] sum [];
    54 "heptachlor_epoxide" "环氧七氯" "heptachlor epoxide" 0.0002 hj [] old [] sum [];
    55 "parathion" "对硫磷" "parathion" 0.003 hj [] old [] sum [];
    56 "methyl_parathion" "甲基对硫磷" "methyl parathion" 0.002 hj [] old [] sum [];
    57 "malathion" "马拉硫磷" "malathion" 0.05 hj [] old [] sum [];
    58 "dimethoate" "乐果" "dimethoate" 0.08 hj [] old [] sum [];
    59 "dichlorvos" "敌敌畏" "dichlorvos" 0.05 hj [] old [] sum [];
    60 "trichlorfon" "敌百虫" "trichlorfon" 0.05 hj [] old [] sum [];
    61 "demeton" "内吸磷" "demeton" 0.03 hj [] old [] sum [];
    62 "chlorothalonil" "百菌清" "chlorothalonil" 0.01 hj [] old [] sum [];
    63 "carbaryl" "甲萘威" "carbaryl" 0.05 hj [] old [] sum [];
    64 "deltamethrin" "溴氰菊酯" "deltamethrin" 0.02 hj [] old [] sum [];
    65 "atrazine" "阿特拉津" "atrazine" 0.003 hj [] old [] sum [];
    66 "benzo_a_pyrene" "苯并(a)芘" "benzo(a)pyrene" 0.0000028 hj ["w25043" UgPerL] old ["540"] sum [];
    67 "methylmercury" "甲基汞" "methylmercury" 0.000001 hj [] old [] sum [];
    68 "pcbs" "多氯联苯" "polychlorinated biphenyls" 0.00002 hj [] old []
        sum ["pcb_1016", "pcb_1221", "pcb_1232", "pcb_1242", "pcb_1248", "pcb_1254", "pcb_1260"];
    69 "microcystin_lr" "微囊藻毒素-LR" "microcystin-LR" 0.001 hj ["w99004" MgPerL] old [] sum [];
    70 "yellow_phosphorus" "黄磷" "yellow phosphorus" 0.003 hj [] old [] sum [];
    71 "mo" "钼" "molybdenum" 0.07 hj ["w20061" MgPerL] old ["038"] sum [];
    72 "co" "钴" "cobalt" 1.0 hj ["w20038" MgPerL] old ["040"] sum [];
    73 "be" "铍" "beryllium" 0.002 hj ["w20127" UgPerL] old ["034"] sum [];
    74 "b" "硼" "boron" 0.5 hj ["w20023" MgPerL] old ["037"] sum [];
    75 "sb" "锑" "antimony" 0.005 hj [] old [] sum [];
    76 "ni" "镍" "nickel" 0.02 hj ["w20121" MgPerL] old ["028"] sum [];
    77 "ba" "钡" "barium" 0.7 hj ["w20012" MgPerL] old ["039"] sum [];
    78 "v" "钒" "vanadium" 0.05 hj [] old [] sum [];
    79 "ti" "钛" "titanium" 0.1 hj [] old [] sum [];
    80 "tl" "铊" "thallium" 0.0001 hj ["w20089" NgPerL] old ["041"] sum [];
}

macro_rules! components {
    ($name:ident; $( $code:literal $zh:literal $en:literal of $of:literal ;)*) => {
        /// The isomers and congeners of the Table 3 sum items (footnotes ①–⑥).
        pub static $name: &[Parameter] = &[ $( Parameter {
            code: $code,
            name_zh: $zh,
            name_en: $en,
            aliases: &[],
            unit: Unit::MgPerL,
            hj212_2017: NO_HJ,
            hj212_2005: &[],
            gb3838: Gb3838Ref::Table3Component { of: $of },
            decimals: Decimals::FromLimit,
            instrument: InstrumentKind::Manual,
        } ),* ];
    };
}

components! { TABLE3_COMPONENTS;
    "p_xylene" "对二甲苯" "p-xylene" of "xylene";
    "m_xylene" "间二甲苯" "m-xylene" of "xylene";
    "o_xylene" "邻二甲苯" "o-xylene" of "xylene";
    "trichlorobenzene_1_2_3" "1,2,3-三氯苯" "1,2,3-trichlorobenzene" of "trichlorobenzene";
    "trichlorobenzene_1_2_4" "1,2,4-三氯苯" "1,2,4-trichlorobenzene" of "trichlorobenzene";
    "trichlorobenzene_1_3_5" "1,3,5-三氯苯" "1,3,5-trichlorobenzene" of "trichlorobenzene";
    "tetrachlorobenzene_1_2_3_4" "1,2,3,4-四氯苯" "1,2,3,4-tetrachlorobenzene" of "tetrachlorobenzene";
    "tetrachlorobenzene_1_2_3_5" "1,2,3,5-四氯苯" "1,2,3,5-tetrachlorobenzene" of "tetrachlorobenzene";
    "tetrachlorobenzene_1_2_4_5" "1,2,4,5-四氯苯" "1,2,4,5-tetrachlorobenzene" of "tetrachlorobenzene";
    "p_dinitrobenzene" "对二硝基苯" "p-dinitrobenzene" of "dinitrobenzene";
    "m_dinitrobenzene" "间二硝基苯" "m-dinitrobenzene" of "dinitrobenzene";
    "o_dinitrobenzene" "邻二硝基苯" "o-dinitrobenzene" of "dinitrobenzene";
    "p_nitrochlorobenzene" "对硝基氯苯" "p-nitrochlorobenzene" of "nitrochlorobenzene";
    "m_nitrochlorobenzene" "间硝基氯苯" "m-nitrochlorobenzene" of "nitrochlorobenzene";
    "o_nitrochlorobenzene" "邻硝基氯苯" "o-nitrochlorobenzene" of "nitrochlorobenzene";
    "pcb_1016" "多氯联苯-1016" "PCB-1016" of "pcbs";
    "pcb_1221" "多氯联苯-1221" "PCB-1221" of "pcbs";
    "pcb_1232" "多氯联苯-1232" "PCB-1232" of "pcbs";
    "pcb_1242" "多氯联苯-1242" "PCB-1242" of "pcbs";
    "pcb_1248" "多氯联苯-1248" "PCB-1248" of "pcbs";
    "pcb_1254" "多氯联苯-1254" "PCB-1254" of "pcbs";
    "pcb_1260" "多氯联苯-1260" "PCB-1260" of "pcbs";
}

/// The Table 1 row of a parameter.
pub fn table1_row(code: &str) -> Option<&'static Table1Row> {
    TABLE1.iter().find(|r| r.parameter == code)
}

/// The Table 2 or Table 3 row of a parameter.
pub fn single_limit_row(code: &str) -> Option<&'static SingleLimitRow> {
    TABLE2
        .iter()
        .chain(TABLE3.iter())
        .find(|r| r.parameter == code)
}

/// Decimals of the limit that sets the rounding of items outside the reference's decimal
/// table: the class Ⅰ limit (river column) for Table 1, the single limit as printed for Tables 2
/// and 3, and the limit of the sum for an isomer component.
pub fn limit_decimals(code: &str) -> Option<u32> {
    if let Some(row) = table1_row(code) {
        return match row.limits {
            Table1Limits::AtMost { limits }
            | Table1Limits::AtLeast { limits }
            | Table1Limits::AtMostLakeOnly { limits }
            | Table1Limits::AtMostByWaterType { river: limits, .. } => {
                Some(crate::rounding::decimal_places(limits[0]))
            }
            Table1Limits::Range { .. } | Table1Limits::ThermalChange { .. } => None,
        };
    }
    let printed = |row: &SingleLimitRow| {
        row.limit_text
            .split_once('.')
            .map(|(_, frac)| frac.len() as u32)
            .unwrap_or(0)
    };
    if let Some(row) = single_limit_row(code) {
        return Some(printed(row));
    }
    TABLE3_COMPONENTS
        .iter()
        .find(|p| p.code == code)
        .and_then(|p| match p.gb3838 {
            Gb3838Ref::Table3Component { of } => single_limit_row(of).map(printed),
            _ => None,
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalogue;

    #[test]
    fn tables_have_the_published_sizes() {
        assert_eq!(TABLE1.len(), 24);
        assert_eq!(TABLE2.len(), 5);
        assert_eq!(TABLE3.len(), 80);
        for (i, row) in TABLE1.iter().enumerate() {
            assert_eq!(usize::from(row.no), i + 1);
        }
        for (i, row) in TABLE3.iter().enumerate() {
            assert_eq!(usize::from(row.no), i + 1);
        }
        assert_eq!(TABLE2.len() + TABLE3.len() + TABLE1.len(), 109);
    }

    #[test]
    fn every_row_names_a_catalogue_parameter() {
        for code in TABLE1
            .iter()
            .map(|r| r.parameter)
            .chain(TABLE2.iter().map(|r| r.parameter))
            .chain(TABLE3.iter().map(|r| r.parameter))
            .chain(TABLE3.iter().flat_map(|r| r.components.iter().copied()))
        {
            assert!(catalogue::by_code(code).is_some(), "{code}");
        }
    }

    #[test]
    fn isomer_groups_match_footnotes() {
        let sizes: Vec<(&str, usize)> = TABLE3
            .iter()
            .filter(|r| !r.components.is_empty())
            .map(|r| (r.parameter, r.components.len()))
            .collect();
        assert_eq!(
            sizes,
            vec![
                ("xylene", 3),
                ("trichlorobenzene", 3),
                ("tetrachlorobenzene", 3),
                ("dinitrobenzene", 3),
                ("nitrochlorobenzene", 3),
                ("pcbs", 7)
            ]
        );
    }

    #[test]
    fn limits_are_monotone_by_class() {
        for row in &TABLE1 {
            match row.limits {
                Table1Limits::AtMost { limits } | Table1Limits::AtMostLakeOnly { limits } => {
                    assert!(limits.windows(2).all(|w| w[0] <= w[1]), "{}", row.parameter)
                }
                Table1Limits::AtMostByWaterType { river, lake } => {
                    assert!(river.windows(2).all(|w| w[0] <= w[1]));
                    assert!(lake.windows(2).all(|w| w[0] <= w[1]));
                }
                Table1Limits::AtLeast { limits } => {
                    assert!(limits.windows(2).all(|w| w[0] >= w[1]))
                }
                _ => {}
            }
        }
    }
}
