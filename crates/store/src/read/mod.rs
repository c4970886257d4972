//! SensorThings reads for every backend, over [`Executor`]: path resolution, collections with
//! server-driven paging, `$count` fast paths, single entities, properties, `$ref`, `dataArray`
//! and `$expand` ([`expand`]). A backend supplies only the connection (and its cancellation).

pub mod decode;
mod expand;
mod rows;
mod stream;

use crate::count::count;
use crate::executor::Executor;
use crate::paging::{
    self, Keyset, data_array, keyset_for, next_link, parse_token, with_default_order,
};
use crate::render::{ReadBody, Render, render_response};
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

/// What a collection read runs and how its page is cut, before rows are shaped: shared by the
/// value path ([`read_collection`]) and the streamed one ([`stream::stream_collection`]).
struct Page {
    entity: EntityType,
    sql: String,
    /// `sql` after its select list (`FROM … LIMIT … OFFSET …`), for the narrower select list of
    /// [`stream`], which reads only the columns it shows.
    from: String,
    params: Vec<SqlValue>,
    count: Option<i64>,
    keyset: Option<Keyset>,
    top: u64,
    skip: u64,
    /// The collection's path relative to the service root, for the nextLink.
    url: String,
}

impl Page {
    /// The nextLink of a page that has `more` rows after it, the last one's (time, id) given.
    fn next_link(&self, query: &Query, more: bool, last: Option<(i64, i64)>) -> Option<String> {
        if !more || self.top == 0 {
            return None;
        }
        Some(match (self.keyset, last) {
            (Some(k), Some((t, id))) => next_link(
                &self.url,
                &query.raw,
                self.top,
                None,
                Some(&paging::token(k, t, id)),
            ),
            _ => next_link(
                &self.url,
                &query.raw,
                self.top,
                Some(self.skip + self.top),
                None,
            ),
        })
    }
}

/// Which properties to decode: only what is selected, plus the phenomenon time a keyset token
/// is made of.
fn keep_for(query: &Query, keyset: Option<Keyset>) -> shape::Keep<'_> {
    match (&query.select, keyset) {
        (None, _) => shape::Keep::All,
        (Some(sel), Some(Keyset::TimeAsc | Keyset::TimeDesc)) => {
            shape::Keep::Only(sel, Some("phenomenonTime"))
        }
        (Some(sel), _) => shape::Keep::Only(sel, None),
    }
}

/// `query` must already carry its default order ([`with_default_order`]).
fn plan_collection(
    conn: &dyn Executor,
    entity: EntityType,
    constraint: Option<(EntityType, i64, Relation)>,
    query: &Query,
    path: &ResourcePath,
    limits: PageLimits,
    refs_only: bool,
) -> Result<Page, StoreError> {
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
        conn.dialect().bool_literal(true).to_string()
    } else {
        conds.join(" AND ")
    };
    let from = format!(
        "FROM {table} e WHERE {where_sql} ORDER BY {order} LIMIT {} OFFSET {skip}",
        top + 1
    );
    let sql = format!("SELECT {} {from}", shape::select_list(entity, "e"));
    let url = format!(
        "{}{}",
        path_text(path),
        if refs_only { "/$ref" } else { "" }
    );
    Ok(Page {
        entity,
        sql,
        from,
        params: b.params,
        count,
        keyset,
        top,
        skip,
        url,
    })
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
    let page = plan_collection(conn, entity, constraint, query, path, limits, refs_only)?;
    let keep = keep_for(query, page.keyset);
    // `$top=0` (the `$count=true&$top=0` idiom) shows no row and gets no nextLink: no page query.
    let mut rows: Vec<Row> = if page.top == 0 {
        Vec::new()
    } else {
        rows::collect(conn, entity, &page.sql, &page.params, keep)?
    };
    let more = rows.len() as u64 > page.top;
    rows.truncate(page.top as usize);
    let mut out = Map::new();
    if let Some(c) = page.count {
        out.insert("@iot.count".into(), Value::from(c));
    }
    let last = rows.last().map(|r| (paging::row_time(r), r.id));
    if let Some(link) = page.next_link(query, more, last) {
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

/// Answers a SensorThings GET on `conn` as response bytes. Collections without `$expand`
/// (`dataArray` included: the parser refuses it with `$expand`) are streamed: each row goes from the borrowed cells
/// into the body, never becoming a `serde_json::Value` entity (issue 12: a 30-day series was
/// ten times its raw SQL). Everything else is [`read`] rendered by [`render_response`]; both
/// give the same bytes (`crates/store-sqlite/tests/streamed_reads.rs` compares them).
pub fn read_rendered(
    conn: &dyn Executor,
    req: &ReadRequest,
    limits: PageLimits,
    render: &Render,
) -> Result<ReadBody, StoreError> {
    if req.path.tail == Tail::None
        && req.query.expand.is_empty()
        && req.path.is_collection()
        && let Target::Collection(entity, constraint) = resolve(conn, &req.path)?
    {
        let query = &*with_default_order(entity, constraint.map(|(pe, _, _)| pe), &req.query);
        let page = plan_collection(conn, entity, constraint, query, &req.path, limits, false)?;
        return stream::stream_collection(conn, &page, query, render).map(ReadBody::Json);
    }
    render_response(read(conn, req, limits)?, render)
}
