use serde::Serialize;
use serde_json::Value;
use sta::{EntityType, Query, ResourcePath, StaError};
use thiserror::Error;

#[derive(Debug, Error)]
pub enum StoreError {
    /// A client error in the path, query or body (4xx).
    #[error(transparent)]
    Sta(#[from] StaError),
    /// A write would break an integrity rule (409).
    #[error("{0}")]
    Conflict(String),
    /// The engine failed (500).
    #[error("database error: {0}")]
    Database(String),
    /// Request `index` of an atomicity group (`$batch`) failed; the whole group was rolled back.
    #[error("request {index} of the atomicity group: {error}")]
    InGroup {
        index: usize,
        error: Box<StoreError>,
    },
    /// The store is shutting down.
    #[error("the store is closed")]
    Closed,
    /// The request is within our budgets but over one of SQLite's own limits (expression depth,
    /// compound terms, SQL length, variables, integer overflow) (400): the client's request, not
    /// the engine, is at fault.
    #[error("{0}")]
    TooComplex(String),
    /// A read ran longer than the statement timeout, or its client left, and was interrupted
    /// (503). The message names the timeout and its setting.
    #[error("{0}")]
    Interrupted(String),
    /// A read answer would be larger than the response cap the caller set (400: the client
    /// should ask for less).
    #[error("the response would be larger than {cap} bytes")]
    ResponseTooLarge { cap: usize },
}

/// How much one read may return: server-driven paging (OGC 18-088 §9.3.3.4) and the `$expand`
/// budget.
#[derive(Debug, Clone, Copy)]
pub struct PageLimits {
    pub default_top: u64,
    pub max_top: u64,
    /// Most entities `$expand` may embed in one response, over all levels: a request that would
    /// build more is refused (400) before the copies are made.
    pub max_expanded_rows: u64,
}

impl Default for PageLimits {
    fn default() -> Self {
        PageLimits {
            default_top: 100,
            max_top: 10_000,
            max_expanded_rows: 100_000,
        }
    }
}

pub fn bad_body(message: impl Into<String>) -> StoreError {
    StoreError::Sta(StaError::BadBody(message.into()))
}

pub fn not_found(message: impl Into<String>) -> StoreError {
    StoreError::Sta(StaError::NotFound(message.into()))
}

/// A SensorThings GET. The answer's links are relative to the service root (see
/// [`crate::links`]).
#[derive(Debug, Clone)]
pub struct ReadRequest {
    pub path: ResourcePath,
    pub query: Query,
}

#[derive(Debug, Clone, PartialEq)]
pub enum ReadResponse {
    Json(Value),
    /// `$value` of a property, as text/plain.
    Text(String),
    /// A null property (204).
    NoContent,
}

/// One observation to store through the internal bulk path (HJ 212, import, simulator).
#[derive(Debug, Clone, PartialEq)]
pub struct NewObservation {
    pub datastream_id: i64,
    pub phenomenon_time: i64,
    pub phenomenon_time_end: Option<i64>,
    pub result: Value,
    pub result_time: Option<i64>,
    pub result_quality: Option<Value>,
    pub parameters: Option<Value>,
    pub feature_id: Option<i64>,
}

#[derive(Debug, Clone)]
pub enum WriteCommand {
    /// POST to a collection path (possibly a navigation path such as `Datastreams(1)/Observations`).
    Create {
        path: ResourcePath,
        body: Value,
    },
    /// PATCH (merge) or PUT (replace) of one entity.
    Update {
        path: ResourcePath,
        body: Value,
        replace: bool,
    },
    Delete {
        path: ResourcePath,
    },
    /// DELETE on a collection with `$filter` (FROST's extension): every matching entity, with
    /// the usual cascades, in one transaction; more than `limit` matches is refused (400) and
    /// deletes nothing. `filter: None` deletes the whole collection (the HTTP shell only sends
    /// that when the client forced it).
    DeleteWhere {
        path: ResourcePath,
        filter: Option<sta::filter::Expr>,
        limit: u64,
    },
    /// An atomicity group of `$batch` (a change set): every write in one savepoint, in order,
    /// all or nothing. References (`$<id>` leading a path, `"@iot.id": "$<id>"` in a body) are
    /// resolved against `produced` (results of earlier requests of the batch) and the group's
    /// own earlier writes, inside the transaction.
    Atomic {
        writes: Vec<AtomicWrite>,
        produced: std::collections::HashMap<String, sta::batch::Produced>,
    },
    /// PATCH with `Content-Type: application/json-patch+json` (RFC 6902): `operations` is the
    /// array of operations, applied to the entity's current document inside the writer's
    /// transaction (see [`crate::patch`]).
    JsonPatch {
        path: ResourcePath,
        operations: Value,
    },
    /// `POST /CreateObservations` (dataArray). Row failures do not fail the request.
    CreateObservations {
        body: Value,
    },
    /// Internal bulk path; row failures do not fail the batch.
    InsertObservations(Vec<NewObservation>),
}

/// What one write of an atomicity group does.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AtomicKind {
    Create,
    /// PATCH (merge).
    Merge,
    /// PUT.
    Replace,
    JsonPatch,
    Delete,
}

