//! `qingshui demo` — the whole platform in one process: the server on the embedded store with
//! the Hongfeng Lake network loaded, 30 days of history backfilled when the store is empty, and
//! the live simulated stations. The simulator still talks to the server only through its public
//! interfaces (HJ 212 TCP and STA HTTP on loopback), exactly as `qingshui simulate` does.

use crate::simulate::{
    ScenarioChoice, load_network, now_on_grid, parse_span, report_progress, resolve_datastreams,
    resolve_network_path, unix_to_datetime,
};
use anyhow::Context;
use server::config::{Config, Overrides};
use sim::send::{
    BulkOptions, Feed, HistoryWindow, LiveOptions, LoggerTiming, ManualSink, SendStats, SimClock,
    StaClient, backfill_history, run_live,
};
use sim::{EventKind, Scenario, ScriptedEvent, Simulator};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(clap::Args, Debug, Clone)]
pub struct DemoArgs {
    /// Directory holding the embedded database (created if missing; reused if it exists).
    #[arg(
        long,
        env = "QINGSHUI_DATA_DIR",
        default_value = "./data",
        value_name = "DIR"
    )]
    pub data_dir: PathBuf,
    /// HTTP listen address (dashboard, SensorThings API, domain API).
    #[arg(long, default_value = "127.0.0.1:8080", value_name = "ADDR")]
    pub http: SocketAddr,
    /// HJ 212 listen address.
    #[arg(long, default_value = "127.0.0.1:9212", value_name = "ADDR")]
    pub hj212: SocketAddr,
    /// GB/T 28181 SIP listen address (UDP and TCP) for the 52 simulated cameras.
    #[arg(long, default_value = "127.0.0.1:15060", value_name = "ADDR")]
    pub gb28181: SocketAddr,
    /// Simulated seconds per real second (60: one simulated hour per minute).
    #[arg(long, default_value_t = 60.0)]
    pub speed: f64,
    /// Seed of the generator.
    #[arg(long, default_value_t = 1)]
    pub seed: u64,
    /// Network file (default: the Hongfeng Lake demo network of this checkout).
    #[arg(long, default_value = "config/hongfeng.toml", value_name = "FILE")]
    pub network: PathBuf,
    /// History backfilled into an empty store.
    #[arg(long, default_value = "30d", value_name = "SPAN", value_parser = parse_span)]
    pub history: i64,
}

/// The demo scenario: `Scenario::demo(anchor)` with the anchor at the start, so the storm,
/// drifts, flat-line and spikes lie in the backfilled history and the comm fault, pollution
/// incident, R05 outage (with its backfill), fault and stopped instrument follow within the
/// first 10 simulated hours — 10 minutes at the default 60×. A bloom is added eight days back,
/// because the recurrent summer bloom only happens in July–September.
pub fn demo_scenario(anchor: i64) -> Scenario {
    let mut scenario = crate::simulate::scenario(ScenarioChoice::Demo, anchor);
    scenario.events.push(ScriptedEvent {
        kind: EventKind::Bloom,
        station: None,
        parameter: None,
        start: unix_to_datetime(anchor - 8 * 86_400),
        duration_s: 5 * 86_400,
        intensity: Some(80.0),
    });
    scenario
}

/// A token known only to this process (128 random bits from the std hasher's random keys).
fn process_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let half = || {
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(Instant::now().elapsed().as_nanos());
        h.finish()
    };
    format!("demo-{:016x}{:016x}", half(), half())
}

/// `[ingest] clock_tolerance_s` of an accelerated demo: 100 years, far more than any run.
const DEMO_CLOCK_TOLERANCE_S: u64 = 100 * 365 * 86_400;

/// The server's offline threshold for a simulated network: 2 × the 300 s real-time interval
/// as the stations live it at this speed (reference §12), at least 2 s of real time.
pub fn offline_after_s(speed: f64) -> u64 {
    let speed = if speed.is_finite() && speed > 0.0 {
        speed
    } else {
        1.0
    };
    ((600.0 / speed).ceil() as u64).max(2)
}

