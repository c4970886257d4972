//! From the gathered assessments to the report model, in the monthly bulletin's usual order:
//! network and data capture, overall class, basins, stations against their targets, the intake,
//! main pollutants, TLI, bloom, alerts, trends, method. Every number is taken from the `wq`
//! results as they are (already rounded by `wq`); nothing here judges water again.

use crate::input::*;
use crate::sections::{
    alerts_section, bloom_section, day_means_table, intake_section, method_section,
    pollutants_section, tli_section, trend_section,
};
use crate::{Cell, Column, Lang, Report, ReportError, Section, Table};
use wq::assess::TrophicOutcome;
use wq::{IndicatorResult, StationAssessment, WaterClass};

pub(crate) fn class_label(c: Option<WaterClass>, lang: Lang) -> String {
    match (c, lang) {
        (Some(c), Lang::Zh) => c.label_zh(),
        (Some(c), Lang::En) => c.label_en().to_string(),
        (None, l) => l.t("未监测", "not monitored").to_string(),
    }
}

pub(crate) fn col(key: &str, header: impl Into<String>) -> Column {
    Column {
        key: key.into(),
        header: header.into(),
    }
}

/// Decimals as `wq` printed the value ("0.044" → 3).
pub(crate) fn decimals_of(display: &str) -> u8 {
    display
        .trim_end_matches('L')
        .split_once('.')
        .map_or(0, |(_, d)| d.len() as u8)
}

pub(crate) fn table(
    id: &str,
    title: String,
    sheet: &str,
    columns: Vec<Column>,
    rows: Vec<Vec<Cell>>,
) -> Table {
    Table {
        id: id.into(),
        title,
        sheet: sheet.chars().take(31).collect(),
        columns,
        rows,
        workbook_only: false,
    }
}

pub(crate) fn param_name(code: &str, lang: Lang) -> String {
    wq::catalogue::by_code(code)
        .map(|p| lang.t(p.name_zh, p.name_en).to_string())
        .unwrap_or_else(|| code.to_string())
}

pub(crate) fn names(codes: &[&str], lang: Lang) -> String {
    let sep = lang.t("、", ", ");
    codes
        .iter()
        .map(|c| param_name(c, lang))
        .collect::<Vec<_>>()
        .join(sep)
}

pub(crate) fn tli_of(a: &StationAssessment) -> Option<&wq::TliResult> {
    match &a.trophic {
        Some(TrophicOutcome::Computed(t)) => Some(t),
        _ => None,
    }
}

pub(crate) fn percent(part: f64, whole: f64) -> Option<f64> {
    (whole > 0.0).then(|| (part / whole * 1000.0).round() / 10.0)
}

/// Builds the report. An input without any station result is an error (nothing to report).
pub fn build(input: &ReportInput) -> Result<Report, ReportError> {
    let l = input.lang;
    if input.station_results.iter().all(|s| s.class.is_none()) {
        return Err(ReportError::Empty(format!(
            "no valid data in {} for {}",
            input.period.code(),
            input.scope
        )));
    }
    let network = l.t(&input.network_zh, &input.network_en).to_string();
    let scope = l.t(&input.scope_zh, &input.scope_en).to_string();
    let headline = headline(input, &network, &scope);
    let mut sections = vec![
        capture_section(input),
        overall_section(input, &headline),
        stations_section(input),
    ];
    if let Some(s) = intake_section(input) {
        sections.push(s);
    }
    sections.push(pollutants_section(input));
    sections.push(tli_section(input));
    sections.push(bloom_section(input));
    sections.push(alerts_section(input));
    sections.push(trend_section(input)?);
    sections.push(method_section(input));
    let mut raw = day_means_table(input);
    raw.workbook_only = true;
    sections.push(Section {
        title: l.t("附表：站点日均值", "Annex: station-day means").into(),
        paragraphs: vec![],
        tables: vec![raw],
        charts: vec![],
    });
    Ok(Report {
        lang: l,
        title: format!("{}{}", network, input.period.report_name(l)),
        subtitle: format!("{} · {}", input.period.label(l), scope),
        period: input.period,
        period_label: input.period.label(l),
        scope_label: scope,
        headline,
        sections,
    })
}

