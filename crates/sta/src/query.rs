//! System query options (OGC 18-088 §9.3): `$filter $expand $select $orderby $top $skip $count
//! $resultFormat`, parsed and checked against the entity type they apply to.

use crate::entity::EntityType;
use crate::error::StaError;
use crate::filter::{Expr, parse_filter_with};
use crate::limits::{MAX_COUNT_VALUE, QueryLimits};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum ResultFormat {
    #[default]
    Default,
    DataArray,
}

#[derive(Debug, Clone, PartialEq)]
pub struct OrderBy {
    pub expr: Expr,
    pub descending: bool,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Expand {
    /// The navigation property expanded (`Datastreams`, `Thing`, …).
    pub nav: &'static str,
    pub target: EntityType,
    pub to_many: bool,
    pub query: Query,
}

#[derive(Debug, Clone, PartialEq, Default)]
pub struct Query {
    pub filter: Option<Expr>,
    pub expand: Vec<Expand>,
    /// `None` means all properties.
    pub select: Option<Vec<String>>,
    pub orderby: Vec<OrderBy>,
    pub top: Option<u64>,
    pub skip: u64,
    pub count: bool,
    pub result_format: ResultFormat,
    /// Opaque continuation token issued by this server in `@iot.nextLink`.
    pub skiptoken: Option<String>,
    /// The options as written (decoded), to rebuild `@iot.nextLink`s.
    pub raw: Vec<(String, String)>,
}

impl Query {
    /// Parses a raw (still percent-encoded) URL query string for `entity` under the default
    /// [`QueryLimits`].
    pub fn parse(entity: EntityType, raw: &str) -> Result<Query, StaError> {
        Self::parse_with(entity, raw, &QueryLimits::default())
    }

    /// Parses a raw (still percent-encoded) URL query string for `entity`, refusing it as soon as
    /// it goes over one of `limits`.
    pub fn parse_with(
        entity: EntityType,
        raw: &str,
        limits: &QueryLimits,
    ) -> Result<Query, StaError> {
        let pairs: Vec<(String, String)> = form_urlencoded::parse(raw.as_bytes())
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        Self::from_pairs(
            entity,
            pairs.iter().map(|(k, v)| (k.as_str(), v.as_str())),
            &Ctx { limits, depth: 0 },
        )
    }

    fn from_pairs<'a>(
        entity: EntityType,
        pairs: impl Iterator<Item = (&'a str, &'a str)>,
        ctx: &Ctx<'_>,
    ) -> Result<Query, StaError> {
        let top_level = ctx.depth == 0;
        let mut q = Query::default();
        let mut seen = Vec::new();
        for (key, value) in pairs {
            if !key.starts_with('$') {
                // Custom (non-system) query parameters are allowed and ignored.
                continue;
            }
            if seen.contains(&key) {
                return Err(StaError::query(key, "given more than once"));
            }
            seen.push(key);
            q.raw.push((key.to_string(), value.to_string()));
            match key {
                "$filter" => q.filter = Some(parse_filter_with(value, ctx.limits)?),
                "$expand" => q.expand = parse_expand(entity, value, ctx)?,
                "$select" => q.select = Some(parse_select(entity, value)?),
                "$orderby" => q.orderby = parse_orderby(value, ctx.limits)?,
                "$top" => q.top = Some(parse_count_value("$top", value)?),
                "$skip" => q.skip = parse_count_value("$skip", value)?,
                "$count" => {
                    q.count = match value {
                        "true" => true,
                        "false" => false,
                        _ => {
                            return Err(StaError::query(
                                "$count",
                                format!("must be true or false, not '{value}'"),
                            ));
                        }
                    }
                }
                "$resultFormat" if top_level => {
                    q.result_format = match value {
                        "dataArray" => ResultFormat::DataArray,
                        "default" | "" => ResultFormat::Default,
                        _ => {
                            return Err(StaError::query(
                                "$resultFormat",
                                format!("must be dataArray or default, not '{value}'"),
                            ));
                        }
                    }
                }
                "$skiptoken" if top_level => q.skiptoken = Some(value.to_string()),
                // OData options this server does not implement are 501; any other `$name` is
                // not a system query option at all, so the request is wrong (400), not the server.
                "$search" | "$apply" | "$compute" | "$levels" | "$format" | "$index"
                | "$schemaversion" | "$deltatoken" => {
                    return Err(StaError::NotImplemented(format!("query option {key}")));
                }
                "$resultFormat" | "$skiptoken" => {
                    return Err(StaError::query(key, "is only allowed at the top level"));
                }
                other => {
                    return Err(StaError::query(
                        other,
                        "is not a SensorThings system query option (known: $filter, $expand, $select, $orderby, $top, $skip, $count, $resultFormat)",
                    ));
                }
            }
        }
        if q.result_format == ResultFormat::DataArray {
            if entity != EntityType::Observation {
                return Err(StaError::query(
                    "$resultFormat",
                    "dataArray applies to Observations only",
                ));
            }
            if !q.expand.is_empty() {
                return Err(StaError::query(
                    "$resultFormat",
                    "$expand is not allowed with dataArray",
                ));
            }
        }
        Ok(q)
    }
}

