//! What the store must hold for a network, as plain data: the SensorThings entities a loader
//! creates or updates. Every entity carries a stable `key` derived from station codes and
//! parameter codes, so loading the same network twice changes nothing (upsert by key).

use crate::model::*;
use serde::Serialize;
use serde_json::{Map, Value, json};

/// O&M observation type of every datastream (a numeric result).
pub const OM_MEASUREMENT: &str =
    "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement";

/// Prefix of unit definitions; the UCUM code of the unit is appended.
pub const UCUM_BASE: &str = "http://unitsofmeasure.org/ucum.html#";

/// All SensorThings entities implied by a network.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct NetworkPlan {
    pub things: Vec<ThingPlan>,
    pub locations: Vec<LocationPlan>,
    pub sensors: Vec<SensorPlan>,
    pub observed_properties: Vec<ObservedPropertyPlan>,
    pub datastreams: Vec<DatastreamPlan>,
}

/// A Thing: one station or video point.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ThingPlan {
    /// `station:R01` or `video:V01`.
    pub key: String,
    pub name: String,
    pub description: String,
    /// For stations: `kind` = "station", `station_code`, `type`, `water_type`, `basin`,
    /// `target_class`, `mn`/`st` (automatic stations), `role` (rivers), `name_zh`, `name_en`,
    /// `drinking_water_source`, `schematic`. For video points: `kind` = "video_point",
    /// `video_id`, `camera`, `zone`, names.
    pub properties: Map<String, Value>,
    pub location_key: String,
}

/// A Location (a GeoJSON point).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LocationPlan {
    /// `location:R01` or `location:V01`.
    pub key: String,
    pub name: String,
    pub description: String,
    /// Always `application/geo+json`.
    pub encoding_type: String,
    /// GeoJSON `{"type": "Point", "coordinates": [lon, lat]}`.
    pub location: Value,
}

/// A Sensor: a station's probe set, one analyser, or the manual laboratory method.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SensorPlan {
    /// `sensor:R01:probes`, `sensor:R01:analyser:tp` or `sensor:manual`.
    pub key: String,
    pub name: String,
    pub description: String,
    pub encoding_type: String,
    pub metadata: String,
}

/// An ObservedProperty: one catalogue parameter.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ObservedPropertyPlan {
    /// `parameter:tp`.
    pub key: String,
    pub code: String,
    pub name: String,
    /// Stable URI: the network's `definition_base` followed by the code.
    pub definition: String,
    pub description: String,
    /// `code`, `hj212`, `name_zh`, `name_en`, `decimals`.
    pub properties: Map<String, Value>,
}

/// What a datastream carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum DataKind {
    /// HJ 212 2011 real-time values from probes.
    Realtime,
    /// HJ 212 2061 hourly values (probe hourly means; analyser results at cycle hours).
    Hourly,
    /// Manually entered laboratory results (monthly).
    Manual,
    /// HJ 212 2051 minute values. Not planned from the file: the HJ 212 listener creates these
    /// datastreams on demand, from the station's hourly datastream, when a station sends them.
    Minute,
    /// HJ 212 2031 daily values (created on demand, as `Minute`).
    Daily,
}

impl DataKind {
    pub fn as_str(self) -> &'static str {
        match self {
            DataKind::Realtime => "realtime",
            DataKind::Hourly => "hourly",
            DataKind::Manual => "manual",
            DataKind::Minute => "minute",
            DataKind::Daily => "daily",
        }
    }
}

/// SensorThings unitOfMeasurement.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct UnitOfMeasurement {
    pub name: String,
    pub symbol: String,
    pub definition: String,
}

/// A Datastream: station × parameter × data kind.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DatastreamPlan {
    /// `datastream:R01:tp:hourly`.
    pub key: String,
    pub thing_key: String,
    pub sensor_key: String,
    pub observed_property_key: String,
    pub station_code: String,
    pub parameter_code: String,
    pub data_kind: DataKind,
    pub name: String,
    pub description: String,
    pub unit: UnitOfMeasurement,
    pub observation_type: String,
    /// `station_code`, `parameter`, `hj212`, `data_kind`, `method`, `interval_s` (absent for
    /// manual data).
    pub properties: Map<String, Value>,
}

