//! Live view's SIP side, without sockets (reference §1.8): the INVITE carrying the SDP offer
//! (the media server's receive port, `y=` SSRC, `Subject`), the camera's `200` + SDP answered
//! by `ACK` (a new transaction, new Via branch), `BYE` from either side. One dialog per camera.
//!
//! The shell (`live.rs`) opens the media server's port before [`Platform::invite`] and waits
//! for the [`InviteAnswer`] that [`Platform::handle`] reports when the camera answers.

use super::platform::{Handled, Out, Peer, Platform};
use chrono::{DateTime, Utc};
use gb28181::Message;
use gb28181::sdp::{self, PlayOffer, Sdp, StreamKind};

/// One live-view dialog (INVITE sent; confirmed once the camera's 200 was ACKed).
#[derive(Debug, Clone)]
pub struct Dialog {
    pub camera: usize,
    pub call_id: String,
    /// The media server's stream id (app `rtp`).
    pub stream_id: String,
    pub ssrc: String,
    pub rtp_ip: String,
    pub rtp_port: u16,
    pub confirmed: bool,
    pub started: DateTime<Utc>,
    /// A provisional (1xx) answer came: a CANCEL may be sent (RFC 3261 §9.1).
    pub provisional: bool,
    pub(super) peer: Peer,
    /// Our From (with our tag) and the To (with the camera's tag once it answered).
    pub(super) from: String,
    pub(super) to: String,
    /// Request URI of in-dialog requests: the camera's Contact, else the INVITE's URI.
    pub(super) target: String,
    /// The INVITE's Via (the ACK of a non-2xx answer and a CANCEL reuse it, §17.1.1.3, §9.1).
    pub(super) invite_via: String,
    pub(super) cseq: u32,
}

