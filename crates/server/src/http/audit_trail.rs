//! One audit entry per state change that succeeded: the guard notes who asked (before the
//! handler runs) and records the entry once the answer is a success. Account changes
//! (`/api/v1/session`, `/api/v1/tokens`, `/api/v1/users`) are recorded by their handlers, with
//! before/after, and skipped here.

use super::AppState;
use crate::accounts::Principal;
use axum::extract::{ConnectInfo, Request};
use axum::http::header;
use axum::response::Response;
use serde_json::json;
use std::net::SocketAddr;
use store::accounts::AuditRecord;

/// The peer address of a request ("" when the listener did not say).
pub fn from_addr(req_extensions: &axum::http::Extensions) -> String {
    req_extensions
        .get::<ConnectInfo<SocketAddr>>()
        .map(|c| c.0.ip().to_string())
        .unwrap_or_default()
}

pub struct Pending {
    principal: String,
    method: String,
    path: String,
    query: Option<String>,
    from_addr: String,
}

/// What a write to `path` does, in the audit trail's words.
fn action(method: &str, path: &str) -> String {
    let m = method.to_ascii_lowercase();
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    match segs.as_slice() {
        [v, ..] if v.starts_with("v1.") => format!("sta.{m}"),
        ["api", "v1", "alerts", "external"] => "alert.external".into(),
        ["api", "v1", "alerts", _, what] => format!("alert.{what}"),
        ["api", "v1", "alerts", ..] => format!("alert.{m}"),
        ["api", "v1", "scenes", ..] => "scene.upload".into(),
        ["api", "v1", "reviews", _, "undo"] => "review.undo".into(),
        ["api", "v1", "reviews"] => "review.mark".into(),
        ["api", "v1", "approvals", _, "undo"] => "review.unapprove".into(),
        ["api", "v1", "approvals"] => "review.approve".into(),
        ["api", "v1", "video", "snapshots", ..] => "video.snapshot".into(),
        ["api", "v1", "video", _, what, ..] => format!("video.{what}.{m}"),
        ["api", "v1", rest @ ..] => format!("api.{}.{m}", rest.first().unwrap_or(&"")),
        _ => format!("http.{m}"),
    }
}

/// Handlers that write their own, richer entries.
fn recorded_by_handler(path: &str) -> bool {
    path == "/api/v1/session"
        || path.starts_with("/api/v1/tokens")
        || path.starts_with("/api/v1/users")
}

impl Pending {
    pub fn of(state: &AppState, req: &Request, principal: &Principal) -> Option<Pending> {
        let path = req.uri().path();
        if recorded_by_handler(path) || state.accounts.store.is_none() {
            return None;
        }
        Some(Pending {
            principal: principal.label(),
            method: req.method().as_str().to_string(),
            path: path.to_string(),
            query: req.uri().query().map(str::to_string),
            from_addr: from_addr(req.extensions()),
        })
    }

    pub fn finish(self, state: &AppState, response: &Response) {
        if !response.status().is_success() {
            return;
        }
        let location = response
            .headers()
            .get(header::LOCATION)
            .and_then(|v| v.to_str().ok());
        state.accounts.audit.record(AuditRecord {
            id: 0,
            at: store::clock::now_millis(),
            principal: self.principal,
            action: action(&self.method, &self.path),
            target: match &self.query {
                Some(q) => format!("{}?{q}", self.path),
                None => self.path,
            },
            from_addr: self.from_addr,
            details: json!({
                "method": self.method,
                "status": response.status().as_u16(),
                "location": location,
            }),
        });
    }
}

#[cfg(test)]
mod tests {
    use super::action;

    #[test]
    fn actions_name_what_changed() {
        assert_eq!(action("POST", "/v1.1/Things"), "sta.post");
        assert_eq!(action("PATCH", "/v1.1/Datastreams(3)"), "sta.patch");
        assert_eq!(action("POST", "/api/v1/alerts/17/ack"), "alert.ack");
        assert_eq!(action("POST", "/api/v1/alerts/external"), "alert.external");
        assert_eq!(action("POST", "/api/v1/scenes"), "scene.upload");
        assert_eq!(action("POST", "/api/v1/video/V01/play"), "video.play.post");
    }
}
