//! TLS to the database, asked for in the URL as libpq asks for it: `sslmode` and `sslrootcert`
//! (docs/postgres.md "TLS"). tokio-postgres knows `sslmode` only up to `require` and refuses
//! `sslrootcert`, so both are taken out of the URL here and the connection gets a rustls
//! connector (the ring provider, as everywhere in qingshui) that verifies as libpq does:
//!
//! | `sslmode` | encrypted | the server's certificate |
//! |---|---|---|
//! | absent, `disable` | no | — |
//! | `prefer` | if the server offers it | not verified |
//! | `require` | yes | verified against `sslrootcert` when given (as `verify-ca`), else not |
//! | `verify-ca` | yes | chain verified against `sslrootcert` (or the system's roots) |
//! | `verify-full` | yes | chain and host name verified |
//!
//! Without `sslmode` nothing changes from before: a plain connection. `sslcert` and `sslkey`
//! (PEM) present a client certificate, for servers that authenticate by certificate.

use std::path::PathBuf;
use std::sync::Arc;
use store::StoreError;
use tokio_postgres_rustls::MakeRustlsConnect;

use rustls::client::danger::{HandshakeSignatureValid, ServerCertVerified, ServerCertVerifier};
use rustls::crypto::{CryptoProvider, WebPkiSupportedAlgorithms};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName, UnixTime};
use rustls::{DigitallySignedStruct, RootCertStore, SignatureScheme};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SslMode {
    Disable,
    Prefer,
    Require,
    VerifyCa,
    VerifyFull,
}

impl SslMode {
    pub fn name(self) -> &'static str {
        match self {
            SslMode::Disable => "disable",
            SslMode::Prefer => "prefer",
            SslMode::Require => "require",
            SslMode::VerifyCa => "verify-ca",
            SslMode::VerifyFull => "verify-full",
        }
    }
}

/// A database URL split into what tokio-postgres reads and what this module does.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The URL without `sslrootcert`, `sslmode` mapped to one tokio-postgres knows.
    pub url: String,
    /// `None`: no `sslmode` in the URL.
    pub mode: Option<SslMode>,
    pub root: Option<PathBuf>,
    /// `sslcert` and `sslkey`: the client certificate (PEM chain) and its key, for servers that
    /// authenticate by certificate (`hostssl … cert` in `pg_hba.conf`).
    pub client: Option<(PathBuf, PathBuf)>,
}

impl Target {
    /// Whether the server's certificate goes unverified (worth a warning at start).
    pub fn unverified(&self) -> bool {
        matches!(self.mode, Some(SslMode::Prefer))
            || (self.mode == Some(SslMode::Require) && self.root.is_none())
    }

    /// The mode in effect, for health and logs (`require` with a root file verifies the chain).
    pub fn describe(&self) -> &'static str {
        match (self.mode, &self.root) {
            (None, _) => "disable",
            (Some(SslMode::Require), Some(_)) => "require (verify-ca)",
            (Some(m), _) => m.name(),
        }
    }
}

fn invalid(what: String) -> StoreError {
    StoreError::Database(format!("invalid database URL: {what}"))
}

