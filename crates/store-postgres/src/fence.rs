//! Which observation ids are settled when several nodes write.
//!
//! Every node's writer takes observation ids from one sequence inside its transaction, so ids
//! commit in each node's order, not in id order: while node A's batch holding id 7 is in flight,
//! node B's id 8 may already be committed. A reader that moved its position past 8 (the alert
//! engine's saved position, a catch-up) would never look at 7 again.
//!
//! The fence closes that window without ordering the writers. Read the sequence first: every id
//! handed out so far is at or below its value. Then list the writers' transactions in flight
//! (`pg_stat_activity`, by the writers' `application_name`, [`writer_application_name`]). Each
//! writer takes its transaction id before its first observation id (the `BEGIN` of its batch),
//! so a writer still holding an id at or below the value is on that list. Once every listed
//! transaction has ended (its backend shows another transaction id, or none), every id at or
//! below the value is committed or never will be (a resend's unused ids). Other sessions'
//! transactions (a person's `psql`, a report) do not hold the fence up.
//!
//! `pg_stat_activity` shows another session's `backend_xid` only to the same role (or
//! `pg_read_all_stats`): every node connects as one role (docs/postgres.md).

use crate::exec::{Db, PgExec};
use std::collections::VecDeque;
use std::sync::Mutex;
use std::sync::atomic::{AtomicI64, Ordering};
use std::time::{Duration, Instant};
use store::StoreError;
use store::sql::SqlValue;

/// The `application_name` of a deployment's writer sessions: its schema's scope, so two
/// deployments in schemas of one database do not wait for each other.
pub fn writer_application_name(scope: u32) -> String {
    format!("qingshui writer {scope:08x}")
}

/// The statement that opens each writer transaction: the transaction id is taken before any
/// observation id, so a writer holding an id is listed with it (module docs).
pub const WRITER_BEGIN: &str = "BEGIN; SELECT pg_current_xact_id(); ";

/// At most this many fences wait to settle (one per call; the oldest are dropped first).
const PENDING: usize = 64;

/// How often a waiting fence looks at the writers again.
const POLL: Duration = Duration::from_millis(2);

/// The sequence's value and the writers' transactions in flight just after it was read.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Candidate {
    id: i64,
    in_flight: Vec<(i32, String)>,
}

/// Whether every transaction of `earlier` has ended by the time `now` was listed: its backend
/// is gone or runs another transaction.
fn ended(earlier: &[(i32, String)], now: &[(i32, String)]) -> bool {
    earlier.iter().all(|w| !now.contains(w))
}

pub struct Fence {
    app: String,
    pending: Mutex<VecDeque<Candidate>>,
    /// The largest id found settled so far (ids only grow).
    settled: AtomicI64,
}

impl Fence {
    pub fn new(scope: u32) -> Fence {
        Fence {
            app: writer_application_name(scope),
            pending: Mutex::new(VecDeque::new()),
            settled: AtomicI64::new(0),
        }
    }

    fn writers(&self, exec: &PgExec) -> Result<Vec<(i32, String)>, StoreError> {
        let rows = exec.rows(
            "SELECT pid, backend_xid::TEXT FROM pg_stat_activity WHERE application_name = $1 AND backend_xid IS NOT NULL",
            &[SqlValue::Text(self.app.clone())],
        )?;
        rows.iter()
            .map(|r| {
                let pid: i32 = r.try_get(0).db()?;
                let xid: String = r.try_get(1).db()?;
                Ok((pid, xid))
            })
            .collect()
    }

    fn take(&self, exec: &PgExec) -> Result<Candidate, StoreError> {
        // The sequence first, the writers after (module docs); two statements, in this order.
        let rows = exec.rows(
            "SELECT CASE WHEN is_called THEN last_value ELSE 0 END FROM observations_id_seq",
            &[],
        )?;
        let id: i64 = match rows.first() {
            Some(r) => r.try_get(0).db()?,
            None => 0,
        };
        Ok(Candidate {
            id,
            in_flight: self.writers(exec)?,
        })
    }

    fn settle(&self, id: i64) -> i64 {
        self.settled.fetch_max(id, Ordering::Relaxed).max(id)
    }

    /// The largest id known settled now, without waiting: this call's fence when no writer
    /// is in flight, else the largest earlier fence whose writers have ended since (under a
    /// steady load, the previous call's).
    pub fn settled_now(&self, exec: &PgExec) -> Result<i64, StoreError> {
        let now = self.take(exec)?;
        let mut pending = self
            .pending
            .lock()
            .map_err(|_| StoreError::Database("the fence's lock was poisoned".into()))?;
        let mut best = 0;
        pending.retain(|c| {
            if ended(&c.in_flight, &now.in_flight) {
                best = best.max(c.id);
                false
            } else {
                true
            }
        });
        if now.in_flight.is_empty() {
            best = best.max(now.id);
            pending.clear();
        } else {
            if pending.len() >= PENDING {
                pending.pop_front();
            }
            pending.push_back(now);
        }
        Ok(self.settle(best))
    }

