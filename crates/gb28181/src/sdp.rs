//! The SDP of a GB/T 28181 live-view INVITE (reference §1.8): the platform's offer naming the
//! media server's receive port, the camera's answer, and the 10-digit SSRC (`y=`).
//!
//! Only what GB/T 28181 carries is modelled: one `m=video` line, `c=`, `a=` attributes and the
//! GB extension `y=` (SSRC, decimal). Unknown lines are ignored when parsing.

use std::fmt::Write as _;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    #[error("the SIP domain {0:?} has fewer than 8 digits: no SSRC can be derived from it")]
    Domain(String),
    #[error("the SDP is not text")]
    NotText,
    #[error("the SDP has no m=video line")]
    NoVideo,
    #[error("bad SDP line {0:?}")]
    BadLine(String),
}

/// Live (`0`) or history (`1`): the first digit of the SSRC.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StreamKind {
    Live,
    History,
}

/// The SSRC of stream `seq` (mod 10,000): the kind digit, then `domain[3..8]`, then 4 digits
/// (reference §1.8, after WVP's `SSRCFactory`).
pub fn ssrc(kind: StreamKind, domain: &str, seq: u32) -> Result<String, SdpError> {
    let part = domain
        .get(3..8)
        .filter(|p| p.bytes().all(|b| b.is_ascii_digit()))
        .ok_or_else(|| SdpError::Domain(domain.to_string()))?;
    let first = match kind {
        StreamKind::Live => '0',
        StreamKind::History => '1',
    };
    Ok(format!("{first}{part}{:04}", seq % 10_000))
}

/// What the platform offers in its INVITE: "send PS over RTP/UDP to `ip:port` with `ssrc`".
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlayOffer {
    /// The platform's 20-digit ID (`o=` user).
    pub origin: String,
    /// Where the camera sends RTP (the media server's address).
    pub media_ip: String,
    pub port: u16,
    pub ssrc: String,
}

impl PlayOffer {
    /// The SDP text of the reference (UDP, `s=Play`), CRLF line ends.
    pub fn to_sdp(&self) -> String {
        let mut s = String::new();
        let ip = &self.media_ip;
        let family = if ip.contains(':') { "IP6" } else { "IP4" };
        let lines = [
            "v=0".to_string(),
            format!("o={} 0 0 IN {family} {ip}", self.origin),
            "s=Play".to_string(),
            format!("c=IN {family} {ip}"),
            "t=0 0".to_string(),
            format!("m=video {} RTP/AVP 96 97 98 99", self.port),
            "a=recvonly".to_string(),
            "a=rtpmap:96 PS/90000".to_string(),
            "a=rtpmap:98 H264/90000".to_string(),
            "a=rtpmap:97 MPEG4/90000".to_string(),
            "a=rtpmap:99 H265/90000".to_string(),
            format!("y={}", self.ssrc),
        ];
        for l in lines {
            let _ = write!(s, "{l}\r\n");
        }
        s
    }
}

/// A parsed GB/T 28181 SDP (offer or answer).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Sdp {
    /// `s=`: Play, Playback, Download.
    pub session: String,
    /// `o=` username (the sender's ID).
    pub origin: String,
    /// `c=` address.
    pub connection: Option<String>,
    pub video_port: u16,
    /// `RTP/AVP` (UDP) or `TCP/RTP/AVP`.
    pub proto: String,
    pub formats: Vec<u8>,
    /// `a=rtpmap:PT NAME/RATE` as (PT, "NAME/RATE").
    pub rtpmap: Vec<(u8, String)>,
    /// `sendonly`, `recvonly`, `sendrecv`.
    pub direction: Option<String>,
    /// `y=`: the SSRC, as the decimal text it was sent in.
    pub ssrc: Option<String>,
}

impl Sdp {
    pub fn parse(bytes: &[u8]) -> Result<Sdp, SdpError> {
        let text = std::str::from_utf8(bytes).map_err(|_| SdpError::NotText)?;
        let mut sdp = Sdp::default();
        let mut video = false;
        for line in text.lines().map(str::trim).filter(|l| !l.is_empty()) {
            let bad = || SdpError::BadLine(line.chars().take(80).collect());
            let (key, value) = line.split_once('=').ok_or_else(bad)?;
            match key {
                "s" => sdp.session = value.to_string(),
                "o" => sdp.origin = value.split(' ').next().unwrap_or_default().to_string(),
                "c" => sdp.connection = value.split(' ').nth(2).map(str::to_string),
                "m" => {
                    let mut parts = value.split_whitespace();
                    if parts.next() != Some("video") {
                        continue;
                    }
                    video = true;
                    sdp.video_port = parts.next().and_then(|p| p.parse().ok()).ok_or_else(bad)?;
                    sdp.proto = parts.next().ok_or_else(bad)?.to_string();
                    sdp.formats = parts.filter_map(|f| f.parse().ok()).collect();
                }
                "a" => {
                    if let Some(map) = value.strip_prefix("rtpmap:") {
                        let (pt, codec) = map.split_once(' ').ok_or_else(bad)?;
                        let pt = pt.parse().map_err(|_| bad())?;
                        sdp.rtpmap.push((pt, codec.trim().to_string()));
                    } else if ["sendonly", "recvonly", "sendrecv", "inactive"].contains(&value) {
                        sdp.direction = Some(value.to_string());
                    }
                }
                "y" => {
                    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(bad());
                    }
                    sdp.ssrc = Some(value.to_string());
                }
                _ => {}
            }
        }
        if !video {
            return Err(SdpError::NoVideo);
        }
        Ok(sdp)
    }
}

/// The camera's answer to `offer`: it sends (`a=sendonly`) PS from `ip:port` with its `y=`.
pub fn answer(offer: &Sdp, device_id: &str, ip: &str, port: u16) -> String {
    let ssrc = offer.ssrc.clone().unwrap_or_default();
    let mut s = String::new();
    for l in [
        "v=0".to_string(),
        format!("o={device_id} 0 0 IN IP4 {ip}"),
        format!(
            "s={}",
            if offer.session.is_empty() {
                "Play"
            } else {
                &offer.session
            }
        ),
        format!("c=IN IP4 {ip}"),
        "t=0 0".to_string(),
        format!("m=video {port} RTP/AVP 96"),
        "a=sendonly".to_string(),
        "a=rtpmap:96 PS/90000".to_string(),
        format!("y={ssrc}"),
    ] {
        let _ = write!(s, "{l}\r\n");
    }
    s
}
