//! JSON shaping, for every backend: decoded rows → SensorThings entities with `@iot.id`,
//! `@iot.selfLink`, navigation links, `$select` and expanded members; and the column layout a
//! backend's decoder follows (`select_list`, `column_count`, [`Keep`]).

use crate::sql::mapping::{self, Column};
use serde_json::{Map, Value};
use sta::EntityType;

/// One decoded entity row, before shaping.
#[derive(Debug, Clone)]
pub struct Row {
    pub id: i64,
    pub fields: Map<String, Value>,
    /// Foreign keys of to-one navigations (`Datastream` → `thing_id`, …), for set-based expands.
    pub fks: Vec<(&'static str, Option<i64>)>,
    /// Expanded navigation members (`Datastreams`, `Datastreams@iot.count`, …), in order.
    pub expanded: Vec<(String, Value)>,
    /// Entities embedded under this row by `$expand`, at every level (the budget
    /// `max_expanded_rows` is checked against their sum before anything is copied).
    pub embedded: u64,
}

impl Row {
    pub fn fk(&self, nav: &str) -> Option<i64> {
        self.fks
            .iter()
            .find(|(n, _)| *n == nav)
            .and_then(|(_, v)| *v)
    }
}

/// The SELECT list for `entity` under `alias`, in decoding order.
pub fn select_list(entity: EntityType, alias: &str) -> String {
    let mut cols = Vec::new();
    for (_, col) in mapping::columns(entity) {
        match col {
            Column::Plain(c) | Column::Json(c) | Column::Geometry(c) => {
                cols.push(format!("{alias}.{c}"))
            }
            Column::Interval(s, e) => {
                cols.push(format!("{alias}.{s}"));
                cols.push(format!("{alias}.{e}"));
            }
            Column::Result => {
                cols.push(format!("{alias}.result"));
                cols.push(format!("{alias}.result_json"));
            }
        }
    }
    for (_, fk) in mapping::foreign_keys(entity) {
        cols.push(format!("{alias}.{fk}"));
    }
    cols.join(", ")
}

/// Number of SQL columns `select_list` produces.
pub fn column_count(entity: EntityType) -> usize {
    mapping::columns(entity)
        .iter()
        .map(|(_, c)| match c {
            Column::Interval(..) | Column::Result => 2,
            _ => 1,
        })
        .sum::<usize>()
        + mapping::foreign_keys(entity).len()
}

/// Which properties to decode: all, or those a `$select` names (plus any the caller needs).
#[derive(Clone, Copy)]
pub enum Keep<'a> {
    All,
    Only(&'a [String], Option<&'static str>),
}

impl Keep<'_> {
    pub fn wants(&self, name: &str) -> bool {
        match self {
            Keep::All => true,
            Keep::Only(list, extra) => *extra == Some(name) || list.iter().any(|s| s == name),
        }
    }

    pub fn select(select: Option<&[String]>) -> Keep<'_> {
        select.map_or(Keep::All, |s| Keep::Only(s, None))
    }
}

/// An entity's link relative to the service root (`Things(1)`): the HTTP shell, which knows the
/// public URL, makes links absolute (`store::links`).
pub fn self_link(entity: EntityType, id: i64) -> String {
    format!("{}({id})", entity.set_name())
}

fn selected(select: Option<&[String]>, name: &str) -> bool {
    select.is_none_or(|s| s.iter().any(|x| x == name))
}

/// Shapes one row as an STA entity. Fields were decoded in the entity's property order, so they
/// move into the answer without lookups.
pub fn to_json(entity: EntityType, row: Row, select: Option<&[String]>) -> Value {
    let mut out = Map::new();
    let Row {
        id,
        fields,
        expanded,
        ..
    } = row;
    let wants_links = select.is_none_or(|s| {
        s.iter()
            .any(|x| x == "id" || entity.navigation(x).is_some())
    });
    let link = if wants_links {
        self_link(entity, id)
    } else {
        String::new()
    };
    if selected(select, "id") {
        out.insert("@iot.selfLink".into(), Value::String(link.clone()));
        out.insert("@iot.id".into(), Value::from(id));
    }
    for (name, value) in fields {
        if name != "id" && selected(select, &name) {
            out.insert(name, value);
        }
    }
    for nav in entity.navigations() {
        if selected(select, nav.name) {
            out.insert(
                format!("{}@iot.navigationLink", nav.name),
                Value::String(format!("{link}/{}", nav.name)),
            );
        }
    }
    for (k, v) in expanded {
        out.insert(k, v);
    }
    Value::Object(out)
}
