//! The write path every source uses: [`Ingest`] stores observations and answers only once the
//! group commit holding them is durable, so a source acknowledges its device only after that.
//! Ingest rules shared by every source (the future-time refusal of `[ingest] clock_tolerance_s`)
//! live here, not in the protocols.

use crate::accounts::audit::AuditLog;
use std::sync::Arc;
use store::accounts::AuditRecord;
use store::{NewObservation, Store, WriteCommand, WriteOutcome};

/// 1900-01-01T00:00:00Z and 2201-01-01T00:00:00Z in µs: years outside 1900–2200 are refused.
const EARLIEST_MICROS: i64 = -2_208_988_800_000_000;
const AFTER_LATEST_MICROS: i64 = 7_289_654_400_000_000;

/// Why a value time cannot be believed (docs/hj212.md, "Time sanity").
#[derive(Debug, Clone, PartialEq)]
pub enum TimeRefusal {
    /// A value time later than now + the tolerance, or after 2200: the device's clock is ahead.
    Future { micros: i64 },
    /// A value time before 1900.
    TooEarly { micros: i64 },
}

/// The shared time rule: every instant must lie in 1900–2200 and not after now + `tolerance_s`.
pub fn check_instants(
    times: impl IntoIterator<Item = i64>,
    now_micros: i64,
    tolerance_s: u64,
) -> Result<(), TimeRefusal> {
    let tolerance = i64::try_from(tolerance_s.saturating_mul(1_000_000)).unwrap_or(i64::MAX);
    let latest = now_micros
        .saturating_add(tolerance)
        .min(AFTER_LATEST_MICROS - 1);
    for t in times {
        if t > latest {
            return Err(TimeRefusal::Future { micros: t });
        }
        if t < EARLIEST_MICROS {
            return Err(TimeRefusal::TooEarly { micros: t });
        }
    }
    Ok(())
}

/// Why observations were not stored; the source must not acknowledge them (the device resends).
#[derive(Debug, thiserror::Error)]
pub enum IngestError {
    #[error("value time refused: {0:?}")]
    Time(TimeRefusal),
    #[error("the store rejected {failed} of the observations (first: {first})")]
    Rejected { failed: usize, first: String },
    #[error("the store failed the write: {0}")]
    Store(String),
    #[error("unexpected store outcome for InsertObservations: {0}")]
    Unexpected(String),
}

/// A source's handle to the write path (cheap to clone).
#[derive(Clone)]
pub struct Ingest {
    store: Arc<dyn Store>,
    clock_tolerance_s: u64,
    /// Where a source records what a device did (`device:<station>` entries).
    audit: Option<AuditLog>,
}

impl Ingest {
    pub fn new(store: Arc<dyn Store>, clock_tolerance_s: u64) -> Ingest {
        Ingest {
            store,
            clock_tolerance_s,
            audit: None,
        }
    }

    /// The same write path, with devices' sessions recorded in the audit trail.
    pub fn with_audit(mut self, audit: AuditLog) -> Ingest {
        self.audit = Some(audit);
        self
    }

    /// Records a device's action in the audit trail (nothing without one).
    pub fn audit(&self, entry: AuditRecord) {
        if let Some(a) = &self.audit {
            a.record(entry);
        }
    }

    /// `[ingest] clock_tolerance_s`.
    pub fn clock_tolerance_s(&self) -> u64 {
        self.clock_tolerance_s
    }

    /// The store, for what is not an observation (creating a missing datastream).
    pub fn store(&self) -> &Arc<dyn Store> {
        &self.store
    }

    /// The shared time rule against the wall clock, for a source that checks before it
    /// creates anything (HJ 212 does, to count and answer the refusal its own way).
    pub fn check_times(&self, times: impl IntoIterator<Item = i64>) -> Result<(), TimeRefusal> {
        check_instants(times, store::clock::now_micros(), self.clock_tolerance_s)
    }

    /// Stores `rows` in one write; returns how many once their group commit is durable. All or
    /// nothing as the source sees it: one refused row fails the call.
    pub async fn observations(&self, rows: Vec<NewObservation>) -> Result<u64, IngestError> {
        if rows.is_empty() {
            return Ok(0);
        }
        let times = rows
            .iter()
            .flat_map(|r| std::iter::once(r.phenomenon_time).chain(r.result_time));
        self.check_times(times).map_err(IngestError::Time)?;
        let count = rows.len() as u64;
        match self
            .store
            .write(WriteCommand::InsertObservations(rows))
            .await
        {
            Ok(WriteOutcome::Rows(results)) => {
                let mut failed = results.iter().filter_map(|r| r.as_ref().err());
                match failed.next() {
                    Some(first) => Err(IngestError::Rejected {
                        failed: 1 + failed.count(),
                        first: first.clone(),
                    }),
                    None => Ok(count),
                }
            }
            Ok(other) => Err(IngestError::Unexpected(format!("{other:?}"))),
            Err(e) => Err(IngestError::Store(e.to_string())),
        }
    }
}
