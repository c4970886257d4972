//! Prometheus text exposition of the store's and the listeners' counters.

use crate::sources::status::{RejectReason, StationBoard};
use std::fmt::Write;
use std::sync::Arc;
use store::StoreStats;

#[derive(Default)]
pub struct Metrics {
    /// HJ 212 station status and listener counters (empty without a network).
    pub stations: Arc<StationBoard>,
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
        let _ = writeln!(
            out,
            "# HELP qingshui_store_pending_writes Writes waiting for the writer.\n# TYPE qingshui_store_pending_writes gauge\nqingshui_store_pending_writes {}",
            s.pending_writes
        );
        self.render_hj212(&mut out);
        out
    }

    fn render_hj212(&self, out: &mut String) {
        let board = &self.stations;
        if board.is_empty() {
            return;
        }
        let load = StationBoard::load;
        for (name, kind, help, value) in [
            (
                "qingshui_hj212_connections_total",
                "counter",
                "HJ 212 connections accepted.",
                load(&board.connections_total),
            ),
            (
                "qingshui_hj212_connections_open",
                "gauge",
                "HJ 212 connections open.",
                load(&board.connections_open),
            ),
            (
                "qingshui_hj212_answers_total",
                "counter",
                "HJ 212 answers sent (9014 after commit, 9013).",
                load(&board.answers_total),
            ),
            (
                "qingshui_hj212_auth_failures_total",
                "counter",
                "HJ 212 frames refused for an unknown MN or a wrong PW.",
                load(&board.auth_failures_total),
            ),
            (
                "qingshui_hj212_auth_ignored_total",
                "counter",
                "HJ 212 frames ignored while their IP was in password backoff or their (MN, IP) locked.",
                load(&board.auth_ignored_total),
            ),
            (
                "qingshui_hj212_auth_lockouts_total",
                "counter",
                "HJ 212 (MN, IP) pairs locked for password guessing.",
                load(&board.auth_lockouts_total),
            ),
            (
                "qingshui_hj212_set_time_requests_total",
                "counter",
                "HJ 212 1012 set-time requests sent to stations whose clock is ahead.",
                load(&board.set_time_sent),
            ),
            (
                "qingshui_hj212_reject_log_lines_total",
                "counter",
                "HJ 212 rejection log lines written (summaries included).",
                load(&board.reject_log_lines),
            ),
            (
                "qingshui_hj212_reject_log_suppressed_total",
                "counter",
                "HJ 212 rejections left out of the log by the rate limit (still counted).",
                load(&board.reject_log_suppressed),
            ),
            (
                "qingshui_hj212_values_unmapped_total",
                "counter",
                "HJ 212 values of factors the station does not measure, or not numeric.",
                load(&board.values_unmapped),
            ),
        ] {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}"
            );
        }

        let _ = writeln!(
            out,
            "# HELP qingshui_hj212_connections_refused_total HJ 212 connections closed at accept, by cap.\n# TYPE qingshui_hj212_connections_refused_total counter"
        );
        for (cap, counter) in [
            ("max_connections", &board.refused_total),
            ("max_connections_per_ip", &board.refused_per_ip),
        ] {
            let _ = writeln!(
                out,
                "qingshui_hj212_connections_refused_total{{cap=\"{cap}\"}} {}",
                load(counter)
            );
        }
        let _ = writeln!(
            out,
            "# HELP qingshui_hj212_connections_timed_out_total HJ 212 connections closed by a timeout.\n# TYPE qingshui_hj212_connections_timed_out_total counter"
        );
        for (timeout, counter) in [
            ("idle", &board.closed_idle),
            ("partial_frame", &board.closed_partial_frame),
            ("first_frame", &board.closed_first_frame),
        ] {
            let _ = writeln!(
                out,
                "qingshui_hj212_connections_timed_out_total{{timeout=\"{timeout}\"}} {}",
                load(counter)
            );
        }

        let now = store::clock::now_micros();
        let stations = board.snapshot(now);
        let unattributed = board.unattributed_rejects();
        let mut lines = |name: &str, kind: &str, help: &str, rows: Vec<String>| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}");
            for row in rows {
                let _ = writeln!(out, "{name}{row}");
            }
        };
        let label = |code: &str| format!("{{station=\"{code}\"}}");
        lines(
            "qingshui_hj212_station_online",
            "gauge",
            "1 when the station sent a valid frame within offline_after_s.",
            stations
                .iter()
                .map(|s| format!("{} {}", label(&s.station), u8::from(s.status == "online")))
                .collect(),
        );
        lines(
            "qingshui_hj212_station_last_frame_seconds",
            "gauge",
            "Unix time of the station's last valid frame.",
            stations
                .iter()
                .filter_map(|s| {
                    let t = s
                        .last_frame_at
                        .as_deref()
                        .and_then(|t| sta::time::parse_instant(t).ok())?;
                    Some(format!("{} {}", label(&s.station), t / 1_000_000))
                })
                .collect(),
        );
        lines(
            "qingshui_hj212_frames_received_total",
            "counter",
            "Valid, authenticated HJ 212 frames per station.",
            stations
                .iter()
                .map(|s| format!("{} {}", label(&s.station), s.frames_received))
                .collect(),
        );
        lines(
            "qingshui_hj212_values_received_total",
            "counter",
            "HJ 212 values stored per station (resends included).",
            stations
                .iter()
                .map(|s| format!("{} {}", label(&s.station), s.values_received))
                .collect(),
        );
        let mut rejected = Vec::new();
        for s in &stations {
            for (reason, n) in &s.frames_rejected {
                rejected.push(format!(
                    "{{station=\"{}\",reason=\"{reason}\"}} {n}",
                    s.station
                ));
            }
        }
        for reason in RejectReason::ALL {
            if let Some(n) = unattributed.get(reason.as_str()) {
                rejected.push(format!(
                    "{{station=\"\",reason=\"{}\"}} {n}",
                    reason.as_str()
                ));
            }
        }
        lines(
            "qingshui_hj212_frames_rejected_total",
            "counter",
            "HJ 212 frames not stored nor answered, by station (empty when unknown) and reason.",
            rejected,
        );
    }
}
