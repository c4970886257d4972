//! [`store::executor::Executor`] over a rusqlite connection: what the backend-neutral execution
//! in `store` runs its SQL through. Statements are prepared through the connection's cache; rows
//! are visited in place (cells borrowed from SQLite), never collected here. Interruption by the
//! reader's progress handler surfaces as `StoreError::Interrupted` through [`Db::db`].

use crate::error::Db;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, params_from_iter};
use store::StoreError;
use store::executor::{Cell, Executor, Flow, RowRef};
use store::sql::{Dialect, SqlValue};

/// A borrowed connection (or transaction, through deref) as an [`Executor`].
pub struct SqliteExecutor<'c>(pub &'c Connection);

pub fn to_sql_values(params: &[SqlValue]) -> Vec<rusqlite::types::Value> {
    params
        .iter()
        .map(|p| match p {
            SqlValue::Null => rusqlite::types::Value::Null,
            SqlValue::Int(i) => rusqlite::types::Value::Integer(*i),
            SqlValue::Float(f) => rusqlite::types::Value::Real(*f),
            SqlValue::Text(s) => rusqlite::types::Value::Text(s.clone()),
        })
        .collect()
}

struct SqliteRow<'r, 's>(&'r rusqlite::Row<'s>, usize);

impl RowRef for SqliteRow<'_, '_> {
    fn width(&self) -> usize {
        self.1
    }

    fn cell(&self, i: usize) -> Result<Cell<'_>, StoreError> {
        Ok(cell_of(self.0.get_ref(i).db()?))
    }
}

/// SQLite's borrowed value as the neutral [`Cell`].
pub fn cell_of(v: ValueRef<'_>) -> Cell<'_> {
    match v {
        ValueRef::Null => Cell::Null,
        ValueRef::Integer(i) => Cell::Int(i),
        ValueRef::Real(f) => Cell::Float(f),
        // No STA column is a blob; its bytes read as (lossy) text rather than vanish.
        ValueRef::Text(t) | ValueRef::Blob(t) => Cell::Text(t),
    }
}

impl Executor for SqliteExecutor<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn query_each(
        &self,
        sql: &str,
        params: &[SqlValue],
        visit: &mut dyn FnMut(&dyn RowRef) -> Result<Flow, StoreError>,
    ) -> Result<(), StoreError> {
        let mut stmt = self.0.prepare_cached(sql).db()?;
        let width = stmt.column_count();
        let mut rows = stmt.query(params_from_iter(to_sql_values(params))).db()?;
        while let Some(r) = rows.next().db()? {
            if visit(&SqliteRow(r, width))? == Flow::Stop {
                break;
            }
        }
        Ok(())
    }

    fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<usize, StoreError> {
        self.0
            .prepare_cached(sql)
            .db()?
            .execute(params_from_iter(to_sql_values(params)))
            .db()
    }
}
