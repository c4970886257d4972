//! GB 3838-2002 Tables 1–3 checked against the reference text itself: the markdown rows below
//! are copied verbatim from `shared/reference/water-quality.md` §2 and §3, parsed here, and every
//! limit is exercised at, just below and just above its value, for rivers and lakes.

use std::collections::BTreeMap;
use wq::catalogue;
use wq::classify::{ClassifyContext, WaterType, classify};
use wq::tables::{TABLE1, TABLE2, TABLE3, Table1Limits};
use wq::{
    DrinkingWaterAssessment, EvaluationOptions, Sample, SeriesByParameter, Verdict, WaterClass,
};

const TABLE1_MD: &str = r#"
| 1 | 水温 water temperature | w01010 | ℃ | change limit | man-made change: weekly mean maximum rise ≤ 1, weekly mean maximum drop ≤ 2 (same for all classes) | | | | |
| 2 | pH | w01001 | — | range | 6–9 | 6–9 | 6–9 | 6–9 | 6–9 |
| 3 | 溶解氧 DO | w01009 | mg/L | ≥ | 90 % saturation (or 7.5) | 6 | 5 | 3 | 2 |
| 4 | 高锰酸盐指数 CODMn | w01019 | mg/L | ≤ | 2 | 4 | 6 | 10 | 15 |
| 5 | 化学需氧量 COD | w01018 | mg/L | ≤ | 15 | 15 | 20 | 30 | 40 |
| 6 | 五日生化需氧量 BOD5 | w01017 | mg/L | ≤ | 3 | 3 | 4 | 6 | 10 |
| 7 | 氨氮 NH3-N | w21003 | mg/L | ≤ | 0.15 | 0.5 | 1.0 | 1.5 | 2.0 |
| 8 | 总磷 TP (as P), river / **lake** | w21011 | mg/L | ≤ | 0.02 / **0.01** | 0.1 / **0.025** | 0.2 / **0.05** | 0.3 / **0.1** | 0.4 / **0.2** |
| 9 | 总氮 TN (as N), **lakes and reservoirs only** | w21001 | mg/L | ≤ | 0.2 | 0.5 | 1.0 | 1.5 | 2.0 |
| 10 | 铜 Cu | w20122 / w20138 | mg/L | ≤ | 0.01 | 1.0 | 1.0 | 1.0 | 1.0 |
| 11 | 锌 Zn | w20123 / w20139 | mg/L | ≤ | 0.05 | 1.0 | 1.0 | 2.0 | 2.0 |
| 12 | 氟化物 fluoride (as F⁻) | w21017 | mg/L | ≤ | 1.0 | 1.0 | 1.0 | 1.5 | 1.5 |
| 13 | 硒 Se | w20128 / w20140 | mg/L | ≤ | 0.01 | 0.01 | 0.01 | 0.02 | 0.02 |
| 14 | 砷 As | w20119 / w20141 | mg/L | ≤ | 0.05 | 0.05 | 0.05 | 0.1 | 0.1 |
| 15 | 汞 Hg | w20111 / w20142 | mg/L | ≤ | 0.00005 | 0.00005 | 0.0001 | 0.001 | 0.001 |
| 16 | 镉 Cd | w20115 / w20143 | mg/L | ≤ | 0.001 | 0.005 | 0.005 | 0.005 | 0.01 |
| 17 | 铬（六价）Cr⁶⁺ | w20117 | mg/L | ≤ | 0.01 | 0.05 | 0.05 | 0.05 | 0.1 |
| 18 | 铅 Pb | w20120 / w20144 | mg/L | ≤ | 0.01 | 0.01 | 0.05 | 0.05 | 0.1 |
| 19 | 氰化物 cyanide | w21016 | mg/L | ≤ | 0.005 | 0.05 | 0.2 | 0.2 | 0.2 |
| 20 | 挥发酚 volatile phenols | w23002 | mg/L | ≤ | 0.002 | 0.002 | 0.005 | 0.01 | 0.1 |
| 21 | 石油类 petroleum | w22001 | mg/L | ≤ | 0.05 | 0.05 | 0.05 | 0.5 | 1.0 |
| 22 | 阴离子表面活性剂 LAS | w19002 | mg/L | ≤ | 0.2 | 0.2 | 0.2 | 0.3 | 0.3 |
| 23 | 硫化物 sulfide | w21019 | mg/L | ≤ | 0.05 | 0.1 | 0.2 | 0.5 | 1.0 |
| 24 | 粪大肠菌群 fecal coliform | w02003 | 个/L | ≤ | 200 | 2000 | 10000 | 20000 | 40000 |
"#;