fn headline(input: &ReportInput, network: &str, scope: &str) -> String {
    let l = input.lang;
    let (class, grade_zh, grade_en) = match &input.lake {
        Some(b) => (b.result.class, b.result.grade_zh, b.result.grade_en),
        None => match input.station_results.first() {
            Some(s) => (s.class, s.grade_zh, s.grade_en),
            None => (None, "未监测", "not monitored"),
        },
    };
    let lake = l.t(&input.lake_zh, &input.lake_en);
    let who = if input.lake.is_some() { lake } else { scope };
    let _ = network;
    match l {
        Lang::Zh => match class {
            Some(c) => format!(
                "{}{}总体水质为{}，水质状况{}。",
                input.period.label(l),
                who,
                c.label_zh(),
                grade_zh
            ),
            None => format!("{}{}无有效监测数据。", input.period.label(l), who),
        },
        Lang::En => match class {
            Some(c) => format!(
                "In {}, the water quality of {} was {} overall ({}).",
                input.period.label(l),
                who,
                c.label_en(),
                grade_en
            ),
            None => format!("No valid data for {} in {}.", who, input.period.label(l)),
        },
    }
}

pub(crate) fn station_info<'a>(input: &'a ReportInput, code: &str) -> Option<&'a StationInfo> {
    input.stations.iter().find(|s| s.code == code)
}

pub(crate) fn station_name(input: &ReportInput, code: &str) -> String {
    station_info(input, code).map_or_else(|| code.to_string(), |s| s.name(input.lang).to_string())
}

fn capture_section(input: &ReportInput) -> Section {
    let l = input.lang;
    let mut rows = Vec::new();
    for a in &input.station_results {
        let code = a.station.clone().unwrap_or_default();
        let info = station_info(input, &code);
        let all: Vec<&IndicatorResult> = a
            .indicators
            .iter()
            .chain(&a.reference_indicators)
            .chain(&a.other_parameters)
            .collect();
        for i in all {
            let expected = info
                .and_then(|s| s.expected.iter().find(|(p, _)| p == i.parameter))
                .and_then(|(_, e)| *e);
            rows.push(vec![
                Cell::text(&code),
                Cell::text(station_name(input, &code)),
                Cell::text(i.parameter),
                Cell::text(l.t(i.name_zh, i.name_en)),
                expected.map_or(Cell::Empty, |e| Cell::Int(e as i64)),
                Cell::Int(i.counts.total as i64),
                Cell::Int(i.counts.valid as i64),
                Cell::opt(
                    expected.and_then(|e| percent(i.counts.total as f64, e as f64)),
                    1,
                ),
                Cell::opt(percent(i.counts.valid as f64, i.counts.total as f64), 1),
                Cell::Int(i.counts.days_with_data as i64),
            ]);
        }
    }
    let r = input.review;
    let reviewed_total = r.invalidated + r.confirmed + r.unreviewed;
    let unreviewed = percent(r.unreviewed as f64, reviewed_total as f64).unwrap_or(0.0);
    let stations = input.station_results.len();
    let paragraphs = vec![
        match l {
            Lang::Zh => format!(
                "本期评价范围为{}，共{}个监测点位。数据获取率 = 实收数据个数 ÷ 应收数据个数；数据有效率 = 有效数据个数 ÷ 实收数据个数。",
                input.scope_zh, stations
            ),
            Lang::En => format!(
                "This report covers {} with {} monitoring points. Capture rate = values received ÷ values expected; valid rate = valid values ÷ values received.",
                input.scope_en, stations
            ),
        },
        match l {
            Lang::Zh => format!(
                "数据审核：审核判为无效并剔除 {} 个数据，审核确认有效 {} 个，未经审核 {} 个（占 {:.1}%），未审核数据按自动监测数据参与评价。",
                r.invalidated, r.confirmed, r.unreviewed, unreviewed
            ),
            Lang::En => format!(
                "Data review: {} values marked invalid and left out, {} confirmed valid, {} not reviewed ({:.1} %); unreviewed automatic data are used as received.",
                r.invalidated, r.confirmed, r.unreviewed, unreviewed
            ),
        },
    ];
    Section {
        title: l
            .t(
                "一、监测网络与数据获取",
                "1. Monitoring network and data capture",
            )
            .into(),
        paragraphs,
        tables: vec![table(
            "capture",
            l.t("数据获取率与有效率", "Data capture and valid rates")
                .into(),
            l.t("数据获取", "Data capture"),
            vec![
                col("station", l.t("点位编码", "Station")),
                col("station_name", l.t("点位名称", "Name")),
                col("parameter", l.t("指标编码", "Parameter code")),
                col("parameter_name", l.t("指标", "Parameter")),
                col("expected", l.t("应收数据(个)", "Expected (values)")),
                col("received", l.t("实收数据(个)", "Received (values)")),
                col("valid", l.t("有效数据(个)", "Valid (values)")),
                col("capture_rate", l.t("获取率(%)", "Capture rate (%)")),
                col("valid_rate", l.t("有效率(%)", "Valid rate (%)")),
                col("days", l.t("有数据天数(d)", "Days with data (d)")),
            ],
            rows,
        )],
        charts: vec![],
    }
}

