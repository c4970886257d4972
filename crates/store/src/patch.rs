//! JSON-Patch updates (RFC 6902, OGC 18-088 §10.3 requirement `update-entity-jsonpatch`):
//! read the entity's writable properties as a JSON document, apply the operations, and hand the
//! result to the backend's PUT. The backend runs all three inside its writer's transaction, so
//! a concurrent write cannot slip between the read and the update, and a failing operation
//! changes nothing.

use crate::executor::Executor;
use crate::sql::SqlValue;
use crate::sql::mapping::{self, Column};
use crate::{StoreError, bad_body, not_found};
use serde_json::{Map, Value};
use sta::{EntityType, PropertyKind};

/// The writable properties of `entity(id)` as the client would send them in a PUT: what a
/// patch's paths (`/name`, `/properties/depth`, …) address. Navigation properties are absent;
/// an `add` of `/Thing` with `{"@iot.id": n}` relinks, as in a PATCH body.
pub fn current_document(
    exec: &dyn Executor,
    entity: EntityType,
    id: i64,
) -> Result<Value, StoreError> {
    let props: Vec<_> = entity
        .properties()
        .iter()
        .filter(|p| !p.read_only)
        .filter_map(|p| mapping::column(entity, p.name).map(|c| (p, c)))
        .collect();
    let mut select = Vec::new();
    for (_, column) in &props {
        match column {
            Column::Plain(c) | Column::Json(c) | Column::Geometry(c) => select.push(*c),
            Column::Interval(s, e) => select.extend([*s, *e]),
            Column::Result => select.extend(["result", "result_json"]),
        }
    }
    let sql = format!(
        "SELECT {} FROM {} WHERE id = {}",
        select.join(", "),
        mapping::table(entity),
        exec.dialect().placeholder(1)
    );
    let row = exec
        .query_rows(&sql, &[SqlValue::Int(id)])?
        .into_iter()
        .next()
        .ok_or_else(|| not_found(format!("{}({id}) does not exist", entity.set_name())))?;
    let mut cells = row.into_iter();
    let mut next = || cells.next().unwrap_or(SqlValue::Null);
    let mut doc = Map::new();
    for (prop, column) in props {
        let value = match column {
            Column::Plain(_) if prop.kind == PropertyKind::Time => match next() {
                SqlValue::Int(t) => Value::String(sta::time::format_instant(t)),
                _ => Value::Null,
            },
            Column::Plain(_) => plain(next()),
            Column::Json(_) | Column::Geometry(_) => json_cell(next()),
            Column::Interval(..) => match (next(), next()) {
                (SqlValue::Int(s), SqlValue::Int(e)) => {
                    Value::String(sta::time::format_time_value(s, Some(e)))
                }
                (SqlValue::Int(s), _) => Value::String(sta::time::format_time_value(s, None)),
                _ => Value::Null,
            },
            Column::Result => match (next(), next()) {
                (_, SqlValue::Text(json)) => parse(&json),
                (native, _) => plain(native),
            },
        };
        doc.insert(prop.name.to_string(), value);
    }
    Ok(Value::Object(doc))
}

fn plain(v: SqlValue) -> Value {
    match v {
        SqlValue::Null => Value::Null,
        SqlValue::Int(i) => Value::from(i),
        SqlValue::Float(f) => Value::from(f),
        SqlValue::Text(t) => Value::String(t),
    }
}

fn json_cell(v: SqlValue) -> Value {
    match v {
        SqlValue::Text(t) => parse(&t),
        other => plain(other),
    }
}

/// Stored JSON text is ours; should it ever not parse, the text itself is the honest value.
fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_string()))
}

/// Applies a JSON-Patch document (an array of operations) to `doc`, all or nothing. A failing
/// `test` is a conflict with the entity's current state (409, RFC 5789 §2.2); a malformed
/// document or a path that does not exist is the client's error (400).
pub fn apply(entity: EntityType, doc: &mut Value, operations: &Value) -> Result<(), StoreError> {
    let patch: json_patch::Patch = serde_json::from_value(operations.clone()).map_err(|e| {
        bad_body(format!(
            "{entity}: not a JSON-Patch document (an array of add/remove/replace/move/copy/test operations): {e}"
        ))
    })?;
    json_patch::patch(doc, &patch).map_err(|e| {
        let which = format!(
            "{entity}: JSON-Patch operation {} on '{}'",
            e.operation, e.path
        );
        match e.kind {
            json_patch::PatchErrorKind::TestFailed => StoreError::Conflict(format!(
                "{which}: test failed, the value differs; nothing was changed"
            )),
            kind => bad_body(format!("{which}: {kind}; nothing was changed")),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn every_operation_and_the_failures() {
        let base =
            json!({ "name": "a", "description": "d", "properties": { "depth": 3, "tags": ["x"] } });
        let cases: &[(Value, Result<Value, &str>)] = &[
            (
                json!([{ "op": "add", "path": "/properties/code", "value": "L01" }]),
                Ok(
                    json!({ "name": "a", "description": "d", "properties": { "depth": 3, "tags": ["x"], "code": "L01" } }),
                ),
            ),
            (
                json!([{ "op": "remove", "path": "/properties/tags" }]),
                Ok(json!({ "name": "a", "description": "d", "properties": { "depth": 3 } })),
            ),
            (
                json!([{ "op": "replace", "path": "/name", "value": "b" }]),
                Ok(
                    json!({ "name": "b", "description": "d", "properties": { "depth": 3, "tags": ["x"] } }),
                ),
            ),
            (
                json!([{ "op": "move", "from": "/properties/depth", "path": "/properties/d" }]),
                Ok(
                    json!({ "name": "a", "description": "d", "properties": { "tags": ["x"], "d": 3 } }),
                ),
            ),
            (
                json!([{ "op": "copy", "from": "/name", "path": "/description" }]),
                Ok(
                    json!({ "name": "a", "description": "a", "properties": { "depth": 3, "tags": ["x"] } }),
                ),
            ),
            (
                json!([{ "op": "test", "path": "/name", "value": "a" }, { "op": "replace", "path": "/name", "value": "c" }]),
                Ok(
                    json!({ "name": "c", "description": "d", "properties": { "depth": 3, "tags": ["x"] } }),
                ),
            ),
            (
                json!([{ "op": "replace", "path": "/name", "value": "c" }, { "op": "test", "path": "/name", "value": "a" }]),
                Err("test failed"),
            ),
            (
                json!([{ "op": "remove", "path": "/properties/none" }]),
                Err("path is invalid"),
            ),
            (json!({ "name": "x" }), Err("not a JSON-Patch document")),
        ];
        for (ops, want) in cases {
            let mut doc = base.clone();
            match (apply(EntityType::Thing, &mut doc, ops), want) {
                (Ok(()), Ok(v)) => assert_eq!(&doc, v, "{ops}"),
                (Err(e), Err(frag)) => {
                    assert!(e.to_string().contains(frag), "{ops}: {e}");
                    assert_eq!(doc, base, "a failed patch leaves the document as it was");
                }
                (got, _) => panic!("{ops}: {got:?}"),
            }
        }
    }

    #[test]
    fn a_failing_test_is_a_conflict() {
        let mut doc = json!({ "name": "a" });
        let e = apply(
            EntityType::Thing,
            &mut doc,
            &json!([{ "op": "test", "path": "/name", "value": "b" }]),
        )
        .unwrap_err();
        assert!(matches!(e, StoreError::Conflict(_)));
    }
}
