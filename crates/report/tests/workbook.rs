//! The pure report over a station judged by `wq`: the workbook carries the assessment's numbers
//! as typed cells under frozen, unit-bearing headers, the Typst source the class line; an input
//! without data is refused.

use calamine::{Data, Reader, Xlsx};
use report::{Lang, ReportInput, ReportPeriod, ReviewCounts, StationInfo};
use std::io::Cursor;
use wq::{EvaluationOptions, Period, Sample, SeriesByParameter, WaterClass, WaterType};

fn input(with_data: bool) -> ReportInput {
    let period = ReportPeriod::parse("2026-10").expect("period");
    let (from, to) = period.bounds(8 * 3600);
    let mut series = SeriesByParameter::new();
    if with_data {
        for (p, v) in [
            ("tp", 0.06),
            ("nh3_n", 0.4),
            ("cod_mn", 3.0),
            ("ph", 7.5),
            ("do", 8.0),
        ] {
            series.insert(
                p.into(),
                // A wobble: a constant value for hours would be a QC fault (constant value).
                (0..48i64)
                    .map(|h| {
                        Sample::new(from + h * 3600, v * (1.0 + ((h % 5) as f64 - 2.0) * 0.02))
                    })
                    .collect(),
            );
        }
    }
    let mut options = EvaluationOptions::new(WaterType::Lake);
    options.period = Some(Period {
        start: from,
        end: to,
    });
    options.target_class = Some(WaterClass::III);
    let mut a = wq::evaluate_station(&series, &options).expect("evaluation");
    a.station = Some("L04".into());
    ReportInput {
        lang: Lang::Zh,
        period,
        utc_offset_s: 8 * 3600,
        network_zh: "红枫湖水质监测网".into(),
        network_en: "Hongfeng".into(),
        lake_zh: "红枫湖".into(),
        lake_en: "Hongfeng Lake".into(),
        scope: "station:L04".into(),
        scope_zh: "L04 南湖".into(),
        scope_en: "L04".into(),
        stations: vec![StationInfo {
            code: "L04".into(),
            name_zh: "南湖".into(),
            name_en: "South".into(),
            kind: "lake".into(),
            basin: "south".into(),
            target: WaterClass::III,
            expected: vec![("tp".into(), Some(48))],
        }],
        basins: vec![],
        lake: None,
        basin_results: vec![],
        station_results: vec![a],
        tli_previous: None,
        tli_year_ago: None,
        trend: vec![],
        scenes: vec![],
        alerts: vec![],
        review: ReviewCounts::default(),
        day_means: vec![],
        generated_at: "2026-11-01 08:00:00 +08:00".into(),
    }
}

#[test]
fn the_workbook_holds_the_assessment_numbers() {
    let i = input(true);
    let r = report::build(&i).expect("report");
    assert!(
        r.headline.contains("L04 南湖总体水质为Ⅳ类"),
        "{}",
        r.headline
    );
    let bytes = report::xlsx::write(&r).expect("xlsx");
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes)).expect("workbook");
    let ind = wb.worksheet_range("指标评价值").expect("sheet");
    let header: Vec<String> = ind
        .rows()
        .next()
        .expect("header")
        .iter()
        .map(|c| c.to_string())
        .collect();
    let value = header
        .iter()
        .position(|h| h == "评价值")
        .expect("value column");
    let multiple = header
        .iter()
        .position(|h| h == "超标倍数")
        .expect("multiple column");
    let tp = ind.rows().find(|r| r[1] == "tp").expect("tp row");
    let api = &i.station_results[0]
        .indicators
        .iter()
        .find(|x| x.parameter == "tp")
        .expect("tp");
    assert_eq!(tp[value], Data::Float(api.value.expect("value")));
    assert_eq!(
        tp[multiple],
        Data::Float(api.exceedance_multiple.expect("multiple"))
    );
    let cap = wb.worksheet_range("数据获取").expect("capture");
    let header: Vec<String> = cap
        .rows()
        .next()
        .expect("header")
        .iter()
        .map(|c| c.to_string())
        .collect();
    assert!(header.iter().any(|h| h == "获取率(%)"), "{header:?}");
    let row = cap.rows().find(|r| r[2] == "tp").expect("tp capture");
    assert_eq!(row[7], Data::Float(100.0));
    let source = report::typst_source::source(&r);
    assert!(source.contains("\"2026年10月L04 南湖总体水质为Ⅳ类，水质状况轻度污染。\""));
}

#[test]
fn no_data_is_no_report() {
    assert!(matches!(
        report::build(&input(false)),
        Err(report::ReportError::Empty(_))
    ));
}
