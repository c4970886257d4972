//! Water-quality reports end to end over a fixture month with known values: every number in the
//! Excel workbook equals `/api/v1/assessment`'s for the same scope and period (read back with
//! calamine); the PDF (with the `pdf` feature) holds the lake's class line and the stations'
//! classes in Chinese and renders on every page; bad requests are clear errors.

use calamine::{Data, Reader, Xlsx};
use reqwest::{Client, StatusCode};
use serde_json::{Value, json};
use server::config::Config;
use std::collections::HashMap;
use std::io::Cursor;

const TOKEN: &str = "service-token-for-report-tests";
const FROM: &str = "2026-10-01T00:00:00%2B08:00";
const TO: &str = "2026-11-01T00:00:00%2B08:00";

struct Srv {
    http: String,
    client: Client,
    running: Option<server::Running>,
    _dir: tempfile::TempDir,
}

impl Srv {
    async fn start() -> Srv {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = Config::default();
        config.http.addr = "127.0.0.1:0".parse().expect("addr");
        config.storage.data_dir = dir.path().to_path_buf();
        config.auth.tokens = vec![TOKEN.into()];
        config.alerts.enabled = false;
        config.network.file =
            Some(concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/hongfeng.toml").into());
        let store = server::open_store(&config).expect("store");
        let running = server::start(config, store).await.expect("server starts");
        Srv {
            http: format!("http://{}", running.http_addr),
            client: Client::new(),
            running: Some(running),
            _dir: dir,
        }
    }

    async fn get(&self, path: &str) -> (StatusCode, Option<String>, Vec<u8>) {
        let r = self
            .client
            .get(format!("{}{path}", self.http))
            .bearer_auth(TOKEN)
            .send()
            .await
            .expect("request");
        let s = r.status();
        let ct = r
            .headers()
            .get("content-type")
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        (s, ct, r.bytes().await.expect("body").to_vec())
    }

    async fn json(&self, path: &str) -> Value {
        let (s, _, b) = self.get(path).await;
        assert_eq!(s, StatusCode::OK, "{path}: {}", String::from_utf8_lossy(&b));
        serde_json::from_slice(&b).expect("JSON")
    }
}

/// Ten days of hourly values (1–10 October 2026, Beijing time) wobbling ±4 % around a known
/// level (the wobble averages out exactly over whole 5-hour cycles).
fn rows(level: f64) -> Vec<Value> {
    (0..240)
        .map(|h: i64| {
            let day = 1 + h / 24;
            let v = level * (1.0 + ((h % 5) as f64 - 2.0) * 0.02);
            json!([format!("2026-10-{day:02}T{:02}:00:00+08:00", h % 24), v, { "flag": "N" }])
        })
        .collect()
}

/// (station, parameter, level): L01 is Class Ⅲ by TP, L04 Class Ⅳ by TP (0.060 mg/L, multiple
/// 0.2), the intake W01 Class Ⅱ.
const FIXTURE: &[(&str, &str, f64)] = &[
    ("L01", "tp", 0.030),
    ("L01", "nh3_n", 0.40),
    ("L01", "cod_mn", 3.5),
    ("L01", "ph", 7.8),
    ("L01", "do", 8.2),
    ("L01", "tn", 0.8),
    ("L01", "chl_a", 12.0),
    ("L04", "tp", 0.060),
    ("L04", "nh3_n", 0.80),
    ("L04", "cod_mn", 5.0),
    ("L04", "ph", 8.1),
    ("L04", "do", 7.0),
    ("L04", "tn", 1.1),
    ("L04", "chl_a", 25.0),
    ("W01", "tp", 0.020),
    ("W01", "nh3_n", 0.30),
    ("W01", "cod_mn", 2.5),
    ("W01", "ph", 7.6),
    ("W01", "do", 8.5),
    ("W01", "tn", 0.6),
    ("W01", "chl_a", 6.0),
];

async fn load_fixture(srv: &Srv) {
    let net = srv.json("/api/v1/network").await;
    let mut speaking: HashMap<(String, String), i64> = HashMap::new();
    for s in net["stations"].as_array().expect("stations") {
        for d in s["datastreams"].as_array().expect("datastreams") {
            if d["speaks"] == true {
                speaking.insert(
                    (
                        s["code"].as_str().unwrap_or("").into(),
                        d["parameter"].as_str().unwrap_or("").into(),
                    ),
                    d["id"].as_i64().expect("id"),
                );
            }
        }
    }
    let body: Vec<Value> = FIXTURE
        .iter()
        .map(|(st, p, level)| {
            let id = speaking[&(st.to_string(), p.to_string())];
            json!({ "Datastream": { "@iot.id": id }, "components": ["phenomenonTime", "result", "resultQuality"], "dataArray": rows(*level) })
        })
        .collect();
    let r = srv
        .client
        .post(format!("{}/v1.1/CreateObservations", srv.http))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::CREATED);
}

