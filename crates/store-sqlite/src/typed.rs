//! The typed reads of [`crate::typed`] in plain SQL over the schema of `schema.rs`.

use crate::error::Db;
use crate::executor::cell_of;
use rusqlite::Connection;
use rusqlite::types::ValueRef;
use serde_json::{Map, Value};
use sta::EntityType;
use std::collections::BTreeMap;
use store::read::decode::result_value;
use store::sql::mapping::{self, Column};
use store::{
    CommittedObservations, DatastreamRow, KeyedEntity, ObservationCursor, ObservationEvent,
    StoreError, UpsertKind,
};

/// A JSON column as a value; text that is not JSON is kept as a string (as the STA reads do).
fn json_column(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Text(t) => serde_json::from_slice(t)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(t).into_owned())),
        _ => Value::Null,
    }
}

fn plain_column(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Integer(i) => Value::from(i),
        ValueRef::Real(f) => serde_json::Number::from_f64(f).map_or(Value::Null, Value::Number),
        ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
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
    conn: &Connection,
    entity: EntityType,
    key: Option<&str>,
) -> Result<Vec<KeyedEntity>, StoreError> {
    let table = mapping::table(entity);
    let members = member_columns(entity);
    let fks = mapping::foreign_keys(entity);
    let mut columns = vec![
        "id".to_owned(),
        "json_extract(properties, '$.key')".to_owned(),
    ];
    columns.extend(members.iter().map(|(_, c, _)| (*c).to_owned()));
    columns.extend(fks.iter().map(|(_, c)| (*c).to_owned()));
    let filter = match key {
        Some(_) => "json_extract(properties, '$.key') = ?1",
        None => "json_extract(properties, '$.key') IS NOT NULL",
    };
    let sql = format!(
        "SELECT {} FROM {table} WHERE {filter} ORDER BY id",
        columns.join(", ")
    );
    let mut stmt = conn.prepare(&sql).db()?;
    let params: Vec<&str> = key.into_iter().collect();
    let mut rows = stmt.query(rusqlite::params_from_iter(params)).db()?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().db()? {
        let id: i64 = row.get(0).db()?;
        let key = match row.get_ref(1).db()? {
            ValueRef::Text(t) => String::from_utf8_lossy(t).into_owned(),
            // A key that is not a string is not a plan key.
            _ => continue,
        };
        let mut m = Map::new();
        for (i, (name, _, json)) in members.iter().enumerate() {
            let v = row.get_ref(2 + i).db()?;
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
            if let Some(fk) = row.get::<_, Option<i64>>(2 + members.len() + i).db()? {
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
        let mut stmt = conn
            .prepare_cached(
                "SELECT location_id FROM thing_locations WHERE thing_id = ?1 ORDER BY location_id",
            )
            .db()?;
        for e in &mut out {
            let ids = stmt
                .query_map([e.id], |r| r.get::<_, i64>(0))
                .db()?
                .collect::<Result<Vec<_>, _>>()
                .db()?;
            e.links.insert("Locations".to_owned(), ids);
        }
    }
    Ok(out)
}

pub fn datastreams_with_things(conn: &Connection) -> Result<Vec<DatastreamRow>, StoreError> {
    let mut stmt = conn
        .prepare_cached(
            "SELECT d.id, d.properties, d.thing_id, t.properties
         FROM datastreams d JOIN things t ON t.id = d.thing_id ORDER BY d.id",
        )
        .db()?;
    let rows = stmt
        .query_map([], |r| {
            Ok(DatastreamRow {
                id: r.get(0)?,
                properties: object(json_column(r.get_ref(1)?)),
                thing_id: r.get(2)?,
                thing_properties: object(json_column(r.get_ref(3)?)),
            })
        })
        .db()?;
    rows.collect::<Result<_, _>>().db()
}

pub fn observation_cursor(conn: &Connection) -> Result<ObservationCursor, StoreError> {
    let last_id: Option<i64> = conn
        .query_row("SELECT MAX(id) FROM observations", [], |r| r.get(0))
        .db()?;
    let revised_after: Option<i64> = conn
        .query_row(
            "SELECT MAX(revised_at) FROM observation_revisions",
            [],
            |r| r.get(0),
        )
        .db()?;
    Ok(ObservationCursor {
        last_id: last_id.unwrap_or(0),
        revised_after: revised_after.unwrap_or(0),
    })
}

fn event(r: &rusqlite::Row<'_>, kind: UpsertKind) -> rusqlite::Result<ObservationEvent> {
    Ok(ObservationEvent {
        id: r.get(0)?,
        datastream_id: r.get(1)?,
        phenomenon_time: r.get(2)?,
        result: result_value(cell_of(r.get_ref(3)?), cell_of(r.get_ref(4)?)),
        result_quality: match r.get_ref(5)? {
            ValueRef::Null => None,
            v => Some(json_column(v)),
        },
        kind,
    })
}

pub fn observations_since(
    conn: &Connection,
    since: ObservationCursor,
    limit: usize,
) -> Result<CommittedObservations, StoreError> {
    let limit = limit.max(1) as i64;
    let mut cursor = since;
    // Ids grow in commit order (the writer hands them out), so the unique id index is the log.
    let mut stmt = conn
        .prepare_cached(
            "SELECT id, datastream_id, phenomenon_time_start, result, result_json, result_quality
         FROM observations WHERE id > ?1 ORDER BY id LIMIT ?2",
        )
        .db()?;
    let mut events = stmt
        .query_map(rusqlite::params![since.last_id, limit], |r| {
            event(r, UpsertKind::Inserted)
        })
        .db()?
        .collect::<Result<Vec<_>, _>>()
        .db()?;
    let inserted = events.len() as i64;
    if let Some(last) = events.last() {
        cursor.last_id = last.id;
    }
    // Observations inserted after the cursor are delivered above with their current value; only
    // older ones count as replaced. No index on revised_at: revisions are rare (resent values
    // that changed), and this runs only when a subscriber lagged.
    let mut stmt = conn.prepare_cached(
        "SELECT o.id, o.datastream_id, o.phenomenon_time_start, o.result, o.result_json, o.result_quality, r.revised_at
         FROM observation_revisions r JOIN observations o ON o.id = r.observation_id
         WHERE r.revised_at > ?1 AND o.id <= ?2 ORDER BY r.revised_at LIMIT ?3",
    ).db()?;
    let mut replaced = 0;
    let rows = stmt
        .query_map(
            rusqlite::params![since.revised_after, since.last_id, limit],
            |r| Ok((event(r, UpsertKind::Replaced)?, r.get::<_, i64>(6)?)),
        )
        .db()?;
    for row in rows {
        let (e, revised_at) = row.db()?;
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
