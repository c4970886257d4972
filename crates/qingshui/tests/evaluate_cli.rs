//! `qingshui evaluate` end to end: sample CSV files in `tests/data/`, Excel files generated here,
//! Chinese and English headers, long and wide form, and bad files whose messages must name the
//! file, the row and the column.

use serde_json::Value;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

fn run(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qingshui"))
        .arg("evaluate")
        .args(args)
        .output()
        .expect("run qingshui")
}

fn ok(args: &[&str]) -> String {
    let out = run(args);
    assert!(
        out.status.success(),
        "{args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).expect("utf-8 output")
}

fn json(args: &[&str]) -> Value {
    let mut a = args.to_vec();
    a.extend(["--format", "json"]);
    serde_json::from_str(&ok(&a)).expect("valid JSON")
}

/// Runs a command that must fail; returns stderr.
fn fails(args: &[&str]) -> String {
    let out = run(args);
    assert!(!out.status.success(), "{args:?} should fail");
    assert!(out.stdout.is_empty(), "no partial output on failure");
    let err = String::from_utf8_lossy(&out.stderr).to_string();
    assert!(!err.contains("panicked"), "{err}");
    err
}

fn indicator<'a>(station: &'a Value, code: &str) -> &'a Value {
    station["indicators"]
        .as_array()
        .and_then(|a| a.iter().find(|i| i["parameter"] == code))
        .unwrap_or_else(|| panic!("{code} missing in {station}"))
}

#[test]
fn long_form_csv_english_headers() {
    let path = data("river_long_en.csv");
    let v = json(&[path.to_str().unwrap(), "--target-class", "III"]);
    let s1 = &v["stations"][0];
    assert_eq!(s1["station"], "S1");
    assert_eq!(s1["class"], "III");
    assert_eq!(s1["target"]["meets_target"], true);
    // the D-flagged TP value is counted but not used
    let tp = indicator(s1, "tp");
    assert_eq!(tp["value"], 0.12);
    assert_eq!(tp["counts"]["valid"], 1);
    assert_eq!(tp["counts"]["invalid_by_flag"], 1);
    // Hg "0.01L" in µg/L → DL 0.00001 mg/L, shown with L
    assert_eq!(indicator(s1, "hg")["display"], "0.00001L");
    let s2 = &v["stations"][1];
    assert_eq!(s2["class"], "V");
    assert_eq!(s2["main_pollutants"][0]["display_zh"], "氨氮(0.7)");
    // two sections → mean of sections
    assert_eq!(v["water_body"]["method"], "mean_of_sections");
    assert_eq!(v["water_body"]["class"], "IV");
    assert!(v["water_body"].get("stations").is_none());
}

#[test]
fn period_limits_the_values() {
    let path = data("river_long_en.csv");
    let v = json(&[path.to_str().unwrap(), "--period", "2024-05"]);
    let tp = indicator(&v["stations"][1], "tp");
    assert_eq!(tp["value"], 0.45);
    assert_eq!(tp["class"], "WorseThanV");
    assert_eq!(tp["exceedance_multiple"], 1.25);
    assert_eq!(v["period"], "2024-05-01 — 2024-05-31");
}

#[test]
fn table_output_in_chinese_and_english() {
    let path = data("river_long_en.csv");
    let zh = ok(&[path.to_str().unwrap(), "--target-class", "III"]);
    assert!(zh.contains("站点: S2"), "{zh}");
    assert!(zh.contains("符合Ⅴ类"), "{zh}");
    assert!(
        zh.contains("主要污染指标: 氨氮(0.7)、高锰酸盐指数(0.33)、总磷(0.25)"),
        "{zh}"
    );
    assert!(zh.contains("未达标"), "{zh}");
    let en = ok(&[
        path.to_str().unwrap(),
        "--target-class",
        "III",
        "--lang",
        "en",
    ]);
    assert!(en.contains("Station: S2"), "{en}");
    assert!(
        en.contains("Main pollutants: ammonia nitrogen (0.7)"),
        "{en}"
    );
    assert!(en.contains("not met"), "{en}");
}

