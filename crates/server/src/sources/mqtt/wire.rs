//! MQTT 3.1.1 and 5 on the wire, through rumqttc's codecs (`mqttbytes::v4`, `v5::mqttbytes::v5`):
//! the session speaks [`In`] and [`Out`] and never sees a version's packet types. The one rule
//! that differs by version: a refused publish gets no acknowledgement in 3.1.1 (it has no
//! negative one) and a PUBACK/PUBREC with a reason code and reason string in 5.

use bytes::{Bytes, BytesMut};
use rumqttc::mqttbytes::v4;
use rumqttc::mqttbytes::{Error as Error4, QoS};
use rumqttc::v5::mqttbytes::v5;
use rumqttc::v5::mqttbytes::{Error as Error5, QoS as QoS5};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V4,
    V5,
}

#[derive(Debug, thiserror::Error)]
pub enum WireError {
    #[error("malformed packet: {0}")]
    V4(Error4),
    #[error("malformed packet: {0}")]
    V5(Error5),
}

/// What a CONNECT says.
#[derive(Debug, Clone)]
pub struct ConnectInfo {
    pub version: Version,
    pub client_id: String,
    pub clean: bool,
    pub keep_alive: u16,
    pub login: Option<(String, String)>,
}

/// A PUBLISH from the client.
#[derive(Debug, Clone)]
pub struct Publish {
    pub topic: String,
    pub qos: QoS,
    pub pkid: u16,
    pub payload: Bytes,
}

/// A packet from the client, whatever its version.
#[derive(Debug)]
pub enum In {
    Connect(ConnectInfo),
    Publish(Publish),
    PubRel(u16),
    Subscribe(u16, Vec<String>),
    Unsubscribe(u16, Vec<String>),
    PingReq,
    Disconnect,
    /// An acknowledgement of a message of ours (we deliver at QoS 0: nothing to do).
    ClientAck,
    /// A packet only a server sends, or AUTH (no enhanced authentication here).
    Unexpected(&'static str),
}

/// How a CONNECT is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnCode {
    Success,
    BadVersion,
    BadClientId,
    BadCredentials,
    NotAuthorized,
    ServerBusy,
}

/// Why a publish was refused: the counted reason and the message.
#[derive(Debug, Clone)]
pub struct Refusal {
    pub reason: &'static str,
    pub message: String,
}

/// How one SUBSCRIBE filter is answered.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SubAnswer {
    /// Granted, at QoS 0.
    Granted,
    /// Not a topic we serve.
    Invalid,
    /// No read right.
    NotAuthorized,
}

/// A packet to the client.
#[derive(Debug)]
pub enum Out {
    ConnAck(ConnCode),
    /// QoS 1 answer; `Some` refusal: nothing in 3.1.1, a reason code in 5.
    PubAck(u16, Option<Refusal>),
    /// QoS 2 answer, likewise.
    PubRec(u16, Option<Refusal>),
    PubComp(u16),
    /// One answer per filter.
    SubAck(u16, Vec<SubAnswer>),
    UnsubAck(u16, usize),
    PingResp,
    Message {
        topic: std::sync::Arc<str>,
        payload: Bytes,
        retain: bool,
    },
}

/// The CONNECT at the start of `buf`, in whichever version it comes; `None` until complete.
pub fn read_connect(buf: &mut BytesMut, max: usize) -> Result<Option<In>, WireError> {
    // The v4 reader would misread a level-5 CONNECT (its properties): the protocol level is
    // looked up first and the packet decoded by that version's codec.
    match rumqttc::mqttbytes::check(buf.iter(), max) {
        Err(Error4::InsufficientBytes(_)) => return Ok(None),
        Err(e) => return Err(WireError::V4(e)),
        Ok(_) => {}
    }
    let version = match protocol_level(buf) {
        Some(5) => Version::V5,
        _ => Version::V4,
    };
    read(version, buf, max)
}

/// The protocol level byte of a complete CONNECT frame: after the fixed header (1 byte and a
/// 1–4 byte remaining length) and the protocol name `MQTT` (2 + 4 bytes).
fn protocol_level(frame: &[u8]) -> Option<u8> {
    let len_bytes = frame.iter().skip(1).take(4).position(|b| b & 0x80 == 0)? + 1;
    frame.get(1 + len_bytes + 6).copied()
}

