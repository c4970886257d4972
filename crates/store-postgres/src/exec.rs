//! [`store::executor::Executor`] over one PostgreSQL connection.
//!
//! The neutral engine binds loosely typed [`SqlValue`]s (SQLite's way); PostgreSQL types every
//! parameter when it prepares a statement. So each statement is prepared once (cached per
//! connection), and each value is converted to the type PostgreSQL inferred for its placeholder
//! (an integer bound to a `double precision` column is sent as a double, text that is no number
//! compared with a number is NULL: it matches nothing, as on SQLite). Cells are decoded from the
//! binary wire format by column type, borrowed from the row. Neutral SQL written with `?N` is
//! rewritten to `$N` here, outside string literals, so the engine's statements need no dialect
//! branch for placeholders.

use postgres::types::{FromSql, IsNull, ToSql, Type, to_sql_checked};
use postgres::{Client, Statement};
use std::cell::RefCell;
use std::collections::HashMap;
use store::StoreError;
use store::executor::{Cell, Executor, Flow, RowRef};
use store::sql::{Dialect, SqlValue};

/// PostgreSQL's errors in our words.
pub fn to_store_error(e: postgres::Error) -> StoreError {
    if let Some(db) = e.as_db_error() {
        let code = db.code().code();
        return match code {
            // query_canceled: statement_timeout or a cancel request
            "57014" => StoreError::Interrupted(
                "the query took longer than the statement timeout and was stopped (statement_timeout_ms in [storage]); narrow $filter, $expand or $top".into(),
            ),
            // program_limit_exceeded, statement_too_complex, too_many_arguments, stack depth
            "54000" | "54001" | "54011" | "54023" => StoreError::TooComplex(format!(
                "the request is too large or complex for the database ({}); use fewer $filter terms, a shorter $expand or smaller numbers",
                db.message()
            )),
            "23505" => StoreError::Conflict(db.message().to_owned()),
            "0A000" => StoreError::TooComplex(db.message().to_owned()),
            // numeric_value_out_of_range, division_by_zero, invalid_text_representation
            "22003" | "22012" | "22P02" => {
                StoreError::Database(format!("{} ({code})", db.message()))
            }
            _ => StoreError::Database(format!("{} ({code})", db.message())),
        };
    }
    if e.is_closed() {
        return StoreError::Database("the PostgreSQL connection is closed".into());
    }
    StoreError::Database(e.to_string())
}

/// `.db()?` on a postgres result.
pub trait Db<T> {
    fn db(self) -> Result<T, StoreError>;
}

impl<T> Db<T> for Result<T, postgres::Error> {
    fn db(self) -> Result<T, StoreError> {
        self.map_err(to_store_error)
    }
}

/// Already ours (the capability stores' code reads the same on both backends).
impl<T> Db<T> for Result<T, StoreError> {
    fn db(self) -> Result<T, StoreError> {
        self
    }
}

/// `?N` placeholders (SQLite's spelling, used by the neutral engine) as `$N`, leaving string
/// literals and quoted identifiers alone.
pub fn placeholders(sql: &str) -> String {
    let mut out = String::with_capacity(sql.len());
    let mut quote: Option<char> = None;
    let mut chars = sql.chars().peekable();
    while let Some(c) = chars.next() {
        match quote {
            Some(q) => {
                out.push(c);
                if c == q {
                    quote = None;
                }
            }
            None => {
                if c == '\'' || c == '"' {
                    quote = Some(c);
                    out.push(c);
                } else if c == '?' && chars.peek().is_some_and(|d| d.is_ascii_digit()) {
                    out.push('$');
                } else {
                    out.push(c);
                }
            }
        }
    }
    out
}

/// One parameter, converted to the type PostgreSQL inferred for its placeholder.
#[derive(Debug)]
enum Param {
    Null,
    I16(i16),
    I32(i32),
    I64(i64),
    F32(f32),
    F64(f64),
    Bool(bool),
    Text(String),
    Bytes(Vec<u8>),
}

