//! Decoding SQLite rows (laid out by `store::shape::select_list`) into `store::shape::Row`s.
//! Properties a `$select` leaves out are skipped, not formatted.

use rusqlite::types::ValueRef;
use serde_json::{Map, Value};
use sta::{EntityType, PropertyKind};
use store::shape::{Keep, Row};
use store::sql::mapping::{self, Column};

fn json_text(v: ValueRef<'_>) -> Value {
    match v {
        ValueRef::Text(t) => serde_json::from_slice(t)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(t).into_owned())),
        _ => Value::Null,
    }
}

fn opt_i64(v: ValueRef<'_>) -> Option<i64> {
    match v {
        ValueRef::Integer(i) => Some(i),
        ValueRef::Real(f) => Some(f as i64),
        _ => None,
    }
}

/// The stored result columns (`result`, `result_json`) as JSON.
pub fn result_value(native: ValueRef<'_>, json: ValueRef<'_>) -> Value {
    if let ValueRef::Text(_) = json {
        return json_text(json);
    }
    match native {
        ValueRef::Integer(i) => Value::from(i),
        ValueRef::Real(f) => serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
        _ => Value::Null,
    }
}

/// Decodes a row produced by `select_list`. Properties that `keep` does not want are skipped
/// (not formatted, not allocated): reading a long series with `$select=phenomenonTime,result`
/// should cost what those two properties cost.
pub fn decode(
    entity: EntityType,
    row: &rusqlite::Row<'_>,
    offset: usize,
    keep: Keep<'_>,
) -> rusqlite::Result<Row> {
    let mut fields = Map::new();
    let mut i = offset;
    let mut id = 0;
    for (name, col) in mapping::columns(entity) {
        let kind = entity
            .property(name)
            .map(|p| p.kind)
            .unwrap_or(PropertyKind::Any);
        if *name != "id" && !keep.wants(name) {
            i += match col {
                Column::Interval(..) | Column::Result => 2,
                _ => 1,
            };
            continue;
        }
        let value = match col {
            Column::Plain(_) => {
                let v = row.get_ref(i)?;
                i += 1;
                match kind {
                    PropertyKind::Id => {
                        id = opt_i64(v).unwrap_or_default();
                        Value::from(id)
                    }
                    PropertyKind::Time => opt_i64(v)
                        .map(|t| Value::String(sta::time::format_instant(t)))
                        .unwrap_or(Value::Null),
                    _ => match v {
                        ValueRef::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
                        ValueRef::Integer(n) => Value::from(n),
                        ValueRef::Real(f) => Value::from(f),
                        _ => Value::Null,
                    },
                }
            }
            Column::Json(_) | Column::Geometry(_) => {
                let v = json_text(row.get_ref(i)?);
                i += 1;
                v
            }
            Column::Interval(..) => {
                let start = opt_i64(row.get_ref(i)?);
                let end = opt_i64(row.get_ref(i + 1)?);
                i += 2;
                start
                    .map(|s| Value::String(sta::time::format_time_value(s, end)))
                    .unwrap_or(Value::Null)
            }
            Column::Result => {
                let v = result_value(row.get_ref(i)?, row.get_ref(i + 1)?);
                i += 2;
                v
            }
        };
        fields.insert((*name).to_string(), value);
    }
    let mut fks = Vec::new();
    for (nav, _) in mapping::foreign_keys(entity) {
        fks.push((*nav, opt_i64(row.get_ref(i)?)));
        i += 1;
    }
    Ok(Row {
        id,
        fields,
        fks,
        expanded: Vec::new(),
        embedded: 0,
    })
}