fn overall_section(input: &ReportInput, headline: &str) -> Section {
    let l = input.lang;
    let mut paragraphs = vec![headline.to_string()];
    let mut rows = Vec::new();
    let bodies = input.lake.iter().chain(&input.basin_results);
    for b in bodies {
        let r = &b.result;
        let limiting = r
            .combined
            .as_ref()
            .map(|c| names(&c.limiting_parameters, l))
            .unwrap_or_default();
        let pollutants = r
            .combined
            .as_ref()
            .map(|c| {
                c.main_pollutants
                    .iter()
                    .map(|p| l.t(&p.display_zh, &p.display_en).to_string())
                    .collect::<Vec<_>>()
                    .join(l.t("、", ", "))
            })
            .unwrap_or_default();
        rows.push(vec![
            Cell::text(&b.id),
            Cell::text(l.t(&b.name_zh, &b.name_en)),
            Cell::text(class_label(r.class, l)),
            Cell::text(l.t(r.grade_zh, r.grade_en)),
            Cell::text(limiting),
            Cell::text(pollutants),
            Cell::Int(r.stations.len() as i64),
        ]);
    }
    if input.lake.is_none() && input.basin_results.is_empty() {
        paragraphs.push(
            l.t(
                "本报告范围为单个点位，无湖库整体评价。",
                "The scope is one station: there is no water-body result.",
            )
            .into(),
        );
    }
    Section {
        title: l.t("二、总体水质状况", "2. Overall water quality").into(),
        paragraphs,
        tables: vec![table(
            "bodies",
            l.t("湖库及湖区水质类别", "Lake and basin classes").into(),
            l.t("湖库与湖区", "Lake and basins"),
            vec![
                col("id", l.t("编码", "Id")),
                col("name", l.t("名称", "Name")),
                col("class", l.t("水质类别", "Class")),
                col("grade", l.t("水质状况", "Grade")),
                col("limiting", l.t("定类指标", "Limiting parameters")),
                col(
                    "main_pollutants",
                    l.t("主要污染指标(超标倍数)", "Main pollutants (multiple)"),
                ),
                col("stations", l.t("点位数(个)", "Stations")),
            ],
            rows,
        )],
        charts: vec![],
    }
}

