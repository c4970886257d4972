//! The typed reads of [`crate::typed`] ([`crate::Store::keyed_entities`],
//! [`crate::Store::datastreams_with_things`], [`crate::Store::observation_cursor`],
//! [`crate::Store::observations_since`]) in plain SQL over the STA tables both backends' migrations
//! create. A backend's `Store` impl runs them on a reader.

use crate::executor::{Cell, Executor, Flow};
use crate::read::decode::result_value;
use crate::sql::SqlValue;
use crate::sql::mapping::{self, Column};
use crate::{
    CommittedObservations, DatastreamRow, KeyedEntity, ObservationCursor, ObservationEvent,
    StoreError, UpsertKind,
};
use serde_json::{Map, Value};
use sta::EntityType;
use std::collections::BTreeMap;

use super::{Row, all};

/// A JSON column as a value; text that is not JSON is kept as a string (as the STA reads do).
fn json_column(v: Cell<'_>) -> Value {
    crate::read::decode::json_text(v)
}

fn plain_column(v: Cell<'_>) -> Value {
    match v {
        Cell::Int(i) => Value::from(i),
        Cell::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        Cell::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
        Cell::Null => Value::Null,
    }
}

fn object(v: Value) -> Map<String, Value> {
    match v {
        Value::Object(m) => m,
        _ => Map::new(),
    }
}

/// Members stored as one column each; intervals and results are not part of a keyed upsert.
fn member_columns(entity: EntityType) -> Vec<(&'static str, &'static str, bool)> {
    mapping::columns(entity)
        .iter()
        .filter_map(|(name, column)| match column {
            Column::Plain(c) if *name != "id" => Some((*name, *c, false)),
            Column::Json(c) | Column::Geometry(c) => Some((*name, *c, true)),
            _ => None,
        })
        .collect()
}

pub fn keyed_entities(
    ex: &dyn Executor,
    entity: EntityType,
    key: Option<&str>,
) -> Result<Vec<KeyedEntity>, StoreError> {
    let table = mapping::table(entity);
    let members = member_columns(entity);
    let fks = mapping::foreign_keys(entity);
    // `properties.key` as text: the one expression that differs between the engines.
    let key_expr = ex.dialect().json_member("properties", &["key".to_owned()]);
    let mut columns = vec!["id".to_owned(), key_expr.clone()];
    columns.extend(members.iter().map(|(_, c, _)| (*c).to_owned()));
    columns.extend(fks.iter().map(|(_, c)| (*c).to_owned()));
    let filter = match key {
        Some(_) => format!("{key_expr} = ?1"),
        None => format!("{key_expr} IS NOT NULL"),
    };
    let sql = format!(
        "SELECT {} FROM {table} WHERE {filter} ORDER BY id",
        columns.join(", ")
    );
    let params: Vec<SqlValue> = key.map(SqlValue::from).into_iter().collect();
    let mut out = Vec::new();
    ex.query_each(&sql, &params, &mut |r| {
        let row = Row(r);
        let id: i64 = row.get(0)?;
        let key = match row.cell(1)? {
            Cell::Text(t) => String::from_utf8_lossy(t).into_owned(),
            // A key that is not a string is not a plan key.
            _ => return Ok(Flow::Continue),
        };
        let mut m = Map::new();
        for (i, (name, _, json)) in members.iter().enumerate() {
            let v = row.cell(2 + i)?;
            m.insert(
                (*name).to_owned(),
                if *json {
                    json_column(v)
                } else {
                    plain_column(v)
                },
            );
        }
        let mut links = BTreeMap::new();
        for (i, (nav, _)) in fks.iter().enumerate() {
            if let Some(fk) = row.get::<Option<i64>>(2 + members.len() + i)? {
                links.insert((*nav).to_owned(), vec![fk]);
            }
        }
        out.push(KeyedEntity {
            id,
            key,
            members: m,
            links,
        });
        Ok(Flow::Continue)
    })?;
    if entity == EntityType::Thing {
        for e in &mut out {
            let ids = all(
                ex,
                "SELECT location_id FROM thing_locations WHERE thing_id = ?1 ORDER BY location_id",
                &params![e.id],
                |r| r.get::<i64>(0),
            )?;
            e.links.insert("Locations".to_owned(), ids);
        }
    }
    Ok(out)
}

pub fn datastreams_with_things(ex: &dyn Executor) -> Result<Vec<DatastreamRow>, StoreError> {
    all(
        ex,
        "SELECT d.id, d.properties, d.thing_id, t.properties
         FROM datastreams d JOIN things t ON t.id = d.thing_id ORDER BY d.id",
        &[],
        |r| {
            Ok(DatastreamRow {
                id: r.get(0)?,
                properties: object(json_column(r.cell(1)?)),
                thing_id: r.get(2)?,
                thing_properties: object(json_column(r.cell(3)?)),
            })
        },
    )
}

