//! `qingshui evaluate`: GB 3838-2002 evaluation of a CSV or Excel file with the `wq` crate.
//!
//! A thin shell: read and shape the file (`input`), build the options, call
//! `wq::evaluate_water_body`, render (`output`). Bad input is an error naming file, row and
//! column; the process exits non-zero.

mod input;
mod output;

use anyhow::{Context, Result, bail};
use chrono::{Datelike, NaiveDate};
use output::Lang;
use std::path::PathBuf;
use std::process::ExitCode;
use wq::{EvaluationOptions, Period, StationSeries, WaterClass, WaterType};

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Table,
    Json,
    Csv,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum WaterTypeArg {
    River,
    Lake,
}

#[derive(Debug, clap::Args)]
pub struct EvaluateArgs {
    /// Input file: CSV (UTF-8) or Excel (.xlsx). Long form: station, parameter, time, value
    /// [, flag][, unit]; wide form: station, time and one column per parameter (Chinese or
    /// English name, or HJ 212 code, optionally with a unit such as "总磷(mg/L)").
    pub input: PathBuf,
    /// Water-body type: river (river TP column, TN not classed) or lake (lake TP column, TN and
    /// TLI).
    #[arg(long, value_enum, default_value = "river")]
    pub water_type: WaterTypeArg,
    /// Target (functional) class, e.g. III, Ⅱ or 2.
    #[arg(long)]
    pub target_class: Option<String>,
    /// Judge GB 3838 Table 2 and Table 3 items (drinking-water source).
    #[arg(long)]
    pub drinking_water: bool,
    /// Evaluation period: 2024, 2024-05, 2024-Q2, or 2024-01-01..2024-03-31 (inclusive dates).
    #[arg(long)]
    pub period: Option<String>,
    /// Output language of the table and of names in CSV.
    #[arg(long, value_enum, default_value = "zh")]
    pub lang: Lang,
    /// Output format.
    #[arg(long, value_enum, default_value = "table")]
    pub format: Format,
    /// Worksheet to read from an Excel file (default: the first).
    #[arg(long)]
    pub sheet: Option<String>,
    /// TOML file with evaluation settings (`wq::EvaluationOptions`: [eval], [stats], [rounding],
    /// [tli], [qc], [ui]); command-line options override it.
    #[arg(long)]
    pub settings: Option<PathBuf>,
    /// Decimals of the pH evaluation value (`rounding.ph_eval_decimals`, default 0).
    #[arg(long)]
    pub ph_decimals: Option<u32>,
    /// Count S-flagged (manually set) values as valid (`qc.flag_s_valid`).
    #[arg(long)]
    pub flag_s_valid: bool,
}

/// Parses a period expression in local (Beijing) time.
fn parse_period(text: &str, utc_offset: i64) -> Result<(Period, String)> {
    let bad = || {
        format!("bad --period {text:?} (expected 2024, 2024-05, 2024-Q2 or 2024-01-01..2024-03-31)")
    };
    let date = |s: &str| NaiveDate::parse_from_str(s.trim(), "%Y-%m-%d").with_context(bad);
    let t = text.trim();
    let (start, end) = if let Some((a, b)) = t.split_once("..") {
        let (a, b) = (date(a)?, date(b)?);
        (a, b.succ_opt().with_context(bad)?)
    } else if let Some((y, q)) = t.split_once("-Q").or_else(|| t.split_once("-q")) {
        let y: i32 = y.parse().ok().with_context(bad)?;
        let q: u32 = q
            .parse()
            .ok()
            .filter(|q| (1..=4).contains(q))
            .with_context(bad)?;
        let start = NaiveDate::from_ymd_opt(y, 3 * q - 2, 1).with_context(bad)?;
        let end = if q == 4 {
            NaiveDate::from_ymd_opt(y + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(y, 3 * q + 1, 1)
        };
        (start, end.with_context(bad)?)
    } else if let Ok(start) = NaiveDate::parse_from_str(&format!("{t}-01"), "%Y-%m-%d") {
        let end = if start.month() == 12 {
            NaiveDate::from_ymd_opt(start.year() + 1, 1, 1)
        } else {
            NaiveDate::from_ymd_opt(start.year(), start.month() + 1, 1)
        };
        (start, end.with_context(bad)?)
    } else if let Ok(y) = t.parse::<i32>() {
        (
            NaiveDate::from_ymd_opt(y, 1, 1).with_context(bad)?,
            NaiveDate::from_ymd_opt(y + 1, 1, 1).with_context(bad)?,
        )
    } else {
        bail!(bad());
    };
    if end <= start {
        bail!("bad --period {text:?}: the end is before the start");
    }
    let ts = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .map(|d| d.and_utc().timestamp() - utc_offset)
            .unwrap_or(0)
    };
    let last = end.pred_opt().unwrap_or(end);
    Ok((
        Period {
            start: ts(start),
            end: ts(end),
        },
        format!("{start} — {last}"),
    ))
}

