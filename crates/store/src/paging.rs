//! Server-driven paging and result formats, for every backend: keyset continuation tokens for
//! observation collections, nextLinks (relative to the service root, see `crate::links`) and
//! `$resultFormat=dataArray`.

use crate::StoreError;
use crate::shape::Row;
use serde_json::{Value, json};
use sta::{EntityType, Query, StaError};

/// Keyset continuation for observation collections ordered by id or by phenomenon time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Keyset {
    Id,
    TimeAsc,
    TimeDesc,
}

/// The order rows come in when the client names none. Observations reached through their
/// Datastream (`Datastreams(7)/Observations`, `$expand=Observations` under a Datastream) come
/// in (phenomenonTime, id) order: that is the table's clustering key, so a page — or the top N
/// of every parent of an `$expand` — is one index range per datastream, not a sort of all its
/// observations (issue 12). Everything else comes in id order (`None`: the compiler's default).
pub fn default_order(entity: EntityType, through: Option<EntityType>) -> Option<Vec<sta::OrderBy>> {
    (entity == EntityType::Observation && through == Some(EntityType::Datastream)).then(|| {
        vec![sta::OrderBy {
            expr: sta::filter::Expr::Property(vec!["phenomenonTime".into()]),
            descending: false,
        }]
    })
}

/// `query` with [`default_order`] filled in when it names no `$orderby`.
pub fn with_default_order<'q>(
    entity: EntityType,
    through: Option<EntityType>,
    query: &'q Query,
) -> std::borrow::Cow<'q, Query> {
    match default_order(entity, through) {
        Some(order) if query.orderby.is_empty() => {
            let mut q = query.clone();
            q.orderby = order;
            std::borrow::Cow::Owned(q)
        }
        _ => std::borrow::Cow::Borrowed(query),
    }
}

pub fn keyset_for(entity: EntityType, query: &Query) -> Option<Keyset> {
    if entity != EntityType::Observation {
        return None;
    }
    match query.orderby.as_slice() {
        [] => Some(Keyset::Id),
        [o] if o.expr == sta::filter::Expr::Property(vec!["phenomenonTime".into()]) => {
            Some(if o.descending {
                Keyset::TimeDesc
            } else {
                Keyset::TimeAsc
            })
        }
        _ => None,
    }
}

pub fn parse_token(token: &str, keyset: Option<Keyset>) -> Result<(Keyset, i64, i64), StoreError> {
    let bad = || {
        StoreError::Sta(StaError::query(
            "$skiptoken",
            "invalid or expired continuation token",
        ))
    };
    let parts: Vec<&str> = token.split('.').collect();
    let (kind, t, id) = match parts.as_slice() {
        ["i", id] => (Keyset::Id, 0, id.parse().map_err(|_| bad())?),
        ["ta", t, id] => (
            Keyset::TimeAsc,
            t.parse().map_err(|_| bad())?,
            id.parse().map_err(|_| bad())?,
        ),
        ["td", t, id] => (
            Keyset::TimeDesc,
            t.parse().map_err(|_| bad())?,
            id.parse().map_err(|_| bad())?,
        ),
        _ => return Err(bad()),
    };
    if Some(kind) != keyset {
        return Err(bad());
    }
    Ok((kind, t, id))
}

/// The phenomenon time (start) a decoded row's keyset token is made of.
pub fn row_time(row: &Row) -> i64 {
    row.fields
        .get("phenomenonTime")
        .and_then(Value::as_str)
        .and_then(|s| sta::time::parse_time_value(s).ok())
        .map(|t| t.start)
        .unwrap_or_default()
}

/// The continuation token after the row (`time`, `id`).
pub fn token(keyset: Keyset, time: i64, id: i64) -> String {
    match keyset {
        Keyset::Id => format!("i.{id}"),
        Keyset::TimeAsc => format!("ta.{time}.{id}"),
        Keyset::TimeDesc => format!("td.{time}.{id}"),
    }
}

pub fn make_token(keyset: Keyset, last: &Row) -> String {
    token(keyset, row_time(last), last.id)
}

/// A nextLink: the same options, with the page moved on.
pub fn next_link(
    url: &str,
    raw: &[(String, String)],
    top: u64,
    skip: Option<u64>,
    token: Option<&str>,
) -> String {
    let mut ser = form_urlencoded::Serializer::new(String::new());
    for (k, v) in raw {
        if !matches!(k.as_str(), "$top" | "$skip" | "$skiptoken") {
            ser.append_pair(k, v);
        }
    }
    ser.append_pair("$top", &top.to_string());
    if let Some(s) = skip {
        ser.append_pair("$skip", &s.to_string());
    }
    if let Some(t) = token {
        ser.append_pair("$skiptoken", t);
    }
    // `$` is legal in a query string; keeping it readable helps people who look at links.
    format!("{url}?{}", ser.finish().replace("%24", "$"))
}

/// `$resultFormat=dataArray` (OGC 18-088 §14.3): rows grouped per Datastream.
pub fn data_array(rows: Vec<Row>, select: Option<&[String]>) -> Result<Value, StoreError> {
    let default = ["id", "phenomenonTime", "resultTime", "result"];
    let components: Vec<String> = match select {
        Some(s) => s.to_vec(),
        None => default.iter().map(|s| s.to_string()).collect(),
    };
    let mut groups: Vec<(i64, Vec<Value>)> = Vec::new();
    for row in rows {
        let ds = row.fk("Datastream").unwrap_or_default();
        let line: Vec<Value> = components
            .iter()
            .map(|c| {
                if c == "id" {
                    Value::from(row.id)
                } else {
                    row.fields.get(c).cloned().unwrap_or(Value::Null)
                }
            })
            .collect();
        match groups.iter_mut().find(|(d, _)| *d == ds) {
            Some((_, lines)) => lines.push(Value::Array(line)),
            None => groups.push((ds, vec![Value::Array(line)])),
        }
    }
    let value = groups
        .into_iter()
        .map(|(ds, lines)| {
            json!({
                "Datastream@iot.navigationLink": crate::shape::self_link(EntityType::Datastream, ds),
                "components": components,
                "dataArray@iot.count": lines.len(),
                "dataArray": lines,
            })
        })
        .collect();
    Ok(Value::Array(value))
}