type Sheet = Vec<Vec<Data>>;

fn sheets(bytes: &[u8]) -> HashMap<String, Sheet> {
    let mut wb: Xlsx<_> = Xlsx::new(Cursor::new(bytes.to_vec())).expect("an xlsx workbook");
    let names = wb.sheet_names().to_vec();
    names
        .into_iter()
        .map(|n| {
            let range = wb.worksheet_range(&n).expect("sheet");
            let rows = range.rows().map(|r| r.to_vec()).collect();
            (n, rows)
        })
        .collect()
}

fn text(d: &Data) -> String {
    match d {
        Data::String(s) => s.clone(),
        Data::Float(f) => f.to_string(),
        Data::Int(i) => i.to_string(),
        _ => String::new(),
    }
}

fn num(d: &Data) -> Option<f64> {
    match d {
        Data::Float(f) => Some(*f),
        Data::Int(i) => Some(*i as f64),
        _ => None,
    }
}

fn col(sheet: &Sheet, header: &str) -> usize {
    sheet[0]
        .iter()
        .position(|h| text(h) == header)
        .unwrap_or_else(|| panic!("no column {header:?} in {:?}", sheet[0]))
}

#[tokio::test]
async fn the_monthly_report_holds_the_assessment_apis_numbers() {
    let mut srv = Srv::start().await;
    load_fixture(&srv).await;

    let (s, ct, xlsx) = srv
        .get("/api/v1/reports?period=2026-10&format=xlsx&scope=network")
        .await;
    assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&xlsx));
    assert!(ct.is_some_and(|c| c.contains("spreadsheetml")));
    let book = sheets(&xlsx);

    // Every indicator value, multiple and count equals the API's station assessment.
    let ind = &book["指标评价值"];
    let (c_st, c_p, c_v, c_m, c_valid, c_total) = (
        col(ind, "点位编码"),
        col(ind, "指标编码"),
        col(ind, "评价值"),
        col(ind, "超标倍数"),
        col(ind, "有效数(个)"),
        col(ind, "总数(个)"),
    );
    let mut compared = 0;
    for station in ["L01", "L04", "W01"] {
        let a = srv
            .json(&format!(
                "/api/v1/assessment?scope=station:{station}&from={FROM}&to={TO}"
            ))
            .await;
        let api: Vec<&Value> = a["indicators"]
            .as_array()
            .expect("indicators")
            .iter()
            .chain(a["reference_indicators"].as_array().expect("reference"))
            .collect();
        for i in api {
            let p = i["parameter"].as_str().expect("parameter");
            let row = ind
                .iter()
                .skip(1)
                .find(|r| text(&r[c_st]) == station && text(&r[c_p]) == p)
                .unwrap_or_else(|| panic!("{station} {p} not in the sheet"));
            assert_eq!(num(&row[c_v]), i["value"].as_f64(), "{station} {p} value");
            assert_eq!(
                num(&row[c_m]),
                i["exceedance_multiple"].as_f64(),
                "{station} {p} multiple"
            );
            assert_eq!(
                num(&row[c_valid]),
                i["counts"]["valid"].as_f64(),
                "{station} {p} valid"
            );
            assert_eq!(
                num(&row[c_total]),
                i["counts"]["total"].as_f64(),
                "{station} {p} total"
            );
            if i["value"].is_number() {
                compared += 1;
            }
        }
        // The station's class line.
        let st = &book["点位类别"];
        let row = st
            .iter()
            .find(|r| text(&r[0]) == station)
            .expect("station row");
        let class = a["class"].as_str().expect("class");
        let zh = match class {
            "I" => "Ⅰ类",
            "II" => "Ⅱ类",
            "III" => "Ⅲ类",
            "IV" => "Ⅳ类",
            "V" => "Ⅴ类",
            _ => "劣Ⅴ类",
        };
        assert_eq!(text(&row[col(st, "水质类别")]), zh, "{station}");
    }
    assert!(compared >= 15, "{compared} values compared");
    // The known values: L04 is Ⅳ by TP with 0.2 over Ⅲ, L01 Ⅲ, the intake Ⅱ.
    let st = &book["点位类别"];
    let class_of = |code: &str| {
        st.iter()
            .find(|r| text(&r[0]) == code)
            .map(|r| text(&r[col(st, "水质类别")]))
    };
    assert_eq!(class_of("L01").as_deref(), Some("Ⅲ类"));
    assert_eq!(class_of("L04").as_deref(), Some("Ⅳ类"));
    assert_eq!(class_of("W01").as_deref(), Some("Ⅱ类"));
    let l04_tp = ind
        .iter()
        .find(|r| text(&r[c_st]) == "L04" && text(&r[c_p]) == "tp")
        .expect("L04 tp");
    assert_eq!(num(&l04_tp[c_v]), Some(0.06));
    assert_eq!(num(&l04_tp[c_m]), Some(0.2));

    // The lake's class and TLI equal the lake assessment's.
    let lake = srv
        .json(&format!(
            "/api/v1/assessment?scope=waterbody:lake&from={FROM}&to={TO}"
        ))
        .await;
    let bodies = &book["湖库与湖区"];
    let lake_row = bodies
        .iter()
        .find(|r| text(&r[0]) == "lake")
        .expect("lake row");
    let lake_class = lake["class"].as_str().expect("lake class");
    assert!(
        text(&lake_row[col(bodies, "水质类别")]).starts_with(match lake_class {
            "III" => "Ⅲ",
            "IV" => "Ⅳ",
            "II" => "Ⅱ",
            other => other,
        }),
        "{lake_class} vs {:?}",
        lake_row
    );
    let tli = &book["TLI"];
    let tli_row = tli.iter().find(|r| text(&r[0]) == "tli").expect("TLI row");
    assert_eq!(
        num(&tli_row[col(tli, "TLI(j)")]),
        lake["combined"]["trophic"]["tli"].as_f64(),
        "TLI"
    );
    // Capture counts are the assessment's; the header carries the unit.
    let cap = &book["数据获取"];
    let row = cap
        .iter()
        .find(|r| text(&r[0]) == "L01" && text(&r[2]) == "tp")
        .expect("capture row");
    assert_eq!(num(&row[col(cap, "实收数据(个)")]), Some(240.0));
    // The station-day means sheet: 10 days of L01 TP at 0.030.
    let days = &book["日均值"];
    let l01_tp: Vec<f64> = days
        .iter()
        .filter(|r| text(&r[0]) == "L01" && text(&r[2]) == "tp")
        .filter_map(|r| num(&r[4]))
        .collect();
    assert_eq!(l01_tp.len(), 10);
    assert!(
        l01_tp.iter().all(|v| (v - 0.030).abs() < 0.002),
        "{l01_tp:?}"
    );

    // PDF: the lake's class line and the stations' classes in Chinese, every page renders.
    let (s, ct, pdf) = srv
        .get("/api/v1/reports?period=2026-10&format=pdf&scope=network")
        .await;
    if cfg!(feature = "pdf") {
        assert_eq!(s, StatusCode::OK, "{}", String::from_utf8_lossy(&pdf));
        assert_eq!(ct.as_deref(), Some("application/pdf"));
        check_pdf(&pdf, lake_class);
        // A station's report and an English one typeset too.
        for q in [
            "scope=station:L04",
            "scope=station:W01&lang=en",
            "scope=basin:south",
        ] {
            let (s, _, b) = srv
                .get(&format!("/api/v1/reports?period=2026-10&format=pdf&{q}"))
                .await;
            assert_eq!(s, StatusCode::OK, "{q}: {}", String::from_utf8_lossy(&b));
            assert!(b.starts_with(b"%PDF"), "{q}");
        }
    } else {
        assert_eq!(s, StatusCode::NOT_IMPLEMENTED);
        let v: Value = serde_json::from_slice(&pdf).expect("JSON error");
        assert_eq!(v["type"], "error");
        assert!(
            v["message"].as_str().is_some_and(|m| m.contains("xlsx")),
            "{v}"
        );
    }

    // An English workbook says the same numbers under English headers.
    let (s, _, en) = srv
        .get("/api/v1/reports?period=2026-10&format=xlsx&scope=station:L04&lang=en")
        .await;
    assert_eq!(s, StatusCode::OK);
    let en = sheets(&en);
    let ind = &en["Indicators"];
    let row = ind
        .iter()
        .find(|r| text(&r[0]) == "L04" && text(&r[1]) == "tp")
        .expect("L04 tp");
    assert_eq!(num(&row[col(ind, "Value")]), Some(0.06));

    // Bad requests: clear JSON errors.
    for (q, status, words) in [
        (
            "period=2026-13&format=xlsx",
            StatusCode::BAD_REQUEST,
            "period",
        ),
        (
            "period=2026-10&format=doc",
            StatusCode::BAD_REQUEST,
            "format",
        ),
        (
            "period=2026-10&format=xlsx&lang=fr",
            StatusCode::BAD_REQUEST,
            "lang",
        ),
        (
            "period=2026-10&format=xlsx&scope=station:X99",
            StatusCode::NOT_FOUND,
            "X99",
        ),
        (
            "period=2026-10&format=xlsx&scope=basin:east",
            StatusCode::NOT_FOUND,
            "east",
        ),
        (
            "period=2026-10&format=xlsx&scope=lake",
            StatusCode::BAD_REQUEST,
            "scope",
        ),
        (
            "period=2025-03&format=xlsx",
            StatusCode::BAD_REQUEST,
            "no valid data",
        ),
        (
            "period=2099-01&format=xlsx",
            StatusCode::BAD_REQUEST,
            "not begun",
        ),
    ] {
        let (s, _, b) = srv.get(&format!("/api/v1/reports?{q}")).await;
        assert_eq!(s, status, "{q}: {}", String::from_utf8_lossy(&b));
        let v: Value = serde_json::from_slice(&b).expect("JSON error");
        assert_eq!(v["type"], "error", "{q}");
        assert!(
            v["message"].as_str().is_some_and(|m| m.contains(words)),
            "{q}: {v}"
        );
    }
    // Reading reports needs the read role like any other read.
    let r = srv
        .client
        .get(format!(
            "{}/api/v1/reports?period=2026-10&format=xlsx",
            srv.http
        ))
        .bearer_auth("not-a-token")
        .send()
        .await
        .expect("request");
    assert_eq!(r.status(), StatusCode::UNAUTHORIZED);

    srv.running
        .take()
        .expect("running")
        .stop()
        .await
        .expect("stop");
}

