//! Reading evaluation input: CSV or .xlsx, long form (station, parameter, time, value[, flag]
//! [, unit]) or wide form (one column per parameter). Every problem is reported with the file,
//! the row and the column; nothing here panics on bad input.

use anyhow::{Context, Result, bail};
use chrono::{DateTime, NaiveDate, NaiveDateTime};
use std::collections::BTreeMap;
use std::path::Path;
use wq::catalogue::{self, Parameter};
use wq::{DataFlag, Sample, SeriesByParameter, Unit};

/// One cell as read from the file.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell {
    Empty,
    Text(String),
    Number(f64),
    DateTime(NaiveDateTime),
}

impl Cell {
    fn text(&self) -> String {
        match self {
            Cell::Empty => String::new(),
            Cell::Text(s) => s.trim().to_string(),
            Cell::Number(n) => n.to_string(),
            Cell::DateTime(d) => d.to_string(),
        }
    }

    fn is_empty(&self) -> bool {
        match self {
            Cell::Empty => true,
            Cell::Text(s) => s.trim().is_empty(),
            _ => false,
        }
    }
}

/// A sheet: headers and data rows, each with its row number as the user sees it (1-based,
/// header included) and the 0-based index of the first column.
pub struct Sheet {
    pub headers: Vec<String>,
    pub rows: Vec<(usize, Vec<Cell>)>,
    pub first_column: usize,
}

/// Where a value came from, for messages.
struct Locator<'a> {
    file: &'a str,
    sheet: &'a Sheet,
}

impl Locator<'_> {
    fn column_letter(&self, col: usize) -> String {
        let mut n = col + self.sheet.first_column + 1;
        let mut s = String::new();
        while n > 0 {
            let r = (n - 1) % 26;
            s.insert(0, (b'A' + r as u8) as char);
            n = (n - 1) / 26;
        }
        s
    }

    fn at(&self, row: usize, col: usize) -> String {
        let header = self
            .sheet
            .headers
            .get(col)
            .map(String::as_str)
            .unwrap_or("");
        format!(
            "{}: row {row}, column {} ({header:?})",
            self.file,
            self.column_letter(col)
        )
    }
}

/// Reads a CSV or .xlsx file into a sheet.
pub fn read_sheet(path: &Path, sheet_name: Option<&str>) -> Result<Sheet> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    match ext.as_str() {
        "xlsx" | "xlsm" | "xls" | "xlsb" | "ods" => read_workbook(path, sheet_name),
        _ => read_csv(path),
    }
}

fn read_csv(path: &Path) -> Result<Sheet> {
    let bytes = std::fs::read(path).with_context(|| format!("cannot read {}", path.display()))?;
    // Excel writes a UTF-8 byte-order mark in front of "CSV UTF-8" files.
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(&bytes);
    if let Err(e) = std::str::from_utf8(bytes) {
        let line = bytes[..e.valid_up_to()]
            .iter()
            .filter(|&&b| b == b'\n')
            .count()
            + 1;
        bail!(
            "{}: row {line}: the file is not UTF-8 text (GBK?); save it as \"CSV UTF-8\"",
            path.display()
        );
    }
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(false)
        .flexible(true)
        .from_reader(bytes);
    let mut headers = None;
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.with_context(|| format!("{}: malformed CSV", path.display()))?;
        let line = record.position().map(|p| p.line() as usize).unwrap_or(0);
        let cells: Vec<Cell> = record
            .iter()
            .map(|s| {
                if s.trim().is_empty() {
                    Cell::Empty
                } else {
                    Cell::Text(s.to_string())
                }
            })
            .collect();
        if cells.iter().all(Cell::is_empty) {
            continue;
        }
        match headers {
            None => headers = Some(cells.iter().map(Cell::text).collect()),
            Some(_) => rows.push((line, cells)),
        }
    }
    let Some(headers) = headers else {
        bail!("{}: the file is empty", path.display())
    };
    Ok(Sheet {
        headers,
        rows,
        first_column: 0,
    })
}

/// Excel serial date (1900 system) to a date-time.
fn excel_serial(serial: f64) -> Option<NaiveDateTime> {
    let epoch = NaiveDate::from_ymd_opt(1899, 12, 30)?.and_hms_opt(0, 0, 0)?;
    if !(0.0..2_958_466.0).contains(&serial) {
        return None;
    }
    let seconds = (serial * 86_400.0).round() as i64;
    epoch.checked_add_signed(chrono::Duration::seconds(seconds))
}

