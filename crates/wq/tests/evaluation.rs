//! Station and water-body evaluations against the reference's rules and vectors.

use wq::codes as c;
use wq::multi::proportion_grade;
use wq::options::SevereRule;
use wq::{
    AggregationMethod, DataFlag, EvaluationOptions, Grade, Sample, SeriesByParameter,
    StationSeries, TrophicOutcome, TrophicState, WaterClass, WaterType,
};

const H: i64 = 3600;

fn series(items: &[(&str, &[f64])]) -> SeriesByParameter {
    items
        .iter()
        .map(|(code, values)| {
            let samples = values
                .iter()
                .enumerate()
                .map(|(i, &v)| Sample::new(i as i64 * 4 * H, v))
                .collect();
            (code.to_string(), samples)
        })
        .collect()
}

fn find<'a>(list: &'a [wq::IndicatorResult], code: &str) -> &'a wq::IndicatorResult {
    list.iter()
        .find(|i| i.parameter == code)
        .unwrap_or_else(|| panic!("{code} missing"))
}

#[test]
fn station_class_is_the_worst_routine_indicator_and_explains_itself() {
    let s = series(&[
        (c::PH, &[7.2]),
        (c::DO, &[6.5]),
        (c::COD_MN, &[7.2]),
        (c::NH3_N, &[1.8]),
        (c::TP, &[0.072]),
        (c::TN, &[1.8]),
        (c::FECAL_COLIFORM, &[50000.0]),
        (c::WATER_TEMPERATURE, &[21.3]),
    ]);
    let mut o = EvaluationOptions::new(WaterType::Lake);
    o.target_class = Some(WaterClass::III);
    let a = wq::evaluate_station(&s, &o).unwrap();
    // lake TP 0.072 → Ⅳ (≤0.1), NH3-N 1.8 → Ⅴ, CODMn 7.2 → Ⅳ
    assert_eq!(a.class, Some(WaterClass::V));
    assert_eq!(a.wording_zh, "符合Ⅴ类");
    assert_eq!(a.grade, Grade::ModeratelyPolluted);
    assert_eq!(a.colour, "#FF9B00");
    assert_eq!(a.limiting_parameters, vec![c::NH3_N]);
    assert!(!a.partial);
    let tp = find(&a.indicators, c::TP);
    assert_eq!(tp.class, Some(WaterClass::IV));
    assert_eq!(tp.exceedance_multiple, Some(0.44));
    assert_eq!(tp.counts.valid, 1);
    match tp.classification.as_ref().unwrap() {
        wq::Classification::Classified { limit, .. } => assert_eq!(limit.text, "≤0.1"),
        other => panic!("{other:?}"),
    }
    // TN and fecal coliform on their own lines, never in the class (fecal coliform is 劣Ⅴ here).
    assert_eq!(
        find(&a.reference_indicators, c::TN).class,
        Some(WaterClass::V)
    );
    assert_eq!(
        find(&a.reference_indicators, c::TN).exceedance_multiple,
        Some(0.8)
    );
    assert_eq!(
        find(&a.reference_indicators, c::FECAL_COLIFORM).class,
        Some(WaterClass::WorseThanV)
    );
    assert!(
        find(&a.other_parameters, c::WATER_TEMPERATURE)
            .class
            .is_none()
    );
    // target Ⅲ: not met; exceeding items listed
    let t = a.target.as_ref().unwrap();
    assert_eq!(t.meets_target, Some(false));
    let items: Vec<_> = t.exceeding_items.iter().map(|e| e.parameter).collect();
    assert_eq!(items, vec![c::COD_MN, c::NH3_N, c::TP]);
    // main pollutants: worst class first, then larger multiple
    let mp: Vec<_> = a
        .main_pollutants
        .iter()
        .map(|m| m.display_zh.as_str())
        .collect();
    assert_eq!(mp, vec!["氨氮(0.8)", "总磷(0.44)", "高锰酸盐指数(0.2)"]);
    // JSON-serialisable
    let json = serde_json::to_string(&a).unwrap();
    assert!(json.contains("\"limiting_parameters\":[\"nh3_n\"]"));
}