fn check_pdf(pdf: &[u8], lake_class: &str) {
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("report.pdf");
    std::fs::write(&file, pdf).expect("write");
    if let Ok(keep) = std::env::var("QINGSHUI_KEEP_REPORT") {
        std::fs::copy(&file, keep).expect("keep the PDF");
    }
    let out = std::process::Command::new("pdftotext")
        .arg(&file)
        .arg("-")
        .output()
        .expect("pdftotext (Debian poppler-utils; `make test-deps` installs it)");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    let roman = match lake_class {
        "II" => "Ⅱ",
        "III" => "Ⅲ",
        "IV" => "Ⅳ",
        other => other,
    };
    assert!(
        text.contains(&format!("红枫湖总体水质为{roman}类")),
        "the lake's class line is missing:\n{text}"
    );
    for class in ["Ⅱ类", "Ⅲ类", "Ⅳ类"] {
        assert!(text.contains(class), "{class} missing");
    }
    assert!(
        text.contains("µg/L") || text.contains("μg/L"),
        "µg/L missing"
    );
    assert!(text.contains("2026年10月"), "period in the footer");
    let info = std::process::Command::new("pdfinfo")
        .arg(&file)
        .output()
        .expect("pdfinfo");
    let info = String::from_utf8_lossy(&info.stdout);
    let pages: usize = info
        .lines()
        .find_map(|l| l.strip_prefix("Pages:"))
        .and_then(|n| n.trim().parse().ok())
        .expect("page count");
    assert!(
        info.contains("A4") || info.contains("595.276 x 841.89"),
        "{info}"
    );
    let png = dir.path().join("page");
    let st = std::process::Command::new("pdftoppm")
        .args(["-r", "40", "-png"])
        .arg(&file)
        .arg(&png)
        .status()
        .expect("pdftoppm");
    assert!(st.success());
    let rendered = std::fs::read_dir(dir.path())
        .expect("dir")
        .filter(|e| {
            e.as_ref()
                .is_ok_and(|e| e.file_name().to_string_lossy().ends_with(".png"))
        })
        .count();
    assert_eq!(rendered, pages, "every page renders");
}

