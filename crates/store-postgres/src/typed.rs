//! The typed reads of [`crate::typed`] in plain SQL over the schema of `schema.rs`.

use crate::exec::{PgExec, cell, int};
use serde_json::{Map, Value};
use sta::EntityType;
use std::collections::BTreeMap;
use store::executor::Cell;
use store::read::decode::result_value;
use store::sql::SqlValue;
use store::sql::mapping::{self, Column};
use store::{
    CommittedObservations, DatastreamRow, KeyedEntity, ObservationCursor, ObservationEvent,
    StoreError, UpsertKind,
};

/// A JSON column as a value; text that is not JSON is kept as a string (as the STA reads do).
fn json_column(v: Cell<'_>) -> Value {
    match v {
        Cell::Text(t) => serde_json::from_slice(t)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(t).into_owned())),
        _ => Value::Null,
    }
}

fn plain_column(v: Cell<'_>) -> Value {
    match v {
        Cell::Int(i) => Value::from(i),
        Cell::Float(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        Cell::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
        _ => Value::Null,
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
    conn: &PgExec,
    entity: EntityType,
    key: Option<&str>,
) -> Result<Vec<KeyedEntity>, StoreError> {
    let table = mapping::table(entity);
    let members = member_columns(entity);
    let fks = mapping::foreign_keys(entity);
    let mut columns = vec!["id".to_owned(), "(properties::jsonb ->> 'key')".to_owned()];
    columns.extend(members.iter().map(|(_, c, _)| (*c).to_owned()));
    columns.extend(fks.iter().map(|(_, c)| (*c).to_owned()));
    let filter = match key {
        Some(_) => "(properties::jsonb ->> 'key') = $1",
        None => "(properties::jsonb ->> 'key') IS NOT NULL",
    };
    let sql = format!(
        "SELECT {} FROM {table} WHERE {filter} ORDER BY id",
        columns.join(", ")
    );
    let params: Vec<SqlValue> = key
        .map(|k| SqlValue::Text(k.to_owned()))
        .into_iter()
        .collect();
    let rows = conn.rows(&sql, &params)?;
    let mut out = Vec::new();
    for row in &rows {
        let id = int(row, 0)?.unwrap_or(0);
        let key = match cell(row, 1)? {
            Cell::Text(t) => String::from_utf8_lossy(t).into_owned(),
            // A key that is not a string is not a plan key.
            _ => continue,
        };
        let mut m = Map::new();
        for (i, (name, _, json)) in members.iter().enumerate() {
            let v = cell(row, 2 + i)?;
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
            if let Some(fk) = int(row, 2 + members.len() + i)? {
                links.insert((*nav).to_owned(), vec![fk]);
            }
        }
        out.push(KeyedEntity {
            id,
            key,
            members: m,
            links,
        });
    }
    if entity == EntityType::Thing {
        for e in &mut out {
            let ids = conn
                .rows(
                    "SELECT location_id FROM thing_locations WHERE thing_id = $1 ORDER BY location_id",
                    &[SqlValue::Int(e.id)],
                )?
                .iter()
                .map(|r| int(r, 0).map(|v| v.unwrap_or(0)))
                .collect::<Result<Vec<_>, _>>()?;
            e.links.insert("Locations".to_owned(), ids);
        }
    }
    Ok(out)
}

pub fn datastreams_with_things(conn: &PgExec) -> Result<Vec<DatastreamRow>, StoreError> {
    conn.rows(
        "SELECT d.id, d.properties, d.thing_id, t.properties
         FROM datastreams d JOIN things t ON t.id = d.thing_id ORDER BY d.id",
        &[],
    )?
    .iter()
    .map(|r| {
        Ok(DatastreamRow {
            id: int(r, 0)?.unwrap_or(0),
            properties: object(json_column(cell(r, 1)?)),
            thing_id: int(r, 2)?.unwrap_or(0),
            thing_properties: object(json_column(cell(r, 3)?)),
        })
    })
    .collect()
}

pub fn observation_cursor(conn: &PgExec) -> Result<ObservationCursor, StoreError> {
    let rows = conn.rows(
        "SELECT (SELECT MAX(id) FROM observations), (SELECT MAX(revised_at) FROM observation_revisions)",
        &[],
    )?;
    let row = rows.first();
    Ok(ObservationCursor {
        last_id: row.map(|r| int(r, 0)).transpose()?.flatten().unwrap_or(0),
        revised_after: row.map(|r| int(r, 1)).transpose()?.flatten().unwrap_or(0),
    })
}

fn event(r: &postgres::Row, kind: UpsertKind) -> Result<ObservationEvent, StoreError> {
    Ok(ObservationEvent {
        id: int(r, 0)?.unwrap_or(0),
        datastream_id: int(r, 1)?.unwrap_or(0),
        phenomenon_time: int(r, 2)?.unwrap_or(0),
        result: result_value(cell(r, 3)?, cell(r, 4)?),
        result_quality: match cell(r, 5)? {
            Cell::Null => None,
            v => Some(json_column(v)),
        },
        kind,
    })
}

pub fn observations_since(
    conn: &PgExec,
    since: ObservationCursor,
    limit: usize,
) -> Result<CommittedObservations, StoreError> {
    let limit = limit.max(1) as i64;
    let mut cursor = since;
    // Ids come from one sequence, taken in the writer's transaction: on one node they grow in
    // commit order. (With several nodes a batch of one node may commit after a larger id of
    // another: docs/postgres.md.)
    let mut events = conn
        .rows(
            "SELECT id, datastream_id, phenomenon_time_start, result, result_json, result_quality
             FROM observations WHERE id > $1 ORDER BY id LIMIT $2",
            &[SqlValue::Int(since.last_id), SqlValue::Int(limit)],
        )?
        .iter()
        .map(|r| event(r, UpsertKind::Inserted))
        .collect::<Result<Vec<_>, _>>()?;
    let inserted = events.len() as i64;
    if let Some(last) = events.last() {
        cursor.last_id = last.id;
    }
    let rows = conn.rows(
        "SELECT o.id, o.datastream_id, o.phenomenon_time_start, o.result, o.result_json, o.result_quality, r.revised_at
         FROM observation_revisions r JOIN observations o ON o.id = r.observation_id
         WHERE r.revised_at > $1 AND o.id <= $2 ORDER BY r.revised_at LIMIT $3",
        &[
            SqlValue::Int(since.revised_after),
            SqlValue::Int(since.last_id),
            SqlValue::Int(limit),
        ],
    )?;
    let mut replaced = 0;
    for r in &rows {
        let e = event(r, UpsertKind::Replaced)?;
        let revised_at = int(r, 6)?.unwrap_or(0);
        cursor.revised_after = cursor.revised_after.max(revised_at);
        events.push(e);
        replaced += 1;
    }
    Ok(CommittedObservations {
        events,
        cursor,
        complete: inserted < limit && replaced < limit,
    })
}
