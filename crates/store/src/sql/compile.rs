//! Compiles STA `$filter` and `$orderby` expressions into SQL for one dialect.
//!
//! Navigation paths in predicates become correlated `EXISTS` subqueries, one level per
//! navigation property, so `Things?$filter=Datastreams/Observations/result gt 5` is a semi-join
//! and never materialises rows. `X/id` through a to-one navigation uses the foreign key directly
//! (index-friendly: `Observations?$filter=Datastream/id eq 5`).

use super::dialect::Dialect;
use super::mapping::{self, Column};
use sta::filter::{BinaryOp, Expr, Function, Literal};
use sta::{EntityType, StaError};

/// A value bound to a placeholder.
#[derive(Debug, Clone, PartialEq)]
pub enum SqlValue {
    Null,
    Int(i64),
    Float(f64),
    Text(String),
}

#[derive(Debug, Clone)]
pub struct Scope {
    pub entity: EntityType,
    pub alias: String,
}

/// Accumulates SQL parameters and fresh aliases while compiling one statement.
pub struct SqlBuilder {
    pub dialect: Dialect,
    pub params: Vec<SqlValue>,
    aliases: usize,
    /// Instant used for every `now()` in one request, so a query is self-consistent.
    now_micros: i64,
}

/// Whether an ORDER BY key is a column that can never be NULL: an id (every table's primary
/// key) or an observation's phenomenon time start (part of its primary key). Their order needs
/// no null rule, and without one PostgreSQL reads them in index order.
fn never_null(sql: &str, base: &Scope) -> bool {
    let column = sql
        .strip_prefix(base.alias.as_str())
        .and_then(|c| c.strip_prefix('.'));
    match column {
        Some("id") => true,
        Some("phenomenon_time_start") => base.entity == EntityType::Observation,
        _ => false,
    }
}

fn bad(message: impl Into<String>) -> StaError {
    StaError::query("$filter", message)
}

/// The navigation path currently being peeled into EXISTS subqueries.
struct Hole<'a> {
    node: &'a Expr,
    scope: Scope,
    offset: usize,
}

impl SqlBuilder {
    pub fn new(dialect: Dialect) -> Self {
        SqlBuilder {
            dialect,
            params: Vec::new(),
            aliases: 0,
            now_micros: crate::clock::now_micros(),
        }
    }

    pub fn param(&mut self, v: SqlValue) -> String {
        self.params.push(v);
        self.dialect.placeholder(self.params.len())
    }

    pub fn fresh_alias(&mut self) -> String {
        self.aliases += 1;
        format!("a{}", self.aliases)
    }

    /// A boolean SQL condition for `$filter`.
    pub fn filter(&mut self, expr: &Expr, base: &Scope) -> Result<String, StaError> {
        match expr {
            Expr::Binary(BinaryOp::And, l, r) => Ok(format!(
                "({} AND {})",
                self.filter(l, base)?,
                self.filter(r, base)?
            )),
            Expr::Binary(BinaryOp::Or, l, r) => Ok(format!(
                "({} OR {})",
                self.filter(l, base)?,
                self.filter(r, base)?
            )),
            Expr::Not(inner) => Ok(format!("(NOT {})", self.filter(inner, base)?)),
            leaf => {
                if let Some(node) = find_navigation(leaf, base.entity) {
                    self.peel(leaf, node, base, base.clone(), 0)
                } else {
                    self.value(leaf, base, None)
                }
            }
        }
    }

