//! `alerts` — the alert logic of qingshui, pure: no IO, no clock, no async.
//!
//! * [`model`]: alerts, severities, states and history entries as stored and served;
//! * [`lifecycle`]: the alert state machine (raise, update, acknowledge, clear, comment);
//! * [`debounce`]: the duration + hysteresis filter every threshold rule uses;
//! * [`rules`]: the rules (exceedance of the target class, trend towards the limit, sensor
//!   faults, bloom risk) evaluated one observation at a time, and the offline tracker;
//! * [`trend`]: the least-squares projection of the trend rule;
//! * [`notify`]: per-severity routing and the rate limiter that turns a storm into a digest.
//!
//! Times are UTC microseconds (the store's unit) unless a name says otherwise. The server's
//! engine feeds committed observations in and persists and sends what comes out.

pub mod debounce;
pub mod lifecycle;
pub mod model;
pub mod notify;
pub mod rules;
pub mod text;
pub mod trend;

pub use lifecycle::{Command, LifecycleError, Outcome};
pub use model::{Action, Alert, AlertState, HistoryEntry, RuleKind, Severity};

/// One second in the crate's time unit (microseconds).
pub const SECOND: i64 = 1_000_000;
