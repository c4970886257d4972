//! `$count`, for every backend: exact, from the maintained per-datastream counts when no filter
//! narrows an observation collection (FROST counts rows on every request; on 10⁷ observations
//! that is the slow part), otherwise a real `COUNT(*)`.

use crate::StoreError;
use crate::executor::Executor;
use crate::sql::SqlValue;
use crate::sql::mapping::{self, Relation};
use sta::EntityType;

fn as_count(cell: Option<SqlValue>) -> i64 {
    match cell {
        Some(SqlValue::Int(n)) => n,
        _ => 0,
    }
}

/// How many `entity` rows match `conds` (SQL on alias `e`, with `params` bound, already in the
/// executor's dialect), reached through `constraint` when it is set.
pub fn count(
    db: &(impl Executor + ?Sized),
    entity: EntityType,
    constraint: Option<(EntityType, i64, Relation)>,
    filtered: bool,
    conds: &[String],
    params: &[SqlValue],
) -> Result<i64, StoreError> {
    if entity == EntityType::Observation && !filtered {
        match constraint {
            None => {
                let sql = "SELECT COALESCE(SUM(observation_count), 0) FROM datastreams";
                return Ok(as_count(db.query_first(sql, &[])?));
            }
            Some((EntityType::Datastream, id, _)) => {
                let sql = format!(
                    "SELECT observation_count FROM datastreams WHERE id = {}",
                    db.dialect().placeholder(1)
                );
                return Ok(as_count(db.query_first(&sql, &[SqlValue::Int(id)])?));
            }
            _ => {}
        }
    }
    let where_sql = if conds.is_empty() {
        db.dialect().bool_literal(true).to_string()
    } else {
        conds.join(" AND ")
    };
    let sql = format!(
        "SELECT COUNT(*) FROM {} e WHERE {where_sql}",
        mapping::table(entity)
    );
    Ok(as_count(db.query_first(&sql, params)?))
}
