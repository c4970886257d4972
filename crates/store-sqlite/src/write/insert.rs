//! POST: deep insert (all or nothing), links by id, to-many links and the HistoricalLocation
//! rules of OGC 18-088 §10.2.

use super::WriterState;
use super::id_of;
use super::observations::{self, parse_observation, store_observation};
use crate::error::Db;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use serde_json::{Map, Value, json};
use sta::{EntityType, PropertyKind};
use store::sql::mapping::{self, Column, Relation};
use store::{ChangeKind, CommitEvent, StoreError, bad_body};

/// POST to `Parent(id)/Children`: link the new child to the parent through its inverse
/// navigation property.
pub(super) fn link_to_parent(
    entity: EntityType,
    body: &mut Value,
    pe: EntityType,
    pid: i64,
) -> Result<(), StoreError> {
    let inverse = entity
        .navigations()
        .iter()
        .find(|n| n.target == pe)
        .ok_or_else(|| bad_body(format!("{entity} cannot be created under {pe}")))?;
    let m = body
        .as_object_mut()
        .ok_or_else(|| bad_body(format!("{entity}: the body must be a JSON object")))?;
    let link = json!({ "@iot.id": pid });
    m.insert(
        inverse.name.to_string(),
        if inverse.to_many { json!([link]) } else { link },
    );
    Ok(())
}

pub(super) fn as_object(entity: EntityType, v: &Value) -> Result<&Map<String, Value>, StoreError> {
    let m = v
        .as_object()
        .ok_or_else(|| bad_body(format!("{entity}: expected a JSON object, got {v}")))?;
    for k in m.keys() {
        if k.starts_with('@') || k.contains("@iot.") {
            continue;
        }
        if entity.property(k).is_none() && entity.navigation(k).is_none() {
            return Err(bad_body(format!("{entity} has no property '{k}'")));
        }
    }
    Ok(m)
}

/// The SQL columns and values for one property of `entity`, validated.
pub(super) fn property_columns(
    entity: EntityType,
    name: &str,
    v: &Value,
) -> Result<Vec<(&'static str, SqlValue)>, StoreError> {
    let prop = entity
        .property(name)
        .ok_or_else(|| bad_body(format!("{entity} has no property '{name}'")))?;
    let column = mapping::column(entity, name)
        .ok_or_else(|| bad_body(format!("{entity}.{name} is not stored")))?;
    let wrong = |what: &str| bad_body(format!("{entity}.{name} must be {what}, not {v}"));
    if v.is_null() && prop.required {
        return Err(bad_body(format!(
            "{entity}.{name} is required and cannot be null"
        )));
    }
    Ok(match (column, prop.kind) {
        (Column::Plain(c), PropertyKind::Text) => match v {
            Value::String(s) => vec![(c, SqlValue::Text(s.clone()))],
            Value::Null => vec![(c, SqlValue::Null)],
            _ => return Err(wrong("a string")),
        },
        (Column::Plain(c), PropertyKind::Time) => match v {
            Value::String(s) => vec![(
                c,
                SqlValue::Integer(
                    sta::time::parse_instant(s)
                        .map_err(|e| bad_body(format!("{entity}.{name}: {e}")))?,
                ),
            )],
            Value::Null => vec![(c, SqlValue::Null)],
            _ => return Err(wrong("an ISO 8601 instant")),
        },
        (Column::Json(c), PropertyKind::Object) => match v {
            Value::Object(_) => vec![(c, SqlValue::Text(v.to_string()))],
            Value::Null => vec![(c, SqlValue::Null)],
            _ => return Err(wrong("a JSON object")),
        },
        (Column::Json(c), _) => vec![(
            c,
            if v.is_null() {
                SqlValue::Null
            } else {
                SqlValue::Text(v.to_string())
            },
        )],
        (Column::Geometry(c), _) => {
            if sta::geo::parse_any(&v.to_string()).is_none() {
                return Err(wrong("a GeoJSON geometry or Feature"));
            }
            vec![(c, SqlValue::Text(v.to_string()))]
        }
        (Column::Interval(s, e), _) => match v {
            Value::String(text) => {
                let t = sta::time::parse_time_value(text)
                    .map_err(|err| bad_body(format!("{entity}.{name}: {err}")))?;
                vec![
                    (s, SqlValue::Integer(t.start)),
                    (e, t.end.map_or(SqlValue::Null, SqlValue::Integer)),
                ]
            }
            Value::Null => vec![(s, SqlValue::Null), (e, SqlValue::Null)],
            _ => return Err(wrong("an ISO 8601 instant or interval")),
        },
        (Column::Result, _) => {
            let (native, json) = observations::encode_result(v);
            vec![
                ("result", native),
                ("result_json", json.map_or(SqlValue::Null, SqlValue::Text)),
            ]
        }
        (Column::Plain(_), _) => return Err(bad_body(format!("{entity}.{name} cannot be set"))),
    })
}

