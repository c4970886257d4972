//! What reads and `$expand` share: bound parameters, fetching decoded rows, and nextLinks. Its own
//! module so that `read` and `expand` both depend on it and not on each other.

use crate::decode;
use crate::error::Db;
use rusqlite::{Connection, params_from_iter};
use sta::EntityType;
use store::StoreError;
use store::shape::{self, Row};
use store::sql::SqlValue;
use store::sql::mapping;

pub fn to_sql_values(params: &[SqlValue]) -> Vec<rusqlite::types::Value> {
    params
        .iter()
        .map(|p| match p {
            SqlValue::Null => rusqlite::types::Value::Null,
            SqlValue::Int(i) => rusqlite::types::Value::Integer(*i),
            SqlValue::Float(f) => rusqlite::types::Value::Real(*f),
            SqlValue::Text(s) => rusqlite::types::Value::Text(s.clone()),
        })
        .collect()
}

/// Rows of `entity` matching an SQL condition on alias `e`.
pub fn fetch_rows(
    conn: &Connection,
    entity: EntityType,
    cond: &str,
    params: &[SqlValue],
) -> Result<Vec<Row>, StoreError> {
    let sql = format!(
        "SELECT {} FROM {} e WHERE {cond}",
        shape::select_list(entity, "e"),
        mapping::table(entity)
    );
    let mut stmt = conn.prepare_cached(&sql).db()?;
    let rows = stmt
        .query_map(params_from_iter(to_sql_values(params)), |r| {
            decode::decode(entity, r, 0, shape::Keep::All)
        })
        .db()?;
    rows.collect::<Result<_, _>>().db()
}