/// A camera's final answer to an INVITE: its SDP, or why there is no stream.
#[derive(Debug)]
pub struct InviteAnswer {
    pub call_id: String,
    pub result: Result<Sdp, String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InviteError {
    #[error("the camera is not online")]
    Offline,
    #[error("a live view of this camera is being set up")]
    Busy,
    #[error(transparent)]
    Sdp(#[from] sdp::SdpError),
}

impl Platform {
    /// The camera of video point `point` (`V01`, …).
    pub fn camera_by_point(&self, point: &str) -> Option<usize> {
        self.cameras.iter().position(|c| c.video_id == point)
    }

    pub fn dialog_of(&self, camera: usize) -> Option<&Dialog> {
        self.dialogs.values().find(|d| d.camera == camera)
    }

    /// The media server's stream id of camera `i`: `{device}_{channel}`, as WVP names them.
    pub fn stream_id(&self, i: usize) -> String {
        let c = &self.cameras[i];
        format!("{}_{}", c.device_id, c.channel_id)
    }

    /// The INVITE asking camera `i` to send PS over RTP/UDP to `rtp_ip:rtp_port`.
    pub fn invite(
        &mut self,
        i: usize,
        rtp_ip: &str,
        rtp_port: u16,
        now: DateTime<Utc>,
    ) -> Result<(Out, Dialog), InviteError> {
        let peer = match self.states[i].peer {
            Some(p) if self.is_online(i, now) => p,
            _ => return Err(InviteError::Offline),
        };
        if self.dialog_of(i).is_some() {
            return Err(InviteError::Busy);
        }
        self.streams = self.streams.wrapping_add(1);
        let ssrc = sdp::ssrc(StreamKind::Live, &self.settings.domain, self.streams)?;
        let platform = self.settings.platform_id.clone();
        let domain = self.settings.domain.clone();
        let channel = self.cameras[i].channel_id.clone();
        let offer = PlayOffer {
            origin: platform.clone(),
            media_ip: rtp_ip.to_string(),
            port: rtp_port,
            ssrc: ssrc.clone(),
        };
        let target = format!("sip:{channel}@{domain}");
        let via = self.via(peer);
        let from = format!(
            "<sip:{platform}@{domain}>;tag={}",
            &self.token("ftag")[..12]
        );
        let to = format!("<sip:{channel}@{domain}>");
        let call_id = format!("{}@{}", self.token("call"), self.local.ip());
        let m = Message::request("INVITE", &target)
            .with("Via", via.clone())
            .with("From", from.clone())
            .with("To", to.clone())
            .with("Call-ID", call_id.clone())
            .with("CSeq", "1 INVITE")
            .with("Contact", format!("<sip:{platform}@{}>", self.local))
            .with("Max-Forwards", "70")
            .with("User-Agent", "qingshui")
            // Which channel, which stream: `<channel>:<ssrc>,<platform>:0` (reference §1.8).
            .with("Subject", format!("{channel}:{ssrc},{platform}:0"))
            .with_body("APPLICATION/SDP", offer.to_sdp().into_bytes());
        let dialog = Dialog {
            camera: i,
            call_id: call_id.clone(),
            stream_id: self.stream_id(i),
            ssrc,
            rtp_ip: rtp_ip.to_string(),
            rtp_port,
            confirmed: false,
            started: now,
            provisional: false,
            peer,
            from,
            to,
            target,
            invite_via: via,
            cseq: 1,
        };
        self.dialogs.insert(call_id, dialog.clone());
        Ok((
            Out {
                to: peer,
                bytes: m.to_bytes(),
            },
            dialog,
        ))
    }

    fn via(&mut self, peer: Peer) -> String {
        let branch = self.token("branch");
        format!(
            "SIP/2.0/{} {};rport;branch=z9hG4bK{branch}",
            peer.transport(),
            self.local
        )
    }

    /// A request inside dialog `d` (ACK, BYE); `via` is a fresh one unless given.
    pub(super) fn in_dialog(
        &mut self,
        d: &Dialog,
        method: &str,
        cseq: u32,
        via: Option<String>,
    ) -> Out {
        let via = via.unwrap_or_else(|| self.via(d.peer));
        let m = Message::request(method, &d.target)
            .with("Via", via)
            .with("From", d.from.clone())
            .with("To", d.to.clone())
            .with("Call-ID", d.call_id.clone())
            .with("CSeq", format!("{cseq} {method}"))
            .with("Max-Forwards", "70")
            .with("User-Agent", "qingshui");
        Out {
            to: d.peer,
            bytes: m.to_bytes(),
        }
    }

    /// A response from a camera: only answers to our INVITEs matter.
    pub(super) fn on_response(&mut self, msg: &Message, h: &mut Handled) {
        let (Ok(call_id), Ok((_, "INVITE")), Some(status)) =
            (msg.call_id(), msg.cseq(), msg.status())
        else {
            return;
        };
        let Some(d) = self.dialogs.get(call_id).cloned() else {
            self.on_abandoned_response(msg, call_id, status, h);
            return;
        };
        if status < 200 {
            if let Some(d) = self.dialogs.get_mut(call_id) {
                d.provisional = true;
            }
            return;
        }
        let mut answered = d.clone();
        if let Some(to) = msg.header("To") {
            answered.to = to.to_string();
        }
        if status >= 300 {
            // The ACK of a failed INVITE belongs to the INVITE's own transaction.
            let via = Some(d.invite_via.clone());
            h.out.push(self.in_dialog(&answered, "ACK", d.cseq, via));
            self.dialogs.remove(call_id);
            let reason = match &msg.start {
                gb28181::sip::StartLine::Response { reason, .. } => reason.clone(),
                gb28181::sip::StartLine::Request { .. } => String::new(),
            };
            h.answers.push(InviteAnswer {
                call_id: call_id.to_string(),
                result: Err(format!("{status} {reason}")),
            });
            return;
        }
        if let Some(contact) = msg.header("Contact")
            && let Some(uri) = contact_uri(contact)
        {
            answered.target = uri;
        }
        h.out.push(self.in_dialog(&answered, "ACK", d.cseq, None));
        if d.confirmed {
            // A retransmitted 200: our ACK was lost, and it is sent again; nothing else.
            return;
        }
        match Sdp::parse(&msg.body) {
            Ok(sdp) => {
                answered.confirmed = true;
                self.dialogs.insert(call_id.to_string(), answered);
                h.answers.push(InviteAnswer {
                    call_id: call_id.to_string(),
                    result: Ok(sdp),
                });
            }
            Err(e) => {
                // A 200 we cannot use: confirm it (ACK above) and end it at once.
                let bye = self.in_dialog(&answered, "BYE", d.cseq + 1, None);
                h.out.push(bye);
                self.dialogs.remove(call_id);
                h.answers.push(InviteAnswer {
                    call_id: call_id.to_string(),
                    result: Err(format!("the camera's SDP is unusable: {e}")),
                });
            }
        }
    }

    /// The camera ends the stream.
    pub(super) fn on_bye(&mut self, msg: &Message, peer: Peer, h: &mut Handled) {
        let ended = msg.call_id().ok().and_then(|c| self.dialogs.remove(c));
        match ended {
            Some(d) => {
                h.out.push(self.respond(msg, peer, 200, "OK"));
                h.ended.push(d);
            }
            None => h
                .out
                .push(self.respond(msg, peer, 481, "Call/Transaction Does Not Exist")),
        }
    }

    /// Ends camera `i`'s live view: the BYE to send (none if the INVITE was never answered)
    /// and the dialog, whose media server port the caller closes.
    pub fn bye(&mut self, i: usize) -> Option<(Option<Out>, Dialog)> {
        let call_id = self.dialog_of(i)?.call_id.clone();
        let d = self.dialogs.remove(&call_id)?;
        let out = d
            .confirmed
            .then(|| self.in_dialog(&d, "BYE", d.cseq + 1, None));
        Some((out, d))
    }
}

/// The URI inside a Contact value (`<sip:…>;params` or a bare `sip:…`).
pub(super) fn contact_uri(v: &str) -> Option<String> {
    let uri = match (v.find('<'), v.find('>')) {
        (Some(a), Some(b)) if a < b => &v[a + 1..b],
        _ => v.split(';').next().unwrap_or_default().trim(),
    };
    uri.starts_with("sip:").then(|| uri.to_string())
}

#[cfg(test)]
pub(super) mod tests {
    //! The dialog rules without sockets: what goes out for each answer a camera can give.
    use super::super::platform::{Camera, Out, Peer, Platform, Settings};
    use chrono::{DateTime, Utc};
    use gb28181::Message;
    use gb28181::sip::{self, Limits};

    const CAM: &str = "52018100431322000001";

    pub(in crate::sources::gb28181) fn platform(now: DateTime<Utc>) -> Platform {
        let settings = Settings {
            platform_id: "52018100432002000001".into(),
            domain: "5201810043".into(),
            password: crate::config::Secret::new("pw"),
            device_passwords: Default::default(),
            liveness: gb28181::Liveness {
                interval_s: 60,
                count: 3,
            },
            min_expires_s: 60,
            max_expires_s: 86_400,
            nonce_ttl_s: 300,
            arm_on_register: false,
            utc_offset_s: 8 * 3600,
            snapshot_base: None,
            query_retry_s: 5,
            query_retries: 3,
        };
        let camera = Camera {
            video_id: "V01".into(),
            name_zh: String::new(),
            name_en: String::new(),
            zone: String::new(),
            zone_kind: String::new(),
            zone_name_zh: String::new(),
            zone_name_en: String::new(),
            device_id: CAM.into(),
            channel_id: CAM.into(),
        };
        let mut p = Platform::new(
            settings,
            "127.0.0.1:5060".parse().expect("addr"),
            vec![camera],
            now,
        );
        p.states[0].registration.register(now, 3600, "reg-1");
        p.states[0].peer = Some(Peer::Udp("127.0.0.1:40000".parse().expect("addr")));
        p
    }

    pub(in crate::sources::gb28181) fn parse(o: &Out) -> Message {
        sip::parse_datagram(&o.bytes, Limits::default()).expect("our own SIP parses")
    }

    fn branch(m: &Message) -> String {
        let via = m.header("Via").unwrap_or_default();
        sip::param(via, "branch").unwrap_or_default().to_string()
    }

    fn answer_sdp(invite: &Message) -> Vec<u8> {
        let offer = gb28181::sdp::Sdp::parse(&invite.body).expect("offer");
        gb28181::sdp::answer(&offer, CAM, "127.0.0.1", 15060).into_bytes()
    }

    pub(in crate::sources::gb28181) fn peer() -> Peer {
        Peer::Udp("127.0.0.1:40000".parse().expect("addr"))
    }

    #[test]
    fn an_offline_camera_gets_no_invite_and_one_dialog_per_camera() {
        let now = Utc::now();
        let mut p = platform(now);
        p.states[0].registration = Default::default();
        assert_eq!(
            p.invite(0, "127.0.0.1", 30000, now).err(),
            Some(super::InviteError::Offline)
        );
        let mut p = platform(now);
        assert!(p.invite(0, "127.0.0.1", 30000, now).is_ok());
        assert_eq!(
            p.invite(0, "127.0.0.1", 30001, now).err(),
            Some(super::InviteError::Busy)
        );
    }

    #[test]
    fn a_200_is_acked_in_a_new_transaction_and_a_retransmission_acked_again() {
        let now = Utc::now();
        let mut p = platform(now);
        let (out, d) = p.invite(0, "127.0.0.1", 30000, now).expect("invite");
        let invite = parse(&out);
        assert_eq!(invite.method(), Some("INVITE"));
        let ok = Message::response_to(&invite, 200, "OK", "cam-tag")
            .with("Contact", format!("<sip:{CAM}@127.0.0.1:40000>"))
            .with_body("application/sdp", answer_sdp(&invite));
        let h = p.handle(&ok, peer(), now);
        assert_eq!(h.answers.len(), 1);
        assert!(h.answers[0].result.is_ok());
        assert_eq!(h.out.len(), 1);
        let ack = parse(&h.out[0]);
        assert_eq!(ack.method(), Some("ACK"));
        assert_eq!(
            ack.start,
            sip::StartLine::Request {
                method: "ACK".into(),
                uri: format!("sip:{CAM}@127.0.0.1:40000")
            },
            "the ACK goes to the camera's Contact"
        );
        assert_ne!(
            branch(&ack),
            branch(&invite),
            "a 2xx ACK is a new transaction"
        );
        assert!(ack.header("To").unwrap_or_default().contains("tag=cam-tag"));
        assert_eq!(ack.cseq().ok(), Some((1, "ACK")));
        assert!(p.dialog_of(0).is_some_and(|x| x.confirmed));
        // The same 200 again: ACK again, no second answer.
        let h = p.handle(&ok, peer(), now);
        assert!(h.answers.is_empty());
        assert_eq!(h.out.len(), 1);
        assert_eq!(parse(&h.out[0]).method(), Some("ACK"));
        // Stop: BYE with CSeq 2 and both tags; the dialog is gone.
        let (bye, ended) = p.bye(0).expect("a dialog");
        let bye = parse(&bye.expect("a BYE for a confirmed dialog"));
        assert_eq!(bye.cseq().ok(), Some((2, "BYE")));
        assert!(bye.header("To").unwrap_or_default().contains("tag=cam-tag"));
        assert_eq!(ended.call_id, d.call_id);
        assert!(p.dialog_of(0).is_none());
    }

    #[test]
    fn a_refusal_is_acked_with_the_invites_branch_and_ends_the_request() {
        let now = Utc::now();
        let mut p = platform(now);
        let (out, _) = p.invite(0, "127.0.0.1", 30000, now).expect("invite");
        let invite = parse(&out);
        // 1xx: nothing yet.
        let trying = Message::response_to(&invite, 100, "Trying", "t");
        assert!(p.handle(&trying, peer(), now).out.is_empty());
        let busy = Message::response_to(&invite, 486, "Busy Here", "cam-tag");
        let h = p.handle(&busy, peer(), now);
        let ack = parse(&h.out[0]);
        assert_eq!(ack.method(), Some("ACK"));
        assert_eq!(
            branch(&ack),
            branch(&invite),
            "a non-2xx ACK is in the INVITE's transaction"
        );
        assert_eq!(
            h.answers[0].result.as_ref().err().map(String::as_str),
            Some("486 Busy Here")
        );
        assert!(p.dialog_of(0).is_none(), "a new play may start");
    }

    #[test]
    fn an_unusable_sdp_is_acked_then_ended_and_a_camera_bye_closes_the_dialog() {
        let now = Utc::now();
        let mut p = platform(now);
        let (out, _) = p.invite(0, "127.0.0.1", 30000, now).expect("invite");
        let invite = parse(&out);
        let ok = Message::response_to(&invite, 200, "OK", "cam-tag")
            .with_body("application/sdp", b"v=0\r\ns=Play\r\n".to_vec());
        let h = p.handle(&ok, peer(), now);
        let methods: Vec<_> = h
            .out
            .iter()
            .map(|o| parse(o).method().map(str::to_string))
            .collect();
        assert_eq!(methods, [Some("ACK".into()), Some("BYE".into())]);
        assert!(h.answers[0].result.is_err());
        assert!(p.dialog_of(0).is_none());

        // A good dialog, then the camera hangs up.
        let (out, _) = p.invite(0, "127.0.0.1", 30000, now).expect("invite");
        let invite = parse(&out);
        let ok = Message::response_to(&invite, 200, "OK", "cam-tag")
            .with_body("application/sdp", answer_sdp(&invite));
        p.handle(&ok, peer(), now);
        let call_id = invite.call_id().expect("call id").to_string();
        let bye = Message::request("BYE", "sip:52018100432002000001@5201810043")
            .with("Via", "SIP/2.0/UDP 127.0.0.1:40000;branch=z9hG4bKcam1")
            .with("From", format!("<sip:{CAM}@5201810043>;tag=cam-tag"))
            .with("To", "<sip:52018100432002000001@5201810043>;tag=ours")
            .with("Call-ID", call_id)
            .with("CSeq", "1 BYE");
        let h = p.handle(&bye, peer(), now);
        assert_eq!(parse(&h.out[0]).status(), Some(200));
        assert_eq!(h.ended.len(), 1, "the port can be closed");
        assert!(p.dialog_of(0).is_none());
        // The same BYE again: no such dialog.
        let h = p.handle(&bye, peer(), now);
        assert_eq!(parse(&h.out[0]).status(), Some(481));
    }

    #[test]
    fn an_abandoned_invite_is_cancelled_only_after_a_provisional_answer() {
        let now = Utc::now();
        let mut p = platform(now);
        let (out, d) = p.invite(0, "127.0.0.1", 30000, now).expect("invite");
        let invite = parse(&out);
        // No 1xx yet: no CANCEL (RFC 3261 §9.1), but the INVITE is remembered.
        assert!(p.abandon(&d.call_id, now).is_none());
        assert!(p.dialog_of(0).is_none(), "a new play may start");
        assert_eq!(p.abandoned(), 1);
        // The first 1xx brings the CANCEL; a second 1xx no second one.
        let trying = Message::response_to(&invite, 100, "Trying", "cam-tag");
        let h = p.handle(&trying, peer(), now);
        assert_eq!(h.out.len(), 1);
        let cancel = parse(&h.out[0]);
        assert_eq!(cancel.method(), Some("CANCEL"));
        let sip::StartLine::Request { uri, .. } = &invite.start else {
            panic!("the INVITE is a request");
        };
        assert_eq!(
            cancel.start,
            sip::StartLine::Request {
                method: "CANCEL".into(),
                uri: uri.clone()
            },
            "the INVITE's Request-URI"
        );
        assert_eq!(branch(&cancel), branch(&invite), "the INVITE's transaction");
        assert_eq!(cancel.cseq().ok(), Some((1, "CANCEL")));
        assert_eq!(
            cancel.header("To"),
            invite.header("To"),
            "To as in the INVITE"
        );
        assert_eq!(cancel.header("From"), invite.header("From"));
        assert!(p.handle(&trying, peer(), now).out.is_empty());
        // 487 for the INVITE: ACKed in its transaction, then forgotten.
        let terminated = Message::response_to(&invite, 487, "Request Terminated", "cam-tag");
        let h = p.handle(&terminated, peer(), now);
        let ack = parse(&h.out[0]);
        assert_eq!(ack.method(), Some("ACK"));
        assert_eq!(branch(&ack), branch(&invite));
        assert!(h.late.is_empty());
        assert_eq!(p.abandoned(), 0);
    }

    #[test]
    fn a_late_200_is_acked_and_ended_once_and_spares_a_new_plays_port() {
        let now = Utc::now();
        let mut p = platform(now);
        let (out, d) = p.invite(0, "127.0.0.1", 30000, now).expect("invite");
        let invite = parse(&out);
        p.handle(
            &Message::response_to(&invite, 100, "Trying", "t"),
            peer(),
            now,
        );
        let cancel = p.abandon(&d.call_id, now).expect("CANCEL after a 1xx");
        assert_eq!(parse(&cancel).method(), Some("CANCEL"));
        let ok = Message::response_to(&invite, 200, "OK", "cam-tag")
            .with("Contact", format!("<sip:{CAM}@127.0.0.1:40000>"))
            .with_body("application/sdp", answer_sdp(&invite));
        let h = p.handle(&ok, peer(), now);
        let msgs: Vec<_> = h.out.iter().map(parse).collect();
        let methods: Vec<_> = msgs.iter().map(|m| m.method()).collect();
        assert_eq!(methods, [Some("ACK"), Some("BYE")]);
        assert_ne!(
            branch(&msgs[0]),
            branch(&invite),
            "a 2xx ACK is a new transaction"
        );
        assert_eq!(msgs[1].cseq().ok(), Some((2, "BYE")));
        assert!(
            msgs[1]
                .header("To")
                .unwrap_or_default()
                .contains("tag=cam-tag")
        );
        assert!(h.answers.is_empty(), "nobody waits for it");
        assert_eq!(h.late.len(), 1);
        assert_eq!(h.late[0].point, "V01");
        assert!(p.dialog_of(0).is_none());
        // Retransmitted: ACK again, no second BYE.
        let h = p.handle(&ok, peer(), now);
        assert_eq!(h.out.len(), 1);
        assert_eq!(parse(&h.out[0]).method(), Some("ACK"));
        assert!(h.late.is_empty());

        // Abandoned while a new play of the camera starts: its port is not reported.
        let (out, d) = p.invite(0, "127.0.0.1", 30000, now).expect("invite");
        let first = parse(&out);
        p.abandon(&d.call_id, now);
        let (_, d2) = p.invite(0, "127.0.0.1", 30002, now).expect("a new play");
        let ok = Message::response_to(&first, 200, "OK", "cam-tag")
            .with_body("application/sdp", answer_sdp(&first));
        let h = p.handle(&ok, peer(), now);
        assert_eq!(h.out.len(), 2, "still ACK + BYE");
        assert!(h.late.is_empty(), "the new play owns the stream id");
        assert_eq!(p.dialog_of(0).map(|x| x.call_id.clone()), Some(d2.call_id));
        // Forgotten after a while: a 200 then is nothing of ours.
        p.sweep(now + chrono::Duration::seconds(301));
        assert_eq!(p.abandoned(), 0);
    }
}
