//! How each SensorThings entity lies in SQL tables. Shared by every dialect: the schema is the
//! same on SQLite and PostgreSQL, only expressions differ (see `Dialect`).

use sta::EntityType;

/// How one STA property is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Column {
    /// A scalar column (text, integer id, or UTC microseconds for instants).
    Plain(&'static str),
    /// JSON text (objects, `metadata`, `resultQuality`).
    Json(&'static str),
    /// GeoJSON text.
    Geometry(&'static str),
    /// An instant or interval in two microsecond columns; `end` is NULL for an instant.
    Interval(&'static str, &'static str),
    /// An Observation result: `result` holds numbers and strings natively (so comparisons and
    /// ordering are numeric on the fast path), `result_json` holds booleans, objects, arrays, null.
    Result,
}

/// How a navigation property joins a child (target) row to its parent (source) row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Relation {
    /// To-one: the parent holds the child's id in `column`.
    ForeignKeyOnParent(&'static str),
    /// To-many: the child holds the parent's id in `column`.
    ForeignKeyOnChild(&'static str),
    /// Many-to-many through a link table.
    LinkTable {
        table: &'static str,
        parent_column: &'static str,
        child_column: &'static str,
    },
}

pub fn table(e: EntityType) -> &'static str {
    match e {
        EntityType::Thing => "things",
        EntityType::Location => "locations",
        EntityType::HistoricalLocation => "historical_locations",
        EntityType::Datastream => "datastreams",
        EntityType::Sensor => "sensors",
        EntityType::ObservedProperty => "observed_properties",
        EntityType::Observation => "observations",
        EntityType::FeatureOfInterest => "features",
    }
}

/// The columns of `e`, in the order used by SELECT lists and row decoding.
pub fn columns(e: EntityType) -> &'static [(&'static str, Column)] {
    use Column::*;
    match e {
        EntityType::Thing => &[
            ("id", Plain("id")),
            ("name", Plain("name")),
            ("description", Plain("description")),
            ("properties", Json("properties")),
        ],
        EntityType::Location => &[
            ("id", Plain("id")),
            ("name", Plain("name")),
            ("description", Plain("description")),
            ("encodingType", Plain("encoding_type")),
            ("location", Geometry("location")),
            ("properties", Json("properties")),
        ],
        EntityType::HistoricalLocation => &[("id", Plain("id")), ("time", Plain("time"))],
        EntityType::Datastream => &[
            ("id", Plain("id")),
            ("name", Plain("name")),
            ("description", Plain("description")),
            ("unitOfMeasurement", Json("unit_of_measurement")),
            ("observationType", Plain("observation_type")),
            ("observedArea", Geometry("observed_area")),
            (
                "phenomenonTime",
                Interval("phenomenon_time_start", "phenomenon_time_end"),
            ),
            (
                "resultTime",
                Interval("result_time_start", "result_time_end"),
            ),
            ("properties", Json("properties")),
        ],
        EntityType::Sensor => &[
            ("id", Plain("id")),
            ("name", Plain("name")),
            ("description", Plain("description")),
            ("encodingType", Plain("encoding_type")),
            ("metadata", Json("metadata")),
            ("properties", Json("properties")),
        ],
        EntityType::ObservedProperty => &[
            ("id", Plain("id")),
            ("name", Plain("name")),
            ("definition", Plain("definition")),
            ("description", Plain("description")),
            ("properties", Json("properties")),
        ],
        EntityType::Observation => &[
            ("id", Plain("id")),
            (
                "phenomenonTime",
                Interval("phenomenon_time_start", "phenomenon_time_end"),
            ),
            ("resultTime", Plain("result_time")),
            ("result", Result),
            ("resultQuality", Json("result_quality")),
            ("validTime", Interval("valid_time_start", "valid_time_end")),
            ("parameters", Json("parameters")),
        ],
        EntityType::FeatureOfInterest => &[
            ("id", Plain("id")),
            ("name", Plain("name")),
            ("description", Plain("description")),
            ("encodingType", Plain("encoding_type")),
            ("feature", Geometry("feature")),
            ("properties", Json("properties")),
        ],
    }
}

pub fn column(e: EntityType, property: &str) -> Option<Column> {
    columns(e)
        .iter()
        .find(|(n, _)| *n == property)
        .map(|(_, c)| *c)
}

