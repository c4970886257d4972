//! Collection pages streamed into response bytes: each row goes from the borrowed cells of
//! [`Executor::query_each`] straight into the body, with the links and the hidden member the
//! value path applies ([`crate::render`]), so that no row becomes a `serde_json::Value` entity.
//! The bytes are those of the value path — same members, same order — because both take their
//! values from [`decode::column_value`] and follow the same shaping rules (`shape::to_json`,
//! `paging::data_array`, `links::make_absolute`, `render::hide_member`); the test
//! `crates/store-sqlite/tests/streamed_reads.rs` holds them to that.

use super::{Page, decode};
use crate::StoreError;
use crate::executor::{Cell, Executor, Flow, RowRef};
use crate::paging::Keyset;
use crate::render::{Render, hide_member};
use crate::sql::mapping::{self, Column};
use serde::Serialize;
use serde_json::Value;
use sta::{EntityType, PropertyKind, Query, ResultFormat};

/// Every write into a [`Capped`] buffer fails only when the cap is passed.
fn too_large(render: &Render) -> StoreError {
    StoreError::ResponseTooLarge {
        cap: render.max_bytes,
    }
}

/// A part of the body. Writes go straight into the buffer; the cap is checked once per row
/// ([`Out::within_cap`]) — a check per write was a visible share of a long series, and a row
/// is already in memory as the engine's cells.
struct Out<'r> {
    buf: Vec<u8>,
    render: &'r Render,
    /// Times in the echo form, the date of a run of rows written once.
    times: sta::time::EchoWriter,
}

impl Out<'_> {
    fn raw(&mut self, bytes: &[u8]) -> Result<(), StoreError> {
        self.buf.extend_from_slice(bytes);
        Ok(())
    }
    fn json<T: Serialize + ?Sized>(&mut self, v: &T) -> Result<(), StoreError> {
        serde_json::to_writer(&mut self.buf, v)
            .map_err(|e| StoreError::Database(format!("cannot write the answer: {e}")))
    }
    fn within_cap(&self) -> Result<(), StoreError> {
        if self.buf.len() > self.render.max_bytes {
            return Err(too_large(self.render));
        }
        Ok(())
    }
    /// `"key":`, preceded by a comma unless it is the object's first member. Keys are the
    /// model's property and navigation names (ASCII identifiers): nothing to escape.
    fn key(&mut self, first: &mut bool, key: &str) -> Result<(), StoreError> {
        debug_assert!(!key.contains(['"', '\\']));
        if !*first {
            self.raw(b",")?;
        }
        *first = false;
        self.raw(b"\"")?;
        self.raw(key.as_bytes())?;
        self.raw(b"\":")
    }
    /// A time (instant or interval) as a JSON string in the STA echo form.
    fn time(&mut self, start: i64, end: Option<i64>) -> Result<(), StoreError> {
        self.buf.push(b'"');
        self.times.extend_value(&mut self.buf, start, end);
        self.buf.push(b'"');
        Ok(())
    }
    /// A relative link made absolute, as a JSON string.
    fn link(&mut self, relative: &str) -> Result<(), StoreError> {
        self.json(&format!("{}/{relative}", self.render.service_root))
    }
}

/// One property read from the engine: where its cells are in the select list and whether the
/// entity form shows it.
struct Field {
    name: &'static str,
    col: &'static Column,
    kind: PropertyKind,
    at: usize,
    shown: bool,
}

