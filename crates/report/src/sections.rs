//! The later sections of the bulletin: the intake, main pollutants, TLI, bloom, alerts, trends,
//! method and the station-day annex (split from `build.rs`, same rules: numbers are `wq`'s).

use crate::build::{
    class_label, col, decimals_of, names, param_name, station_info, station_name, table, tli_of,
};
use crate::charts;
use crate::input::*;
use crate::{Cell, Lang, ReportError, Section, Table};
use wq::assess::TrophicOutcome;
use wq::{StationAssessment, WaterClass};

pub(crate) fn intake_section(input: &ReportInput) -> Option<Section> {
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

pub(crate) fn pollutants_section(input: &ReportInput) -> Section {
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

pub(crate) fn tli_section(input: &ReportInput) -> Section {
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

pub(crate) fn bloom_section(input: &ReportInput) -> Section {
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

pub(crate) fn alerts_section(input: &ReportInput) -> Section {
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

pub(crate) fn trend_section(input: &ReportInput) -> Result<Section, ReportError> {
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

pub(crate) fn method_section(input: &ReportInput) -> Section {
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

pub(crate) fn day_means_table(input: &ReportInput) -> Table {
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