impl ToSql for Param {
    fn to_sql(
        &self,
        ty: &Type,
        out: &mut postgres::types::private::BytesMut,
    ) -> Result<IsNull, Box<dyn std::error::Error + Sync + Send>> {
        match self {
            Param::Null => Ok(IsNull::Yes),
            Param::I16(v) => v.to_sql(ty, out),
            Param::I32(v) => v.to_sql(ty, out),
            Param::I64(v) => v.to_sql(ty, out),
            Param::F32(v) => v.to_sql(ty, out),
            Param::F64(v) => v.to_sql(ty, out),
            Param::Bool(v) => v.to_sql(ty, out),
            Param::Text(v) => {
                if *ty == Type::JSONB {
                    // jsonb's binary format: version 1, then the text.
                    out.extend_from_slice(&[1]);
                    out.extend_from_slice(v.as_bytes());
                    Ok(IsNull::No)
                } else {
                    // Any text-like type (text, varchar, name, json, unknown) takes the bytes.
                    out.extend_from_slice(v.as_bytes());
                    Ok(IsNull::No)
                }
            }
            Param::Bytes(v) => {
                out.extend_from_slice(v);
                Ok(IsNull::No)
            }
        }
    }

    fn accepts(_: &Type) -> bool {
        true
    }

    to_sql_checked!();
}

fn number_of(v: &SqlValue) -> Option<f64> {
    match v {
        SqlValue::Int(i) => Some(*i as f64),
        SqlValue::Float(f) => Some(*f),
        SqlValue::Text(t) => t.trim().parse().ok(),
        SqlValue::Null => None,
    }
}

fn integer_of(v: &SqlValue) -> Option<i64> {
    match v {
        SqlValue::Int(i) => Some(*i),
        SqlValue::Float(f) if f.fract() == 0.0 && f.is_finite() => Some(*f as i64),
        SqlValue::Text(t) => t.trim().parse().ok(),
        _ => None,
    }
}

fn convert(v: &SqlValue, ty: &Type) -> Param {
    if matches!(v, SqlValue::Null) {
        return Param::Null;
    }
    let or_null = |p: Option<Param>| p.unwrap_or(Param::Null);
    match *ty {
        Type::INT8 => or_null(integer_of(v).map(Param::I64)),
        Type::INT4 => or_null(
            integer_of(v)
                .and_then(|i| i32::try_from(i).ok())
                .map(Param::I32),
        ),
        Type::INT2 => or_null(
            integer_of(v)
                .and_then(|i| i16::try_from(i).ok())
                .map(Param::I16),
        ),
        Type::FLOAT8 => or_null(number_of(v).map(Param::F64)),
        Type::FLOAT4 => or_null(number_of(v).map(|f| Param::F32(f as f32))),
        Type::BOOL => match v {
            SqlValue::Int(i) => Param::Bool(*i != 0),
            SqlValue::Float(f) => Param::Bool(*f != 0.0),
            SqlValue::Text(t) => or_null(match t.as_str() {
                "true" | "t" | "1" => Some(Param::Bool(true)),
                "false" | "f" | "0" => Some(Param::Bool(false)),
                _ => None,
            }),
            SqlValue::Null => Param::Null,
        },
        Type::BYTEA => match v {
            SqlValue::Text(t) => Param::Bytes(t.as_bytes().to_vec()),
            other => Param::Bytes(text_of(other).into_bytes()),
        },
        _ => Param::Text(text_of(v)),
    }
}

fn text_of(v: &SqlValue) -> String {
    match v {
        SqlValue::Int(i) => i.to_string(),
        SqlValue::Float(f) => f.to_string(),
        SqlValue::Text(t) => t.clone(),
        SqlValue::Null => String::new(),
    }
}

/// A column's raw bytes in the binary format, whatever its type (decoded by [`decode`]).
struct Raw<'a>(&'a [u8]);

impl<'a> FromSql<'a> for Raw<'a> {
    fn from_sql(_: &Type, raw: &'a [u8]) -> Result<Self, Box<dyn std::error::Error + Sync + Send>> {
        Ok(Raw(raw))
    }
    fn accepts(_: &Type) -> bool {
        true
    }
}

/// PostgreSQL's binary `numeric` as a double (AVG and SUM over integers answer in numeric).
fn numeric_to_f64(raw: &[u8]) -> Option<f64> {
    if raw.len() < 8 {
        return None;
    }
    let ndigits = u16::from_be_bytes([raw[0], raw[1]]) as usize;
    let weight = i16::from_be_bytes([raw[2], raw[3]]) as i32;
    let sign = u16::from_be_bytes([raw[4], raw[5]]);
    if sign == 0xC000 {
        return Some(f64::NAN);
    }
    let mut v = 0f64;
    for i in 0..ndigits {
        let at = 8 + 2 * i;
        let d = u16::from_be_bytes([*raw.get(at)?, *raw.get(at + 1)?]) as f64;
        v += d * 10000f64.powi(weight - i as i32);
    }
    Some(if sign == 0x4000 { -v } else { v })
}

