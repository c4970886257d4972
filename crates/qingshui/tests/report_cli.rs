//! `qingshui report` end to end on an embedded store: a store with a week of October data gives a
//! workbook (and, with the `pdf` feature, a PDF); a bad period, an empty data directory, an
//! unknown scope and a period without data are clear errors that leave no file behind.

use serde_json::{Value, json};
use server::config::Config;
use std::path::Path;
use std::process::{Command, Output};

const TOKEN: &str = "report-cli-test-token";

fn network() -> String {
    concat!(env!("CARGO_MANIFEST_DIR"), "/../../config/hongfeng.toml").to_string()
}

fn report(data_dir: &Path, out: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_qingshui"))
        .arg("report")
        .arg("--data-dir")
        .arg(data_dir)
        .arg("--network")
        .arg(network())
        .arg("--out")
        .arg(out)
        .args(extra)
        .output()
        .expect("qingshui runs")
}

/// A store holding seven days of hourly TP, NH3-N and CODMn at L01 (October 2026).
async fn fill(dir: &Path) {
    let mut config = Config::default();
    config.http.addr = "127.0.0.1:0".parse().expect("addr");
    config.storage.data_dir = dir.to_path_buf();
    config.auth.tokens = vec![TOKEN.into()];
    config.alerts.enabled = false;
    config.network.file = Some(network().into());
    let store = server::open_store(&config).expect("store");
    let running = server::start(config, store).await.expect("server");
    let base = format!("http://{}", running.http_addr);
    let client = reqwest::Client::new();
    let net: Value = client
        .get(format!("{base}/api/v1/network"))
        .bearer_auth(TOKEN)
        .send()
        .await
        .expect("network")
        .json()
        .await
        .expect("JSON");
    let l01 = net["stations"]
        .as_array()
        .and_then(|s| s.iter().find(|s| s["code"] == "L01"))
        .expect("L01");
    let mut body = Vec::new();
    for (p, level) in [("tp", 0.03), ("nh3_n", 0.4), ("cod_mn", 3.5)] {
        let id = l01["datastreams"]
            .as_array()
            .and_then(|d| {
                d.iter()
                    .find(|d| d["parameter"] == p && d["speaks"] == true)
            })
            .and_then(|d| d["id"].as_i64())
            .expect("datastream");
        let rows: Vec<Value> = (0..168)
            .map(|h: i64| {
                let v = level * (1.0 + ((h % 5) as f64 - 2.0) * 0.02);
                json!([format!("2026-10-{:02}T{:02}:00:00+08:00", 1 + h / 24, h % 24), v, {"flag": "N"}])
            })
            .collect();
        body.push(json!({"Datastream": {"@iot.id": id}, "components": ["phenomenonTime", "result", "resultQuality"], "dataArray": rows}));
    }
    let r = client
        .post(format!("{base}/v1.1/CreateObservations"))
        .bearer_auth(TOKEN)
        .json(&body)
        .send()
        .await
        .expect("post");
    assert_eq!(r.status(), reqwest::StatusCode::CREATED);
    running.stop().await.expect("stop");
}

#[tokio::test(flavor = "multi_thread")]
async fn reports_from_the_embedded_store_and_clear_errors() {
    let dir = tempfile::tempdir().expect("tempdir");
    let data = dir.path().join("data");
    let out_dir = tempfile::tempdir().expect("out");

    // An empty data directory: no store, no file.
    let out = out_dir.path().join("empty.xlsx");
    let o = report(&data, &out, &["--period", "2026-10", "--format", "xlsx"]);
    assert!(!o.status.success());
    assert!(
        String::from_utf8_lossy(&o.stderr).contains("no store"),
        "{o:?}"
    );
    assert!(!out.exists());

    fill(&data).await;

    let xlsx = out_dir.path().join("月报.xlsx");
    let o = report(&data, &xlsx, &["--period", "2026-10", "--format", "xlsx"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let mut wb: calamine::Xlsx<_> = calamine::open_workbook(&xlsx).expect("a workbook");
    use calamine::{DataType, Reader};
    let sheets = wb.sheet_names().to_vec();
    for s in ["报告", "数据获取", "点位类别", "指标评价值", "日均值"] {
        assert!(
            sheets.iter().any(|n| n == s),
            "sheet {s} missing: {sheets:?}"
        );
    }
    let ind = wb.worksheet_range("指标评价值").expect("sheet");
    let tp = ind
        .rows()
        .find(|r| r[0] == "L01" && r[1] == "tp")
        .expect("L01 tp");
    assert_eq!(tp[4].get_float(), Some(0.03));
    // Nothing but the report in the output directory (the temporary file was renamed).
    assert_eq!(std::fs::read_dir(out_dir.path()).expect("dir").count(), 1);

    let pdf = out_dir.path().join("月报.pdf");
    let o = report(
        &data,
        &pdf,
        &[
            "--period",
            "2026-10",
            "--format",
            "pdf",
            "--scope",
            "station:L01",
        ],
    );
    if cfg!(feature = "pdf") {
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
        assert!(std::fs::read(&pdf).expect("pdf").starts_with(b"%PDF"));
    } else {
        assert!(!o.status.success());
        assert!(
            String::from_utf8_lossy(&o.stderr).contains("--features pdf"),
            "{o:?}"
        );
        assert!(!pdf.exists());
    }

    for (args, words) in [
        (vec!["--period", "2026-13", "--format", "xlsx"], "period"),
        (
            vec![
                "--period",
                "2026-10",
                "--format",
                "xlsx",
                "--scope",
                "station:Z9",
            ],
            "Z9",
        ),
        (
            vec!["--period", "2025-01", "--format", "xlsx"],
            "no valid data",
        ),
        (vec!["--period", "2026-10", "--format", "docx"], "format"),
    ] {
        let out = out_dir.path().join("bad.xlsx");
        let o = report(&data, &out, &args);
        assert!(!o.status.success(), "{args:?}");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(err.contains(words), "{args:?}: {err}");
        assert!(!out.exists(), "{args:?} left a file");
    }
}
