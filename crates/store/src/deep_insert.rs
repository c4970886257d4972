//! The create side of OGC 18-088 §10.2 for every backend: body validation, deep insert (all or
//! nothing: the backend runs it in one savepoint), links by `@iot.id`, to-many links and the
//! HistoricalLocation rules. Observations are handed to the backend ([`WriteBackend`]), whose
//! hot path applies the idempotency rule and maintains the per-datastream aggregates.

use crate::executor::Executor;
use crate::sql::SqlValue;
use crate::sql::mapping::{self, Column, Relation};
use crate::{ChangeKind, CommitEvent, StoreError, bad_body};
use serde_json::{Map, Value, json};
use sta::{EntityType, PropertyKind};

/// What the neutral write logic needs of a backend besides running SQL.
pub trait WriteBackend: Executor {
    /// Stores one Observation body (`datastream` and `feature` already resolved or created).
    fn insert_observation(
        &mut self,
        body: &Map<String, Value>,
        datastream: i64,
        feature: Option<i64>,
        ev: &mut Vec<CommitEvent>,
    ) -> Result<i64, StoreError>;
    /// The backend's rule for future phenomenon times (refused and counted when too late).
    fn check_time(&self, start: i64) -> Result<(), StoreError>;
}

/// Writes `?N` placeholders in the executor's dialect (`$N` on PostgreSQL).
fn sql(exec: &impl Executor, text: &str) -> String {
    let d = exec.dialect();
    if d.placeholder(1) == "?1" {
        return text.to_string();
    }
    (1..=9).rev().fold(text.to_string(), |s, n| {
        s.replace(&format!("?{n}"), &d.placeholder(n))
    })
}

fn int(exec: &impl Executor, text: &str, params: &[i64]) -> Result<Option<i64>, StoreError> {
    let params: Vec<SqlValue> = params.iter().map(|&p| SqlValue::Int(p)).collect();
    Ok(match exec.query_first(&sql(exec, text), &params)? {
        Some(SqlValue::Int(i)) => Some(i),
        _ => None,
    })
}

fn run(exec: &impl Executor, text: &str, params: &[i64]) -> Result<usize, StoreError> {
    let params: Vec<SqlValue> = params.iter().map(|&p| SqlValue::Int(p)).collect();
    exec.execute(&sql(exec, text), &params)
}

pub fn id_of(v: &Value) -> Result<i64, StoreError> {
    match v {
        Value::Number(n) => n
            .as_i64()
            .ok_or_else(|| bad_body(format!("bad @iot.id {n}"))),
        Value::String(s) => s
            .parse()
            .map_err(|_| bad_body(format!("no entity with @iot.id '{s}'"))),
        other => Err(bad_body(format!("bad @iot.id {other}"))),
    }
}

/// POST to `Parent(id)/Children`: link the new child to the parent through its inverse
/// navigation property.
pub fn link_to_parent(
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

/// The body as an object whose every key is a property or navigation property of `entity`.
pub fn as_object(entity: EntityType, v: &Value) -> Result<&Map<String, Value>, StoreError> {
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

/// The two stored result columns in `dialect`: on SQLite native (numbers, strings) and JSON
/// (everything else); on PostgreSQL, whose `result` column is a double, the number and, for
/// every result that is not a double (integers too, so they read back as integers), the JSON.
pub fn encode_result_for(dialect: crate::sql::Dialect, v: &Value) -> (SqlValue, Option<String>) {
    match dialect {
        crate::sql::Dialect::Sqlite => encode_result(v),
        crate::sql::Dialect::Postgres => match v {
            Value::Number(n) if n.is_f64() => {
                (SqlValue::Float(n.as_f64().unwrap_or(f64::NAN)), None)
            }
            Value::Number(n) => (
                n.as_f64().map_or(SqlValue::Null, SqlValue::Float),
                Some(n.to_string()),
            ),
            other => (SqlValue::Null, Some(other.to_string())),
        },
    }
}

/// The two stored result columns: native (numbers, strings) and JSON (everything else).
pub fn encode_result(v: &Value) -> (SqlValue, Option<String>) {
    match v {
        Value::Number(n) => match n.as_i64() {
            Some(i) => (SqlValue::Int(i), None),
            None => (SqlValue::Float(n.as_f64().unwrap_or(f64::NAN)), None),
        },
        Value::String(s) => (SqlValue::Text(s.clone()), None),
        Value::Bool(b) => (SqlValue::Int(*b as i64), Some(b.to_string())),
        other => (SqlValue::Null, Some(other.to_string())),
    }
}

/// The SQL columns and values for one property of `entity`, validated.
pub fn property_columns(
    dialect: crate::sql::Dialect,
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
    let json_text = |v: &Value| {
        if v.is_null() {
            SqlValue::Null
        } else {
            SqlValue::Text(v.to_string())
        }
    };
    Ok(match (column, prop.kind) {
        (Column::Plain(c), PropertyKind::Text) => match v {
            Value::String(s) => vec![(c, SqlValue::Text(s.clone()))],
            Value::Null => vec![(c, SqlValue::Null)],
            _ => return Err(wrong("a string")),
        },
        (Column::Plain(c), PropertyKind::Time) => match v {
            Value::String(s) => vec![(
                c,
                SqlValue::Int(
                    sta::time::parse_instant(s)
                        .map_err(|e| bad_body(format!("{entity}.{name}: {e}")))?,
                ),
            )],
            Value::Null => vec![(c, SqlValue::Null)],
            _ => return Err(wrong("an ISO 8601 instant")),
        },
        (Column::Json(c), PropertyKind::Object) => match v {
            Value::Object(_) | Value::Null => vec![(c, json_text(v))],
            _ => return Err(wrong("a JSON object")),
        },
        (Column::Json(c), _) => vec![(c, json_text(v))],
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
                    (s, SqlValue::Int(t.start)),
                    (e, t.end.map_or(SqlValue::Null, SqlValue::Int)),
                ]
            }
            Value::Null => vec![(s, SqlValue::Null), (e, SqlValue::Null)],
            _ => return Err(wrong("an ISO 8601 instant or interval")),
        },
        (Column::Result, _) => {
            let (native, json) = encode_result_for(dialect, v);
            vec![
                ("result", native),
                ("result_json", json.map_or(SqlValue::Null, SqlValue::Text)),
            ]
        }
        (Column::Plain(_), _) => return Err(bad_body(format!("{entity}.{name} cannot be set"))),
    })
}

