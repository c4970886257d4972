//! Typed rows for the server's own questions to its store (the network loader, the datastream
//! directory, the alert engine's catch-up after a lagged commit stream). These are not STA
//! requests: no paths, no query options, no links — plain rows, answered with plain SQL by
//! [`crate::sql_stores::typed`].

use crate::ObservationEvent;
use serde_json::{Map, Value};
use std::collections::BTreeMap;

/// An entity carrying `properties.key` (the plan key the network loader writes), with the STA
/// members stored in its own row and the ids of the entities it links to.
#[derive(Debug, Clone, PartialEq)]
pub struct KeyedEntity {
    pub id: i64,
    pub key: String,
    /// STA members by name (`name`, `description`, `properties`, `unitOfMeasurement`, …);
    /// time intervals and results are left out.
    pub members: Map<String, Value>,
    /// Navigation property → ids it links to (`Thing` → `[3]`, `Locations` → `[1, 2]`).
    pub links: BTreeMap<String, Vec<i64>>,
}

/// A datastream with its Thing's properties: what the datastream directory is built from.
#[derive(Debug, Clone, PartialEq)]
pub struct DatastreamRow {
    pub id: i64,
    pub properties: Map<String, Value>,
    pub thing_id: i64,
    pub thing_properties: Map<String, Value>,
}

/// A position in the stream of committed observations: observations with an id above
/// `last_id` were inserted after it (ids are handed out in commit order), and older
/// observations revised after `revised_after` (UTC microseconds) were replaced after it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ObservationCursor {
    pub last_id: i64,
    pub revised_after: i64,
}

/// Observations committed after a cursor, and the cursor after them.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CommittedObservations {
    /// Inserted observations in id (commit) order, then replaced ones in revision order.
    pub events: Vec<ObservationEvent>,
    pub cursor: ObservationCursor,
    /// False when `limit` cut the answer short: read again from `cursor`.
    pub complete: bool,
}
