//! The write path, run on the single writer thread inside one savepoint per command. What a
//! command does is the engine-neutral `store::command`; this backend gives it the PostgreSQL
//! connection and its observation hot path (`observations.rs`: array INSERTs, monthly
//! partitions), and keeps the writer's caches.

mod bulk;
mod insert;
mod observations;

use insert::Writer;
pub use store::command::TimePolicy;

use observations::{Aggregate, flush_aggregates};

use crate::exec::PgExec;
use std::collections::{HashMap, HashSet};
use store::{CommitEvent, StoreError, WriteCommand, WriteOutcome};

/// State the writer keeps between commands.
pub struct WriterState {
    /// Months whose observation partition exists (`schema::ensure_partition`).
    pub months: HashSet<i64>,
    pub time: TimePolicy,
    known_datastreams: HashSet<i64>,
    feature_for_datastream: HashMap<i64, i64>,
    pending: HashMap<i64, Aggregate>,
    /// Envelopes of features and the stored `observedArea` of datastreams (see
    /// `observations::extend_area`).
    feature_envelopes: HashMap<i64, Option<sta::geo::Envelope>>,
    areas: HashMap<i64, Option<sta::geo::Envelope>>,
}

impl WriterState {
    pub fn new(conn: &PgExec) -> Result<Self, StoreError> {
        let _ = conn;
        Ok(WriterState {
            months: HashSet::new(),
            time: TimePolicy::default(),
            known_datastreams: HashSet::new(),
            feature_for_datastream: HashMap::new(),
            pending: HashMap::new(),
            feature_envelopes: HashMap::new(),
            areas: HashMap::new(),
        })
    }

    /// At the start of every batch: another node may have changed datastreams, features or
    /// a stored observedArea since the last one (the partitions stay known: they are never
    /// dropped while the store runs).
    pub fn forget_between_batches(&mut self) {
        self.forget_caches();
    }

    /// After a rolled-back command or batch: partitions it created are gone too.
    pub fn forget_after_rollback(&mut self) {
        self.pending.clear();
        self.forget_caches();
        self.months.clear();
    }

    /// Caches may be stale after any structural change (or a rolled-back command).
    fn forget_caches(&mut self) {
        self.known_datastreams.clear();
        self.feature_for_datastream.clear();
        self.feature_envelopes.clear();
        self.areas.clear();
    }
}

/// Applies one command. On error the caller rolls the command's savepoint back.
pub fn apply(
    conn: &PgExec,
    st: &mut WriterState,
    cmd: WriteCommand,
    events: &mut Vec<CommitEvent>,
) -> Result<WriteOutcome, StoreError> {
    let observation_only = store::command::observation_only(&cmd);
    if !observation_only {
        st.forget_caches();
    }
    let result = store::command::apply(&mut Writer { conn, st }, cmd, events).and_then(|r| {
        flush_aggregates(conn, &mut st.pending, &mut st.areas)?;
        Ok(r)
    });
    // A structural command may have recomputed what the caches hold (observedArea after a
    // delete): the next command starts from the database.
    if result.is_err() || !observation_only {
        st.pending.clear();
        st.forget_caches();
    }
    result
}
