//! SensorThings reads for every backend, over [`Executor`]: path resolution, collections with
//! server-driven paging, `$count` fast paths, single entities, properties, `$ref`, `dataArray`
//! and `$expand` ([`expand`]). A backend supplies only the connection (and its cancellation).

pub mod decode;
mod expand;
mod rows;

use crate::count::count;
use crate::executor::Executor;
use crate::paging::{
    Keyset, data_array, keyset_for, make_token, next_link, parse_token, with_default_order,
};
use crate::resolve::{Target, path_text, resolve};
use crate::shape::{self, Row};
use crate::sql::mapping::{self, Relation};
use crate::sql::{Scope, SqlBuilder, SqlValue};
use crate::{PageLimits, ReadRequest, ReadResponse, StoreError, not_found};
use expand::expand_rows;
use rows::fetch_rows;
use serde_json::{Map, Value, json};
use sta::{EntityType, Query, ResourcePath, ResultFormat, Tail};

/// Answers a SensorThings GET on `conn`.
pub fn read(
    conn: &dyn Executor,
    req: &ReadRequest,
    limits: PageLimits,
) -> Result<ReadResponse, StoreError> {
    let target = resolve(conn, &req.path)?;
    match (target, &req.path.tail) {
        (Target::Entity(e, id), Tail::None) => {
            let row = fetch_rows(conn, e, "e.id = ?1", &[SqlValue::Int(id)])?
                .pop()
                .ok_or_else(|| not_found(format!("{}({id}) does not exist", e.set_name())))?;
            let mut rows = vec![row];
            expand_rows(conn, e, &mut rows, &req.query.expand, limits)?;
            let row = rows.pop().ok_or_else(|| not_found("entity vanished"))?;
            Ok(ReadResponse::Json(shape::to_json(
                e,
                row,
                req.query.select.as_deref(),
            )))
        }
        (Target::Entity(e, id), Tail::Property(p) | Tail::PropertyValue(p)) => {
            let mut row = fetch_rows(conn, e, "e.id = ?1", &[SqlValue::Int(id)])?
                .pop()
                .ok_or_else(|| not_found(format!("{}({id}) does not exist", e.set_name())))?;
            // The path names a property of the entity type (the parser checked), so a missing
            // or null value is a present-but-null property: 200 with null (issue 12, as the
            // conformance suite and FROST read OGC 18-088); 404 is only for what does not exist.
            let value = if *p == "id" {
                Value::from(id)
            } else {
                row.fields.remove(*p).unwrap_or(Value::Null)
            };
            Ok(match (&req.path.tail, value) {
                (Tail::PropertyValue(_), Value::String(s)) => ReadResponse::Text(s),
                (Tail::PropertyValue(_), v) => ReadResponse::Text(v.to_string()),
                (_, v) => ReadResponse::Json(json!({ *p: v })),
            })
        }
        (Target::Entity(e, id), Tail::Ref) => Ok(ReadResponse::Json(
            json!({ "@iot.selfLink": shape::self_link(e, id) }),
        )),
        (Target::Collection(e, constraint), tail) => {
            let refs_only = *tail == Tail::Ref;
            read_collection(
                conn, e, constraint, &req.query, &req.path, limits, refs_only,
            )
            .map(ReadResponse::Json)
        }
    }
}

fn read_collection(
    conn: &dyn Executor,
    entity: EntityType,
    constraint: Option<(EntityType, i64, Relation)>,
    query: &Query,
    path: &ResourcePath,
    limits: PageLimits,
    refs_only: bool,
) -> Result<Value, StoreError> {
    let query = &*with_default_order(entity, constraint.map(|(pe, _, _)| pe), query);
    let mut b = SqlBuilder::new(conn.dialect());
    let scope = Scope {
        entity,
        alias: "e".into(),
    };
    let mut conds = Vec::new();
    if let Some((pe, pid, rel)) = constraint {
        let ph = b.param(SqlValue::Int(pid));
        conds.push(mapping::condition_by_parent_id(rel, pe, "e", &ph));
    }
    if let Some(f) = &query.filter {
        conds.push(b.filter(f, &scope)?);
    }
    let table = mapping::table(entity);
    let count = if query.count {
        Some(count(
            conn,
            entity,
            constraint,
            query.filter.is_some(),
            &conds,
            &b.params,
        )?)
    } else {
        None
    };
    let keyset = keyset_for(entity, query);
    let mut skip = query.skip;
    if let Some(token) = &query.skiptoken {
        let (kind, t, id) = parse_token(token, keyset)?;
        skip = 0;
        let cond = match kind {
            Keyset::Id => format!("e.id > {}", b.param(SqlValue::Int(id))),
            Keyset::TimeAsc => format!(
                "(e.phenomenon_time_start, e.id) > ({}, {})",
                b.param(SqlValue::Int(t)),
                b.param(SqlValue::Int(id))
            ),
            Keyset::TimeDesc => format!(
                "(e.phenomenon_time_start, e.id) < ({}, {})",
                b.param(SqlValue::Int(t)),
                b.param(SqlValue::Int(id))
            ),
        };
        conds.push(cond);
    }
    let order = b.orderby(&query.orderby, &scope)?;
    let top = query.top.unwrap_or(limits.default_top).min(limits.max_top);
    let where_sql = if conds.is_empty() {
        "1".to_string()
    } else {
        conds.join(" AND ")
    };
    let sql = format!(
        "SELECT {} FROM {table} e WHERE {where_sql} ORDER BY {order} LIMIT {} OFFSET {skip}",
        shape::select_list(entity, "e"),
        top + 1
    );
    // Decode only what is selected, plus the phenomenon time a keyset token is made of.
    let keep = match (&query.select, keyset) {
        (None, _) => shape::Keep::All,
        (Some(sel), Some(Keyset::TimeAsc | Keyset::TimeDesc)) => {
            shape::Keep::Only(sel, Some("phenomenonTime"))
        }
        (Some(sel), _) => shape::Keep::Only(sel, None),
    };
    let mut rows: Vec<Row> = rows::collect(conn, entity, &sql, &b.params, keep)?;
    let more = rows.len() as u64 > top;
    rows.truncate(top as usize);
    let mut out = Map::new();
    if let Some(c) = count {
        out.insert("@iot.count".into(), Value::from(c));
    }
    if more && top > 0 {
        let url = format!(
            "{}{}",
            path_text(path),
            if refs_only { "/$ref" } else { "" }
        );
        let link = match (keyset, rows.last()) {
            (Some(k), Some(last)) => {
                next_link(&url, &query.raw, top, None, Some(&make_token(k, last)))
            }
            _ => next_link(&url, &query.raw, top, Some(skip + top), None),
        };
        out.insert("@iot.nextLink".into(), Value::String(link));
    }
    if refs_only {
        let refs = rows
            .iter()
            .map(|r| json!({ "@iot.selfLink": shape::self_link(entity, r.id) }))
            .collect();
        out.insert("value".into(), Value::Array(refs));
        return Ok(Value::Object(out));
    }
    if query.result_format == ResultFormat::DataArray {
        out.insert("value".into(), data_array(rows, query.select.as_deref())?);
        return Ok(Value::Object(out));
    }
    expand_rows(conn, entity, &mut rows, &query.expand, limits)?;
    let values = rows
        .into_iter()
        .map(|r| shape::to_json(entity, r, query.select.as_deref()))
        .collect();
    out.insert("value".into(), Value::Array(values));
    Ok(Value::Object(out))
}