fn read_workbook(path: &Path, sheet_name: Option<&str>) -> Result<Sheet> {
    use calamine::{Data, Reader};
    let mut workbook = calamine::open_workbook_auto(path)
        .with_context(|| format!("cannot open workbook {}", path.display()))?;
    let names = workbook.sheet_names();
    let name = match sheet_name {
        Some(n) if names.iter().any(|s| s == n) => n.to_string(),
        Some(n) => bail!(
            "{}: no sheet named {n:?} (sheets: {})",
            path.display(),
            names.join(", ")
        ),
        None => names
            .first()
            .cloned()
            .with_context(|| format!("{}: the workbook has no sheets", path.display()))?,
    };
    let range = workbook
        .worksheet_range(&name)
        .with_context(|| format!("{}: cannot read sheet {name:?}", path.display()))?;
    let (row0, col0) = range
        .start()
        .map(|(r, c)| (r as usize, c as usize))
        .unwrap_or((0, 0));
    let mut headers = None;
    let mut rows = Vec::new();
    for (i, row) in range.rows().enumerate() {
        let cells: Vec<Cell> = row
            .iter()
            .map(|d| match d {
                Data::Empty | Data::Error(_) => Cell::Empty,
                Data::String(s) | Data::DateTimeIso(s) | Data::DurationIso(s) => {
                    Cell::Text(s.clone())
                }
                Data::Float(f) => Cell::Number(*f),
                Data::Int(n) => Cell::Number(*n as f64),
                Data::Bool(b) => Cell::Text(b.to_string()),
                Data::DateTime(dt) => excel_serial(dt.as_f64())
                    .map(Cell::DateTime)
                    .unwrap_or(Cell::Number(dt.as_f64())),
            })
            .collect();
        if cells.iter().all(Cell::is_empty) {
            continue;
        }
        let row_number = row0 + i + 1;
        match headers {
            None => headers = Some(cells.iter().map(Cell::text).collect()),
            Some(_) => rows.push((row_number, cells)),
        }
    }
    let Some(headers) = headers else {
        bail!("{}: sheet {name:?} is empty", path.display())
    };
    Ok(Sheet {
        headers,
        rows,
        first_column: col0,
    })
}

/// Input shaped for evaluation: stations in order of first appearance.
pub struct Input {
    pub stations: Vec<(String, SeriesByParameter)>,
}

#[derive(Default)]
struct Columns {
    station: Option<usize>,
    time: Option<usize>,
    parameter: Option<usize>,
    value: Option<usize>,
    flag: Option<usize>,
    unit: Option<usize>,
}

fn header_key(h: &str) -> String {
    h.trim()
        .to_lowercase()
        .chars()
        .filter(|c| !c.is_whitespace() && *c != '_')
        .collect()
}

fn role_of(h: &str) -> Option<&'static str> {
    let k = header_key(h);
    let role = match k.as_str() {
        "station" | "stationname" | "stationid" | "site" | "section" | "point" | "站点"
        | "站点名称" | "测站" | "断面" | "断面名称" | "点位" | "点位名称" | "监测点" | "站名" => {
            "station"
        }
        "time" | "datetime" | "date" | "timestamp" | "时间" | "监测时间" | "采样时间" | "日期"
        | "数据时间" => "time",
        "parameter" | "factor" | "item" | "indicator" | "参数" | "指标" | "项目" | "监测项目"
        | "因子" | "监测指标" => "parameter",
        "value" | "result" | "值" | "数值" | "监测值" | "浓度" | "结果" => "value",
        "flag" | "dataflag" | "标记" | "标识" | "数据标识" | "数据标记" => "flag",
        "unit" | "单位" => "unit",
        "remark" | "remarks" | "note" | "notes" | "comment" | "备注" | "说明" | "序号" | "no"
        | "no." => "ignore",
        _ => return None,
    };
    Some(role)
}

/// A wide-form parameter column, with its flag column if there is one.
struct ParameterColumn {
    col: usize,
    parameter: &'static Parameter,
    /// The unit of the column's values.
    unit: Unit,
    flag_col: Option<usize>,
}

