//! Collection pages streamed into response bytes: each row goes from the borrowed cells of
//! [`Executor::query_each`] straight into the body, with the links and the hidden member the
//! value path applies ([`crate::render`]), so that no row becomes a `serde_json::Value` entity.
//! The bytes are those of the value path — same members, same order — because both take their
//! values from [`decode::column_value`] and follow the same shaping rules (`shape::to_json`,
//! `paging::data_array`, `links::make_absolute`, `render::hide_member`); the test
//! `crates/store-sqlite/tests/streamed_reads.rs` holds them to that.

use super::{Page, decode};
use crate::StoreError;
use crate::executor::{Executor, Flow, RowRef};
use crate::paging::Keyset;
use crate::render::{Capped, Render, hide_member};
use crate::sql::mapping::{self, Column};
use serde::Serialize;
use serde_json::Value;
use sta::{EntityType, PropertyKind, Query, ResultFormat};
use std::io::Write;

/// Every write into a [`Capped`] buffer fails only when the cap is passed.
fn too_large(render: &Render) -> StoreError {
    StoreError::ResponseTooLarge {
        cap: render.max_bytes,
    }
}

struct Out<'r> {
    w: Capped,
    render: &'r Render,
}

impl Out<'_> {
    fn raw(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.w.write_all(bytes).map_err(|_| too_large(self.render))
    }
    fn json<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), StoreError> {
        serde_json::to_writer(&mut self.w, v).map_err(|_| too_large(self.render))
    }
    /// `"key":`, preceded by a comma unless it is the object's first member.
    fn key(&mut self, first: &mut bool, key: &str) -> Result<(), StoreError> {
        if !*first {
            self.raw(b",")?;
        }
        *first = false;
        self.json(key)?;
        self.raw(b":")
    }
    /// A relative link made absolute, as a JSON string.
    fn link(&mut self, relative: &str) -> Result<(), StoreError> {
        self.json(&format!("{}/{relative}", self.render.service_root))
    }
}

/// One property of the entity's select list: where its cells are and whether it is shown.
struct Field {
    name: &'static str,
    col: &'static Column,
    kind: PropertyKind,
    at: usize,
    shown: bool,
}

fn layout(entity: EntityType, select: Option<&[String]>) -> (Vec<Field>, usize) {
    let mut at = 0;
    let mut fields = Vec::new();
    for (name, col) in mapping::columns(entity) {
        fields.push(Field {
            name,
            col,
            kind: decode::kind_of(entity, name),
            at,
            shown: selected(select, name),
        });
        at += decode::width(col);
    }
    (fields, at)
}

fn selected(select: Option<&[String]>, name: &str) -> bool {
    select.is_none_or(|s| s.iter().any(|x| x == name))
}

/// A property's value with the hidden member removed, as the value path's pass over the whole
/// answer removes it: from the entity's own `properties`/`parameters` and from any depth below.
fn shown_value(
    field: &Field,
    row: &dyn RowRef,
    render: &Render,
    own_parameters: bool,
) -> Result<Value, StoreError> {
    let mut v = decode::column_value(field.kind, field.col, row, field.at)?;
    if let Some(key) = &render.hidden
        && matches!(
            field.col,
            Column::Json(_) | Column::Geometry(_) | Column::Result
        )
    {
        if own_parameters && let Value::Object(m) = &mut v {
            m.shift_remove(key.as_str());
        }
        hide_member(&mut v, key);
    }
    Ok(v)
}

fn id_of(fields: &[Field], row: &dyn RowRef) -> Result<i64, StoreError> {
    match fields.iter().find(|f| f.kind == PropertyKind::Id) {
        Some(f) => Ok(row.cell(f.at)?.as_i64().unwrap_or_default()),
        None => Ok(0),
    }
}

/// One entity as `shape::to_json` shapes it, links absolute.
fn write_entity(
    out: &mut Out<'_>,
    entity: EntityType,
    fields: &[Field],
    row: &dyn RowRef,
    id: i64,
    select: Option<&[String]>,
) -> Result<(), StoreError> {
    let wants_links = selected(select, "id")
        || entity
            .navigations()
            .iter()
            .any(|nav| selected(select, nav.name));
    let link = if wants_links {
        crate::shape::self_link(entity, id)
    } else {
        String::new()
    };
    let mut first = true;
    out.raw(b"{")?;
    if selected(select, "id") {
        out.key(&mut first, "@iot.selfLink")?;
        out.link(&link)?;
        out.key(&mut first, "@iot.id")?;
        out.json(&id)?;
    }
    let render = out.render;
    for f in fields.iter().filter(|f| f.shown && f.name != "id") {
        let own = matches!(f.name, "properties" | "parameters");
        let v = shown_value(f, row, render, own)?;
        out.key(&mut first, f.name)?;
        out.json(&v)?;
    }
    for nav in entity.navigations() {
        if selected(select, nav.name) {
            out.key(&mut first, &format!("{}@iot.navigationLink", nav.name))?;
            out.link(&format!("{link}/{}", nav.name))?;
        }
    }
    out.raw(b"}")
}

/// One `dataArray` line: the components' values in order (`paging::data_array`).
fn write_line(
    out: &mut Out<'_>,
    fields: &[Field],
    components: &[String],
    row: &dyn RowRef,
    id: i64,
) -> Result<(), StoreError> {
    // The value path strips the member from the first `parameters` component only.
    let parameters_at = components.iter().position(|c| c == "parameters");
    out.raw(b"[")?;
    for (k, c) in components.iter().enumerate() {
        if k > 0 {
            out.raw(b",")?;
        }
        if c == "id" {
            out.json(&id)?;
            continue;
        }
        match fields.iter().find(|f| f.name == c) {
            Some(f) => {
                let v = shown_value(f, row, out.render, parameters_at == Some(k))?;
                out.json(&v)?;
            }
            None => out.raw(b"null")?,
        }
    }
    out.raw(b"]")
}