fn decode<'a>(ty: &Type, raw: &'a [u8]) -> Cell<'a> {
    let be8 = |r: &[u8]| r.try_into().ok().map(i64::from_be_bytes);
    match *ty {
        Type::INT8 => be8(raw).map_or(Cell::Null, Cell::Int),
        Type::INT4 => raw
            .try_into()
            .ok()
            .map(i32::from_be_bytes)
            .map_or(Cell::Null, |i| Cell::Int(i as i64)),
        Type::INT2 => raw
            .try_into()
            .ok()
            .map(i16::from_be_bytes)
            .map_or(Cell::Null, |i| Cell::Int(i as i64)),
        Type::FLOAT8 => raw
            .try_into()
            .ok()
            .map(f64::from_be_bytes)
            .map_or(Cell::Null, Cell::Float),
        Type::FLOAT4 => raw
            .try_into()
            .ok()
            .map(f32::from_be_bytes)
            .map_or(Cell::Null, |f| Cell::Float(f as f64)),
        Type::BOOL => Cell::Int(raw.first().is_some_and(|b| *b != 0) as i64),
        Type::NUMERIC => numeric_to_f64(raw).map_or(Cell::Null, |f| {
            if f.fract() == 0.0 && f.abs() < 9.0e15 {
                Cell::Int(f as i64)
            } else {
                Cell::Float(f)
            }
        }),
        // jsonb's binary format starts with its version byte.
        Type::JSONB => Cell::Text(raw.get(1..).unwrap_or_default()),
        _ => Cell::Text(raw),
    }
}

/// One connection as an [`Executor`], with its statement cache. `RefCell`: the executor is
/// used from one thread at a time (the writer's, or a reader's), and the neutral engine's
/// calls take `&self`.
pub struct PgExec {
    client: RefCell<Client>,
    cache: RefCell<HashMap<String, Statement>>,
}

struct PgRow<'r> {
    row: &'r postgres::Row,
}

impl RowRef for PgRow<'_> {
    fn width(&self) -> usize {
        self.row.len()
    }
    fn cell(&self, i: usize) -> Result<Cell<'_>, StoreError> {
        cell(self.row, i)
    }
}

impl PgExec {
    pub fn new(client: Client) -> Self {
        PgExec {
            client: RefCell::new(client),
            cache: RefCell::new(HashMap::new()),
        }
    }

    /// The prepared statement for `sql` from the connection's cache (prepared on first use), for
    /// callers that bind typed values themselves (the writer's array INSERT).
    pub fn prepared(&self, sql: &str) -> Result<Statement, StoreError> {
        self.statement(sql)
    }

    fn statement(&self, sql: &str) -> Result<Statement, StoreError> {
        if let Some(s) = self.cache.borrow().get(sql) {
            return Ok(s.clone());
        }
        let text = placeholders(sql);
        let stmt = self.client.borrow_mut().prepare(&text).db()?;
        let mut cache = self.cache.borrow_mut();
        // Dynamic SQL ($filter) would grow the cache without bound.
        if cache.len() > 512 {
            cache.clear();
        }
        cache.insert(sql.to_owned(), stmt.clone());
        Ok(stmt)
    }

    fn bind(stmt: &Statement, params: &[SqlValue]) -> Result<Vec<Param>, StoreError> {
        if stmt.params().len() != params.len() {
            return Err(StoreError::Database(format!(
                "statement expects {} parameters, {} given",
                stmt.params().len(),
                params.len()
            )));
        }
        Ok(stmt
            .params()
            .iter()
            .zip(params)
            .map(|(ty, v)| convert(v, ty))
            .collect())
    }

    /// Runs statements with no parameters and no result (DDL, BEGIN, SAVEPOINT…).
    pub fn batch(&self, sql: &str) -> Result<(), StoreError> {
        self.client.borrow_mut().batch_execute(sql).db()
    }