/// Resolves `{"@iot.id": n}` to an existing entity, or deep-inserts an inline one.
pub fn link_or_create(
    w: &mut impl WriteBackend,
    entity: EntityType,
    v: &Value,
    ev: &mut Vec<CommitEvent>,
) -> Result<i64, StoreError> {
    if let Some(idv) = v.get("@iot.id") {
        let id = id_of(idv)?;
        let check = format!("SELECT 1 FROM {} WHERE id = ?1", mapping::table(entity));
        if int(w, &check, &[id])?.is_none() {
            return Err(bad_body(format!(
                "{}({id}) does not exist",
                entity.set_name()
            )));
        }
        return Ok(id);
    }
    insert_entity(w, entity, v, ev)
}

/// Inserts an entity and everything inline in it (deep insert), all or nothing.
pub fn insert_entity(
    w: &mut impl WriteBackend,
    entity: EntityType,
    body: &Value,
    ev: &mut Vec<CommitEvent>,
) -> Result<i64, StoreError> {
    let m = as_object(entity, body)?;
    if entity == EntityType::Observation {
        return insert_observation(w, m, ev);
    }
    let mut cols: Vec<(&'static str, SqlValue)> = Vec::new();
    for p in entity.properties() {
        if p.read_only {
            continue;
        }
        match m.get(p.name) {
            Some(v) => cols.extend(property_columns(w.dialect(), entity, p.name, v)?),
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
            Some(v) => cols.push((fk, SqlValue::Int(link_or_create(w, nav.target, v, ev)?))),
            None => {
                return Err(bad_body(format!(
                    "{entity}: '{}' is required (a link {{\"@iot.id\": …}} or an inline entity)",
                    nav.name
                )));
            }
        }
    }
    let d = w.dialect();
    let names: Vec<&str> = cols.iter().map(|(c, _)| *c).collect();
    let marks: Vec<String> = (1..=cols.len()).map(|i| d.placeholder(i)).collect();
    let insert = format!(
        "INSERT INTO {} ({}) VALUES ({}) RETURNING id",
        mapping::table(entity),
        names.join(", "),
        marks.join(", ")
    );
    let values: Vec<SqlValue> = cols.into_iter().map(|(_, v)| v).collect();
    let Some(SqlValue::Int(id)) = w.query_first(&insert, &values)? else {
        return Err(StoreError::Database(format!(
            "inserting a {entity} returned no id"
        )));
    };
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
            let link = ToMany {
                entity,
                id,
                nav: nav.name,
                target: nav.target,
            };
            link_many(w, link, items, false, ev)?;
        }
    }
    if entity == EntityType::HistoricalLocation {
        move_thing_if_latest(w, id)?;
    }
    Ok(id)
}

fn insert_observation(
    w: &mut impl WriteBackend,
    m: &Map<String, Value>,
    ev: &mut Vec<CommitEvent>,
) -> Result<i64, StoreError> {
    let ds = m
        .get("Datastream")
        .ok_or_else(|| bad_body("Observation: 'Datastream' is required"))?;
    let ds = link_or_create(w, EntityType::Datastream, ds, ev)?;
    let feature = match m.get("FeatureOfInterest") {
        Some(f) => Some(link_or_create(w, EntityType::FeatureOfInterest, f, ev)?),
        None => None,
    };
    w.insert_observation(m, ds, feature, ev)
}

