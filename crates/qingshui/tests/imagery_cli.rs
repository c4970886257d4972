//! `qingshui imagery ingest` against the real `qingshui serve` (a child process with the
//! Hongfeng network): a good scene is stored, a bad one is named with its reason, the exit code
//! says that one failed.

mod served;

use imagery::synthetic::{Synthetic, write};
use served::{free_port, sigterm, spawn_server, wait_ready};
use std::process::Command;

#[tokio::test]
async fn ingest_sends_files_and_names_the_bad_one() {
    let dir = tempfile::tempdir().expect("tempdir");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let config = dir.path().join("qingshui.toml");
    let network = root.join("config/hongfeng.toml");
    std::fs::write(
        &config,
        format!("[network]\nfile = {:?}\n", network.display().to_string()),
    )
    .unwrap();
    let port = free_port();
    let mut child = spawn_server(&dir.path().join("data"), Some(&config), port);
    let base = format!("http://127.0.0.1:{port}");
    let client = reqwest::Client::new();
    wait_ready(&client, &base).await;

    let net =
        network::parse_network(&std::fs::read_to_string(&network).unwrap(), "hongfeng").unwrap();
    let s = Synthetic {
        res: 60.0,
        scum: vec![[106.386, 26.462, 106.398, 26.474]],
        ..Synthetic::sentinel2([106.355, 26.415, 106.46, 26.61])
    };
    let good = dir.path().join("good.tif");
    std::fs::write(&good, write(&net, &s).unwrap().bytes).unwrap();
    let bad = dir.path().join("bad.tif");
    std::fs::write(&bad, b"not a tiff").unwrap();

    let out = Command::new(env!("CARGO_BIN_EXE_qingshui"))
        .args(["imagery", "ingest"])
        .arg(&good)
        .arg(&bad)
        .args([
            "--server",
            &base,
            "--sensor",
            "sentinel-2b",
            "--time",
            "2026-07-01T03:00:00Z",
        ])
        .output()
        .expect("run the CLI");
    let text = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(out.status.code(), Some(1), "{text}");
    assert!(text.contains("good.tif: scene 1"), "{text}");
    assert!(
        text.contains("bad.tif") && text.contains("not_tiff"),
        "{text}"
    );

    let list: serde_json::Value = client
        .get(format!("{base}/api/v1/scenes"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let scenes = list["value"].as_array().unwrap();
    assert_eq!(scenes.len(), 1);
    assert_eq!(scenes[0]["sensor"], "sentinel-2b");
    assert!(scenes[0]["bloom_area_km2"].as_f64().unwrap() > 0.0);
    assert!(sigterm(&child));
    let _ = child.wait();
}
