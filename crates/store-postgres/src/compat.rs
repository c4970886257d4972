//! A small row/parameter vocabulary over [`PgExec`] for the capability stores (alerts, scenes,
//! accounts, review): typed parameters from Rust values ([`params!`]), typed cells by position
//! ([`Row::get`]), `optional()` for zero-or-one rows and a transaction guard. It keeps that SQL
//! (plain, written with `?N`, rewritten to `$N` by the executor) readable beside SQLite's.

use crate::exec::{PgExec, cell};
use store::StoreError;
use store::executor::Cell;
use store::sql::SqlValue;

/// The error `query_row` returns when there is no row; `optional()` turns it into `None`.
const NO_ROWS: &str = "query returned no rows";

pub trait ToValue {
    fn to_value(&self) -> SqlValue;
}

impl ToValue for SqlValue {
    fn to_value(&self) -> SqlValue {
        self.clone()
    }
}
impl ToValue for i64 {
    fn to_value(&self) -> SqlValue {
        SqlValue::Int(*self)
    }
}
impl ToValue for f64 {
    fn to_value(&self) -> SqlValue {
        SqlValue::Float(*self)
    }
}
impl ToValue for bool {
    fn to_value(&self) -> SqlValue {
        SqlValue::Int(*self as i64)
    }
}
impl ToValue for str {
    fn to_value(&self) -> SqlValue {
        SqlValue::Text(self.to_owned())
    }
}
impl ToValue for String {
    fn to_value(&self) -> SqlValue {
        SqlValue::Text(self.clone())
    }
}
impl<T: ToValue + ?Sized> ToValue for &T {
    fn to_value(&self) -> SqlValue {
        (**self).to_value()
    }
}
impl<T: ToValue> ToValue for Option<T> {
    fn to_value(&self) -> SqlValue {
        self.as_ref().map_or(SqlValue::Null, ToValue::to_value)
    }
}

#[macro_export]
macro_rules! params {
    () => {
        Vec::<store::sql::SqlValue>::new()
    };
    ($($v:expr),+ $(,)?) => {
        vec![$($crate::compat::ToValue::to_value(&$v)),*]
    };
}

/// What a statement's parameters may be given as.
pub trait IntoParams {
    fn into_params(self) -> Vec<SqlValue>;
}
impl IntoParams for Vec<SqlValue> {
    fn into_params(self) -> Vec<SqlValue> {
        self
    }
}
impl IntoParams for &[SqlValue] {
    fn into_params(self) -> Vec<SqlValue> {
        self.to_vec()
    }
}
impl<const N: usize> IntoParams for &[SqlValue; N] {
    fn into_params(self) -> Vec<SqlValue> {
        self.to_vec()
    }
}
impl<T: ToValue, const N: usize> IntoParams for [T; N] {
    fn into_params(self) -> Vec<SqlValue> {
        self.iter().map(ToValue::to_value).collect()
    }
}

pub fn params_from_iter<T: ToValue>(it: impl IntoIterator<Item = T>) -> Vec<SqlValue> {
    it.into_iter().map(|v| v.to_value()).collect()
}

/// A value taken from a cell.
pub trait FromCell: Sized {
    fn from_cell(c: Cell<'_>) -> Result<Self, StoreError>;
}

fn wrong(c: Cell<'_>, want: &str) -> StoreError {
    StoreError::Database(format!("expected {want}, found {c:?}"))
}

impl FromCell for i64 {
    fn from_cell(c: Cell<'_>) -> Result<Self, StoreError> {
        c.as_i64().ok_or_else(|| wrong(c, "an integer"))
    }
}
impl FromCell for f64 {
    fn from_cell(c: Cell<'_>) -> Result<Self, StoreError> {
        match c {
            Cell::Int(i) => Ok(i as f64),
            Cell::Float(f) => Ok(f),
            other => Err(wrong(other, "a number")),
        }
    }
}
impl FromCell for String {
    fn from_cell(c: Cell<'_>) -> Result<Self, StoreError> {
        match c {
            Cell::Text(t) => Ok(String::from_utf8_lossy(t).into_owned()),
            other => Err(wrong(other, "text")),
        }
    }
}
impl FromCell for Vec<u8> {
    fn from_cell(c: Cell<'_>) -> Result<Self, StoreError> {
        match c {
            Cell::Text(t) => Ok(t.to_vec()),
            other => Err(wrong(other, "bytes")),
        }
    }
}
impl<T: FromCell> FromCell for Option<T> {
    fn from_cell(c: Cell<'_>) -> Result<Self, StoreError> {
        match c {
            Cell::Null => Ok(None),
            other => T::from_cell(other).map(Some),
        }
    }
}

pub struct Row<'r>(&'r postgres::Row);