/// One to-many navigation property of one entity: `entity(id)/nav` holding `target`s.
#[derive(Debug, Clone, Copy)]
pub struct ToMany<'a> {
    pub entity: EntityType,
    pub id: i64,
    pub nav: &'a str,
    pub target: EntityType,
}

/// Links (or deep-inserts and links) the members of a to-many navigation property; `replace`
/// first unlinks the current members of a link table (PUT/PATCH of a Thing's Locations).
pub fn link_many(
    w: &mut impl WriteBackend,
    link: ToMany<'_>,
    items: &[Value],
    replace: bool,
    ev: &mut Vec<CommitEvent>,
) -> Result<(), StoreError> {
    let ToMany {
        entity,
        id,
        nav,
        target,
    } = link;
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
                    let relink = format!(
                        "UPDATE {} SET {fk} = ?1 WHERE id = ?2",
                        mapping::table(target)
                    );
                    if run(w, &relink, &[id, child])? == 0 {
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
                    insert_entity(w, target, &item, ev)?;
                }
            }
        }
        Some(Relation::LinkTable {
            table,
            parent_column,
            child_column,
        }) => {
            if replace {
                run(
                    w,
                    &format!("DELETE FROM {table} WHERE {parent_column} = ?1"),
                    &[id],
                )?;
            }
            let mut linked = Vec::new();
            for item in items {
                let child = link_or_create(w, target, item, ev)?;
                let insert = format!(
                    "INSERT INTO {table} ({parent_column}, {child_column}) VALUES (?1, ?2) ON CONFLICT DO NOTHING"
                );
                run(w, &insert, &[id, child])?;
                linked.push(child);
            }
            // A Thing's Locations changed: record it (OGC 18-088 §8.2.3).
            match (entity, nav) {
                (EntityType::Thing, "Locations") if !linked.is_empty() => {
                    add_historical_location(w, id, &linked, ev)?;
                }
                (EntityType::Location, "Things") => {
                    for thing in linked {
                        run(
                            w,
                            "DELETE FROM thing_locations WHERE thing_id = ?1 AND location_id <> ?2",
                            &[thing, id],
                        )?;
                        add_historical_location(w, thing, &[id], ev)?;
                    }
                }
                _ => {}
            }
        }
        _ => return Err(bad_body(format!("{entity}.{nav} cannot be set"))),
    }
    Ok(())
}

fn add_historical_location(
    w: &mut impl WriteBackend,
    thing: i64,
    locations: &[i64],
    ev: &mut Vec<CommitEvent>,
) -> Result<(), StoreError> {
    let hl = int(
        w,
        "INSERT INTO historical_locations (thing_id, time) VALUES (?1, ?2) RETURNING id",
        &[thing, crate::clock::now_micros()],
    )?
    .ok_or_else(|| StoreError::Database("inserting a HistoricalLocation returned no id".into()))?;
    for &loc in locations {
        run(
            w,
            "INSERT INTO historical_location_locations (historical_location_id, location_id) VALUES (?1, ?2) ON CONFLICT DO NOTHING",
            &[hl, loc],
        )?;
    }
    ev.push(CommitEvent::Entity {
        entity: EntityType::HistoricalLocation,
        id: hl,
        change: ChangeKind::Created,
    });
    Ok(())
}

/// A HistoricalLocation later than the Thing's latest moves the Thing to its Locations.
fn move_thing_if_latest(w: &mut impl WriteBackend, hl: i64) -> Result<(), StoreError> {
    let thing = int(
        w,
        "SELECT thing_id FROM historical_locations WHERE id = ?1",
        &[hl],
    )?;
    let time = int(
        w,
        "SELECT time FROM historical_locations WHERE id = ?1",
        &[hl],
    )?;
    let (Some(thing), Some(time)) = (thing, time) else {
        return Ok(());
    };
    let later = int(
        w,
        "SELECT COUNT(*) FROM historical_locations WHERE thing_id = ?1 AND id <> ?2 AND time > ?3",
        &[thing, hl, time],
    )?;
    let locations = int(
        w,
        "SELECT COUNT(*) FROM historical_location_locations WHERE historical_location_id = ?1",
        &[hl],
    )?;
    if later == Some(0) && locations.is_some_and(|n| n > 0) {
        run(
            w,
            "DELETE FROM thing_locations WHERE thing_id = ?1",
            &[thing],
        )?;
        run(
            w,
            "INSERT INTO thing_locations (thing_id, location_id) SELECT ?1, location_id FROM historical_location_locations WHERE historical_location_id = ?2",
            &[thing, hl],
        )?;
    }
    Ok(())
}