    /// An ORDER BY list (without the keyword) for `$orderby`, always ending with the id so that
    /// paging is stable.
    pub fn orderby(&mut self, keys: &[sta::OrderBy], base: &Scope) -> Result<String, StaError> {
        let mut parts = Vec::new();
        for key in keys {
            let sql = self.value(&key.expr, base, None).map_err(|e| match e {
                StaError::BadQuery { message, .. } => StaError::query("$orderby", message),
                other => other,
            })?;
            let suffix = if never_null(&sql, base) {
                self.dialect.order_suffix_not_null(key.descending)
            } else {
                self.dialect.order_suffix(key.descending)
            };
            parts.push(format!("{sql}{suffix}"));
        }
        let tie_desc = keys.first().is_some_and(|k| k.descending);
        parts.push(format!(
            "{}.id{}",
            base.alias,
            self.dialect.order_suffix_not_null(tie_desc)
        ));
        Ok(parts.join(", "))
    }

    fn peel(
        &mut self,
        leaf: &Expr,
        node: &Expr,
        base: &Scope,
        cur: Scope,
        offset: usize,
    ) -> Result<String, StaError> {
        let Expr::Property(path) = node else {
            return self.value(leaf, base, None);
        };
        let seg = &path[offset];
        let Some(nav) = cur.entity.navigation(seg) else {
            return self.value(
                leaf,
                base,
                Some(Hole {
                    node,
                    scope: cur,
                    offset,
                }),
            );
        };
        if !nav.to_many && path.len() == offset + 2 && path[offset + 1] == "id" {
            // `Datastream/id`: the foreign key itself, no subquery.
            return self.value(
                leaf,
                base,
                Some(Hole {
                    node,
                    scope: cur,
                    offset,
                }),
            );
        }
        if path.len() == offset + 1 {
            return Err(bad(format!(
                "'{}' is a navigation property; name one of its properties",
                path.join("/")
            )));
        }
        let rel = mapping::relation(cur.entity, seg)
            .ok_or_else(|| bad(format!("cannot navigate {seg}")))?;
        let child = Scope {
            entity: nav.target,
            alias: self.fresh_alias(),
        };
        let cond = mapping::correlated_condition(rel, &cur.alias, &child.alias);
        let inner = self.peel(leaf, node, base, child.clone(), offset + 1)?;
        Ok(format!(
            "EXISTS (SELECT 1 FROM {} {} WHERE {cond} AND {inner})",
            mapping::table(child.entity),
            child.alias
        ))
    }

    /// Compiles an expression to an SQL value expression.
    fn value(
        &mut self,
        expr: &Expr,
        base: &Scope,
        hole: Option<Hole<'_>>,
    ) -> Result<String, StaError> {
        let hole_ref = hole.as_ref();
        self.value_in(expr, base, hole_ref)
    }

    fn value_in(
        &mut self,
        expr: &Expr,
        base: &Scope,
        hole: Option<&Hole<'_>>,
    ) -> Result<String, StaError> {
        Ok(match expr {
            Expr::Literal(lit) => self.literal(lit),
            Expr::Property(path) => match hole {
                Some(h) if std::ptr::eq(h.node, expr) => {
                    self.property(&h.scope, &path[h.offset..])?
                }
                _ => self.property(base, path)?,
            },
            Expr::Not(inner) => format!("(NOT {})", self.value_in(inner, base, hole)?),
            Expr::Negate(inner) => format!("(-{})", self.value_in(inner, base, hole)?),
            Expr::Binary(op, l, r) => self.binary(*op, l, r, base, hole)?,
            Expr::Call(f, args) => self.call(*f, args, base, hole)?,
        })
    }

    fn literal(&mut self, lit: &Literal) -> String {
        match lit {
            Literal::Null => "NULL".into(),
            Literal::Bool(b) => self.dialect.bool_literal(*b).into(),
            Literal::Int(i) => self.param(SqlValue::Int(*i)),
            Literal::Float(f) => self.param(SqlValue::Float(*f)),
            Literal::String(s) | Literal::Date(s) | Literal::Geography(s) => {
                self.param(SqlValue::Text(s.clone()))
            }
            Literal::DateTime(t) => self.param(SqlValue::Int(*t)),
        }
    }