impl Row<'_> {
    pub fn get<T: FromCell>(&self, i: usize) -> Result<T, StoreError> {
        T::from_cell(cell(self.0, i)?)
    }
}

pub trait OptionalExtension<T> {
    fn optional(self) -> Result<Option<T>, StoreError>;
}

impl<T> OptionalExtension<T> for Result<T, StoreError> {
    fn optional(self) -> Result<Option<T>, StoreError> {
        match self {
            Ok(v) => Ok(Some(v)),
            Err(StoreError::Database(m)) if m == NO_ROWS => Ok(None),
            Err(e) => Err(e),
        }
    }
}

/// A statement bound to its connection.
pub struct Stmt<'c> {
    exec: &'c PgExec,
    sql: String,
}

impl Stmt<'_> {
    pub fn query_map<T>(
        &mut self,
        params: impl IntoParams,
        mut f: impl FnMut(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<std::vec::IntoIter<Result<T, StoreError>>, StoreError> {
        let rows = self.exec.rows(&self.sql, &params.into_params())?;
        Ok(rows
            .iter()
            .map(|r| f(&Row(r)))
            .collect::<Vec<_>>()
            .into_iter())
    }

    pub fn execute(&mut self, params: impl IntoParams) -> Result<usize, StoreError> {
        self.exec.execute_values(&self.sql, &params.into_params())
    }
}

impl PgExec {
    pub fn prepare_cached(&self, sql: &str) -> Result<Stmt<'_>, StoreError> {
        Ok(Stmt {
            exec: self,
            sql: sql.to_owned(),
        })
    }

    /// Runs a statement; returns the number of rows changed.
    pub fn execute(&self, sql: &str, params: impl IntoParams) -> Result<usize, StoreError> {
        self.execute_values(sql, &params.into_params())
    }

    pub fn prepare(&self, sql: &str) -> Result<Stmt<'_>, StoreError> {
        self.prepare_cached(sql)
    }

    pub fn query_row<T>(
        &self,
        sql: &str,
        params: impl IntoParams,
        f: impl FnOnce(&Row<'_>) -> Result<T, StoreError>,
    ) -> Result<T, StoreError> {
        let rows = self.rows(sql, &params.into_params())?;
        match rows.first() {
            Some(r) => f(&Row(r)),
            None => Err(StoreError::Database(NO_ROWS.into())),
        }
    }

    /// The id the last INSERT into an identity column took, in this session.
    pub fn last_insert_rowid(&self) -> Result<i64, StoreError> {
        self.query_row("SELECT lastval()", params![], |r| r.get(0))
    }

    /// BEGIN now; ROLLBACK on drop unless [`Tx::commit`]ted.
    pub fn transaction(&self) -> Result<Tx<'_>, StoreError> {
        self.batch("BEGIN")?;
        Ok(Tx {
            exec: self,
            done: false,
        })
    }
}

pub struct Tx<'c> {
    exec: &'c PgExec,
    done: bool,
}

impl std::ops::Deref for Tx<'_> {
    type Target = PgExec;
    fn deref(&self) -> &PgExec {
        self.exec
    }
}

impl Tx<'_> {
    pub fn commit(mut self) -> Result<(), StoreError> {
        self.done = true;
        self.exec.batch("COMMIT")
    }
}

impl Drop for Tx<'_> {
    fn drop(&mut self) {
        if !self.done {
            let _ = self.exec.batch("ROLLBACK");
        }
    }
}

/// Reading one column of a raw row (for tests and tools outside this crate).
pub trait FromCellRow {
    fn int(&self, i: usize) -> i64;
}

impl FromCellRow for postgres::Row {
    fn int(&self, i: usize) -> i64 {
        cell(self, i).ok().and_then(Cell::as_i64).unwrap_or(0)
    }
}