const TABLE2_MD: &str = r#"
| 1 | 硫酸盐 sulfate (as SO₄²⁻) | w21038 | 250 |
| 2 | 氯化物 chloride (as Cl⁻) | w21022 | 250 |
| 3 | 硝酸盐 nitrate (as N) | w21007 | 10 |
| 4 | 铁 Fe | w20125 | 0.3 |
| 5 | 锰 Mn | w20124 | 0.1 |
"#;

const TABLE3_MD: &str = r#"
| 1 | 三氯甲烷 chloroform | 0.06 | 41 | 丙烯酰胺 acrylamide | 0.0005 |
| 2 | 四氯化碳 carbon tetrachloride | 0.002 | 42 | 丙烯腈 acrylonitrile | 0.1 |
| 3 | 三溴甲烷 bromoform | 0.1 | 43 | 邻苯二甲酸二丁酯 DBP | 0.003 |
| 4 | 二氯甲烷 dichloromethane | 0.02 | 44 | 邻苯二甲酸二(2-乙基己基)酯 DEHP | 0.008 |
| 5 | 1,2-二氯乙烷 1,2-dichloroethane | 0.03 | 45 | 水合肼 hydrazine hydrate | 0.01 |
| 6 | 环氧氯丙烷 epichlorohydrin | 0.02 | 46 | 四乙基铅 tetraethyl lead | 0.0001 |
| 7 | 氯乙烯 vinyl chloride | 0.005 | 47 | 吡啶 pyridine | 0.2 |
| 8 | 1,1-二氯乙烯 1,1-dichloroethene | 0.03 | 48 | 松节油 turpentine | 0.2 |
| 9 | 1,2-二氯乙烯 1,2-dichloroethene | 0.05 | 49 | 苦味酸 picric acid | 0.5 |
| 10 | 三氯乙烯 trichloroethene | 0.07 | 50 | 丁基黄原酸 butyl xanthate | 0.005 |
| 11 | 四氯乙烯 tetrachloroethene | 0.04 | 51 | 活性氯 active chlorine | 0.01 |
| 12 | 氯丁二烯 chloroprene | 0.002 | 52 | 滴滴涕 DDT | 0.001 |
| 13 | 六氯丁二烯 hexachlorobutadiene | 0.0006 | 53 | 林丹 lindane | 0.002 |
| 14 | 苯乙烯 styrene | 0.02 | 54 | 环氧七氯 heptachlor epoxide | 0.0002 |
| 15 | 甲醛 formaldehyde | 0.9 | 55 | 对硫磷 parathion | 0.003 |
| 16 | 乙醛 acetaldehyde | 0.05 | 56 | 甲基对硫磷 methyl parathion | 0.002 |
| 17 | 丙烯醛 acrolein | 0.1 | 57 | 马拉硫磷 malathion | 0.05 |
| 18 | 三氯乙醛 chloral | 0.01 | 58 | 乐果 dimethoate | 0.08 |
| 19 | 苯 benzene | 0.01 | 59 | 敌敌畏 dichlorvos | 0.05 |
| 20 | 甲苯 toluene | 0.7 | 60 | 敌百虫 trichlorfon | 0.05 |
| 21 | 乙苯 ethylbenzene | 0.3 | 61 | 内吸磷 demeton | 0.03 |
| 22 | 二甲苯 xylene ① | 0.5 | 62 | 百菌清 chlorothalonil | 0.01 |
| 23 | 异丙苯 cumene | 0.25 | 63 | 甲萘威 carbaryl | 0.05 |
| 24 | 氯苯 chlorobenzene | 0.3 | 64 | 溴氰菊酯 deltamethrin | 0.02 |
| 25 | 1,2-二氯苯 1,2-dichlorobenzene | 1.0 | 65 | 阿特拉津 atrazine | 0.003 |
| 26 | 1,4-二氯苯 1,4-dichlorobenzene | 0.3 | 66 | 苯并(a)芘 benzo(a)pyrene | 2.8×10⁻⁶ |
| 27 | 三氯苯 trichlorobenzene ② | 0.02 | 67 | 甲基汞 methylmercury | 1.0×10⁻⁶ |
| 28 | 四氯苯 tetrachlorobenzene ③ | 0.02 | 68 | 多氯联苯 PCBs ⑥ | 2.0×10⁻⁵ |
| 29 | 六氯苯 hexachlorobenzene | 0.05 | 69 | 微囊藻毒素-LR microcystin-LR | 0.001 |
| 30 | 硝基苯 nitrobenzene | 0.017 | 70 | 黄磷 yellow phosphorus | 0.003 |
| 31 | 二硝基苯 dinitrobenzene ④ | 0.5 | 71 | 钼 Mo | 0.07 |
| 32 | 2,4-二硝基甲苯 2,4-dinitrotoluene | 0.0003 | 72 | 钴 Co | 1.0 |
| 33 | 2,4,6-三硝基甲苯 TNT | 0.5 | 73 | 铍 Be | 0.002 |
| 34 | 硝基氯苯 nitrochlorobenzene ⑤ | 0.05 | 74 | 硼 B | 0.5 |
| 35 | 2,4-二硝基氯苯 2,4-dinitrochlorobenzene | 0.5 | 75 | 锑 Sb | 0.005 |
| 36 | 2,4-二氯苯酚 2,4-dichlorophenol | 0.093 | 76 | 镍 Ni | 0.02 |
| 37 | 2,4,6-三氯苯酚 2,4,6-trichlorophenol | 0.2 | 77 | 钡 Ba | 0.7 |
| 38 | 五氯酚 pentachlorophenol | 0.009 | 78 | 钒 V | 0.05 |
| 39 | 苯胺 aniline | 0.1 | 79 | 钛 Ti | 0.1 |
| 40 | 联苯胺 benzidine | 0.0002 | 80 | 铊 Tl | 0.0001 |
"#;

