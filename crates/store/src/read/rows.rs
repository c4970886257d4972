//! What reads and `$expand` share: fetching decoded rows. Its own module so that `read` and
//! `expand` both depend on it and not on each other.

use super::decode;
use crate::StoreError;
use crate::executor::{Executor, Flow};
use crate::shape::{self, Keep, Row};
use crate::sql::SqlValue;
use crate::sql::mapping;
use sta::EntityType;

/// Every row of `sql` decoded as `entity` (its select list first).
pub fn collect(
    db: &dyn Executor,
    entity: EntityType,
    sql: &str,
    params: &[SqlValue],
    keep: Keep<'_>,
) -> Result<Vec<Row>, StoreError> {
    let mut out = Vec::new();
    db.query_each(sql, params, &mut |r| {
        out.push(decode::decode(entity, r, 0, keep)?);
        Ok(Flow::Continue)
    })?;
    Ok(out)
}

/// Rows of `entity` matching an SQL condition on alias `e`.
pub fn fetch_rows(
    db: &dyn Executor,
    entity: EntityType,
    cond: &str,
    params: &[SqlValue],
) -> Result<Vec<Row>, StoreError> {
    let sql = format!(
        "SELECT {} FROM {} e WHERE {cond}",
        shape::select_list(entity, "e"),
        mapping::table(entity)
    );
    collect(db, entity, &sql, params, Keep::All)
}
