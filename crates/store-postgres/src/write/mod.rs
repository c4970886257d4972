//! The write path, run on the single writer thread inside one savepoint per command: deep
//! insert, PATCH/PUT, DELETE with OGC 18-088's cascades, observations.

mod atomic;
mod insert;
mod observations;

use insert::Writer;
pub use store::deep_insert::id_of;
use store::deep_insert::{insert_entity, link_to_parent};
use store::update::update_entity;

use observations::{Aggregate, create_observations, flush_aggregates, recompute_datastream};

use crate::exec::PgExec;
use sta::{EntityType, Tail};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use store::resolve::{Target, resolve};
use store::{ChangeKind, CommitEvent, StoreError, WriteCommand, WriteOutcome, bad_body};

/// The store's rule for future phenomenon times, and the count of what it refused.
#[derive(Debug, Clone, Default)]
pub struct TimePolicy {
    /// `None`: any time is accepted.
    pub tolerance_s: Option<u64>,
    pub refused: Arc<AtomicU64>,
}

impl TimePolicy {
    /// A phenomenonTime later than now + the tolerance would pin the latest value and move the
    /// alert clock: refuse it (400) and count it. Checked on every observation write path.
    pub fn check(&self, start: i64) -> Result<(), StoreError> {
        sta::time::check_year_range(start).map_err(|e| bad_body(format!("Observation: {e}")))?;
        let Some(tolerance) = self.tolerance_s else {
            return Ok(());
        };
        sta::time::check_not_future(start, store::clock::now_micros(), tolerance).map_err(|e| {
            self.refused.fetch_add(1, Ordering::Relaxed);
            bad_body(format!("Observation: {e}"))
        })
    }
}

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
    let observation_only = matches!(
        cmd,
        WriteCommand::CreateObservations { .. } | WriteCommand::InsertObservations(_)
    );
    if !observation_only {
        st.forget_caches();
    }
    let result = apply_inner(conn, st, cmd, events).and_then(|r| {
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

pub(super) fn apply_inner(
    conn: &PgExec,
    st: &mut WriterState,
    cmd: WriteCommand,
    ev: &mut Vec<CommitEvent>,
) -> Result<WriteOutcome, StoreError> {
    match cmd {
        WriteCommand::Create { path, body } => {
            if !path.is_collection() || path.tail != Tail::None {
                return Err(bad_body("POST must address a collection"));
            }
            let entity = path.target();
            let mut body = body;
            if path.steps.len() > 1 {
                let parent_path = sta::ResourcePath {
                    steps: path.steps[..path.steps.len() - 1].to_vec(),
                    tail: Tail::None,
                };
                let Target::Entity(pe, pid) = resolve(conn, &parent_path)? else {
                    return Err(bad_body("POST must address a collection"));
                };
                link_to_parent(entity, &mut body, pe, pid)?;
            }
            let id = insert_entity(&mut Writer { conn, st }, entity, &body, ev)?;
            Ok(WriteOutcome::Created { entity, id })
        }
        WriteCommand::Update {
            path,
            body,
            replace,
        } => {
            let Target::Entity(entity, id) = resolve(conn, &path)? else {
                return Err(bad_body("PATCH and PUT must address one entity"));
            };
            if path.tail != Tail::None {
                return Err(bad_body(
                    "PATCH and PUT must address an entity, not a property",
                ));
            }
            update_entity(&mut Writer { conn, st }, entity, id, &body, replace, ev)?;
            Ok(WriteOutcome::Updated { entity, id })
        }
        WriteCommand::JsonPatch { path, operations } => {
            let Target::Entity(entity, id) = resolve(conn, &path)? else {
                return Err(bad_body("a JSON-Patch must address one entity"));
            };
            if path.tail != Tail::None {
                return Err(bad_body(
                    "a JSON-Patch must address an entity, not a property",
                ));
            }
            // Read, patch and replace in this command's savepoint: atomic with respect to every
            // other write, and nothing changes when an operation fails.
            let mut doc = store::patch::current_document(conn, entity, id)?;
            store::patch::apply(entity, &mut doc, &operations)?;
            update_entity(&mut Writer { conn, st }, entity, id, &doc, true, ev)?;
            Ok(WriteOutcome::Updated { entity, id })
        }
        WriteCommand::Delete { path } => {
            let Target::Entity(entity, id) = resolve(conn, &path)? else {
                return Err(bad_body("DELETE must address one entity"));
            };
            store::cascade::delete_entity(conn, entity, id, ev)?;
            Ok(WriteOutcome::Deleted)
        }
        WriteCommand::DeleteWhere {
            path,
            filter,
            limit,
        } => {
            let exec = conn;
            let m = store::delete_where::select_matching(exec, &path, filter.as_ref(), limit)?;
            if m.entity == EntityType::Observation {
                // Set-based, then each touched datastream recomputed once (times, latest
                // value, count): a per-row delete would recompute per row.
                store::delete_where::delete_observations(exec, &m.ids)?;
                for &ds in &m.datastreams {
                    recompute_datastream(conn, ds)?;
                }
                ev.extend(m.ids.iter().map(|&id| CommitEvent::Entity {
                    entity: EntityType::Observation,
                    id,
                    change: ChangeKind::Deleted,
                }));
            } else {
                // Cascades never reach an entity of the same type, so every id still exists.
                for &id in &m.ids {
                    store::cascade::delete_entity(exec, m.entity, id, ev)?;
                }
            }
            Ok(WriteOutcome::DeletedCount(m.ids.len() as u64))
        }
        WriteCommand::Atomic { writes, produced } => atomic::atomic(conn, st, writes, produced, ev),
        WriteCommand::CreateObservations { body } => Ok(WriteOutcome::Rows(create_observations(
            conn, st, &body, ev,
        )?)),
        WriteCommand::InsertObservations(rows) => Ok(WriteOutcome::Rows(
            observations::insert_observations(conn, st, rows, ev)?,
        )),
    }
}
