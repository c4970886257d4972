//! SIP messages as GB/T 28181 uses them (RFC 3261 syntax, no dialog layer).
//!
//! One [`Message`] type for requests and responses. Header names are kept as
//! received for round trips, looked up case-insensitively, and compact forms
//! (`i`, `l`, `f`, …) are expanded so a device using them is understood.
//! Unknown headers are kept untouched. Limits come from [`Limits`] so the
//! server can make them settings.

use std::fmt::Write as _;

/// What can be wrong with bytes claiming to be SIP.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SipError {
    #[error("message of {size} bytes exceeds the limit of {limit}")]
    Oversized { size: usize, limit: usize },
    #[error("more than {limit} headers")]
    TooManyHeaders { limit: usize },
    #[error("message is not valid text: {0}")]
    NotText(&'static str),
    #[error("malformed start line: {0:?}")]
    StartLine(String),
    #[error("malformed header line: {0:?}")]
    HeaderLine(String),
    #[error("missing header {0}")]
    MissingHeader(&'static str),
    #[error("bad {header} header: {value:?}")]
    BadHeader { header: &'static str, value: String },
    #[error("Content-Length {declared} but {available} body bytes")]
    BodyLength { declared: usize, available: usize },
    #[error("no end of headers (blank line) found")]
    NoHeaderEnd,
}

/// Bounds a parser enforces before it allocates per message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// Whole message (headers and body) in bytes.
    pub max_message: usize,
    /// Number of header lines.
    pub max_headers: usize,
}

impl Default for Limits {
    /// A Catalog page of a large NVR stays well under 64 KiB; UDP datagrams
    /// cannot exceed it anyway.
    fn default() -> Self {
        Self {
            max_message: 65_535,
            max_headers: 64,
        }
    }
}

/// Request line or status line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StartLine {
    Request { method: String, uri: String },
    Response { status: u16, reason: String },
}

/// A parsed SIP message. Body bytes are kept raw: MANSCDP charsets are decided
/// by [`crate::manscdp::decode_text`], not here.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    pub start: StartLine,
    /// (name as received, value trimmed), in order; Content-Length is
    /// recomputed on serialisation.
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

/// Compact header forms (RFC 3261 §7.3.3 and the ones GB devices use).
const COMPACT: &[(&str, &str)] = &[
    ("i", "Call-ID"),
    ("m", "Contact"),
    ("e", "Content-Encoding"),
    ("l", "Content-Length"),
    ("c", "Content-Type"),
    ("f", "From"),
    ("s", "Subject"),
    ("k", "Supported"),
    ("t", "To"),
    ("v", "Via"),
];

fn full_name(name: &str) -> &str {
    COMPACT
        .iter()
        .find(|(short, _)| short.eq_ignore_ascii_case(name))
        .map_or(name, |(_, full)| full)
}

fn same_header(a: &str, b: &str) -> bool {
    full_name(a).eq_ignore_ascii_case(full_name(b))
}

/// Where one message ends inside a byte stream (TCP), or that more bytes are needed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Framed {
    /// A complete message and how many bytes it used.
    Complete(Message, usize),
    /// The buffer holds the start of a message; read more.
    Incomplete,
}

fn header_end(buf: &[u8]) -> Option<usize> {
    buf.windows(4).position(|w| w == b"\r\n\r\n").map(|p| p + 4)
}

/// Parses one UDP datagram: a single message; without Content-Length the body
/// is the rest of the datagram (RFC 3261 §18.3).
pub fn parse_datagram(buf: &[u8], limits: Limits) -> Result<Message, SipError> {
    if buf.len() > limits.max_message {
        return Err(SipError::Oversized {
            size: buf.len(),
            limit: limits.max_message,
        });
    }
    let end = header_end(buf).ok_or(SipError::NoHeaderEnd)?;
    let (start, headers) = parse_head(&buf[..end], limits)?;
    let rest = &buf[end..];
    let body = match content_length(&headers)? {
        Some(n) if n > rest.len() => {
            return Err(SipError::BodyLength {
                declared: n,
                available: rest.len(),
            });
        }
        Some(n) => rest[..n].to_vec(),
        None => rest.to_vec(),
    };
    Ok(Message {
        start,
        headers,
        body,
    })
}

