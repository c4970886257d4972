//! The qingshui monitoring network: the model of stations, basins, parameters, video points and
//! zones read from a network TOML file (`config/hongfeng.toml` for the demo), its validation, and
//! the plan of SensorThings entities a store loader creates from it.
//!
//! Pure: no IO. The caller reads the file and passes its text to [`parse_network`]. The file
//! format is documented in `docs/network.md`.

mod error;
pub mod geo;
mod model;
mod parse;
mod plan;
mod raw;
mod span;
mod write;

pub use error::{NetworkError, Problem};
pub use model::{
    BBox, Basin, Cadence, DeviceLink, GbLink, Hj212Link, Method, MqttDevice, Network, Parameter,
    Position, RiverRole, SimHints, SimVariant, Station, StationKind, StationParameter, TargetClass,
    VideoKind, VideoPoint, Zone, ZoneKind,
};
pub use parse::{SCHEMA_VERSION, parse_network};
pub use plan::{
    DataKind, DatastreamPlan, LocationPlan, NetworkPlan, OM_MEASUREMENT, ObservedPropertyPlan,
    SensorPlan, ThingPlan, UCUM_BASE, UnitOfMeasurement, datastream_key, location_key,
    parameter_key, station_key, video_key,
};
