//! Rendering evaluation results: a readable table (Chinese or English), JSON or CSV.

use anyhow::Result;
use std::fmt::Write as _;
use wq::classify::Classification;
use wq::{IndicatorResult, StationAssessment, TrophicOutcome, WaterBodyAssessment, WaterClass};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Lang {
    Zh,
    En,
}

impl Lang {
    fn t<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

/// What the renderers work from.
pub struct Report<'a> {
    pub file: &'a str,
    pub period_text: Option<String>,
    pub stations: &'a [StationAssessment],
    /// Present when the file holds more than one station.
    pub water_body: Option<&'a WaterBodyAssessment>,
}

fn class_text(class: Option<WaterClass>, lang: Lang) -> String {
    match (class, lang) {
        (Some(c), Lang::Zh) => c.label_zh(),
        (Some(c), Lang::En) => c.label_en().to_string(),
        (None, _) => "—".into(),
    }
}

/// Display width: CJK characters take two columns.
fn width(s: &str) -> usize {
    s.chars()
        .map(|c| match c as u32 {
            0x1100..=0x115F
            | 0x2E80..=0xA4CF
            | 0xAC00..=0xD7A3
            | 0xF900..=0xFAFF
            | 0xFE30..=0xFE4F
            | 0xFF00..=0xFF60
            | 0xFFE0..=0xFFE6 => 2,
            _ => 1,
        })
        .sum()
}

fn pad(s: &str, w: usize) -> String {
    let mut out = s.to_string();
    out.extend(std::iter::repeat_n(' ', w.saturating_sub(width(s))));
    out
}

fn render_rows(out: &mut String, header: &[&str], rows: &[Vec<String>]) {
    let mut widths: Vec<usize> = header.iter().map(|h| width(h)).collect();
    for r in rows {
        for (i, c) in r.iter().enumerate() {
            widths[i] = widths[i].max(width(c));
        }
    }
    let line = |cells: Vec<String>| -> String {
        let mut l: String = cells
            .iter()
            .enumerate()
            .map(|(i, c)| pad(c, widths[i] + 2))
            .collect();
        l.truncate(l.trim_end().len());
        l
    };
    let _ = writeln!(
        out,
        "  {}",
        line(header.iter().map(|s| s.to_string()).collect())
    );
    let _ = writeln!(
        out,
        "  {}",
        "-".repeat(
            widths
                .iter()
                .map(|w| w + 2)
                .sum::<usize>()
                .saturating_sub(2)
        )
    );
    for r in rows {
        let _ = writeln!(out, "  {}", line(r.clone()));
    }
}

fn limit_text(i: &IndicatorResult, lang: Lang) -> String {
    match &i.classification {
        Some(Classification::Classified { limit, .. }) => {
            format!("{} {}", class_text(Some(limit.class), lang), limit.text)
        }
        Some(Classification::NotClassified { .. }) => lang.t("不评价", "not classed").to_string(),
        None => "—".into(),
    }
}

fn indicator_rows(list: &[IndicatorResult], lang: Lang) -> Vec<Vec<String>> {
    list.iter()
        .map(|i| {
            let name = match lang {
                Lang::Zh => i.name_zh,
                Lang::En => i.name_en,
            };
            let mut flags = String::new();
            if i.counts.incomplete {
                flags.push_str(lang.t(" 不完整", " incomplete"));
            }
            vec![
                name.to_string(),
                i.display.clone(),
                i.unit.to_string(),
                class_text(i.class, lang),
                limit_text(i, lang),
                i.exceedance_multiple
                    .map(|m| m.to_string())
                    .unwrap_or_else(|| "—".into()),
                format!("{}/{}{}", i.counts.valid, i.counts.total, flags),
            ]
        })
        .collect()
}

