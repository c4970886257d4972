//! The seam between the backend-neutral STA execution and a database engine: run a statement
//! with typed parameters and visit typed cells. A backend implements [`Executor`] over its
//! connection (`store-sqlite` over rusqlite); code in this crate writes its SQL for
//! [`Executor::dialect`], placeholders included, and never names an engine. Cancellation and
//! statement timeouts stay in the backend: an interrupted statement surfaces as
//! [`StoreError::Interrupted`] from [`Executor::query_each`].

use crate::StoreError;
use crate::sql::{Dialect, SqlValue};

/// One cell as the engine holds it, borrowed: reading a row allocates nothing until the caller
/// decides to keep a value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Cell<'a> {
    Null,
    Int(i64),
    Float(f64),
    /// UTF-8 text (a backend hands over its bytes; invalid UTF-8 is decoded lossily by readers).
    Text(&'a [u8]),
}

impl Cell<'_> {
    pub fn as_i64(self) -> Option<i64> {
        match self {
            Cell::Int(i) => Some(i),
            // Times and ids are integers; a REAL there comes from arithmetic on them.
            Cell::Float(f) => Some(f as i64),
            _ => None,
        }
    }

    pub fn to_value(self) -> SqlValue {
        match self {
            Cell::Null => SqlValue::Null,
            Cell::Int(i) => SqlValue::Int(i),
            Cell::Float(f) => SqlValue::Float(f),
            Cell::Text(t) => SqlValue::Text(String::from_utf8_lossy(t).into_owned()),
        }
    }
}

/// A row under the cursor: cells by select-list position.
pub trait RowRef {
    fn width(&self) -> usize;
    fn cell(&self, i: usize) -> Result<Cell<'_>, StoreError>;
}

/// What a row visitor wants next.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Flow {
    Continue,
    /// Stop reading; the statement is finished early (a page is full).
    Stop,
}

pub trait Executor {
    /// The SQL flavour statements must be written in (placeholders `?N` or `$N`, JSON access).
    fn dialect(&self) -> Dialect;
    /// Visits the rows of a query in order, each borrowed for the duration of the call, until
    /// the visitor says [`Flow::Stop`] or returns an error (which is passed on).
    fn query_each(
        &self,
        sql: &str,
        params: &[SqlValue],
        visit: &mut dyn FnMut(&dyn RowRef) -> Result<Flow, StoreError>,
    ) -> Result<(), StoreError>;
    /// Every row of a query, each as its cells in select-list order (for small results).
    fn query_rows(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<Vec<SqlValue>>, StoreError> {
        let mut out = Vec::new();
        self.query_each(sql, params, &mut |r| {
            let row = (0..r.width())
                .map(|i| r.cell(i).map(Cell::to_value))
                .collect::<Result<_, _>>()?;
            out.push(row);
            Ok(Flow::Continue)
        })?;
        Ok(out)
    }
    /// The first column of the first row, `None` when there is no row.
    fn query_first(&self, sql: &str, params: &[SqlValue]) -> Result<Option<SqlValue>, StoreError> {
        let mut first = None;
        self.query_each(sql, params, &mut |r| {
            if r.width() > 0 {
                first = Some(r.cell(0)?.to_value());
            }
            Ok(Flow::Stop)
        })?;
        Ok(first)
    }
    /// Runs a statement; returns the number of rows changed.
    fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<usize, StoreError>;
}