#[test]
fn river_tn_is_stored_not_classified() {
    let a = wq::evaluate_station(
        &series(&[(c::TN, &[1.8]), (c::TP, &[0.026])]),
        &EvaluationOptions::default(),
    )
    .unwrap();
    assert!(a.reference_indicators.is_empty());
    let tn = find(&a.other_parameters, c::TN);
    assert_eq!(tn.class, None);
    assert!(matches!(
        tn.classification,
        Some(wq::Classification::NotClassified {
            reason: wq::classify::NotClassifiedReason::TnInRiver
        })
    ));
    assert_eq!(a.class, Some(WaterClass::II));
    assert!(a.partial);
    assert_eq!(
        a.missing_core_items,
        vec![c::PH, c::DO, c::COD_MN, c::NH3_N]
    );
}

#[test]
fn toxic_items_come_first_among_main_pollutants() {
    let s = series(&[
        (c::NH3_N, &[3.0]),
        (c::COD_MN, &[20.0]),
        (c::CD, &[0.008]),
        (c::TP, &[0.5]),
    ]);
    let a = wq::evaluate_station(&s, &EvaluationOptions::default()).unwrap();
    let mp: Vec<_> = a.main_pollutants.iter().map(|m| m.parameter).collect();
    // Cd is Ⅴ (multiple 0.6) but toxic, so it leads; then 劣Ⅴ items by multiple: NH3-N 2.0, CODMn 2.33, TP 1.5
    assert_eq!(mp, vec![c::CD, c::COD_MN, c::NH3_N]);
    let mut o = EvaluationOptions::default();
    o.eval.main_pollutants.toxic_first = false;
    let a = wq::evaluate_station(&s, &o).unwrap();
    let mp: Vec<_> = a.main_pollutants.iter().map(|m| m.parameter).collect();
    assert_eq!(mp, vec![c::COD_MN, c::NH3_N, c::TP]);
    // pH and DO have no multiple and come after the items that have one in the same class
    let s = series(&[(c::DO, &[1.0]), (c::NH3_N, &[2.5])]);
    let a = wq::evaluate_station(&s, &EvaluationOptions::default()).unwrap();
    let mp: Vec<_> = a
        .main_pollutants
        .iter()
        .map(|m| m.display_zh.as_str())
        .collect();
    assert_eq!(mp, vec!["氨氮(1.5)", "溶解氧"]);
    // none when the station is Ⅰ–Ⅲ
    let a = wq::evaluate_station(
        &series(&[(c::NH3_N, &[1.0])]),
        &EvaluationOptions::default(),
    )
    .unwrap();
    assert!(a.main_pollutants.is_empty());
}

#[test]
fn ph_mean_rounding_and_setting() {
    // pH 7, 8, 9 → 7.43 on [H⁺]; evaluated with 0 decimals → 7 (Ⅰ)
    let s = series(&[(c::PH, &[7.0, 8.0, 9.0])]);
    let mut o = EvaluationOptions::default();
    o.stats.time_aggregation = wq::options::TimeAggregation::AllValues;
    let a = wq::evaluate_station(&s, &o).unwrap();
    let ph = find(&a.indicators, c::PH);
    assert_eq!(ph.display, "7");
    assert_eq!(ph.class, Some(WaterClass::I));
    o.rounding.ph_eval_decimals = 2;
    let a = wq::evaluate_station(&s, &o).unwrap();
    assert_eq!(find(&a.indicators, c::PH).display, "7.43");
    // 9.49 → 9 (Ⅰ), 9.5 → 10 (劣Ⅴ) with the default; 9.49 is 劣Ⅴ with 2 decimals
    let one = |v: f64, dp: u32| {
        let mut o = EvaluationOptions::default();
        o.rounding.ph_eval_decimals = dp;
        find(
            &wq::evaluate_station(&series(&[(c::PH, &[v])]), &o)
                .unwrap()
                .indicators,
            c::PH,
        )
        .class
    };
    assert_eq!(one(9.49, 0), Some(WaterClass::I));
    assert_eq!(one(9.5, 0), Some(WaterClass::WorseThanV));
    assert_eq!(one(5.5, 0), Some(WaterClass::I));
    assert_eq!(one(9.01, 0), Some(WaterClass::I));
    assert_eq!(one(9.49, 2), Some(WaterClass::WorseThanV));
}

