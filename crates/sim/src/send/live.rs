//! The live network: every automatic station runs its own logger on its own TCP connection and
//! sends its uploads when the simulated clock reaches them; the field team's monthly manual
//! samples go through STA.

use super::SendError;
use super::feed::{Feed, Upload};
use super::history::{BulkOptions, send_rows};
use super::sta::StaClient;
use super::station::{LoggerTiming, StationLogger};
use super::stats::SendStats;
use std::collections::{HashMap, VecDeque};
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinSet;
use tokio::time::Instant;

/// Simulated time as a function of real time: `sim = start + elapsed × speed`.
#[derive(Debug, Clone, Copy)]
pub struct SimClock {
    sim_start: i64,
    real_start: Instant,
    speed: f64,
}

impl SimClock {
    /// Starts now at simulated instant `sim_start` (Unix seconds), running `speed` simulated
    /// seconds per real second.
    pub fn start(sim_start: i64, speed: f64) -> SimClock {
        SimClock {
            sim_start,
            real_start: Instant::now(),
            speed: if speed.is_finite() && speed > 0.0 {
                speed
            } else {
                1.0
            },
        }
    }

    /// The simulated instant the clock started at.
    pub fn sim_start(&self) -> i64 {
        self.sim_start
    }

    pub fn speed(&self) -> f64 {
        self.speed
    }

    /// The simulated instant now, in Unix seconds.
    pub fn now(&self) -> i64 {
        self.sim_start + (self.real_start.elapsed().as_secs_f64() * self.speed) as i64
    }

    /// The real instant at which simulated time reaches `sim`.
    pub fn real_at(&self, sim: i64) -> Instant {
        let ahead = (sim - self.sim_start).max(0) as f64 / self.speed;
        self.real_start + Duration::from_secs_f64(ahead)
    }
}

/// How to run the live network.
#[derive(Debug, Clone)]
pub struct LiveOptions {
    pub hj212_addr: SocketAddr,
    pub clock: SimClock,
    /// Stop once simulated time reaches this instant (Unix seconds); `None` runs until stopped.
    pub end: Option<i64>,
    pub timing: LoggerTiming,
    /// Uploads a logger keeps while it cannot deliver them; older ones are dropped.
    pub max_backlog: usize,
}

/// Where manual samples go: the STA server and the datastream ids by plan key.
#[derive(Debug, Clone)]
pub struct ManualSink {
    pub sta: StaClient,
    pub ids: Arc<HashMap<String, i64>>,
}

/// Runs every automatic station (and the manual sampling, when `manual` is given) until `end`
/// or until `stop` turns true.
pub async fn run_live(
    feed: Arc<Feed>,
    options: LiveOptions,
    manual: Option<ManualSink>,
    stats: Arc<SendStats>,
    stop: watch::Receiver<bool>,
) -> Result<(), SendError> {
    let mut tasks = JoinSet::new();
    for station in feed.automatic_stations() {
        tasks.spawn(run_station(
            feed.clone(),
            station,
            options.clone(),
            stats.clone(),
            stop.clone(),
        ));
    }
    if let Some(sink) = manual {
        let (feed, options, stats, stop) =
            (feed.clone(), options.clone(), stats.clone(), stop.clone());
        tasks.spawn(async move {
            if let Err(e) = run_manual(&feed, &options, &sink, &stats, stop).await {
                tracing::warn!("manual samples: {e}");
            }
        });
    }
    while let Some(joined) = tasks.join_next().await {
        joined.map_err(|e| SendError::Task(e.to_string()))?;
    }
    Ok(())
}

/// Sleeps until `at`; false if asked to stop first.
async fn wait_until(at: Instant, stop: &mut watch::Receiver<bool>) -> bool {
    if *stop.borrow() {
        return false;
    }
    tokio::select! {
        () = tokio::time::sleep_until(at) => true,
        () = stopped(stop) => false,
    }
}

/// Resolves once `stop` turns true (or its sender is gone). Returns `()` so that no watch guard
/// lives across an await in the callers' `select!`.
async fn stopped(stop: &mut watch::Receiver<bool>) {
    let _ = stop.wait_for(|s| *s).await;
}

