//! The history backfill: what the stations would have sent over a past window, written in large
//! CreateObservations batches (the bulk path), with a progress bar.

use super::SendError;
use super::feed::{DatastreamRows, Feed, Row};
use super::sta::{StaClient, create_observations_body};
use super::stats::SendStats;
use indicatif::{ProgressBar, ProgressStyle};
use std::collections::HashMap;
use std::sync::atomic::Ordering;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;

/// What to backfill.
#[derive(Debug, Clone)]
pub struct HistoryWindow {
    /// Unix seconds: data with `from <= time` and a send time before `to`.
    pub from: i64,
    pub to: i64,
    /// Real-time (5-minute) data only from this instant on; hourly and manual data cover the
    /// whole window.
    pub realtime_from: i64,
}

/// How to send it.
#[derive(Debug, Clone)]
pub struct BulkOptions {
    /// Rows per CreateObservations request.
    pub batch_rows: usize,
    /// Requests in flight at once (the server commits them in one writer; two keep it busy
    /// while the next body is being built and sent).
    pub in_flight: usize,
    /// Show an indicatif progress bar on stderr (hidden automatically when not a terminal).
    pub progress: bool,
}

impl Default for BulkOptions {
    fn default() -> Self {
        BulkOptions {
            batch_rows: 20_000,
            in_flight: 2,
            progress: true,
        }
    }
}

/// What a backfill did.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct BackfillSummary {
    pub rows: u64,
    pub errors: u64,
    pub requests: u64,
    pub elapsed: Duration,
}

/// One request body's worth of rows: (datastream id, interval, rows).
pub type Batch<'a> = Vec<(i64, Option<i64>, &'a [Row])>;

/// Splits datastream rows into request bodies of at most `batch_rows` rows.
pub fn batches<'a>(
    data: &'a [DatastreamRows],
    ids: &HashMap<String, i64>,
    batch_rows: usize,
) -> Result<Vec<Batch<'a>>, SendError> {
    let batch_rows = batch_rows.max(1);
    let mut out: Vec<Batch<'a>> = Vec::new();
    let mut current: Batch<'a> = Vec::new();
    let mut size = 0;
    for d in data {
        let id = *ids
            .get(&d.key)
            .ok_or_else(|| SendError::UnknownDatastream(d.key.clone()))?;
        let mut rest: &[Row] = &d.rows;
        while !rest.is_empty() {
            let take = (batch_rows - size).min(rest.len());
            current.push((id, d.interval_s, &rest[..take]));
            rest = &rest[take..];
            size += take;
            if size == batch_rows {
                out.push(std::mem::take(&mut current));
                size = 0;
            }
        }
    }
    if !current.is_empty() {
        out.push(current);
    }
    Ok(out)
}

/// Writes rows through CreateObservations in batches, `in_flight` requests at a time.
pub async fn send_rows(
    sta: &StaClient,
    data: &[DatastreamRows],
    ids: &HashMap<String, i64>,
    options: &BulkOptions,
    stats: &SendStats,
    message: &str,
) -> Result<BackfillSummary, SendError> {
    let started = Instant::now();
    let total: usize = data.iter().map(|d| d.rows.len()).sum();
    let bar = if options.progress {
        ProgressBar::new(total as u64)
    } else {
        ProgressBar::hidden()
    };
    bar.set_style(
        ProgressStyle::with_template(
            "{msg} [{bar:40.cyan/blue}] {human_pos}/{human_len} rows {per_sec} ETA {eta}",
        )
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("=> "),
    );
    bar.set_message(message.to_owned());
    let mut summary = BackfillSummary::default();
    let mut in_flight = JoinSet::new();
    for batch in batches(data, ids, options.batch_rows)? {
        let rows: usize = batch.iter().map(|(_, _, r)| r.len()).sum();
        let body = create_observations_body(batch);
        let client = sta.clone();
        in_flight.spawn(async move { (rows, client.create_observations(&body).await) });
        if in_flight.len() >= options.in_flight.max(1) {
            collect_one(&mut in_flight, &mut summary, stats, &bar).await?;
        }
    }
    while !in_flight.is_empty() {
        collect_one(&mut in_flight, &mut summary, stats, &bar).await?;
    }
    summary.elapsed = started.elapsed();
    bar.finish_and_clear();
    Ok(summary)
}

type BatchResult = (usize, Result<super::sta::Created, SendError>);

async fn collect_one(
    set: &mut JoinSet<BatchResult>,
    summary: &mut BackfillSummary,
    stats: &SendStats,
    bar: &ProgressBar,
) -> Result<(), SendError> {
    let Some(joined) = set.join_next().await else {
        return Ok(());
    };
    let (rows, result) = joined.map_err(|e| SendError::Task(e.to_string()))?;
    let created = result?;
    summary.rows += created.rows;
    summary.errors += created.errors;
    summary.requests += 1;
    stats.sta_rows.fetch_add(
        created.rows - created.errors.min(created.rows),
        Ordering::Relaxed,
    );
    stats
        .sta_row_errors
        .fetch_add(created.errors, Ordering::Relaxed);
    bar.inc(rows as u64);
    Ok(())
}

/// Backfills the window: generates what every station would have sent and writes it in bulk.
pub async fn backfill_history(
    feed: &Feed,
    sta: &StaClient,
    ids: &HashMap<String, i64>,
    window: &HistoryWindow,
    options: &BulkOptions,
    stats: &SendStats,
) -> Result<BackfillSummary, SendError> {
    let data = feed.history(window.from, window.to, window.realtime_from);
    send_rows(sta, &data, ids, options, stats, "history 历史数据").await
}
