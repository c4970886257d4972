//! `qingshui simulate` — simulated stations driving a running server through its public
//! interfaces only: one HJ 212 TCP connection per automatic station, STA HTTP for manual samples
//! and for the bulk history backfill.

use anyhow::{Context, bail};
use sim::send::{
    BulkOptions, Feed, HistoryWindow, LiveOptions, LoggerTiming, ManualSink, SendStats, SimClock,
    StaClient, backfill_history, run_live, scale_network,
};
use sim::{Scenario, Simulator};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Arc;
use std::time::Duration;

/// Which events the generator plays.
#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum ScenarioChoice {
    /// Recurrent events plus the scripted demo events placed around the start (docs/network.md).
    Demo,
    /// Recurrent events only (storms, bloom, overturn, calibration, maintenance).
    Default,
    /// Weather and seasons only.
    Quiet,
}

#[derive(clap::Args, Debug, Clone)]
pub struct SimulateArgs {
    /// The server's HTTP root (SensorThings at <URL>/v1.1).
    #[arg(long, env = "QINGSHUI_URL", default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// The server's HJ 212 listener.
    #[arg(long, default_value = "127.0.0.1:9212", value_name = "ADDR")]
    pub hj212: SocketAddr,
    /// Network file (the server must load the same one).
    #[arg(long, default_value = "config/hongfeng.toml", value_name = "FILE")]
    pub network: PathBuf,
    /// Simulated seconds per real second.
    #[arg(long, default_value_t = 60.0)]
    pub speed: f64,
    /// Seed of the generator: the same seed (and start) sends the same values.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Simulated start instant (RFC 3339); default now.
    #[arg(long, value_name = "TIME")]
    pub start: Option<String>,
    #[arg(long, value_enum, default_value_t = ScenarioChoice::Demo)]
    pub scenario: ScenarioChoice,
    /// Add N synthetic stations cloned from the network's (load tests). The server must know
    /// them: write the network with --write-network and start the server with that file.
    #[arg(long, default_value_t = 0, value_name = "N")]
    pub scale: usize,
    /// Write the (scaled) network to FILE and exit.
    #[arg(long, value_name = "FILE")]
    pub write_network: Option<PathBuf>,
    /// Backfill this much history before the start through bulk CreateObservations (e.g. 30d).
    #[arg(long, value_name = "SPAN", value_parser = parse_span)]
    pub history: Option<i64>,
    /// How much of the history also gets 5-minute real-time data (hourly data cover it all).
    #[arg(long, default_value = "1d", value_name = "SPAN", value_parser = parse_span)]
    pub realtime_history: i64,
    /// Stop after this much simulated time (e.g. 6h); 0 sends only the history.
    #[arg(long, value_name = "SPAN", value_parser = parse_span)]
    pub duration: Option<i64>,
    /// Bearer token for STA writes.
    #[arg(long, env = "QINGSHUI_TOKEN")]
    pub token: Option<String>,
    /// Seconds to wait for a 9014 before resending (HJ 212 default 5).
    #[arg(long, default_value_t = 5.0, value_name = "SECONDS")]
    pub answer_timeout: f64,
}

/// `30d`, `12h`, `90m`, `45s` or plain seconds, as seconds.
pub fn parse_span(text: &str) -> Result<i64, String> {
    let text = text.trim();
    let (number, unit) = match text.find(|c: char| !c.is_ascii_digit()) {
        Some(i) => text.split_at(i),
        None => (text, "s"),
    };
    let n: i64 = number
        .parse()
        .map_err(|_| format!("'{text}' is not a span like 30d, 12h, 90m or 45s"))?;
    let unit_s = match unit {
        "s" => 1,
        "m" => 60,
        "h" => 3600,
        "d" => 86_400,
        _ => return Err(format!("'{text}': the unit must be d, h, m or s")),
    };
    Ok(n * unit_s)
}

