//! PATCH (merge) and PUT (replace) of one entity (OGC 18-088 §10.3), for every backend over a
//! [`WriteBackend`]: validation, relinks by `@iot.id` only, the uniqueness rule of observations,
//! and the recomputation of what an update changes (datastream aggregates, observedArea).

use crate::cascade::{datastreams_of_feature, recompute_datastream};
use crate::deep_insert::{
    ToMany, WriteBackend, as_object, link_many, link_or_create, property_columns,
};
use crate::sql::SqlValue;
use crate::sql::mapping::{self, Relation};
use crate::{ChangeKind, CommitEvent, StoreError, bad_body};
use serde_json::Value;
use sta::EntityType;

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

fn observation_int(
    w: &impl WriteBackend,
    column: &str,
    id: i64,
) -> Result<Option<i64>, StoreError> {
    let sql = format!(
        "SELECT {column} FROM observations WHERE id = {}",
        w.dialect().placeholder(1)
    );
    Ok(match w.query_first(&sql, &[SqlValue::Int(id)])? {
        Some(SqlValue::Int(v)) => Some(v),
        _ => None,
    })
}

/// An observation is keyed by (datastream, phenomenon time start): an update that would give
/// it another observation's key is a conflict (409), checked before the statement so every
/// backend answers alike.
fn check_observation_key(
    w: &impl WriteBackend,
    id: i64,
    cols: &[(&'static str, SqlValue)],
) -> Result<(), StoreError> {
    let new = |name: &str| {
        cols.iter()
            .find(|(c, _)| *c == name)
            .and_then(|(_, v)| match v {
                SqlValue::Int(i) => Some(*i),
                _ => None,
            })
    };
    let (ds, start) = (new("datastream_id"), new("phenomenon_time_start"));
    if ds.is_none() && start.is_none() {
        return Ok(());
    }
    let ds = match ds {
        Some(ds) => Some(ds),
        None => observation_int(w, "datastream_id", id)?,
    };
    let start = match start {
        Some(s) => Some(s),
        None => observation_int(w, "phenomenon_time_start", id)?,
    };
    let (Some(ds), Some(start)) = (ds, start) else {
        return Ok(());
    };
    let d = w.dialect();
    let sql = format!(
        "SELECT id FROM observations WHERE datastream_id = {} AND phenomenon_time_start = {} AND id <> {}",
        d.placeholder(1),
        d.placeholder(2),
        d.placeholder(3)
    );
    let params = [SqlValue::Int(ds), SqlValue::Int(start), SqlValue::Int(id)];
    if w.query_first(&sql, &params)?.is_some() {
        return Err(StoreError::Conflict(format!(
            "Observation({id}): another observation of the datastream has this phenomenonTime"
        )));
    }
    Ok(())
}

/// Updates `entity(id)` from `body`: merge (PATCH) or, with `replace`, PUT semantics (a missing
/// mandatory property is 400, missing optional ones are cleared).
pub fn update_entity(
    w: &mut impl WriteBackend,
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
        w.check_time(t.start)?;
    }
    let mut cols: Vec<(&'static str, SqlValue)> = Vec::new();
    for p in entity.properties().iter().filter(|p| !p.read_only) {
        match m.get(p.name) {
            Some(v) => cols.extend(property_columns(w.dialect(), entity, p.name, v)?),
            None if replace && p.required => {
                return Err(bad_body(format!("PUT {entity}: '{}' is required", p.name)));
            }
            None if replace
                && !(entity == EntityType::Observation && p.name == "phenomenonTime") =>
            {
                cols.extend(property_columns(w.dialect(), entity, p.name, &Value::Null)?)
            }
            None => {}
        }
    }
    let old_ds = if entity == EntityType::Observation {
        observation_int(w, "datastream_id", id)?
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
            link_many(w, link, items, true, ev)?;
        } else if let Some(Relation::ForeignKeyOnParent(fk)) = mapping::relation(entity, nav.name) {
            require_link(entity, nav.name, v)?;
            cols.push((fk, SqlValue::Int(link_or_create(w, nav.target, v, ev)?)));
        }
    }
    if entity == EntityType::Observation {
        check_observation_key(w, id, &cols)?;
    }
    if !cols.is_empty() {
        let d = w.dialect();
        let sets: Vec<String> = cols
            .iter()
            .enumerate()
            .map(|(i, (c, _))| format!("{c} = {}", d.placeholder(i + 2)))
            .collect();
        let sql = format!(
            "UPDATE {} SET {} WHERE id = {}",
            mapping::table(entity),
            sets.join(", "),
            d.placeholder(1)
        );
        let mut values = vec![SqlValue::Int(id)];
        values.extend(cols.into_iter().map(|(_, v)| v));
        w.execute(&sql, &values)?;
    }
    if let Some(old) = old_ds {
        recompute_datastream(w, old)?;
        if let Some(new) = observation_int(w, "datastream_id", id)?
            && new != old
        {
            recompute_datastream(w, new)?;
        }
    }
    // A feature that moved moves the observedArea of every datastream observing it.
    if entity == EntityType::FeatureOfInterest && m.contains_key("feature") {
        for ds in datastreams_of_feature(w, id)? {
            recompute_datastream(w, ds)?;
        }
    }
    ev.push(CommitEvent::Entity {
        entity,
        id,
        change: ChangeKind::Updated,
    });
    Ok(())
}