#[test]
fn wide_form_csv_chinese_headers_lake() {
    let path = data("lake_wide_zh.csv");
    let v = json(&[path.to_str().unwrap(), "--water-type", "lake"]);
    let s = &v["stations"][0];
    assert_eq!(s["station"], "湖心");
    assert_eq!(s["class"], "III");
    assert_eq!(s["limiting_parameters"][0], "tp");
    // Hg given in µg/L in the header: 0.05 µg/L = 0.00005 mg/L → Ⅰ
    assert_eq!(indicator(s, "hg")["class"], "I");
    // TN on its own line, TLI computed from the lake means (reference vector row 1)
    assert_eq!(s["reference_indicators"][0]["parameter"], "tn");
    assert_eq!(s["trophic"]["status"], "computed");
    assert_eq!(s["trophic"]["tli"], 46.58);
    assert!(v["water_body"].is_null());
}

#[test]
fn wide_form_hj212_codes_and_flag_columns() {
    let path = data("wide_hj212.csv");
    let v = json(&[path.to_str().unwrap()]);
    let s = &v["stations"][0];
    // w20111 defaults to µg/L: 0.08 µg/L = 0.00008 mg/L → Ⅲ
    assert_eq!(indicator(s, "hg")["value"], 0.00008);
    assert_eq!(indicator(s, "hg")["class"], "III");
    // w21011-Flag D excludes the 0.50
    assert_eq!(indicator(s, "tp")["value"], 0.02);
    assert_eq!(s["class"], "III");
    let csv = ok(&[path.to_str().unwrap(), "--format", "csv", "--lang", "en"]);
    let mut lines = csv.lines();
    assert!(
        lines
            .next()
            .unwrap()
            .starts_with("station,role,parameter,name")
    );
    assert!(
        csv.contains("A1,routine,tp,total phosphorus,mg/L,0.02,0.020,Class I"),
        "{csv}"
    );
}

#[test]
fn bad_files_name_file_row_and_column() {
    for (file, needles) in [
        (
            "bad_number.csv",
            &["bad_number.csv", "row 3", "column D", "bad number \"abc\""][..],
        ),
        (
            "unknown_parameter.csv",
            &[
                "unknown_parameter.csv",
                "row 3",
                "column B",
                "unknown parameter \"Unobtainium\"",
            ],
        ),
        (
            "unit_mismatch.csv",
            &["unit_mismatch.csv", "row 1", "column C", "unit mismatch"],
        ),
        (
            "unknown_column.csv",
            &[
                "unknown_column.csv",
                "row 1",
                "column D",
                "unknown parameter \"神秘指标\"",
            ],
        ),
        (
            "bad_time.csv",
            &["bad_time.csv", "row 3", "column B", "bad time"],
        ),
        (
            "bad_flag.csv",
            &["bad_flag.csv", "row 3", "column D", "bad data flag"],
        ),
    ] {
        let err = fails(&[data(file).to_str().unwrap()]);
        for n in needles {
            assert!(err.contains(n), "{file}: {n:?} not in {err}");
        }
    }
}

#[test]
fn bad_arguments_and_missing_files() {
    let path = data("river_long_en.csv");
    assert!(
        fails(&[path.to_str().unwrap(), "--target-class", "VII"]).contains("bad --target-class")
    );
    assert!(fails(&[path.to_str().unwrap(), "--period", "2024-Q5"]).contains("bad --period"));
    assert!(fails(&["/nonexistent/file.csv"]).contains("/nonexistent/file.csv"));
}

fn xlsx_path(name: &str) -> PathBuf {
    Path::new(env!("CARGO_TARGET_TMPDIR")).join(name)
}