pub fn station_key(code: &str) -> String {
    format!("station:{code}")
}
pub fn video_key(id: &str) -> String {
    format!("video:{id}")
}
pub fn location_key(id: &str) -> String {
    format!("location:{id}")
}
pub fn parameter_key(code: &str) -> String {
    format!("parameter:{code}")
}
pub fn datastream_key(station: &str, parameter: &str, kind: DataKind) -> String {
    format!("datastream:{station}:{parameter}:{}", kind.as_str())
}

const MANUAL_SENSOR: &str = "sensor:manual";

fn object(value: Value) -> Map<String, Value> {
    match value {
        Value::Object(map) => map,
        _ => Map::new(),
    }
}

fn point(p: Position) -> Value {
    json!({ "type": "Point", "coordinates": [p.lon, p.lat] })
}

impl Network {
    /// Every entity the store must hold for this network, in a stable order.
    pub fn plan(&self) -> NetworkPlan {
        let mut plan = NetworkPlan {
            things: Vec::new(),
            locations: Vec::new(),
            sensors: Vec::new(),
            observed_properties: Vec::new(),
            datastreams: Vec::new(),
        };
        let schematic_note = if self.schematic {
            " Schematic position, not surveyed."
        } else {
            ""
        };

        for p in &self.parameters {
            plan.observed_properties.push(ObservedPropertyPlan {
                key: parameter_key(&p.code),
                code: p.code.clone(),
                name: p.name_en.clone(),
                definition: format!("{}{}", self.definition_base, p.code),
                description: format!("{} ({}), HJ 212 factor {}", p.name_en, p.name_zh, p.hj212),
                properties: object(json!({
                    "code": p.code,
                    "hj212": p.hj212,
                    "name_zh": p.name_zh,
                    "name_en": p.name_en,
                    "decimals": p.decimals,
                })),
            });
        }

        if self
            .stations
            .iter()
            .any(|s| s.parameters.iter().any(|p| p.method == Method::Manual))
        {
            plan.sensors.push(SensorPlan {
                key: MANUAL_SENSOR.to_owned(),
                name: "Manual sampling and laboratory analysis".to_owned(),
                description: "人工采样与实验室分析; results entered by hand".to_owned(),
                encoding_type: "text/plain".to_owned(),
                metadata: "manual".to_owned(),
            });
        }

        for st in &self.stations {
            self.plan_station(st, schematic_note, &mut plan);
        }

        for v in &self.video_points {
            plan.things.push(ThingPlan {
                key: video_key(&v.id),
                name: format!("{} {}", v.id, v.name_en),
                description: format!("{} ({}).{schematic_note}", v.name_en, v.name_zh),
                properties: object(json!({
                    "kind": "video_point",
                    "video_id": v.id,
                    "camera": v.kind.as_str(),
                    "zone": v.zone,
                    "name_zh": v.name_zh,
                    "name_en": v.name_en,
                    "schematic": self.schematic,
                })),
                location_key: location_key(&v.id),
            });
            plan.locations.push(LocationPlan {
                key: location_key(&v.id),
                name: format!("{} location", v.id),
                description: format!("Position of video point {}.{schematic_note}", v.id),
                encoding_type: "application/geo+json".to_owned(),
                location: point(v.position),
            });
        }
        plan
    }

