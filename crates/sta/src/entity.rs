//! The eight SensorThings entity types, their properties and navigation properties (OGC 18-088 §8).

use serde::Serialize;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, PartialOrd, Ord)]
pub enum EntityType {
    Thing,
    Location,
    HistoricalLocation,
    Datastream,
    Sensor,
    ObservedProperty,
    Observation,
    FeatureOfInterest,
}

/// How a property is typed; decides literal handling in `$filter` and JSON shaping.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PropertyKind {
    Id,
    Text,
    /// A JSON object whose members may be addressed with `properties/x/y`.
    Object,
    /// An instant (stored as UTC microseconds).
    Time,
    /// An instant or an interval `start/end`.
    TimeInterval,
    /// A GeoJSON geometry (or feature).
    Geometry,
    /// An Observation result: number, string, boolean, object, array or null.
    Any,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Property {
    pub name: &'static str,
    pub kind: PropertyKind,
    /// Required on create (OGC 18-088 tables "mandatory").
    pub required: bool,
    /// Set by the server, never accepted from a client.
    pub read_only: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Navigation {
    pub name: &'static str,
    pub target: EntityType,
    pub to_many: bool,
}

const fn p(name: &'static str, kind: PropertyKind, required: bool) -> Property {
    Property {
        name,
        kind,
        required,
        read_only: false,
    }
}
const fn ro(name: &'static str, kind: PropertyKind) -> Property {
    Property {
        name,
        kind,
        required: false,
        read_only: true,
    }
}
const fn one(name: &'static str, target: EntityType) -> Navigation {
    Navigation {
        name,
        target,
        to_many: false,
    }
}
const fn many(name: &'static str, target: EntityType) -> Navigation {
    Navigation {
        name,
        target,
        to_many: true,
    }
}

use EntityType::*;
use PropertyKind::*;

impl EntityType {
    pub const ALL: [EntityType; 8] = [
        Thing,
        Location,
        HistoricalLocation,
        Datastream,
        Sensor,
        ObservedProperty,
        Observation,
        FeatureOfInterest,
    ];

    /// The entity-set name used in URLs (`Things`, `Observations`, …).
    pub fn set_name(self) -> &'static str {
        match self {
            Thing => "Things",
            Location => "Locations",
            HistoricalLocation => "HistoricalLocations",
            Datastream => "Datastreams",
            Sensor => "Sensors",
            ObservedProperty => "ObservedProperties",
            Observation => "Observations",
            FeatureOfInterest => "FeaturesOfInterest",
        }
    }

    /// The singular name used for to-one navigation properties (`Thing`, `Datastream`, …).
    pub fn singular_name(self) -> &'static str {
        match self {
            Thing => "Thing",
            Location => "Location",
            HistoricalLocation => "HistoricalLocation",
            Datastream => "Datastream",
            Sensor => "Sensor",
            ObservedProperty => "ObservedProperty",
            Observation => "Observation",
            FeatureOfInterest => "FeatureOfInterest",
        }
    }

    pub fn from_set_name(name: &str) -> Option<EntityType> {
        Self::ALL.into_iter().find(|e| e.set_name() == name)
    }

    pub fn properties(self) -> &'static [Property] {
        match self {
            Thing => {
                const V: &[Property] = &[
                    ro("id", Id),
                    p("name", Text, true),
                    p("description", Text, true),
                    p("properties", Object, false),
                ];
                V
            }
            Location => {
                const V: &[Property] = &[
                    ro("id", Id),
                    p("name", Text, true),
                    p("description", Text, true),
                    p("encodingType", Text, true),
                    p("location", Geometry, true),
                    p("properties", Object, false),
                ];
                V
            }
            HistoricalLocation => {
                const V: &[Property] = &[ro("id", Id), p("time", Time, true)];
                V
            }
            Datastream => {
                const V: &[Property] = &[
                    ro("id", Id),
                    p("name", Text, true),
                    p("description", Text, true),
                    p("unitOfMeasurement", Object, true),
                    p("observationType", Text, true),
                    ro("observedArea", Geometry),
                    ro("phenomenonTime", TimeInterval),
                    ro("resultTime", TimeInterval),
                    p("properties", Object, false),
                ];
                V
            }
            Sensor => {
                const V: &[Property] = &[
                    ro("id", Id),
                    p("name", Text, true),
                    p("description", Text, true),
                    p("encodingType", Text, true),
                    p("metadata", Any, true),
                    p("properties", Object, false),
                ];
                V
            }
            ObservedProperty => {
                const V: &[Property] = &[
                    ro("id", Id),
                    p("name", Text, true),
                    p("definition", Text, true),
                    p("description", Text, true),
                    p("properties", Object, false),
                ];
                V
            }
            Observation => {
                const V: &[Property] = &[
                    ro("id", Id),
                    p("phenomenonTime", TimeInterval, false),
                    p("resultTime", Time, false),
                    p("result", Any, true),
                    p("resultQuality", Any, false),
                    p("validTime", TimeInterval, false),
                    p("parameters", Object, false),
                ];
                V
            }
            FeatureOfInterest => {
                const V: &[Property] = &[
                    ro("id", Id),
                    p("name", Text, true),
                    p("description", Text, true),
                    p("encodingType", Text, true),
                    p("feature", Geometry, true),
                    p("properties", Object, false),
                ];
                V
            }
        }
    }

    pub fn navigations(self) -> &'static [Navigation] {
        match self {
            Thing => {
                const V: &[Navigation] = &[
                    many("Datastreams", Datastream),
                    many("Locations", Location),
                    many("HistoricalLocations", HistoricalLocation),
                ];
                V
            }
            Location => {
                const V: &[Navigation] = &[
                    many("Things", Thing),
                    many("HistoricalLocations", HistoricalLocation),
                ];
                V
            }
            HistoricalLocation => {
                const V: &[Navigation] = &[one("Thing", Thing), many("Locations", Location)];
                V
            }
            Datastream => {
                const V: &[Navigation] = &[
                    one("Thing", Thing),
                    one("Sensor", Sensor),
                    one("ObservedProperty", ObservedProperty),
                    many("Observations", Observation),
                ];
                V
            }
            Sensor => {
                const V: &[Navigation] = &[many("Datastreams", Datastream)];
                V
            }
            ObservedProperty => {
                const V: &[Navigation] = &[many("Datastreams", Datastream)];
                V
            }
            Observation => {
                const V: &[Navigation] = &[
                    one("Datastream", Datastream),
                    one("FeatureOfInterest", FeatureOfInterest),
                ];
                V
            }
            FeatureOfInterest => {
                const V: &[Navigation] = &[many("Observations", Observation)];
                V
            }
        }
    }

    pub fn property(self, name: &str) -> Option<&'static Property> {
        self.properties().iter().find(|p| p.name == name)
    }

    pub fn navigation(self, name: &str) -> Option<&'static Navigation> {
        self.navigations().iter().find(|n| n.name == name)
    }
}

impl std::fmt::Display for EntityType {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.singular_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_navigation_has_an_inverse() {
        for e in EntityType::ALL {
            for nav in e.navigations() {
                let back = nav.target.navigations().iter().any(|n| n.target == e);
                assert!(back, "{e}.{} has no inverse on {}", nav.name, nav.target);
            }
        }
    }

    #[test]
    fn set_names_round_trip() {
        for e in EntityType::ALL {
            assert_eq!(EntityType::from_set_name(e.set_name()), Some(e));
        }
        assert_eq!(EntityType::from_set_name("Thing"), None);
    }
}
