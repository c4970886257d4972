//! Raises an alert when a station's MN collects `auth_fail_lockout_after` wrong passwords within
//! the window, from one address or many ("possible password guessing on station X from IP").
//! The listener starts before the alert engine, so it hands notices to a channel and this task,
//! started once the engine runs, passes them on as external alerts (rule `credential_guessing`).

use crate::alerts::AlertsHandle;
use alerts::lifecycle::Trigger;
use alerts::model::{RuleKind, Severity};
use alerts::rules::Verdict;
use serde_json::json;
use std::net::IpAddr;
use std::sync::Arc;
use tokio::sync::{mpsc, watch};

/// Possible password guessing as the listener reports it.
#[derive(Debug, Clone)]
pub struct GuessingNotice {
    pub station: String,
    pub mn: String,
    /// The address of the failure that crossed the threshold.
    pub ip: IpAddr,
    pub failures: u32,
    /// Distinct failing addresses (counted up to 16).
    pub sources: usize,
}

/// Where the listener hands its notices.
pub type NoticeSender = mpsc::Sender<GuessingNotice>;

/// Notices waiting for the engine; the listener never waits on it (a full channel drops the
/// notice: the lockout is still logged, counted and on the station board).
pub fn channel() -> (NoticeSender, mpsc::Receiver<GuessingNotice>) {
    mpsc::channel(64)
}

/// The alert a notice raises. One open alert per station: the engine updates it when the
/// guessing goes on in a later window.
pub fn verdict(n: &GuessingNotice) -> Verdict {
    let text = alerts::text::Text::new("credential_guessing")
        .with("station", n.station.as_str())
        .with("peer", n.ip.to_string())
        .with("failures", n.failures)
        .with("sources", n.sources);
    Verdict::Trigger(Trigger {
        rule: RuleKind::CredentialGuessing,
        source: format!("hj212-auth:{}", n.station),
        station: Some(n.station.clone()),
        parameter: None,
        datastream_id: None,
        severity: Severity::Major,
        message: text.render(alerts::text::Lang::En).unwrap_or_default(),
        details: text.into_details(json!({
            "kind": "hj212_password_guessing",
            "mn": n.mn,
            "peer": n.ip.to_string(),
            "failures": n.failures,
            "sources": n.sources,
        })),
        observed_at: Some(store::clock::now_micros()),
    })
}

/// Passes notices to the engine until the listener is gone or the server stops.
pub async fn forward(
    mut lockouts: mpsc::Receiver<GuessingNotice>,
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