/// Parses the first message of a TCP stream buffer. Content-Length is
/// mandatory on streams; leading CRLF keep-alives (RFC 5626) are skipped.
pub fn parse_stream(buf: &[u8], limits: Limits) -> Result<Framed, SipError> {
    let skip = buf
        .iter()
        .position(|b| *b != b'\r' && *b != b'\n')
        .unwrap_or(buf.len());
    let data = &buf[skip..];
    let Some(end) = header_end(data) else {
        if data.len() > limits.max_message {
            return Err(SipError::Oversized {
                size: data.len(),
                limit: limits.max_message,
            });
        }
        return Ok(Framed::Incomplete);
    };
    if end > limits.max_message {
        return Err(SipError::Oversized {
            size: end,
            limit: limits.max_message,
        });
    }
    let (start, headers) = parse_head(&data[..end], limits)?;
    let n = content_length(&headers)?.ok_or(SipError::MissingHeader("Content-Length"))?;
    if end + n > limits.max_message {
        return Err(SipError::Oversized {
            size: end + n,
            limit: limits.max_message,
        });
    }
    if data.len() < end + n {
        return Ok(Framed::Incomplete);
    }
    let body = data[end..end + n].to_vec();
    Ok(Framed::Complete(
        Message {
            start,
            headers,
            body,
        },
        skip + end + n,
    ))
}

fn content_length(headers: &[(String, String)]) -> Result<Option<usize>, SipError> {
    headers
        .iter()
        .find(|(k, _)| same_header(k, "Content-Length"))
        .map(|(_, v)| {
            v.parse::<usize>().map_err(|_| SipError::BadHeader {
                header: "Content-Length",
                value: v.clone(),
            })
        })
        .transpose()
}

type Head = (StartLine, Vec<(String, String)>);

fn parse_head(head: &[u8], limits: Limits) -> Result<Head, SipError> {
    let text = std::str::from_utf8(head).map_err(|_| SipError::NotText("headers are not UTF-8"))?;
    let mut lines = text.split("\r\n");
    let first = lines.next().unwrap_or_default();
    let start = parse_start(first)?;
    let mut headers: Vec<(String, String)> = Vec::new();
    for line in lines {
        if line.is_empty() {
            continue;
        }
        // Header folding (obsolete, RFC 3261 §7.3.1): a continuation line.
        if line.starts_with([' ', '\t']) {
            let Some((_, value)) = headers.last_mut() else {
                return Err(SipError::HeaderLine(line.to_string()));
            };
            value.push(' ');
            value.push_str(line.trim());
            continue;
        }
        let Some((name, value)) = line.split_once(':') else {
            return Err(SipError::HeaderLine(line.to_string()));
        };
        let name = name.trim();
        if name.is_empty() || !name.bytes().all(is_token_byte) {
            return Err(SipError::HeaderLine(line.to_string()));
        }
        if headers.len() >= limits.max_headers {
            return Err(SipError::TooManyHeaders {
                limit: limits.max_headers,
            });
        }
        headers.push((name.to_string(), value.trim().to_string()));
    }
    Ok((start, headers))
}

fn is_token_byte(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b"-.!%*_+`'~".contains(&b)
}

fn parse_start(line: &str) -> Result<StartLine, SipError> {
    let bad = || SipError::StartLine(line.chars().take(120).collect());
    if let Some(rest) = line.strip_prefix("SIP/2.0 ") {
        let (code, reason) = rest.split_once(' ').unwrap_or((rest, ""));
        let status: u16 = code.parse().map_err(|_| bad())?;
        if !(100..=699).contains(&status) {
            return Err(bad());
        }
        return Ok(StartLine::Response {
            status,
            reason: reason.to_string(),
        });
    }
    let mut parts = line.split(' ');
    let (Some(method), Some(uri), Some(version), None) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return Err(bad());
    };
    if version != "SIP/2.0"
        || method.is_empty()
        || !method.bytes().all(|b| b.is_ascii_uppercase())
        || uri.is_empty()
    {
        return Err(bad());
    }
    Ok(StartLine::Request {
        method: method.to_string(),
        uri: uri.to_string(),
    })
}

impl Message {
    /// A request with no headers yet.
    pub fn request(method: &str, uri: &str) -> Self {
        Self {
            start: StartLine::Request {
                method: method.to_string(),
                uri: uri.to_string(),
            },
            headers: Vec::new(),
            body: Vec::new(),
        }
    }

    /// A response to `req` copying Via, From, To, Call-ID and CSeq
    /// (RFC 3261 §8.2.6); `to_tag` is added to To when it has none.
    pub fn response_to(req: &Message, status: u16, reason: &str, to_tag: &str) -> Self {
        let mut headers = Vec::new();
        for (k, v) in &req.headers {
            let name = full_name(k);
            if ["Via", "From", "Call-ID", "CSeq"]
                .iter()
                .any(|h| h.eq_ignore_ascii_case(name))
            {
                headers.push((name.to_string(), v.clone()));
            } else if name.eq_ignore_ascii_case("To") {
                let value = if param(v, "tag").is_some() {
                    v.clone()
                } else {
                    format!("{v};tag={to_tag}")
                };
                headers.push(("To".to_string(), value));
            }
        }
        Self {
            start: StartLine::Response {
                status,
                reason: reason.to_string(),
            },
            headers,
            body: Vec::new(),
        }
    }

    pub fn method(&self) -> Option<&str> {
        match &self.start {
            StartLine::Request { method, .. } => Some(method),
            StartLine::Response { .. } => None,
        }
    }

