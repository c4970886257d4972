//! `store` — where observations become durable.
//!
//! The [`Store`] trait is what the server talks to; it speaks SensorThings (resource paths,
//! query options, JSON bodies) and knows nothing of any engine. [`sql`] compiles STA queries to SQL
//! for a [`sql::Dialect`]; [`sql_stores`] is the SQL of the capability stores (accounts, alerts,
//! review, scenes, typed reads), written once for every backend. Backends live in their own
//! crates (`store-sqlite`: the embedded one, one group-committing writer thread and a pool of
//! readers; `store-postgres`); this crate links no database engine.

pub mod accounts;
pub mod alerts;
pub mod cascade;
pub mod clock;
pub mod command;
pub mod count;
pub mod counters;
pub mod deep_insert;
pub mod delete_where;
pub mod executor;
pub mod expand_rules;
pub mod feature;
pub mod links;
pub mod observation_input;
pub mod observed_area;
pub mod paging;
pub mod patch;
pub mod position;
pub mod read;
pub mod render;
pub mod resolve;
pub mod review;
pub mod scenes;
pub mod shape;
pub mod sql;
pub mod sql_stores;
mod typed;
mod types;
pub mod update;

pub use typed::*;

pub use types::*;

use async_trait::async_trait;
use std::sync::Arc;
use tokio::sync::broadcast;

/// Leadership among the nodes that share one store: the holder runs what must run once (the
/// alert engine). Blocking (call it from a blocking thread); a holder that dies loses it.
pub trait Leadership: Send {
    /// Tries to become (or checks that this node still is) the leader.
    fn try_acquire(&mut self) -> Result<bool, StoreError>;
}

/// What `/api/v1/health` says of the store.
#[derive(Debug, Clone, Default, serde::Serialize)]
pub struct BackendHealth {
    /// `sqlite` or `postgres`.
    pub backend: String,
    /// This node's id among the nodes of a shared database.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub node: Option<String>,
    /// One round trip to the database through a read connection, in milliseconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub round_trip_ms: Option<f64>,
    /// When the database is a replica: how far its replay is behind the primary.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub replica_lag_ms: Option<f64>,
    /// How long ago another node's last commit announcement arrived (none yet: absent).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_remote_commit_age_ms: Option<i64>,
    /// How many other nodes on the same database this node has heard within the last ten
    /// seconds (a shared database only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub peers: Option<usize>,
    /// How the connections to the database are protected (PostgreSQL: the URL's `sslmode` in
    /// effect — `disable`, `prefer`, `require`, `require (verify-ca)`, `verify-ca`, `verify-full`).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub tls: Option<String>,
    /// Whether this node holds the alert engine's leadership (a shared database only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub alert_leader: Option<bool>,
    /// The database could not be asked.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub error: Option<String>,
}