fn station_table(out: &mut String, a: &StationAssessment, lang: Lang, title: &str) {
    let _ = writeln!(out, "{title}");
    let water = match a.water_type {
        wq::WaterType::River => lang.t("河流", "river"),
        wq::WaterType::Lake => lang.t("湖库", "lake/reservoir"),
    };
    let (wording, grade) = match lang {
        Lang::Zh => (a.wording_zh.as_str(), a.grade_zh),
        Lang::En => (a.wording_en.as_str(), a.grade_en),
    };
    let _ = writeln!(
        out,
        "  {}: {} ({wording}), {}: {grade} [{}], {}: {water}",
        lang.t("水质类别", "Class"),
        class_text(a.class, lang),
        lang.t("水质状况", "Grade"),
        a.colour,
        lang.t("水体类型", "Water type"),
    );
    if !a.limiting_parameters.is_empty() && a.class.is_some() {
        let _ = writeln!(
            out,
            "  {}: {}",
            lang.t("定类指标", "Limiting"),
            names(a, &a.limiting_parameters, lang)
        );
    }
    if a.partial {
        let _ = writeln!(
            out,
            "  {}: {}",
            lang.t(
                "评价不完整，缺少核心指标",
                "Partial evaluation, core items missing"
            ),
            a.missing_core_items.join(", ")
        );
    }
    if let Some(t) = &a.target {
        let verdict = match t.meets_target {
            Some(true) => lang.t("达标", "met"),
            Some(false) => lang.t("未达标", "not met"),
            None => "—",
        };
        let _ = write!(
            out,
            "  {}: {} {verdict}",
            lang.t("目标类别", "Target"),
            class_text(Some(t.target_class), lang)
        );
        if !t.exceeding_items.is_empty() {
            let items: Vec<String> = t
                .exceeding_items
                .iter()
                .map(|e| {
                    let n = if lang == Lang::Zh {
                        e.name_zh
                    } else {
                        e.name_en
                    };
                    match e.multiple_over_target {
                        Some(m) => format!("{n}[{}{m}]", lang.t("超目标倍数", "over target ×")),
                        None => n.to_string(),
                    }
                })
                .collect();
            let _ = write!(
                out,
                " ({}: {})",
                lang.t("超标项目", "exceeding"),
                items.join(lang.t("、", ", "))
            );
        }
        let _ = writeln!(out);
    }
    if !a.main_pollutants.is_empty() {
        let list: Vec<&str> = a
            .main_pollutants
            .iter()
            .map(|m| {
                if lang == Lang::Zh {
                    m.display_zh.as_str()
                } else {
                    m.display_en.as_str()
                }
            })
            .collect();
        let _ = writeln!(
            out,
            "  {}: {}",
            lang.t("主要污染指标", "Main pollutants"),
            list.join(lang.t("、", ", "))
        );
    }
    let header = [
        lang.t("指标", "Parameter"),
        lang.t("评价值", "Value"),
        lang.t("单位", "Unit"),
        lang.t("类别", "Class"),
        lang.t("比较限值", "Limit compared"),
        lang.t("超标倍数", "Exceedance"),
        lang.t("有效/总数", "Valid/total"),
    ];
    let mut rows = indicator_rows(&a.indicators, lang);
    if !a.reference_indicators.is_empty() {
        rows.push(vec![
            format!("[{}]", lang.t("单独评价", "reported separately")),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ]);
        rows.extend(indicator_rows(&a.reference_indicators, lang));
    }
    if !a.other_parameters.is_empty() {
        rows.push(vec![
            format!("[{}]", lang.t("不参与评价", "not classed")),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
            String::new(),
        ]);
        rows.extend(indicator_rows(&a.other_parameters, lang));
    }
    render_rows(out, &header, &rows);
    if let Some(d) = &a.drinking_water {
        let _ = writeln!(
            out,
            "  {}:",
            lang.t(
                "饮用水源地补充/特定项目",
                "Drinking-water source items (Tables 2, 3)"
            )
        );
        let rows: Vec<Vec<String>> = d
            .items
            .iter()
            .map(|i| {
                vec![
                    format!("{}{}", lang.t("表", "T"), i.table),
                    (if lang == Lang::Zh {
                        i.name_zh
                    } else {
                        i.name_en
                    })
                    .to_string(),
                    i.display.clone(),
                    format!("≤{}", i.limit),
                    (if lang == Lang::Zh {
                        i.verdict.word_zh()
                    } else {
                        i.verdict.word_en()
                    })
                    .to_string(),
                    i.exceedance_multiple
                        .map(|m| m.to_string())
                        .unwrap_or_else(|| "—".into()),
                ]
            })
            .collect();
        render_rows(
            out,
            &[
                lang.t("表", "Table"),
                lang.t("项目", "Item"),
                lang.t("评价值", "Value"),
                lang.t("限值", "Limit"),
                lang.t("结论", "Verdict"),
                lang.t("超标倍数", "Exceedance"),
            ],
            &rows,
        );
    }
    match &a.trophic {
        Some(TrophicOutcome::Computed(t)) => {
            let used: Vec<&str> = t.components.iter().map(|c| c.parameter).collect();
            let _ = writeln!(
                out,
                "  {}: TLI(Σ) = {:.2} {} [{}] ({}: {})",
                lang.t("营养状态", "Trophic state"),
                t.tli,
                if lang == Lang::Zh {
                    t.state_zh
                } else {
                    t.state_en
                },
                t.colour,
                lang.t("参数", "from"),
                used.join(", ")
            );
        }
        Some(TrophicOutcome::NotComputed { reason }) => {
            let _ = writeln!(out, "  {}: {reason}", lang.t("营养状态", "Trophic state"));
        }
        None => {}
    }
    let _ = writeln!(out);
}