/// Writes a sheet of text cells; cells that parse as numbers are written as numbers, and the
/// `date_col` column as Excel date-times.
fn write_xlsx(path: &Path, sheet: &str, rows: &[&[&str]], date_col: Option<u16>) {
    use rust_xlsxwriter::{Format, Workbook};
    let mut wb = Workbook::new();
    let ws = wb.add_worksheet();
    ws.set_name(sheet).unwrap();
    let date = Format::new().set_num_format("yyyy-mm-dd hh:mm");
    for (r, row) in rows.iter().enumerate() {
        for (c, text) in row.iter().enumerate() {
            let (r, c) = (r as u32, c as u16);
            if r > 0 && Some(c) == date_col {
                let dt = rust_xlsxwriter::ExcelDateTime::parse_from_str(text).unwrap();
                ws.write_datetime_with_format(r, c, &dt, &date).unwrap();
            } else if let (true, Ok(n)) = (r > 0, text.parse::<f64>()) {
                ws.write_number(r, c, n).unwrap();
            } else {
                ws.write_string(r, c, *text).unwrap();
            }
        }
    }
    wb.save(path).unwrap();
}

#[test]
fn xlsx_wide_chinese_and_long_english() {
    let wide = xlsx_path("wide_zh.xlsx");
    write_xlsx(
        &wide,
        "数据",
        &[
            &[
                "断面",
                "监测时间",
                "pH",
                "溶解氧",
                "高锰酸盐指数",
                "氨氮",
                "总磷",
                "总氮",
            ],
            &[
                "入湖口",
                "2024-05-01 08:00:00",
                "7.4",
                "5.5",
                "5.0",
                "1.2",
                "0.15",
                "2.5",
            ],
            &[
                "入湖口",
                "2024-05-02 08:00:00",
                "7.6",
                "5.7",
                "5.2",
                "1.4",
                "0.17",
                "2.7",
            ],
        ],
        Some(1),
    );
    let v = json(&[wide.to_str().unwrap(), "--target-class", "III"]);
    let s = &v["stations"][0];
    assert_eq!(s["station"], "入湖口");
    // NH3-N 1.30 → Ⅳ; TN is not classed in a river
    assert_eq!(s["class"], "IV");
    assert_eq!(indicator(s, "nh3_n")["counts"]["days_with_data"], 2);
    assert_eq!(s["target"]["meets_target"], false);
    assert_eq!(s["other_parameters"][0]["parameter"], "tn");
    assert!(s["other_parameters"][0]["class"].is_null());

    let long = xlsx_path("long_en.xlsx");
    write_xlsx(
        &long,
        "Sheet1",
        &[
            &["Station", "Parameter", "Time", "Value", "Unit"],
            &["P1", "total phosphorus", "2024-05-01 08:00", "0.03", "mg/L"],
            &["P1", "w21003", "2024-05-01 08:00", "0.4", "mg/L"],
            &["P1", "pH", "2024-05-01 08:00", "8.2", ""],
        ],
        None,
    );
    let v = json(&[
        long.to_str().unwrap(),
        "--water-type",
        "lake",
        "--sheet",
        "Sheet1",
    ]);
    let s = &v["stations"][0];
    // lake TP 0.030 → Ⅲ
    assert_eq!(indicator(s, "tp")["class"], "III");
    assert_eq!(s["class"], "III");
    assert!(
        fails(&[long.to_str().unwrap(), "--sheet", "nope"]).contains("no sheet named \"nope\"")
    );
}

#[test]
fn xlsx_bad_cell_names_row_and_column() {
    let bad = xlsx_path("bad.xlsx");
    write_xlsx(
        &bad,
        "Sheet1",
        &[
            &["站点", "时间", "总磷"],
            &["S1", "2024-05-01 08:00", "0.05"],
            &["S1", "2024-05-01 12:00", "n/a"],
        ],
        None,
    );
    let err = fails(&[bad.to_str().unwrap()]);
    for n in ["bad.xlsx", "row 3", "column C", "bad number \"n/a\""] {
        assert!(err.contains(n), "{n:?} not in {err}");
    }
}
