//! `$batch` atomicity groups on the writer: one savepoint for the whole group.

use super::WriterState;
use super::apply_inner;
use crate::exec::PgExec;
use serde_json::Value;
use std::collections::HashMap;
use store::{CommitEvent, StoreError, WriteCommand, WriteOutcome, bad_body};

/// An atomicity group of `$batch`: each write in turn, inside this command's savepoint, with
/// references resolved against what the batch produced so far. The first failure fails the
/// command (so the savepoint rolls every write of the group back) and names its index.
pub(super) fn atomic(
    conn: &PgExec,
    st: &mut WriterState,
    writes: Vec<store::AtomicWrite>,
    mut produced: HashMap<String, sta::batch::Produced>,
    ev: &mut Vec<CommitEvent>,
) -> Result<WriteOutcome, StoreError> {
    let mut outcomes = Vec::with_capacity(writes.len());
    for (index, w) in writes.into_iter().enumerate() {
        let in_group = |error: StoreError| StoreError::InGroup {
            index,
            error: Box::new(error),
        };
        let outcome =
            atomic_one(conn, st, w.kind, &w.path, w.body, &produced, ev).map_err(in_group)?;
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

pub(super) fn atomic_one(
    conn: &PgExec,
    st: &mut WriterState,
    kind: store::AtomicKind,
    path: &str,
    mut body: Option<Value>,
    produced: &HashMap<String, sta::batch::Produced>,
    ev: &mut Vec<CommitEvent>,
) -> Result<WriteOutcome, StoreError> {
    use store::AtomicKind::*;
    let path = sta::batch::substitute(path, body.as_mut(), produced).map_err(bad_body)?;
    let path = sta::parse_path(&path)?;
    let mut body = || {
        body.take()
            .ok_or_else(|| bad_body("this request needs a body"))
    };
    let cmd = match kind {
        Create => WriteCommand::Create {
            path,
            body: body()?,
        },
        Merge => WriteCommand::Update {
            path,
            body: body()?,
            replace: false,
        },
        Replace => WriteCommand::Update {
            path,
            body: body()?,
            replace: true,
        },
        JsonPatch => WriteCommand::JsonPatch {
            path,
            operations: body()?,
        },
        Delete if path.is_collection() => {
            return Err(bad_body(
                "a filtered DELETE cannot be part of an atomicity group; send it on its own",
            ));
        }
        Delete => WriteCommand::Delete { path },
    };
    apply_inner(conn, st, cmd, ev)
}
