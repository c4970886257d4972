//! Read connections: a read holds its permit as long as its connection is out of the pool, and
//! SQLite's progress handler stops it when its client leaves, when it runs past the statement
//! timeout, or when the store closes — no abandoned query keeps a connection.

use super::SqliteStore;
use crate::error::Db;
use rusqlite::Connection;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Instant;
use store::StoreError;

/// Sets the read's cancel flag when the request future is dropped before the read finished
/// (the client went away): the progress handler then interrupts the query.
struct CancelOnDrop(Arc<AtomicBool>);

impl Drop for CancelOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Why a read's progress handler stopped it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Stop {
    Cancelled,
    Closing,
    Deadline,
}

/// SQLite VM steps between two looks at the cancel flags and the clock: cheap (a few atomic
/// loads and one clock read per thousand steps) and well under a millisecond apart.
const PROGRESS_STEPS: i32 = 1_000;

impl SqliteStore {
    /// Runs `f` on a read connection. The permit is held for as long as the connection is out of
    /// the pool, so the pool is never empty while a permit is free; a read whose client leaves,
    /// that runs past the statement timeout, or that is running when the store closes is
    /// interrupted by SQLite's progress handler, so no abandoned query keeps a connection.
    pub(crate) async fn with_reader<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        if self.closing.load(Ordering::Relaxed) {
            return Err(StoreError::Closed);
        }
        let permit = self
            .reader_permits
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| StoreError::Closed)?;
        let cancelled = Arc::new(AtomicBool::new(false));
        let _cancel_on_drop = CancelOnDrop(cancelled.clone());
        let pool = self.readers.clone();
        let closing = self.closing.clone();
        let timeout = self.statement_timeout;
        let counters = self.counters.clone();
        tokio::task::spawn_blocking(move || {
            let _permit = permit;
            let mut conn = pool
                .lock()
                .map_err(|_| StoreError::Closed)?
                .pop()
                .ok_or(StoreError::Closed)?;
            let deadline = timeout.map(|t| Instant::now() + t);
            let stop: Arc<Mutex<Option<Stop>>> = Arc::new(Mutex::new(None));
            {
                let stop = stop.clone();
                conn.progress_handler(
                    PROGRESS_STEPS,
                    Some(move || {
                        let why = if cancelled.load(Ordering::Relaxed) {
                            Some(Stop::Cancelled)
                        } else if closing.load(Ordering::Relaxed) {
                            Some(Stop::Closing)
                        } else if deadline.is_some_and(|d| Instant::now() >= d) {
                            Some(Stop::Deadline)
                        } else {
                            None
                        };
                        match why {
                            Some(w) => {
                                if let Ok(mut s) = stop.lock() {
                                    *s = Some(w);
                                }
                                true
                            }
                            None => false,
                        }
                    }),
                ).db()?;
            }
            let result = f(&conn);
            let _ = conn.progress_handler(0, None::<fn() -> bool>);
            if let Ok(mut p) = pool.lock() {
                p.push(conn);
            }
            let why = stop.lock().ok().and_then(|s| *s);
            match (result, why) {
                (Err(StoreError::Interrupted(_)), Some(Stop::Deadline)) => {
                    counters.reads_timed_out.fetch_add(1, Ordering::Relaxed);
                    let ms = timeout.map_or(0, |t| t.as_millis());
                    Err(StoreError::Interrupted(format!(
                        "the query took longer than {ms} ms and was stopped (statement_timeout_ms in [storage]); narrow $filter, $expand or $top"
                    )))
                }
                (Err(StoreError::Interrupted(_)), Some(Stop::Cancelled)) => {
                    counters.reads_cancelled.fetch_add(1, Ordering::Relaxed);
                    Err(StoreError::Interrupted(
                        "the client went away; the query was stopped".into(),
                    ))
                }
                (Err(StoreError::Interrupted(_)), Some(Stop::Closing)) => Err(StoreError::Closed),
                (r, _) => r,
            }
        })
        .await
        .map_err(|e| StoreError::Database(format!("reader task failed: {e}")))?
    }
}
