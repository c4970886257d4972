//! Queries a new registration sets off (Catalog, DeviceInfo, DeviceStatus) and their re-asking:
//! a query whose answer has not come after `query_retry_s` is sent again, at most
//! `query_retries` times. Over UDP a burst of registrations (a platform restart in front of a
//! fleet) overflows the listener's receive buffer and drops answers; the camera never sends
//! them again by itself, so without this it stays without device info, catalog or clock drift.

use super::platform::{Out, Platform};
use chrono::{DateTime, Utc};

/// The queries sent after each new registration.
pub(super) const AFTER_REGISTER: [&str; 3] = ["Catalog", "DeviceInfo", "DeviceStatus"];

/// A query sent and not yet answered.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PendingQuery {
    pub cmd: &'static str,
    pub sent: DateTime<Utc>,
    /// Times it was sent again.
    pub retries: u32,
}

impl Platform {
    /// Sends the registration queries to camera `i` and remembers them as unanswered (a new
    /// registration starts the retry count afresh).
    pub(super) fn ask_after_register(&mut self, i: usize, now: DateTime<Utc>) -> Vec<Out> {
        self.states[i].pending.clear();
        let mut out = Vec::new();
        for cmd in AFTER_REGISTER {
            if let Some(o) = self.query(i, cmd) {
                out.push(o);
                self.states[i].pending.push(PendingQuery {
                    cmd,
                    sent: now,
                    retries: 0,
                });
            }
        }
        out
    }

    /// Camera `i` answered `cmd`: nothing more to ask.
    pub(super) fn answered(&mut self, i: usize, cmd: &str) {
        self.states[i]
            .pending
            .retain(|p| !p.cmd.eq_ignore_ascii_case(cmd));
    }

    /// The queries due again at `now`, for every registered camera; a query asked
    /// `query_retries` times more without an answer is given up.
    pub(super) fn retry_queries(&mut self, now: DateTime<Utc>) -> Vec<Out> {
        let delay = chrono::Duration::seconds(i64::from(self.settings.query_retry_s.max(1)));
        let max = self.settings.query_retries;
        let mut out = Vec::new();
        for i in 0..self.cameras.len() {
            if self.states[i].pending.is_empty() {
                continue;
            }
            if self.states[i].peer.is_none() || !self.states[i].registration.is_registered(now) {
                // Gone: the next registration asks afresh.
                self.states[i].pending.clear();
                continue;
            }
            let due: Vec<&'static str> = self.states[i]
                .pending
                .iter()
                .filter(|p| now - p.sent >= delay)
                .map(|p| p.cmd)
                .collect();
            for cmd in due {
                let st = &mut self.states[i];
                let Some(k) = st.pending.iter().position(|p| p.cmd == cmd) else {
                    continue;
                };
                if st.pending[k].retries >= max {
                    st.pending.remove(k);
                    continue;
                }
                st.pending[k].retries += 1;
                st.pending[k].sent = now;
                st.query_retries += 1;
                self.query_retries += 1;
                out.extend(self.query(i, cmd));
            }
        }
        out
    }
}