fn cells(line: &str) -> Vec<String> {
    line.trim()
        .trim_matches('|')
        .split('|')
        .map(|c| c.trim().replace("**", ""))
        .collect()
}

/// Parses "0.06", "2.8×10⁻⁶", "90 % saturation (or 7.5)".
fn number(text: &str) -> f64 {
    let t = text.trim();
    if let Some(inner) = t.strip_prefix("90 % saturation (or ") {
        return inner.trim_end_matches(')').parse().unwrap();
    }
    if let Some((mantissa, exp)) = t.split_once("×10") {
        let exp: String = exp
            .chars()
            .map(|c| match c {
                '⁻' => '-',
                '⁰' => '0',
                '¹' => '1',
                '²' => '2',
                '³' => '3',
                '⁴' => '4',
                '⁵' => '5',
                '⁶' => '6',
                '⁷' => '7',
                '⁸' => '8',
                '⁹' => '9',
                c => c,
            })
            .collect();
        return format!("{mantissa}e{exp}").parse().unwrap();
    }
    t.parse().unwrap_or_else(|_| panic!("not a number: {t:?}"))
}

#[derive(Debug)]
enum Expected {
    NotClassed,
    Range(f64, f64),
    AtMost {
        river: [f64; 5],
        lake: Option<[f64; 5]>,
        lake_only: bool,
    },
    AtLeast([f64; 5]),
}