/// Splits "总磷(mg/L)", "TP [mg/L]", "总磷（mg/L）" into name and unit text.
fn split_unit(header: &str) -> (String, Option<String>) {
    let h = header.trim();
    for (open, close) in [('(', ')'), ('（', '）'), ('[', ']')] {
        if h.ends_with(close)
            && let Some(i) = h.rfind(open)
        {
            let inner = &h[i + open.len_utf8()..h.len() - close.len_utf8()];
            return (h[..i].trim().to_string(), Some(inner.trim().to_string()));
        }
    }
    (h.to_string(), None)
}

fn strip_flag_suffix(header: &str) -> Option<&str> {
    let h = header.trim();
    for suffix in [
        "-Flag", "-flag", "_flag", "_Flag", " flag", " Flag", "标记", "标识", "-FLAG",
    ] {
        if let Some(rest) = h.strip_suffix(suffix) {
            return Some(rest.trim());
        }
    }
    None
}

/// Resolves a parameter name with an optional unit; checks the unit against the catalogue.
fn resolve_parameter(
    name: &str,
    unit_text: Option<&str>,
    at: &dyn Fn() -> String,
    at_unit: &dyn Fn() -> String,
) -> Result<(&'static Parameter, Unit)> {
    let resolved = catalogue::resolve(name)
        .or_else(|| {
            // "化学需氧量(COD)": try the parts outside and inside the brackets
            let (outer, inner) = split_unit(name);
            catalogue::resolve(&outer).or_else(|| inner.and_then(|i| catalogue::resolve(&i)))
        })
        .with_context(|| format!("{}: unknown parameter {name:?}", at()))?;
    let p = resolved.parameter;
    let unit = match unit_text.filter(|u| !u.trim().is_empty()) {
        None => resolved.implied_unit,
        Some(text) => Unit::parse(text)
            .with_context(|| format!("{}: unknown unit {text:?} for {}", at_unit(), p.name_en))?,
    };
    if unit.convert(1.0, p.unit).is_err() {
        bail!(
            "{}: unit mismatch: {} is measured in {}, not {}",
            at_unit(),
            p.name_en,
            p.unit,
            unit
        );
    }
    Ok((p, unit))
}

/// Parses a value: a number, or "0.01L" / "<0.01" below the detection limit.
fn parse_value(cell: &Cell) -> Option<(f64, bool)> {
    match cell {
        Cell::Number(n) if n.is_finite() => Some((*n, false)),
        Cell::Text(s) => {
            let t = s.trim();
            let (t, censored) = if let Some(x) = t.strip_suffix(['L', 'l']) {
                (x.trim(), true)
            } else if let Some(x) = t.strip_prefix(['<', '＜']) {
                (x.trim(), true)
            } else {
                (t, false)
            };
            let v: f64 = t.parse().ok()?;
            v.is_finite().then_some((v, censored))
        }
        _ => None,
    }
}

fn parse_time(cell: &Cell) -> Option<NaiveDateTime> {
    match cell {
        Cell::DateTime(d) => Some(*d),
        Cell::Number(n) => excel_serial(*n),
        Cell::Text(s) => {
            let t = s.trim();
            if let Ok(d) = DateTime::parse_from_rfc3339(t) {
                return Some(d.naive_local());
            }
            for f in [
                "%Y-%m-%d %H:%M:%S",
                "%Y-%m-%d %H:%M",
                "%Y-%m-%dT%H:%M:%S",
                "%Y-%m-%dT%H:%M",
                "%Y/%m/%d %H:%M:%S",
                "%Y/%m/%d %H:%M",
                "%Y%m%d%H%M%S",
            ] {
                if let Ok(d) = NaiveDateTime::parse_from_str(t, f) {
                    return Some(d);
                }
            }
            for f in ["%Y-%m-%d", "%Y/%m/%d", "%Y%m%d"] {
                if let Ok(d) = NaiveDate::parse_from_str(t, f) {
                    return d.and_hms_opt(0, 0, 0);
                }
            }
            // Monthly manual data: "2024-03"
            NaiveDate::parse_from_str(&format!("{t}-01"), "%Y-%m-%d")
                .ok()
                .and_then(|d| d.and_hms_opt(0, 0, 0))
        }
        Cell::Empty => None,
    }
}