/// Where a nested `$expand` is while parsing: the limits, and how many levels are above it.
struct Ctx<'l> {
    limits: &'l QueryLimits,
    depth: usize,
}

fn parse_count_value(option: &str, value: &str) -> Result<u64, StaError> {
    let n = value.trim().parse::<u64>().map_err(|_| {
        StaError::query(
            option,
            format!("must be a non-negative integer, not '{value}'"),
        )
    })?;
    if n > MAX_COUNT_VALUE {
        return Err(StaError::query(
            option,
            format!("must be at most {MAX_COUNT_VALUE}, not {n}"),
        ));
    }
    Ok(n)
}

fn parse_select(entity: EntityType, value: &str) -> Result<Vec<String>, StaError> {
    let mut out = Vec::new();
    for item in value.split(',') {
        let item = item.trim();
        let name = if item == "@iot.id" { "id" } else { item };
        if entity.property(name).is_none() && entity.navigation(name).is_none() {
            return Err(StaError::query(
                "$select",
                format!("{entity} has no property '{item}'"),
            ));
        }
        out.push(name.to_string());
    }
    Ok(out)
}

fn parse_orderby(value: &str, limits: &QueryLimits) -> Result<Vec<OrderBy>, StaError> {
    let mut out = Vec::new();
    for item in split_top_level(value, ',')? {
        let item = item.trim();
        // OData writes `asc`/`desc`; clients (frost-sta-client among them) also send `ASC`/`DESC`.
        let lower = item.to_ascii_lowercase();
        let (expr_text, descending) = if lower.ends_with(" desc") {
            (&item[..item.len() - 5], true)
        } else if lower.ends_with(" asc") {
            (&item[..item.len() - 4], false)
        } else {
            (item, false)
        };
        if expr_text.trim().is_empty() {
            return Err(StaError::query("$orderby", "empty sort key"));
        }
        let expr = parse_filter_with(expr_text, limits).map_err(|e| match e {
            StaError::BadQuery { message, .. } => StaError::query("$orderby", message),
            other => other,
        })?;
        out.push(OrderBy { expr, descending });
    }
    Ok(out)
}

/// Splits at `sep` outside parentheses and quotes.
fn split_top_level(value: &str, sep: char) -> Result<Vec<&str>, StaError> {
    let mut out = Vec::new();
    let mut depth = 0i32;
    let mut in_quote = false;
    let mut start = 0;
    for (i, c) in value.char_indices() {
        match c {
            '\'' => in_quote = !in_quote,
            '(' if !in_quote => depth += 1,
            ')' if !in_quote => {
                depth -= 1;
                if depth < 0 {
                    return Err(StaError::query("$expand", "unbalanced ')'"));
                }
            }
            c if c == sep && depth == 0 && !in_quote => {
                out.push(&value[start..i]);
                start = i + c.len_utf8();
            }
            _ => {}
        }
    }
    if depth != 0 || in_quote {
        return Err(StaError::query(
            "$expand",
            "unbalanced parentheses or quotes",
        ));
    }
    out.push(&value[start..]);
    Ok(out)
}

fn parse_expand(entity: EntityType, value: &str, ctx: &Ctx<'_>) -> Result<Vec<Expand>, StaError> {
    let mut out: Vec<Expand> = Vec::new();
    for item in split_top_level(value, ',')? {
        let item = item.trim();
        if item.is_empty() {
            return Err(StaError::query("$expand", "empty item"));
        }
        let (path, options) = match item.find('(') {
            Some(open) => {
                if !item.ends_with(')') {
                    return Err(StaError::query(
                        "$expand",
                        format!("'{item}' has text after its options"),
                    ));
                }
                (&item[..open], Some(&item[open + 1..item.len() - 1]))
            }
            None => (item, None),
        };
        let segments: Vec<&str> = path.split('/').map(str::trim).collect();
        // Checked before any recursion: a 1,400-level `$expand` stops here, at no cost.
        let depth = ctx.depth + segments.len();
        let max = ctx.limits.max_expand_depth;
        if depth > max {
            return Err(StaError::query(
                "$expand",
                format!("nested more than {max} levels deep (limit max_expand_depth in [sta])"),
            ));
        }
        let expand = build_expand(
            entity,
            &segments,
            options,
            &Ctx {
                limits: ctx.limits,
                depth,
            },
        )?;
        merge_expand(&mut out, expand);
    }
    Ok(out)
}