async fn start_in(dir: &std::path::Path, schedule: bool) -> (server::Running, String) {
    let mut config = Config::default();
    config.http.addr = "127.0.0.1:0".parse().expect("addr");
    config.storage.data_dir = dir.to_path_buf();
    config.auth.tokens = vec![TOKEN.into()];
    config.alerts.enabled = false;
    config.network.file =
        Some(concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/hongfeng.toml").into());
    if schedule {
        config.reports.schedule_day = 1;
        config.reports.schedule_check_s = 1;
        config.reports.schedule_formats = vec!["xlsx".into()];
    }
    let store = server::open_store(&config).expect("store");
    let running = server::start(config, store).await.expect("server starts");
    let http = format!("http://{}", running.http_addr);
    (running, http)
}

#[tokio::test]
async fn the_schedule_writes_one_report_per_closed_month_across_restarts() {
    use chrono::{Datelike, Months};
    let dir = tempfile::tempdir().expect("tempdir");
    // The last closed month in Beijing time, whenever this runs.
    let now =
        chrono::Utc::now().with_timezone(&chrono::FixedOffset::east_opt(8 * 3600).expect("tz"));
    let last = now
        .with_day(1)
        .and_then(|d| d.checked_sub_months(Months::new(1)))
        .expect("last month");
    let month = format!("{}-{:02}", last.year(), last.month());

    // Data of that month, loaded with the schedule off.
    let (running, http) = start_in(dir.path(), false).await;
    let srv = Srv {
        http,
        client: Client::new(),
        running: Some(running),
        _dir: tempfile::tempdir().expect("unused"),
    };
    let net = srv.json("/api/v1/network").await;
    let id = net["stations"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["code"] == "L01"))
        .and_then(|s| s["datastreams"].as_array())
        .and_then(|d| {
            d.iter()
                .find(|d| d["parameter"] == "tp" && d["speaks"] == true)
        })
        .and_then(|d| d["id"].as_i64())
        .expect("L01 tp");
    let rows: Vec<Value> = (0..72)
        .map(|h: i64| {
            let v = 0.03 * (1.0 + ((h % 5) as f64 - 2.0) * 0.02);
            json!([format!("{month}-{:02}T{:02}:00:00+08:00", 1 + h / 24, h % 24), v, {"flag": "N"}])
        })
        .collect();
    let r = srv
        .client
        .post(format!("{}/v1.1/CreateObservations", srv.http))
        .bearer_auth(TOKEN)
        .json(&json!([{"Datastream": {"@iot.id": id}, "components": ["phenomenonTime", "result", "resultQuality"], "dataArray": rows}]))
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), StatusCode::CREATED);
    let mut srv = srv;
    srv.running
        .take()
        .expect("running")
        .stop()
        .await
        .expect("stop");

    let reports = dir.path().join("reports");
    let file = reports.join(format!("hongfeng-{month}-network.xlsx"));
    let (running, _) = start_in(dir.path(), true).await;
    let mut waited = 0;
    while !file.exists() && waited < 600 {
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
        waited += 1;
    }
    assert!(file.exists(), "{} not written", file.display());
    let first = std::fs::metadata(&file)
        .and_then(|m| m.modified())
        .expect("mtime");
    let book = sheets(&std::fs::read(&file).expect("read"));
    assert!(book.contains_key("指标评价值"));
    running.stop().await.expect("stop");

    // After a restart the schedule finds the file and makes no second one.
    let (running, _) = start_in(dir.path(), true).await;
    tokio::time::sleep(std::time::Duration::from_millis(2500)).await;
    running.stop().await.expect("stop");
    let files: Vec<String> = std::fs::read_dir(&reports)
        .expect("reports dir")
        .filter_map(|e| e.ok().map(|e| e.file_name().to_string_lossy().to_string()))
        .collect();
    assert_eq!(
        files,
        vec![format!("hongfeng-{month}-network.xlsx")],
        "{files:?}"
    );
    let again = std::fs::metadata(&file)
        .and_then(|m| m.modified())
        .expect("mtime");
    assert_eq!(first, again, "the report was not made again");
}