    fn binary(
        &mut self,
        op: BinaryOp,
        l: &Expr,
        r: &Expr,
        base: &Scope,
        hole: Option<&Hole<'_>>,
    ) -> Result<String, StaError> {
        let is_null = |e: &Expr| matches!(e, Expr::Literal(Literal::Null));
        if matches!(op, BinaryOp::Eq | BinaryOp::Ne) && (is_null(l) || is_null(r)) {
            let other = if is_null(l) { r } else { l };
            let sql = self.value_in(other, base, hole)?;
            return Ok(if op == BinaryOp::Eq {
                format!("({sql} IS NULL)")
            } else {
                format!("({sql} IS NOT NULL)")
            });
        }
        let mut ls = self.value_in(l, base, hole)?;
        let mut rs = self.value_in(r, base, hole)?;
        if self.dialect == Dialect::Postgres && op != BinaryOp::And && op != BinaryOp::Or {
            pg_operand_types(op, &mut ls, l, &mut rs, r);
        }
        let sym = match op {
            BinaryOp::Or => "OR",
            BinaryOp::And => "AND",
            BinaryOp::Eq => "=",
            BinaryOp::Ne => "<>",
            BinaryOp::Gt => ">",
            BinaryOp::Ge => ">=",
            BinaryOp::Lt => "<",
            BinaryOp::Le => "<=",
            BinaryOp::Add => "+",
            BinaryOp::Sub => "-",
            BinaryOp::Mul => "*",
            // OData `div` is real division on decimals and doubles (SQL `/` truncates integers:
            // `5 / 2` is 2) and `mod` keeps the fraction on doubles (SQL `%` drops it); both
            // are backend helpers, NULL on a zero divisor.
            BinaryOp::Div => return Ok(format!("{}({ls}, {rs})", self.dialect.helper("div"))),
            BinaryOp::Mod => return Ok(format!("{}({ls}, {rs})", self.dialect.helper("mod"))),
        };
        Ok(format!("({ls} {sym} {rs})"))
    }

    // (see `pg_operand_types`)
    fn call(
        &mut self,
        f: Function,
        args: &[Expr],
        base: &Scope,
        hole: Option<&Hole<'_>>,
    ) -> Result<String, StaError> {
        use Function::*;
        match f {
            Now => return Ok(self.param(SqlValue::Int(self.now_micros))),
            MinDateTime => return Ok(self.param(SqlValue::Int(sta::time::MIN_DATETIME))),
            MaxDateTime => return Ok(self.param(SqlValue::Int(sta::time::MAX_DATETIME))),
            _ => {}
        }
        let mut a = Vec::with_capacity(args.len());
        for arg in args {
            a.push(self.value_in(arg, base, hole)?);
        }
        let d = self.dialect;
        let h = |name: &str, a: &[String]| format!("{}({})", d.helper(name), a.join(", "));
        Ok(match f {
            SubstringOf => format!("({} > 0)", d.position(&a[1], &a[0])),
            StartsWith => format!("(substr({0}, 1, length({1})) = {1})", a[0], a[1]),
            EndsWith => format!(
                "(length({0}) >= length({1}) AND substr({0}, length({0}) - length({1}) + 1) = {1})",
                a[0], a[1]
            ),
            Length => format!("length({})", a[0]),
            // 1-based, as OGC 18-088's own example (`indexof(name,'name') eq 12` for
            // "datastream name 1") and FROST read it; 0 when absent.
            IndexOf => d.position(&a[0], &a[1]),
            Substring if a.len() == 3 => format!("substr({}, ({}) + 1, {})", a[0], a[1], a[2]),
            Substring => format!("substr({}, ({}) + 1)", a[0], a[1]),
            ToLower => format!("lower({})", a[0]),
            ToUpper => format!("upper({})", a[0]),
            Trim => format!("trim({})", a[0]),
            Concat => d.concat(&a[0], &a[1]),
            Year => h("year", &a),
            Month => h("month", &a),
            Day => h("day", &a),
            Hour => h("hour", &a),
            Minute => h("minute", &a),
            Second => h("second", &a),
            FractionalSeconds => h("fractionalseconds", &a),
            Date => h("date", &a),
            Time => h("time", &a),
            // Instants are stored in UTC.
            TotalOffsetMinutes => "0".into(),
            Round => h("round", &a),
            Floor => h("floor", &a),
            Ceiling => h("ceiling", &a),
            GeoDistance => h("geo_distance", &a),
            GeoLength => h("geo_length", &a),
            GeoIntersects => format!("{}('intersects', {}, {})", d.helper("spatial"), a[0], a[1]),
            StEquals | StDisjoint | StTouches | StWithin | StOverlaps | StCrosses
            | StIntersects | StContains => {
                let name = match f {
                    StEquals => "equals",
                    StDisjoint => "disjoint",
                    StTouches => "touches",
                    StWithin => "within",
                    StOverlaps => "overlaps",
                    StCrosses => "crosses",
                    StIntersects => "intersects",
                    _ => "contains",
                };
                format!("{}('{name}', {}, {})", d.helper("spatial"), a[0], a[1])
            }
            StRelate => h("st_relate", &a),
            Now | MinDateTime | MaxDateTime => unreachable_time(),
        })
    }

