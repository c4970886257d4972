//! Alarm snapshots (GB/T 28181-2022 `SnapShotConfig`): on an intrusion the platform issues an
//! upload session and asks the camera to PUT a JPEG to `/api/v1/video/snapshots/{session}`.
//! The session id is an unguessable capability, valid once and for `ttl`: cameras hold no API
//! token, so the id is what authorises the upload. A stored picture is linked into the alert
//! by re-triggering it with `details.snapshot`; a camera that never uploads leaves the alert
//! as it is (it was raised before the request went out).

use super::VerdictSender;
use alerts::lifecycle::Trigger;
use alerts::rules::Verdict;
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Mutex;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SnapshotError {
    #[error("no open snapshot session {0:?} (unknown, used or expired)")]
    UnknownSession(String),
    #[error("the upload is not a JPEG image")]
    NotJpeg,
    #[error("the upload has {size} bytes; at most {limit} are accepted")]
    TooLarge { size: usize, limit: usize },
}

pub struct SnapshotStore {
    pub dir: PathBuf,
    max_bytes: usize,
    ttl: Duration,
    /// Open sessions: the alert to link and when the session was issued.
    pending: Mutex<HashMap<String, (Trigger, Instant)>>,
    verdicts: Option<VerdictSender>,
}

/// Session ids are 32 lowercase hex digits; anything else is never a file name we wrote.
fn valid_session(s: &str) -> bool {
    s.len() == 32
        && s.bytes()
            .all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase())
}

impl SnapshotStore {
    pub fn new(
        dir: PathBuf,
        max_bytes: usize,
        ttl: Duration,
        verdicts: Option<VerdictSender>,
    ) -> Self {
        SnapshotStore {
            dir,
            max_bytes,
            ttl,
            pending: Mutex::new(HashMap::new()),
            verdicts,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (Trigger, Instant)>> {
        self.pending.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Opens a session for the alert `trigger` raised; returns its id (`None` when the OS
    /// has no randomness to give: then no snapshot is asked for).
    pub fn issue(&self, trigger: Trigger) -> Option<String> {
        let id = match crate::accounts::random_hex(16) {
            Ok(id) => id,
            Err(e) => {
                tracing::error!(error = %e, "no randomness for a snapshot session");
                return None;
            }
        };
        let mut pending = self.lock();
        let ttl = self.ttl;
        pending.retain(|_, (_, at)| at.elapsed() < ttl);
        pending.insert(id.clone(), (trigger, Instant::now()));
        Some(id)
    }

    /// Checks an upload and closes its session: the file to write and the alert to link.
    pub fn claim(&self, session: &str, bytes: &[u8]) -> Result<(PathBuf, Trigger), SnapshotError> {
        let unknown = || SnapshotError::UnknownSession(session.chars().take(40).collect());
        if !valid_session(session) {
            return Err(unknown());
        }
        if bytes.len() > self.max_bytes {
            return Err(SnapshotError::TooLarge {
                size: bytes.len(),
                limit: self.max_bytes,
            });
        }
        // SOI at the start, EOI at the end: enough to refuse what is not a JPEG.
        if bytes.len() < 4
            || bytes[..3] != [0xFF, 0xD8, 0xFF]
            || bytes[bytes.len() - 2..] != [0xFF, 0xD9]
        {
            return Err(SnapshotError::NotJpeg);
        }
        let (trigger, at) = self.lock().remove(session).ok_or_else(unknown)?;
        if at.elapsed() >= self.ttl {
            return Err(unknown());
        }
        Ok((self.dir.join(format!("{session}.jpg")), trigger))
    }

    /// Links the stored picture (served at `url`) into its alert.
    pub fn link(&self, mut trigger: Trigger, url: &str) {
        if let serde_json::Value::Object(d) = &mut trigger.details {
            d.insert(
                "snapshot".into(),
                serde_json::Value::String(url.to_string()),
            );
        }
        if let Some(tx) = &self.verdicts
            && tx.try_send(Verdict::Trigger(trigger)).is_err()
        {
            tracing::warn!(
                url,
                "snapshot stored but not linked: the alert queue is full"
            );
        }
    }

    /// The file of a stored snapshot, when the id could be one.
    pub fn file(&self, session: &str) -> Option<PathBuf> {
        valid_session(session).then(|| self.dir.join(format!("{session}.jpg")))
    }
}
