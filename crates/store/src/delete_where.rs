//! Filtered DELETE on a collection (`DELETE /v1.1/Observations?$filter=…`, FROST's extension
//! of OGC 18-088 §10.4): which entities match, and the set-based delete of observations. The
//! backend runs both inside one transaction and then recomputes what depends on the deleted
//! rows (datastream times, observedArea, latest values).

use crate::executor::Executor;
use crate::resolve::{Target, resolve};
use crate::sql::mapping::{self, condition_by_parent_id};
use crate::sql::{Scope, SqlBuilder, SqlValue};
use crate::{StoreError, bad_body};
use sta::filter::Expr;
use sta::{EntityType, ResourcePath};

/// What a filtered DELETE addresses.
#[derive(Debug, Clone, PartialEq)]
pub struct Matches {
    pub entity: EntityType,
    pub ids: Vec<i64>,
    /// For observations: the datastreams whose aggregates must be recomputed.
    pub datastreams: Vec<i64>,
}

/// Ids bound per statement when deleting by id list (well under every engine's variable limit).
const CHUNK: usize = 500;

/// The entities of the collection `path` that match `filter`, at most `limit` of them: more is
/// refused (400) before anything is deleted, naming the setting.
pub fn select_matching(
    exec: &impl Executor,
    path: &ResourcePath,
    filter: Option<&Expr>,
    limit: u64,
) -> Result<Matches, StoreError> {
    let Target::Collection(entity, parent) = resolve(exec, path)? else {
        return Err(bad_body(
            "a DELETE with $filter must address a collection (e.g. Observations or Datastreams(1)/Observations)",
        ));
    };
    let mut b = SqlBuilder::new(exec.dialect());
    let scope = Scope {
        entity,
        alias: "e".into(),
    };
    let mut conds = Vec::new();
    if let Some((pe, pid, rel)) = parent {
        let hole = b.param(SqlValue::Int(pid));
        conds.push(condition_by_parent_id(rel, pe, "e", &hole));
    }
    if let Some(f) = filter {
        conds.push(b.filter(f, &scope)?);
    }
    let extra = if entity == EntityType::Observation {
        ", e.datastream_id"
    } else {
        ""
    };
    let limit_mark = b.param(SqlValue::Int(
        i64::try_from(limit).unwrap_or(i64::MAX).saturating_add(1),
    ));
    let sql = format!(
        "SELECT e.id{extra} FROM {} e{} ORDER BY e.id LIMIT {limit_mark}",
        mapping::table(entity),
        if conds.is_empty() {
            String::new()
        } else {
            format!(" WHERE {}", conds.join(" AND "))
        }
    );
    let rows = exec.query_rows(&sql, &b.params)?;
    if rows.len() as u64 > limit {
        return Err(bad_body(format!(
            "the DELETE matches more than {limit} {} (setting sta.max_delete_rows); narrow the $filter and repeat",
            entity.set_name()
        )));
    }
    let mut ids = Vec::with_capacity(rows.len());
    let mut datastreams = Vec::new();
    for row in rows {
        let mut cells = row.into_iter();
        if let Some(SqlValue::Int(id)) = cells.next() {
            ids.push(id);
        }
        if let Some(SqlValue::Int(ds)) = cells.next() {
            datastreams.push(ds);
        }
    }
    datastreams.sort_unstable();
    datastreams.dedup();
    Ok(Matches {
        entity,
        ids,
        datastreams,
    })
}

/// Deletes observations (and their kept revisions) by id, set-based. The caller recomputes
/// the aggregates of `Matches::datastreams` afterwards.
pub fn delete_observations(exec: &impl Executor, ids: &[i64]) -> Result<(), StoreError> {
    let d = exec.dialect();
    for chunk in ids.chunks(CHUNK) {
        let marks: Vec<String> = (1..=chunk.len()).map(|i| d.placeholder(i)).collect();
        let params: Vec<SqlValue> = chunk.iter().map(|&i| SqlValue::Int(i)).collect();
        let list = marks.join(", ");
        exec.execute(
            &format!("DELETE FROM observation_revisions WHERE observation_id IN ({list})"),
            &params,
        )?;
        exec.execute(
            &format!("DELETE FROM observations WHERE id IN ({list})"),
            &params,
        )?;
    }
    Ok(())
}
