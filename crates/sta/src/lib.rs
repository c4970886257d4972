//! `sta` — the OGC SensorThings API 1.1 model, pure: entity types, resource paths, query options
//! and the `$filter` language. No IO: the store compiles these into SQL, the server shapes JSON.

pub mod entity;
pub mod error;
pub mod filter;
pub mod geo;
pub mod limits;
pub mod path;
pub mod query;
pub mod time;

pub use entity::{EntityType, Navigation, Property, PropertyKind};
pub use error::StaError;
pub use limits::QueryLimits;
pub use path::{ResourcePath, Step, Tail, parse_path};
pub use query::{Expand, OrderBy, Query, ResultFormat};

/// Requirement classes this server conforms to (OGC 18-088 Annex A), listed in
/// `serverSettings.conformance` on the service root.
pub const CONFORMANCE: &[&str] = &[
    "http://www.opengis.net/spec/iot_sensing/1.1/req/datamodel",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/resource-path/resource-path-to-entities",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/request-data",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/create-update-delete",
    "http://www.opengis.net/spec/iot_sensing/1.1/req/data-array/data-array",
];