/// One write of an atomicity group: the path is percent-decoded but may still start with a
/// reference `$<id>`.
#[derive(Debug, Clone)]
pub struct AtomicWrite {
    pub id: String,
    pub kind: AtomicKind,
    pub path: String,
    pub body: Option<Value>,
}

/// What happened to one observation under the idempotency rule.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum UpsertKind {
    Inserted,
    /// Same datastream, phenomenon time and result: nothing stored.
    Unchanged,
    /// Same datastream and phenomenon time, different result: replaced, old value kept as a revision.
    Replaced,
}

/// One row of a bulk write: the observation id and what the idempotency rule did, or why the
/// row was rejected.
pub type RowOutcome = Result<(i64, UpsertKind), String>;

#[derive(Debug, Clone, PartialEq)]
pub enum WriteOutcome {
    Created {
        entity: EntityType,
        id: i64,
    },
    Updated {
        entity: EntityType,
        id: i64,
    },
    Deleted,
    /// An atomicity group: one outcome per write, in order.
    Atomic(Vec<WriteOutcome>),
    /// A filtered DELETE: how many entities of the addressed collection were deleted (not
    /// counting cascades).
    DeletedCount(u64),
    /// Per row: the observation id, or the reason the row was rejected.
    Rows(Vec<RowOutcome>),
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ObservationEvent {
    pub id: i64,
    pub datastream_id: i64,
    pub phenomenon_time: i64,
    pub result: Value,
    pub result_quality: Option<Value>,
    pub kind: UpsertKind,
}

#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum ChangeKind {
    Created,
    Updated,
    Deleted,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
#[serde(tag = "type", rename_all = "lowercase")]
pub enum CommitEvent {
    Observation(ObservationEvent),
    Entity {
        entity: EntityType,
        id: i64,
        change: ChangeKind,
    },
    /// An alert was stored (raised, changed, acknowledged, cleared) by another node sharing the
    /// database: its alert engine re-reads it (docs/postgres.md). A store with one node never
    /// publishes this; the alert engine that changed an alert tells its own subscribers.
    Alert {
        id: i64,
    },
}

/// Everything one group commit made durable.
#[derive(Debug, Clone, Default)]
pub struct CommitBatch {
    pub events: Vec<CommitEvent>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LatestValue {
    pub datastream_id: i64,
    pub datastream_name: String,
    pub datastream_properties: Option<Value>,
    pub unit_of_measurement: Value,
    pub thing_id: i64,
    pub thing_name: String,
    pub observed_property_id: i64,
    pub observed_property_name: String,
    pub observation_count: i64,
    pub observation_id: Option<i64>,
    pub phenomenon_time: Option<String>,
    pub result: Value,
    pub result_quality: Option<Value>,
}

#[derive(Debug, Clone, Copy, Default, Serialize)]
pub struct StoreStats {
    pub commits: u64,
    pub write_commands: u64,
    pub failed_commands: u64,
    pub observations_inserted: u64,
    pub observations_unchanged: u64,
    pub observations_replaced: u64,
    pub pending_writes: u64,
    /// Observations refused because their phenomenonTime is later than now + the clock tolerance.
    pub observations_future_refused: u64,
    /// Reads interrupted by the statement timeout.
    pub reads_timed_out: u64,
    /// Reads interrupted because their client went away.
    pub reads_cancelled: u64,
}

/// A numeric time series request for the domain API (charts, assessment): raw values, or
/// aggregates per fixed bucket computed in the database.
#[derive(Debug, Clone, PartialEq)]
pub struct SeriesRequest {
    pub datastreams: Vec<i64>,
    /// Inclusive start, UTC microseconds.
    pub from: i64,
    /// Exclusive end, UTC microseconds.
    pub to: i64,
    /// Bucket width in microseconds; `None` returns every value.
    pub bucket: Option<i64>,
}

/// One value as stored: time, numeric result (`None` when not a number), the data flag from
/// `resultQuality.flag` (HJ 212 data flag), and whether it was reported below detection limit.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesPoint {
    pub t: i64,
    pub v: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flag: Option<String>,
}

/// Aggregates of one bucket (all numeric values; `flagged` counts values whose flag is not `N`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SeriesBucket {
    pub t: i64,
    pub avg: f64,
    pub min: f64,
    pub max: f64,
    pub n: i64,
    pub flagged: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum SeriesData {
    Raw(Vec<SeriesPoint>),
    Buckets(Vec<SeriesBucket>),
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Series {
    pub datastream_id: i64,
    pub data: SeriesData,
}