#[test]
fn rounding_happens_before_classing() {
    let lake = EvaluationOptions::new(WaterType::Lake);
    let tp = |v: f64| {
        let a = wq::evaluate_station(&series(&[(c::TP, &[v])]), &lake).unwrap();
        let i = find(&a.indicators, c::TP).clone();
        (i.display, i.class)
    };
    assert_eq!(tp(0.0245), ("0.024".into(), Some(WaterClass::II)));
    assert_eq!(tp(0.0255), ("0.026".into(), Some(WaterClass::III)));
    assert_eq!(tp(0.02451), ("0.025".into(), Some(WaterClass::II)));
}

#[test]
fn censored_values_show_l_and_enter_as_half_dl() {
    let mut s = SeriesByParameter::new();
    s.insert(
        c::HG.into(),
        vec![
            Sample::below_detection_limit(0, 0.00004),
            Sample::below_detection_limit(H, 0.00004),
        ],
    );
    s.insert(
        c::CD.into(),
        vec![
            Sample::below_detection_limit(0, 0.002),
            Sample::new(H, 0.004),
        ],
    );
    let a = wq::evaluate_station(&s, &EvaluationOptions::default()).unwrap();
    let hg = find(&a.indicators, c::HG);
    assert_eq!(hg.display, "0.00004L");
    assert!(hg.below_detection_limit);
    assert_eq!(hg.value, Some(0.00002));
    assert_eq!(hg.class, Some(WaterClass::I));
    let cd = find(&a.indicators, c::CD);
    // (½·0.002 + 0.004) / 2 = 0.0025 → Ⅱ
    assert_eq!(cd.display, "0.0025");
    assert_eq!(cd.counts.below_detection_limit, 1);
    assert_eq!(cd.class, Some(WaterClass::II));
}

#[test]
fn data_flags_decide_what_counts() {
    let mut s = SeriesByParameter::new();
    s.insert(
        c::NH3_N.into(),
        vec![
            Sample::new(0, 0.4),
            Sample::new(4 * H, 5.0).with_flag(DataFlag::C),
            Sample::new(8 * H, 0.5).with_flag(DataFlag::S),
            Sample::new(12 * H, 0.6),
        ],
    );
    let mut o = EvaluationOptions::default();
    let a = wq::evaluate_station(&s, &o).unwrap();
    let n = find(&a.indicators, c::NH3_N);
    assert_eq!(n.display, "0.50");
    assert_eq!(
        (n.counts.valid, n.counts.invalid, n.counts.invalid_by_flag),
        (2, 2, 2)
    );
    o.qc.flag_s_valid = true;
    let a = wq::evaluate_station(&s, &o).unwrap();
    assert_eq!(find(&a.indicators, c::NH3_N).counts.valid, 3);
}