/// The next complete packet in `buf`, or `None` when more bytes are needed.
pub fn read(version: Version, buf: &mut BytesMut, max: usize) -> Result<Option<In>, WireError> {
    match version {
        Version::V4 => match v4::Packet::read(buf, max) {
            Ok(p) => Ok(Some(from_v4(p))),
            Err(Error4::InsufficientBytes(_)) => Ok(None),
            Err(e) => Err(WireError::V4(e)),
        },
        Version::V5 => {
            let max5 = u32::try_from(max).unwrap_or(u32::MAX);
            match v5::Packet::read(buf, Some(max5)) {
                Ok(p) => Ok(Some(from_v5(p))),
                Err(Error5::InsufficientBytes(_)) => Ok(None),
                Err(e) => Err(WireError::V5(e)),
            }
        }
    }
}

fn from_v4(p: v4::Packet) -> In {
    match p {
        v4::Packet::Connect(c) => In::Connect(ConnectInfo {
            version: Version::V4,
            client_id: c.client_id,
            clean: c.clean_session,
            keep_alive: c.keep_alive,
            login: c.login.map(|l| (l.username, l.password)),
        }),
        v4::Packet::Publish(p) => In::Publish(Publish {
            topic: p.topic,
            qos: p.qos,
            pkid: p.pkid,
            payload: p.payload,
        }),
        v4::Packet::PubRel(r) => In::PubRel(r.pkid),
        v4::Packet::Subscribe(s) => {
            In::Subscribe(s.pkid, s.filters.into_iter().map(|f| f.path).collect())
        }
        v4::Packet::Unsubscribe(u) => In::Unsubscribe(u.pkid, u.topics),
        v4::Packet::PingReq => In::PingReq,
        v4::Packet::Disconnect => In::Disconnect,
        v4::Packet::PubAck(_) | v4::Packet::PubRec(_) | v4::Packet::PubComp(_) => In::ClientAck,
        v4::Packet::ConnAck(_)
        | v4::Packet::SubAck(_)
        | v4::Packet::UnsubAck(_)
        | v4::Packet::PingResp => In::Unexpected("a packet only a server sends"),
    }
}

fn qos_from5(q: QoS5) -> QoS {
    match q {
        QoS5::AtMostOnce => QoS::AtMostOnce,
        QoS5::AtLeastOnce => QoS::AtLeastOnce,
        QoS5::ExactlyOnce => QoS::ExactlyOnce,
    }
}

fn from_v5(p: v5::Packet) -> In {
    match p {
        v5::Packet::Connect(c, _will, login) => In::Connect(ConnectInfo {
            version: Version::V5,
            client_id: c.client_id,
            clean: c.clean_start,
            keep_alive: c.keep_alive,
            login: login.map(|l| (l.username, l.password)),
        }),
        v5::Packet::Publish(p) => In::Publish(Publish {
            // A topic alias (empty topic) is not supported: the empty topic is refused.
            topic: String::from_utf8_lossy(&p.topic).into_owned(),
            qos: qos_from5(p.qos),
            pkid: p.pkid,
            payload: p.payload,
        }),
        v5::Packet::PubRel(r) => In::PubRel(r.pkid),
        v5::Packet::Subscribe(s) => {
            In::Subscribe(s.pkid, s.filters.into_iter().map(|f| f.path).collect())
        }
        v5::Packet::Unsubscribe(u) => In::Unsubscribe(u.pkid, u.filters),
        v5::Packet::PingReq(_) => In::PingReq,
        v5::Packet::Disconnect(_) => In::Disconnect,
        v5::Packet::PubAck(_) | v5::Packet::PubRec(_) | v5::Packet::PubComp(_) => In::ClientAck,
        v5::Packet::Auth(_) => In::Unexpected("AUTH (enhanced authentication is not offered)"),
        v5::Packet::ConnAck(_)
        | v5::Packet::SubAck(_)
        | v5::Packet::UnsubAck(_)
        | v5::Packet::PingResp(_) => In::Unexpected("a packet only a server sends"),
    }
}

/// The MQTT 5 reason code of a refusal (MQTT 5 §3.4.2.1).
fn puback_reason(reason: &str) -> v5::PubAckReason {
    match reason {
        "not_authorised" => v5::PubAckReason::NotAuthorized,
        "unknown_topic" => v5::PubAckReason::TopicNameInvalid,
        "bad_payload" => v5::PubAckReason::PayloadFormatInvalid,
        // Valid, but not accepted (what HTTP answers with a 4xx).
        "rejected" => v5::PubAckReason::ImplementationSpecificError,
        _ => v5::PubAckReason::UnspecifiedError,
    }
}