/// `ctx.depth` is the depth of the last segment: nested `$expand` options start below it.
fn build_expand(
    entity: EntityType,
    segments: &[&str],
    options: Option<&str>,
    ctx: &Ctx<'_>,
) -> Result<Expand, StaError> {
    let name = segments[0];
    let nav = entity.navigation(name).ok_or_else(|| {
        StaError::query(
            "$expand",
            format!("{entity} has no navigation property '{name}'"),
        )
    })?;
    let query = if segments.len() > 1 {
        Query {
            expand: vec![build_expand(nav.target, &segments[1..], options, ctx)?],
            ..Query::default()
        }
    } else if let Some(opts) = options {
        let mut pairs = Vec::new();
        for part in split_top_level(opts, ';')? {
            let part = part.trim();
            if part.is_empty() {
                continue;
            }
            let (k, v) = part.split_once('=').ok_or_else(|| {
                StaError::query("$expand", format!("option '{part}' of {name} has no '='"))
            })?;
            pairs.push((k.trim(), v));
        }
        Query::from_pairs(nav.target, pairs.into_iter(), ctx)?
    } else {
        Query::default()
    };
    Ok(Expand {
        nav: nav.name,
        target: nav.target,
        to_many: nav.to_many,
        query,
    })
}

fn merge_expand(into: &mut Vec<Expand>, e: Expand) {
    if let Some(existing) = into.iter_mut().find(|x| x.nav == e.nav) {
        for inner in e.query.expand {
            merge_expand(&mut existing.query.expand, inner);
        }
    } else {
        into.push(e);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::filter::{BinaryOp, Literal};
    use EntityType::*;

    #[test]
    fn parses_nested_expand() {
        let q = Query::parse(
            Thing,
            "$expand=Datastreams($filter=name%20eq%20'a;b';$top=1;$expand=Observations($orderby=phenomenonTime%20desc;$top=1)),Locations&$count=true",
        )
        .unwrap();
        assert!(q.count);
        assert_eq!(q.expand.len(), 2);
        let ds = &q.expand[0];
        assert_eq!(
            (ds.nav, ds.target, ds.to_many),
            ("Datastreams", Datastream, true)
        );
        assert_eq!(ds.query.top, Some(1));
        assert_eq!(
            ds.query.filter,
            Some(Expr::Binary(
                BinaryOp::Eq,
                Box::new(Expr::Property(vec!["name".into()])),
                Box::new(Expr::Literal(Literal::String("a;b".into())))
            ))
        );
        let obs = &ds.query.expand[0];
        assert_eq!(obs.nav, "Observations");
        assert!(obs.query.orderby[0].descending);
        assert_eq!(q.expand[1].nav, "Locations");
    }

    #[test]
    fn path_form_expands_merge() {
        let q = Query::parse(
            Observation,
            "$expand=Datastream/Sensor,Datastream/ObservedProperty,Datastream/Thing/Locations",
        )
        .unwrap();
        assert_eq!(q.expand.len(), 1);
        let names: Vec<_> = q.expand[0].query.expand.iter().map(|e| e.nav).collect();
        assert_eq!(names, ["Sensor", "ObservedProperty", "Thing"]);
        assert_eq!(q.expand[0].query.expand[2].query.expand[0].nav, "Locations");
    }

    #[test]
    fn options_are_checked() {
        let cases = [
            (Thing, "$top=-1", "non-negative"),
            (Thing, "$top=abc", "non-negative"),
            (Thing, "$count=yes", "true or false"),
            (Thing, "$select=name,foo", "no property 'foo'"),
            (
                Thing,
                "$expand=Observations",
                "no navigation property 'Observations'",
            ),
            (Thing, "$expand=Datastreams($top=x)", "non-negative"),
            (Thing, "$expand=Datastreams($frob=1)", "$frob"),
            (Thing, "$search=foo", "not implemented"),
            (Thing, "$expand=Datastreams(", "unbalanced"),
            (Thing, "$resultFormat=dataArray", "Observations only"),
            (
                Observation,
                "$resultFormat=dataArray&$expand=Datastream",
                "not allowed",
            ),
            (Thing, "$top=1&$top=2", "more than once"),
            (Thing, "$orderby=name%20eq", "end of expression"),
        ];
        for (e, raw, fragment) in cases {
            match Query::parse(e, raw) {
                Err(err) => assert!(err.to_string().contains(fragment), "{raw}: {err}"),
                Ok(q) => panic!("{raw} parsed as {q:?}"),
            }
        }
    }

    #[test]
    fn orderby_and_select() {
        let q = Query::parse(
            Observation,
            "$orderby=phenomenonTime%20DESC,result&$select=id,result&$top=5&$skip=10&foo=bar",
        )
        .unwrap();
        assert_eq!(q.orderby.len(), 2);
        assert!(q.orderby[0].descending && !q.orderby[1].descending);
        assert_eq!(q.select, Some(vec!["id".to_string(), "result".to_string()]));
        assert_eq!((q.top, q.skip), (Some(5), 10));
    }

    #[test]
    fn expand_depth_is_limited_while_parsing() {
        // The crash: ~1,400 levels, 36 KB; refused without recursing (no stack overflow).
        let path = vec!["Datastreams/Thing"; 700].join("/");
        let e = Query::parse(Thing, &format!("$expand={path}")).unwrap_err();
        assert!(e.to_string().contains("max_expand_depth"), "{e}");
        let mut nested = String::from("Datastreams");
        for _ in 0..1_400 {
            nested = format!("Datastreams($expand=Thing($expand={nested}))");
        }
        let e = Query::parse(Thing, &format!("$expand={nested}")).unwrap_err();
        assert!(e.to_string().contains("max_expand_depth"), "{e}");
        // Path segments and nested options add up.
        let e = Query::parse(
            Thing,
            "$expand=Datastreams/Thing($expand=Datastreams/Thing($expand=Locations))",
        )
        .unwrap_err();
        assert!(e.to_string().contains("4 levels"), "{e}");
        assert!(
            Query::parse(
                Thing,
                "$expand=Datastreams/Thing($expand=Datastreams/Thing)"
            )
            .is_ok()
        );
        let wide = QueryLimits {
            max_expand_depth: 6,
            ..QueryLimits::default()
        };
        assert!(
            Query::parse_with(
                Thing,
                "$expand=Datastreams/Thing/Datastreams/Thing/Datastreams/Thing",
                &wide
            )
            .is_ok()
        );
    }

    #[test]
    fn filter_budgets() {
        let terms: Vec<String> = (0..1_000).map(|i| format!("result eq {i}")).collect();
        let e = Query::parse(Observation, &format!("$filter={}", terms.join(" or "))).unwrap_err();
        assert!(e.to_string().contains("max_filter_nodes"), "{e}");
        let e = Query::parse(
            Observation,
            "$filter=Datastream/Thing/Datastreams/Observations/result gt 5",
        )
        .unwrap_err();
        assert!(e.to_string().contains("max_filter_nav_depth"), "{e}");
        assert!(Query::parse(Observation, "$filter=Datastream/Thing/name eq 'a'").is_ok());
        assert!(Query::parse(Thing, "$filter=properties/A/B/C/D eq 1").is_ok());
        let e = Query::parse(
            Observation,
            "$orderby=Datastream/Thing/Datastreams/Observations/result",
        )
        .unwrap_err();
        assert!(e.to_string().contains("max_filter_nav_depth"), "{e}");
        let ring: Vec<String> = (0..2_000).map(|i| format!("{i} 0")).collect();
        let poly = format!("POLYGON (({}, 0 0))", ring.join(", "));
        let e = Query::parse(
            Thing,
            &format!("$filter=st_within(Locations/location, geography'{poly}')"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("max_geometry_vertices"), "{e}");
    }

    #[test]
    fn skip_and_top_fit_in_i64() {
        let e = Query::parse(Thing, "$skip=9223372036854775808").unwrap_err();
        assert!(e.to_string().contains("at most"), "{e}");
        let e = Query::parse(Thing, "$top=18446744073709551615").unwrap_err();
        assert!(e.to_string().contains("at most"), "{e}");
        let e = Query::parse(Thing, "$skip=99999999999999999999999").unwrap_err();
        assert!(e.to_string().contains("non-negative integer"), "{e}");
        assert!(Query::parse(Thing, "$skip=9223372036854775807").is_ok());
    }

    proptest::proptest! {
        #[test]
        fn random_query_strings_never_panic(s in "[$a-zA-Z=&;(),/' 0-9%]{0,80}") {
            let _ = Query::parse(Thing, &s);
            let _ = Query::parse(Observation, &s);
        }
    }
}