fn names(a: &StationAssessment, codes: &[&str], lang: Lang) -> String {
    codes
        .iter()
        .map(|code| {
            a.indicators
                .iter()
                .find(|i| i.parameter == *code)
                .map(|i| {
                    if lang == Lang::Zh {
                        i.name_zh
                    } else {
                        i.name_en
                    }
                })
                .unwrap_or(code)
        })
        .collect::<Vec<_>>()
        .join(lang.t("、", ", "))
}

pub fn table(r: &Report, lang: Lang) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{}: {}", lang.t("文件", "File"), r.file);
    if let Some(p) = &r.period_text {
        let _ = writeln!(out, "{}: {p}", lang.t("评价时段", "Period"));
    }
    let _ = writeln!(
        out,
        "{}",
        lang.t(
            "依据: GB 3838-2002 单因子评价",
            "Method: GB 3838-2002 single-factor evaluation"
        )
    );
    let _ = writeln!(out);
    for a in r.stations {
        let title = format!(
            "{}: {}",
            lang.t("站点", "Station"),
            a.station.as_deref().unwrap_or("—")
        );
        station_table(&mut out, a, lang, &title);
    }
    if let Some(w) = r.water_body {
        let method = match w.method {
            wq::AggregationMethod::SingleStation => lang.t("单站", "single station"),
            wq::AggregationMethod::MeanOfSections => {
                lang.t("断面均值法(少于5个断面)", "mean of sections (fewer than 5)")
            }
            wq::AggregationMethod::ProportionMethod => {
                lang.t("断面水质类别比例法", "section-class proportion method")
            }
            wq::AggregationMethod::MeanOfPoints => lang.t("点位均值法", "mean of points"),
            wq::AggregationMethod::PooledPoints => lang.t("点位数据合并", "pooled points"),
        };
        let grade = if lang == Lang::Zh {
            w.grade_zh
        } else {
            w.grade_en
        };
        let _ = writeln!(
            out,
            "{} ({method}): {grade} [{}]",
            lang.t("整体水质", "Water body"),
            w.colour
        );
        if let Some(p) = &w.proportion {
            let _ = writeln!(
                out,
                "  {}: {}, Ⅰ–Ⅲ {:.1}%, 劣Ⅴ {:.1}%",
                lang.t("断面数", "Sections"),
                p.sections,
                p.share_good_percent,
                p.share_worse_than_v_percent
            );
            if !w.main_pollutants.is_empty() {
                let list: Vec<String> = w
                    .main_pollutants
                    .iter()
                    .map(|m| {
                        format!(
                            "{}({:.1}%)",
                            if lang == Lang::Zh {
                                m.name_zh
                            } else {
                                m.name_en
                            },
                            m.exceedance_rate_percent
                        )
                    })
                    .collect();
                let _ = writeln!(
                    out,
                    "  {}: {}",
                    lang.t(
                        "主要污染指标(断面超标率)",
                        "Main pollutants (section exceedance rate)"
                    ),
                    list.join(", ")
                );
            }
        }
        if let Some(c) = &w.combined
            && w.method != wq::AggregationMethod::SingleStation
        {
            station_table(&mut out, c, lang, lang.t("整体均值评价", "Combined means"));
        }
    }
    out
}

