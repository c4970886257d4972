//! Raises an alert for every HJ 212 lockout ("possible password guessing on station X from IP").
//! The listener starts before the alert engine, so it hands lockouts to a channel and this task,
//! started once the engine runs, passes them on as external alerts (rule `intrusion`, the
//! engine's only rule for events outside the observation stream).

use crate::alerts::AlertsHandle;
use alerts::lifecycle::Trigger;
use alerts::model::{RuleKind, Severity};
use alerts::rules::Verdict;
use serde_json::json;
use std::net::IpAddr;
use std::sync::Arc;
use tokio::sync::{mpsc, watch};

/// A lockout as the listener reports it.
#[derive(Debug, Clone)]
pub struct LockoutNotice {
    pub station: String,
    pub mn: String,
    pub ip: IpAddr,
    pub failures: u32,
    pub lockout_s: u64,
}

/// Lockouts waiting for the engine; the listener never waits on it (a full channel drops the
/// notice: the lockout is still logged, counted and on the station board).
pub fn channel() -> (mpsc::Sender<LockoutNotice>, mpsc::Receiver<LockoutNotice>) {
    mpsc::channel(64)
}

/// The alert one lockout raises. One open alert per (station, address): the engine updates it
/// when the same address is locked again.
pub fn verdict(n: &LockoutNotice) -> Verdict {
    Verdict::Trigger(Trigger {
        rule: RuleKind::Intrusion,
        source: format!("hj212:{}:{}", n.station, n.ip),
        station: Some(n.station.clone()),
        parameter: None,
        datastream_id: None,
        severity: Severity::Major,
        message: format!(
            "possible password guessing on station {} from {}: {} wrong HJ 212 passwords, MN locked for that address for {} s",
            n.station, n.ip, n.failures, n.lockout_s
        ),
        details: json!({
            "kind": "hj212_password_guessing",
            "mn": n.mn,
            "peer": n.ip.to_string(),
            "failures": n.failures,
            "lockout_s": n.lockout_s,
        }),
        observed_at: Some(sta::time::now_micros()),
    })
}

/// Passes lockouts to the engine until the listener is gone or the server stops.
pub async fn forward(
    mut lockouts: mpsc::Receiver<LockoutNotice>,
    engine: Arc<AlertsHandle>,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        let notice = tokio::select! {
            _ = shutdown.wait_for(|stop| *stop) => return,
            notice = lockouts.recv() => notice,
        };
        let Some(notice) = notice else { return };
        if let Err(e) = engine.external(verdict(&notice)).await {
            tracing::debug!(error = %e, station = %notice.station, "no alert for the HJ 212 lockout");
        }
    }
}
