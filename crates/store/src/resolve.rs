//! Resource-path resolution, for every backend: walks `Things(1)/Datastreams(9)` step by step
//! through an [`Executor`], checking that each addressed entity exists and is related to the
//! previous one.

use crate::executor::Executor;
use crate::sql::SqlValue;
use crate::sql::mapping::{self, Relation};
use crate::{StoreError, not_found};
use sta::{EntityType, ResourcePath};

/// What a resource path resolves to.
#[derive(Debug, Clone, Copy)]
pub enum Target {
    Entity(EntityType, i64),
    /// A collection, possibly reached from a parent entity through a navigation property.
    Collection(EntityType, Option<(EntityType, i64, Relation)>),
}

fn exists(db: &(impl Executor + ?Sized), entity: EntityType, id: i64) -> Result<bool, StoreError> {
    let sql = format!(
        "SELECT 1 FROM {} WHERE id = {}",
        mapping::table(entity),
        db.dialect().placeholder(1)
    );
    Ok(db.query_first(&sql, &[SqlValue::Int(id)])?.is_some())
}

/// Walks the path, checking at each step that the addressed entity exists and is related to
/// the previous one (so `Things(1)/Datastreams(9)` is 404 when datastream 9 is another Thing's).
pub fn resolve(db: &(impl Executor + ?Sized), path: &ResourcePath) -> Result<Target, StoreError> {
    let p = |n| db.dialect().placeholder(n);
    let mut current: Option<(EntityType, i64)> = None;
    let mut target = None;
    for step in &path.steps {
        match (current, step.via) {
            (None, _) => match step.id {
                Some(id) => {
                    if !exists(db, step.entity, id)? {
                        return Err(not_found(format!(
                            "{}({id}) does not exist",
                            step.entity.set_name()
                        )));
                    }
                    current = Some((step.entity, id));
                }
                None => target = Some(Target::Collection(step.entity, None)),
            },
            (Some((pe, pid)), Some(nav)) => {
                let rel = mapping::relation(pe, nav)
                    .ok_or_else(|| not_found(format!("{pe} has no {nav}")))?;
                match (rel, step.id) {
                    (Relation::ForeignKeyOnParent(fk), _) => {
                        let sql = format!(
                            "SELECT {fk} FROM {} WHERE id = {}",
                            mapping::table(pe),
                            p(1)
                        );
                        let id = match db.query_first(&sql, &[SqlValue::Int(pid)])? {
                            Some(SqlValue::Int(id)) => Some(id),
                            _ => None,
                        };
                        let id = id.ok_or_else(|| {
                            not_found(format!("{}({pid}) has no {nav}", pe.set_name()))
                        })?;
                        current = Some((step.entity, id));
                    }
                    (rel, Some(id)) => {
                        let cond = mapping::condition_by_parent_id(rel, pe, "e", &p(2));
                        let sql = format!(
                            "SELECT 1 FROM {} e WHERE e.id = {} AND {cond}",
                            mapping::table(step.entity),
                            p(1)
                        );
                        let found = db
                            .query_first(&sql, &[SqlValue::Int(id), SqlValue::Int(pid)])?
                            .is_some();
                        if !found {
                            return Err(not_found(format!(
                                "{}({id}) is not among the {nav} of {}({pid})",
                                step.entity.set_name(),
                                pe.set_name()
                            )));
                        }
                        current = Some((step.entity, id));
                    }
                    (rel, None) => {
                        target = Some(Target::Collection(step.entity, Some((pe, pid, rel))))
                    }
                }
            }
            (Some(_), None) => {
                return Err(not_found(
                    "a path step after the first lacks its navigation property",
                ));
            }
        }
    }
    Ok(match target {
        Some(t) => t,
        None => {
            let (e, id) = current.ok_or_else(|| not_found("empty path"))?;
            Target::Entity(e, id)
        }
    })
}

/// The path as text (`Things(1)/Datastreams`), for links.
pub fn path_text(path: &ResourcePath) -> String {
    let mut parts = Vec::new();
    for (i, s) in path.steps.iter().enumerate() {
        let name = if i == 0 {
            s.entity.set_name()
        } else {
            s.via.unwrap_or_default()
        };
        match s.id {
            Some(id) => parts.push(format!("{name}({id})")),
            None => parts.push(name.to_string()),
        }
    }
    parts.join("/")
}