/// Resolves `{"@iot.id": n}` to an existing entity, or deep-inserts an inline one.
pub(super) fn link_or_create(
    conn: &Connection,
    st: &mut WriterState,
    entity: EntityType,
    v: &Value,
    ev: &mut Vec<CommitEvent>,
) -> Result<i64, StoreError> {
    if let Some(idv) = v.get("@iot.id") {
        let id = id_of(idv)?;
        let sql = format!("SELECT 1 FROM {} WHERE id = ?1", mapping::table(entity));
        if conn
            .prepare_cached(&sql)
            .db()?
            .query_row([id], |_| Ok(()))
            .optional()
            .db()?
            .is_none()
        {
            return Err(bad_body(format!(
                "{}({id}) does not exist",
                entity.set_name()
            )));
        }
        return Ok(id);
    }
    insert_entity(conn, st, entity, v, ev)
}

/// Inserts an entity and everything inline in it (deep insert), all or nothing.
pub(super) fn insert_entity(
    conn: &Connection,
    st: &mut WriterState,
    entity: EntityType,
    body: &Value,
    ev: &mut Vec<CommitEvent>,
) -> Result<i64, StoreError> {
    let m = as_object(entity, body)?;
    if entity == EntityType::Observation {
        return insert_observation(conn, st, m, ev);
    }
    let mut cols: Vec<(&'static str, SqlValue)> = Vec::new();
    for p in entity.properties() {
        if p.read_only {
            continue;
        }
        match m.get(p.name) {
            Some(v) => cols.extend(property_columns(entity, p.name, v)?),
            None if p.required => {
                return Err(bad_body(format!("{entity}: '{}' is required", p.name)));
            }
            None => {}
        }
    }
    for nav in entity.navigations().iter().filter(|n| !n.to_many) {
        let Some(Relation::ForeignKeyOnParent(fk)) = mapping::relation(entity, nav.name) else {
            continue;
        };
        match m.get(nav.name) {
            Some(v) => cols.push((
                fk,
                SqlValue::Integer(link_or_create(conn, st, nav.target, v, ev)?),
            )),
            None => {
                return Err(bad_body(format!(
                    "{entity}: '{}' is required (a link {{\"@iot.id\": …}} or an inline entity)",
                    nav.name
                )));
            }
        }
    }
    let names: Vec<&str> = cols.iter().map(|(c, _)| *c).collect();
    let marks: Vec<String> = (1..=cols.len()).map(|i| format!("?{i}")).collect();
    let sql = format!(
        "INSERT INTO {} ({}) VALUES ({})",
        mapping::table(entity),
        names.join(", "),
        marks.join(", ")
    );
    conn.prepare_cached(&sql)
        .db()?
        .execute(params_from_iter(cols.into_iter().map(|(_, v)| v)))
        .db()?;
    let id = conn.last_insert_rowid();
    ev.push(CommitEvent::Entity {
        entity,
        id,
        change: ChangeKind::Created,
    });
    // Link-table relations first: a Thing's Locations must exist before its Datastreams'
    // Observations generate their FeatureOfInterest from them.
    let mut to_many: Vec<_> = entity.navigations().iter().filter(|n| n.to_many).collect();
    to_many.sort_by_key(|n| {
        !matches!(
            mapping::relation(entity, n.name),
            Some(Relation::LinkTable { .. })
        )
    });
    for nav in to_many {
        if let Some(items) = m.get(nav.name) {
            let items = items
                .as_array()
                .ok_or_else(|| bad_body(format!("{entity}.{} must be an array", nav.name)))?;
            link_many(conn, st, entity, id, nav.name, nav.target, items, false, ev)?;
        }
    }
    if entity == EntityType::HistoricalLocation {
        move_thing_if_latest(conn, id)?;
    }
    Ok(id)
}

pub(super) fn insert_observation(
    conn: &Connection,
    st: &mut WriterState,
    m: &Map<String, Value>,
    ev: &mut Vec<CommitEvent>,
) -> Result<i64, StoreError> {
    let ds = m
        .get("Datastream")
        .ok_or_else(|| bad_body("Observation: 'Datastream' is required"))?;
    let ds = link_or_create(conn, st, EntityType::Datastream, ds, ev)?;
    let feature = match m.get("FeatureOfInterest") {
        Some(f) => Some(link_or_create(
            conn,
            st,
            EntityType::FeatureOfInterest,
            f,
            ev,
        )?),
        None => None,
    };
    let input = parse_observation(m, ds, feature)?;
    Ok(store_observation(conn, st, input, ev)?.0)
}

/// Links (or deep-inserts and links) the members of a to-many navigation property.
#[allow(clippy::too_many_arguments)]
pub(super) fn link_many(
    conn: &Connection,
    st: &mut WriterState,
    entity: EntityType,
    id: i64,
    nav: &str,
    target: EntityType,
    items: &[Value],
    replace: bool,
    ev: &mut Vec<CommitEvent>,
) -> Result<(), StoreError> {
    match mapping::relation(entity, nav) {
        Some(Relation::ForeignKeyOnChild(fk)) => {
            let inverse = target
                .navigations()
                .iter()
                .find(|n| n.target == entity && !n.to_many)
                .ok_or_else(|| bad_body(format!("{target} cannot link to {entity}")))?;
            for item in items {
                if let Some(child) = item.get("@iot.id") {
                    let child = id_of(child)?;
                    let sql = format!(
                        "UPDATE {} SET {fk} = ?1 WHERE id = ?2",
                        mapping::table(target)
                    );
                    if conn.execute(&sql, params![id, child]).db()? == 0 {
                        return Err(bad_body(format!(
                            "{}({child}) does not exist",
                            target.set_name()
                        )));
                    }
                } else {
                    let mut item = item.clone();
                    let obj = item
                        .as_object_mut()
                        .ok_or_else(|| bad_body(format!("{entity}.{nav} items must be objects")))?;
                    obj.insert(inverse.name.to_string(), json!({ "@iot.id": id }));
                    insert_entity(conn, st, target, &item, ev)?;
                }
            }
        }
        Some(Relation::LinkTable {
            table,
            parent_column,
            child_column,
        }) => {
            if replace {
                conn.execute(
                    &format!("DELETE FROM {table} WHERE {parent_column} = ?1"),
                    [id],
                )
                .db()?;
            }
            let mut linked = Vec::new();
            for item in items {
                let child = link_or_create(conn, st, target, item, ev)?;
                conn.execute(&format!("INSERT OR IGNORE INTO {table} ({parent_column}, {child_column}) VALUES (?1, ?2)"), params![id, child]).db()?;
                linked.push(child);
            }
            // A Thing's Locations changed: record it (OGC 18-088 §8.2.3).
            match (entity, nav) {
                (EntityType::Thing, "Locations") if !linked.is_empty() => {
                    add_historical_location(conn, id, &linked, ev)?;
                }
                (EntityType::Location, "Things") => {
                    for thing in linked {
                        conn.execute(
                            "DELETE FROM thing_locations WHERE thing_id = ?1 AND location_id <> ?2",
                            params![thing, id],
                        )
                        .db()?;
                        add_historical_location(conn, thing, &[id], ev)?;
                    }
                }
                _ => {}
            }
        }
        _ => return Err(bad_body(format!("{entity}.{nav} cannot be set"))),
    }
    Ok(())
}

pub(super) fn add_historical_location(
    conn: &Connection,
    thing: i64,
    locations: &[i64],
    ev: &mut Vec<CommitEvent>,
) -> Result<(), StoreError> {
    conn.execute(
        "INSERT INTO historical_locations (thing_id, time) VALUES (?1, ?2)",
        params![thing, store::clock::now_micros()],
    )
    .db()?;
    let hl = conn.last_insert_rowid();
    for loc in locations {
        conn.execute("INSERT OR IGNORE INTO historical_location_locations (historical_location_id, location_id) VALUES (?1, ?2)", params![hl, loc]).db()?;
    }
    ev.push(CommitEvent::Entity {
        entity: EntityType::HistoricalLocation,
        id: hl,
        change: ChangeKind::Created,
    });
    Ok(())
}

/// A HistoricalLocation later than the Thing's latest moves the Thing to its Locations.
pub(super) fn move_thing_if_latest(conn: &Connection, hl: i64) -> Result<(), StoreError> {
    let (thing, time): (i64, i64) = conn
        .query_row(
            "SELECT thing_id, time FROM historical_locations WHERE id = ?1",
            [hl],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .db()?;
    let later: i64 = conn.query_row(
        "SELECT COUNT(*) FROM historical_locations WHERE thing_id = ?1 AND id <> ?2 AND time > ?3",
        params![thing, hl, time],
        |r| r.get(0),
    ).db()?;
    let locations: i64 = conn
        .query_row(
            "SELECT COUNT(*) FROM historical_location_locations WHERE historical_location_id = ?1",
            [hl],
            |r| r.get(0),
        )
        .db()?;
    if later == 0 && locations > 0 {
        conn.execute("DELETE FROM thing_locations WHERE thing_id = ?1", [thing])
            .db()?;
        conn.execute(
            "INSERT INTO thing_locations (thing_id, location_id) SELECT ?1, location_id FROM historical_location_locations WHERE historical_location_id = ?2",
            params![thing, hl],
        ).db()?;
    }
    Ok(())
}
