//! The senders: the imperative shell that drives a qingshui server through its public
//! interfaces only, as real stations and field teams would.
//!
//! * [`feed`] (pure) turns generator readings into HJ 212 uploads and STA rows;
//! * [`station`] is one station's HJ 212 data logger over TCP (QN, 9014, resend, reconnect);
//! * [`sta`] is the SensorThings HTTP client (datastream ids by plan key, CreateObservations);
//! * [`history`] backfills a past window in bulk, with a progress bar;
//! * [`live`] runs every station on a simulated clock, offline windows and backfills included;
//! * [`scale`] (pure) clones the network into many synthetic stations for load tests.

pub mod camera;
pub mod feed;
pub mod history;
pub mod live;
pub mod scale;
pub mod sta;
pub mod station;
pub mod stats;

pub use feed::{DatastreamRows, Feed, Row, Upload};
pub use history::{BackfillSummary, BulkOptions, HistoryWindow, backfill_history, send_rows};
pub use live::{LiveOptions, ManualSink, SimClock, run_live};
pub use scale::scale_network;
pub use sta::StaClient;
pub use station::{LoggerTiming, StationLogger};
pub use stats::{SendStats, StatsSnapshot};

use std::net::SocketAddr;

/// Why a send failed.
#[derive(Debug, thiserror::Error)]
pub enum SendError {
    #[error("cannot connect to the HJ 212 listener at {addr}: {source}")]
    Connect {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("HJ 212 connection to {addr} failed: {source}")]
    Io {
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("no 9014 answer for QN {qn} after {attempts} attempts")]
    NoAnswer { qn: String, attempts: u32 },
    #[error("HTTP request to {url} failed: {source}")]
    Http { url: String, source: reqwest::Error },
    #[error("{url} answered HTTP {status}: {body}")]
    Status {
        url: String,
        status: u16,
        body: String,
    },
    #[error("unexpected answer from {url}: {reason}")]
    Protocol { url: String, reason: String },
    #[error(
        "the server has no datastream with properties/key '{0}': start it with this network file ([network] file = …)"
    )]
    UnknownDatastream(String),
    #[error("a sender task failed: {0}")]
    Task(String),
}
