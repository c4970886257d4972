//! Server-side charts as SVG (plotters): the lake's (or the station's) monthly means of TP,
//! NH3-N and CODMn over the GB 3838 class bands, and the TLI(Σ) trend over the trophic grades.
//! Text inside the SVG is ASCII (codes, units, months); the captions in the report carry the
//! Chinese names, so the drawing never depends on a CJK font being found by the SVG renderer.

use crate::input::ReportInput;
use crate::{Chart, Lang, ReportError};
use plotters::prelude::*;
use wq::assess::TrophicOutcome;
use wq::classify::{ClassLimits, class_limits};
use wq::{StationAssessment, WaterClass, WaterType};

const W: u32 = 720;
const H: u32 = 300;

fn hex(c: &str) -> RGBColor {
    let c = c.trim_start_matches('#');
    let p = |i: usize| u8::from_str_radix(c.get(i..i + 2).unwrap_or("AB"), 16).unwrap_or(0xAB);
    RGBColor(p(0), p(2), p(4))
}

/// The assessment a month's point is read from: the lake's combined means, or the station's.
fn subject_of<'a>(
    input: &ReportInput,
    m: &'a crate::input::TrendMonth,
) -> Option<&'a StationAssessment> {
    if input.lake.is_some() {
        return m.lake.as_ref().and_then(|l| l.combined.as_ref());
    }
    let code = input.station_results.first()?.station.as_deref()?;
    m.lake
        .iter()
        .flat_map(|l| l.stations.iter())
        .chain(&m.others)
        .find(|a| a.station.as_deref() == Some(code))
}

fn monthly_value(a: &StationAssessment, parameter: &str) -> Option<f64> {
    a.indicators
        .iter()
        .chain(&a.reference_indicators)
        .find(|i| i.parameter == parameter)
        .and_then(|i| i.value)
}

fn monthly_tli(a: &StationAssessment) -> Option<f64> {
    match &a.trophic {
        Some(TrophicOutcome::Computed(t)) => Some(t.tli),
        _ => None,
    }
}

fn err<E: std::fmt::Debug>(e: E) -> ReportError {
    ReportError::Chart(format!("{e:?}"))
}

/// One chart: points per month over horizontal bands `[(lower, upper, colour, label)]`.
fn draw(
    labels: &[String],
    values: &[Option<f64>],
    bands: &[(f64, f64, RGBColor, String)],
    y_label: &str,
    y_max: f64,
) -> Result<String, ReportError> {
    let mut svg = String::new();
    {
        let root = SVGBackend::with_string(&mut svg, (W, H)).into_drawing_area();
        root.fill(&WHITE).map_err(err)?;
        let n = labels.len().max(1);
        let mut chart = ChartBuilder::on(&root)
            .margin(12)
            .x_label_area_size(34)
            .y_label_area_size(58)
            .build_cartesian_2d(-0.5f64..(n as f64 - 0.5), 0f64..y_max)
            .map_err(err)?;
        for (lo, hi, colour, label) in bands {
            let (lo, hi) = (lo.min(y_max), hi.min(y_max));
            if hi <= lo {
                continue;
            }
            chart
                .draw_series(std::iter::once(Rectangle::new(
                    [(-0.5, lo), (n as f64 - 0.5, hi)],
                    colour.mix(0.35).filled(),
                )))
                .map_err(err)?;
            chart
                .draw_series(std::iter::once(Text::new(
                    label.clone(),
                    (n as f64 - 0.95, (lo + hi) / 2.0),
                    ("sans-serif", 12).into_font().color(&BLACK.mix(0.6)),
                )))
                .map_err(err)?;
        }
        let labels_owned = labels.to_vec();
        chart
            .configure_mesh()
            .disable_mesh()
            .x_labels(n.min(12))
            .x_label_formatter(&|x| {
                let i = x.round();
                if (x - i).abs() > 0.01 || i < 0.0 {
                    return String::new();
                }
                labels_owned.get(i as usize).cloned().unwrap_or_default()
            })
            .y_desc(y_label)
            .label_style(("sans-serif", 12))
            .draw()
            .map_err(err)?;
        let points: Vec<(f64, f64)> = values
            .iter()
            .enumerate()
            .filter_map(|(i, v)| v.map(|v| (i as f64, v)))
            .collect();
        let blue = RGBColor(0x15, 0x65, 0xC0);
        chart
            .draw_series(LineSeries::new(points.clone(), blue.stroke_width(2)))
            .map_err(err)?;
        chart
            .draw_series(points.iter().map(|p| Circle::new(*p, 4, blue.filled())))
            .map_err(err)?;
        root.present().map_err(err)?;
    }
    Ok(svg)
}

