//! An INVITE the platform gave up on (play timed out, 504) is CANCELled (RFC 3261 §9.1), and a
//! camera that answers it anyway — late, or its 200 crossing our CANCEL — is ACKed and sent BYE
//! at once, so it does not stream to a port nobody watches. Pure: the shell (live.rs, mod.rs)
//! sends what comes out and closes the media server port.

use super::platform::{Handled, Out, Platform};
use super::play::{Dialog, contact_uri};
use chrono::{DateTime, Utc};
use gb28181::Message;

/// How long an abandoned INVITE is remembered: well past 64 × T1 (32 s, RFC 3261 §17.1.1.2),
/// after which the camera's INVITE transaction has timed out too.
const REMEMBER_S: i64 = 300;
/// Abandoned INVITEs remembered at most (the oldest is forgotten first).
const MAX_REMEMBERED: usize = 256;

/// An INVITE given up on.
#[derive(Debug, Clone)]
pub struct Cancelled {
    pub(super) dialog: Dialog,
    at: DateTime<Utc>,
    /// CANCEL sent (only after a provisional response, §9.1).
    cancel_sent: bool,
    /// A 2xx arrived and was ended with BYE (a retransmitted 2xx gets its ACK only).
    ended: bool,
}

/// A camera answered 2xx to an abandoned INVITE: its stream was ended with BYE, and the media
/// server port of `stream_id` may be closed (when no new play of the camera uses it).
#[derive(Debug, Clone)]
pub struct LateAnswer {
    pub point: String,
    pub stream_id: String,
}

impl Platform {
    /// Gives up INVITE `call_id` (nobody waits for it any more): the CANCEL to send, if the
    /// camera already answered provisionally; otherwise it goes out with the first 1xx (a
    /// CANCEL must not precede one, §9.1). The dialog is forgotten either way.
    pub fn abandon(&mut self, call_id: &str, now: DateTime<Utc>) -> Option<Out> {
        let d = self.dialogs.remove(call_id)?;
        if d.confirmed {
            return None;
        }
        let cancel = d.provisional.then(|| self.cancel_request(&d));
        if self.cancelled.len() >= MAX_REMEMBERED
            && let Some(oldest) = self
                .cancelled
                .iter()
                .min_by_key(|(_, c)| c.at)
                .map(|(k, _)| k.clone())
        {
            self.cancelled.remove(&oldest);
        }
        self.cancelled.insert(
            call_id.to_string(),
            Cancelled {
                dialog: d,
                at: now,
                cancel_sent: cancel.is_some(),
                ended: false,
            },
        );
        cancel
    }

    /// CANCEL: Request-URI, Call-ID, From, To and CSeq number of the INVITE, and its single Via
    /// (same branch), so that it matches the INVITE's server transaction (§9.1).
    fn cancel_request(&mut self, d: &Dialog) -> Out {
        self.in_dialog(d, "CANCEL", d.cseq, Some(d.invite_via.clone()))
    }

    /// A response to an INVITE whose dialog is gone; nothing unless it is one we abandoned.
    pub(super) fn on_abandoned_response(
        &mut self,
        msg: &Message,
        call_id: &str,
        status: u16,
        h: &mut Handled,
    ) {
        let Some(c) = self.cancelled.get(call_id).cloned() else {
            return;
        };
        let mut d = c.dialog.clone();
        if let Some(to) = msg.header("To") {
            d.to = to.to_string();
        }
        if status < 200 {
            if !c.cancel_sent {
                h.out.push(self.cancel_request(&c.dialog));
                if let Some(e) = self.cancelled.get_mut(call_id) {
                    e.cancel_sent = true;
                }
            }
            return;
        }
        if status >= 300 {
            // 487 Request Terminated (or any refusal): ACKed in the INVITE's transaction.
            h.out
                .push(self.in_dialog(&d, "ACK", d.cseq, Some(d.invite_via.clone())));
            self.cancelled.remove(call_id);
            return;
        }
        if let Some(contact) = msg.header("Contact")
            && let Some(uri) = contact_uri(contact)
        {
            d.target = uri;
        }
        // A 2xx is ACKed in a new transaction, every time it comes (the camera retransmits
        // until it sees one); the BYE goes once.
        h.out.push(self.in_dialog(&d, "ACK", d.cseq, None));
        if !c.ended {
            h.out.push(self.in_dialog(&d, "BYE", d.cseq + 1, None));
            if let Some(e) = self.cancelled.get_mut(call_id) {
                e.ended = true;
            }
            // The port is the camera's stream id: a new play of the camera may own it now.
            if self.dialog_of(d.camera).is_none() {
                h.late.push(LateAnswer {
                    point: self.cameras[d.camera].video_id.clone(),
                    stream_id: d.stream_id.clone(),
                });
            }
        }
    }

    /// Forgets abandoned INVITEs older than [`REMEMBER_S`].
    pub(super) fn prune_abandoned(&mut self, now: DateTime<Utc>) {
        let keep = chrono::Duration::seconds(REMEMBER_S);
        self.cancelled.retain(|_, c| now - c.at < keep);
    }

    /// Abandoned INVITEs still remembered (tests, board).
    pub fn abandoned(&self) -> usize {
        self.cancelled.len()
    }
}
