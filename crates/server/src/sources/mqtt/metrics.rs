//! The MQTT counters and their `/metrics` lines (`qingshui_mqtt_*`).

use std::collections::BTreeMap;
use std::fmt::Write;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// Why a PUBLISH was not stored (stable label values).
pub const REFUSAL_REASONS: [&str; 5] = [
    "not_authorised",
    "unknown_topic",
    "bad_payload",
    "rejected",
    "store_failed",
];

#[derive(Default)]
pub struct MqttStats {
    pub connections_accepted: AtomicU64,
    /// CONNECTs refused (bad credentials, protocol version, throttled).
    pub connections_refused: AtomicU64,
    pub connected: AtomicI64,
    pub publishes_in: AtomicU64,
    /// Observations stored from PUBLISHes (and device mappings).
    pub observations_stored: AtomicU64,
    pub pubacks: AtomicU64,
    pub publishes_out: AtomicU64,
    /// Messages not delivered because the subscriber's queue was full.
    pub dropped: AtomicU64,
    pub subscriptions_refused: AtomicU64,
    /// Commit batches the fan-out missed because it fell behind the commit stream.
    pub commit_lag_batches: AtomicU64,
    /// Observations re-read from the store after such a lag, and sent.
    pub recovered: AtomicU64,
    /// Observations read from the store because the stream had not brought them by the time
    /// their ids were settled (another node's, its notification late), and sent.
    pub swept: AtomicU64,
    /// Messages waiting in every subscriber queue (sampled at each delivery).
    pub queue_depth: AtomicI64,
    refusals: Mutex<BTreeMap<&'static str, u64>>,
}

impl MqttStats {
    pub fn refused(&self, reason: &'static str) {
        let mut m = self.refusals.lock().unwrap_or_else(|p| p.into_inner());
        *m.entry(reason).or_default() += 1;
    }

    pub fn refusals(&self) -> BTreeMap<&'static str, u64> {
        self.refusals
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
    }

    pub fn render(&self, out: &mut String, subscriptions: usize) {
        let get = |a: &AtomicU64| a.load(Ordering::Relaxed);
        let mut line = |name: &str, kind: &str, help: &str, v: String| {
            let _ = writeln!(
                out,
                "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {v}"
            );
        };
        line(
            "qingshui_mqtt_connected_clients",
            "gauge",
            "MQTT clients connected now.",
            self.connected.load(Ordering::Relaxed).to_string(),
        );
        line(
            "qingshui_mqtt_connections_total",
            "counter",
            "MQTT connections accepted (CONNACK success).",
            get(&self.connections_accepted).to_string(),
        );
        line(
            "qingshui_mqtt_connections_refused_total",
            "counter",
            "MQTT CONNECTs refused (credentials, protocol, throttling, cap).",
            get(&self.connections_refused).to_string(),
        );
        line(
            "qingshui_mqtt_subscriptions",
            "gauge",
            "Subscribed topics with at least one client.",
            subscriptions.to_string(),
        );
        line(
            "qingshui_mqtt_publishes_in_total",
            "counter",
            "PUBLISH packets received.",
            get(&self.publishes_in).to_string(),
        );
        line(
            "qingshui_mqtt_observations_stored_total",
            "counter",
            "Observations stored from MQTT publishes.",
            get(&self.observations_stored).to_string(),
        );
        line(
            "qingshui_mqtt_pubacks_total",
            "counter",
            "PUBACKs sent (each after the group commit of its observation).",
            get(&self.pubacks).to_string(),
        );
        line(
            "qingshui_mqtt_publishes_out_total",
            "counter",
            "Messages delivered to subscribers.",
            get(&self.publishes_out).to_string(),
        );
        line(
            "qingshui_mqtt_dropped_total",
            "counter",
            "Messages dropped because a subscriber's queue was full.",
            get(&self.dropped).to_string(),
        );
        line(
            "qingshui_mqtt_subscriptions_refused_total",
            "counter",
            "Topic filters refused in SUBACK (not a STA topic, or no read right).",
            get(&self.subscriptions_refused).to_string(),
        );
        line(
            "qingshui_mqtt_commit_lag_batches_total",
            "counter",
            "Commit batches the fan-out missed because it fell behind.",
            get(&self.commit_lag_batches).to_string(),
        );
        line(
            "qingshui_mqtt_recovered_observations_total",
            "counter",
            "Observations re-read from the store after the fan-out fell behind, and sent.",
            get(&self.recovered).to_string(),
        );
        line(
            "qingshui_mqtt_swept_observations_total",
            "counter",
            "Observations read from the store because the commit stream had not brought them (another node's, committed out of id order), and sent.",
            get(&self.swept).to_string(),
        );
        line(
            "qingshui_mqtt_queue_depth",
            "gauge",
            "Messages waiting in subscriber queues.",
            self.queue_depth.load(Ordering::Relaxed).max(0).to_string(),
        );
        let refusals = self.refusals();
        let _ = writeln!(
            out,
            "# HELP qingshui_mqtt_refusals_total PUBLISHes not stored and not acknowledged, by reason.\n# TYPE qingshui_mqtt_refusals_total counter"
        );
        for reason in REFUSAL_REASONS {
            let n = refusals.get(reason).copied().unwrap_or(0);
            let _ = writeln!(
                out,
                "qingshui_mqtt_refusals_total{{reason=\"{reason}\"}} {n}"
            );
        }
    }
}
