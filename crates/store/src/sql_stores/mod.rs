//! The capability stores written once, in SQL both engines run: accounts ([`crate::accounts`]),
//! alerts ([`crate::alerts`]), data review ([`crate::review`]), scenes ([`crate::scenes`]) and
//! the server's typed reads ([`typed`]). A backend implements [`SqlRunner`] — how it runs a
//! closure over an [`Executor`] on its writer (in one transaction, between group commits) or on
//! a reader — and gets [`AccountStore`](crate::accounts::AccountStore),
//! [`AlertStore`](crate::alerts::AlertStore), [`ReviewStore`](crate::review::ReviewStore) and
//! [`SceneStore`](crate::scenes::SceneStore) from the blanket impls here; its `Store` impl calls
//! the [`typed`] functions on a reader.
//!
//! The SQL is written for both engines: `?N` placeholders (PostgreSQL's executor rewrites them),
//! `INSERT … RETURNING id` (never `last_insert_rowid()`/`lastval()`), `CAST(? AS …)` where a
//! parameter's type must be spelled out. What differs is chosen by [`Executor::dialect`] in one
//! function each (`scenes::overlay_param`, the JSON member of `typed::keyed_entities`). The
//! tables stay each backend's DDL (its migrations).

use crate::StoreError;
use crate::executor::{Cell, Executor, Flow, RowRef};
use crate::sql::SqlValue;
use async_trait::async_trait;

/// `[SqlValue::from(a), …]`: a statement's parameters from plain Rust values.
macro_rules! params {
    ($($v:expr),+ $(,)?) => {
        [$($crate::sql::SqlValue::from($v)),+]
    };
}

pub mod accounts;
pub mod alerts;
#[cfg(feature = "conformance")]
pub mod conformance;
pub mod review;
pub mod scenes;
pub mod typed;

/// A SQL backend as the capability stores need it: somewhere to run a closure on the connection
/// that writes, and on one that reads. Both run the closure on a thread that may block.
#[async_trait]
pub trait SqlRunner: Send + Sync + 'static {
    /// Runs `f` on the writer's connection between group commits, inside one transaction that
    /// commits when `f` returns `Ok` and rolls back otherwise.
    async fn on_writer<T: Send + 'static, F: OnConnection<T>>(&self, f: F)
    -> Result<T, StoreError>;
    /// Runs `f` on a read connection (with the backend's statement timeout and cancellation).
    async fn on_reader<T: Send + 'static, F: OnConnection<T>>(&self, f: F)
    -> Result<T, StoreError>;
    /// How to tell the other nodes sharing this database about a change from inside the
    /// writer's transaction (delivered only when it commits); `None`: nobody else to tell.
    fn announcer(&self) -> Option<Announcer> {
        None
    }
}

/// Announces commit events to the other nodes, in the transaction `Executor` is in.
pub type Announcer = std::sync::Arc<
    dyn Fn(&dyn Executor, &[crate::CommitEvent]) -> Result<(), StoreError> + Send + Sync,
>;

/// What [`SqlRunner`] runs: a closure over a connection, sent to the thread that owns it.
pub trait OnConnection<T>: FnOnce(&dyn Executor) -> Result<T, StoreError> + Send + 'static {}

impl<T, F: FnOnce(&dyn Executor) -> Result<T, StoreError> + Send + 'static> OnConnection<T> for F {}

impl From<i64> for SqlValue {
    fn from(v: i64) -> Self {
        SqlValue::Int(v)
    }
}

impl From<bool> for SqlValue {
    fn from(v: bool) -> Self {
        SqlValue::Int(v as i64)
    }
}

impl From<String> for SqlValue {
    fn from(v: String) -> Self {
        SqlValue::Text(v)
    }
}

impl From<&str> for SqlValue {
    fn from(v: &str) -> Self {
        SqlValue::Text(v.to_owned())
    }
}

impl From<&String> for SqlValue {
    fn from(v: &String) -> Self {
        SqlValue::Text(v.clone())
    }
}

impl<T: Into<SqlValue>> From<Option<T>> for SqlValue {
    fn from(v: Option<T>) -> Self {
        v.map_or(SqlValue::Null, Into::into)
    }
}

/// A value taken from a cell; a cell of another kind is a database error (the schema and the
/// code disagree), not a silent default.
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

impl FromCell for String {
    fn from_cell(c: Cell<'_>) -> Result<Self, StoreError> {
        match c {
            Cell::Text(t) => Ok(String::from_utf8_lossy(t).into_owned()),
            other => Err(wrong(other, "text")),
        }
    }
}

/// A BLOB (SQLite) or `bytea` (PostgreSQL) column: both executors hand its bytes over as
/// [`Cell::Text`].
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

/// The row under the cursor, read by position.
pub struct Row<'r>(&'r dyn RowRef);

impl Row<'_> {
    pub fn get<T: FromCell>(&self, i: usize) -> Result<T, StoreError> {
        T::from_cell(self.0.cell(i)?)
    }

    pub fn cell(&self, i: usize) -> Result<Cell<'_>, StoreError> {
        self.0.cell(i)
    }

    /// A JSON text column as a value; what does not parse is `null` (as the stores always read
    /// their own JSON columns).
    pub fn json(&self, i: usize) -> Result<serde_json::Value, StoreError> {
        Ok(match self.0.cell(i)? {
            Cell::Text(t) => serde_json::from_slice(t).unwrap_or(serde_json::Value::Null),
            _ => serde_json::Value::Null,
        })
    }
}

/// Every row of a query, each made into a `T` while its cells are borrowed.
pub fn all<T>(
    ex: &dyn Executor,
    sql: &str,
    params: &[SqlValue],
    f: impl Fn(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Vec<T>, StoreError> {
    let mut out = Vec::new();
    ex.query_each(sql, params, &mut |r| {
        out.push(f(&Row(r))?);
        Ok(Flow::Continue)
    })?;
    Ok(out)
}

/// The first row of a query, `None` when there is none.
pub fn first<T>(
    ex: &dyn Executor,
    sql: &str,
    params: &[SqlValue],
    f: impl FnOnce(&Row<'_>) -> Result<T, StoreError>,
) -> Result<Option<T>, StoreError> {
    let mut f = Some(f);
    let mut out = None;
    ex.query_each(sql, params, &mut |r| {
        if let Some(f) = f.take() {
            out = Some(f(&Row(r))?);
        }
        Ok(Flow::Stop)
    })?;
    Ok(out)
}

/// Runs an `INSERT … RETURNING id` to its end and answers the id.
pub fn insert_returning_id(
    ex: &dyn Executor,
    sql: &str,
    params: &[SqlValue],
) -> Result<i64, StoreError> {
    all(ex, sql, params, |r| r.get::<i64>(0))?
        .into_iter()
        .next()
        .ok_or_else(|| StoreError::Database("the INSERT returned no id".into()))
}