/// Build times of the demo's reports (docs/reports.md, "Figures"): run on a store written by
/// `qingshui demo --data-dir DIR` with
/// `QINGSHUI_REPORT_BENCH_DIR=DIR cargo test -p server --features pdf --test reports -- --ignored --nocapture`.
#[tokio::test(flavor = "multi_thread")]
#[ignore]
async fn report_build_times_on_the_demo_store() {
    let Ok(dir) = std::env::var("QINGSHUI_REPORT_BENCH_DIR") else {
        return;
    };
    let mut config = Config::default();
    config.storage.data_dir = dir.into();
    let store = server::open_store(&config).expect("store");
    let network = concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/hongfeng.toml");
    let domain = server::open_domain(std::path::Path::new(network), &store)
        .await
        .expect("domain");
    let month = std::env::var("QINGSHUI_REPORT_MONTH").unwrap_or_else(|_| "2026-11".into());
    let year = month[..4].to_string();
    for period in [month.as_str(), year.as_str()] {
        for format in ["xlsx", "pdf"] {
            if format == "pdf" && !server::reports::PDF_BUILT {
                continue;
            }
            let req =
                server::reports::ReportRequest::parse(period, format, None, None).expect("req");
            let t0 = std::time::Instant::now();
            let input = server::reports::gather(
                &domain,
                &store,
                &req,
                sta::time::now_micros() / 1000,
                &|_, _, _| {},
            )
            .await
            .expect("gather");
            let gathered = t0.elapsed();
            let bytes =
                server::reports::render(&input, req.format, &config.reports).expect("render");
            let total = t0.elapsed();
            println!(
                "report {period} {format}: gather {:.2} s, render {:.2} s, total {:.2} s, {} bytes",
                gathered.as_secs_f64(),
                (total - gathered).as_secs_f64(),
                total.as_secs_f64(),
                bytes.len()
            );
            if let Ok(out) = std::env::var("QINGSHUI_REPORT_BENCH_OUT") {
                std::fs::write(format!("{out}/demo-{period}.{format}"), &bytes).expect("write");
            }
        }
    }
    store.close().await;
}