    pub fn status(&self) -> Option<u16> {
        match &self.start {
            StartLine::Response { status, .. } => Some(*status),
            StartLine::Request { .. } => None,
        }
    }

    /// First value of a header, case-insensitive, compact forms included.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(k, _)| same_header(k, name))
            .map(|(_, v)| v.as_str())
    }

    /// Adds a header at the end (builder style).
    pub fn with(mut self, name: &str, value: impl Into<String>) -> Self {
        self.headers.push((name.to_string(), value.into()));
        self
    }

    /// Replaces every occurrence of a header by one value.
    pub fn set(&mut self, name: &str, value: impl Into<String>) {
        self.headers.retain(|(k, _)| !same_header(k, name));
        self.headers.push((name.to_string(), value.into()));
    }

    pub fn with_body(mut self, content_type: &str, body: Vec<u8>) -> Self {
        self.set("Content-Type", content_type);
        self.body = body;
        self
    }

    pub fn call_id(&self) -> Result<&str, SipError> {
        self.header("Call-ID")
            .filter(|v| !v.is_empty())
            .ok_or(SipError::MissingHeader("Call-ID"))
    }

    /// CSeq number and method.
    pub fn cseq(&self) -> Result<(u32, &str), SipError> {
        let v = self.header("CSeq").ok_or(SipError::MissingHeader("CSeq"))?;
        let bad = || SipError::BadHeader {
            header: "CSeq",
            value: v.to_string(),
        };
        let (n, m) = v.split_once(' ').ok_or_else(bad)?;
        Ok((n.trim().parse().map_err(|_| bad())?, m.trim()))
    }

    /// The Expires header in seconds, if present.
    pub fn expires(&self) -> Result<Option<u32>, SipError> {
        self.header("Expires")
            .map(|v| {
                v.parse().map_err(|_| SipError::BadHeader {
                    header: "Expires",
                    value: v.to_string(),
                })
            })
            .transpose()
    }

    /// The user part of the From URI: the sender's 20-digit ID in GB/T 28181.
    pub fn from_user(&self) -> Result<&str, SipError> {
        let v = self.header("From").ok_or(SipError::MissingHeader("From"))?;
        uri_user(v).ok_or_else(|| SipError::BadHeader {
            header: "From",
            value: v.to_string(),
        })
    }

    /// Serialises with a correct Content-Length (any received one is replaced).
    pub fn to_bytes(&self) -> Vec<u8> {
        let mut head = String::new();
        match &self.start {
            StartLine::Request { method, uri } => {
                let _ = write!(head, "{method} {uri} SIP/2.0\r\n");
            }
            StartLine::Response { status, reason } => {
                let _ = write!(head, "SIP/2.0 {status} {reason}\r\n");
            }
        }
        for (k, v) in &self.headers {
            if !same_header(k, "Content-Length") {
                let _ = write!(head, "{k}: {v}\r\n");
            }
        }
        let _ = write!(head, "Content-Length: {}\r\n\r\n", self.body.len());
        let mut out = head.into_bytes();
        out.extend_from_slice(&self.body);
        out
    }
}

/// The user part of a `sip:` URI inside a header value
/// (`<sip:user@host>;tag=…` or `sip:user@host`).
pub fn uri_user(value: &str) -> Option<&str> {
    let start = value.find("sip:").map(|p| p + 4)?;
    let rest = &value[start..];
    let end = rest.find('@')?;
    let user = &rest[..end];
    (!user.is_empty() && !user.contains(['>', ';', ' '])).then_some(user)
}

/// A `;name=value` parameter of a header value (tag, branch, rport…).
pub fn param<'a>(value: &'a str, name: &str) -> Option<&'a str> {
    // Parameters after the URI's closing '>' only, so URI params do not leak in.
    let tail = value.rfind('>').map_or(value, |p| &value[p + 1..]);
    tail.split(';').skip(1).find_map(|p| {
        let (k, v) = p.split_once('=').unwrap_or((p, ""));
        k.trim().eq_ignore_ascii_case(name).then(|| v.trim())
    })
}

/// The Via value with `received`/`rport` filled from the packet source
/// (RFC 3261 §18.2.1, RFC 3581), so a reply reaches a device behind NAT.
pub fn via_with_source(via: &str, ip: &str, port: u16) -> String {
    let mut out = String::new();
    for (i, part) in via.split(';').enumerate() {
        if i > 0 {
            out.push(';');
        }
        let key = part.split('=').next().unwrap_or_default().trim();
        if i > 0 && key.eq_ignore_ascii_case("rport") {
            let _ = write!(out, "rport={port}");
        } else if i > 0 && key.eq_ignore_ascii_case("received") {
            continue;
        } else {
            out.push_str(part);
        }
    }
    let out = out.replace(";;", ";");
    format!("{};received={ip}", out.trim_end_matches(';'))
}
