//! Decoding rows (laid out by [`crate::shape::select_list`]) into [`Row`]s, from any backend's
//! cells. Properties a `$select` leaves out are skipped, not formatted.

use crate::StoreError;
use crate::executor::{Cell, RowRef};
use crate::shape::{Keep, Row};
use crate::sql::mapping::{self, Column};
use serde_json::{Map, Value};
use sta::{EntityType, PropertyKind};

/// A JSON column's text as JSON; text that does not parse stays a string rather than vanish.
pub fn json_text(v: Cell<'_>) -> Value {
    match v {
        Cell::Text(t) => serde_json::from_slice(t)
            .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(t).into_owned())),
        _ => Value::Null,
    }
}

/// The stored result columns (`result`, `result_json`) as JSON.
pub fn result_value(native: Cell<'_>, json: Cell<'_>) -> Value {
    if let Cell::Text(_) = json {
        return json_text(json);
    }
    match native {
        Cell::Int(i) => Value::from(i),
        Cell::Float(f) => serde_json::Number::from_f64(f)
            .map(Value::Number)
            .unwrap_or(Value::Null),
        Cell::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
        Cell::Null => Value::Null,
    }
}

/// SQL columns one property occupies in the select list.
pub fn width(col: &Column) -> usize {
    match col {
        Column::Interval(..) | Column::Result => 2,
        _ => 1,
    }
}

/// The JSON value of the property `col` (of kind `kind`) whose cells start at `i`: what a
/// decoded [`Row`] holds and what the streamed answer writes (`crate::read::stream`), one
/// function so that both say the same.
pub fn column_value(
    kind: PropertyKind,
    col: &Column,
    row: &dyn RowRef,
    i: usize,
) -> Result<Value, StoreError> {
    Ok(match col {
        Column::Plain(_) => {
            let v = row.cell(i)?;
            match kind {
                PropertyKind::Id => Value::from(v.as_i64().unwrap_or_default()),
                PropertyKind::Time => v
                    .as_i64()
                    .map(|t| Value::String(sta::time::format_echo(t)))
                    .unwrap_or(Value::Null),
                _ => match v {
                    Cell::Text(t) => Value::String(String::from_utf8_lossy(t).into_owned()),
                    Cell::Int(n) => Value::from(n),
                    Cell::Float(f) => Value::from(f),
                    Cell::Null => Value::Null,
                },
            }
        }
        Column::Json(_) | Column::Geometry(_) => json_text(row.cell(i)?),
        Column::Interval(..) => {
            let start = row.cell(i)?.as_i64();
            let end = row.cell(i + 1)?.as_i64();
            start
                .map(|s| Value::String(sta::time::format_echo_value(s, end)))
                .unwrap_or(Value::Null)
        }
        Column::Result => result_value(row.cell(i)?, row.cell(i + 1)?),
    })
}

/// The kind of property `name` of `entity` (`Any` for a column the model does not type).
pub fn kind_of(entity: EntityType, name: &str) -> PropertyKind {
    entity
        .property(name)
        .map(|p| p.kind)
        .unwrap_or(PropertyKind::Any)
}

/// Decodes a row produced by `select_list`, starting at cell `offset`. Properties that `keep`
/// does not want are skipped (not formatted, not allocated): reading a long series with
/// `$select=phenomenonTime,result` should cost what those two properties cost.
pub fn decode(
    entity: EntityType,
    row: &dyn RowRef,
    offset: usize,
    keep: Keep<'_>,
) -> Result<Row, StoreError> {
    let mut fields = Map::new();
    let mut i = offset;
    let mut id = 0;
    for (name, col) in mapping::columns(entity) {
        if *name != "id" && !keep.wants(name) {
            i += width(col);
            continue;
        }
        let kind = kind_of(entity, name);
        let value = column_value(kind, col, row, i)?;
        if kind == PropertyKind::Id {
            id = value.as_i64().unwrap_or_default();
        }
        i += width(col);
        fields.insert((*name).to_string(), value);
    }
    let mut fks = Vec::new();
    for (nav, _) in mapping::foreign_keys(entity) {
        fks.push((*nav, row.cell(i)?.as_i64()));
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
