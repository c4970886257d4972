//! Errors of [`crate::parse_network`]: where in the file, and what is wrong.

/// A network file that cannot be used, with the place of the problem.
///
/// `line` and `column` are 1-based and count characters (not bytes), so they match what an
/// editor shows. Display gives `file:line:column: problem`.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{source_name}:{line}:{column}: {problem}")]
pub struct NetworkError {
    /// The name the caller gave for the text (usually the file path).
    pub source_name: String,
    pub line: usize,
    pub column: usize,
    pub problem: Problem,
}

/// What is wrong with a network file.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum Problem {
    /// TOML syntax, a missing or unknown key, or a value of the wrong type (the message is toml's).
    #[error("{0}")]
    Syntax(String),
    #[error("unsupported schema_version {found}; this build reads version {supported}")]
    UnsupportedSchemaVersion { found: i64, supported: i64 },
    #[error("{what} `{id}` is not a valid identifier (1–32 characters of A–Z, a–z, 0–9, `_`, `-`)")]
    BadIdentifier { what: &'static str, id: String },
    #[error("duplicate {what} `{id}` (first defined on line {first_line})")]
    DuplicateId {
        what: &'static str,
        id: String,
        first_line: usize,
    },
    #[error("duplicate HJ 212 MN `{mn}` (also used by station `{other_station}`)")]
    DuplicateMn { mn: String, other_station: String },
    #[error("{what} `{value}` is not usable: {reason}")]
    BadHj212Field {
        what: &'static str,
        value: String,
        reason: &'static str,
    },
    #[error("station `{station}` has automatic instruments but no `mn`/`pw` for HJ 212")]
    MissingHj212 { station: String },
    #[error("station `{station}`: unknown link protocol `{protocol}` (known: hj212)")]
    UnknownProtocol { station: String, protocol: String },
    #[error("station `{station}`: the {protocol} link has no `{field}`")]
    MissingLinkField {
        station: String,
        protocol: &'static str,
        field: &'static str,
    },
    #[error("station `{station}` has two {protocol} links (one per protocol)")]
    DuplicateLink {
        station: String,
        protocol: &'static str,
    },
    #[error("unknown basin `{0}` (not declared in [[basins]])")]
    UnknownBasin(String),
    #[error("unknown zone `{0}` (not declared in [[zones]])")]
    UnknownZone(String),
    #[error("mqtt_devices `{topic}`: {reason}")]
    BadMqttDevice { topic: String, reason: String },
    #[error("{what} `{id}` is not a GB/T 28181 code (20 ASCII digits)")]
    BadGbId { what: &'static str, id: String },
    #[error("unknown parameter code `{0}` (not in the parameter catalogue of the `wq` crate)")]
    UnknownParameter(String),
    #[error("parameter `{0}` is not declared in this file's [[parameters]] catalogue")]
    ParameterNotInCatalogue(String),
    #[error("parameter `{parameter}` listed twice for station `{station}`")]
    DuplicateStationParameter { station: String, parameter: String },
    #[error("target class `{0}` is out of range (expected I, II, III, IV or V; Ⅰ–Ⅴ also accepted)")]
    TargetClassOutOfRange(String),
    #[error("{what} {value} is outside {range}")]
    CoordinateOutOfRange {
        what: &'static str,
        value: f64,
        range: String,
    },
    #[error("bad bbox: {0}")]
    BadBbox(&'static str),
    #[error("bad polygon for zone `{zone}`: {reason}")]
    BadPolygon { zone: String, reason: String },
    #[error("{kind} station `{station}` lies outside the lake outline zone `{zone}`")]
    OutsideLake {
        kind: &'static str,
        station: String,
        zone: String,
    },
    #[error("`{key}` = {value} is out of range {range}")]
    ValueOutOfRange {
        key: &'static str,
        value: f64,
        range: &'static str,
    },
    #[error("`role` applies only to river stations (station `{0}`)")]
    RoleOnNonRiver(String),
}