fn stations_section(input: &ReportInput) -> Section {
    let l = input.lang;
    let mut summary = Vec::new();
    let mut detail = Vec::new();
    let mut failing = Vec::new();
    for a in &input.station_results {
        let code = a.station.clone().unwrap_or_default();
        let info = station_info(input, &code);
        let target = a
            .target
            .as_ref()
            .map(|t| t.target_class)
            .or(info.map(|i| i.target));
        let meets = a.target.as_ref().and_then(|t| t.meets_target);
        let exceeding = a
            .target
            .as_ref()
            .map(|t| {
                t.exceeding_items
                    .iter()
                    .map(|e| {
                        let m = a
                            .indicators
                            .iter()
                            .find(|i| i.parameter == e.parameter)
                            .and_then(|i| i.exceedance_multiple);
                        match m {
                            Some(m) => format!("{}({})", l.t(e.name_zh, e.name_en), m),
                            None => l.t(e.name_zh, e.name_en).to_string(),
                        }
                    })
                    .collect::<Vec<_>>()
                    .join(l.t("、", ", "))
            })
            .unwrap_or_default();
        if meets == Some(false) {
            failing.push(station_name(input, &code));
        }
        summary.push(vec![
            Cell::text(&code),
            Cell::text(station_name(input, &code)),
            Cell::text(class_label(target, l)),
            Cell::text(class_label(a.class, l)),
            Cell::text(l.t(a.grade_zh, a.grade_en)),
            Cell::text(match meets {
                Some(true) => l.t("达标", "meets"),
                Some(false) => l.t("未达标", "fails"),
                None => l.t("无法判定", "no data"),
            }),
            Cell::text(names(&a.limiting_parameters, l)),
            Cell::text(exceeding),
        ]);
        for i in a.indicators.iter().chain(&a.reference_indicators) {
            detail.push(vec![
                Cell::text(&code),
                Cell::text(i.parameter),
                Cell::text(l.t(i.name_zh, i.name_en)),
                Cell::text(i.unit),
                Cell::opt(i.value, decimals_of(&i.display)),
                Cell::text(&i.display),
                Cell::text(class_label(i.class, l)),
                Cell::opt(i.exceedance_multiple, 2),
                Cell::Int(i.counts.valid as i64),
                Cell::Int(i.counts.total as i64),
            ]);
        }
    }
    let meeting = input
        .station_results
        .iter()
        .filter(|a| a.target.as_ref().and_then(|t| t.meets_target) == Some(true))
        .count();
    let judged = input
        .station_results
        .iter()
        .filter(|a| a.target.as_ref().and_then(|t| t.meets_target).is_some())
        .count();
    let paragraphs = vec![match l {
        Lang::Zh => format!(
            "有有效数据的{}个点位中{}个达到水质目标{}。",
            judged,
            meeting,
            if failing.is_empty() {
                String::new()
            } else {
                format!("，未达标点位：{}", failing.join("、"))
            }
        ),
        Lang::En => format!(
            "{} of {} stations with valid data met their target class{}.",
            meeting,
            judged,
            if failing.is_empty() {
                String::new()
            } else {
                format!("; failing: {}", failing.join(", "))
            }
        ),
    }];
    Section {
        title: l
            .t(
                "三、各点位水质类别与目标达标",
                "3. Station classes against targets",
            )
            .into(),
        paragraphs,
        tables: vec![
            table(
                "stations",
                l.t("点位水质类别", "Station classes").into(),
                l.t("点位类别", "Stations"),
                vec![
                    col("station", l.t("点位编码", "Station")),
                    col("name", l.t("点位名称", "Name")),
                    col("target", l.t("目标类别", "Target")),
                    col("class", l.t("水质类别", "Class")),
                    col("grade", l.t("水质状况", "Grade")),
                    col("meets_target", l.t("目标达标", "Target")),
                    col("limiting", l.t("定类指标", "Limiting parameters")),
                    col(
                        "exceeding",
                        l.t("超目标指标(超标倍数)", "Over target (multiple)"),
                    ),
                ],
                summary,
            ),
            table(
                "indicators",
                l.t("点位各指标评价值", "Indicator values by station")
                    .into(),
                l.t("指标评价值", "Indicators"),
                vec![
                    col("station", l.t("点位编码", "Station")),
                    col("parameter", l.t("指标编码", "Parameter code")),
                    col("parameter_name", l.t("指标", "Parameter")),
                    col("unit", l.t("单位", "Unit")),
                    col("value", l.t("评价值", "Value")),
                    col("display", l.t("显示值", "Shown as")),
                    col("class", l.t("类别", "Class")),
                    col("multiple", l.t("超标倍数", "Exceedance multiple")),
                    col("valid", l.t("有效数(个)", "Valid (values)")),
                    col("total", l.t("总数(个)", "Total (values)")),
                ],
                detail,
            ),
        ],
        charts: vec![],
    }
}
