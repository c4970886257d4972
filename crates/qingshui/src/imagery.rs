//! `qingshui imagery ingest FILE… --server URL [--token T]`: send GeoTIFF/COG scenes to a running
//! server (`POST /api/v1/scenes`), with a progress bar for several files; and the demo's
//! synthetic Sentinel-2 scenes (clear, a south-basin bloom, a cloudy one), sent the same way.

use anyhow::{Context, bail};
use clap::{Args, Subcommand};
use imagery::synthetic::{Synthetic, write};
use indicatif::{ProgressBar, ProgressStyle};
use network::Network;
use serde_json::Value;
use std::path::PathBuf;
use std::process::ExitCode;

#[derive(Args)]
pub struct ImageryArgs {
    #[command(subcommand)]
    command: ImageryCommand,
}

#[derive(Subcommand)]
enum ImageryCommand {
    /// Send scenes (GeoTIFF/COG) to a running server for analysis and storage.
    Ingest(IngestArgs),
}

#[derive(Args)]
struct IngestArgs {
    /// GeoTIFF/COG files.
    #[arg(required = true)]
    files: Vec<PathBuf>,
    /// The server, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    server: String,
    /// A write token ([auth] tokens).
    #[arg(long, env = "QINGSHUI_TOKEN")]
    token: Option<String>,
    /// Sensor name stored with each scene.
    #[arg(long)]
    sensor: Option<String>,
    /// Acquisition time (RFC 3339) when the files do not carry ACQUISITION_TIME.
    #[arg(long)]
    time: Option<String>,
    /// Band names in file order when the files' descriptions do not say (B03,B04,…).
    #[arg(long)]
    bands: Option<String>,
}

/// What the uploader adds to a file (query parameters of `POST /api/v1/scenes`).
#[derive(Debug, Clone, Default)]
pub struct Upload {
    pub sensor: Option<String>,
    pub time: Option<String>,
    pub bands: Option<String>,
}

/// Sends one scene; the server's JSON summary, or an error with its status and message.
pub async fn send(
    client: &reqwest::Client,
    server: &str,
    token: Option<&str>,
    bytes: Vec<u8>,
    u: &Upload,
) -> anyhow::Result<Value> {
    let mut url = reqwest::Url::parse(&format!("{}/api/v1/scenes", server.trim_end_matches('/')))
        .with_context(|| format!("--server {server:?} is not a URL"))?;
    for (k, v) in [
        ("sensor", &u.sensor),
        ("time", &u.time),
        ("bands", &u.bands),
    ] {
        if let Some(v) = v {
            url.query_pairs_mut().append_pair(k, v);
        }
    }
    let mut req = client
        .post(url)
        .header("content-type", "image/tiff")
        .body(bytes);
    if let Some(t) = token {
        req = req.bearer_auth(t);
    }
    let resp = req.send().await.context("sending the scene")?;
    let status = resp.status();
    let body: Value = resp.json().await.unwrap_or(Value::Null);
    if !status.is_success() {
        bail!(
            "{status}: {}",
            body["message"].as_str().unwrap_or("no message")
        );
    }
    Ok(body)
}

pub fn run(args: ImageryArgs) -> anyhow::Result<ExitCode> {
    let ImageryCommand::Ingest(a) = args.command;
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        let client = reqwest::Client::new();
        let bar = ProgressBar::new(a.files.len() as u64);
        bar.set_style(
            ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
                .unwrap_or_else(|_| ProgressStyle::default_bar()),
        );
        let upload = Upload {
            sensor: a.sensor.clone(),
            time: a.time.clone(),
            bands: a.bands.clone(),
        };
        let mut failed = 0;
        for f in &a.files {
            bar.set_message(f.display().to_string());
            let result = match std::fs::read(f) {
                Ok(bytes) => send(&client, &a.server, a.token.as_deref(), bytes, &upload).await,
                Err(e) => Err(anyhow::anyhow!("cannot read: {e}")),
            };
            match result {
                Ok(s) => bar.suspend(|| {
                    println!(
                        "{}: scene {} · bloom {:.3} km² · coverage {:.1}% · valid {:.0}%",
                        f.display(),
                        s["id"],
                        s["bloom_area_km2"].as_f64().unwrap_or(0.0),
                        s["coverage"].as_f64().unwrap_or(0.0) * 100.0,
                        s["valid_fraction"].as_f64().unwrap_or(0.0) * 100.0
                    )
                }),
                Err(e) => {
                    failed += 1;
                    // Printed beside the bar, and also when stdout is not a terminal (no bar).
                    bar.suspend(|| eprintln!("{}: {e:#}", f.display()));
                }
            }
            bar.inc(1);
        }
        bar.finish_and_clear();
        Ok(if failed == 0 {
            ExitCode::SUCCESS
        } else {
            ExitCode::from(1)
        })
    })
}

/// The demo's scenes, relative to the demo's start `anchor` (Unix s): clear ten days back, the
/// bloom six days back (inside the simulator's bloom event, 8 to 3 days back) in the south basin,
/// and a cloudy scene two days back. (name, bytes, acquisition time).
pub fn demo_scenes(
    network: &Network,
    anchor: i64,
) -> anyhow::Result<Vec<(&'static str, Vec<u8>, String)>> {
    let extent = [106.355, 26.415, 106.46, 26.61];
    let at = |days: i64| {
        crate::simulate::unix_to_datetime(anchor - days * 86_400 + 3 * 3600 + 20 * 60).to_rfc3339()
    };
    let clear = Synthetic {
        res: 40.0,
        ..Synthetic::sentinel2(extent)
    };
    let bloom = Synthetic {
        scum: vec![
            [106.376, 26.445, 106.398, 26.478],
            [106.39, 26.478, 106.41, 26.50],
        ],
        ..clear.clone()
    };
    let cloudy = Synthetic {
        scum: vec![[106.38, 26.455, 106.392, 26.47]],
        clouds: vec![[106.40, 26.50, 106.46, 26.61]],
        ..clear.clone()
    };
    Ok(vec![
        ("clear", write(network, &clear)?.bytes, at(10)),
        ("bloom", write(network, &bloom)?.bytes, at(6)),
        ("cloudy", write(network, &cloudy)?.bytes, at(2)),
    ])
}
