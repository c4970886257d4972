//! The seam between the backend-neutral STA execution and a database engine: run a statement
//! with typed parameters and get typed cells back. A backend implements [`Executor`] over its
//! connection (`store-sqlite` over rusqlite); code in this crate writes its SQL for
//! [`Executor::dialect`], placeholders included, and never names an engine.

use crate::StoreError;
use crate::sql::{Dialect, SqlValue};

pub trait Executor {
    /// The SQL flavour statements must be written in (placeholders `?N` or `$N`, JSON access).
    fn dialect(&self) -> Dialect;
    /// Every row of a query, each as its cells in select-list order.
    fn query_rows(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<Vec<SqlValue>>, StoreError>;
    /// The first column of the first row, `None` when there is no row.
    fn query_first(&self, sql: &str, params: &[SqlValue]) -> Result<Option<SqlValue>, StoreError> {
        Ok(self
            .query_rows(sql, params)?
            .into_iter()
            .next()
            .and_then(|row| row.into_iter().next()))
    }
    /// Runs a statement; returns the number of rows changed.
    fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<usize, StoreError>;
}