/// The class bands of a ≤ parameter for lakes: Ⅰ … Ⅴ, then worse than Ⅴ up to the top.
fn class_bands(parameter: &str, top: f64) -> Vec<(f64, f64, RGBColor, String)> {
    let palette = wq::Palette::default();
    let Ok(ClassLimits::AtMost(limits)) = class_limits(parameter, WaterType::Lake) else {
        return Vec::new();
    };
    let mut out = Vec::new();
    let mut lower = 0.0;
    for (class, upper) in WaterClass::WITH_LIMITS.iter().zip(limits.iter()) {
        out.push((
            lower,
            *upper,
            hex(palette.class_colour(Some(*class))),
            class.to_string(),
        ));
        lower = *upper;
    }
    out.push((
        lower,
        top,
        hex(palette.class_colour(Some(WaterClass::WorseThanV))),
        "V+".into(),
    ));
    out
}

pub fn trend_charts(input: &ReportInput) -> Result<Vec<Chart>, ReportError> {
    let l = input.lang;
    let labels: Vec<String> = input
        .trend
        .iter()
        .map(|m| m.period.code()[2..].to_string())
        .collect();
    let subjects: Vec<Option<&StationAssessment>> =
        input.trend.iter().map(|m| subject_of(input, m)).collect();
    let mut charts = Vec::new();
    for parameter in ["tp", "nh3_n", "cod_mn"] {
        let values: Vec<Option<f64>> = subjects
            .iter()
            .map(|s| s.and_then(|a| monthly_value(a, parameter)))
            .collect();
        let limits = match class_limits(parameter, WaterType::Lake) {
            Ok(ClassLimits::AtMost(l)) => l.to_vec(),
            _ => continue,
        };
        let data_max = values.iter().flatten().fold(0.0f64, |m, v| m.max(*v));
        // Show up to the class one worse than the worst month, at least up to class Ⅲ.
        let next_limit = limits.iter().copied().find(|lim| *lim > data_max * 1.05);
        let y_max = match next_limit {
            Some(lim) => lim.max(limits[2]) * 1.15,
            None => data_max * 1.2,
        };
        let p = wq::catalogue::by_code(parameter);
        let unit = p.map(|p| p.unit.to_string()).unwrap_or_default();
        let svg = draw(
            &labels,
            &values,
            &class_bands(parameter, y_max),
            &unit,
            y_max,
        )?;
        charts.push(Chart {
            file: format!("chart-{parameter}.svg"),
            caption: match l {
                Lang::Zh => format!(
                    "{}（{}）逐月均值与 GB 3838-2002 湖库类别限值",
                    p.map_or(parameter, |p| p.name_zh),
                    unit
                ),
                Lang::En => format!(
                    "{} ({}) monthly means over the GB 3838-2002 lake class limits",
                    p.map_or(parameter, |p| p.name_en),
                    unit
                ),
            },
            svg,
        });
    }
    let tli: Vec<Option<f64>> = subjects.iter().map(|s| s.and_then(monthly_tli)).collect();
    if tli.iter().any(Option::is_some) {
        let tp = wq::tli::TrophicPalette::default();
        let grades = [
            (0.0, 30.0, wq::TrophicState::from_tli(20.0), "oligo"),
            (30.0, 50.0, wq::TrophicState::from_tli(40.0), "meso"),
            (50.0, 60.0, wq::TrophicState::from_tli(55.0), "light eu"),
            (60.0, 70.0, wq::TrophicState::from_tli(65.0), "middle eu"),
            (70.0, 100.0, wq::TrophicState::from_tli(80.0), "hyper eu"),
        ];
        let bands: Vec<_> = grades
            .iter()
            .map(|(a, b, s, name)| (*a, *b, hex(tp.colour(*s)), name.to_string()))
            .collect();
        let top = tli.iter().flatten().fold(0.0f64, |m, v| m.max(*v));
        let y_max = if top < 55.0 { 70.0 } else { 100.0 };
        let svg = draw(&labels, &tli, &bands, "TLI", y_max)?;
        charts.push(Chart {
            file: "chart-tli.svg".into(),
            caption: l
                .t("综合营养状态指数 TLI(Σ) 逐月变化", "TLI(Σ) month by month")
                .into(),
            svg,
        });
    }
    Ok(charts)
}
