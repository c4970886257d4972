//! The one datastream directory the domain API, the alert engine and the sources share: every
//! datastream with its plan key, station, parameter, data kind and the station facts the alert
//! rules need. Built from the store's typed reads (the STA properties the network loader writes,
//! docs/network.md) and refreshed whenever datastreams or Things are created or changed — by the
//! alert engine, which follows the commit stream, and by whoever creates a datastream on demand —
//! so a datastream created at run time is visible everywhere without a restart.
//!
//! It also holds the rule of which datastream speaks for a parameter ([`speaking_rank`]).

use alerts::rules::StreamInfo;
use network::DataKind;
use serde_json::{Map, Value};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use store::{DatastreamRow, Store};
use wq::{WaterClass, WaterType};

/// Where a parameter's datastream stands in the rule "which datastream speaks for a parameter":
/// hourly values first (the national method judges hourly and daily means), then manual
/// samples, then real-time values; minute and daily datastreams never speak. Lower is better.
pub fn speaking_rank(kind: DataKind) -> Option<u8> {
    match kind {
        DataKind::Hourly => Some(0),
        DataKind::Manual => Some(1),
        DataKind::Realtime => Some(2),
        DataKind::Minute | DataKind::Daily => None,
    }
}

/// The candidate that speaks for a parameter under [`speaking_rank`] (the first of equals).
pub fn speaking<T>(
    candidates: impl IntoIterator<Item = T>,
    kind: impl Fn(&T) -> DataKind,
) -> Option<T> {
    candidates
        .into_iter()
        .filter_map(|c| speaking_rank(kind(&c)).map(|r| (r, c)))
        .min_by_key(|(r, _)| *r)
        .map(|(_, c)| c)
}

pub fn parse_data_kind(text: &str) -> Option<DataKind> {
    [
        DataKind::Realtime,
        DataKind::Hourly,
        DataKind::Manual,
        DataKind::Minute,
        DataKind::Daily,
    ]
    .into_iter()
    .find(|k| k.as_str() == text)
}

/// One datastream of the network.
#[derive(Debug, Clone, PartialEq)]
pub struct DatastreamEntry {
    /// Plan key (`datastream:R01:tp:hourly`), when the datastream came from a plan.
    pub key: Option<String>,
    /// `None` for a data kind this server does not know.
    pub data_kind: Option<DataKind>,
    /// Station, parameter and rule inputs (the alert engine's view).
    pub info: Arc<StreamInfo>,
}

#[derive(Default)]
struct Entries {
    by_id: HashMap<i64, Arc<DatastreamEntry>>,
    by_key: HashMap<String, i64>,
}

#[derive(Default)]
pub struct DatastreamDirectory {
    entries: RwLock<Entries>,
}

impl std::fmt::Debug for DatastreamDirectory {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DatastreamDirectory")
            .field("datastreams", &self.len())
            .finish()
    }
}

impl DatastreamDirectory {
    /// Re-reads every datastream with its Thing; returns how many the directory holds.
    pub async fn refresh(&self, store: &Arc<dyn Store>) -> anyhow::Result<usize> {
        let rows = store.datastreams_with_things().await?;
        let mut entries = Entries::default();
        for row in &rows {
            let key = row
                .properties
                .get(crate::network::KEY_PROPERTY)
                .and_then(Value::as_str)
                .map(str::to_owned);
            if let Some(k) = &key {
                entries.by_key.insert(k.clone(), row.id);
            }
            if let Some(info) = stream_info(row) {
                let entry = DatastreamEntry {
                    key,
                    data_kind: parse_data_kind(&info.data_kind),
                    info: Arc::new(info),
                };
                entries.by_id.insert(row.id, Arc::new(entry));
            }
        }
        let n = entries.by_id.len();
        if let Ok(mut e) = self.entries.write() {
            *e = entries;
        }
        Ok(n)
    }