fn build_options(args: &EvaluateArgs) -> Result<(EvaluationOptions, Option<String>)> {
    let mut options = match &args.settings {
        Some(path) => {
            let text = std::fs::read_to_string(path)
                .with_context(|| format!("cannot read settings {}", path.display()))?;
            toml::from_str::<EvaluationOptions>(&text)
                .with_context(|| format!("{}: bad settings", path.display()))?
        }
        None => EvaluationOptions::default(),
    };
    options.water_type = match args.water_type {
        WaterTypeArg::River => WaterType::River,
        WaterTypeArg::Lake => WaterType::Lake,
    };
    if let Some(t) = &args.target_class {
        options.target_class = Some(
            t.parse::<WaterClass>()
                .with_context(|| format!("bad --target-class {t:?}"))?,
        );
    }
    options.drinking_water_source |= args.drinking_water;
    if let Some(dp) = args.ph_decimals {
        options.rounding.ph_eval_decimals = dp;
    }
    options.qc.flag_s_valid |= args.flag_s_valid;
    let mut period_text = None;
    if let Some(p) = &args.period {
        let (period, text) = parse_period(p, options.utc_offset_seconds)?;
        options.period = Some(period);
        period_text = Some(text);
    }
    Ok((options, period_text))
}

pub fn run(args: EvaluateArgs) -> Result<ExitCode> {
    let (options, period_text) = build_options(&args)?;
    let file = args.input.display().to_string();
    let sheet = input::read_sheet(&args.input, args.sheet.as_deref())?;
    let default_station = args
        .input
        .file_stem()
        .and_then(|s| s.to_str())
        .unwrap_or("station")
        .to_string();
    let shaped = input::shape(&file, &sheet, &default_station, options.utc_offset_seconds)?;
    if shaped.stations.is_empty() {
        bail!("{file}: no values to evaluate");
    }
    let stations: Vec<StationSeries> = shaped
        .stations
        .into_iter()
        .map(|(station, series)| StationSeries {
            station,
            series,
            target_class: None,
        })
        .collect();
    let result = wq::evaluate_water_body(&stations, &options).context("evaluation failed")?;
    let report = output::Report {
        file: &file,
        period_text,
        stations: &result.stations,
        water_body: (result.stations.len() > 1).then_some(&result),
    };
    let text = match args.format {
        Format::Table => output::table(&report, args.lang),
        Format::Json => output::json(&report)?,
        Format::Csv => output::csv(&report, args.lang)?,
    };
    print!("{text}");
    Ok(ExitCode::SUCCESS)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn periods() {
        let off = 8 * 3600;
        let (p, text) = parse_period("2024-05", off).unwrap();
        assert_eq!(text, "2024-05-01 — 2024-05-31");
        assert_eq!(p.end - p.start, 31 * 86_400);
        let (p, _) = parse_period("2024-Q4", off).unwrap();
        assert_eq!(p.end - p.start, 92 * 86_400);
        let (p, _) = parse_period("2024", off).unwrap();
        assert_eq!(p.end - p.start, 366 * 86_400);
        let (p, _) = parse_period("2024-01-01..2024-01-31", off).unwrap();
        assert_eq!(p.end - p.start, 31 * 86_400);
        assert!(parse_period("2024-Q5", off).is_err());
        assert!(parse_period("soon", off).is_err());
        assert!(parse_period("2024-02-01..2024-01-01", off).is_err());
    }
}
