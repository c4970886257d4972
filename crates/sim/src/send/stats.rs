//! Counters shared by the senders, read by the command line for its progress lines.

use std::sync::atomic::{AtomicU64, Ordering};

/// What the senders did so far. All counters only grow.
#[derive(Debug, Default)]
pub struct SendStats {
    /// HJ 212 frames written, resends included.
    pub frames_sent: AtomicU64,
    /// Frames acknowledged by a 9014 with their QN.
    pub answered: AtomicU64,
    /// Answer timeouts (each one is followed by a resend or a failure).
    pub timeouts: AtomicU64,
    /// Resends of a frame with the same QN.
    pub resends: AtomicU64,
    /// TCP connections opened.
    pub connects: AtomicU64,
    /// Connections lost and re-established.
    pub reconnects: AtomicU64,
    /// Uploads given up after every resend (kept by the logger for later).
    pub failed: AtomicU64,
    /// Uploads held back while a station was offline.
    pub held_offline: AtomicU64,
    /// Held uploads delivered later (the backfill after an outage or a failure).
    pub backfilled: AtomicU64,
    /// Observations written through SensorThings (history and manual samples).
    pub sta_rows: AtomicU64,
    /// SensorThings rows the server answered with "error".
    pub sta_row_errors: AtomicU64,
}

/// A plain copy of [`SendStats`].
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StatsSnapshot {
    pub frames_sent: u64,
    pub answered: u64,
    pub timeouts: u64,
    pub resends: u64,
    pub connects: u64,
    pub reconnects: u64,
    pub failed: u64,
    pub held_offline: u64,
    pub backfilled: u64,
    pub sta_rows: u64,
    pub sta_row_errors: u64,
}

impl SendStats {
    pub fn snapshot(&self) -> StatsSnapshot {
        let get = |c: &AtomicU64| c.load(Ordering::Relaxed);
        StatsSnapshot {
            frames_sent: get(&self.frames_sent),
            answered: get(&self.answered),
            timeouts: get(&self.timeouts),
            resends: get(&self.resends),
            connects: get(&self.connects),
            reconnects: get(&self.reconnects),
            failed: get(&self.failed),
            held_offline: get(&self.held_offline),
            backfilled: get(&self.backfilled),
            sta_rows: get(&self.sta_rows),
            sta_row_errors: get(&self.sta_row_errors),
        }
    }
}