    pub fn len(&self) -> usize {
        self.entries.read().map_or(0, |e| e.by_id.len())
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The rule inputs of a datastream (the alert engine and live events).
    pub fn get(&self, datastream_id: i64) -> Option<Arc<StreamInfo>> {
        self.entry(datastream_id).map(|e| e.info.clone())
    }

    pub fn entry(&self, datastream_id: i64) -> Option<Arc<DatastreamEntry>> {
        self.entries.read().ok()?.by_id.get(&datastream_id).cloned()
    }

    pub fn all(&self) -> Vec<Arc<StreamInfo>> {
        self.entries
            .read()
            .map(|e| e.by_id.values().map(|d| d.info.clone()).collect())
            .unwrap_or_default()
    }

    /// The datastream id of a plan key.
    pub fn by_key(&self, key: &str) -> Option<i64> {
        self.entries.read().ok()?.by_key.get(key).copied()
    }

    /// The datastream of a station's parameter and data kind.
    pub fn datastream(&self, station: &str, parameter: &str, kind: DataKind) -> Option<i64> {
        self.by_key(&network::datastream_key(station, parameter, kind))
    }

    /// A station's datastreams as (parameter, kind, id), ordered by id.
    pub fn station_datastreams(&self, station: &str) -> Vec<(String, DataKind, i64)> {
        let Ok(e) = self.entries.read() else {
            return Vec::new();
        };
        let mut out: Vec<_> = e
            .by_id
            .iter()
            .filter(|(_, d)| d.info.station == station)
            .filter_map(|(id, d)| Some((d.info.parameter.clone(), d.data_kind?, *id)))
            .collect();
        out.sort_by_key(|(_, _, id)| *id);
        out
    }

    /// The datastream that speaks for a station's parameter ([`speaking_rank`]).
    pub fn speaking_datastream(&self, station: &str, parameter: &str) -> Option<(DataKind, i64)> {
        speaking(
            [DataKind::Hourly, DataKind::Manual, DataKind::Realtime]
                .into_iter()
                .filter_map(|k| Some((k, self.datastream(station, parameter, k)?))),
            |(k, _)| *k,
        )
    }
}

/// A datastream row as rule input; `None` without a station code or a parameter (a datastream
/// that was not created from a network plan).
pub fn stream_info(row: &DatastreamRow) -> Option<StreamInfo> {
    let p = &row.properties;
    let thing = &row.thing_properties;
    let text =
        |m: &Map<String, Value>, key: &str| m.get(key).and_then(Value::as_str).map(str::to_owned);
    let station = text(p, "station_code").or_else(|| text(thing, "station_code"))?;
    let parameter = text(p, "parameter")?;
    let water_type = match text(thing, "water_type").as_deref() {
        Some("lake") => WaterType::Lake,
        _ => WaterType::River,
    };
    Some(StreamInfo {
        datastream_id: row.id,
        station,
        parameter,
        data_kind: text(p, "data_kind").unwrap_or_else(|| "unknown".into()),
        interval_s: p.get("interval_s").and_then(Value::as_i64),
        water_type,
        target_class: text(thing, "target_class").and_then(|c| c.parse::<WaterClass>().ok()),
        drinking_water: thing
            .get("drinking_water_source")
            .and_then(Value::as_bool)
            .unwrap_or(false),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn object(v: Value) -> Map<String, Value> {
        match v {
            Value::Object(m) => m,
            _ => Map::new(),
        }
    }

    #[test]
    fn reads_plan_properties() {
        let row = DatastreamRow {
            id: 120,
            properties: object(
                json!({ "station_code": "W01", "parameter": "tp", "data_kind": "hourly", "interval_s": 14400 }),
            ),
            thing_id: 18,
            thing_properties: object(
                json!({ "water_type": "lake", "target_class": "II", "drinking_water_source": true }),
            ),
        };
        let i = stream_info(&row).expect("info");
        assert_eq!(i.source(), "W01:tp:hourly");
        assert_eq!(
            (i.water_type, i.target_class, i.drinking_water, i.interval_s),
            (WaterType::Lake, Some(WaterClass::II), true, Some(14400))
        );
        let bare = DatastreamRow {
            id: 1,
            properties: Map::new(),
            thing_id: 1,
            thing_properties: Map::new(),
        };
        assert!(stream_info(&bare).is_none());
    }

    #[test]
    fn hourly_speaks_then_manual_then_realtime() {
        let kinds = |ks: &[DataKind]| speaking(ks.iter().copied(), |k| *k);
        use DataKind::*;
        assert_eq!(kinds(&[Realtime, Manual, Hourly, Minute]), Some(Hourly));
        assert_eq!(kinds(&[Realtime, Manual]), Some(Manual));
        assert_eq!(kinds(&[Daily, Realtime]), Some(Realtime));
        assert_eq!(kinds(&[Minute, Daily]), None);
        for k in [Realtime, Hourly, Manual, Minute, Daily] {
            assert_eq!(parse_data_kind(k.as_str()), Some(k));
        }
    }
}