fn reference_table1() -> Vec<(u8, String, Expected)> {
    TABLE1_MD
        .lines()
        .filter(|l| l.starts_with('|'))
        .map(|l| {
            let c = cells(l);
            let no: u8 = c[0].parse().unwrap();
            let hj = c[2].split('/').next().unwrap().trim().to_string();
            let five = |pick: &dyn Fn(&str) -> f64| -> [f64; 5] {
                std::array::from_fn(|i| pick(&c[5 + i]))
            };
            let expected = match c[4].as_str() {
                "change limit" => Expected::NotClassed,
                "range" => {
                    let (lo, hi) = c[5].split_once('–').unwrap();
                    Expected::Range(number(lo), number(hi))
                }
                "≥" => Expected::AtLeast(five(&|s| number(s))),
                "≤" if c[5].contains('/') => Expected::AtMost {
                    river: five(&|s| number(s.split('/').next().unwrap())),
                    lake: Some(five(&|s| number(s.split('/').nth(1).unwrap()))),
                    lake_only: false,
                },
                "≤" => Expected::AtMost {
                    river: five(&|s| number(s)),
                    lake: None,
                    lake_only: c[1].contains("lakes and reservoirs only"),
                },
                other => panic!("direction {other}"),
            };
            (no, hj, expected)
        })
        .collect()
}

/// The rule, restated independently of the crate: scan Ⅰ→Ⅴ, inclusive limits.
fn expected_class(limits: &[f64; 5], at_least: bool, v: f64) -> WaterClass {
    for (i, &l) in limits.iter().enumerate() {
        if (at_least && v >= l) || (!at_least && v <= l) {
            return WaterClass::WITH_LIMITS[i];
        }
    }
    WaterClass::WorseThanV
}

#[test]
fn table1_data_matches_the_reference() {
    let rows = reference_table1();
    assert_eq!(rows.len(), 24);
    for (no, hj, expected) in &rows {
        let row = &TABLE1[usize::from(*no) - 1];
        assert_eq!(row.no, *no);
        let resolved = catalogue::resolve(hj).unwrap_or_else(|| panic!("{hj}"));
        assert_eq!(resolved.parameter.code, row.parameter, "row {no}");
        match (expected, row.limits) {
            (
                Expected::NotClassed,
                Table1Limits::ThermalChange {
                    max_weekly_rise,
                    max_weekly_drop,
                },
            ) => {
                assert_eq!((max_weekly_rise, max_weekly_drop), (1.0, 2.0));
            }
            (Expected::Range(lo, hi), Table1Limits::Range { min, max }) => {
                assert_eq!((*lo, *hi), (min, max))
            }
            (Expected::AtLeast(e), Table1Limits::AtLeast { limits }) => assert_eq!(*e, limits),
            (
                Expected::AtMost {
                    river,
                    lake: Some(lake),
                    ..
                },
                Table1Limits::AtMostByWaterType { river: r, lake: l },
            ) => {
                assert_eq!((*river, *lake), (r, l));
            }
            (
                Expected::AtMost {
                    river,
                    lake: None,
                    lake_only: true,
                },
                Table1Limits::AtMostLakeOnly { limits },
            ) => {
                assert_eq!(*river, limits)
            }
            (
                Expected::AtMost {
                    river,
                    lake: None,
                    lake_only: false,
                },
                Table1Limits::AtMost { limits },
            ) => {
                assert_eq!(*river, limits)
            }
            (e, l) => panic!("row {no}: reference {e:?} vs crate {l:?}"),
        }
    }
}

