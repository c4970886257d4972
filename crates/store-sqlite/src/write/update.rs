//! PATCH (merge) and PUT (replace) of one entity, relinks by id only.

use super::WriterState;
use super::insert::Writer;
use super::observations::recompute_datastream;
use crate::error::Db;
use crate::executor::SqliteExecutor;
use crate::rows::to_sql_values;
use rusqlite::{Connection, params_from_iter};
use serde_json::Value;
use sta::EntityType;
use store::deep_insert::{ToMany, as_object, link_many, link_or_create, property_columns};
use store::sql::SqlValue;
use store::sql::mapping::{self, Relation};
use store::{ChangeKind, CommitEvent, StoreError, bad_body};

/// An update links related entities by `@iot.id` only: OGC 18-088 §10.3 defines deep insert
/// for POST, not for PATCH/PUT, and silently creating an inline entity on update would be a
/// surprise (400).
pub(super) fn require_link(entity: EntityType, nav: &str, v: &Value) -> Result<(), StoreError> {
    if v.get("@iot.id").is_some() {
        return Ok(());
    }
    Err(bad_body(format!(
        "{entity}.{nav}: an update can only link existing entities by {{\"@iot.id\": …}}, not create inline ones (deep insert is for POST)"
    )))
}

pub(super) fn update_entity(
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
            let link = ToMany {
                entity,
                id,
                nav: nav.name,
                target: nav.target,
            };
            link_many(&mut Writer { conn, st }, link, items, true, ev)?;
        } else if let Some(Relation::ForeignKeyOnParent(fk)) = mapping::relation(entity, nav.name) {
            require_link(entity, nav.name, v)?;
            cols.push((
                fk,
                SqlValue::Int(link_or_create(&mut Writer { conn, st }, nav.target, v, ev)?),
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
        let mut values = vec![SqlValue::Int(id)];
        values.extend(cols.into_iter().map(|(_, v)| v));
        conn.execute(&sql, params_from_iter(to_sql_values(&values))).map_err(|e| match e {
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
    // A feature that moved moves the observedArea of every datastream observing it.
    if entity == EntityType::FeatureOfInterest && m.contains_key("feature") {
        for ds in store::cascade::datastreams_of_feature(&SqliteExecutor(conn), id)? {
            recompute_datastream(conn, ds)?;
        }
    }
    ev.push(CommitEvent::Entity {
        entity,
        id,
        change: ChangeKind::Updated,
    });
    Ok(())
}