#[async_trait]
pub trait Store: Send + Sync + 'static {
    /// Answers a SensorThings GET.
    async fn read(&self, req: ReadRequest) -> Result<ReadResponse, StoreError>;
    /// Answers a SensorThings GET as the bytes of its response body ([`render`]: links made
    /// absolute, `render.hidden` removed, within `render.max_bytes`). A backend that can stream
    /// rows into bytes overrides this (`store::read::read_rendered`); the default renders
    /// [`Store::read`]'s value, which gives the same bytes.
    async fn read_rendered(
        &self,
        req: ReadRequest,
        render: render::Render,
    ) -> Result<render::ReadBody, StoreError> {
        let response = self.read(req).await?;
        render::render_response(response, &render)
    }
    /// Applies one write. Returns only after the write is durable (group commit): callers may
    /// acknowledge to their client as soon as this returns `Ok`.
    async fn write(&self, cmd: WriteCommand) -> Result<WriteOutcome, StoreError>;
    /// The latest observation of every datastream (or of the given ones), from the maintained
    /// latest-value columns: one indexed join, no scan of observations.
    async fn latest(&self, datastreams: Option<Vec<i64>>) -> Result<Vec<LatestValue>, StoreError>;
    /// Numeric series of datastreams over a time range, raw or aggregated per bucket in the
    /// database (one range scan on the (datastream, time) key per datastream).
    async fn series(&self, req: SeriesRequest) -> Result<Vec<Series>, StoreError>;
    /// Every entity of `entity` that carries `properties.key` (or only the one with `key`),
    /// with its stored members and link ids (the network loader's upsert by plan key).
    async fn keyed_entities(
        &self,
        entity: sta::EntityType,
        key: Option<String>,
    ) -> Result<Vec<KeyedEntity>, StoreError>;
    /// Every datastream with its Thing's properties, ordered by id.
    async fn datastreams_with_things(&self) -> Result<Vec<DatastreamRow>, StoreError>;
    /// Where the committed observations stand now (see [`ObservationCursor`]).
    async fn observation_cursor(&self) -> Result<ObservationCursor, StoreError>;
    /// An observation id at or below which every observation is committed or never will be
    /// (no transaction that may still insert one is in flight), never blocking: it may stand a
    /// little behind the largest id (PostgreSQL: until the writers' transactions that were in
    /// flight at an earlier call have ended). The alert engine's position never passes it.
    async fn settled_observation_id(&self) -> Result<i64, StoreError>;
    /// Inserted observations with an id in (`after`, `through`], in id order, at most `limit`:
    /// what the alert engine reads for the ids it did not see in the commit stream.
    async fn observations_between(
        &self,
        after: i64,
        through: i64,
        limit: usize,
    ) -> Result<Vec<ObservationEvent>, StoreError>;
    /// The inserted observations with an id in any of `ranges` (inclusive), in id order, read a
    /// page at a time: what a sweep (`position::Sweep`) looks up.
    async fn observations_in(
        &self,
        ranges: &[(i64, i64)],
    ) -> Result<Vec<ObservationEvent>, StoreError> {
        const PAGE: usize = 5_000;
        let mut out = Vec::new();
        for &(lo, hi) in ranges {
            let mut after = lo.saturating_sub(1);
            loop {
                let page = self.observations_between(after, hi, PAGE).await?;
                let full = page.len() >= PAGE;
                after = page.last().map_or(hi, |o| o.id);
                out.extend(page);
                if !full {
                    break;
                }
            }
        }
        Ok(out)
    }
    /// Observations committed after `since`, at most `limit` of each kind (inserted,
    /// replaced): how a subscriber that lagged behind [`Store::subscribe`] catches up. Inserted
    /// ones are read only up to an id at or below which nothing is in flight (PostgreSQL waits
    /// for the writers' transactions in flight when it is called), so a cursor that passed an id
    /// never leaves an observation with a smaller one behind.
    async fn observations_since(
        &self,
        since: ObservationCursor,
        limit: usize,
    ) -> Result<CommittedObservations, StoreError>;
    /// Committed changes, one message per committed batch, in commit order.
    fn subscribe(&self) -> broadcast::Receiver<Arc<CommitBatch>>;
    /// Counters for `/metrics`.
    fn stats(&self) -> StoreStats;
    /// Flushes pending writes and stops the writer. Writes after this fail with `Closed`.
    /// Running reads are interrupted first (see [`Store::interrupt_reads`]).
    async fn close(&self);
    /// The first step of a stop: running reads are interrupted and new ones refused (`Closed`),
    /// so a slow query cannot hold the process up; writes go on until [`Store::close`].
    fn interrupt_reads(&self) {}
    /// The backend and, for a shared database, this node's standing (`/api/v1/health`).
    async fn backend_health(&self) -> BackendHealth {
        BackendHealth {
            backend: "embedded".into(),
            ..Default::default()
        }
    }
    /// A contest for `name` among the nodes sharing this store — the alert engine's leadership,
    /// or a lock held for a moment (creating a datastream on demand); `None`: this store has
    /// one node, which always leads.
    fn leadership(&self, name: &str) -> Option<Box<dyn Leadership>> {
        let _ = name;
        None
    }
    /// Alert persistence ([`alerts`]), when the backend has it.
    fn alert_store(self: Arc<Self>) -> Option<Arc<dyn alerts::AlertStore>> {
        None
    }
    /// Scene persistence ([`scenes`]), when the backend has it.
    fn scene_store(self: Arc<Self>) -> Option<Arc<dyn scenes::SceneStore>> {
        None
    }
    /// Accounts, tokens, sessions and the audit trail ([`accounts`]), when the backend has them.
    fn account_store(self: Arc<Self>) -> Option<Arc<dyn accounts::AccountStore>> {
        None
    }
    /// Data review ([`review`]), when the backend has it.
    fn review_store(self: Arc<Self>) -> Option<Arc<dyn review::ReviewStore>> {
        None
    }
}
