//! [`SqlRunner`] for [`SqliteStore`]: where the capability stores of `store::sql_stores`
//! (accounts, alerts, review, scenes, typed reads) run on SQLite.

use crate::SqliteStore;
use crate::error::Db;
use crate::executor::SqliteExecutor;
use async_trait::async_trait;
use store::StoreError;
use store::sql_stores::{OnConnection, SqlRunner};

/// The capability stores (`store::sql_stores`: accounts, alerts, review, scenes, typed reads)
/// run on SQLite through this: writes on the writer thread in a transaction of their own,
/// reads on the cancellable reader pool.
#[async_trait]
impl SqlRunner for SqliteStore {
    async fn on_writer<T: Send + 'static, F: OnConnection<T>>(
        &self,
        f: F,
    ) -> Result<T, StoreError> {
        self.exclusive(move |conn| {
            // Dropped without commit (an error): rolled back.
            let tx = conn.transaction().db()?;
            let out = f(&SqliteExecutor(&tx))?;
            tx.commit().db()?;
            Ok(out)
        })
        .await
    }

    async fn on_reader<T: Send + 'static, F: OnConnection<T>>(
        &self,
        f: F,
    ) -> Result<T, StoreError> {
        self.with_reader(move |conn| f(&SqliteExecutor(conn))).await
    }
}