/// The network file: as given, else relative to the workspace this binary was built in (so
/// `target/release/qingshui demo` works from any directory of a checkout).
pub fn resolve_network_path(path: &Path) -> PathBuf {
    if path.exists() || path.is_absolute() {
        return path.to_path_buf();
    }
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Ok(exe) = std::env::current_exe() {
        candidates.extend(exe.ancestors().skip(1).map(|dir| dir.join(path)));
    }
    candidates.push(
        Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("../..")
            .join(path),
    );
    candidates
        .into_iter()
        .find(|p| p.exists())
        .unwrap_or_else(|| path.to_path_buf())
}

pub fn load_network(path: &Path) -> anyhow::Result<network::Network> {
    let path = resolve_network_path(path);
    let text = std::fs::read_to_string(&path)
        .with_context(|| format!("cannot read network file {}", path.display()))?;
    Ok(network::parse_network(&text, &path.display().to_string())?)
}

pub fn scenario(choice: ScenarioChoice, anchor: i64) -> Scenario {
    match choice {
        ScenarioChoice::Demo => Scenario::demo(unix_to_datetime(anchor)),
        ScenarioChoice::Default => Scenario::default(),
        ScenarioChoice::Quiet => Scenario::quiet(),
    }
}

pub fn unix_to_datetime(unix: i64) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::from_timestamp(unix, 0).unwrap_or_default()
}

/// Now, rounded down to the 5-minute real-time grid.
pub fn now_on_grid() -> i64 {
    let now = chrono::Utc::now().timestamp();
    now - now.rem_euclid(300)
}

/// Datastream ids by plan key. A server that is still loading a large network gets up to a
/// minute; then this fails with a hint.
pub async fn resolve_datastreams(
    sta: &StaClient,
    feed: &Feed,
) -> anyhow::Result<Arc<HashMap<String, i64>>> {
    let wanted: Vec<String> = feed
        .stations
        .iter()
        .flat_map(|st| {
            st.parameters.iter().map(move |p| {
                let kind = match p.method {
                    network::Method::Manual => network::DataKind::Manual,
                    _ => network::DataKind::Hourly,
                };
                network::datastream_key(&st.code, &p.code, kind)
            })
        })
        .collect();
    let patience = std::time::Instant::now() + Duration::from_secs(60);
    loop {
        let ids = sta
            .datastream_ids()
            .await
            .with_context(|| format!("listing datastreams at {}", sta.sta_url()))?;
        let missing: Vec<&String> = wanted.iter().filter(|k| !ids.contains_key(*k)).collect();
        let Some(first) = missing.first() else {
            return Ok(Arc::new(ids));
        };
        if std::time::Instant::now() >= patience {
            bail!(
                "the server at {} lacks {} datastream(s) of this network (e.g. {first}); start it \
                 with the same network file ([network] file = … or --network)",
                sta.base_url(),
                missing.len()
            );
        }
        tracing::info!(
            missing = missing.len(),
            "waiting for the server to load the network"
        );
        tokio::time::sleep(Duration::from_secs(2)).await;
    }
}

/// A live status line (indicatif spinner) until `stop` turns true.
pub async fn report_progress(
    clock: SimClock,
    stats: Arc<SendStats>,
    mut stop: tokio::sync::watch::Receiver<bool>,
) {
    let spinner = indicatif::ProgressBar::new_spinner();
    let mut tick = tokio::time::interval(Duration::from_millis(500));
    let mut last_log = std::time::Instant::now();
    loop {
        tokio::select! {
            _ = tick.tick() => {}
            _ = stop.wait_for(|s| *s) => break,
        }
        let s = stats.snapshot();
        let line = format!(
            "模拟时间 simulated {} · frames answered {} · resends {} · held offline {} · backfilled {} · STA rows {}",
            unix_to_datetime(clock.now()).format("%Y-%m-%d %H:%M"),
            s.answered,
            s.resends,
            s.held_offline,
            s.backfilled,
            s.sta_rows
        );
        spinner.set_message(line.clone());
        spinner.tick();
        // The spinner is hidden when stderr is not a terminal: log a line now and then instead.
        if spinner.is_hidden() && last_log.elapsed() >= Duration::from_secs(30) {
            tracing::info!("{line}");
            last_log = std::time::Instant::now();
        }
    }
    spinner.finish_and_clear();
}