    /// Every row of a query with raw postgres access (typed reads of our own tables).
    pub fn rows(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<postgres::Row>, StoreError> {
        let stmt = self.statement(sql)?;
        let bound = Self::bind(&stmt, params)?;
        let refs: Vec<&(dyn ToSql + Sync)> =
            bound.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        self.client.borrow_mut().query(&stmt, &refs).db()
    }

    /// Executes with `bytes` bound to the placeholder after `params` (bytea: not text).
    pub fn execute_bytes(
        &self,
        sql: &str,
        params: &[SqlValue],
        bytes: &[u8],
    ) -> Result<u64, StoreError> {
        let stmt = self.statement(sql)?;
        let mut bound: Vec<Param> = stmt
            .params()
            .iter()
            .zip(params)
            .map(|(t, v)| convert(v, t))
            .collect();
        bound.push(Param::Bytes(bytes.to_vec()));
        let refs: Vec<&(dyn ToSql + Sync)> =
            bound.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        self.client.borrow_mut().execute(&stmt, &refs).db()
    }

    /// Runs a statement with neutral values; returns the number of rows changed.
    pub fn execute_values(&self, sql: &str, params: &[SqlValue]) -> Result<usize, StoreError> {
        let stmt = self.statement(sql)?;
        let bound = Self::bind(&stmt, params)?;
        let refs: Vec<&(dyn ToSql + Sync)> =
            bound.iter().map(|p| p as &(dyn ToSql + Sync)).collect();
        Ok(self.client.borrow_mut().execute(&stmt, &refs).db()? as usize)
    }

    pub fn client(&self) -> std::cell::RefMut<'_, Client> {
        self.client.borrow_mut()
    }

    pub fn is_closed(&self) -> bool {
        self.client.borrow().is_closed()
    }
}

impl Executor for PgExec {
    fn dialect(&self) -> Dialect {
        Dialect::Postgres
    }

    fn query_each(
        &self,
        sql: &str,
        params: &[SqlValue],
        visit: &mut dyn FnMut(&dyn RowRef) -> Result<Flow, StoreError>,
    ) -> Result<(), StoreError> {
        let rows = self.rows(sql, params)?;
        for row in &rows {
            if visit(&PgRow { row })? == Flow::Stop {
                break;
            }
        }
        Ok(())
    }

    fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<usize, StoreError> {
        self.execute_values(sql, params)
    }
}

/// Cells of a raw row by position, for our own typed reads.
pub fn cell(row: &postgres::Row, i: usize) -> Result<Cell<'_>, StoreError> {
    let ty = row
        .columns()
        .get(i)
        .ok_or_else(|| StoreError::Database(format!("no column {i}")))?
        .type_()
        .clone();
    let raw: Option<Raw<'_>> = row.try_get(i).db()?;
    Ok(match raw {
        None => Cell::Null,
        Some(Raw(bytes)) => decode(&ty, bytes),
    })
}

pub fn int(row: &postgres::Row, i: usize) -> Result<Option<i64>, StoreError> {
    Ok(cell(row, i)?.as_i64())
}

pub fn text(row: &postgres::Row, i: usize) -> Result<Option<String>, StoreError> {
    Ok(match cell(row, i)? {
        Cell::Text(t) => Some(String::from_utf8_lossy(t).into_owned()),
        Cell::Int(n) => Some(n.to_string()),
        Cell::Float(f) => Some(f.to_string()),
        Cell::Null => None,
    })
}

pub fn float(row: &postgres::Row, i: usize) -> Result<Option<f64>, StoreError> {
    Ok(match cell(row, i)? {
        Cell::Int(n) => Some(n as f64),
        Cell::Float(f) => Some(f),
        _ => None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn placeholders_outside_literals() {
        assert_eq!(
            placeholders("SELECT '?1', \"a?2\" FROM t WHERE a = ?1 AND b = ?12"),
            "SELECT '?1', \"a?2\" FROM t WHERE a = $1 AND b = $12"
        );
        assert_eq!(placeholders("a = $1"), "a = $1");
    }

    #[test]
    fn numeric_decodes() {
        // 12345.5 = digits [1, 2345, 5000], weight 1, positive, dscale 1
        let raw = [0, 3, 0, 1, 0, 0, 0, 1, 0, 1, 0x09, 0x29, 0x13, 0x88];
        assert_eq!(numeric_to_f64(&raw), Some(12345.5));
        let neg = [0, 1, 0, 0, 0x40, 0, 0, 0, 0, 7];
        assert_eq!(numeric_to_f64(&neg), Some(-7.0));
    }

    #[test]
    fn conversion_follows_the_placeholder_type() {
        assert!(matches!(
            convert(&SqlValue::Int(3), &Type::FLOAT8),
            Param::F64(f) if f == 3.0
        ));
        assert!(matches!(
            convert(&SqlValue::Text("abc".into()), &Type::FLOAT8),
            Param::Null
        ));
        assert!(matches!(
            convert(&SqlValue::Int(3), &Type::TEXT),
            Param::Text(t) if t == "3"
        ));
    }
}