#[test]
fn lake_tli_from_station_means() {
    // §10.4 first row: chl 10, TP 0.05, TN 1.0, SD 1.5, CODMn 4.0 → 46.58 中营养
    let s = series(&[
        (c::CHL_A, &[10.0]),
        (c::TP, &[0.05]),
        (c::TN, &[1.0]),
        (c::SD, &[1.5]),
        (c::COD_MN, &[4.0]),
    ]);
    let a = wq::evaluate_station(&s, &EvaluationOptions::new(WaterType::Lake)).unwrap();
    match a.trophic.unwrap() {
        TrophicOutcome::Computed(t) => {
            assert_eq!(t.tli, 46.58);
            assert_eq!(t.state, TrophicState::Mesotrophic);
            assert_eq!(t.state_zh, "中营养");
            assert_eq!(t.components.len(), 5);
        }
        other => panic!("{other:?}"),
    }
    // rivers get no TLI; a lake without chl-a gets "insufficient data"
    assert!(
        wq::evaluate_station(&s, &EvaluationOptions::default())
            .unwrap()
            .trophic
            .is_none()
    );
    let s = series(&[(c::TP, &[0.05]), (c::TN, &[1.0]), (c::COD_MN, &[4.0])]);
    let a = wq::evaluate_station(&s, &EvaluationOptions::new(WaterType::Lake)).unwrap();
    assert!(matches!(
        a.trophic,
        Some(TrophicOutcome::NotComputed { .. })
    ));
}

#[test]
fn target_other_than_iii_reports_multiple_over_target() {
    let o = EvaluationOptions {
        target_class: Some(WaterClass::II),
        ..EvaluationOptions::default()
    };
    let a = wq::evaluate_station(&series(&[(c::TP, &[0.15])]), &o).unwrap();
    let t = a.target.unwrap();
    assert_eq!(t.meets_target, Some(false));
    assert_eq!(t.exceeding_items[0].multiple_over_target, Some(0.5));
    assert_eq!(t.exceeding_items[0].target_limit.as_deref(), Some("≤0.1"));
    // class Ⅲ, so no 超标倍数
    assert_eq!(a.indicators[0].exceedance_multiple, None);
}

fn section(name: &str, nh3n: f64) -> StationSeries {
    StationSeries {
        station: name.into(),
        series: series(&[(c::NH3_N, &[nh3n])]),
        target_class: None,
    }
}

#[test]
fn proportion_method_reference_example() {
    // §6.1: [Ⅱ, Ⅱ, Ⅲ, Ⅲ, Ⅲ, Ⅲ, Ⅳ, Ⅳ, Ⅴ, 劣Ⅴ] → G = 60 %, B = 10 % → 轻度污染
    let values = [0.5, 0.4, 1.0, 0.9, 0.8, 0.7, 1.5, 1.2, 2.0, 2.5];
    let sections: Vec<_> = values
        .iter()
        .enumerate()
        .map(|(i, &v)| section(&format!("S{i}"), v))
        .collect();
    let w = wq::evaluate_water_body(&sections, &EvaluationOptions::default()).unwrap();
    assert_eq!(w.method, AggregationMethod::ProportionMethod);
    let p = w.proportion.as_ref().unwrap();
    assert_eq!(p.counts_by_class, [0, 2, 4, 2, 1, 1]);
    assert_eq!(
        (p.share_good_percent, p.share_worse_than_v_percent),
        (60.0, 10.0)
    );
    assert_eq!(w.grade, Grade::SlightlyPolluted);
    assert_eq!(w.grade_zh, "轻度污染");
    assert_eq!(w.main_pollutants[0].parameter, c::NH3_N);
    assert_eq!(w.main_pollutants[0].exceedance_rate_percent, 40.0);
    assert_eq!(w.stations.len(), 10);
}

