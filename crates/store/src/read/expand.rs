//! `$expand`, set-based: one query per expanded navigation property per level, for all parent
//! rows at once — never one query per parent (FROST's N+1).

use super::decode;
use super::rows::fetch_rows;
use crate::PageLimits;
use crate::StoreError;
use crate::executor::{Executor, Flow};
use crate::expand_rules::{check_budget, is_latest_request, over_budget};
use crate::paging::{next_link, with_default_order};
use crate::shape::{self, Row};
use crate::sql::mapping::{self, Relation};
use crate::sql::{Scope, SqlBuilder, SqlValue};
use serde_json::Value;
use sta::{EntityType, Expand};
use std::collections::HashMap;

/// SQLite's default limit on compound SELECT terms is 500; stay below it.
const CHUNK: usize = 400;

pub fn expand_rows(
    conn: &dyn Executor,
    entity: EntityType,
    rows: &mut [Row],
    expands: &[Expand],
    limits: PageLimits,
) -> Result<(), StoreError> {
    if rows.is_empty() {
        return Ok(());
    }
    for ex in expands {
        let rel = mapping::relation(entity, ex.nav).ok_or_else(|| {
            StoreError::Sta(sta::StaError::query(
                "$expand",
                format!("cannot expand {}", ex.nav),
            ))
        })?;
        match rel {
            Relation::ForeignKeyOnParent(_) => expand_to_one(conn, rows, ex, limits)?,
            _ => expand_to_many(conn, entity, rows, ex, rel, limits)?,
        }
    }
    Ok(())
}

fn expand_to_one(
    conn: &dyn Executor,
    rows: &mut [Row],
    ex: &Expand,
    limits: PageLimits,
) -> Result<(), StoreError> {
    let mut ids: Vec<i64> = rows.iter().filter_map(|r| r.fk(ex.nav)).collect();
    ids.sort_unstable();
    ids.dedup();
    let mut children: Vec<Row> = Vec::new();
    for chunk in ids.chunks(CHUNK) {
        let mut b = SqlBuilder::new(conn.dialect());
        let list: Vec<String> = chunk.iter().map(|id| b.param(SqlValue::Int(*id))).collect();
        let mut cond = format!("e.id IN ({})", list.join(", "));
        if let Some(f) = &ex.query.filter {
            cond = format!(
                "{cond} AND {}",
                b.filter(
                    f,
                    &Scope {
                        entity: ex.target,
                        alias: "e".into()
                    }
                )?
            );
        }
        children.extend(fetch_rows(conn, ex.target, &cond, &b.params)?);
        if children.len() as u64 > limits.max_expanded_rows {
            return Err(over_budget(limits));
        }
    }
    expand_rows(conn, ex.target, &mut children, &ex.query.expand, limits)?;
    // What each parent will hold (a copy of its child's subtree), counted before copying.
    let weight: HashMap<i64, u64> = children
        .iter()
        .map(|c| (c.id, c.embedded.saturating_add(1)))
        .collect();
    for row in rows.iter_mut() {
        if let Some(w) = row.fk(ex.nav).and_then(|id| weight.get(&id)) {
            row.embedded = row.embedded.saturating_add(*w);
        }
    }
    check_budget(rows, limits)?;
    let by_id: HashMap<i64, Value> = children
        .into_iter()
        .map(|c| {
            (
                c.id,
                shape::to_json(ex.target, c, ex.query.select.as_deref()),
            )
        })
        .collect();
    for row in rows.iter_mut() {
        if let Some(child) = row.fk(ex.nav).and_then(|id| by_id.get(&id)) {
            row.expanded.push((ex.nav.to_string(), child.clone()));
        }
    }
    Ok(())
}

