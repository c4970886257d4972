//! From the gathered assessments to the report model, in the monthly bulletin's usual order:
//! network and data capture, overall class, basins, stations against their targets, the intake,
//! main pollutants, TLI, bloom, alerts, trends, method. Every number is taken from the `wq`
//! results as they are (already rounded by `wq`); nothing here judges water again.

use crate::charts;
use crate::input::*;
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

fn col(key: &str, header: impl Into<String>) -> Column {
    Column {
        key: key.into(),
        header: header.into(),
    }
}

/// Decimals as `wq` printed the value ("0.044" → 3).
fn decimals_of(display: &str) -> u8 {
    display
        .trim_end_matches('L')
        .split_once('.')
        .map_or(0, |(_, d)| d.len() as u8)
}

fn table(
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

fn param_name(code: &str, lang: Lang) -> String {
    wq::catalogue::by_code(code)
        .map(|p| lang.t(p.name_zh, p.name_en).to_string())
        .unwrap_or_else(|| code.to_string())
}

fn names(codes: &[&str], lang: Lang) -> String {
    let sep = lang.t("、", ", ");
    codes
        .iter()
        .map(|c| param_name(c, lang))
        .collect::<Vec<_>>()
        .join(sep)
}

fn tli_of(a: &StationAssessment) -> Option<&wq::TliResult> {
    match &a.trophic {
        Some(TrophicOutcome::Computed(t)) => Some(t),
        _ => None,
    }
}

fn percent(part: f64, whole: f64) -> Option<f64> {
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

fn station_info<'a>(input: &'a ReportInput, code: &str) -> Option<&'a StationInfo> {
    input.stations.iter().find(|s| s.code == code)
}

