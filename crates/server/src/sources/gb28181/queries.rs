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

#[cfg(test)]
mod tests {
    //! The retry rule without sockets or clocks: which queries go out again, and when.
    use super::super::play::tests::{parse, peer, platform};
    use chrono::Utc;
    use gb28181::Message;
    use gb28181::manscdp::{Body, CONTENT_TYPE, DeviceInfo};

    fn cmds(out: &[super::Out]) -> Vec<String> {
        out.iter()
            .map(|o| match Body::parse(&parse(o).body) {
                Ok(Body::Query(q)) => q.cmd,
                other => panic!("a query, not {other:?}"),
            })
            .collect()
    }

    #[test]
    fn unanswered_queries_go_out_again_after_the_delay_up_to_the_limit() {
        let now = Utc::now();
        let mut p = platform(now);
        let first = p.ask_after_register(0, now);
        assert_eq!(cmds(&first), ["Catalog", "DeviceInfo", "DeviceStatus"]);
        // The camera answers DeviceInfo (a MESSAGE, as it would).
        let info = Body::DeviceInfo(DeviceInfo {
            sn: 2,
            device_id: p.cameras[0].device_id.clone(),
            manufacturer: Some("X".into()),
            ..DeviceInfo::default()
        });
        let cam = p.cameras[0].device_id.clone();
        let m = Message::request("MESSAGE", "sip:52018100432002000001@5201810043")
            .with("Via", "SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bKc1")
            .with("From", format!("<sip:{cam}@5201810043>;tag=c"))
            .with("To", "<sip:52018100432002000001@5201810043>")
            .with("Call-ID", "c1")
            .with("CSeq", "1 MESSAGE")
            .with_body(CONTENT_TYPE, info.encode());
        p.handle(&m, peer(), now);
        assert!(p.states[0].info.is_some());
        let s = |secs| now + chrono::Duration::seconds(secs);
        assert!(p.sweep(s(4)).out.is_empty(), "not before query_retry_s");
        // Retries 1..=3 (query_retries = 3 in the test settings), of the unanswered two only.
        for (k, at) in [5, 10, 15].into_iter().enumerate() {
            assert_eq!(
                cmds(&p.sweep(s(at)).out),
                ["Catalog", "DeviceStatus"],
                "retry {k}"
            );
        }
        assert!(p.sweep(s(20)).out.is_empty(), "given up");
        assert!(p.states[0].pending.is_empty());
        assert_eq!(p.query_retries, 6);
        assert_eq!(p.states[0].query_retries, 6);
        // A new registration asks afresh, with a fresh count.
        let again = p.ask_after_register(0, s(30));
        assert_eq!(again.len(), 3);
        assert_eq!(p.sweep(s(35)).out.len(), 3);
    }

    #[test]
    fn a_camera_gone_is_not_asked_again() {
        let now = Utc::now();
        let mut p = platform(now);
        p.ask_after_register(0, now);
        p.states[0].peer = None;
        assert!(p.sweep(now + chrono::Duration::seconds(5)).out.is_empty());
        assert!(p.states[0].pending.is_empty());
    }
}
