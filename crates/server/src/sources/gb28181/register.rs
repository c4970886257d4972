//! REGISTER as the platform answers it (docs/video.md "What the platform does"): the digest
//! challenge, verification against the device's password, refresh and unregister, and what a
//! new registration sets off (queries, arming).

use super::platform::{Handled, MAX_NONCES, Out, Peer, Platform, reason};
use chrono::{DateTime, Utc};
use gb28181::Message;
use gb28181::device::RegisterOutcome;
use gb28181::digest::{self, Challenge, Credentials};
use gb28181::manscdp::{Body, Control, ControlCmd};

impl Platform {
    pub(super) fn register(
        &mut self,
        msg: &Message,
        peer: Peer,
        now: DateTime<Utc>,
        camera: Option<usize>,
        h: &mut Handled,
    ) {
        let Some(i) = camera else {
            return self.refuse(
                msg,
                peer,
                None,
                (403, "Forbidden (unknown device)", reason::UNKNOWN_DEVICE),
                h,
            );
        };
        let expires = match msg.expires() {
            Ok(Some(e)) => e,
            _ => {
                return self.refuse(
                    msg,
                    peer,
                    camera,
                    (400, "Bad Request (Expires)", reason::MISSING_EXPIRES),
                    h,
                );
            }
        };
        let device_id = self.cameras[i].device_id.clone();
        let password = self
            .settings
            .device_passwords
            .get(&device_id)
            .unwrap_or(&self.settings.password)
            .clone();
        if password.is_empty() {
            return self.refuse(
                msg,
                peer,
                camera,
                (403, "Forbidden", reason::NO_PASSWORD),
                h,
            );
        }
        let creds = msg.header("Authorization").map(Credentials::parse);
        let ttl = chrono::Duration::seconds(self.settings.nonce_ttl_s);
        self.states[i].nonces.retain(|(_, at)| now - *at < ttl);
        let fresh = match &creds {
            Some(Ok(c)) => self.states[i].nonces.iter().any(|(n, _)| n == &c.nonce),
            _ => false,
        };
        let creds = match creds {
            Some(Ok(c)) if fresh => c,
            Some(Err(_)) => {
                return self.refuse(
                    msg,
                    peer,
                    camera,
                    (400, "Bad Request (Authorization)", reason::MALFORMED_SIP),
                    h,
                );
            }
            // No credentials, or for a nonce we did not issue / that expired: challenge.
            _ => {
                let nonce = self.token("nonce");
                let nonces = &mut self.states[i].nonces;
                if nonces.len() >= MAX_NONCES {
                    nonces.remove(0);
                }
                nonces.push((nonce.clone(), now));
                let challenge = Challenge {
                    realm: self.settings.domain.clone(),
                    nonce,
                    qop_auth: true,
                };
                let r = self
                    .response(msg, peer, 401, "Unauthorized")
                    .with("WWW-Authenticate", challenge.header_value());
                h.out.push(Out {
                    to: peer,
                    bytes: r.to_bytes(),
                });
                return;
            }
        };
        if creds.username != device_id || !digest::verify("REGISTER", password.expose(), &creds) {
            // The nonce is spent: the next attempt gets a new challenge.
            self.states[i].nonces.retain(|(n, _)| n != &creds.nonce);
            return self.refuse(
                msg,
                peer,
                camera,
                (403, "Forbidden", reason::BAD_PASSWORD),
                h,
            );
        }
        // Spent on success as well: a captured Authorization cannot be replayed.
        self.states[i].nonces.retain(|(n, _)| n != &creds.nonce);
        let granted = if expires == 0 {
            0
        } else {
            expires.clamp(self.settings.min_expires_s, self.settings.max_expires_s)
        };
        let call_id = msg.call_id().unwrap_or_default().to_string();
        let outcome = self.states[i].registration.register(now, granted, &call_id);
        self.registrations += 1;
        let mut ok = self.response(msg, peer, 200, "OK");
        if let Some(contact) = msg.header("Contact") {
            ok = ok.with("Contact", contact.to_string());
        }
        let local =
            now.naive_utc() + chrono::Duration::seconds(i64::from(self.settings.utc_offset_s));
        ok = ok
            .with("Expires", granted.to_string())
            .with("Date", gb28181::time::sip_date(local));
        if let Some(v) = msg.header("X-GB-Ver") {
            ok = ok.with("X-GB-Ver", v.to_string());
        }
        h.out.push(Out {
            to: peer,
            bytes: ok.to_bytes(),
        });
        match outcome {
            RegisterOutcome::Unregistered => {
                self.states[i].peer = None;
                self.states[i].armed = false;
                self.states[i].pending.clear();
            }
            RegisterOutcome::Refresh => self.states[i].peer = Some(peer),
            RegisterOutcome::New => {
                self.states[i].peer = Some(peer);
                self.states[i].armed = false;
                let queries = self.ask_after_register(i, now);
                h.out.extend(queries);
                if self.settings.arm_on_register {
                    let sn = self.next_sn();
                    let body = Body::Control(Control {
                        sn,
                        device_id: device_id.clone(),
                        cmd: ControlCmd::Guard { arm: true },
                    });
                    h.out.extend(self.request(i, &body));
                }
            }
        }
        h.verdicts.extend(self.transition(i, now));
    }
}
