//! The Typst source of the PDF: A4, the CJK font first in the font list, the period and page
//! numbers in the footer, every text passed as a Typst string literal (so no report text can
//! be read as markup), the charts as SVG files beside the source.

use crate::{Cell, Report, Table};

/// Font families asked for, in order: Debian's Noto Sans CJK (fonts-noto-cjk) and WenQuanYi
/// Micro Hei (fonts-wqy-microhei) carry 红枫湖, Ⅲ, µ and ≤.
pub const FONT_FAMILIES: [&str; 4] = [
    "Noto Sans CJK SC",
    "WenQuanYi Micro Hei",
    "Noto Sans",
    "DejaVu Sans",
];

/// A Typst string literal.
fn lit(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for ch in s.chars() {
        match ch {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

fn cell(c: &Cell) -> String {
    match c {
        Cell::Number { .. } | Cell::Int(_) => format!("align(right, {})", lit(&c.display())),
        _ => lit(&c.display()),
    }
}

fn table(t: &Table, out: &mut String) {
    let n = t.columns.len().max(1);
    let small = t.rows.len() > 30 || n > 8;
    out.push_str(&format!(
        "#block(breakable: true)[\n#text(weight: \"bold\", {})\n#v(-0.4em)\n",
        lit(&t.title)
    ));
    out.push_str(&format!(
        "#set text(size: {})\n#table(columns: {n}, stroke: 0.4pt + luma(160), inset: 3.5pt, fill: (x, y) => if y == 0 {{ rgb(\"#DDEBF7\") }},\n  table.header({}),\n",
        if small { "7pt" } else { "8.5pt" },
        t.columns.iter().map(|c| format!("text(weight: \"bold\", {})", lit(&c.header))).collect::<Vec<_>>().join(", ")
    ));
    if t.rows.is_empty() {
        out.push_str(&format!(
            "  table.cell(colspan: {n}, {}),\n",
            lit(if t.title.is_ascii() {
                "(none)"
            } else {
                "（无）"
            })
        ));
    }
    for row in &t.rows {
        out.push_str("  ");
        for i in 0..n {
            out.push_str(&row.get(i).map_or_else(|| "[]".to_string(), cell));
            out.push_str(", ");
        }
        out.push('\n');
    }
    out.push_str(")\n]\n\n");
}

/// The Typst source; the charts are read as the files named in each [`crate::Chart`].
pub fn source(report: &Report) -> String {
    let mut out = String::new();
    let fonts = FONT_FAMILIES
        .iter()
        .map(|f| lit(f))
        .collect::<Vec<_>>()
        .join(", ");
    let lang = match report.lang {
        crate::Lang::Zh => "zh",
        crate::Lang::En => "en",
    };
    out.push_str(&format!(
        "#set document(title: {title})\n\
         #set page(paper: \"a4\", margin: (x: 1.7cm, top: 1.8cm, bottom: 2cm),\n\
           header: context {{ if counter(page).get().first() > 1 {{ set text(size: 8pt, fill: luma(90)); {title}; h(1fr); {period} }} }},\n\
           footer: context {{ set text(size: 8pt, fill: luma(90)); {period}; h(1fr); counter(page).display(\"1 / 1\", both: true) }})\n\
         #set text(font: ({fonts}), size: 10pt, lang: \"{lang}\", cjk-latin-spacing: none)\n\
         #set par(justify: false, leading: 0.7em)\n\
         #set heading(numbering: none)\n\
         #show heading: set text(size: 12pt)\n\n",
        title = lit(&report.title),
        period = lit(&report.period_label),
    ));
    out.push_str(&format!(
        "#align(center)[\n#v(1em)\n#text(size: 20pt, weight: \"bold\", {})\n\n#text(size: 12pt, {})\n]\n#v(0.8em)\n#block(fill: rgb(\"#F2F7FB\"), inset: 8pt, width: 100%, text(size: 11pt, weight: \"bold\", {}))\n\n",
        lit(&report.title),
        lit(&report.subtitle),
        lit(&report.headline)
    ));
    for s in &report.sections {
        let tables: Vec<&Table> = s.tables.iter().filter(|t| !t.workbook_only).collect();
        if tables.is_empty() && s.paragraphs.is_empty() && s.charts.is_empty() {
            continue;
        }
        out.push_str(&format!("#heading(level: 1, {})\n\n", lit(&s.title)));
        for p in &s.paragraphs {
            out.push_str(&format!("#par({})\n\n", lit(p)));
        }
        for t in tables {
            table(t, &mut out);
        }
        for c in &s.charts {
            out.push_str(&format!(
                "#figure(image({}, width: 100%), caption: {})\n\n",
                lit(&c.file),
                lit(&c.caption)
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_escape_quotes_and_markup() {
        assert_eq!(lit("a\"b\\c #x *y*"), "\"a\\\"b\\\\c #x *y*\"");
    }
}
