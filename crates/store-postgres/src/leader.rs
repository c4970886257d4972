//! Leadership by a PostgreSQL session-level advisory lock: the node holding it runs what must
//! run once (the alert engine). The lock lives as long as the holder's connection, so when that
//! node dies PostgreSQL releases it and another node's next try (every few seconds) takes over.

use crate::exec::PgExec;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use store::StoreError;
use store::sql::SqlValue;

/// Lock key of the alert engine ("qs" "alerts").
pub const ALERT_ENGINE: i64 = 0x7173_616c_6572;

/// A dedicated connection that tries for, and then holds, one advisory lock.
pub struct Leadership {
    url: String,
    key: i64,
    conn: Option<PgExec>,
    held: bool,
    /// Mirrors `held` for readers elsewhere (health).
    shown: Option<Arc<AtomicBool>>,
}

impl Leadership {
    pub fn new(url: &str, key: i64, shown: Option<Arc<AtomicBool>>) -> Self {
        Leadership {
            url: url.to_owned(),
            key,
            conn: None,
            held: false,
            shown,
        }
    }

    /// Tries once; true while this node holds the lock (a lost connection loses it).
    pub fn try_acquire(&mut self) -> Result<bool, StoreError> {
        let r = self.try_once();
        if r.is_err() {
            self.held = false;
            self.conn = None;
        }
        if let Some(s) = &self.shown {
            s.store(self.held, Ordering::Relaxed);
        }
        r
    }

    fn try_once(&mut self) -> Result<bool, StoreError> {
        if self.conn.as_ref().is_some_and(PgExec::is_closed) {
            self.conn = None;
            self.held = false;
        }
        if self.held {
            // Still ours? A cheap round trip notices a dead connection.
            let alive = self
                .conn
                .as_ref()
                .is_some_and(|c| c.batch("SELECT 1").is_ok());
            if alive {
                return Ok(true);
            }
            self.conn = None;
            self.held = false;
        }
        if self.conn.is_none() {
            self.conn = Some(PgExec::new(crate::connect(&self.url)?));
        }
        let Some(conn) = &self.conn else {
            return Ok(false);
        };
        let rows = conn.rows(
            "SELECT pg_try_advisory_lock($1)",
            &[SqlValue::Int(self.key)],
        )?;
        self.held = rows
            .first()
            .and_then(|r| crate::exec::int(r, 0).ok().flatten())
            .is_some_and(|v| v != 0);
        Ok(self.held)
    }

    pub fn held(&self) -> bool {
        self.held
    }
}

impl store::Leadership for Leadership {
    fn try_acquire(&mut self) -> Result<bool, StoreError> {
        Leadership::try_acquire(self)
    }
}

// The blocking client must not be dropped on an async runtime's thread.
impl Drop for Leadership {
    fn drop(&mut self) {
        if let Some(conn) = self.conn.take() {
            let _ = std::thread::spawn(move || drop(conn)).join();
        }
    }
}