pub fn observation_cursor(ex: &dyn Executor) -> Result<ObservationCursor, StoreError> {
    let row = super::first(
        ex,
        "SELECT (SELECT MAX(id) FROM observations), (SELECT MAX(revised_at) FROM observation_revisions)",
        &[],
        |r| Ok((r.get::<Option<i64>>(0)?, r.get::<Option<i64>>(1)?)),
    )?;
    let (last_id, revised_after) = row.unwrap_or((None, None));
    Ok(ObservationCursor {
        last_id: last_id.unwrap_or(0),
        revised_after: revised_after.unwrap_or(0),
    })
}

fn event(r: &Row<'_>, kind: UpsertKind) -> Result<ObservationEvent, StoreError> {
    Ok(ObservationEvent {
        id: r.get(0)?,
        datastream_id: r.get(1)?,
        phenomenon_time: r.get(2)?,
        result: result_value(r.cell(3)?, r.cell(4)?),
        result_quality: match r.cell(5)? {
            Cell::Null => None,
            v => Some(json_column(v)),
        },
        kind,
    })
}

/// The largest observation id: with one writer handing ids out in commit order (SQLite), every
/// id at or below it is committed or never will be.
pub fn max_observation_id(ex: &dyn Executor) -> Result<i64, StoreError> {
    let id = super::first(ex, "SELECT MAX(id) FROM observations", &[], |r| {
        r.get::<Option<i64>>(0)
    })?;
    Ok(id.flatten().unwrap_or(0))
}

/// Inserted observations with an id in (`after`, `through`], in id order, at most `limit`.
pub fn inserted_between(
    ex: &dyn Executor,
    after: i64,
    through: i64,
    limit: usize,
) -> Result<Vec<ObservationEvent>, StoreError> {
    all(
        ex,
        "SELECT id, datastream_id, phenomenon_time_start, result, result_json, result_quality
         FROM observations WHERE id > ?1 AND id <= ?2 ORDER BY id LIMIT ?3",
        &params![after, through, limit.max(1) as i64],
        |r| event(r, UpsertKind::Inserted),
    )
}

/// [`observations_since_through`] up to the largest id stored (one writer: SQLite).
pub fn observations_since(
    ex: &dyn Executor,
    since: ObservationCursor,
    limit: usize,
) -> Result<CommittedObservations, StoreError> {
    observations_since_through(ex, since, limit, i64::MAX)
}

/// Observations committed after `since`: inserted ones with an id up to `settled` (an id at or
/// below which every observation is committed or never will be: `Store::settled_observation_id`),
/// then replaced ones. When the inserted ones are complete the cursor moves to `settled`, past the
/// ids no observation will ever hold (a resend's unused ids), so the next read starts there.
pub fn observations_since_through(
    ex: &dyn Executor,
    since: ObservationCursor,
    limit: usize,
    settled: i64,
) -> Result<CommittedObservations, StoreError> {
    let limit = limit.max(1) as i64;
    let mut cursor = since;
    // The id index is the log: at or below `settled` nothing is still in flight (with several
    // PostgreSQL nodes a batch of one node may commit after a larger id of another; the fence in
    // store-postgres waits for it: docs/postgres.md).
    let mut events = inserted_between(ex, since.last_id, settled, limit as usize)?;
    let inserted = events.len() as i64;
    if let Some(last) = events.last() {
        cursor.last_id = last.id;
    }
    if inserted < limit && settled != i64::MAX {
        cursor.last_id = cursor.last_id.max(settled);
    }
    // Observations inserted after the cursor are delivered above with their current value; only
    // older ones count as replaced. No index on revised_at: revisions are rare (resent values
    // that changed), and this runs only when a subscriber lagged.
    let replaced = all(
        ex,
        "SELECT o.id, o.datastream_id, o.phenomenon_time_start, o.result, o.result_json, o.result_quality, r.revised_at
         FROM observation_revisions r JOIN observations o ON o.id = r.observation_id
         WHERE r.revised_at > ?1 AND o.id <= ?2 ORDER BY r.revised_at LIMIT ?3",
        &params![since.revised_after, since.last_id, limit],
        |r| Ok((event(r, UpsertKind::Replaced)?, r.get::<i64>(6)?)),
    )?;
    let n_replaced = replaced.len() as i64;
    for (e, revised_at) in replaced {
        cursor.revised_after = cursor.revised_after.max(revised_at);
        events.push(e);
    }
    Ok(CommittedObservations {
        events,
        cursor,
        complete: inserted < limit && n_replaced < limit,
    })
}