    /// A property path in `scope`: a column, a JSON member, or (through to-one navigation) a
    /// scalar subquery.
    fn property(&mut self, scope: &Scope, path: &[String]) -> Result<String, StaError> {
        let Some(first) = path.first() else {
            return Err(bad("empty property path"));
        };
        if let Some(nav) = scope.entity.navigation(first) {
            if nav.to_many {
                return Err(bad(format!(
                    "'{}' crosses the to-many navigation '{first}'; use it in a comparison or function",
                    path.join("/")
                )));
            }
            let rest = &path[1..];
            if rest.is_empty() {
                return Err(bad(format!(
                    "'{first}' is a navigation property; name one of its properties"
                )));
            }
            let Some(mapping::Relation::ForeignKeyOnParent(fk)) =
                mapping::relation(scope.entity, first)
            else {
                return Err(bad(format!("cannot navigate {first}")));
            };
            if rest == ["id"] {
                return Ok(format!("{}.{fk}", scope.alias));
            }
            let child = Scope {
                entity: nav.target,
                alias: self.fresh_alias(),
            };
            let inner = self.property(&child, rest)?;
            return Ok(format!(
                "(SELECT {inner} FROM {} {} WHERE {}.id = {}.{fk})",
                mapping::table(child.entity),
                child.alias,
                child.alias,
                scope.alias
            ));
        }
        let name = if first == "@iot.id" {
            "id"
        } else {
            first.as_str()
        };
        let column = mapping::column(scope.entity, name)
            .ok_or_else(|| bad(format!("{} has no property '{first}'", scope.entity)))?;
        let a = &scope.alias;
        let rest = &path[1..];
        Ok(match column {
            Column::Plain(c) | Column::Geometry(c) if rest.is_empty() => format!("{a}.{c}"),
            Column::Interval(start, _) if rest.is_empty() => format!("{a}.{start}"),
            Column::Json(c) if rest.is_empty() => format!("{a}.{c}"),
            Column::Result if rest.is_empty() => format!("{a}.result"),
            Column::Json(c) | Column::Geometry(c) => {
                self.dialect.json_member(&format!("{a}.{c}"), rest)
            }
            Column::Result => self.dialect.json_member(&format!("{a}.result_json"), rest),
            Column::Plain(_) | Column::Interval(..) => {
                return Err(bad(format!(
                    "'{name}' has no members (in '{}')",
                    path.join("/")
                )));
            }
        })
    }
}

fn unreachable_time() -> String {
    // now()/mindatetime()/maxdatetime() return before argument compilation.
    "NULL".into()
}

