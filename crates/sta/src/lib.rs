//! `sta` — the OGC SensorThings API 1.1 model, pure: entity types, resource paths, query options
//! and the `$filter` language. No IO: the store compiles these into SQL, the server shapes JSON.

pub mod batch;
pub mod batch_multipart;
pub mod conformance;
pub mod entity;
pub mod error;
pub mod filter;
pub mod geo;
pub mod limits;
pub mod path;
pub mod query;
pub mod time;

pub use conformance::conformance;
pub use entity::{EntityType, Navigation, Property, PropertyKind};
pub use error::StaError;
pub use limits::QueryLimits;
pub use path::{ResourcePath, Step, Tail, parse_path};
pub use query::{Expand, OrderBy, Query, ResultFormat};
