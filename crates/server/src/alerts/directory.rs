//! What the engine and the live events know about each datastream: station, parameter, data
//! kind, cadence, and the station's water type, target class and drinking-water role — read
//! from the STA properties the network loader writes (docs/network.md), refreshed when
//! Things or Datastreams change.

use alerts::rules::StreamInfo;
use serde_json::Value;
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use store::Store;
use wq::{WaterClass, WaterType};

#[derive(Default)]
pub struct Directory {
    streams: RwLock<HashMap<i64, Arc<StreamInfo>>>,
}

impl Directory {
    pub fn get(&self, datastream_id: i64) -> Option<Arc<StreamInfo>> {
        self.streams.read().ok()?.get(&datastream_id).cloned()
    }

    pub fn all(&self) -> Vec<Arc<StreamInfo>> {
        self.streams
            .read()
            .map(|m| m.values().cloned().collect())
            .unwrap_or_default()
    }

    /// Re-reads every datastream with its Thing (paged STA reads through the store).
    pub async fn refresh(&self, store: &Arc<dyn Store>) -> anyhow::Result<usize> {
        let rows = crate::network::read_all(
            store,
            "Datastreams",
            "$select=id,properties&$expand=Thing($select=id,properties)",
        )
        .await?;
        let map: HashMap<i64, Arc<StreamInfo>> = rows
            .iter()
            .filter_map(stream_info)
            .map(|info| (info.datastream_id, Arc::new(info)))
            .collect();
        let n = map.len();
        if let Ok(mut m) = self.streams.write() {
            *m = map;
        }
        Ok(n)
    }
}

/// A datastream row (with its Thing expanded) as rule input; `None` without a station code or a
/// parameter (a datastream that was not created from a network plan).
pub fn stream_info(row: &Value) -> Option<StreamInfo> {
    let id = row.get("@iot.id")?.as_i64()?;
    let p = row.get("properties")?;
    let thing = row.pointer("/Thing/properties");
    let text = |v: Option<&Value>, key: &str| {
        v.and_then(|v| v.get(key))
            .and_then(Value::as_str)
            .map(str::to_owned)
    };
    let station = text(Some(p), "station_code").or_else(|| text(thing, "station_code"))?;
    let parameter = text(Some(p), "parameter")?;
    let water_type = match text(thing, "water_type").as_deref() {
        Some("lake") => WaterType::Lake,
        _ => WaterType::River,
    };
    Some(StreamInfo {
        datastream_id: id,
        station,
        parameter,
        data_kind: text(Some(p), "data_kind").unwrap_or_else(|| "unknown".into()),
        interval_s: p.get("interval_s").and_then(Value::as_i64),
        water_type,
        target_class: text(thing, "target_class").and_then(|c| c.parse::<WaterClass>().ok()),
        drinking_water: thing
            .and_then(|t| t.get("drinking_water_source"))
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn reads_plan_properties() {
        let row = json!({
            "@iot.id": 120,
            "properties": { "station_code": "W01", "parameter": "tp", "data_kind": "hourly", "interval_s": 14400 },
            "Thing": { "@iot.id": 18, "properties": { "water_type": "lake", "target_class": "II", "drinking_water_source": true } }
        });
        let i = stream_info(&row).expect("info");
        assert_eq!(i.source(), "W01:tp:hourly");
        assert_eq!(
            (i.water_type, i.target_class, i.drinking_water, i.interval_s),
            (WaterType::Lake, Some(WaterClass::II), true, Some(14400))
        );
        assert!(stream_info(&json!({"@iot.id": 1, "properties": {}})).is_none());
    }
}
