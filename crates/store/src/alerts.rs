//! Alert persistence: alerts and their history, beside the observations in the same database.
//!
//! The store does not know the alert model (that is the `alerts` crate); it keeps each alert as
//! a JSON record plus the columns the API filters on, and an append-only history per alert. This
//! module is the backend-neutral contract; its SQL, the same for every backend, is
//! [`crate::sql_stores::alerts`] (a backend implements [`crate::sql_stores::SqlRunner`]).

use crate::{ObservationCursor, StoreError};
use async_trait::async_trait;
use serde::Serialize;
use serde_json::Value;

/// One alert as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertRecord {
    /// 0 for a new alert; the store assigns the id.
    pub id: i64,
    pub rule: String,
    pub source: String,
    pub station: Option<String>,
    pub severity: String,
    /// `active`, `acknowledged` or `cleared`.
    pub state: String,
    pub created_at: i64,
    pub updated_at: i64,
    /// The whole alert (the `alerts` crate's `Alert`).
    pub body: Value,
    /// A change of a stored alert builds on the version whose `updated_at` this is: the save is
    /// refused with `Conflict` when another change was stored since (another node, a person), so
    /// the writer re-reads and builds on it instead of overwriting it. `None`: unconditional.
    #[serde(skip)]
    pub expected_updated_at: Option<i64>,
}

/// One history line of an alert.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AlertHistoryRecord {
    pub at: i64,
    pub action: String,
    pub body: Value,
}

/// Which alerts to list, newest change first.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AlertFilter {
    /// Any of these states (empty: all).
    pub states: Vec<String>,
    /// Any of these severities (empty: all).
    pub severities: Vec<String>,
    /// Any of these stations (empty: all).
    pub stations: Vec<String>,
    pub rules: Vec<String>,
    pub limit: usize,
    pub offset: usize,
}

/// Where the alert engine stood in the stream of committed observations when it last said so:
/// everything up to `cursor` was judged. Saved by the engine that leads, read by the engine that
/// starts or takes over, which judges what was committed after it (docs/alerts.md).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EnginePosition {
    pub cursor: ObservationCursor,
    /// When it was saved (UTC microseconds, the saving node's clock).
    pub saved_at: i64,
}

#[async_trait]
pub trait AlertStore: Send + Sync + 'static {
    /// Inserts (`id == 0`) or replaces an alert and appends its history lines, in one
    /// transaction. Returns the alert's id. A second open alert for the same (rule, source) is a
    /// `Conflict`.
    async fn save_alert(
        &self,
        alert: AlertRecord,
        history: Vec<AlertHistoryRecord>,
    ) -> Result<i64, StoreError>;
    /// One alert and its whole history, oldest first.
    async fn alert(
        &self,
        id: i64,
    ) -> Result<Option<(AlertRecord, Vec<AlertHistoryRecord>)>, StoreError>;
    /// Alerts matching the filter, and how many match without limit/offset.
    async fn alerts(&self, filter: AlertFilter) -> Result<(Vec<AlertRecord>, i64), StoreError>;
    /// The alert engine's last saved position; `None` before its first save.
    async fn engine_position(&self) -> Result<Option<EnginePosition>, StoreError>;
    /// Saves the alert engine's position. The stored `last_id` never goes back (a node that
    /// lost the lead a moment ago cannot rewind the one that has it).
    async fn save_engine_position(&self, position: EnginePosition) -> Result<(), StoreError>;
}
