//! The alert engine on a database several nodes share (docs/postgres.md): the stored alert,
//! not this node's copy, is the current one. A person may acknowledge, comment or clear an alert
//! on any node and a camera's intrusion is judged where it arrives, so the leader re-reads an
//! open alert before changing it, and every node follows the alerts other nodes store (their
//! commit notifications) to keep its live subscribers and, on the leader, its open set current.

use super::{AlertChange, Engine, EngineError, view};
use alerts::model::{Action, Alert, AlertState, RuleKind};
use serde_json::Value;
use std::sync::Arc;
use store::StoreError;

impl Engine {
    /// Another node stored alert `id` (a person acknowledged it there, a camera's intrusion was
    /// judged there, or that node leads): this node's live subscribers see the change, and the
    /// leader's open copy follows it. Notifications were sent by the node that made the change.
    pub(super) async fn on_remote_alert(&mut self, id: i64) {
        let Some(store) = &self.alert_store else {
            return;
        };
        let (row, history) = match store.alert(id).await {
            Ok(Some(found)) => found,
            Ok(None) => return,
            Err(e) => {
                tracing::warn!(id, error = %e, "cannot read an alert another node changed");
                return;
            }
        };
        let alert = match serde_json::from_value::<Alert>(row.body) {
            Ok(a) => a,
            Err(e) => {
                tracing::error!(id, error = %e, "unreadable alert from another node skipped");
                return;
            }
        };
        // Plain re-triggers are not in the history: the last entry names the change only when
        // it is the alert's latest.
        let action = history
            .last()
            .filter(|h| h.at == alert.updated_at)
            .and_then(|h| serde_json::from_value::<Action>(Value::String(h.action.clone())).ok())
            .unwrap_or(Action::Updated);
        if self.leading {
            let key = (alert.rule, alert.source.clone());
            if alert.state == AlertState::Cleared {
                if self.open.get(&key).is_some_and(|a| a.id == id) {
                    self.open.remove(&key);
                }
            } else if self.open.get(&key).is_none_or(|a| a.id == id) {
                self.open.insert(key, alert.clone());
            }
        }
        let _ = self.changes.send(Arc::new(AlertChange {
            action,
            alert: view(&alert),
            station: alert.station.clone(),
        }));
    }

    /// An alert as stored.
    pub(super) async fn stored(&self, id: i64) -> Result<Option<Alert>, EngineError> {
        let store = self.alert_store.as_ref().ok_or(EngineError::Disabled)?;
        let Some((row, _)) = store.alert(id).await? else {
            return Ok(None);
        };
        serde_json::from_value::<Alert>(row.body)
            .map(Some)
            .map_err(|e| {
                EngineError::Store(StoreError::Database(format!("unreadable alert {id}: {e}")))
            })
    }

    /// On a shared database, the open alert under `key` as another node may have left it (a
    /// person acknowledged, commented or cleared it there): re-read before the leader changes
    /// it, so its change builds on theirs instead of overwriting it. An alert cleared elsewhere
    /// is no longer open here. One indexed read, only where a change is written anyway. `force`:
    /// also on a database of its own (after a compare-and-set lost: someone changed it there).
    pub(super) async fn refresh_open(&mut self, key: &(RuleKind, String), force: bool) {
        if !self.shared && !force {
            return;
        }
        let Some(id) = self.open.get(key).map(|a| a.id) else {
            return;
        };
        match self.stored(id).await {
            Ok(Some(a)) if a.state != AlertState::Cleared => {
                self.open.insert(key.clone(), a);
            }
            Ok(_) => {
                self.open.remove(key);
            }
            Err(e) => {
                tracing::warn!(id, error = %e, "cannot re-read an open alert; using this node's copy")
            }
        }
    }
}
