//! [`store::executor::Executor`] over a rusqlite connection: what the backend-neutral execution
//! in `store` runs its SQL through. Statements are prepared through the connection's cache, as
//! the code that used rusqlite directly did.

use crate::error::Db;
use crate::rows::to_sql_values;
use rusqlite::types::ValueRef;
use rusqlite::{Connection, params_from_iter};
use store::StoreError;
use store::executor::Executor;
use store::sql::{Dialect, SqlValue};

/// A borrowed connection (or transaction, through deref) as an [`Executor`].
pub struct SqliteExecutor<'c>(pub &'c Connection);

fn cell(v: ValueRef<'_>) -> SqlValue {
    match v {
        ValueRef::Null => SqlValue::Null,
        ValueRef::Integer(i) => SqlValue::Int(i),
        ValueRef::Real(f) => SqlValue::Float(f),
        ValueRef::Text(t) => SqlValue::Text(String::from_utf8_lossy(t).into_owned()),
        // No STA column is a blob; hex keeps such a value visible rather than dropping it.
        ValueRef::Blob(b) => SqlValue::Text(b.iter().map(|x| format!("{x:02x}")).collect()),
    }
}

impl Executor for SqliteExecutor<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }

    fn query_rows(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<Vec<SqlValue>>, StoreError> {
        let mut stmt = self.0.prepare_cached(sql).db()?;
        let width = stmt.column_count();
        let rows = stmt
            .query_map(params_from_iter(to_sql_values(params)), |r| {
                (0..width).map(|i| r.get_ref(i).map(cell)).collect()
            })
            .db()?;
        rows.collect::<Result<_, _>>().db()
    }

    fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<usize, StoreError> {
        self.0
            .prepare_cached(sql)
            .db()?
            .execute(params_from_iter(to_sql_values(params)))
            .db()
    }
}
