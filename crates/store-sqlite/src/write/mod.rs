//! The write path, run on the single writer thread inside one savepoint per command: deep
//! insert, PATCH/PUT, DELETE with OGC 18-088's cascades, observations.

mod delete;
mod observations;

use crate::error::Db;
use observations::{
    Aggregate, create_observations, flush_aggregates, parse_observation, recompute_datastream,
    store_observation,
};

use crate::executor::SqliteExecutor;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, params, params_from_iter};
use serde_json::{Map, Value, json};
use sta::{EntityType, PropertyKind, Tail};
use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use store::resolve::{Target, resolve};
use store::sql::mapping::{self, Column, Relation};
use store::{ChangeKind, CommitEvent, StoreError, WriteCommand, WriteOutcome, bad_body};

/// The store's rule for future phenomenon times, and the count of what it refused.
#[derive(Debug, Clone, Default)]
pub struct TimePolicy {
    /// `None`: any time is accepted.
    pub tolerance_s: Option<u64>,
    pub refused: Arc<AtomicU64>,
}

impl TimePolicy {
    /// A phenomenonTime later than now + the tolerance would pin the latest value and move the
    /// alert clock: refuse it (400) and count it. Checked on every observation write path.
    pub fn check(&self, start: i64) -> Result<(), StoreError> {
        sta::time::check_year_range(start).map_err(|e| bad_body(format!("Observation: {e}")))?;
        let Some(tolerance) = self.tolerance_s else {
            return Ok(());
        };
        sta::time::check_not_future(start, store::clock::now_micros(), tolerance).map_err(|e| {
            self.refused.fetch_add(1, Ordering::Relaxed);
            bad_body(format!("Observation: {e}"))
        })
    }
}

/// State the writer keeps between commands.
pub struct WriterState {
    pub next_observation_id: i64,
    pub time: TimePolicy,
    known_datastreams: HashSet<i64>,
    feature_for_datastream: HashMap<i64, i64>,
    pending: HashMap<i64, Aggregate>,
    /// Envelopes of features and the stored `observedArea` of datastreams (see
    /// `observations::extend_area`).
    feature_envelopes: HashMap<i64, Option<sta::geo::Envelope>>,
    areas: HashMap<i64, Option<sta::geo::Envelope>>,
}

impl WriterState {
    pub fn load(conn: &Connection) -> Result<Self, StoreError> {
        let max: Option<i64> = conn
            .query_row("SELECT MAX(id) FROM observations", [], |r| r.get(0))
            .db()?;
        Ok(WriterState {
            next_observation_id: max.unwrap_or(0) + 1,
            time: TimePolicy::default(),
            known_datastreams: HashSet::new(),
            feature_for_datastream: HashMap::new(),
            pending: HashMap::new(),
            feature_envelopes: HashMap::new(),
            areas: HashMap::new(),
        })
    }

