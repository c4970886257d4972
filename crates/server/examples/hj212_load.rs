//! HJ 212 end-to-end load: the server in-process on a temp dir (SQLite, synchronous=FULL), N
//! station connections on loopback, each sending real-time frames (7 values) with A=1 and
//! waiting for the 9014 — which the server sends only after the values are committed — before
//! the next frame. Prints values/s for each N.
//!
//! cargo run --release -p server --example hj212_load -- [SECONDS_PER_RUN] [N …]
//! (default: 10 s, N = 100 and 1000)

// The allocator the qingshui binary ships with, so that the server measured is the one users run.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[path = "../tests/common/station.rs"]
mod station;

use server::config::Config;
use station::{
    SYNTHETIC_FACTORS, TestStation, field, synthetic_cp, synthetic_network, synthetic_station,
};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// 1,000 client sockets plus 1,000 server sockets in one process exceed the usual soft limit of
/// 1,024 descriptors: raise the soft limit to the hard limit.
fn raise_fd_limit() {
    // SAFETY: getrlimit/setrlimit with a valid pointer to a local struct.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            let _ = libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}

struct Run {
    connections: usize,
    frames: u64,
    seconds: f64,
}

async fn run(addr: SocketAddr, connections: usize, seconds: u64, base_unix_s: i64) -> Run {
    let frames = Arc::new(AtomicU64::new(0));
    let stop = Arc::new(AtomicBool::new(false));
    let mut stations = Vec::new();
    for i in 0..connections {
        let (_, mn, pw) = synthetic_station(i);
        stations.push(TestStation::connect(addr, &mn, &pw).await.expect("connect"));
    }
    let started = Instant::now();
    let tasks: Vec<_> = stations
        .into_iter()
        .enumerate()
        .map(|(i, mut st)| {
            let (frames, stop) = (frames.clone(), stop.clone());
            tokio::spawn(async move {
                let mut seq = 0u64;
                while !stop.load(Ordering::Relaxed) {
                    let t = base_unix_s + seq as i64;
                    let (cp, _) = synthetic_cp(t, i, seq);
                    let qn = format!("{}{:03}", station::beijing_time(t), seq % 1000);
                    let answer = st
                        .upload(&qn, "2011", &cp, Duration::from_secs(30))
                        .await
                        .expect("io")
                        .expect("answered");
                    assert_eq!(field(&answer, "QN"), Some(qn.as_str()));
                    frames.fetch_add(1, Ordering::Relaxed);
                    seq += 1;
                }
            })
        })
        .collect();
    tokio::time::sleep(Duration::from_secs(seconds)).await;
    stop.store(true, Ordering::Relaxed);
    let total = frames.load(Ordering::Relaxed);
    let elapsed = started.elapsed().as_secs_f64();
    for t in tasks {
        let _ = t.await;
    }
    Run {
        connections,
        frames: total,
        seconds: elapsed,
    }
}

fn main() -> anyhow::Result<()> {
    raise_fd_limit();
    let mut args = std::env::args().skip(1);
    let seconds: u64 = args.next().map(|s| s.parse()).transpose()?.unwrap_or(10);
    let mut counts: Vec<usize> = args.map(|s| s.parse()).collect::<Result<_, _>>()?;
    if counts.is_empty() {
        counts = vec![100, 1000];
    }
    let max = counts.iter().copied().max().unwrap_or(0);

    let runtime = tokio::runtime::Runtime::new()?;
    runtime.block_on(async move {
        let dir = tempfile::tempdir()?;
        let hongfeng = std::fs::read_to_string(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/../../config/hongfeng.toml"
        ))?;
        let network = dir.path().join("network.toml");
        std::fs::write(&network, synthetic_network(&hongfeng, max))?;
        let mut config = Config::default();
        config.http.addr = "127.0.0.1:0".parse()?;
        config.storage.data_dir = dir.path().join("data");
        config.network.file = Some(network);
        config.hj212.addr = Some("127.0.0.1:0".parse()?);
        // Each run writes its own synthetic span (115 days apart from 2026-01-01); later runs
        // may lie beyond the wall clock, which the time-sanity check would refuse.
        config.ingest.clock_tolerance_s = 10 * 365 * 86_400;
        // `HJ212_LOAD_SYNC=normal` measures without the per-commit fsync (durable across process
        // crashes only); the default is the server's default, `full`.
        if let Ok(sync) = std::env::var("HJ212_LOAD_SYNC") {
            config.storage.synchronous = sync;
        }
        // HJ212_LOAD_ALERTS=off measures ingestion alone (the alert engine shares the cores).
        if std::env::var("HJ212_LOAD_ALERTS").is_ok_and(|v| v == "off") {
            config.alerts.enabled = false;
        }
        println!(
            "storage.synchronous = {}, alerts {}",
            config.storage.synchronous,
            if config.alerts.enabled { "on" } else { "off" }
        );
        let loading = Instant::now();
        let store = server::open_store(&config)?;
        let running = server::start(config, store.clone()).await?;
        let addr = running
            .hj212_addr
            .ok_or_else(|| anyhow::anyhow!("no HJ 212 listener"))?;
        println!(
            "network of {} stations loaded in {:.1} s",
            max + 18,
            loading.elapsed().as_secs_f64()
        );
        println!("| connections | frames/s | values/s | commits/s |");
        println!("|---:|---:|---:|---:|");
        for (k, &n) in counts.iter().enumerate() {
            let commits_before = store.stats().commits;
            // Each run writes its own time range, so every value is a new row.
            let r = run(addr, n, seconds, 1_767_225_600 + k as i64 * 10_000_000).await;
            let commits = store.stats().commits - commits_before;
            let fps = r.frames as f64 / r.seconds;
            println!(
                "| {} | {:.0} | {:.0} | {:.0} |",
                r.connections,
                fps,
                fps * SYNTHETIC_FACTORS.len() as f64,
                commits as f64 / r.seconds
            );
        }
        running.stop().await?;
        anyhow::Ok(())
    })
}
