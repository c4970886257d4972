//! Water-quality reports (水质月报/季报/年报), pure: the [`Report`] model built from the same
//! `wq` assessments the API returns ([`build::build`]), bilingual labels, the Excel writer
//! ([`xlsx::write`]), the Typst source ([`typst_source::source`]) and the SVG charts
//! ([`charts`]). No IO and no clock: the server gathers the inputs and writes the bytes; the
//! PDF compile (typst) is the `report-pdf` crate, behind the server's `pdf` feature.

pub mod build;
pub mod charts;
pub mod input;
pub mod period;
mod sections;
pub mod typst_source;
pub mod xlsx;

pub use build::build;
pub use input::*;
pub use period::{BadPeriod, PeriodKind, ReportPeriod};

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "snake_case")]
pub enum Lang {
    #[default]
    Zh,
    En,
}

impl Lang {
    pub fn parse(text: &str) -> Option<Lang> {
        match text {
            "zh" | "zh-CN" | "cn" => Some(Lang::Zh),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// Picks the text of this language.
    pub fn t<'a>(self, zh: &'a str, en: &'a str) -> &'a str {
        match self {
            Lang::Zh => zh,
            Lang::En => en,
        }
    }
}

/// One cell of a report table: typed, so that Excel gets numbers and the PDF the same digits.
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(tag = "t", content = "v", rename_all = "snake_case")]
pub enum Cell {
    Text(String),
    /// A number with the decimals it is shown with.
    Number {
        value: f64,
        decimals: u8,
    },
    Int(i64),
    Empty,
}

impl Cell {
    pub fn text(s: impl Into<String>) -> Cell {
        Cell::Text(s.into())
    }
    pub fn num(value: f64, decimals: u8) -> Cell {
        Cell::Number { value, decimals }
    }
    pub fn opt(value: Option<f64>, decimals: u8) -> Cell {
        value.map_or(Cell::Empty, |v| Cell::num(v, decimals))
    }
    /// The cell as printed.
    pub fn display(&self) -> String {
        match self {
            Cell::Text(s) => s.clone(),
            Cell::Number { value, decimals } => format!("{value:.*}", *decimals as usize),
            Cell::Int(i) => i.to_string(),
            Cell::Empty => "—".into(),
        }
    }
}

/// A column: its header (unit included where there is one) and a stable key.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Column {
    pub key: String,
    pub header: String,
}

/// A typed table: a sheet of the workbook and a table of the PDF.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Table {
    /// Stable id (sheet names are derived from the title).
    pub id: String,
    pub title: String,
    /// Excel sheet name (≤ 31 characters, no `[]:*?/\`).
    pub sheet: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Vec<Cell>>,
    /// Left out of the PDF (long raw tables live only in the workbook).
    pub workbook_only: bool,
}

/// A chart drawn server-side, as SVG.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Chart {
    /// File name inside the Typst world (`chart-tp.svg`).
    pub file: String,
    pub caption: String,
    #[serde(skip)]
    pub svg: String,
}

/// A section of the bulletin, in the usual order.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Section {
    pub title: String,
    pub paragraphs: Vec<String>,
    pub tables: Vec<Table>,
    pub charts: Vec<Chart>,
}

/// The whole report: what both writers render.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Report {
    pub lang: Lang,
    pub title: String,
    pub subtitle: String,
    pub period: ReportPeriod,
    pub period_label: String,
    pub scope_label: String,
    /// The one-line conclusion (the lake's class line): "红枫湖总体水质为Ⅲ类，水质状况良好。"
    pub headline: String,
    pub sections: Vec<Section>,
}

impl Report {
    pub fn tables(&self) -> impl Iterator<Item = &Table> {
        self.sections.iter().flat_map(|s| s.tables.iter())
    }
    pub fn table(&self, id: &str) -> Option<&Table> {
        self.tables().find(|t| t.id == id)
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    #[error("nothing to report: {0}")]
    Empty(String),
    #[error("excel: {0}")]
    Excel(String),
    #[error("chart: {0}")]
    Chart(String),
}
