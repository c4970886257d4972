//! The generic device mapping (`[[mqtt_devices]]` of the network file, docs/mqtt.md): a device
//! that does not speak SensorThings publishes its own JSON to a topic such as
//! `farm/H1/telemetry`; the pattern names the station, JSON pointers pick each parameter's
//! value, and the values go to the station's real-time datastreams in one write — all stored
//! or none.

use crate::directory::DatastreamDirectory;
use network::{DataKind, MqttDevice};
use serde_json::Value;
use std::sync::Arc;
use store::NewObservation;

/// The mappings of the loaded network and where their datastreams are found.
#[derive(Default)]
pub struct Devices {
    devices: Vec<MqttDevice>,
    directory: Option<Arc<DatastreamDirectory>>,
}

/// Values read out of one payload: the value time (µs) and (parameter, value) pairs.
#[derive(Debug, PartialEq)]
pub struct Extracted {
    pub time: i64,
    pub values: Vec<(String, Value)>,
}

impl Devices {
    pub fn new(devices: Vec<MqttDevice>, directory: Option<Arc<DatastreamDirectory>>) -> Devices {
        Devices { devices, directory }
    }

    /// The rows a publish on `topic` stores; `None` when no mapping matches the topic.
    pub fn rows(
        &self,
        topic: &str,
        payload: &[u8],
        now_micros: i64,
    ) -> Option<Result<Vec<NewObservation>, (&'static str, String)>> {
        let (device, station) = self
            .devices
            .iter()
            .find_map(|d| Some((d, d.station_for(topic)?)))?;
        Some(self.rows_for(device, &station, payload, now_micros))
    }

    fn rows_for(
        &self,
        device: &MqttDevice,
        station: &str,
        payload: &[u8],
        now_micros: i64,
    ) -> Result<Vec<NewObservation>, (&'static str, String)> {
        let payload: Value = serde_json::from_slice(payload)
            .map_err(|e| ("bad_payload", format!("the payload is not JSON: {e}")))?;
        let got = extract(device, &payload, now_micros).map_err(|e| ("bad_payload", e))?;
        let directory = self.directory.as_ref().ok_or((
            "unknown_topic",
            "no network is loaded: device mappings have no datastreams".to_string(),
        ))?;
        got.values
            .into_iter()
            .map(|(parameter, result)| {
                let datastream_id = directory
                    .datastream(station, &parameter, DataKind::Realtime)
                    .ok_or_else(|| {
                        (
                            "rejected",
                            format!("station {station} has no real-time datastream of {parameter}"),
                        )
                    })?;
                Ok(NewObservation {
                    datastream_id,
                    phenomenon_time: got.time,
                    phenomenon_time_end: None,
                    result,
                    result_time: None,
                    result_quality: None,
                    parameters: None,
                    feature_id: None,
                })
            })
            .collect()
    }
}

/// Reads the mapped values out of a payload. A pointer that finds nothing skips its parameter
/// (devices send partial messages); one that finds an object or array refuses the whole
/// message, as does a message with no mapped value at all.
pub fn extract(device: &MqttDevice, payload: &Value, now_micros: i64) -> Result<Extracted, String> {
    let time = match &device.time {
        None => now_micros,
        Some(pointer) => match payload.pointer(pointer) {
            Some(Value::String(s)) => sta::time::parse_instant(s)?,
            Some(Value::Number(n)) => {
                let secs = n
                    .as_f64()
                    .filter(|s| s.is_finite())
                    .ok_or_else(|| format!("the time at {pointer} is not a number of seconds"))?;
                (secs * 1e6).round() as i64
            }
            Some(other) => return Err(format!("the time at {pointer} is {other}, not a time")),
            None => return Err(format!("no time at {pointer}")),
        },
    };
    let mut values = Vec::new();
    for (parameter, pointer) in &device.values {
        match payload.pointer(pointer) {
            None | Some(Value::Null) => {}
            Some(v @ (Value::Number(_) | Value::String(_) | Value::Bool(_))) => {
                values.push((parameter.clone(), v.clone()));
            }
            Some(_) => {
                return Err(format!(
                    "the value of {parameter} at {pointer} is not a number, text or boolean"
                ));
            }
        }
    }
    if values.is_empty() {
        return Err(format!(
            "none of the mapped values ({}) is in the payload",
            device
                .values
                .iter()
                .map(|(_, p)| p.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(Extracted { time, values })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn device(time: Option<&str>) -> MqttDevice {
        MqttDevice {
            topic: "farm/{house}/telemetry".into(),
            station: None,
            time: time.map(str::to_owned),
            values: vec![
                ("nh3_n".into(), "/nh3".into()),
                ("water_temp".into(), "/air/temp".into()),
            ],
        }
    }

    #[test]
    fn pointers_pick_values_and_time() {
        let d = device(Some("/ts"));
        let got = extract(
            &d,
            &json!({ "ts": "2026-03-01T08:00:00Z", "nh3": 12.5, "air": { "temp": 24 } }),
            0,
        )
        .unwrap();
        assert_eq!(
            got.time,
            sta::time::parse_instant("2026-03-01T08:00:00Z").unwrap()
        );
        assert_eq!(
            got.values,
            vec![
                ("nh3_n".into(), json!(12.5)),
                ("water_temp".into(), json!(24))
            ]
        );
        let got = extract(&d, &json!({ "ts": 1_772_352_000, "nh3": 1 }), 0).unwrap();
        assert_eq!(got.time, 1_772_352_000_000_000);
        assert_eq!(got.values.len(), 1, "a missing value is skipped");
    }

    #[test]
    fn receipt_time_without_a_time_pointer() {
        let got = extract(&device(None), &json!({ "nh3": 2 }), 77).unwrap();
        assert_eq!(got.time, 77);
    }

    #[test]
    fn bad_messages_are_refused_whole() {
        let d = device(Some("/ts"));
        assert!(extract(&d, &json!({ "nh3": 2 }), 0).is_err(), "no time");
        assert!(extract(&d, &json!({ "ts": "yesterday", "nh3": 2 }), 0).is_err());
        assert!(
            extract(
                &d,
                &json!({ "ts": 1, "nh3": { "v": 2 }, "air": { "temp": 1 } }),
                0
            )
            .is_err(),
            "an object where a value should be"
        );
        assert!(
            extract(&d, &json!({ "ts": 1, "other": 2 }), 0).is_err(),
            "nothing mapped"
        );
    }
}