/// The properties `wanted` keeps, each with the place of its cells in a compact select list
/// (returned beside them, columns aliased `e`). Only what the answer shows is produced by the
/// engine: a placeholder `NULL` per column not shown still cost a VM step and a result cell per
/// row, a visible part of a long `$select`ed series.
fn layout(
    entity: EntityType,
    select: Option<&[String]>,
    wanted: impl Fn(&str) -> bool,
) -> (Vec<Field>, Vec<String>) {
    let mut fields = Vec::new();
    let mut list = Vec::new();
    for (name, col) in mapping::columns(entity) {
        if !wanted(name) {
            continue;
        }
        fields.push(Field {
            name,
            col,
            kind: decode::kind_of(entity, name),
            at: list.len(),
            shown: selected(select, name),
        });
        match col {
            Column::Plain(c) | Column::Json(c) | Column::Geometry(c) => list.push(format!("e.{c}")),
            Column::Interval(a, b) => {
                list.push(format!("e.{a}"));
                list.push(format!("e.{b}"));
            }
            Column::Result => {
                list.push("e.result".into());
                list.push("e.result_json".into());
            }
        }
        debug_assert_eq!(list.len(), fields[fields.len() - 1].at + decode::width(col));
    }
    (fields, list)
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

/// Writes a property straight from its cells where that gives the value path's bytes without
/// building a `Value` — times, ids and native (non-JSON) results, i.e. every cell of a long
/// series —, and says `false` where the value path must shape it (JSON text, geometry, plain
/// text). The hidden member cannot occur in these: it lives only in JSON objects.
fn write_direct(out: &mut Out<'_>, field: &Field, row: &dyn RowRef) -> Result<bool, StoreError> {
    match (field.col, field.kind) {
        (Column::Interval(..), _) => match row.cell(field.at)?.as_i64() {
            Some(start) => out.time(start, row.cell(field.at + 1)?.as_i64())?,
            None => out.raw(b"null")?,
        },
        (Column::Plain(_), PropertyKind::Time) => match row.cell(field.at)?.as_i64() {
            Some(t) => out.time(t, None)?,
            None => out.raw(b"null")?,
        },
        (Column::Plain(_), PropertyKind::Id) => {
            out.json(&row.cell(field.at)?.as_i64().unwrap_or_default())?
        }
        (Column::Result, _) => match (row.cell(field.at)?, row.cell(field.at + 1)?) {
            (_, Cell::Text(_)) => return Ok(false),
            // serde_json writes a non-finite float as `null`, as `Number::from_f64` makes it.
            (Cell::Float(f), _) => out.json(&f)?,
            (Cell::Int(i), _) => out.json(&i)?,
            (Cell::Null, _) => out.raw(b"null")?,
            (Cell::Text(t), _) => out.json(&*String::from_utf8_lossy(t))?,
        },
        _ => return Ok(false),
    }
    Ok(true)
}

/// What every entity of a page shows, worked out once per page rather than per row (a long
/// series is thousands of rows with the same `$select`).
struct EntityShape {
    show_id: bool,
    /// Navigation links shown.
    navs: Vec<&'static str>,
    /// Indices into the layout's fields of the properties shown (besides the id).
    shown: Vec<usize>,
}

impl EntityShape {
    fn of(entity: EntityType, fields: &[Field], select: Option<&[String]>) -> EntityShape {
        EntityShape {
            show_id: selected(select, "id"),
            navs: entity
                .navigations()
                .iter()
                .map(|nav| nav.name)
                .filter(|name| selected(select, name))
                .collect(),
            shown: (0..fields.len())
                .filter(|&i| fields[i].shown && fields[i].name != "id")
                .collect(),
        }
    }
}

/// One entity as `shape::to_json` shapes it, links absolute.
fn write_entity(
    out: &mut Out<'_>,
    entity: EntityType,
    fields: &[Field],
    shape: &EntityShape,
    row: &dyn RowRef,
    id: i64,
) -> Result<(), StoreError> {
    let link = if shape.show_id || !shape.navs.is_empty() {
        crate::shape::self_link(entity, id)
    } else {
        String::new()
    };
    let mut first = true;
    out.raw(b"{")?;
    if shape.show_id {
        out.key(&mut first, "@iot.selfLink")?;
        out.link(&link)?;
        out.key(&mut first, "@iot.id")?;
        out.json(&id)?;
    }
    let render = out.render;
    for f in shape.shown.iter().map(|&i| &fields[i]) {
        out.key(&mut first, f.name)?;
        if write_direct(out, f, row)? {
            continue;
        }
        let own = matches!(f.name, "properties" | "parameters");
        let v = shown_value(f, row, render, own)?;
        out.json(&v)?;
    }
    for nav in &shape.navs {
        out.key(&mut first, &format!("{nav}@iot.navigationLink"))?;
        out.link(&format!("{link}/{nav}"))?;
    }
    out.raw(b"}")
}

/// Where one `dataArray` component comes from, resolved once per page.
enum Component {
    Id,
    /// A property of the layout (index into its fields).
    Field(usize),
    /// Not a property of the entity: `null`.
    Missing,
}

fn components_of(fields: &[Field], components: &[String]) -> Vec<Component> {
    components
        .iter()
        .map(|c| match c.as_str() {
            "id" => Component::Id,
            name => fields
                .iter()
                .position(|f| f.name == name)
                .map_or(Component::Missing, Component::Field),
        })
        .collect()
}

/// One `dataArray` line: the components' values in order (`paging::data_array`).
fn write_line(
    out: &mut Out<'_>,
    fields: &[Field],
    components: &[Component],
    parameters_at: Option<usize>,
    row: &dyn RowRef,
    id: i64,
) -> Result<(), StoreError> {
    out.raw(b"[")?;
    for (k, c) in components.iter().enumerate() {
        if k > 0 {
            out.raw(b",")?;
        }
        match c {
            Component::Id => out.json(&id)?,
            Component::Field(i) => {
                let f = &fields[*i];
                if !write_direct(out, f, row)? {
                    let v = shown_value(f, row, out.render, parameters_at == Some(k))?;
                    out.json(&v)?;
                }
            }
            Component::Missing => out.raw(b"null")?,
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
    let data_array = query.result_format == ResultFormat::DataArray;
    let components: Vec<String> = match select {
        Some(s) => s.to_vec(),
        None => ["id", "phenomenonTime", "resultTime", "result"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
    };
    let time_keyset = matches!(page.keyset, Some(Keyset::TimeAsc | Keyset::TimeDesc));
    // What the answer shows, the id (the nextLink's token, the links) and the phenomenon time a
    // time keyset's token is made of.
    let wanted = |name: &str| {
        name == "id"
            || (name == "phenomenonTime" && time_keyset)
            || if data_array {
                components.iter().any(|c| c == name)
            } else {
                selected(select, name)
            }
    };
    let (fields, mut list) = layout(entity, select, wanted);
    let shape = EntityShape::of(entity, &fields, select);
    let id_at = fields
        .iter()
        .find(|f| f.kind == PropertyKind::Id)
        .map(|f| f.at);
    let time_at = fields
        .iter()
        .find(|f| f.name == "phenomenonTime")
        .map(|f| f.at);
    let line = components_of(&fields, &components);
    // The value path strips the hidden member from the first `parameters` component only.
    let parameters_at = components.iter().position(|c| c == "parameters");
    // dataArray lines are grouped by their Datastream: its key follows the properties.
    let ds_at = match mapping::foreign_keys(entity)
        .iter()
        .find(|(nav, _)| *nav == "Datastream")
    {
        Some((_, fk)) if data_array => {
            list.push(format!("e.{fk}"));
            Some(list.len() - 1)
        }
        _ => None,
    };
    let new_out = || Out {
        buf: Vec::new(),
        render,
        times: sta::time::EchoWriter::default(),
    };
    // Entities go into `values`; dataArray lines into one buffer per Datastream, in order of
    // first appearance, as the value path groups them.
    let mut values = new_out();
    // A series page is hundreds of kilobytes: growing the buffer by doubling copied it ~15 times,
    // and one doubling at the end still copied (and faulted in) the whole page. A row of a
    // `$select`ed series is ~57 bytes; pages not touched are never faulted in.
    let hint = usize::try_from(page.top.min(10_000)).unwrap_or(0) * 72;
    values.buf.reserve(hint.min(render.max_bytes) + 512);
    let mut groups: Vec<(i64, Out<'_>, usize)> = Vec::new();
    let mut n: u64 = 0;
    let mut more = false;
    let mut last = None;
    let sql = format!("SELECT {} {}", list.join(", "), page.from);
    let time_at = time_at.filter(|_| time_keyset);
    let needs_id = if data_array {
        line.iter().any(|c| matches!(c, Component::Id))
    } else {
        shape.show_id || !shape.navs.is_empty()
    };
    let mut visit = |row: &dyn RowRef| {
        if n == page.top {
            more = true;
            return Ok(Flow::Stop);
        }
        n += 1;
        // The id is read only where the row shows it or the nextLink's token needs it (the
        // last row of a full page): two cells fewer per row of a long series.
        let id = match id_at {
            Some(at) if needs_id || n == page.top => row.cell(at)?.as_i64().unwrap_or_default(),
            _ => 0,
        };
        if n == page.top {
            let time = match time_at {
                Some(at) => row.cell(at)?.as_i64().unwrap_or_default(),
                None => 0,
            };
            last = Some((time, id));
        }
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
            write_line(out, &fields, &line, parameters_at, row, id)?;
            out.within_cap()?;
        } else {
            if n > 1 {
                values.raw(b",")?;
            }
            write_entity(&mut values, entity, &fields, &shape, row, id)?;
            values.within_cap()?;
        }
        Ok(Flow::Continue)
    };
    // `$top=0` shows no row and gets no nextLink: no page query (as the value path).
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
            values.raw(&lines.buf)?;
            values.raw(b"]}")?;
            values.within_cap()?;
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
    // The head goes in front of the rows in the rows' own buffer (room was reserved): copying
    // half a megabyte of series into a second fresh buffer cost as much as writing it.
    if head.buf.len() + values.buf.len() + 2 > render.max_bytes {
        return Err(too_large(render));
    }
    let mut body = values.buf;
    body.splice(0..0, head.buf);
    body.extend_from_slice(b"]}");
    Ok(body)
}