fn percent_decode(s: &str) -> String {
    fn hex(b: u8) -> Option<u8> {
        (b as char).to_digit(16).map(|d| d as u8)
    }
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let (Some(h), Some(l)) = (
                bytes.get(i + 1).copied().and_then(hex),
                bytes.get(i + 2).copied().and_then(hex),
            )
        {
            out.push(h * 16 + l);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

fn mode_of(value: &str) -> Result<SslMode, StoreError> {
    Ok(match value {
        "disable" => SslMode::Disable,
        "allow" | "prefer" => SslMode::Prefer,
        "require" => SslMode::Require,
        "verify-ca" => SslMode::VerifyCa,
        "verify-full" => SslMode::VerifyFull,
        other => {
            return Err(invalid(format!(
                "sslmode={other} (one of disable, prefer, require, verify-ca, verify-full)"
            )));
        }
    })
}

/// What tokio-postgres is told: it encrypts for `prefer` (falling back) and `require`.
fn wire_mode(mode: SslMode) -> &'static str {
    match mode {
        SslMode::Disable => "disable",
        SslMode::Prefer => "prefer",
        _ => "require",
    }
}

/// Splits `url` (a `postgres://` URL or a `key=value` string).
pub fn parse(url: &str) -> Result<Target, StoreError> {
    let mut mode = None;
    let mut root = None;
    let (mut cert, mut key) = (None, None);
    let rebuilt = if url.starts_with("postgres://") || url.starts_with("postgresql://") {
        let (base, query) = match url.split_once('?') {
            Some((b, q)) => (b, Some(q)),
            None => (url, None),
        };
        let mut kept = Vec::new();
        for pair in query.into_iter().flat_map(|q| q.split('&')) {
            match pair.split_once('=') {
                Some(("sslmode", v)) => mode = Some(mode_of(&percent_decode(v))?),
                Some(("sslrootcert", v)) => root = Some(PathBuf::from(percent_decode(v))),
                Some(("sslcert", v)) => cert = Some(PathBuf::from(percent_decode(v))),
                Some(("sslkey", v)) => key = Some(PathBuf::from(percent_decode(v))),
                _ if !pair.is_empty() => kept.push(pair.to_owned()),
                _ => {}
            }
        }
        if let Some(m) = mode {
            kept.push(format!("sslmode={}", wire_mode(m)));
        }
        if kept.is_empty() {
            base.to_owned()
        } else {
            format!("{base}?{}", kept.join("&"))
        }
    } else {
        let mut kept = Vec::new();
        for token in url.split_whitespace() {
            match token.split_once('=') {
                Some(("sslmode", v)) => mode = Some(mode_of(v.trim_matches('\''))?),
                Some(("sslrootcert", v)) => root = Some(PathBuf::from(v.trim_matches('\''))),
                Some(("sslcert", v)) => cert = Some(PathBuf::from(v.trim_matches('\''))),
                Some(("sslkey", v)) => key = Some(PathBuf::from(v.trim_matches('\''))),
                _ => kept.push(token.to_owned()),
            }
        }
        if let Some(m) = mode {
            kept.push(format!("sslmode={}", wire_mode(m)));
        }
        kept.join(" ")
    };
    let client = match (cert, key) {
        (Some(c), Some(k)) => Some((c, k)),
        (None, None) => None,
        (Some(_), None) => return Err(invalid("sslcert without sslkey".into())),
        (None, Some(_)) => return Err(invalid("sslkey without sslcert".into())),
    };
    Ok(Target {
        url: rebuilt,
        mode,
        root,
        client,
    })
}

fn provider() -> Arc<CryptoProvider> {
    Arc::new(rustls::crypto::ring::default_provider())
}

/// The roots to verify against: `sslrootcert`, or the system's (Debian's ca-certificates).
fn roots(target: &Target) -> Result<RootCertStore, StoreError> {
    let mut store = RootCertStore::empty();
    match &target.root {
        Some(path) => {
            let certs = CertificateDer::pem_file_iter(path)
                .map_err(|e| {
                    StoreError::Database(format!("cannot read sslrootcert {}: {e}", path.display()))
                })?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| {
                    StoreError::Database(format!("cannot read sslrootcert {}: {e}", path.display()))
                })?;
            let (added, _) = store.add_parsable_certificates(certs);
            if added == 0 {
                return Err(StoreError::Database(format!(
                    "sslrootcert {} holds no certificate",
                    path.display()
                )));
            }
        }
        None => {
            let found = rustls_native_certs::load_native_certs();
            store.add_parsable_certificates(found.certs);
            if store.is_empty() {
                return Err(StoreError::Database(
                    "no sslrootcert given and no system root certificates found (install ca-certificates, or set sslrootcert)".into(),
                ));
            }
        }
    }
    Ok(store)
}

/// The connector for `target`, or `None` for a plain connection.
pub fn connector(target: &Target) -> Result<Option<MakeRustlsConnect>, StoreError> {
    let Some(mode) = target.mode.filter(|m| *m != SslMode::Disable) else {
        return Ok(None);
    };
    let provider = provider();
    let builder = rustls::ClientConfig::builder_with_provider(provider.clone())
        .with_safe_default_protocol_versions()
        .map_err(|e| StoreError::Database(format!("TLS configuration: {e}")))?;
    let verify_chain = matches!(mode, SslMode::VerifyCa | SslMode::VerifyFull)
        || (mode == SslMode::Require && target.root.is_some());
    let builder = if mode == SslMode::VerifyFull {
        builder.with_root_certificates(roots(target)?)
    } else {
        let chain = if verify_chain {
            Some(
                rustls::client::WebPkiServerVerifier::builder_with_provider(
                    Arc::new(roots(target)?),
                    provider.clone(),
                )
                .build()
                .map_err(|e| StoreError::Database(format!("TLS configuration: {e}")))?,
            )
        } else {
            None
        };
        builder
            .dangerous()
            .with_custom_certificate_verifier(Arc::new(Verifier {
                chain,
                algorithms: provider.signature_verification_algorithms,
            }))
    };
    let config = match &target.client {
        None => builder.with_no_client_auth(),
        Some((cert, key)) => {
            let read = |what: &str, path: &PathBuf, e: String| {
                StoreError::Database(format!("cannot read {what} {}: {e}", path.display()))
            };
            let chain = CertificateDer::pem_file_iter(cert)
                .map_err(|e| read("sslcert", cert, e.to_string()))?
                .collect::<Result<Vec<_>, _>>()
                .map_err(|e| read("sslcert", cert, e.to_string()))?;
            if chain.is_empty() {
                return Err(read("sslcert", cert, "no certificate in it".into()));
            }
            let private = PrivateKeyDer::from_pem_file(key)
                .map_err(|e| read("sslkey", key, e.to_string()))?;
            builder
                .with_client_auth_cert(chain, private)
                .map_err(|e| read("sslkey", key, e.to_string()))?
        }
    };
    Ok(Some(MakeRustlsConnect::new(config)))
}

