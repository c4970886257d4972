//! RFC 2617 MD5 digest as GB/T 28181 registration uses it.
//!
//! The `uri` hashed is the one in the Authorization header, not the
//! Request-URI: SIPp and several cameras put the platform's address there.

use md5::{Digest, Md5};

/// What the platform offers in `WWW-Authenticate`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Challenge {
    pub realm: String,
    pub nonce: String,
    /// Offer `qop="auth"`; devices that ignore it answer the RFC 2069 form.
    pub qop_auth: bool,
}

impl Challenge {
    pub fn header_value(&self) -> String {
        let mut v = format!(
            "Digest realm=\"{}\", nonce=\"{}\", algorithm=MD5",
            self.realm, self.nonce
        );
        if self.qop_auth {
            v.push_str(", qop=\"auth\"");
        }
        v
    }
}

/// The fields of an `Authorization: Digest …` header.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Credentials {
    pub username: String,
    pub realm: String,
    pub nonce: String,
    pub uri: String,
    pub response: String,
    pub algorithm: Option<String>,
    pub qop: Option<String>,
    pub nc: Option<String>,
    pub cnonce: Option<String>,
    pub opaque: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DigestError {
    #[error("authorization scheme is not Digest")]
    NotDigest,
    #[error("authorization lacks {0}")]
    Missing(&'static str),
    #[error("unsupported digest algorithm {0:?}")]
    Algorithm(String),
    #[error("malformed authorization parameter {0:?}")]
    Malformed(String),
}

/// Splits `a=b, c="d, e"` respecting quotes.
fn split_params(s: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut quoted = false;
    let mut start = 0;
    for (i, ch) in s.char_indices() {
        match ch {
            '"' => quoted = !quoted,
            ',' if !quoted => {
                out.push(s[start..i].trim());
                start = i + 1;
            }
            _ => {}
        }
    }
    out.push(s[start..].trim());
    out.into_iter().filter(|p| !p.is_empty()).collect()
}

impl Credentials {
    /// Parses an Authorization header value.
    pub fn parse(value: &str) -> Result<Self, DigestError> {
        let value = value.trim();
        let (scheme, rest) = value.split_once(char::is_whitespace).unwrap_or((value, ""));
        if !scheme.eq_ignore_ascii_case("Digest") {
            return Err(DigestError::NotDigest);
        }
        let mut c = Credentials::default();
        for p in split_params(rest) {
            let (k, v) = p
                .split_once('=')
                .ok_or_else(|| DigestError::Malformed(p.to_string()))?;
            let v = v.trim();
            let v = v
                .strip_prefix('"')
                .and_then(|v| v.strip_suffix('"'))
                .unwrap_or(v)
                .to_string();
            match k.trim().to_ascii_lowercase().as_str() {
                "username" => c.username = v,
                "realm" => c.realm = v,
                "nonce" => c.nonce = v,
                "uri" => c.uri = v,
                "response" => c.response = v.to_ascii_lowercase(),
                "algorithm" => c.algorithm = Some(v),
                "qop" => c.qop = Some(v),
                "nc" => c.nc = Some(v),
                "cnonce" => c.cnonce = Some(v),
                "opaque" => c.opaque = Some(v),
                _ => {} // unknown parameters are allowed (RFC 2617 auth-param)
            }
        }
        for (field, name) in [
            (&c.username, "username"),
            (&c.realm, "realm"),
            (&c.nonce, "nonce"),
            (&c.uri, "uri"),
            (&c.response, "response"),
        ] {
            if field.is_empty() {
                return Err(DigestError::Missing(name));
            }
        }
        if let Some(a) = &c.algorithm
            && !a.eq_ignore_ascii_case("MD5")
        {
            return Err(DigestError::Algorithm(a.clone()));
        }
        Ok(c)
    }

    /// The header value a device sends (device side, used by `sim`).
    pub fn header_value(&self) -> String {
        let mut v = format!(
            "Digest username=\"{}\", realm=\"{}\", nonce=\"{}\", uri=\"{}\", response=\"{}\", algorithm=MD5",
            self.username, self.realm, self.nonce, self.uri, self.response
        );
        if let (Some(qop), Some(nc), Some(cnonce)) = (&self.qop, &self.nc, &self.cnonce) {
            v.push_str(&format!(", qop={qop}, nc={nc}, cnonce=\"{cnonce}\""));
        }
        v
    }
}

fn md5_hex(s: &str) -> String {
    let out = Md5::digest(s.as_bytes());
    out.iter().map(|b| format!("{b:02x}")).collect()
}

/// The expected `response` for these credentials and password.
/// With `qop` present: MD5(HA1:nonce:nc:cnonce:qop:HA2); without: MD5(HA1:nonce:HA2).
pub fn response(method: &str, password: &str, c: &Credentials) -> Result<String, DigestError> {
    let ha1 = md5_hex(&format!("{}:{}:{}", c.username, c.realm, password));
    let ha2 = md5_hex(&format!("{method}:{}", c.uri));
    Ok(match &c.qop {
        Some(qop) => {
            let nc = c.nc.as_deref().ok_or(DigestError::Missing("nc"))?;
            let cnonce = c.cnonce.as_deref().ok_or(DigestError::Missing("cnonce"))?;
            md5_hex(&format!("{ha1}:{}:{nc}:{cnonce}:{qop}:{ha2}", c.nonce))
        }
        None => md5_hex(&format!("{ha1}:{}:{ha2}", c.nonce)),
    })
}

/// True when the credentials prove knowledge of `password`. Compares in
/// constant time so a response cannot be guessed byte by byte.
pub fn verify(method: &str, password: &str, c: &Credentials) -> bool {
    let Ok(expected) = response(method, password, c) else {
        return false;
    };
    let (a, b) = (expected.as_bytes(), c.response.as_bytes());
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

/// Reads a `WWW-Authenticate` challenge (device side).
pub fn parse_challenge(value: &str) -> Result<Challenge, DigestError> {
    let value = value.trim();
    let (scheme, rest) = value.split_once(char::is_whitespace).unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("Digest") {
        return Err(DigestError::NotDigest);
    }
    let mut realm = None;
    let mut nonce = None;
    let mut qop_auth = false;
    for p in split_params(rest) {
        let Some((k, v)) = p.split_once('=') else {
            continue;
        };
        let v = v.trim().trim_matches('"');
        match k.trim().to_ascii_lowercase().as_str() {
            "realm" => realm = Some(v.to_string()),
            "nonce" => nonce = Some(v.to_string()),
            "qop" => qop_auth = v.split(',').any(|q| q.trim() == "auth"),
            _ => {}
        }
    }
    Ok(Challenge {
        realm: realm.ok_or(DigestError::Missing("realm"))?,
        nonce: nonce.ok_or(DigestError::Missing("nonce"))?,
        qop_auth,
    })
}