fn station_name(input: &ReportInput, code: &str) -> String {
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

fn intake_section(input: &ReportInput) -> Option<Section> {
    let l = input.lang;
    let intakes: Vec<&StationAssessment> = input
        .station_results
        .iter()
        .filter(|a| {
            a.station
                .as_deref()
                .and_then(|c| station_info(input, c))
                .is_some_and(|s| s.kind == "intake")
        })
        .collect();
    if intakes.is_empty() {
        return None;
    }
    let mut paragraphs = Vec::new();
    let mut rows = Vec::new();
    for a in intakes {
        let code = a.station.clone().unwrap_or_default();
        let ii = a.class.map(|c| c <= WaterClass::II);
        let over: Vec<String> = a
            .indicators
            .iter()
            .filter(|i| i.class.is_some_and(|c| c > WaterClass::II))
            .map(|i| format!("{}({})", l.t(i.name_zh, i.name_en), class_label(i.class, l)))
            .collect();
        paragraphs.push(match (l, ii) {
            (Lang::Zh, Some(true)) => format!(
                "饮用水源地{}水质为{}，达到Ⅱ类标准。",
                station_name(input, &code),
                class_label(a.class, l)
            ),
            (Lang::Zh, Some(false)) => format!(
                "饮用水源地{}水质为{}，未达到Ⅱ类标准，超Ⅱ类指标：{}。",
                station_name(input, &code),
                class_label(a.class, l),
                over.join("、")
            ),
            (Lang::Zh, None) => format!("饮用水源地{}无有效数据。", station_name(input, &code)),
            (Lang::En, Some(true)) => format!(
                "The intake {} was {}: meets Class II.",
                station_name(input, &code),
                class_label(a.class, l)
            ),
            (Lang::En, Some(false)) => format!(
                "The intake {} was {}: fails Class II ({}).",
                station_name(input, &code),
                class_label(a.class, l),
                over.join(", ")
            ),
            (Lang::En, None) => format!(
                "No valid data at the intake {}.",
                station_name(input, &code)
            ),
        });
        if let Some(d) = &a.drinking_water {
            paragraphs.push(match (l, d.all_meet) {
                (Lang::Zh, true) => "集中式生活饮用水地表水源地补充项目和特定项目均达标。".into(),
                (Lang::Zh, false) => {
                    format!("饮用水源地补充/特定项目超标：{}。", names(&d.exceeding, l))
                }
                (Lang::En, true) => {
                    "Every drinking-water item (Tables 2 and 3) meets its limit.".into()
                }
                (Lang::En, false) => format!(
                    "Drinking-water items over their limits: {}.",
                    names(&d.exceeding, l)
                ),
            });
            for item in &d.items {
                rows.push(vec![
                    Cell::text(&code),
                    Cell::Int(item.table as i64),
                    Cell::text(l.t(item.name_zh, item.name_en)),
                    Cell::num(item.value, decimals_of(&item.display)),
                    Cell::num(item.limit, decimals_of(&item.limit.to_string())),
                    Cell::text(match item.verdict {
                        wq::Verdict::Meets => l.t("达标", "meets"),
                        wq::Verdict::Exceeds => l.t("超标", "exceeds"),
                        wq::Verdict::CannotJudge => l.t("无法判定", "cannot judge"),
                    }),
                    Cell::opt(item.exceedance_multiple, 2),
                ]);
            }
        }
    }
    Some(Section {
        title: l.t("四、饮用水源地水质", "4. Drinking-water intake").into(),
        paragraphs,
        tables: vec![table(
            "drinking",
            l.t(
                "饮用水源地补充及特定项目",
                "Drinking-water items (GB 3838 Tables 2 and 3)",
            )
            .into(),
            l.t("饮用水源地", "Intake"),
            vec![
                col("station", l.t("点位编码", "Station")),
                col("table", l.t("标准表号", "GB 3838 table")),
                col("item", l.t("项目", "Item")),
                col("value", l.t("评价值(mg/L)", "Value (mg/L)")),
                col("limit", l.t("标准限值(mg/L)", "Limit (mg/L)")),
                col("verdict", l.t("评价结果", "Verdict")),
                col("multiple", l.t("超标倍数", "Multiple")),
            ],
            rows,
        )],
        charts: vec![],
    })
}

fn pollutants_section(input: &ReportInput) -> Section {
    let l = input.lang;
    let mut rows = Vec::new();
    let combined = input.lake.as_ref().and_then(|b| b.result.combined.as_ref());
    let listed: Vec<(&str, &StationAssessment)> = combined
        .map(|c| (l.t(&input.lake_zh, &input.lake_en), c))
        .into_iter()
        .chain(
            input
                .station_results
                .iter()
                .map(|a| (a.station.as_deref().unwrap_or(""), a)),
        )
        .collect();
    for (who, a) in listed {
        for (rank, p) in a.main_pollutants.iter().enumerate() {
            rows.push(vec![
                Cell::text(who),
                Cell::Int(rank as i64 + 1),
                Cell::text(p.parameter),
                Cell::text(l.t(p.name_zh, p.name_en)),
                Cell::text(class_label(Some(p.class), l)),
                Cell::opt(p.exceedance_multiple, 2),
            ]);
        }
    }
    let paragraph = match combined {
        Some(c) if !c.main_pollutants.is_empty() => match l {
            Lang::Zh => format!(
                "全湖主要污染指标为{}。",
                c.main_pollutants
                    .iter()
                    .map(|p| p.display_zh.as_str())
                    .collect::<Vec<_>>()
                    .join("、")
            ),
            Lang::En => format!(
                "Main pollutants of the lake: {}.",
                c.main_pollutants
                    .iter()
                    .map(|p| p.display_en.as_str())
                    .collect::<Vec<_>>()
                    .join(", ")
            ),
        },
        Some(_) => l
            .t(
                "全湖各指标均达到或优于Ⅲ类，无主要污染指标。",
                "Every indicator of the lake meets Class III: no main pollutant.",
            )
            .into(),
        None => String::new(),
    };
    Section {
        title: l.t("五、主要污染指标", "5. Main pollutants").into(),
        paragraphs: if paragraph.is_empty() {
            vec![]
        } else {
            vec![paragraph]
        },
        tables: vec![table(
            "pollutants",
            l.t("主要污染指标", "Main pollutants").into(),
            l.t("主要污染指标", "Main pollutants"),
            vec![
                col("scope", l.t("评价对象", "Where")),
                col("rank", l.t("序号", "Rank")),
                col("parameter", l.t("指标编码", "Parameter code")),
                col("parameter_name", l.t("指标", "Parameter")),
                col("class", l.t("类别", "Class")),
                col("multiple", l.t("超标倍数", "Exceedance multiple")),
            ],
            rows,
        )],
        charts: vec![],
    }
}

fn change(now: f64, before: Option<f64>) -> Option<f64> {
    before.map(|b| ((now - b) * 100.0).round() / 100.0)
}

fn tli_section(input: &ReportInput) -> Section {
    let l = input.lang;
    let subject = input
        .lake
        .as_ref()
        .and_then(|b| b.result.combined.as_ref())
        .or(input.station_results.first());
    let tli = subject.and_then(tli_of);
    let mut paragraphs = Vec::new();
    let mut rows = Vec::new();
    match tli {
        Some(t) => {
            let mom = change(t.tli, input.tli_previous);
            let yoy = change(t.tli, input.tli_year_ago);
            let fmt = |c: Option<f64>| {
                c.map_or_else(
                    || l.t("无可比数据", "no data").to_string(),
                    |c| format!("{c:+.2}"),
                )
            };
            paragraphs.push(match l {
                Lang::Zh => format!(
                    "综合营养状态指数 TLI(Σ) = {:.2}，{}；环比 {}，同比 {}。",
                    t.tli, t.state_zh, fmt(mom), fmt(yoy)
                ),
                Lang::En => format!(
                    "Trophic state index TLI(Σ) = {:.2}, {}; change on the previous period {}, on a year before {}.",
                    t.tli, t.state_en, fmt(mom), fmt(yoy)
                ),
            });
            for c in &t.components {
                let unit = wq::catalogue::by_code(c.parameter)
                    .map(|p| p.unit.to_string())
                    .unwrap_or_default();
                rows.push(vec![
                    Cell::text(c.parameter),
                    Cell::text(format!("{} ({})", param_name(c.parameter, l), unit)),
                    Cell::num(c.value, 3),
                    Cell::num(c.index, 2),
                    Cell::num(c.weight, 4),
                ]);
            }
            rows.push(vec![
                Cell::text("tli"),
                Cell::text("TLI(Σ)"),
                Cell::Empty,
                Cell::num(t.tli, 2),
                Cell::num(1.0, 4),
            ]);
            rows.push(vec![
                Cell::text("tli_previous"),
                Cell::text(l.t("上期 TLI(Σ)（环比）", "TLI(Σ) of the previous period")),
                Cell::Empty,
                Cell::opt(input.tli_previous, 2),
                Cell::Empty,
            ]);
            rows.push(vec![
                Cell::text("tli_year_ago"),
                Cell::text(l.t("上年同期 TLI(Σ)（同比）", "TLI(Σ) a year before")),
                Cell::Empty,
                Cell::opt(input.tli_year_ago, 2),
                Cell::Empty,
            ]);
        }
        None => {
            let why = match subject.and_then(|s| s.trophic.as_ref()) {
                Some(TrophicOutcome::NotComputed { reason }) => reason.clone(),
                _ => l.t("非湖库点位", "not a lake").to_string(),
            };
            paragraphs.push(format!(
                "{}{}",
                l.t("未计算营养状态指数：", "TLI not computed: "),
                why
            ));
        }
    }
    Section {
        title: l.t("六、营养状态", "6. Trophic state").into(),
        paragraphs,
        tables: vec![table(
            "tli",
            l.t("综合营养状态指数及分指数", "TLI(Σ) and its components")
                .into(),
            "TLI",
            vec![
                col("component", l.t("分项", "Component")),
                col("name", l.t("指标(单位)", "Parameter (unit)")),
                col("value", l.t("评价值", "Value")),
                col("index", "TLI(j)"),
                col("weight", l.t("权重 Wj", "Weight Wj")),
            ],
            rows,
        )],
        charts: vec![],
    }
}

fn local_time(ms: i64, offset_s: i32) -> String {
    let tz = chrono::FixedOffset::east_opt(offset_s)
        .unwrap_or_else(|| chrono::FixedOffset::east_opt(0).unwrap_or_else(|| chrono::Utc.fix()));
    chrono::DateTime::from_timestamp_millis(ms)
        .map(|t| t.with_timezone(&tz).format("%Y-%m-%d %H:%M").to_string())
        .unwrap_or_default()
}

use chrono::Offset;

fn bloom_section(input: &ReportInput) -> Section {
    let l = input.lang;
    let rows: Vec<Vec<Cell>> = input
        .scenes
        .iter()
        .map(|s| {
            vec![
                Cell::text(local_time(s.time_ms, input.utc_offset_s)),
                Cell::text(&s.sensor),
                Cell::num(s.bloom_area_km2, 3),
                Cell::num(s.coverage * 100.0, 1),
                Cell::num(s.valid_fraction * 100.0, 1),
                Cell::text(if s.cloud_limited {
                    l.t("是", "yes")
                } else {
                    l.t("否", "no")
                }),
                Cell::text(&s.grade),
            ]
        })
        .collect();
    let max = input
        .scenes
        .iter()
        .map(|s| s.bloom_area_km2)
        .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
    let paragraph = match (max, l) {
        (None, Lang::Zh) => "本期无卫星或无人机影像。".to_string(),
        (None, Lang::En) => "No satellite or drone scene in the period.".to_string(),
        (Some(m), Lang::Zh) => format!(
            "本期共{}景影像，最大水华面积 {:.3} km²。",
            input.scenes.len(),
            m
        ),
        (Some(m), Lang::En) => format!(
            "{} scenes in the period; largest bloom area {:.3} km².",
            input.scenes.len(),
            m
        ),
    };
    Section {
        title: l
            .t("七、蓝藻水华遥感监测", "7. Algal bloom from scenes")
            .into(),
        paragraphs: vec![paragraph],
        tables: vec![table(
            "bloom",
            l.t("影像水华面积", "Bloom area by scene").into(),
            l.t("水华遥感", "Bloom"),
            vec![
                col("time", l.t("成像时间", "Acquired")),
                col("sensor", l.t("传感器", "Sensor")),
                col("bloom_area", l.t("水华面积(km²)", "Bloom area (km²)")),
                col("coverage", l.t("水华覆盖率(%)", "Coverage (%)")),
                col("valid", l.t("有效观测比例(%)", "Valid fraction (%)")),
                col("cloud", l.t("受云影响", "Cloud limited")),
                col("grade", l.t("水华程度", "Grade")),
            ],
            rows,
        )],
        charts: vec![],
    }
}

fn alerts_section(input: &ReportInput) -> Section {
    let l = input.lang;
    let mut rules: Vec<(String, String, u64, u64, f64)> = Vec::new();
    for a in &input.alerts {
        let name = l.t(&a.rule_zh, &a.rule_en).to_string();
        let idx = match rules.iter().position(|r| r.0 == a.rule) {
            Some(i) => i,
            None => {
                rules.push((a.rule.clone(), name, 0, 0, 0.0));
                rules.len() - 1
            }
        };
        let r = &mut rules[idx];
        r.2 += 1;
        if let Some(ack) = a.acknowledged_at {
            r.3 += 1;
            r.4 += (ack - a.created_at).max(0) as f64 / 60_000.0;
        }
    }
    let by_rule: Vec<Vec<Cell>> = rules
        .iter()
        .map(|(code, name, n, acked, minutes)| {
            vec![
                Cell::text(code),
                Cell::text(name),
                Cell::Int(*n as i64),
                Cell::Int(*acked as i64),
                Cell::opt(
                    (*acked > 0).then(|| (minutes / *acked as f64 * 10.0).round() / 10.0),
                    1,
                ),
            ]
        })
        .collect();
    let mut notable: Vec<&AlertFact> = input
        .alerts
        .iter()
        .filter(|a| a.severity == "critical" || a.severity == "major")
        .collect();
    notable.sort_by_key(|a| a.created_at);
    let notable_rows: Vec<Vec<Cell>> = notable
        .iter()
        .take(20)
        .map(|a| {
            vec![
                Cell::Int(a.id),
                Cell::text(local_time(a.created_at, input.utc_offset_s)),
                Cell::text(l.t(&a.rule_zh, &a.rule_en)),
                Cell::text(&a.severity),
                Cell::text(a.station.clone().unwrap_or_default()),
                Cell::text(&a.message),
                Cell::opt(
                    a.acknowledged_at
                        .map(|t| ((t - a.created_at).max(0) as f64 / 6_000.0).round() / 10.0),
                    1,
                ),
            ]
        })
        .collect();
    let paragraph = match l {
        Lang::Zh => format!(
            "本期共产生预警 {} 条，其中重要及以上 {} 条。",
            input.alerts.len(),
            notable.len()
        ),
        Lang::En => format!(
            "{} alerts in the period, {} of them major or critical.",
            input.alerts.len(),
            notable.len()
        ),
    };
    Section {
        title: l.t("八、预警情况", "8. Alerts").into(),
        paragraphs: vec![paragraph],
        tables: vec![
            table(
                "alerts_by_rule",
                l.t("按规则统计", "Alerts by rule").into(),
                l.t("预警统计", "Alerts by rule"),
                vec![
                    col("rule", l.t("规则编码", "Rule")),
                    col("name", l.t("规则", "Rule name")),
                    col("count", l.t("预警数(条)", "Alerts")),
                    col("acknowledged", l.t("已确认(条)", "Acknowledged")),
                    col(
                        "time_to_ack",
                        l.t("平均确认用时(min)", "Mean time to acknowledge (min)"),
                    ),
                ],
                by_rule,
            ),
            table(
                "alerts_notable",
                l.t("重要预警", "Notable alerts").into(),
                l.t("重要预警", "Notable alerts"),
                vec![
                    col("id", "ID"),
                    col("time", l.t("产生时间", "Raised")),
                    col("rule", l.t("规则", "Rule")),
                    col("severity", l.t("级别", "Severity")),
                    col("station", l.t("点位", "Station")),
                    col("message", l.t("内容", "Message")),
                    col(
                        "time_to_ack",
                        l.t("确认用时(min)", "Time to acknowledge (min)"),
                    ),
                ],
                notable_rows,
            ),
        ],
        charts: vec![],
    }
}

fn trend_section(input: &ReportInput) -> Result<Section, ReportError> {
    let l = input.lang;
    // The class map: one row per station, one column per month.
    let mut columns = vec![col("station", l.t("点位", "Station"))];
    columns.extend(
        input
            .trend
            .iter()
            .map(|m| col(&m.period.code(), m.period.code())),
    );
    let codes: Vec<&StationInfo> = input
        .stations
        .iter()
        .filter(|s| {
            input
                .station_results
                .iter()
                .any(|a| a.station.as_deref() == Some(s.code.as_str()))
        })
        .collect();
    let rows: Vec<Vec<Cell>> = codes
        .iter()
        .map(|s| {
            let mut row = vec![Cell::text(format!("{} {}", s.code, s.name(l)))];
            for m in &input.trend {
                let class = m
                    .lake
                    .iter()
                    .flat_map(|b| b.stations.iter())
                    .chain(&m.others)
                    .find(|a| a.station.as_deref() == Some(s.code.as_str()))
                    .and_then(|a| a.class);
                row.push(Cell::text(class.map_or_else(
                    || "—".to_string(),
                    |c| match l {
                        Lang::Zh => c.roman().to_string(),
                        Lang::En => c.to_string(),
                    },
                )));
            }
            row
        })
        .collect();
    let charts = charts::trend_charts(input)?;
    Ok(Section {
        title: l.t("九、变化趋势", "9. Trends").into(),
        paragraphs: vec![l.t(
            "下表为近12个月各点位逐月水质类别；图为全湖（或点位）逐月均值与 GB 3838-2002 类别限值。",
            "The table gives each station's class month by month over 12 months; the charts show the monthly means with the GB 3838-2002 class limits.",
        )
        .into()],
        tables: vec![table(
            "class_map",
            l.t("逐月水质类别", "Monthly station classes").into(),
            l.t("逐月类别", "Monthly classes"),
            columns,
            rows,
        )],
        charts,
    })
}

fn method_section(input: &ReportInput) -> Section {
    let l = input.lang;
    Section {
        title: l.t("十、评价依据与方法", "10. Standard and method").into(),
        paragraphs: vec![
            l.t(
                "评价标准：《地表水环境质量标准》（GB 3838-2002）表1基本项目，饮用水源地另评表2补充项目和表3特定项目。",
                "Standard: GB 3838-2002 Environmental quality standards for surface water, Table 1; at the intake also Tables 2 and 3.",
            )
            .into(),
            l.t(
                "评价方法：《地表水环境质量评价办法（试行）》（环办〔2011〕22号），单因子评价法；湖库总氮、粪大肠菌群单独评价，不参与水质类别判定；湖库水质为各点位时间均值的空间均值。",
                "Method: the national evaluation method (环办〔2011〕22号), single-factor evaluation; lake TN and fecal coliform reported separately, not in the class; the lake's value is the mean over the points of each point's time mean.",
            )
            .into(),
            l.t(
                "营养状态：综合营养状态指数 TLI(Σ)，以叶绿素a为基准参数加权（中国环境监测总站方法），叶绿素a以 mg/m³（即 µg/L）计；TLI(Σ) < 30 贫营养，30 ≤ TLI(Σ) ≤ 50 中营养，50 < TLI(Σ) ≤ 60 轻度富营养，60 < TLI(Σ) ≤ 70 中度富营养，TLI(Σ) > 70 重度富营养。均值按日均值的均值计算，数值修约采用四舍六入五成双。",
                "Trophic state: TLI(Σ) weighted on chlorophyll a (CNEMC method), chl-a in mg/m³ (= µg/L); TLI(Σ) < 30 oligotrophic, 30 ≤ TLI(Σ) ≤ 50 mesotrophic, 50 < TLI(Σ) ≤ 60 light, 60 < TLI(Σ) ≤ 70 middle, TLI(Σ) > 70 hypereutrophic. Means are the means of daily means; rounding is half to even.",
            )
            .into(),
            format!(
                "{}{}",
                l.t("报告生成时间：", "Generated: "),
                input.generated_at
            ),
        ],
        tables: vec![],
        charts: vec![],
    }
}

fn day_means_table(input: &ReportInput) -> Table {
    let l = input.lang;
    let rows = input
        .day_means
        .iter()
        .map(|d| {
            let unit = wq::catalogue::by_code(&d.parameter)
                .map(|p| p.unit.to_string())
                .unwrap_or_default();
            vec![
                Cell::text(&d.station),
                Cell::text(&d.day),
                Cell::text(&d.parameter),
                Cell::text(unit),
                Cell::num(d.mean, 4),
                Cell::Int(d.n as i64),
            ]
        })
        .collect();
    table(
        "day_means",
        l.t(
            "站点日均值（原始有效数据）",
            "Station-day means (valid raw values)",
        )
        .into(),
        l.t("日均值", "Daily means"),
        vec![
            col("station", l.t("点位编码", "Station")),
            col("day", l.t("日期", "Day")),
            col("parameter", l.t("指标编码", "Parameter code")),
            col("unit", l.t("单位", "Unit")),
            col("mean", l.t("日均值", "Daily mean")),
            col("n", l.t("数据个数(个)", "Values")),
        ],
        rows,
    )
}
