//! The backend side of a write command: [`Writer`] gives `store::command` and
//! `store::deep_insert` (validation, links, cascading inserts, HistoricalLocation rules —
//! backend-neutral) the SQLite connection and this writer's observation hot path.

use super::WriterState;
use super::observations::{create_observations, parse_observation, store_observation};
use crate::executor::SqliteExecutor;
use rusqlite::Connection;
use serde_json::{Map, Value};
use store::command::CommandBackend;
use store::deep_insert::WriteBackend;
use store::executor::{Executor, Flow, RowRef};
use store::sql::{Dialect, SqlValue};
use store::{CommitEvent, NewObservation, RowOutcome, StoreError};

/// The writer's connection and state, for one command.
pub(super) struct Writer<'a> {
    pub conn: &'a Connection,
    pub st: &'a mut WriterState,
}

impl Executor for Writer<'_> {
    fn dialect(&self) -> Dialect {
        Dialect::Sqlite
    }
    fn query_rows(&self, sql: &str, params: &[SqlValue]) -> Result<Vec<Vec<SqlValue>>, StoreError> {
        SqliteExecutor(self.conn).query_rows(sql, params)
    }
    fn query_each(
        &self,
        sql: &str,
        params: &[SqlValue],
        visit: &mut dyn FnMut(&dyn RowRef) -> Result<Flow, StoreError>,
    ) -> Result<(), StoreError> {
        SqliteExecutor(self.conn).query_each(sql, params, visit)
    }
    fn execute(&self, sql: &str, params: &[SqlValue]) -> Result<usize, StoreError> {
        SqliteExecutor(self.conn).execute(sql, params)
    }
}

impl WriteBackend for Writer<'_> {
    fn insert_observation(
        &mut self,
        body: &Map<String, Value>,
        datastream: i64,
        feature: Option<i64>,
        ev: &mut Vec<CommitEvent>,
    ) -> Result<i64, StoreError> {
        let input = parse_observation(body, datastream, feature)?;
        Ok(store_observation(self.conn, self.st, input, ev)?.0)
    }
    fn check_time(&self, start: i64) -> Result<(), StoreError> {
        self.st.time.check(start)
    }
}

impl CommandBackend for Writer<'_> {
    fn create_observations(
        &mut self,
        body: &Value,
        ev: &mut Vec<CommitEvent>,
    ) -> Result<Vec<RowOutcome>, StoreError> {
        create_observations(self.conn, self.st, body, ev)
    }
    fn insert_observations(
        &mut self,
        rows: Vec<NewObservation>,
        ev: &mut Vec<CommitEvent>,
    ) -> Result<Vec<RowOutcome>, StoreError> {
        let mut out = Vec::with_capacity(rows.len());
        for row in rows {
            out.push(
                match store_observation(self.conn, self.st, row.into(), ev) {
                    Ok(r) => Ok(r),
                    Err(StoreError::Sta(e)) => Err(e.to_string()),
                    Err(other) => return Err(other),
                },
            );
        }
        Ok(out)
    }
}
