//! The counters a backend keeps for `/metrics` (`StoreStats`): bumped by its writer after each
//! commit and by its readers, read by `Store::stats`. One set for every backend, so a counter
//! means the same on each.

use crate::{StoreError, StoreStats, UpsertKind, WriteOutcome};
use std::sync::atomic::{AtomicU64, Ordering};

#[derive(Default)]
pub struct StoreCounters {
    pub commits: AtomicU64,
    pub write_commands: AtomicU64,
    pub failed_commands: AtomicU64,
    pub observations_inserted: AtomicU64,
    pub observations_unchanged: AtomicU64,
    pub observations_replaced: AtomicU64,
    /// Commands queued for the writer and not yet taken into a batch.
    pub pending_writes: AtomicU64,
    pub reads_timed_out: AtomicU64,
    pub reads_cancelled: AtomicU64,
}

fn bump(c: &AtomicU64) {
    c.fetch_add(1, Ordering::Relaxed);
}

impl StoreCounters {
    /// Counts one committed batch and what each of its commands came to.
    pub fn committed(&self, results: &[Result<WriteOutcome, StoreError>]) {
        bump(&self.commits);
        for r in results {
            bump(&self.write_commands);
            match r {
                Err(_) => bump(&self.failed_commands),
                Ok(WriteOutcome::Rows(rows)) => {
                    for row in rows.iter().flatten() {
                        bump(match row.1 {
                            UpsertKind::Inserted => &self.observations_inserted,
                            UpsertKind::Unchanged => &self.observations_unchanged,
                            UpsertKind::Replaced => &self.observations_replaced,
                        });
                    }
                }
                Ok(_) => {}
            }
        }
    }

    /// The figures now; `future_refused` is kept by the writer's time policy.
    pub fn stats(&self, future_refused: u64) -> StoreStats {
        let load = |c: &AtomicU64| c.load(Ordering::Relaxed);
        StoreStats {
            commits: load(&self.commits),
            write_commands: load(&self.write_commands),
            failed_commands: load(&self.failed_commands),
            observations_inserted: load(&self.observations_inserted),
            observations_unchanged: load(&self.observations_unchanged),
            observations_replaced: load(&self.observations_replaced),
            pending_writes: load(&self.pending_writes),
            observations_future_refused: future_refused,
            reads_timed_out: load(&self.reads_timed_out),
            reads_cancelled: load(&self.reads_cancelled),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_batch_counts_its_commands_and_rows() {
        let c = StoreCounters::default();
        c.committed(&[
            Ok(WriteOutcome::Rows(vec![
                Ok((1, UpsertKind::Inserted)),
                Ok((2, UpsertKind::Inserted)),
                Ok((1, UpsertKind::Unchanged)),
                Ok((3, UpsertKind::Replaced)),
                Err("row 5: no result".into()),
            ])),
            Err(StoreError::Closed),
        ]);
        let s = c.stats(7);
        assert_eq!((s.commits, s.write_commands, s.failed_commands), (1, 2, 1));
        assert_eq!(
            (
                s.observations_inserted,
                s.observations_unchanged,
                s.observations_replaced
            ),
            (2, 1, 1)
        );
        assert_eq!(s.observations_future_refused, 7);
    }
}