#[test]
fn table1_every_limit_at_below_and_above() {
    let mut checked = 0;
    for (no, hj, expected) in reference_table1() {
        let code = catalogue::resolve(&hj).unwrap().parameter.code;
        for wt in [WaterType::River, WaterType::Lake] {
            let ctx = ClassifyContext::new(wt);
            let got = |v: f64| classify(code, v, &ctx).class();
            match &expected {
                Expected::NotClassed => assert_eq!(got(20.0), None, "row {no}"),
                Expected::Range(lo, hi) => {
                    for (v, want) in [
                        (*lo, WaterClass::I),
                        (*hi, WaterClass::I),
                        (lo - 1e-9, WaterClass::WorseThanV),
                        (hi + 1e-9, WaterClass::WorseThanV),
                        ((lo + hi) / 2.0, WaterClass::I),
                    ] {
                        assert_eq!(got(v), Some(want), "pH {v}");
                        checked += 1;
                    }
                }
                Expected::AtMost {
                    river,
                    lake,
                    lake_only,
                } => {
                    if *lake_only && wt == WaterType::River {
                        assert_eq!(got(river[2]), None, "row {no}: TN is not classed in rivers");
                        continue;
                    }
                    let limits = match (wt, lake) {
                        (WaterType::Lake, Some(l)) => l,
                        _ => river,
                    };
                    for &l in limits {
                        for v in [l, l * (1.0 - 1e-9), l * (1.0 + 1e-9)] {
                            assert_eq!(
                                got(v),
                                Some(expected_class(limits, false, v)),
                                "row {no} {wt:?} {v}"
                            );
                            checked += 1;
                        }
                    }
                }
                Expected::AtLeast(limits) => {
                    for &l in limits {
                        for v in [l, l * (1.0 - 1e-9), l * (1.0 + 1e-9)] {
                            assert_eq!(
                                got(v),
                                Some(expected_class(limits, true, v)),
                                "row {no} {wt:?} {v}"
                            );
                            checked += 1;
                        }
                    }
                }
            }
        }
    }
    assert!(checked > 600, "{checked}");
}

/// Through the whole evaluation (rounding to the evaluation decimals included): one step of the
/// last evaluation decimal below and above each limit.
#[test]
fn table1_limits_through_station_evaluation() {
    for (no, hj, expected) in reference_table1() {
        let p = catalogue::resolve(&hj).unwrap().parameter;
        let step = 10f64.powi(-(p.evaluation_decimals() as i32));
        for wt in [WaterType::River, WaterType::Lake] {
            let (limits, at_least) = match &expected {
                Expected::AtMost {
                    river,
                    lake,
                    lake_only,
                } => {
                    if *lake_only && wt == WaterType::River {
                        continue;
                    }
                    (
                        if wt == WaterType::Lake {
                            lake.unwrap_or(*river)
                        } else {
                            *river
                        },
                        false,
                    )
                }
                Expected::AtLeast(l) => (*l, true),
                _ => continue,
            };
            for &l in &limits {
                for v in [l, l - step, l + step] {
                    if v <= 0.0 {
                        continue;
                    }
                    let mut series = SeriesByParameter::new();
                    series.insert(p.code.to_string(), vec![Sample::new(0, v)]);
                    let a = wq::evaluate_station(&series, &EvaluationOptions::new(wt)).unwrap();
                    let line = a
                        .indicators
                        .iter()
                        .chain(&a.reference_indicators)
                        .find(|i| i.parameter == p.code)
                        .unwrap_or_else(|| panic!("row {no} missing"));
                    let used = line.value.unwrap();
                    assert_eq!(
                        line.class,
                        Some(expected_class(&limits, at_least, used)),
                        "row {no} {wt:?} {v} → {used}"
                    );
                    let cl = line.class.unwrap();
                    let explained = &line.classification.as_ref().unwrap();
                    if let wq::Classification::Classified { limit, .. } = explained {
                        let i = if cl == WaterClass::WorseThanV {
                            4
                        } else {
                            cl.limit_index().unwrap()
                        };
                        assert_eq!(limit.limit, limits[i], "row {no}: compared limit");
                    }
                }
            }
        }
    }
}

fn reference_single_limits() -> BTreeMap<String, f64> {
    let mut out = BTreeMap::new();
    for l in TABLE2_MD.lines().filter(|l| l.starts_with('|')) {
        let c = cells(l);
        let code = catalogue::resolve(&c[2]).unwrap().parameter.code;
        out.insert(code.to_string(), number(&c[3]));
    }
    for l in TABLE3_MD.lines().filter(|l| l.starts_with('|')) {
        let c = cells(l);
        for (no, name, limit) in [(&c[0], &c[1], &c[2]), (&c[3], &c[4], &c[5])] {
            let zh = name.split_whitespace().next().unwrap();
            let row = &TABLE3[no.parse::<usize>().unwrap() - 1];
            let p = catalogue::by_code(row.parameter).unwrap();
            assert_eq!(p.name_zh, zh, "Table 3 row {no}");
            out.insert(row.parameter.to_string(), number(limit));
        }
    }
    out
}

