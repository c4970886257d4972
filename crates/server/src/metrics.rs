//! Prometheus text exposition of the store's and the listeners' counters.

use std::fmt::Write;
use store::StoreStats;

#[derive(Default)]
pub struct Metrics {}

impl Metrics {
    pub fn render(&self, s: &StoreStats) -> String {
        let mut out = String::new();
        let mut counter = |name: &str, help: &str, v: u64| {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} counter\n{name} {v}");
        };
        counter("qingshui_store_commits_total", "Group commits.", s.commits);
        counter("qingshui_store_write_commands_total", "Write commands applied.", s.write_commands);
        counter("qingshui_store_failed_commands_total", "Write commands rejected and rolled back.", s.failed_commands);
        counter("qingshui_observations_inserted_total", "Observations stored.", s.observations_inserted);
        counter("qingshui_observations_unchanged_total", "Resent observations recognised as duplicates.", s.observations_unchanged);
        counter("qingshui_observations_replaced_total", "Observations replaced by a resend with a different value.", s.observations_replaced);
        let _ = writeln!(out, "# HELP qingshui_store_pending_writes Writes waiting for the writer.\n# TYPE qingshui_store_pending_writes gauge\nqingshui_store_pending_writes {}", s.pending_writes);
        out
    }
}