    /// This moment's fence, once the writers in flight have ended (at most `timeout`).
    pub fn wait(&self, exec: &PgExec, timeout: Duration) -> Result<i64, StoreError> {
        let started = Instant::now();
        let fence = self.take(exec)?;
        let mut now = fence.in_flight.clone();
        while !now.is_empty() && !ended(&fence.in_flight, &now) {
            if started.elapsed() >= timeout {
                return Err(StoreError::Database(format!(
                    "a writer's transaction has been in flight for more than {} s: observations committed after it cannot be read in order yet",
                    timeout.as_secs()
                )));
            }
            std::thread::sleep(POLL);
            now = self.writers(exec)?;
        }
        Ok(self.settle(fence.id))
    }
}

/// Another node's writer caught in the middle of its batch, for the tests of the fence (and
/// the alert engine's sweep on top of it): a connection of its own, named as the deployment's
/// writers are, that takes a transaction id, then an observation id, inserts one observation
/// under it and holds the transaction open until [`InFlightWriter::commit`]. With `announce` it
/// queues the batch's notification in the transaction as a node does (other nodes' commit
/// streams get it on commit); without, what it commits reaches no commit stream, as when a
/// notification is late or lost.
pub struct InFlightWriter {
    /// The observation id it holds.
    pub id: i64,
    commit: std::sync::mpsc::Sender<()>,
    thread: std::thread::JoinHandle<Result<(), StoreError>>,
}

impl InFlightWriter {
    /// Starts it on `url` (a deployment's schema, whose `scope` names the writers): one
    /// observation of `datastream_id` at `time` (microseconds) with `result`, of the
    /// datastream's feature of interest (the datastream must have an observation already).
    pub fn start(
        url: &str,
        scope: u32,
        datastream_id: i64,
        time: i64,
        result: f64,
        announce: bool,
    ) -> Result<InFlightWriter, StoreError> {
        let url = url.to_owned();
        let (id_tx, id_rx) = std::sync::mpsc::channel();
        let (commit, commit_rx) = std::sync::mpsc::channel::<()>();
        let thread = std::thread::spawn(move || -> Result<(), StoreError> {
            let mut c = crate::connect(&url)?;
            let begun = (|| -> Result<i64, postgres::Error> {
                c.batch_execute(&format!(
                    "SET application_name = '{}'; {WRITER_BEGIN}",
                    writer_application_name(scope)
                ))?;
                let id: i64 = c
                    .query_one("SELECT nextval('observations_id_seq')", &[])?
                    .get(0);
                c.execute(
                    "INSERT INTO observations (datastream_id, phenomenon_time_start, id, result, feature_id)
                     SELECT $1, $2, $3, $4, (SELECT feature_id FROM observations WHERE datastream_id = $1 LIMIT 1)",
                    &[&datastream_id, &time, &id, &result],
                )?;
                if announce {
                    let event = store::CommitEvent::Observation(store::ObservationEvent {
                        id,
                        datastream_id,
                        phenomenon_time: time,
                        result: serde_json::json!(result),
                        result_quality: None,
                        kind: store::UpsertKind::Inserted,
                    });
                    let channel = crate::notify::channel(scope);
                    for p in crate::notify::payloads("in-flight-writer", &[event]) {
                        c.execute("SELECT pg_notify($1, $2)", &[&channel, &p])?;
                    }
                }
                Ok(id)
            })();
            let id = match begun {
                Ok(id) => id,
                Err(e) => {
                    let _ = id_tx.send(Err(crate::exec::to_store_error(e)));
                    return Ok(());
                }
            };
            let _ = id_tx.send(Ok(id));
            let _ = commit_rx.recv();
            c.batch_execute("COMMIT").db()
        });
        let id = id_rx
            .recv()
            .map_err(|_| StoreError::Database("the in-flight writer stopped".into()))??;
        Ok(InFlightWriter { id, commit, thread })
    }

    /// Commits its transaction.
    pub fn commit(self) -> Result<(), StoreError> {
        let _ = self.commit.send(());
        self.thread
            .join()
            .map_err(|_| StoreError::Database("the in-flight writer panicked".into()))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(pid: i32, xid: &str) -> (i32, String) {
        (pid, xid.to_owned())
    }

    #[test]
    fn a_fence_settles_when_each_listed_transaction_ended() {
        let earlier = [w(10, "700"), w(11, "702")];
        // Both still running.
        assert!(!ended(&earlier, &[w(10, "700"), w(11, "702")]));
        // One committed and its writer began the next batch; the other still runs.
        assert!(!ended(&earlier, &[w(10, "705"), w(11, "702")]));
        // Both moved on (or their backends went away).
        assert!(ended(&earlier, &[w(10, "705")]));
        assert!(ended(&earlier, &[]));
        // Nothing was in flight: settled at once.
        assert!(ended(&[], &[w(12, "800")]));
    }
}