/// The first property node in a leaf predicate whose path starts with a navigation property of
/// `entity` and crosses a to-many navigation (those need EXISTS; to-one-only paths compile to
/// scalar subqueries).
fn find_navigation(expr: &Expr, entity: EntityType) -> Option<&Expr> {
    match expr {
        Expr::Property(path) => crosses_to_many(entity, path).then_some(expr),
        Expr::Literal(_) => None,
        Expr::Not(e) | Expr::Negate(e) => find_navigation(e, entity),
        Expr::Binary(_, l, r) => find_navigation(l, entity).or_else(|| find_navigation(r, entity)),
        Expr::Call(_, args) => args.iter().find_map(|a| find_navigation(a, entity)),
    }
}

fn crosses_to_many(mut entity: EntityType, path: &[String]) -> bool {
    for seg in path {
        match entity.navigation(seg) {
            Some(nav) if nav.to_many => return true,
            Some(nav) => entity = nav.target,
            None => return false,
        }
    }
    false
}

/// PostgreSQL is typed where SQLite is not: a JSON member read as text (`#>>`) compared with
/// or computed with a number is read as a number (`qs_num`, NULL when it is none, as SQLite's
/// comparison of a text with a number never holds), and an observation's `result` (a double
/// there, strings kept in `result_json`) compared with a string is read from `result_json`;
/// numeric literals in arithmetic are typed.
fn pg_operand_types(op: BinaryOp, ls: &mut String, l: &Expr, rs: &mut String, r: &Expr) {
    fn numeric(e: &Expr) -> bool {
        match e {
            Expr::Literal(Literal::Int(_) | Literal::Float(_)) => true,
            Expr::Binary(op, a, b) => {
                matches!(
                    op,
                    BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod
                ) && (numeric(a) || numeric(b))
            }
            _ => false,
        }
    }
    fn json_member(sql: &str) -> bool {
        sql.starts_with('(') && sql.contains("::jsonb #>> '{") && sql.ends_with("}')")
    }
    fn string(e: &Expr) -> bool {
        matches!(e, Expr::Literal(Literal::String(_)))
    }
    let arithmetic = matches!(
        op,
        BinaryOp::Add | BinaryOp::Sub | BinaryOp::Mul | BinaryOp::Div | BinaryOp::Mod
    );
    // A bare numeric literal in arithmetic gets its type, or `$1 * $2` is "unknown * unknown".
    let typed = |side: &mut String, e: &Expr| {
        if arithmetic && side.starts_with('$') {
            match e {
                Expr::Literal(Literal::Int(_)) => *side = format!("{side}::BIGINT"),
                Expr::Literal(Literal::Float(_)) => *side = format!("{side}::DOUBLE PRECISION"),
                _ => {}
            }
        }
    };
    typed(ls, l);
    typed(rs, r);
    let fix = |side: &mut String, other_expr: &Expr| {
        if json_member(side) && numeric(other_expr) {
            *side = format!("qs_num({side})");
        } else if side.ends_with(".result") && !side.contains(' ') && string(other_expr) {
            *side = format!("({side}_json::jsonb #>> '{{}}')");
        }
    };
    fix(ls, r);
    fix(rs, l);
}

#[cfg(test)]
mod tests {
    use super::*;
    use sta::filter::parse_filter;

    fn compile(entity: EntityType, filter: &str) -> (String, Vec<SqlValue>) {
        let mut b = SqlBuilder::new(Dialect::Sqlite);
        let scope = Scope {
            entity,
            alias: "e".into(),
        };
        let sql = b.filter(&parse_filter(filter).unwrap(), &scope).unwrap();
        (sql, b.params)
    }

