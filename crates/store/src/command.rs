//! One write command on a backend's writer, the same on every engine: deep insert, PATCH/PUT,
//! JSON-Patch, DELETE with OGC 18-088's cascades, filtered DELETE, `$batch` atomicity groups, and
//! the hand-over of observations to the backend's hot path. A backend's writer runs [`apply`]
//! inside one savepoint per command (and rolls it back on error); what differs per engine —
//! how observation rows are inserted — comes through [`CommandBackend`].

use crate::deep_insert::{WriteBackend, insert_entity, link_to_parent};
use crate::resolve::{Target, resolve};
use crate::update::update_entity;
use crate::{
    AtomicKind, AtomicWrite, ChangeKind, CommitEvent, NewObservation, RowOutcome, StoreError,
    WriteCommand, WriteOutcome, bad_body,
};
use serde_json::Value;
use sta::{EntityType, Tail};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

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
        sta::time::check_not_future(start, crate::clock::now_micros(), tolerance).map_err(|e| {
            self.refused.fetch_add(1, Ordering::Relaxed);
            bad_body(format!("Observation: {e}"))
        })
    }
}

/// The backend's observation hot path (its own INSERT strategy, caches and aggregates), for the
/// two bulk commands; single observations of a deep insert come through
/// [`WriteBackend::insert_observation`].
pub trait CommandBackend: WriteBackend {
    /// `POST /CreateObservations`: each row validated; a bad row is an `Err` in the answer
    /// without failing the others.
    fn create_observations(
        &mut self,
        body: &Value,
        ev: &mut Vec<CommitEvent>,
    ) -> Result<Vec<RowOutcome>, StoreError>;
    /// Internal bulk rows (HJ 212, MQTT devices, imports), each under the idempotency rule.
    fn insert_observations(
        &mut self,
        rows: Vec<NewObservation>,
        ev: &mut Vec<CommitEvent>,
    ) -> Result<Vec<RowOutcome>, StoreError>;
}

/// Whether a command only writes observations (the writer's caches stay valid across it).
pub fn observation_only(cmd: &WriteCommand) -> bool {
    matches!(
        cmd,
        WriteCommand::CreateObservations { .. } | WriteCommand::InsertObservations(_)
    )
}

/// Applies one command. On error the caller rolls the command's savepoint back.
pub fn apply<B: CommandBackend>(
    b: &mut B,
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
                let Target::Entity(pe, pid) = resolve(&*b, &parent_path)? else {
                    return Err(bad_body("POST must address a collection"));
                };
                link_to_parent(entity, &mut body, pe, pid)?;
            }
            let id = insert_entity(b, entity, &body, ev)?;
            Ok(WriteOutcome::Created { entity, id })
        }
        WriteCommand::Update {
            path,
            body,
            replace,
        } => {
            let Target::Entity(entity, id) = resolve(&*b, &path)? else {
                return Err(bad_body("PATCH and PUT must address one entity"));
            };
            if path.tail != Tail::None {
                return Err(bad_body(
                    "PATCH and PUT must address an entity, not a property",
                ));
            }
            update_entity(b, entity, id, &body, replace, ev)?;
            Ok(WriteOutcome::Updated { entity, id })
        }
        WriteCommand::JsonPatch { path, operations } => {
            let Target::Entity(entity, id) = resolve(&*b, &path)? else {
                return Err(bad_body("a JSON-Patch must address one entity"));
            };
            if path.tail != Tail::None {
                return Err(bad_body(
                    "a JSON-Patch must address an entity, not a property",
                ));
            }
            // Read, patch and replace in this command's savepoint: atomic with respect to every
            // other write, and nothing changes when an operation fails.
            let mut doc = crate::patch::current_document(&*b, entity, id)?;
            crate::patch::apply(entity, &mut doc, &operations)?;
            update_entity(b, entity, id, &doc, true, ev)?;
            Ok(WriteOutcome::Updated { entity, id })
        }
        WriteCommand::Delete { path } => {
            let Target::Entity(entity, id) = resolve(&*b, &path)? else {
                return Err(bad_body("DELETE must address one entity"));
            };
            crate::cascade::delete_entity(&*b, entity, id, ev)?;
            Ok(WriteOutcome::Deleted)
        }
        WriteCommand::DeleteWhere {
            path,
            filter,
            limit,
        } => {
            let m = crate::delete_where::select_matching(&*b, &path, filter.as_ref(), limit)?;
            if m.entity == EntityType::Observation {
                // Set-based, then each touched datastream recomputed once (times, latest
                // value, count): a per-row delete would recompute per row.
                crate::delete_where::delete_observations(&*b, &m.ids)?;
                for &ds in &m.datastreams {
                    crate::cascade::recompute_datastream(&*b, ds)?;
                }
                ev.extend(m.ids.iter().map(|&id| CommitEvent::Entity {
                    entity: EntityType::Observation,
                    id,
                    change: ChangeKind::Deleted,
                }));
            } else {
                // Cascades never reach an entity of the same type, so every id still exists.
                for &id in &m.ids {
                    crate::cascade::delete_entity(&*b, m.entity, id, ev)?;
                }
            }
            Ok(WriteOutcome::DeletedCount(m.ids.len() as u64))
        }
        WriteCommand::Atomic { writes, produced } => atomic(b, writes, produced, ev),
        WriteCommand::CreateObservations { body } => {
            Ok(WriteOutcome::Rows(b.create_observations(&body, ev)?))
        }
        WriteCommand::InsertObservations(rows) => {
            Ok(WriteOutcome::Rows(b.insert_observations(rows, ev)?))
        }
    }
}