/// The page `page` of `query` as response bytes.
pub(super) fn stream_collection(
    conn: &dyn Executor,
    page: &Page,
    query: &Query,
    render: &Render,
) -> Result<Vec<u8>, StoreError> {
    let entity = page.entity;
    let select = query.select.as_deref();
    let (fields, fk_at) = layout(entity, select);
    let time_at = fields
        .iter()
        .find(|f| f.name == "phenomenonTime")
        .map(|f| f.at);
    let data_array = query.result_format == ResultFormat::DataArray;
    let components: Vec<String> = match select {
        Some(s) => s.to_vec(),
        None => ["id", "phenomenonTime", "resultTime", "result"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
    };
    let ds_at = mapping::foreign_keys(entity)
        .iter()
        .position(|(nav, _)| *nav == "Datastream")
        .map(|k| fk_at + k);
    let new_out = || Out {
        w: Capped::new(render.max_bytes),
        render,
    };
    // Entities go into `values`; dataArray lines into one buffer per Datastream, in order of
    // first appearance, as the value path groups them.
    let mut values = new_out();
    let mut groups: Vec<(i64, Out<'_>, usize)> = Vec::new();
    let mut n: u64 = 0;
    let mut more = false;
    let mut last = None;
    // `$top=0` shows no row and gets no nextLink: no page query (as the value path).
    // Only the columns the answer shows are read from the engine; the others are NULL in the
    // same places, so the layout (and `decode`) stays that of `shape::select_list`. Producing
    // every column of every row was a visible part of a long `$select`ed series.
    let time_keyset = matches!(page.keyset, Some(Keyset::TimeAsc | Keyset::TimeDesc));
    let wanted = |name: &str| {
        name == "id"
            || (name == "phenomenonTime" && time_keyset)
            || if data_array {
                components.iter().any(|c| c == name)
            } else {
                selected(select, name)
            }
    };
    let mut list = Vec::new();
    for (name, col) in mapping::columns(entity) {
        let cells: Vec<String> = match col {
            Column::Plain(c) | Column::Json(c) | Column::Geometry(c) => vec![format!("e.{c}")],
            Column::Interval(a, b) => vec![format!("e.{a}"), format!("e.{b}")],
            Column::Result => vec!["e.result".into(), "e.result_json".into()],
        };
        for c in cells {
            list.push(if wanted(name) { c } else { "NULL".into() });
        }
    }
    for (nav, fk) in mapping::foreign_keys(entity) {
        list.push(if data_array && *nav == "Datastream" {
            format!("e.{fk}")
        } else {
            "NULL".into()
        });
    }
    let sql = format!("SELECT {} {}", list.join(", "), page.from);
    let time_at = time_at.filter(|_| time_keyset);
    let mut visit = |row: &dyn RowRef| {
        if n == page.top {
            more = true;
            return Ok(Flow::Stop);
        }
        n += 1;
        let id = id_of(&fields, row)?;
        let time = match time_at {
            Some(at) => row.cell(at)?.as_i64().unwrap_or_default(),
            None => 0,
        };
        last = Some((time, id));
        if data_array {
            let ds = match ds_at {
                Some(at) => row.cell(at)?.as_i64().unwrap_or_default(),
                None => 0,
            };
            let g = match groups.iter().position(|(d, _, _)| *d == ds) {
                Some(g) => g,
                None => {
                    groups.push((ds, new_out(), 0));
                    groups.len() - 1
                }
            };
            let (_, out, lines) = &mut groups[g];
            if *lines > 0 {
                out.raw(b",")?;
            }
            *lines += 1;
            write_line(out, &fields, &components, row, id)?;
        } else {
            if n > 1 {
                values.raw(b",")?;
            }
            write_entity(&mut values, entity, &fields, row, id, select)?;
        }
        Ok(Flow::Continue)
    };
    if page.top > 0 {
        conn.query_each(&sql, &page.params, &mut visit)?;
    }
    if data_array {
        for (k, (ds, lines, count)) in groups.into_iter().enumerate() {
            if k > 0 {
                values.raw(b",")?;
            }
            let mut first = true;
            values.raw(b"{")?;
            values.key(&mut first, "Datastream@iot.navigationLink")?;
            values.link(&crate::shape::self_link(EntityType::Datastream, ds))?;
            values.key(&mut first, "components")?;
            values.json(&components)?;
            values.key(&mut first, "dataArray@iot.count")?;
            values.json(&count)?;
            values.key(&mut first, "dataArray")?;
            values.raw(b"[")?;
            values.raw(&lines.w.buf)?;
            values.raw(b"]}")?;
        }
    }
    let mut head = new_out();
    let mut first = true;
    head.raw(b"{")?;
    if let Some(c) = page.count {
        head.key(&mut first, "@iot.count")?;
        head.json(&c)?;
    }
    if let Some(link) = page.next_link(query, more, last) {
        head.key(&mut first, "@iot.nextLink")?;
        head.link(&link)?;
    }
    head.key(&mut first, "value")?;
    head.raw(b"[")?;
    head.raw(&values.w.buf)?;
    head.raw(b"]}")?;
    Ok(head.w.buf)
}