    #[test]
    fn compiles_to_expected_sql() {
        use EntityType::*;
        let cases: &[(EntityType, &str, &str)] = &[
            (Observation, "result gt 5", "(e.result > ?1)"),
            (Observation, "Datastream/id eq 5", "(e.datastream_id = ?1)"),
            (
                Observation,
                "phenomenonTime ge 2026-01-01T00:00:00Z",
                "(e.phenomenon_time_start >= ?1)",
            ),
            (
                Thing,
                "name eq 'a' or not (name eq 'b')",
                "((e.name = ?1) OR (NOT (e.name = ?2)))",
            ),
            (
                Thing,
                "properties/depth eq null",
                "(json_extract(e.properties, '$.\"depth\"') IS NULL)",
            ),
            (
                Observation,
                "Datastream/Thing/name eq 'L01'",
                "((SELECT (SELECT a2.name FROM things a2 WHERE a2.id = a1.thing_id) FROM datastreams a1 WHERE a1.id = e.datastream_id) = ?1)",
            ),
            (
                Thing,
                "Datastreams/Observations/result gt 3",
                "EXISTS (SELECT 1 FROM datastreams a1 WHERE a1.thing_id = e.id AND EXISTS (SELECT 1 FROM observations a2 WHERE a2.datastream_id = a1.id AND (a2.result > ?1)))",
            ),
            (
                Thing,
                "Locations/name eq 'x'",
                "EXISTS (SELECT 1 FROM locations a1 WHERE a1.id IN (SELECT location_id FROM thing_locations WHERE thing_id = e.id) AND (a1.name = ?1))",
            ),
            (Thing, "substringof('ab', name)", "(instr(e.name, ?1) > 0)"),
            (Thing, "indexof(name, 'b') eq 1", "(instr(e.name, ?1) = ?2)"),
            (
                Observation,
                "result div 2 eq 2 or result mod 2 eq 1",
                "((qs_div(e.result, ?1) = ?2) OR (qs_mod(e.result, ?3) = ?4))",
            ),
            (
                Observation,
                "year(phenomenonTime) eq 2026",
                "(qs_year(e.phenomenon_time_start) = ?1)",
            ),
            (
                Observation,
                "result add 1 mul 2 lt 5",
                "((e.result + (?1 * ?2)) < ?3)",
            ),
            (
                Location,
                "st_within(location, geography'POLYGON ((0 0, 1 0, 1 1, 0 1, 0 0))')",
                "qs_spatial('within', e.location, ?1)",
            ),
        ];
        for (entity, filter, want) in cases {
            assert_eq!(compile(*entity, filter).0, *want, "{filter}");
        }
    }

    #[test]
    fn errors_name_the_property() {
        let mut b = SqlBuilder::new(Dialect::Sqlite);
        let scope = Scope {
            entity: EntityType::Thing,
            alias: "e".into(),
        };
        for (f, frag) in [
            ("foo eq 1", "no property 'foo'"),
            ("Datastreams eq 1", "navigation property"),
            ("name/x eq 1", "has no members"),
        ] {
            let e = b.filter(&parse_filter(f).unwrap(), &scope).unwrap_err();
            assert!(e.to_string().contains(frag), "{f}: {e}");
        }
    }

    #[test]
    fn orderby_ends_with_id() {
        let mut b = SqlBuilder::new(Dialect::Postgres);
        let scope = Scope {
            entity: EntityType::Observation,
            alias: "e".into(),
        };
        let q = sta::Query::parse(
            EntityType::Observation,
            "$orderby=phenomenonTime%20desc,result",
        )
        .unwrap();
        assert_eq!(
            b.orderby(&q.orderby, &scope).unwrap(),
            "e.phenomenon_time_start DESC, e.result ASC NULLS FIRST, e.id DESC"
        );
        // A column that may be NULL keeps the null rule (a Datastream's phenomenonTime).
        let scope = Scope {
            entity: EntityType::Datastream,
            alias: "e".into(),
        };
        let q =
            sta::Query::parse(EntityType::Datastream, "$orderby=phenomenonTime,id%20desc").unwrap();
        assert_eq!(
            b.orderby(&q.orderby, &scope).unwrap(),
            "e.phenomenon_time_start ASC NULLS FIRST, e.id DESC, e.id ASC"
        );
    }
}