/// An atomicity group of `$batch`: each write in turn, inside this command's savepoint, with
/// references resolved against what the batch produced so far. The first failure fails the
/// command (so the savepoint rolls every write of the group back) and names its index.
fn atomic<B: CommandBackend>(
    b: &mut B,
    writes: Vec<AtomicWrite>,
    mut produced: HashMap<String, sta::batch::Produced>,
    ev: &mut Vec<CommitEvent>,
) -> Result<WriteOutcome, StoreError> {
    let mut outcomes = Vec::with_capacity(writes.len());
    for (index, w) in writes.into_iter().enumerate() {
        let in_group = |error: StoreError| StoreError::InGroup {
            index,
            error: Box::new(error),
        };
        let outcome = atomic_one(b, w.kind, &w.path, w.body, &produced, ev).map_err(in_group)?;
        if let WriteOutcome::Created { entity, id } | WriteOutcome::Updated { entity, id } = outcome
        {
            produced.insert(
                w.id,
                sta::batch::Produced {
                    path: format!("{}({id})", entity.set_name()),
                    id,
                },
            );
        }
        outcomes.push(outcome);
    }
    Ok(WriteOutcome::Atomic(outcomes))
}

fn atomic_one<B: CommandBackend>(
    b: &mut B,
    kind: AtomicKind,
    path: &str,
    mut body: Option<Value>,
    produced: &HashMap<String, sta::batch::Produced>,
    ev: &mut Vec<CommitEvent>,
) -> Result<WriteOutcome, StoreError> {
    let path = sta::batch::substitute(path, body.as_mut(), produced).map_err(bad_body)?;
    let path = sta::parse_path(&path)?;
    let mut body = || {
        body.take()
            .ok_or_else(|| bad_body("this request needs a body"))
    };
    let cmd = match kind {
        AtomicKind::Create => WriteCommand::Create {
            path,
            body: body()?,
        },
        AtomicKind::Merge => WriteCommand::Update {
            path,
            body: body()?,
            replace: false,
        },
        AtomicKind::Replace => WriteCommand::Update {
            path,
            body: body()?,
            replace: true,
        },
        AtomicKind::JsonPatch => WriteCommand::JsonPatch {
            path,
            operations: body()?,
        },
        AtomicKind::Delete if path.is_collection() => {
            return Err(bad_body(
                "a filtered DELETE cannot be part of an atomicity group; send it on its own",
            ));
        }
        AtomicKind::Delete => WriteCommand::Delete { path },
    };
    apply(b, cmd, ev)
}
