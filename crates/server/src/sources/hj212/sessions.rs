//! What each station did on one connection, for the audit trail: a station is a device that
//! changes state (it writes observations), so, like a user's request, its sessions are recorded
//! as `device:<station code>` — one entry when it first authenticates on a connection
//! (`hj212.connect`), one when the connection closes (`hj212.disconnect`, with the frames
//! accepted, the observations stored and the frames refused). Per session rather than per
//! frame: a station sends a frame a minute, and the trail is for people to read. The MN is
//! never written (it is the station's login name); the station code is.

use super::super::ingest::Ingest;
use serde_json::json;
use std::collections::HashMap;
use std::net::SocketAddr;
use store::accounts::AuditRecord;

struct Session {
    code: String,
    since_ms: i64,
    frames: u64,
    observations: u64,
    refused: u64,
}

#[derive(Default)]
pub(super) struct DeviceSessions {
    by_station: HashMap<usize, Session>,
}

impl DeviceSessions {
    /// A station authenticated on this connection; the first time, its session is opened.
    pub fn authenticated(&mut self, ingest: &Ingest, peer: SocketAddr, index: usize, code: &str) {
        if self.by_station.contains_key(&index) {
            return;
        }
        let now = store::clock::now_millis();
        self.by_station.insert(
            index,
            Session {
                code: code.to_string(),
                since_ms: now,
                frames: 0,
                observations: 0,
                refused: 0,
            },
        );
        ingest.audit(entry(code, "hj212.connect", peer, now, json!({})));
    }

    /// A frame of the station was accepted: its `observations` are stored (and it was answered where the station asked).
    pub fn accepted(&mut self, index: usize, observations: u64) {
        if let Some(s) = self.by_station.get_mut(&index) {
            s.frames += 1;
            s.observations += observations;
        }
    }

    /// A frame of the station was refused (not answered).
    pub fn refused(&mut self, index: usize) {
        if let Some(s) = self.by_station.get_mut(&index) {
            s.refused += 1;
        }
    }

    /// The connection closed: one entry per station that was on it.
    pub fn closed(self, ingest: &Ingest, peer: SocketAddr) {
        let now = store::clock::now_millis();
        for s in self.by_station.into_values() {
            let details = json!({
                "since": sta::time::format_instant(s.since_ms.saturating_mul(1000)),
                "frames_accepted": s.frames,
                "observations_stored": s.observations,
                "frames_refused": s.refused,
            });
            ingest.audit(entry(&s.code, "hj212.disconnect", peer, now, details));
        }
    }
}

fn entry(
    code: &str,
    action: &str,
    peer: SocketAddr,
    at: i64,
    details: serde_json::Value,
) -> AuditRecord {
    AuditRecord {
        id: 0,
        at,
        principal: format!("device:{code}"),
        action: action.to_string(),
        target: format!("station {code}"),
        from_addr: peer.ip().to_string(),
        details,
    }
}