#[allow(clippy::too_many_arguments)]
fn expand_to_many(
    conn: &dyn Executor,
    parent: EntityType,
    rows: &mut [Row],
    ex: &Expand,
    rel: Relation,
    limits: PageLimits,
) -> Result<(), StoreError> {
    let q = &*with_default_order(ex.target, Some(parent), &ex.query);
    let top = q.top.unwrap_or(limits.default_top).min(limits.max_top);
    let parent_ids: Vec<i64> = rows.iter().map(|r| r.id).collect();
    let child = ex.target;
    let cols = shape::select_list(child, "e");
    let ncols = shape::column_count(child);
    let mut children: Vec<(i64, Row)> = Vec::new();
    let mut counts: HashMap<i64, i64> = HashMap::new();

    // Counts are needed for `$count` and to decide whether a page is partial on the fast paths.
    let unfiltered_obs =
        child == EntityType::Observation && parent == EntityType::Datastream && q.filter.is_none();
    for chunk in parent_ids.chunks(CHUNK) {
        let mut b = SqlBuilder::new(conn.dialect());
        let scope = Scope {
            entity: child,
            alias: "e".into(),
        };
        let sql = if is_latest_request(parent, ex) {
            let list: Vec<String> = chunk.iter().map(|id| b.param(SqlValue::Int(*id))).collect();
            format!(
                "SELECT {cols}, e.datastream_id FROM observations e WHERE e.id IN \
                 (SELECT latest_observation_id FROM datastreams WHERE id IN ({}))",
                list.join(", ")
            )
        } else if let Relation::ForeignKeyOnChild(fk) = rel {
            // One indexed top-N range scan per parent, glued with UNION ALL into one statement.
            let mut branches = Vec::new();
            for id in chunk {
                let ph = b.param(SqlValue::Int(*id));
                let filter = match &q.filter {
                    Some(f) => format!(" AND {}", b.filter(f, &scope)?),
                    None => String::new(),
                };
                let order = b.orderby(&q.orderby, &scope)?;
                branches.push(format!(
                    "SELECT * FROM (SELECT {cols}, e.{fk} FROM {} e WHERE e.{fk} = {ph}{filter} ORDER BY {order} LIMIT {} OFFSET {}) qs_page",
                    mapping::table(child),
                    top + 1,
                    q.skip
                ));
            }
            branches.join(" UNION ALL ")
        } else if let Relation::LinkTable {
            table,
            parent_column,
            child_column,
        } = rel
        {
            let list: Vec<String> = chunk.iter().map(|id| b.param(SqlValue::Int(*id))).collect();
            let filter = match &q.filter {
                Some(f) => format!(" AND {}", b.filter(f, &scope)?),
                None => String::new(),
            };
            let order = b.orderby(&q.orderby, &scope)?;
            format!(
                "SELECT * FROM (SELECT {cols}, l.{parent_column} AS qs_parent, \
                 ROW_NUMBER() OVER (PARTITION BY l.{parent_column} ORDER BY {order}) AS qs_rn \
                 FROM {} e JOIN {table} l ON l.{child_column} = e.id WHERE l.{parent_column} IN ({}){filter}) qs_ranked \
                 WHERE qs_rn > {} AND qs_rn <= {} ORDER BY qs_parent, qs_rn",
                mapping::table(child),
                list.join(", "),
                q.skip,
                q.skip + top + 1
            )
        } else {
            return Ok(());
        };
        let keep = shape::Keep::select(q.select.as_deref());
        conn.query_each(&sql, &b.params, &mut |r| {
            let row = decode::decode(child, r, 0, keep)?;
            let parent = r.cell(ncols)?.as_i64().unwrap_or_default();
            children.push((parent, row));
            if children.len() as u64 > limits.max_expanded_rows {
                return Err(over_budget(limits));
            }
            Ok(Flow::Continue)
        })?;
        if q.count || is_latest_request(parent, ex) {
            count_children(conn, child, rel, chunk, q, unfiltered_obs, &mut counts)?;
        }
    }

    // Nested expands run once for all children of all parents.
    let (owners, mut members): (Vec<i64>, Vec<Row>) = children.into_iter().unzip();
    expand_rows(conn, child, &mut members, &q.expand, limits)?;
    let mut grouped: HashMap<i64, Vec<Row>> = HashMap::new();
    for (p, row) in owners.into_iter().zip(members) {
        grouped.entry(p).or_default().push(row);
    }
    for row in rows.iter_mut() {
        if let Some(members) = grouped.get(&row.id) {
            let w = members.iter().take(top as usize).fold(0u64, |acc, m| {
                acc.saturating_add(m.embedded).saturating_add(1)
            });
            row.embedded = row.embedded.saturating_add(w);
        }
    }
    check_budget(rows, limits)?;
    for row in rows.iter_mut() {
        let mut members = grouped.remove(&row.id).unwrap_or_default();
        let more = match counts.get(&row.id) {
            Some(c) if is_latest_request(parent, ex) => *c > 1,
            _ => members.len() as u64 > top,
        };
        members.truncate(top as usize);
        let values: Vec<Value> = members
            .into_iter()
            .map(|m| shape::to_json(child, m, q.select.as_deref()))
            .collect();
        row.expanded
            .push((ex.nav.to_string(), Value::Array(values)));
        if q.count {
            row.expanded.push((
                format!("{}@iot.count", ex.nav),
                Value::from(counts.get(&row.id).copied().unwrap_or(0)),
            ));
        }
        if more && top > 0 {
            let url = format!("{}/{}", shape::self_link(parent, row.id), ex.nav);
            row.expanded.push((
                format!("{}@iot.nextLink", ex.nav),
                Value::String(next_link(&url, &q.raw, top, Some(q.skip + top), None)),
            ));
        }
    }
    Ok(())
}

fn count_children(
    conn: &dyn Executor,
    child: EntityType,
    rel: Relation,
    parents: &[i64],
    q: &sta::Query,
    unfiltered_obs: bool,
    counts: &mut HashMap<i64, i64>,
) -> Result<(), StoreError> {
    let mut b = SqlBuilder::new(conn.dialect());
    let list: Vec<String> = parents
        .iter()
        .map(|id| b.param(SqlValue::Int(*id)))
        .collect();
    let sql = if unfiltered_obs {
        format!(
            "SELECT id, observation_count FROM datastreams WHERE id IN ({})",
            list.join(", ")
        )
    } else {
        let scope = Scope {
            entity: child,
            alias: "e".into(),
        };
        let filter = match &q.filter {
            Some(f) => format!(" AND {}", b.filter(f, &scope)?),
            None => String::new(),
        };
        match rel {
            Relation::ForeignKeyOnChild(fk) => format!(
                "SELECT e.{fk}, COUNT(*) FROM {} e WHERE e.{fk} IN ({}){filter} GROUP BY e.{fk}",
                mapping::table(child),
                list.join(", ")
            ),
            Relation::LinkTable {
                table,
                parent_column,
                child_column,
            } => format!(
                "SELECT l.{parent_column}, COUNT(*) FROM {} e JOIN {table} l ON l.{child_column} = e.id \
                 WHERE l.{parent_column} IN ({}){filter} GROUP BY l.{parent_column}",
                mapping::table(child),
                list.join(", ")
            ),
            Relation::ForeignKeyOnParent(_) => return Ok(()),
        }
    };
    conn.query_each(&sql, &b.params, &mut |r| {
        if let (Some(p), Some(c)) = (r.cell(0)?.as_i64(), r.cell(1)?.as_i64()) {
            counts.insert(p, c);
        }
        Ok(Flow::Continue)
    })?;
    Ok(())
}