pub fn run(args: DemoArgs) -> anyhow::Result<ExitCode> {
    crate::serve::init_logging();
    let began = Instant::now();
    let network_path = resolve_network_path(&args.network);
    let network = load_network(&network_path)?;
    // The in-process simulator writes with its own token: anonymous (`--open`) bodies are capped
    // at [http] max_anonymous_body_bytes, smaller than a history backfill batch.
    let sim_token = process_token();
    let mut config = Config::default().overlay(Overrides {
        http: Some(args.http),
        data_dir: Some(args.data_dir.clone()),
        // A local demo: anonymous writes, as `serve --open`.
        open: true,
        tokens: vec![sim_token.clone()],
        network: Some(network_path.clone()),
        hj212: Some(args.hj212),
        gb28181: Some(args.gb28181),
        ..Default::default()
    });
    config.gb28181.password = server::config::Secret::new(crate::cameras::PASSWORD);
    config.gb28181.keepalive_interval_s = crate::cameras::KEEPALIVE_S;
    config.gb28181.keepalive_count = crate::cameras::KEEPALIVE_COUNT;
    let video_settings = config.gb28181.clone();
    config.hj212.offline_after_s = offline_after_s(args.speed);
    // An accelerated demo lives ahead of the wall clock (speed × the time since it started): its
    // data are "in the future" by design, so the time-sanity tolerance must cover the run. The
    // 1900–2200 year bounds still hold.
    if args.speed > 1.0 {
        config.ingest.clock_tolerance_s = DEMO_CLOCK_TOLERANCE_S;
    }
    std::fs::create_dir_all(&args.data_dir)
        .with_context(|| format!("creating {}", args.data_dir.display()))?;

    let runtime = tokio::runtime::Runtime::new().context("starting the async runtime")?;
    runtime.block_on(async move {
        let store = server::open_store(&config)?;
        let running = server::start(config, store).await?;
        let http = running.http_addr;
        let hj212 = running
            .hj212_addr
            .context("the server started without its HJ 212 listener")?;
        println!();
        println!(
            "  清水 qingshui demo — 红枫湖 Hongfeng Lake (simulated, {}×)",
            args.speed
        );
        println!("  仪表盘 Dashboard:        http://{http}/");
        println!("  SensorThings API:       http://{http}/v1.1");
        println!("  站点状态 Station status: http://{http}/api/v1/stations");
        println!("  HJ 212 接入 listener:    {hj212}");
        let sip = running
            .source_addrs
            .get("gb28181")
            .copied()
            .context("the server started without its GB/T 28181 listener")?;
        println!("  GB/T 28181 视频 listener: {sip} (UDP and TCP)");
        println!("  数据目录 Data dir:       {}", args.data_dir.display());
        println!("  按 Ctrl-C 停止 · Press Ctrl-C to stop");
        println!();

        let sta = StaClient::new(&format!("http://{http}"), Some(sim_token.clone()))?;
        let fresh = !sta.has_observations().await?;
        let start = now_on_grid();
        let simulator = Simulator::with_scenario(&network, args.seed, demo_scenario(start));
        let feed = Arc::new(Feed::new(&network, simulator));
        let ids = resolve_datastreams(&sta, &feed).await?;
        let stats = Arc::new(SendStats::default());

        if fresh && args.history > 0 {
            let window = HistoryWindow {
                from: start - args.history,
                to: start,
                realtime_from: start - 86_400,
            };
            let done =
                backfill_history(&feed, &sta, &ids, &window, &BulkOptions::default(), &stats)
                    .await?;
            println!(
                "  历史数据 history: {} observations over {} days in {:.1} s",
                done.rows,
                args.history / 86_400,
                done.elapsed.as_secs_f64()
            );
        } else if !fresh {
            println!("  the store already holds data: no history backfill, live data from now on");
        }

        // The sky layer: three synthetic scenes, only into a fresh store (a reused data dir has
        // them), after the history (their observations would make the store look used).
        let scenes = if fresh {
            crate::imagery::demo_scenes(&network, start)?
        } else {
            Vec::new()
        };
        let client = reqwest::Client::new();
        for (name, bytes, time) in scenes {
            let up = crate::imagery::Upload {
                sensor: Some("sentinel-2 (synthetic)".into()),
                time: Some(time),
                bands: None,
            };
            match crate::imagery::send(
                &client,
                &format!("http://{http}"),
                Some(&sim_token),
                bytes,
                &up,
            )
            .await
            {
                Ok(s) => println!(
                    "  卫星影像 scene {name}: bloom {:.2} km², valid {:.0}%",
                    s["bloom_area_km2"].as_f64().unwrap_or(0.0),
                    s["valid_fraction"].as_f64().unwrap_or(0.0) * 100.0
                ),
                Err(e) => tracing::warn!("demo scene {name}: {e:#}"),
            }
        }
        let clock = SimClock::start(start, args.speed);
        let options = LiveOptions {
            hj212_addr: hj212,
            clock,
            end: None,
            timing: LoggerTiming::default(),
            max_backlog: 20_000,
        };
        let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
        let manual = ManualSink { sta, ids };
        let live = tokio::spawn(run_live(
            feed.clone(),
            options,
            Some(manual),
            stats.clone(),
            stop_rx.clone(),
        ));
        let cameras = crate::cameras::start(&network, sip, &video_settings, stop_rx.clone());
        let progress = tokio::spawn(report_progress(clock, stats.clone(), stop_rx));
        println!(
            "  {} stations live over HJ 212, {} cameras over GB/T 28181 (ready {:.1} s after start)",
            feed.automatic_stations().count(),
            network.video_points.iter().filter(|v| v.gb28181.is_some()).count(),
            began.elapsed().as_secs_f64()
        );

        crate::serve::shutdown_signal().await;
        tracing::info!("shutting down: stopping the stations, then the server");
        let _ = stop_tx.send(true);
        match tokio::time::timeout(Duration::from_secs(10), live).await {
            Ok(Ok(Err(e))) => tracing::warn!("simulator: {e}"),
            Ok(Err(e)) => tracing::warn!("simulator task: {e}"),
            _ => {}
        }
        let _ = progress.await;
        let _ = cameras.await;
        running.stop().await?;
        Ok(ExitCode::SUCCESS)
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn offline_threshold_follows_speed() {
        assert_eq!(offline_after_s(1.0), 600);
        assert_eq!(offline_after_s(60.0), 10);
        assert_eq!(offline_after_s(10_000.0), 2);
    }
}