    fn plan_station(&self, st: &Station, schematic_note: &str, plan: &mut NetworkPlan) {
        let mut properties = object(json!({
            "kind": "station",
            "station_code": st.code,
            "type": st.kind.as_str(),
            "water_type": st.kind.water_type(),
            "basin": st.basin,
            "target_class": st.target_class.as_str(),
            "name_zh": st.name_zh,
            "name_en": st.name_en,
            "drinking_water_source": st.is_drinking_water_source(),
            "schematic": self.schematic,
        }));
        if let Some(h) = st.hj212() {
            properties.insert("mn".to_owned(), json!(h.mn));
            properties.insert("st".to_owned(), json!(h.st));
        }
        if let Some(role) = st.role {
            properties.insert("role".to_owned(), json!(role));
        }
        plan.things.push(ThingPlan {
            key: station_key(&st.code),
            name: format!("{} {}", st.code, st.name_en),
            description: format!(
                "{} ({}), {} station.",
                st.name_en,
                st.name_zh,
                st.kind.as_str()
            ),
            properties,
            location_key: location_key(&st.code),
        });
        plan.locations.push(LocationPlan {
            key: location_key(&st.code),
            name: format!("{} location", st.code),
            description: format!("Position of station {}.{schematic_note}", st.code),
            encoding_type: "application/geo+json".to_owned(),
            location: point(st.position),
        });

        let probes_key = format!("sensor:{}:probes", st.code);
        if st.parameters.iter().any(|p| p.method == Method::Probe) {
            plan.sensors.push(SensorPlan {
                key: probes_key.clone(),
                name: format!("{} multi-parameter probe", st.code),
                description: format!("{} 多参数水质探头 (in-situ probes)", st.code),
                encoding_type: "text/plain".to_owned(),
                metadata: "probe".to_owned(),
            });
        }

        for sp in &st.parameters {
            // Parse guarantees every station parameter is in the catalogue; skip defensively.
            let Some(param) = self.parameter(&sp.code) else {
                continue;
            };
            let sensor_key = match sp.method {
                Method::Probe => probes_key.clone(),
                Method::Manual => MANUAL_SENSOR.to_owned(),
                Method::Analyser => {
                    let key = format!("sensor:{}:analyser:{}", st.code, sp.code);
                    plan.sensors.push(SensorPlan {
                        key: key.clone(),
                        name: format!("{} {} analyser", st.code, param.name_en),
                        description: format!(
                            "{} {}分析仪 (automatic analyser)",
                            st.code, param.name_zh
                        ),
                        encoding_type: "text/plain".to_owned(),
                        metadata: "analyser".to_owned(),
                    });
                    key
                }
            };
            let kinds: &[(DataKind, Option<u32>)] = match sp.method {
                Method::Probe => &[
                    (DataKind::Realtime, Some(st.realtime_interval_s)),
                    (DataKind::Hourly, Some(3600)),
                ],
                Method::Analyser => &[(DataKind::Hourly, Some(self.analyser_interval_s()))],
                Method::Manual => &[(DataKind::Manual, None)],
            };
            for &(kind, interval_s) in kinds {
                let mut properties = object(json!({
                    "station_code": st.code,
                    "parameter": sp.code,
                    "hj212": param.hj212,
                    "data_kind": kind.as_str(),
                    "method": sp.method.as_str(),
                }));
                if let Some(interval) = interval_s {
                    properties.insert("interval_s".to_owned(), json!(interval));
                }
                plan.datastreams.push(DatastreamPlan {
                    key: datastream_key(&st.code, &sp.code, kind),
                    thing_key: station_key(&st.code),
                    sensor_key: sensor_key.clone(),
                    observed_property_key: parameter_key(&sp.code),
                    station_code: st.code.clone(),
                    parameter_code: sp.code.clone(),
                    data_kind: kind,
                    name: format!("{} {} {}", st.code, param.name_en, kind.as_str()),
                    description: format!(
                        "{} {} ({}), {} data",
                        st.name_en,
                        param.name_en,
                        param.name_zh,
                        kind.as_str()
                    ),
                    unit: UnitOfMeasurement {
                        name: param.unit_name.clone(),
                        symbol: param.unit.clone(),
                        definition: format!("{UCUM_BASE}{}", param.ucum),
                    },
                    observation_type: OM_MEASUREMENT.to_owned(),
                    properties,
                });
            }
        }
    }

    /// Seconds between analyser results: the smallest gap between cycle hours (4 h → 14,400).
    pub fn analyser_interval_s(&self) -> u32 {
        let hours = &self.cadence.analyser_cycle_hours;
        let mut gap = 24u32;
        for (i, &h) in hours.iter().enumerate() {
            let next = hours
                .get(i + 1)
                .map_or(u32::from(hours[0]) + 24, |&n| u32::from(n));
            gap = gap.min(next - u32::from(h));
        }
        gap.max(1) * 3600
    }
}
