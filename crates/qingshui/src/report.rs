//! `qingshui report`: a water-quality report (水质月报/季报/年报) as PDF or Excel, from the
//! embedded store (`--data-dir`) or a running server (`--server`). The file is written to a
//! temporary name beside `--out` and renamed only when complete, so a failed run leaves no file.

use anyhow::{Context, Result, bail};
use server::reports::{ReportFailure, ReportRequest};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::ExitCode;

#[derive(Debug, clap::Args)]
pub struct ReportArgs {
    /// Period: a month (2026-11), a quarter (2026-Q4) or a year (2026), in local time.
    #[arg(long)]
    pub period: String,
    /// pdf or xlsx.
    #[arg(long)]
    pub format: String,
    /// Output file.
    #[arg(long)]
    pub out: PathBuf,
    /// zh (default) or en.
    #[arg(long, default_value = "zh")]
    pub lang: String,
    /// network (default), waterbody:lake, basin:ID or station:CODE.
    #[arg(long, default_value = "network")]
    pub scope: String,
    /// The embedded store's data directory (the one `qingshui serve`/`demo` use).
    #[arg(long, conflicts_with = "server")]
    pub data_dir: Option<PathBuf>,
    /// Network file for --data-dir (default: the Hongfeng Lake network of this checkout).
    #[arg(long, default_value = "config/hongfeng.toml")]
    pub network: PathBuf,
    /// Configuration file ([reports] font_paths, [storage]).
    #[arg(long)]
    pub config: Option<PathBuf>,
    /// A running server's URL, e.g. http://127.0.0.1:8080.
    #[arg(long)]
    pub server: Option<String>,
    /// Token for --server (a read role suffices).
    #[arg(long, env = "QINGSHUI_TOKEN")]
    pub token: Option<String>,
}

/// Writes `bytes` to `out` through a temporary file in the same directory.
fn write_atomically(out: &Path, bytes: &[u8]) -> Result<()> {
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let name = out
        .file_name()
        .map(|n| n.to_string_lossy().to_string())
        .unwrap_or_else(|| "report".into());
    let tmp = dir.join(format!(".{name}.part-{}", std::process::id()));
    let result = (|| -> Result<()> {
        let mut f = std::fs::File::create(&tmp)
            .with_context(|| format!("cannot write {}", tmp.display()))?;
        f.write_all(bytes)?;
        f.sync_all()?;
        std::fs::rename(&tmp, out).with_context(|| format!("cannot write {}", out.display()))?;
        Ok(())
    })();
    if result.is_err() {
        let _ = std::fs::remove_file(&tmp);
    }
    result
}

pub fn run(args: ReportArgs) -> Result<ExitCode> {
    let req = ReportRequest::parse(
        &args.period,
        &args.format,
        Some(&args.lang),
        Some(&args.scope),
    )
    .map_err(anyhow::Error::msg)?;
    let rt = tokio::runtime::Runtime::new()?;
    let started = std::time::Instant::now();
    let bytes = match (&args.server, &args.data_dir) {
        (Some(url), _) => rt.block_on(from_server(url, args.token.as_deref(), &args))?,
        (None, Some(dir)) => rt.block_on(from_store(dir, &args, &req))?,
        (None, None) => bail!("give --data-dir DIR (embedded store) or --server URL"),
    };
    write_atomically(&args.out, &bytes)?;
    eprintln!(
        "{} ({} bytes, {:.2} s)",
        args.out.display(),
        bytes.len(),
        started.elapsed().as_secs_f64()
    );
    Ok(ExitCode::SUCCESS)
}

async fn from_store(dir: &Path, args: &ReportArgs, req: &ReportRequest) -> Result<Vec<u8>> {
    if !dir.join("qingshui.db").exists() && !dir.is_dir() {
        bail!(
            "no store in {} (run `qingshui demo` or `qingshui serve` first)",
            dir.display()
        );
    }
    let mut config = server::config::Config::load(args.config.as_deref())?;
    config.storage.data_dir = dir.to_path_buf();
    if !config.database_path().exists() {
        bail!(
            "no store at {} (run `qingshui demo` or `qingshui serve` first)",
            config.database_path().display()
        );
    }
    let store = server::open_store(&config)?;
    let network = crate::simulate::resolve_network_path(&args.network);
    let domain = server::open_domain(&network, &store).await?;
    let bar = indicatif::ProgressBar::new(1);
    bar.set_style(
        indicatif::ProgressStyle::with_template("{bar:30} {pos}/{len} {msg}")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar()),
    );
    let progress = {
        let bar = bar.clone();
        move |done: u64, all: u64, what: &str| {
            bar.set_length(all);
            bar.set_position(done);
            bar.set_message(what.to_string());
        }
    };
    let result = server::reports::make(
        &domain,
        &store,
        req,
        &config.reports,
        store::clock::now_millis(),
        &progress,
    )
    .await;
    bar.finish_and_clear();
    store.close().await;
    result.map_err(|e| match e {
        ReportFailure::PdfNotBuilt => anyhow::anyhow!(
            "PDF reports are not built into this binary: rebuild with `cargo build -p qingshui --features pdf` (Excel works: --format xlsx)"
        ),
        other => anyhow::anyhow!("{other}"),
    })
}

async fn from_server(url: &str, token: Option<&str>, args: &ReportArgs) -> Result<Vec<u8>> {
    let client = reqwest::Client::new();
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_message(format!("{} …", url));
    bar.enable_steady_tick(std::time::Duration::from_millis(200));
    let query = [
        ("period", args.period.as_str()),
        ("format", args.format.as_str()),
        ("lang", args.lang.as_str()),
        ("scope", args.scope.as_str()),
    ]
    .iter()
    .map(|(k, v)| format!("{k}={}", encode(v)))
    .collect::<Vec<_>>()
    .join("&");
    let mut r = client.get(format!(
        "{}/api/v1/reports?{query}",
        url.trim_end_matches('/')
    ));
    if let Some(t) = token {
        r = r.bearer_auth(t);
    }
    let resp = r
        .send()
        .await
        .with_context(|| format!("cannot reach {url}"))?;
    bar.finish_and_clear();
    let status = resp.status();
    let bytes: Vec<u8> = resp.bytes().await?.to_vec();
    if !status.is_success() {
        let message = serde_json::from_slice::<serde_json::Value>(&bytes)
            .ok()
            .and_then(|v| v["message"].as_str().map(str::to_string))
            .unwrap_or_else(|| String::from_utf8_lossy(&bytes).to_string());
        bail!("{url} answered {status}: {message}");
    }
    Ok(bytes)
}

/// Percent-encodes a query value (everything but unreserved characters).
fn encode(v: &str) -> String {
    v.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => {
                (b as char).to_string()
            }
            other => format!("%{other:02X}"),
        })
        .collect()
}