pub fn run(args: SimulateArgs) -> anyhow::Result<ExitCode> {
    crate::serve::init_logging();
    let base = load_network(&args.network)?;
    let network = if args.scale > 0 {
        scale_network(&base, args.scale)
    } else {
        base
    };
    if let Some(path) = &args.write_network {
        let text = network
            .to_toml()
            .map_err(|e| anyhow::anyhow!("cannot write the network: {e}"))?;
        std::fs::write(path, text).with_context(|| format!("writing {}", path.display()))?;
        println!(
            "wrote {} stations to {}; start the server with `qingshui serve --network {}` (or [network] file), then run simulate with the same --network/--scale",
            network.stations.len(),
            path.display(),
            path.display()
        );
        return Ok(ExitCode::SUCCESS);
    }
    let start = match &args.start {
        Some(text) => chrono::DateTime::parse_from_rfc3339(text)
            .with_context(|| format!("--start {text}: not an RFC 3339 time"))?
            .timestamp(),
        None => now_on_grid(),
    };
    let simulator = Simulator::with_scenario(&network, args.seed, scenario(args.scenario, start));
    let feed = Arc::new(Feed::new(&network, simulator));
    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        let sta = StaClient::new(&args.url, args.token.clone())?;
        let ids = resolve_datastreams(&sta, &feed).await?;
        let stats = Arc::new(SendStats::default());
        if let Some(history) = args.history {
            let window = HistoryWindow {
                from: start - history,
                to: start,
                realtime_from: start - args.realtime_history,
            };
            let done = backfill_history(&feed, &sta, &ids, &window, &BulkOptions::default(), &stats).await?;
            println!(
                "history 历史数据: {} rows in {} requests, {:.1} s ({} rejected)",
                done.rows,
                done.requests,
                done.elapsed.as_secs_f64(),
                done.errors
            );
        }
        if args.duration == Some(0) {
            return Ok(ExitCode::SUCCESS);
        }
        let clock = SimClock::start(start, args.speed);
        let options = LiveOptions {
            hj212_addr: args.hj212,
            clock,
            end: args.duration.map(|d| start + d),
            timing: LoggerTiming {
                answer_timeout: Duration::from_secs_f64(args.answer_timeout.max(0.05)),
                ..LoggerTiming::default()
            },
            max_backlog: 20_000,
        };
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let on_signal = stop_tx.clone();
        tokio::spawn(async move {
            crate::serve::shutdown_signal().await;
            let _ = on_signal.send(true);
        });
        let progress = tokio::spawn(report_progress(clock, stats.clone(), stop_rx.clone()));
        println!(
            "simulating {} automatic stations at {}× from {} → HJ 212 {} · STA {}",
            feed.automatic_stations().count(),
            args.speed,
            unix_to_datetime(start).to_rfc3339(),
            args.hj212,
            sta.sta_url()
        );
        let manual = ManualSink { sta: sta.clone(), ids: ids.clone() };
        let result = run_live(feed.clone(), options, Some(manual), stats.clone(), stop_rx).await;
        let _ = stop_tx.send(true);
        let _ = progress.await;
        result?;
        let s = stats.snapshot();
        println!(
            "done: {} frames answered, {} resends, {} failed, {} held offline and {} backfilled, {} STA rows",
            s.answered, s.resends, s.failed, s.held_offline, s.backfilled, s.sta_rows
        );
        Ok(ExitCode::SUCCESS)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spans() {
        assert_eq!(parse_span("30d"), Ok(30 * 86_400));
        assert_eq!(parse_span("12h"), Ok(43_200));
        assert_eq!(parse_span("90m"), Ok(5400));
        assert_eq!(parse_span("45"), Ok(45));
        assert!(parse_span("3w").is_err());
        assert!(parse_span("d").is_err());
    }
}