    /// Caches may be stale after any structural change (or a rolled-back command).
    fn forget_caches(&mut self) {
        self.known_datastreams.clear();
        self.feature_for_datastream.clear();
        self.feature_envelopes.clear();
        self.areas.clear();
    }
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

/// Applies one command. On error the caller rolls the command's savepoint back.
pub fn apply(
    conn: &Connection,
    st: &mut WriterState,
    cmd: WriteCommand,
    events: &mut Vec<CommitEvent>,
) -> Result<WriteOutcome, StoreError> {
    let observation_only = matches!(
        cmd,
        WriteCommand::CreateObservations { .. } | WriteCommand::InsertObservations(_)
    );
    if !observation_only {
        st.forget_caches();
    }
    let result = apply_inner(conn, st, cmd, events).and_then(|r| {
        flush_aggregates(conn, &mut st.pending, &mut st.areas)?;
        Ok(r)
    });
    // A structural command may have recomputed what the caches hold (observedArea after a
    // delete): the next command starts from the database.
    if result.is_err() || !observation_only {
        st.pending.clear();
        st.forget_caches();
    }
    result
}

fn apply_inner(
    conn: &Connection,
    st: &mut WriterState,
    cmd: WriteCommand,
    ev: &mut Vec<CommitEvent>,
) -> Result<WriteOutcome, StoreError> {
    match cmd {
        WriteCommand::Create { path, body } => {
            if !path.is_collection() || path.tail != Tail::None {
                return Err(bad_body("POST must address a collection"));
            }
            let entity = path.target();
            let mut body = body;
            if path.steps.len() > 1 {
                let parent_path = sta::ResourcePath {
                    steps: path.steps[..path.steps.len() - 1].to_vec(),
                    tail: Tail::None,
                };
                let Target::Entity(pe, pid) = resolve(&SqliteExecutor(conn), &parent_path)? else {
                    return Err(bad_body("POST must address a collection"));
                };
                link_to_parent(entity, &mut body, pe, pid)?;
            }
            let id = insert_entity(conn, st, entity, &body, ev)?;
            Ok(WriteOutcome::Created { entity, id })
        }
        WriteCommand::Update {
            path,
            body,
            replace,
        } => {
            let Target::Entity(entity, id) = resolve(&SqliteExecutor(conn), &path)? else {
                return Err(bad_body("PATCH and PUT must address one entity"));
            };
            if path.tail != Tail::None {
                return Err(bad_body(
                    "PATCH and PUT must address an entity, not a property",
                ));
            }
            update_entity(conn, st, entity, id, &body, replace, ev)?;
            Ok(WriteOutcome::Updated { entity, id })
        }
        WriteCommand::JsonPatch { path, operations } => {
            let Target::Entity(entity, id) = resolve(&SqliteExecutor(conn), &path)? else {
                return Err(bad_body("a JSON-Patch must address one entity"));
            };
            if path.tail != Tail::None {
                return Err(bad_body(
                    "a JSON-Patch must address an entity, not a property",
                ));
            }
            // Read, patch and replace in this command's savepoint: atomic with respect to every
            // other write, and nothing changes when an operation fails.
            let mut doc = store::patch::current_document(&SqliteExecutor(conn), entity, id)?;
            store::patch::apply(entity, &mut doc, &operations)?;
            update_entity(conn, st, entity, id, &doc, true, ev)?;
            Ok(WriteOutcome::Updated { entity, id })
        }
        WriteCommand::Delete { path } => {
            let Target::Entity(entity, id) = resolve(&SqliteExecutor(conn), &path)? else {
                return Err(bad_body("DELETE must address one entity"));
            };
            delete::delete_entity(conn, entity, id, ev)?;
            Ok(WriteOutcome::Deleted)
        }
        WriteCommand::DeleteWhere {
            path,
            filter,
            limit,
        } => {
            let exec = SqliteExecutor(conn);
            let m = store::delete_where::select_matching(&exec, &path, filter.as_ref(), limit)?;
            if m.entity == EntityType::Observation {
                // Set-based, then each touched datastream recomputed once (times, latest
                // value, count): a per-row delete would recompute per row.
                store::delete_where::delete_observations(&exec, &m.ids)?;
                for &ds in &m.datastreams {
                    recompute_datastream(conn, ds)?;
                }
                ev.extend(m.ids.iter().map(|&id| CommitEvent::Entity {
                    entity: EntityType::Observation,
                    id,
                    change: ChangeKind::Deleted,
                }));
            } else {
                // Cascades never reach an entity of the same type, so every id still exists.
                for &id in &m.ids {
                    delete::delete_entity(conn, m.entity, id, ev)?;
                }
            }
            Ok(WriteOutcome::DeletedCount(m.ids.len() as u64))
        }
        WriteCommand::Atomic { writes, produced } => atomic(conn, st, writes, produced, ev),
        WriteCommand::CreateObservations { body } => Ok(WriteOutcome::Rows(create_observations(
            conn, st, &body, ev,
        )?)),
        WriteCommand::InsertObservations(rows) => {
            let mut out = Vec::with_capacity(rows.len());
            for row in rows {
                out.push(match store_observation(conn, st, row.into(), ev) {
                    Ok(r) => Ok(r),
                    Err(StoreError::Sta(e)) => Err(e.to_string()),
                    Err(other) => return Err(other),
                });
            }
            Ok(WriteOutcome::Rows(out))
        }
    }
}

/// An atomicity group of `$batch`: each write in turn, inside this command's savepoint, with
/// references resolved against what the batch produced so far. The first failure fails the
/// command (so the savepoint rolls every write of the group back) and names its index.
fn atomic(
    conn: &Connection,
    st: &mut WriterState,
    writes: Vec<store::AtomicWrite>,
    mut produced: HashMap<String, sta::batch::Produced>,
    ev: &mut Vec<CommitEvent>,
) -> Result<WriteOutcome, StoreError> {
    let mut outcomes = Vec::with_capacity(writes.len());
    for (index, w) in writes.into_iter().enumerate() {
        let in_group = |error: StoreError| StoreError::InGroup {
            index,
            error: Box::new(error),
        };
        let outcome =
            atomic_one(conn, st, w.kind, &w.path, w.body, &produced, ev).map_err(in_group)?;
        if let WriteOutcome::Created { entity, id } | WriteOutcome::Updated { entity, id } = outcome
        {
            produced.insert(
                w.id,
                sta::batch::Produced {
                    path: format!("{}({id})", entity.set_name()),
                    id,
                },
            );
        }
        outcomes.push(outcome);
    }
    Ok(WriteOutcome::Atomic(outcomes))
}

fn atomic_one(
    conn: &Connection,
    st: &mut WriterState,
    kind: store::AtomicKind,
    path: &str,
    mut body: Option<Value>,
    produced: &HashMap<String, sta::batch::Produced>,
    ev: &mut Vec<CommitEvent>,
) -> Result<WriteOutcome, StoreError> {
    use store::AtomicKind::*;
    let path = sta::batch::substitute(path, body.as_mut(), produced).map_err(bad_body)?;
    let path = sta::parse_path(&path)?;
    let mut body = || {
        body.take()
            .ok_or_else(|| bad_body("this request needs a body"))
    };
    let cmd = match kind {
        Create => WriteCommand::Create {
            path,
            body: body()?,
        },
        Merge => WriteCommand::Update {
            path,
            body: body()?,
            replace: false,
        },
        Replace => WriteCommand::Update {
            path,
            body: body()?,
            replace: true,
        },
        JsonPatch => WriteCommand::JsonPatch {
            path,
            operations: body()?,
        },
        Delete if path.is_collection() => {
            return Err(bad_body(
                "a filtered DELETE cannot be part of an atomicity group; send it on its own",
            ));
        }
        Delete => WriteCommand::Delete { path },
    };
    apply_inner(conn, st, cmd, ev)
}

/// POST to `Parent(id)/Children`: link the new child to the parent through its inverse
/// navigation property.
fn link_to_parent(
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

fn as_object(entity: EntityType, v: &Value) -> Result<&Map<String, Value>, StoreError> {
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
fn property_columns(
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
fn link_or_create(
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
fn insert_entity(
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

fn insert_observation(
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
fn link_many(
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

fn add_historical_location(
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
fn move_thing_if_latest(conn: &Connection, hl: i64) -> Result<(), StoreError> {
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

/// An update links related entities by `@iot.id` only: OGC 18-088 §10.3 defines deep insert
/// for POST, not for PATCH/PUT, and silently creating an inline entity on update would be a
/// surprise (400).
fn require_link(entity: EntityType, nav: &str, v: &Value) -> Result<(), StoreError> {
    if v.get("@iot.id").is_some() {
        return Ok(());
    }
    Err(bad_body(format!(
        "{entity}.{nav}: an update can only link existing entities by {{\"@iot.id\": …}}, not create inline ones (deep insert is for POST)"
    )))
}

fn update_entity(
    conn: &Connection,
    st: &mut WriterState,
    entity: EntityType,
    id: i64,
    body: &Value,
    replace: bool,
    ev: &mut Vec<CommitEvent>,
) -> Result<(), StoreError> {
    let m = as_object(entity, body)?;
    if entity == EntityType::Observation
        && let Some(Value::String(text)) = m.get("phenomenonTime")
        && let Ok(t) = sta::time::parse_time_value(text)
    {
        st.time.check(t.start)?;
    }
    let mut cols: Vec<(&'static str, SqlValue)> = Vec::new();
    for p in entity.properties().iter().filter(|p| !p.read_only) {
        match m.get(p.name) {
            Some(v) => cols.extend(property_columns(entity, p.name, v)?),
            None if replace && p.required => {
                return Err(bad_body(format!("PUT {entity}: '{}' is required", p.name)));
            }
            None if replace
                && !(entity == EntityType::Observation && p.name == "phenomenonTime") =>
            {
                cols.extend(property_columns(entity, p.name, &Value::Null)?)
            }
            None => {}
        }
    }
    let old_ds: Option<i64> = if entity == EntityType::Observation {
        Some(
            conn.query_row(
                "SELECT datastream_id FROM observations WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .db()?,
        )
    } else {
        None
    };
    for nav in entity.navigations() {
        let Some(v) = m.get(nav.name) else { continue };
        if nav.to_many {
            let items = v
                .as_array()
                .ok_or_else(|| bad_body(format!("{entity}.{} must be an array", nav.name)))?;
            for item in items {
                require_link(entity, nav.name, item)?;
            }
            link_many(conn, st, entity, id, nav.name, nav.target, items, true, ev)?;
        } else if let Some(Relation::ForeignKeyOnParent(fk)) = mapping::relation(entity, nav.name) {
            require_link(entity, nav.name, v)?;
            cols.push((
                fk,
                SqlValue::Integer(link_or_create(conn, st, nav.target, v, ev)?),
            ));
        }
    }
    if !cols.is_empty() {
        let sets: Vec<String> = cols
            .iter()
            .enumerate()
            .map(|(i, (c, _))| format!("{c} = ?{}", i + 2))
            .collect();
        let sql = format!(
            "UPDATE {} SET {} WHERE id = ?1",
            mapping::table(entity),
            sets.join(", ")
        );
        let mut values = vec![SqlValue::Integer(id)];
        values.extend(cols.into_iter().map(|(_, v)| v));
        conn.execute(&sql, params_from_iter(values)).map_err(|e| match e {
            rusqlite::Error::SqliteFailure(f, _) if f.code == rusqlite::ErrorCode::ConstraintViolation => {
                StoreError::Conflict(format!("{entity}({id}): another observation of the datastream has this phenomenonTime"))
            }
            other => crate::error::to_store_error(other),
        })?;
    }
    if let Some(old) = old_ds {
        let new: i64 = conn
            .query_row(
                "SELECT datastream_id FROM observations WHERE id = ?1",
                [id],
                |r| r.get(0),
            )
            .db()?;
        recompute_datastream(conn, old)?;
        if new != old {
            recompute_datastream(conn, new)?;
        }
    }
    ev.push(CommitEvent::Entity {
        entity,
        id,
        change: ChangeKind::Updated,
    });
    Ok(())
}
