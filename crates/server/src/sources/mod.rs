//! Ingestion sources: protocol listeners that turn what stations send into observations.

pub mod hj212;
pub mod hj212_alerts;
pub mod hj212_guard;
pub mod hj212_log;
pub mod hj212_values;
pub mod status;
