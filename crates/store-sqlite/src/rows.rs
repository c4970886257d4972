//! What reads and `$expand` share: bound parameters, fetching decoded rows, and nextLinks. Its own
//! module so that `read` and `expand` both depend on it and not on each other.

use crate::error::Db;
use crate::shape::{self, Row};
use rusqlite::{Connection, params_from_iter};
use sta::EntityType;
use store::StoreError;
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
            shape::decode(entity, r, 0, shape::Keep::All)
        })
        .db()?;
    Ok(rows.collect::<Result<_, _>>().db()?)
}

/// A nextLink: the same options, with the page moved on.
pub fn next_link(
    url: &str,
    raw: &[(String, String)],
    top: u64,
    skip: Option<u64>,
    token: Option<&str>,
) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in raw {
        if !matches!(k.as_str(), "$top" | "$skip" | "$skiptoken") {
            ser.append_pair(k, v);
        }
    }
    ser.append_pair("$top", &top.to_string());
    if let Some(s) = skip {
        ser.append_pair("$skip", &s.to_string());
    }
    if let Some(t) = token {
        ser.append_pair("$skiptoken", t);
    }
    // `$` is legal in a query string; keeping it readable helps people who look at links.
    format!("{url}?{}", ser.finish().replace("%24", "$"))
}
