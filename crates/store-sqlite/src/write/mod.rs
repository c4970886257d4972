//! The write path, run on the single writer thread inside one savepoint per command. What a
//! command does is the engine-neutral `store::command`; this backend gives it the SQLite
//! connection and its observation hot path (`observations.rs`), and keeps the writer's caches.

mod insert;
mod observations;

use insert::Writer;
pub use store::command::TimePolicy;

use crate::error::Db;
use observations::{Aggregate, flush_aggregates};

use rusqlite::Connection;
use std::collections::{HashMap, HashSet};
use store::{CommitEvent, StoreError, WriteCommand, WriteOutcome};

/// State the writer keeps between commands.
pub struct WriterState {
    pub next_observation_id: i64,
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
    pub fn load(conn: &Connection) -> Result<Self, StoreError> {
        let max: Option<i64> = conn
            .query_row("SELECT MAX(id) FROM observations", [], |r| r.get(0))
            .db()?;
        Ok(WriterState {
            next_observation_id: max.unwrap_or(0) + 1,
            time: TimePolicy::default(),
            known_datastreams: HashSet::new(),
            feature_for_datastream: HashMap::new(),
            pending: HashMap::new(),
            feature_envelopes: HashMap::new(),
            areas: HashMap::new(),
        })
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
    conn: &Connection,
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