/// `verify-ca` (`chain`: the chain must lead to a trusted root; the name in it is not compared
/// with the host, libpq's meaning), and `prefer` or `require` without `sslrootcert` (no `chain`:
/// encrypted, the certificate not verified; the start logs a warning). The handshake's
/// signatures are checked either way.
#[derive(Debug)]
struct Verifier {
    chain: Option<Arc<rustls::client::WebPkiServerVerifier>>,
    algorithms: WebPkiSupportedAlgorithms,
}

impl ServerCertVerifier for Verifier {
    fn verify_server_cert(
        &self,
        end_entity: &CertificateDer<'_>,
        intermediates: &[CertificateDer<'_>],
        server_name: &ServerName<'_>,
        ocsp_response: &[u8],
        now: UnixTime,
    ) -> Result<ServerCertVerified, rustls::Error> {
        use rustls::CertificateError::{NotValidForName, NotValidForNameContext};
        let Some(chain) = &self.chain else {
            return Ok(ServerCertVerified::assertion());
        };
        match chain.verify_server_cert(end_entity, intermediates, server_name, ocsp_response, now) {
            Err(rustls::Error::InvalidCertificate(
                NotValidForName | NotValidForNameContext { .. },
            )) => Ok(ServerCertVerified::assertion()),
            other => other,
        }
    }

    fn verify_tls12_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls12_signature(message, cert, dss, &self.algorithms)
    }

    fn verify_tls13_signature(
        &self,
        message: &[u8],
        cert: &CertificateDer<'_>,
        dss: &DigitallySignedStruct,
    ) -> Result<HandshakeSignatureValid, rustls::Error> {
        rustls::crypto::verify_tls13_signature(message, cert, dss, &self.algorithms)
    }

    fn supported_verify_schemes(&self) -> Vec<SignatureScheme> {
        self.algorithms.supported_schemes()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn libpq_options_are_taken_out_of_the_url() {
        let t = parse(
            "postgres://qs@db.example:5432/qingshui?sslmode=verify-full&sslrootcert=%2Fetc%2Fqs%2Fca.pem&application_name=x",
        )
        .expect("parse");
        assert_eq!(
            t.url,
            "postgres://qs@db.example:5432/qingshui?application_name=x&sslmode=require"
        );
        assert_eq!(t.mode, Some(SslMode::VerifyFull));
        assert_eq!(t.root, Some(PathBuf::from("/etc/qs/ca.pem")));
        assert!(!t.unverified());

        let t = parse("host=db user=qs sslmode=require sslrootcert=/ca.pem").expect("parse");
        assert_eq!(t.url, "host=db user=qs sslmode=require");
        assert_eq!(t.describe(), "require (verify-ca)");
        assert!(!t.unverified());

        let t = parse("postgres://qs@db/qingshui?sslmode=require").expect("parse");
        assert!(t.unverified(), "require without a root verifies nothing");
        let t = parse("postgres://qs@db/qingshui").expect("parse");
        assert_eq!(
            (t.mode, t.url.as_str()),
            (None, "postgres://qs@db/qingshui")
        );
        assert_eq!(t.describe(), "disable");
    }

    #[test]
    fn a_client_certificate_needs_its_key() {
        let t = parse("postgres://qs@db/x?sslmode=verify-full&sslcert=%2Fc.pem&sslkey=%2Fk.pem")
            .expect("parse");
        assert_eq!(
            t.client,
            Some((PathBuf::from("/c.pem"), PathBuf::from("/k.pem")))
        );
        assert_eq!(t.url, "postgres://qs@db/x?sslmode=require");
        let e = parse("postgres://db/x?sslmode=require&sslcert=/c.pem").expect_err("no key");
        assert!(e.to_string().contains("sslcert without sslkey"), "{e}");
    }

    #[test]
    fn an_unknown_sslmode_is_refused_by_name() {
        let e = parse("postgres://db/x?sslmode=verify").expect_err("refused");
        assert!(e.to_string().contains("sslmode=verify"), "{e}");
    }

    #[test]
    fn a_missing_root_file_is_named() {
        let t = parse("postgres://db/x?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem")
            .expect("parse");
        let Err(e) = connector(&t) else {
            panic!("no error for a missing root file");
        };
        assert!(e.to_string().contains("/nonexistent/ca.pem"), "{e}");
    }
}