/// Foreign-key columns kept in the row besides the properties (used for to-one expands).
pub fn foreign_keys(e: EntityType) -> &'static [(&'static str, &'static str)] {
    match e {
        EntityType::Datastream => &[
            ("Thing", "thing_id"),
            ("Sensor", "sensor_id"),
            ("ObservedProperty", "observed_property_id"),
        ],
        EntityType::Observation => &[
            ("Datastream", "datastream_id"),
            ("FeatureOfInterest", "feature_id"),
        ],
        EntityType::HistoricalLocation => &[("Thing", "thing_id")],
        _ => &[],
    }
}

pub fn relation(parent: EntityType, nav: &str) -> Option<Relation> {
    use EntityType::*;
    use Relation::*;
    Some(match (parent, nav) {
        (Thing, "Datastreams") => ForeignKeyOnChild("thing_id"),
        (Thing, "HistoricalLocations") => ForeignKeyOnChild("thing_id"),
        (Thing, "Locations") => LinkTable {
            table: "thing_locations",
            parent_column: "thing_id",
            child_column: "location_id",
        },
        (Location, "Things") => LinkTable {
            table: "thing_locations",
            parent_column: "location_id",
            child_column: "thing_id",
        },
        (Location, "HistoricalLocations") => LinkTable {
            table: "historical_location_locations",
            parent_column: "location_id",
            child_column: "historical_location_id",
        },
        (HistoricalLocation, "Thing") => ForeignKeyOnParent("thing_id"),
        (HistoricalLocation, "Locations") => LinkTable {
            table: "historical_location_locations",
            parent_column: "historical_location_id",
            child_column: "location_id",
        },
        (Datastream, "Thing") => ForeignKeyOnParent("thing_id"),
        (Datastream, "Sensor") => ForeignKeyOnParent("sensor_id"),
        (Datastream, "ObservedProperty") => ForeignKeyOnParent("observed_property_id"),
        (Datastream, "Observations") => ForeignKeyOnChild("datastream_id"),
        (Sensor, "Datastreams") => ForeignKeyOnChild("sensor_id"),
        (ObservedProperty, "Datastreams") => ForeignKeyOnChild("observed_property_id"),
        (Observation, "Datastream") => ForeignKeyOnParent("datastream_id"),
        (Observation, "FeatureOfInterest") => ForeignKeyOnParent("feature_id"),
        (FeatureOfInterest, "Observations") => ForeignKeyOnChild("feature_id"),
        _ => return None,
    })
}

/// Condition relating child alias `child` to the parent row in scope as `parent` (correlated).
pub fn correlated_condition(rel: Relation, parent: &str, child: &str) -> String {
    match rel {
        Relation::ForeignKeyOnParent(col) => format!("{child}.id = {parent}.{col}"),
        Relation::ForeignKeyOnChild(col) => format!("{child}.{col} = {parent}.id"),
        Relation::LinkTable {
            table,
            parent_column,
            child_column,
        } => {
            format!(
                "{child}.id IN (SELECT {child_column} FROM {table} WHERE {parent_column} = {parent}.id)"
            )
        }
    }
}

/// Condition relating child alias `child` to the parent entity of type `parent` whose id is the
/// SQL expression `parent_id` (usually a placeholder).
pub fn condition_by_parent_id(
    rel: Relation,
    parent: EntityType,
    child: &str,
    parent_id: &str,
) -> String {
    match rel {
        Relation::ForeignKeyOnParent(col) => {
            format!(
                "{child}.id = (SELECT {col} FROM {} WHERE id = {parent_id})",
                table(parent)
            )
        }
        Relation::ForeignKeyOnChild(col) => format!("{child}.{col} = {parent_id}"),
        Relation::LinkTable {
            table,
            parent_column,
            child_column,
        } => {
            format!(
                "{child}.id IN (SELECT {child_column} FROM {table} WHERE {parent_column} = {parent_id})"
            )
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_navigation_has_a_relation_and_every_property_a_column() {
        for e in EntityType::ALL {
            for nav in e.navigations() {
                let rel = relation(e, nav.name).unwrap_or_else(|| panic!("{e}.{}", nav.name));
                assert_eq!(
                    matches!(rel, Relation::ForeignKeyOnParent(_)),
                    !nav.to_many,
                    "{e}.{}",
                    nav.name
                );
            }
            for p in e.properties() {
                assert!(column(e, p.name).is_some(), "{e}.{}", p.name);
            }
        }
    }
}