pub fn json(r: &Report) -> Result<String> {
    let mut water_body = match r.water_body {
        Some(w) => serde_json::to_value(w)?,
        None => serde_json::Value::Null,
    };
    // The stations are listed once, at the top level.
    if let Some(obj) = water_body.as_object_mut() {
        obj.remove("stations");
    }
    let doc = serde_json::json!({
        "file": r.file,
        "period": r.period_text,
        "stations": r.stations,
        "water_body": water_body,
    });
    Ok(serde_json::to_string_pretty(&doc)? + "\n")
}

pub fn csv(r: &Report, lang: Lang) -> Result<String> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "station",
        "role",
        "parameter",
        "name",
        "unit",
        "value",
        "display",
        "class",
        "limit_compared",
        "exceedance_multiple",
        "meets_target",
        "n_valid",
        "n_invalid",
        "n_total",
    ])?;
    let opt = |x: Option<f64>| x.map(|v| v.to_string()).unwrap_or_default();
    let mut station_rows = |a: &StationAssessment, station: &str| -> Result<()> {
        w.write_record([
            station,
            "station",
            "",
            if lang == Lang::Zh {
                a.wording_zh.as_str()
            } else {
                a.wording_en.as_str()
            },
            "",
            "",
            if lang == Lang::Zh {
                a.grade_zh
            } else {
                a.grade_en
            },
            &class_text(a.class, lang),
            "",
            "",
            &a.target
                .as_ref()
                .and_then(|t| t.meets_target)
                .map(|b| b.to_string())
                .unwrap_or_default(),
            "",
            "",
            "",
        ])?;
        for (role, list) in [
            ("routine", &a.indicators),
            ("reference", &a.reference_indicators),
            ("other", &a.other_parameters),
        ] {
            for i in list {
                w.write_record([
                    station,
                    role,
                    i.parameter,
                    if lang == Lang::Zh {
                        i.name_zh
                    } else {
                        i.name_en
                    },
                    i.unit,
                    &opt(i.value),
                    &i.display,
                    &class_text(i.class, lang),
                    &limit_text(i, lang),
                    &opt(i.exceedance_multiple),
                    &i.meets_target.map(|b| b.to_string()).unwrap_or_default(),
                    &i.counts.valid.to_string(),
                    &i.counts.invalid.to_string(),
                    &i.counts.total.to_string(),
                ])?;
            }
        }
        if let Some(d) = &a.drinking_water {
            for i in &d.items {
                w.write_record([
                    station,
                    if i.table == 2 { "table2" } else { "table3" },
                    i.parameter,
                    if lang == Lang::Zh {
                        i.name_zh
                    } else {
                        i.name_en
                    },
                    "mg/L",
                    &i.value.to_string(),
                    &i.display,
                    if lang == Lang::Zh {
                        i.verdict.word_zh()
                    } else {
                        i.verdict.word_en()
                    },
                    &format!("≤{}", i.limit),
                    &opt(i.exceedance_multiple),
                    "",
                    &i.counts.valid.to_string(),
                    &i.counts.invalid.to_string(),
                    &i.counts.total.to_string(),
                ])?;
            }
        }
        Ok(())
    };
    for a in r.stations {
        station_rows(a, a.station.as_deref().unwrap_or(""))?;
    }
    if let Some(c) = r.water_body.and_then(|w| w.combined.as_ref()) {
        station_rows(c, "*")?;
    }
    Ok(String::from_utf8(w.into_inner()?)?)
}
