//! Prometheus text exposition of the store's and the sources' counters: the `qingshui_source_*`
//! lines every source has (from the one status shape), then each source's own lines.

use crate::sources::status::SourceBoard;
use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use store::StoreStats;

#[derive(Default)]
pub struct Metrics {
    /// The status of every started source (empty without sources).
    pub sources: Arc<SourceBoard>,
    /// How often the alert engine fell behind the commit stream and what it re-read.
    pub commit_lag: Arc<crate::alerts::CommitLagStats>,
}

impl Metrics {
    pub fn render(&self, s: &StoreStats) -> String {
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, v: u64| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}"
            );
        };
        counter("qingshui_store_commits_total", "Group commits.", s.commits);
        counter(
            "qingshui_store_write_commands_total",
            "Write commands applied.",
            s.write_commands,
        );
        counter(
            "qingshui_store_failed_commands_total",
            "Write commands rejected and rolled back.",
            s.failed_commands,
        );
        counter(
            "qingshui_observations_inserted_total",
            "Observations stored.",
            s.observations_inserted,
        );
        counter(
            "qingshui_observations_unchanged_total",
            "Resent observations recognised as duplicates.",
            s.observations_unchanged,
        );
        counter(
            "qingshui_observations_replaced_total",
            "Observations replaced by a resend with a different value.",
            s.observations_replaced,
        );
        counter(
            "qingshui_observations_future_refused_total",
            "Observations refused: phenomenonTime later than now + clock_tolerance_s.",
            s.observations_future_refused,
        );
        counter(
            "qingshui_store_reads_timed_out_total",
            "Reads stopped by statement_timeout_ms.",
            s.reads_timed_out,
        );
        counter(
            "qingshui_store_reads_cancelled_total",
            "Reads stopped because their client went away.",
            s.reads_cancelled,
        );
        let lag = &self.commit_lag;
        counter(
            "qingshui_alert_commit_lag_events_total",
            "Times the alert engine fell behind the commit stream and re-read the store.",
            lag.events.load(Ordering::Relaxed),
        );
        counter(
            "qingshui_alert_commit_lag_recovered_observations_total",
            "Observations the alert engine re-read from the store after falling behind.",
            lag.recovered_observations.load(Ordering::Relaxed),
        );
        counter(
            "qingshui_alert_resumed_observations_total",
            "Observations the alert engine judged from the store on starting or taking the lead (committed after the last saved position).",
            lag.resumed_observations.load(Ordering::Relaxed),
        );
        counter(
            "qingshui_alert_swept_observations_total",
            "Observations the alert engine judged from the store because the commit stream had not brought them (another node's, committed out of id order).",
            lag.swept_observations.load(Ordering::Relaxed),
        );
        let _ = writeln!(
            out,
            "# HELP qingshui_store_pending_writes Writes waiting for the writer.\n# TYPE qingshui_store_pending_writes gauge\nqingshui_store_pending_writes {}",
            s.pending_writes
        );
        let now = store::clock::now_micros();
        self.render_sources(&mut out, now);
        for source in self.sources.sources() {
            source.render_metrics(&mut out, now);
        }
        out
    }

    /// Per device and per source, labelled `source` and `station`.
    fn render_sources(&self, out: &mut String, now: i64) {
        let sources = self.sources.sources();
        if sources.is_empty() {
            return;
        }
        let mut online = Vec::new();
        let mut last_seen = Vec::new();
        let mut frames = Vec::new();
        let mut values = Vec::new();
        let mut rejects = Vec::new();
        for source in sources {
            let name = source.source();
            let mut by_reason: BTreeMap<&str, u64> = source.unattributed_rejects();
            for d in source.devices(now) {
                let label = format!("{{source=\"{name}\",station=\"{}\"}}", d.station);
                online.push(format!("{label} {}", u8::from(d.online())));
                if let Some(t) = d.last_frame_micros {
                    last_seen.push(format!("{label} {}", t.div_euclid(1_000_000)));
                }
                frames.push(format!("{label} {}", d.frames_received));
                values.push(format!("{label} {}", d.values_received));
                for (reason, n) in &d.frames_rejected {
                    *by_reason.entry(reason).or_default() += n;
                }
            }
            for (reason, n) in by_reason {
                rejects.push(format!("{{source=\"{name}\",reason=\"{reason}\"}} {n}"));
            }
        }
        for (name, kind, help, rows) in [
            (
                "qingshui_source_device_online",
                "gauge",
                "1 when the device sent a valid frame within its source's offline delay.",
                online,
            ),
            (
                "qingshui_source_device_last_frame_seconds",
                "gauge",
                "Unix time of the device's last valid frame.",
                last_seen,
            ),
            (
                "qingshui_source_frames_received_total",
                "counter",
                "Valid frames per device.",
                frames,
            ),
            (
                "qingshui_source_values_received_total",
                "counter",
                "Values stored per device (resends included).",
                values,
            ),
            (
                "qingshui_source_rejects_total",
                "counter",
                "Frames not stored, per source and reason (devices and unattributed summed).",
                rejects,
            ),
        ] {
            write_family(out, name, kind, help, rows);
        }
    }
}

/// One metric family in the Prometheus text format: its HELP and TYPE lines, then one sample per
/// row, each row being the sample's labels (`{a="b"}`, or nothing) and ` value`.
pub(crate) fn write_family(
    out: &mut String,
    name: &str,
    kind: &str,
    help: &str,
    rows: impl IntoIterator<Item = String>,
) {
    let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
    for row in rows {
        let _ = writeln!(out, "{name}{row}");
    }
}
