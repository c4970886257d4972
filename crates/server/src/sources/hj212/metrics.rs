//! The HJ 212 source's own Prometheus lines; the lines every source has are in
//! `crate::metrics`.

use super::board::{RejectReason, StationBoard};
use crate::metrics::write_family;

impl StationBoard {
    /// The `qingshui_hj212_*` lines (historic names, read by tests and dashboards).
    pub(super) fn render_hj212_lines(&self, out: &mut String, now: i64) {
        let board = self;
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
            write_family(out, name, kind, help, [format!(" {value}")]);
        }
        write_family(
            out,
            "qingshui_hj212_connections_refused_total",
            "counter",
            "HJ 212 connections closed at accept, by cap.",
            [
                ("max_connections", &board.refused_total),
                ("max_connections_per_ip", &board.refused_per_ip),
            ]
            .map(|(cap, counter)| format!("{{cap=\"{cap}\"}} {}", load(counter))),
        );
        write_family(
            out,
            "qingshui_hj212_connections_timed_out_total",
            "counter",
            "HJ 212 connections closed by a timeout.",
            [
                ("idle", &board.closed_idle),
                ("partial_frame", &board.closed_partial_frame),
                ("first_frame", &board.closed_first_frame),
            ]
            .map(|(timeout, counter)| format!("{{timeout=\"{timeout}\"}} {}", load(counter))),
        );

        let stations = board.snapshot(now);
        let unattributed = board.unattributed_rejects();
        let mut lines = |name: &str, kind: &str, help: &str, rows: Vec<String>| {
            write_family(out, name, kind, help, rows)
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
