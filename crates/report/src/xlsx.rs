//! The Excel workbook: a cover sheet, then one sheet per report table (numbers typed as numbers
//! with the decimals they are shown with, units in the headers, the header row frozen), the
//! station-day means included.

use crate::{Cell, Report, ReportError, Table};
use rust_xlsxwriter::{Format, FormatAlign, Workbook, Worksheet};

fn xerr(e: rust_xlsxwriter::XlsxError) -> ReportError {
    ReportError::Excel(e.to_string())
}

/// Sheet names must be unique, ≤ 31 characters and free of `[]:*?/\`.
fn sheet_name(t: &Table, used: &mut Vec<String>) -> String {
    let clean: String = t
        .sheet
        .chars()
        .filter(|c| !"[]:*?/\\".contains(*c))
        .take(28)
        .collect();
    let mut name = if clean.is_empty() {
        t.id.clone()
    } else {
        clean
    };
    let mut n = 2;
    while used.contains(&name) {
        name = format!("{}{}", name.chars().take(26).collect::<String>(), n);
        n += 1;
    }
    used.push(name.clone());
    name
}

fn number_format(decimals: u8) -> Format {
    let pattern = if decimals == 0 {
        "0".to_string()
    } else {
        format!("0.{}", "0".repeat(decimals as usize))
    };
    Format::new().set_num_format(pattern)
}

fn write_table(ws: &mut Worksheet, t: &Table, header: &Format) -> Result<(), ReportError> {
    for (c, col) in t.columns.iter().enumerate() {
        ws.write_string_with_format(0, c as u16, &col.header, header)
            .map_err(xerr)?;
        let width = col
            .header
            .chars()
            .map(|ch| if ch.is_ascii() { 1.0 } else { 2.0 })
            .sum::<f64>();
        ws.set_column_width(c as u16, width.clamp(8.0, 40.0) + 2.0)
            .map_err(xerr)?;
    }
    for (r, row) in t.rows.iter().enumerate() {
        let r = r as u32 + 1;
        for (c, cell) in row.iter().enumerate() {
            let c = c as u16;
            match cell {
                Cell::Text(s) => {
                    ws.write_string(r, c, s).map_err(xerr)?;
                }
                Cell::Number { value, decimals } => {
                    ws.write_number_with_format(r, c, *value, &number_format(*decimals))
                        .map_err(xerr)?;
                }
                Cell::Int(i) => {
                    ws.write_number(r, c, *i as f64).map_err(xerr)?;
                }
                Cell::Empty => {}
            }
        }
    }
    ws.set_freeze_panes(1, 0).map_err(xerr)?;
    Ok(())
}

/// The workbook's bytes.
pub fn write(report: &Report) -> Result<Vec<u8>, ReportError> {
    let mut wb = Workbook::new();
    let header = Format::new()
        .set_bold()
        .set_background_color("#DDEBF7")
        .set_align(FormatAlign::Center)
        .set_text_wrap();
    let mut used = Vec::new();
    let cover_name = report.lang.t("报告", "Report").to_string();
    used.push(cover_name.clone());
    {
        let ws = wb.add_worksheet();
        ws.set_name(&cover_name).map_err(xerr)?;
        ws.set_column_width(0, 100.0).map_err(xerr)?;
        let bold = Format::new().set_bold().set_font_size(14);
        ws.write_string_with_format(0, 0, &report.title, &bold)
            .map_err(xerr)?;
        ws.write_string(1, 0, &report.subtitle).map_err(xerr)?;
        ws.write_string(2, 0, &report.headline).map_err(xerr)?;
        let mut r = 4;
        for s in &report.sections {
            ws.write_string_with_format(r, 0, &s.title, &Format::new().set_bold())
                .map_err(xerr)?;
            r += 1;
            for p in &s.paragraphs {
                ws.write_string(r, 0, p).map_err(xerr)?;
                r += 1;
            }
        }
    }
    for t in report.tables() {
        let name = sheet_name(t, &mut used);
        let ws = wb.add_worksheet();
        ws.set_name(&name).map_err(xerr)?;
        write_table(ws, t, &header)?;
    }
    wb.save_to_buffer().map_err(xerr)
}