/// The simulated span processed per step of a station's loop.
const STEP_S: i64 = 3600;

async fn run_station(
    feed: Arc<Feed>,
    station: usize,
    options: LiveOptions,
    stats: Arc<SendStats>,
    mut stop: watch::Receiver<bool>,
) {
    let st = &feed.stations[station];
    let Some(link) = st.link.as_ref() else { return };
    let mut logger = StationLogger::new(
        options.hj212_addr,
        link.mn.clone(),
        options.timing.clone(),
        feed.utc_offset_s,
        stats.clone(),
    );
    let clock = options.clock;
    let mut backlog: VecDeque<Upload> = VecDeque::new();
    // From the start, not from now: tasks start a little late, and at high speed that little
    // is whole real-time intervals.
    let mut cursor = clock.sim_start();
    loop {
        let to = options
            .end
            .map_or(cursor + STEP_S, |end| (cursor + STEP_S).min(end));
        if to <= cursor {
            break;
        }
        for upload in feed.uploads(station, cursor, to) {
            if !wait_until(clock.real_at(upload.send_time), &mut stop).await {
                logger.disconnect().await;
                return;
            }
            let now = upload.send_time;
            if upload.offline {
                // The station is down: it drops its connection and its logger keeps the data.
                if logger.is_connected() {
                    tracing::info!(station = %st.code, "station offline: holding its data");
                    logger.disconnect().await;
                }
                stats.held_offline.fetch_add(1, Ordering::Relaxed);
                push_bounded(&mut backlog, upload, options.max_backlog);
                continue;
            }
            push_bounded(&mut backlog, upload, options.max_backlog);
            // Deliver oldest first: after an outage this is the backfill of the missed frames.
            while let Some(next) = backlog.front() {
                let late = next.send_time < now;
                let qn = logger.next_qn(now);
                let Some(segment) = feed.segment(next, qn) else {
                    backlog.pop_front();
                    continue;
                };
                let sent = tokio::select! {
                    r = logger.send(&segment) => r,
                    () = stopped(&mut stop) => {
                        logger.disconnect().await;
                        return;
                    }
                };
                match sent {
                    Ok(()) => {
                        if late {
                            stats.backfilled.fetch_add(1, Ordering::Relaxed);
                        }
                        backlog.pop_front();
                    }
                    Err(e) => {
                        tracing::warn!(station = %st.code, "{e}; keeping {} upload(s) for later", backlog.len());
                        break;
                    }
                }
            }
        }
        cursor = to;
    }
    logger.disconnect().await;
}

fn push_bounded(backlog: &mut VecDeque<Upload>, upload: Upload, max: usize) {
    backlog.push_back(upload);
    while backlog.len() > max.max(1) {
        backlog.pop_front();
    }
}

async fn run_manual(
    feed: &Feed,
    options: &LiveOptions,
    sink: &ManualSink,
    stats: &SendStats,
    mut stop: watch::Receiver<bool>,
) -> Result<(), SendError> {
    let clock = options.clock;
    let bulk = BulkOptions {
        progress: false,
        ..BulkOptions::default()
    };
    // From the start, not from now: tasks start a little late, and at high speed that little
    // is whole real-time intervals.
    let mut cursor = clock.sim_start();
    // Months are at most 31 days; 40-day steps never skip a sampling day.
    let step = 40 * 86_400;
    loop {
        let to = options
            .end
            .map_or(cursor + step, |end| (cursor + step).min(end));
        if to <= cursor {
            return Ok(());
        }
        for t in feed.manual_sample_times(cursor, to) {
            if !wait_until(clock.real_at(t), &mut stop).await {
                return Ok(());
            }
            let rows = feed.manual_rows(t);
            send_rows(&sink.sta, &rows, &sink.ids, &bulk, stats, "manual samples").await?;
            tracing::info!("manual samples of {} posted", super::sta::iso_time(t));
        }
        cursor = to;
    }
}