/// Turns a sheet into per-station series, converting every value to its catalogue unit.
pub fn shape(
    file: &str,
    sheet: &Sheet,
    default_station: &str,
    utc_offset_seconds: i64,
) -> Result<Input> {
    let loc = Locator { file, sheet };
    let mut cols = Columns::default();
    let mut other: Vec<usize> = Vec::new();
    for (i, h) in sheet.headers.iter().enumerate() {
        match role_of(h) {
            Some("station") if cols.station.is_none() => cols.station = Some(i),
            Some("time") if cols.time.is_none() => cols.time = Some(i),
            Some("parameter") if cols.parameter.is_none() => cols.parameter = Some(i),
            Some("value") if cols.value.is_none() => cols.value = Some(i),
            Some("flag") if cols.flag.is_none() => cols.flag = Some(i),
            Some("unit") if cols.unit.is_none() => cols.unit = Some(i),
            Some(_) => {}
            None if h.trim().is_empty() => {}
            None => other.push(i),
        }
    }
    let Some(time_col) = cols.time else {
        bail!("{file}: row 1: no time column (expected a header such as \"time\" or \"监测时间\")");
    };
    let long_form = cols.parameter.is_some() && cols.value.is_some();
    let mut order: Vec<String> = Vec::new();
    let mut stations: BTreeMap<String, SeriesByParameter> = BTreeMap::new();
    let mut push = |station: String, code: &'static str, sample: Sample| {
        if !stations.contains_key(&station) {
            order.push(station.clone());
        }
        stations
            .entry(station)
            .or_default()
            .entry(code.to_string())
            .or_default()
            .push(sample);
    };

    let wide_columns = if long_form {
        if let Some(&c) = other.first() {
            bail!(
                "{}: unexpected column in long form (columns are station, parameter, time, value[, flag][, unit])",
                loc.at(1, c)
            );
        }
        Vec::new()
    } else {
        wide_parameter_columns(&loc, &other)?
    };
    if !long_form && wide_columns.is_empty() {
        bail!(
            "{file}: row 1: no parameter columns found (long form needs \"parameter\" and \"value\" columns)"
        );
    }

    for (row, cells) in &sheet.rows {
        let cell = |c: usize| cells.get(c).cloned().unwrap_or(Cell::Empty);
        let station = match cols.station {
            Some(c) if !cell(c).is_empty() => cell(c).text(),
            Some(c) => bail!("{}: missing station", loc.at(*row, c)),
            None => default_station.to_string(),
        };
        let time_cell = cell(time_col);
        let local = parse_time(&time_cell).with_context(|| {
            format!(
                "{}: bad time {:?} (expected e.g. 2024-05-01 08:00)",
                loc.at(*row, time_col),
                time_cell.text()
            )
        })?;
        let time = local.and_utc().timestamp() - utc_offset_seconds;
        if long_form {
            let (pc, vc) = (cols.parameter.unwrap_or(0), cols.value.unwrap_or(0));
            let value_cell = cell(vc);
            if value_cell.is_empty() {
                continue;
            }
            let unit_text = cols.unit.map(|u| cell(u).text());
            let name = cell(pc).text();
            let at = || loc.at(*row, pc);
            let at_unit = || loc.at(*row, cols.unit.unwrap_or(pc));
            let (parameter, unit) = resolve_parameter(&name, unit_text.as_deref(), &at, &at_unit)?;
            let flag = match cols.flag {
                Some(fc) => parse_flag(&cell(fc), &loc, *row, fc)?,
                None => DataFlag::N,
            };
            let sample = make_sample(&value_cell, parameter, unit, time, flag, &loc, *row, vc)?;
            push(station, parameter.code, sample);
        } else {
            for pcol in &wide_columns {
                let value_cell = cell(pcol.col);
                if value_cell.is_empty() {
                    continue;
                }
                let flag = match pcol.flag_col.or(cols.flag) {
                    Some(fc) => parse_flag(&cell(fc), &loc, *row, fc)?,
                    None => DataFlag::N,
                };
                let sample = make_sample(
                    &value_cell,
                    pcol.parameter,
                    pcol.unit,
                    time,
                    flag,
                    &loc,
                    *row,
                    pcol.col,
                )?;
                push(station.clone(), pcol.parameter.code, sample);
            }
        }
    }
    let stations = order
        .into_iter()
        .filter_map(|name| stations.remove(&name).map(|s| (name, s)))
        .collect();
    Ok(Input { stations })
}