fn pubrec_reason(reason: &str) -> v5::PubRecReason {
    match puback_reason(reason) {
        v5::PubAckReason::NotAuthorized => v5::PubRecReason::NotAuthorized,
        v5::PubAckReason::TopicNameInvalid => v5::PubRecReason::TopicNameInvalid,
        v5::PubAckReason::PayloadFormatInvalid => v5::PubRecReason::PayloadFormatInvalid,
        v5::PubAckReason::ImplementationSpecificError => {
            v5::PubRecReason::ImplementationSpecificError
        }
        _ => v5::PubRecReason::UnspecifiedError,
    }
}

/// A reason string short enough for any client (MQTT 5 allows 64 KiB; keep it to one line).
fn reason_string(message: &str) -> String {
    message.chars().take(256).collect()
}

/// Encodes `out`; `Ok(false)` when this version sends nothing for it (a 3.1.1 refusal).
pub fn write(
    version: Version,
    out: Out,
    buf: &mut BytesMut,
    max: usize,
) -> Result<bool, WireError> {
    match version {
        Version::V4 => {
            let p = match out {
                Out::ConnAck(code) => v4::Packet::ConnAck(v4::ConnAck::new(
                    match code {
                        ConnCode::Success => v4::ConnectReturnCode::Success,
                        ConnCode::BadVersion => v4::ConnectReturnCode::RefusedProtocolVersion,
                        ConnCode::BadClientId => v4::ConnectReturnCode::BadClientId,
                        ConnCode::BadCredentials => v4::ConnectReturnCode::BadUserNamePassword,
                        ConnCode::NotAuthorized => v4::ConnectReturnCode::NotAuthorized,
                        ConnCode::ServerBusy => v4::ConnectReturnCode::ServiceUnavailable,
                    },
                    false,
                )),
                Out::PubAck(_, Some(_)) | Out::PubRec(_, Some(_)) => return Ok(false),
                Out::PubAck(pkid, None) => v4::Packet::PubAck(v4::PubAck::new(pkid)),
                Out::PubRec(pkid, None) => v4::Packet::PubRec(v4::PubRec::new(pkid)),
                Out::PubComp(pkid) => v4::Packet::PubComp(v4::PubComp::new(pkid)),
                Out::SubAck(pkid, ok) => v4::Packet::SubAck(v4::SubAck::new(
                    pkid,
                    ok.into_iter()
                        .map(|a| match a {
                            SubAnswer::Granted => v4::SubscribeReasonCode::Success(QoS::AtMostOnce),
                            // 3.1.1 has one failure code (0x80).
                            SubAnswer::Invalid | SubAnswer::NotAuthorized => {
                                v4::SubscribeReasonCode::Failure
                            }
                        })
                        .collect(),
                )),
                Out::UnsubAck(pkid, _) => v4::Packet::UnsubAck(v4::UnsubAck::new(pkid)),
                Out::PingResp => v4::Packet::PingResp,
                Out::Message {
                    topic,
                    payload,
                    retain,
                } => {
                    let mut p = v4::Publish::new(topic.as_ref(), QoS::AtMostOnce, Vec::new());
                    p.payload = payload;
                    p.retain = retain;
                    v4::Packet::Publish(p)
                }
            };
            p.write(buf, max).map_err(WireError::V4)?;
        }
        Version::V5 => {
            let p = match out {
                Out::ConnAck(code) => v5::Packet::ConnAck(v5::ConnAck {
                    session_present: false,
                    code: match code {
                        ConnCode::Success => v5::ConnectReturnCode::Success,
                        ConnCode::BadVersion => v5::ConnectReturnCode::UnsupportedProtocolVersion,
                        ConnCode::BadClientId => v5::ConnectReturnCode::ClientIdentifierNotValid,
                        ConnCode::BadCredentials => v5::ConnectReturnCode::BadUserNamePassword,
                        ConnCode::NotAuthorized => v5::ConnectReturnCode::NotAuthorized,
                        ConnCode::ServerBusy => v5::ConnectReturnCode::ServerBusy,
                    },
                    properties: None,
                }),
                Out::PubAck(pkid, refusal) => v5::Packet::PubAck(match refusal {
                    None => v5::PubAck::new(pkid, None),
                    Some(r) => v5::PubAck {
                        pkid,
                        reason: puback_reason(r.reason),
                        properties: Some(v5::PubAckProperties {
                            reason_string: Some(reason_string(&r.message)),
                            user_properties: Vec::new(),
                        }),
                    },
                }),
                Out::PubRec(pkid, refusal) => v5::Packet::PubRec(match refusal {
                    None => v5::PubRec::new(pkid, None),
                    Some(r) => v5::PubRec {
                        pkid,
                        reason: pubrec_reason(r.reason),
                        properties: Some(v5::PubRecProperties {
                            reason_string: Some(reason_string(&r.message)),
                            user_properties: Vec::new(),
                        }),
                    },
                }),
                Out::PubComp(pkid) => v5::Packet::PubComp(v5::PubComp::new(pkid, None)),
                Out::SubAck(pkid, ok) => v5::Packet::SubAck(v5::SubAck {
                    pkid,
                    return_codes: ok
                        .into_iter()
                        .map(|a| match a {
                            SubAnswer::Granted => {
                                v5::SubscribeReasonCode::Success(QoS5::AtMostOnce)
                            }
                            SubAnswer::Invalid => v5::SubscribeReasonCode::TopicFilterInvalid,
                            SubAnswer::NotAuthorized => v5::SubscribeReasonCode::NotAuthorized,
                        })
                        .collect(),
                    properties: None,
                }),
                Out::UnsubAck(pkid, n) => v5::Packet::UnsubAck(v5::UnsubAck {
                    pkid,
                    reasons: vec![v5::UnsubAckReason::Success; n],
                    properties: None,
                }),
                Out::PingResp => v5::Packet::PingResp(v5::PingResp),
                Out::Message {
                    topic,
                    payload,
                    retain,
                } => {
                    let mut p = v5::Publish::new(topic.as_ref(), QoS5::AtMostOnce, payload, None);
                    p.retain = retain;
                    v5::Packet::Publish(p)
                }
            };
            let max5 = u32::try_from(max).unwrap_or(u32::MAX);
            p.write(buf, Some(max5)).map_err(WireError::V5)?;
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connect_bytes(v5: bool) -> BytesMut {
        let mut buf = BytesMut::new();
        if v5 {
            let c = v5::Connect {
                keep_alive: 5,
                client_id: "c5".into(),
                clean_start: true,
                properties: None,
            };
            v5::Packet::Connect(
                c,
                None,
                Some(v5::Login {
                    username: "u".into(),
                    password: "p".into(),
                }),
            )
            .write(&mut buf, None)
            .unwrap();
        } else {
            let mut c = v4::Connect::new("c4");
            c.set_login("u", "p");
            v4::Packet::Connect(c).write(&mut buf, 1 << 20).unwrap();
        }
        buf
    }

    #[test]
    fn both_versions_of_connect_are_read() {
        for v5 in [false, true] {
            let mut buf = connect_bytes(v5);
            let whole = buf.clone();
            let mut partial = BytesMut::from(&whole[..whole.len() - 1]);
            assert!(read_connect(&mut partial, 1 << 20).unwrap().is_none());
            let Some(In::Connect(c)) = read_connect(&mut buf, 1 << 20).unwrap() else {
                panic!("CONNECT");
            };
            assert_eq!(c.version, if v5 { Version::V5 } else { Version::V4 });
            assert_eq!(c.login, Some(("u".into(), "p".into())));
            assert!(buf.is_empty());
        }
    }

    #[test]
    fn refusals_are_silent_in_3_1_1_and_coded_in_5() {
        let r = || {
            Some(Refusal {
                reason: "bad_payload",
                message: "not JSON".into(),
            })
        };
        let mut buf = BytesMut::new();
        assert!(!write(Version::V4, Out::PubAck(7, r()), &mut buf, 1 << 20).unwrap());
        assert!(buf.is_empty());
        assert!(write(Version::V5, Out::PubAck(7, r()), &mut buf, 1 << 20).unwrap());
        let Ok(v5::Packet::PubAck(ack)) = v5::Packet::read(&mut buf, None) else {
            panic!("PUBACK");
        };
        assert_eq!(ack.reason, v5::PubAckReason::PayloadFormatInvalid);
        assert_eq!(
            ack.properties.and_then(|p| p.reason_string).as_deref(),
            Some("not JSON")
        );
    }
}
