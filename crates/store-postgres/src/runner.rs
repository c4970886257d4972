//! [`SqlRunner`] for [`PgStore`]: where the capability stores of `store::sql_stores` (accounts,
//! alerts, review, scenes, typed reads) run on PostgreSQL.

use crate::{PgExec, PgStore};
use async_trait::async_trait;
use store::StoreError;
use store::sql_stores::{Announcer, OnConnection, SqlRunner};

/// Ends the transaction a capability store's closure runs in: ROLLBACK unless committed, also
/// when the closure panics.
struct Transaction<'c> {
    conn: &'c PgExec,
    open: bool,
}

impl Transaction<'_> {
    fn begin(conn: &PgExec) -> Result<Transaction<'_>, StoreError> {
        conn.batch("BEGIN")?;
        Ok(Transaction { conn, open: true })
    }

    fn commit(mut self) -> Result<(), StoreError> {
        self.open = false;
        self.conn.batch("COMMIT")
    }
}

impl Drop for Transaction<'_> {
    fn drop(&mut self) {
        if self.open {
            let _ = self.conn.batch("ROLLBACK");
        }
    }
}

/// The capability stores (`store::sql_stores`: accounts, alerts, review, scenes, typed reads)
/// run on PostgreSQL through this: writes on the writer's connection between group commits, in
/// a transaction of their own; reads on the reader pool (with its `statement_timeout`).
#[async_trait]
impl SqlRunner for PgStore {
    async fn on_writer<T: Send + 'static, F: OnConnection<T>>(
        &self,
        f: F,
    ) -> Result<T, StoreError> {
        self.exclusive(move |conn| {
            let tx = Transaction::begin(conn)?;
            let out = f(conn)?;
            tx.commit()?;
            Ok(out)
        })
        .await
    }

    async fn on_reader<T: Send + 'static, F: OnConnection<T>>(
        &self,
        f: F,
    ) -> Result<T, StoreError> {
        self.with_reader(move |conn| f(conn)).await
    }

    fn announcer(&self) -> Option<Announcer> {
        // Alerts are few: announced whether or not another node is heard.
        let a = self.announce.clone()?;
        Some(std::sync::Arc::new(move |ex, events| {
            crate::notify::announce(ex, &a.channel, &a.node, events)
        }))
    }
}