#[test]
fn proportion_grade_boundaries() {
    use Grade::*;
    let g = |good, bad, n| proportion_grade(good, bad, n, SevereRule::GBelow75);
    assert_eq!(g(9, 0, 10), Excellent); // G = 90
    assert_eq!(g(8, 0, 10), Good);
    assert_eq!(g(15, 0, 20), Good); // G = 75
    assert_eq!(g(7, 1, 10), SlightlyPolluted); // B = 10
    assert_eq!(g(7, 2, 10), ModeratelyPolluted); // B = 20
    assert_eq!(g(6, 4, 10), HeavilyPolluted); // G = 60, B = 40: the default rule
    assert_eq!(g(5, 4, 10), HeavilyPolluted);
    assert_eq!(
        proportion_grade(6, 4, 10, SevereRule::GBelow60),
        ModeratelyPolluted
    );
    assert_eq!(
        proportion_grade(5, 4, 10, SevereRule::GBelow60),
        HeavilyPolluted
    );
    // exactly 5 sections use the proportion method; 4 use the mean
    let four: Vec<_> = (0..4)
        .map(|i| section(&format!("S{i}"), 0.4 + 0.4 * i as f64))
        .collect();
    let w = wq::evaluate_water_body(&four, &EvaluationOptions::default()).unwrap();
    assert_eq!(w.method, AggregationMethod::MeanOfSections);
    // mean of 0.4, 0.8, 1.2, 1.6 = 1.0 → Ⅲ
    assert_eq!(w.class, Some(WaterClass::III));
    let five: Vec<_> = (0..5).map(|i| section(&format!("S{i}"), 0.4)).collect();
    assert_eq!(
        wq::evaluate_water_body(&five, &EvaluationOptions::default())
            .unwrap()
            .method,
        AggregationMethod::ProportionMethod
    );
}

#[test]
fn lake_points_average_time_then_space() {
    let point = |name: &str, tp: &[f64], ph: &[f64]| StationSeries {
        station: name.into(),
        series: series(&[(c::TP, tp), (c::PH, ph)]),
        target_class: None,
    };
    // point A: TP mean 0.04; point B: 0.08 → lake 0.06 → Ⅳ (lake column)
    let points = [
        point("A", &[0.03, 0.05], &[7.0]),
        point("B", &[0.08], &[9.0]),
    ];
    let o = EvaluationOptions::new(WaterType::Lake);
    let w = wq::evaluate_water_body(&points, &o).unwrap();
    assert_eq!(w.method, AggregationMethod::MeanOfPoints);
    let combined = w.combined.as_ref().unwrap();
    assert_eq!(find(&combined.indicators, c::TP).display, "0.060");
    assert_eq!(combined.class, Some(WaterClass::IV));
    // pH over points on [H⁺]: 7 and 9 → 7.30 → 7
    let ph = find(&combined.indicators, c::PH);
    assert!((ph.mean_unrounded.unwrap() - 7.2967).abs() < 1e-3);
    assert_eq!(find(&combined.indicators, c::TP).counts.valid, 3);
    // per-point results are always shown
    assert_eq!(w.stations[0].station.as_deref(), Some("A"));
    assert_eq!(find(&w.stations[0].indicators, c::TP).display, "0.040");
    // pooled order: (0.03 + 0.05 + 0.08) / 3 with all-values aggregation
    let mut pooled = o.clone();
    pooled.eval.lake.order = wq::options::LakeOrder::Pooled;
    pooled.stats.time_aggregation = wq::options::TimeAggregation::AllValues;
    let w = wq::evaluate_water_body(&points, &pooled).unwrap();
    assert_eq!(w.method, AggregationMethod::PooledPoints);
    assert_eq!(
        find(&w.combined.unwrap().indicators, c::TP).display,
        "0.053"
    );
}

#[test]
fn options_round_trip_through_serde_with_defaults() {
    let o: EvaluationOptions =
        serde_json::from_str(r#"{"water_type":"lake","rounding":{"ph_eval_decimals":2}}"#).unwrap();
    assert_eq!(o.water_type, WaterType::Lake);
    assert_eq!(o.rounding.ph_eval_decimals, 2);
    assert!(o.rounding.enabled);
    assert_eq!(o.stats.min_coverage, 0.75);
    assert_eq!(o.eval.basin.min_sections, 5);
    let json = serde_json::to_string(&EvaluationOptions::default()).unwrap();
    let back: EvaluationOptions = serde_json::from_str(&json).unwrap();
    assert_eq!(back, EvaluationOptions::default());
}