fn wide_parameter_columns(loc: &Locator, other: &[usize]) -> Result<Vec<ParameterColumn>> {
    let mut columns: Vec<ParameterColumn> = Vec::new();
    let mut flags: Vec<(usize, &str)> = Vec::new();
    for &c in other {
        let h = &loc.sheet.headers[c];
        if let Some(base) = strip_flag_suffix(h) {
            flags.push((c, base));
            continue;
        }
        let (name, unit) = split_unit(h);
        let at = || loc.at(1, c);
        let (parameter, unit) = match resolve_parameter(&name, unit.as_deref(), &at, &at) {
            Ok(r) => r,
            // "化学需氧量(COD)" has a bracket that is not a unit.
            Err(_) if unit.as_deref().is_some_and(|u| Unit::parse(u).is_none()) => {
                resolve_parameter(h, None, &at, &at)?
            }
            Err(e) => return Err(e),
        };
        if let Some(dup) = columns.iter().find(|p| p.parameter.code == parameter.code) {
            bail!(
                "{}: {} appears twice (also column {})",
                loc.at(1, c),
                parameter.name_en,
                loc.column_letter(dup.col)
            );
        }
        columns.push(ParameterColumn {
            col: c,
            parameter,
            unit,
            flag_col: None,
        });
    }
    for (c, base) in flags {
        let (name, _) = split_unit(base);
        let target = catalogue::resolve(&name)
            .and_then(|r| {
                columns
                    .iter_mut()
                    .find(|p| p.parameter.code == r.parameter.code)
            })
            .with_context(|| {
                format!(
                    "{}: flag column for an unknown or absent parameter {base:?}",
                    loc.at(1, c)
                )
            })?;
        target.flag_col = Some(c);
    }
    Ok(columns)
}

fn parse_flag(cell: &Cell, loc: &Locator, row: usize, col: usize) -> Result<DataFlag> {
    let t = cell.text();
    DataFlag::parse(&t).with_context(|| {
        format!(
            "{}: bad data flag {t:?} (expected one HJ 212 letter: N, F, M, S, D, C, T, B)",
            loc.at(row, col)
        )
    })
}

#[allow(clippy::too_many_arguments)]
fn make_sample(
    cell: &Cell,
    parameter: &'static Parameter,
    unit: Unit,
    time: i64,
    flag: DataFlag,
    loc: &Locator,
    row: usize,
    col: usize,
) -> Result<Sample> {
    let (v, censored) = parse_value(cell).with_context(|| {
        format!(
            "{}: bad number {:?} for {}",
            loc.at(row, col),
            cell.text(),
            parameter.name_en
        )
    })?;
    let v = unit.convert(v, parameter.unit).with_context(|| {
        format!(
            "{}: unit mismatch for {}",
            loc.at(row, col),
            parameter.name_en
        )
    })?;
    let sample = if censored {
        Sample::below_detection_limit(time, v)
    } else {
        Sample::new(time, v)
    };
    Ok(sample.with_flag(flag))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_and_units() {
        assert_eq!(parse_value(&Cell::Text("0.01L".into())), Some((0.01, true)));
        assert_eq!(parse_value(&Cell::Text("<0.5".into())), Some((0.5, true)));
        assert_eq!(parse_value(&Cell::Text("1.5".into())), Some((1.5, false)));
        assert_eq!(parse_value(&Cell::Text("abc".into())), None);
        assert_eq!(parse_value(&Cell::Text("NaN".into())), None);
        assert_eq!(
            split_unit("总磷(mg/L)"),
            ("总磷".into(), Some("mg/L".into()))
        );
        assert_eq!(split_unit("TP [mg/L]"), ("TP".into(), Some("mg/L".into())));
        assert_eq!(
            split_unit("总磷（mg/L）"),
            ("总磷".into(), Some("mg/L".into()))
        );
        assert_eq!(strip_flag_suffix("w21011-Flag"), Some("w21011"));
    }

    #[test]
    fn times() {
        let t = |s: &str| parse_time(&Cell::Text(s.into())).map(|d| d.to_string());
        assert_eq!(
            t("2024-05-01 08:00").as_deref(),
            Some("2024-05-01 08:00:00")
        );
        assert_eq!(t("2024/5/1 8:00").as_deref(), Some("2024-05-01 08:00:00"));
        assert_eq!(t("20240501080000").as_deref(), Some("2024-05-01 08:00:00"));
        assert_eq!(t("2024-05").as_deref(), Some("2024-05-01 00:00:00"));
        assert_eq!(t("yesterday"), None);
        assert_eq!(
            excel_serial(45413.5).map(|d| d.to_string()).as_deref(),
            Some("2024-05-01 12:00:00")
        );
    }
}