#[test]
fn tables_2_and_3_match_the_reference() {
    let limits = reference_single_limits();
    assert_eq!(limits.len(), 85);
    for row in TABLE2.iter().chain(TABLE3) {
        assert_eq!(
            Some(&row.limit),
            limits.get(row.parameter),
            "{}",
            row.parameter
        );
    }
}

fn drinking(code: &str, samples: Vec<Sample>) -> DrinkingWaterAssessment {
    let mut series = SeriesByParameter::new();
    series.insert(code.to_string(), samples);
    let options = EvaluationOptions {
        drinking_water_source: true,
        ..EvaluationOptions::default()
    };
    wq::evaluate_station(&series, &options)
        .unwrap()
        .drinking_water
        .unwrap()
}

#[test]
fn tables_2_and_3_every_limit_at_below_and_above() {
    for row in TABLE2.iter().chain(TABLE3) {
        let p = catalogue::by_code(row.parameter).unwrap();
        let step = 10f64.powi(-(p.evaluation_decimals() as i32));
        let code = if row.components.is_empty() {
            row.parameter
        } else {
            row.components[0]
        };
        for (v, want) in [
            (row.limit, Verdict::Meets),
            (row.limit - step, Verdict::Meets),
            (row.limit + step, Verdict::Exceeds),
        ] {
            let d = drinking(code, vec![Sample::new(0, v)]);
            assert_eq!(d.items.len(), 1, "{}", row.parameter);
            let item = &d.items[0];
            assert_eq!(item.parameter, row.parameter);
            assert_eq!(item.verdict, want, "{} at {v}", row.parameter);
            assert_eq!(item.exceedance_multiple.is_some(), want == Verdict::Exceeds);
        }
    }
}

#[test]
fn isomer_sums_add_components_and_censored_dls() {
    // xylene: 0.2 + 0.2 + censored 0.4 (→ 0.2) = 0.6 > 0.5
    let mut series = SeriesByParameter::new();
    series.insert("p_xylene".into(), vec![Sample::new(0, 0.2)]);
    series.insert("m_xylene".into(), vec![Sample::new(0, 0.2)]);
    series.insert(
        "o_xylene".into(),
        vec![Sample::below_detection_limit(0, 0.4)],
    );
    let options = EvaluationOptions {
        drinking_water_source: true,
        ..EvaluationOptions::default()
    };
    let d = wq::evaluate_station(&series, &options)
        .unwrap()
        .drinking_water
        .unwrap();
    let x = &d.items[0];
    assert_eq!(
        (x.parameter, x.value, x.verdict),
        ("xylene", 0.6, Verdict::Exceeds)
    );
    assert_eq!(x.components.len(), 3);
    assert_eq!(x.exceedance_multiple, Some(0.2));
    // All components censored: the sum of DLs with "L"; DL sum ≤ limit → meets, else cannot judge.
    let all_l = |dl: f64| {
        let mut s = SeriesByParameter::new();
        for c in ["p_xylene", "m_xylene", "o_xylene"] {
            s.insert(c.into(), vec![Sample::below_detection_limit(0, dl)]);
        }
        wq::evaluate_station(&s, &options)
            .unwrap()
            .drinking_water
            .unwrap()
            .items[0]
            .clone()
    };
    assert_eq!(all_l(0.01).verdict, Verdict::Meets);
    assert_eq!(all_l(0.01).display, "0.03L");
    assert_eq!(all_l(0.2).verdict, Verdict::CannotJudge);
    // With isomer_sum off, components alone give no item.
    let mut off = options.clone();
    off.eval.isomer_sum = false;
    assert!(
        wq::evaluate_station(&series, &off)
            .unwrap()
            .drinking_water
            .unwrap()
            .items
            .is_empty()
    );
}
