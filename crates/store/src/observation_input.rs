//! Observations on their way in, before any backend sees them: the parsed row (`ObsInput`),
//! the body of `POST /CreateObservations` read into rows, and the per-datastream aggregate a
//! command accumulates (count, time ranges, latest, observedArea). Pure: each backend's
//! `write/observations.rs` stores what this produces with its own SQL.

use crate::deep_insert::id_of;
use crate::{NewObservation, StoreError, bad_body};
use serde_json::{Map, Value};
use sta::geo::{Envelope, union};

/// A fully parsed observation ready to store.
#[derive(Debug, Clone, PartialEq)]
pub struct ObsInput {
    pub datastream_id: i64,
    pub start: i64,
    pub end: Option<i64>,
    pub result: Value,
    pub result_time: Option<i64>,
    pub result_quality: Option<Value>,
    pub valid: Option<(i64, Option<i64>)>,
    pub parameters: Option<Value>,
    pub feature_id: Option<i64>,
}

impl From<NewObservation> for ObsInput {
    fn from(n: NewObservation) -> Self {
        ObsInput {
            datastream_id: n.datastream_id,
            start: n.phenomenon_time,
            end: n.phenomenon_time_end,
            result: n.result,
            result_time: n.result_time,
            result_quality: n.result_quality,
            valid: None,
            parameters: n.parameters,
            feature_id: n.feature_id,
        }
    }
}

/// Per-datastream changes accumulated during one command and written once at its end, so a
/// bulk insert of N rows into one datastream costs one UPDATE, not N.
#[derive(Debug, Clone, Default)]
pub struct Aggregate {
    pub count_delta: i64,
    pub min_start: Option<i64>,
    pub max_end: Option<i64>,
    pub min_result_time: Option<i64>,
    pub max_result_time: Option<i64>,
    /// (phenomenon time, id) of the newest observation of the command.
    pub latest: Option<(i64, i64)>,
    /// The envelope of the features of this command's observations (`observedArea`).
    pub area: Option<Envelope>,
}

fn min_opt(a: Option<i64>, b: i64) -> Option<i64> {
    Some(a.map_or(b, |a| a.min(b)))
}
fn max_opt(a: Option<i64>, b: i64) -> Option<i64> {
    Some(a.map_or(b, |a| a.max(b)))
}

impl Aggregate {
    /// Counts a newly inserted row `o` stored as `id`.
    pub fn inserted(&mut self, o: &ObsInput, id: i64) {
        self.count_delta += 1;
        self.min_start = min_opt(self.min_start, o.start);
        self.max_end = max_opt(self.max_end, o.end.unwrap_or(o.start));
        if let Some(rt) = o.result_time {
            self.min_result_time = min_opt(self.min_result_time, rt);
            self.max_result_time = max_opt(self.max_result_time, rt);
        }
        if self.latest.is_none_or(|(t, _)| o.start >= t) {
            self.latest = Some((o.start, id));
        }
    }

    /// Grows the command's observedArea by a feature's envelope.
    pub fn cover(&mut self, e: Envelope) {
        self.area = Some(union(self.area, e));
    }
}

/// A JSON member stored as text (resultQuality, parameters); JSON null is no value.
pub fn json_text(v: &Option<Value>) -> Option<String> {
    v.as_ref().filter(|v| !v.is_null()).map(|v| v.to_string())
}

/// Parses an Observation body. `datastream` comes from the body's `Datastream` or the path.
pub fn parse_observation(
    m: &Map<String, Value>,
    datastream_id: i64,
    feature_id: Option<i64>,
) -> Result<ObsInput, StoreError> {
    parse_members(|k| m.get(k), datastream_id, feature_id)
}

/// Parses an Observation from its members as `get` finds them (an object, or a dataArray row
/// against its components).
fn parse_members<'a>(
    get: impl Fn(&str) -> Option<&'a Value>,
    datastream_id: i64,
    feature_id: Option<i64>,
) -> Result<ObsInput, StoreError> {
    let result = get("result")
        .cloned()
        .ok_or_else(|| bad_body("Observation: 'result' is required"))?;
    let (start, end) = match get("phenomenonTime") {
        None | Some(Value::Null) => (crate::clock::now_micros(), None),
        Some(Value::String(s)) => {
            let t = sta::time::parse_time_value(s)
                .map_err(|e| bad_body(format!("Observation: phenomenonTime '{s}': {e}")))?;
            (t.start, t.end)
        }
        Some(other) => {
            return Err(bad_body(format!(
                "Observation: phenomenonTime must be an ISO 8601 string, not {other}"
            )));
        }
    };
    let result_time = match get("resultTime") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => Some(
            sta::time::parse_instant(s)
                .map_err(|e| bad_body(format!("Observation: resultTime '{s}': {e}")))?,
        ),
        Some(other) => {
            return Err(bad_body(format!(
                "Observation: resultTime must be an ISO 8601 instant, not {other}"
            )));
        }
    };
    let valid = match get("validTime") {
        None | Some(Value::Null) => None,
        Some(Value::String(s)) => {
            let t = sta::time::parse_time_value(s)
                .map_err(|e| bad_body(format!("Observation: validTime '{s}': {e}")))?;
            Some((t.start, t.end))
        }
        Some(other) => {
            return Err(bad_body(format!(
                "Observation: validTime must be an ISO 8601 interval, not {other}"
            )));
        }
    };
    let parameters = match get("parameters") {
        None | Some(Value::Null) => None,
        Some(v @ Value::Object(_)) => Some(v.clone()),
        Some(other) => {
            return Err(bad_body(format!(
                "Observation: parameters must be a JSON object, not {other}"
            )));
        }
    };
    Ok(ObsInput {
        datastream_id,
        start,
        end,
        result,
        result_time,
        result_quality: get("resultQuality").cloned().filter(|v| !v.is_null()),
        valid,
        parameters,
        feature_id,
    })
}

/// The components a dataArray may name (OGC 18-088, CreateObservations).
const COMPONENTS: [&str; 8] = [
    "id",
    "phenomenonTime",
    "resultTime",
    "result",
    "resultQuality",
    "validTime",
    "parameters",
    "FeatureOfInterest/id",
];

/// One item of a CreateObservations body: its datastream and each row parsed, or why the row
/// is refused (the answer's `"error"` for that row; the other rows stand).
pub struct ObservationGroup {
    pub datastream_id: i64,
    pub rows: Vec<Result<ObsInput, String>>,
}

/// Reads the body of `POST /CreateObservations` (the dataArray form). A malformed item fails
/// the whole request, naming the item; a malformed row fails that row only.
pub fn parse_create_observations(body: &Value) -> Result<Vec<ObservationGroup>, StoreError> {
    let groups = body
        .as_array()
        .ok_or_else(|| bad_body("CreateObservations: the body must be a JSON array"))?;
    let mut out = Vec::with_capacity(groups.len());
    for (gi, group) in groups.iter().enumerate() {
        let g = group
            .as_object()
            .ok_or_else(|| bad_body(format!("CreateObservations: item {gi} must be an object")))?;
        let ds = g
            .get("Datastream")
            .and_then(|d| d.get("@iot.id"))
            .ok_or_else(|| {
                bad_body(format!(
                    "CreateObservations: item {gi} needs \"Datastream\": {{\"@iot.id\": …}}"
                ))
            })?;
        let datastream_id = id_of(ds).map_err(|_| {
            bad_body(format!(
                "CreateObservations: item {gi}: bad Datastream id {ds}"
            ))
        })?;
        let components: Vec<&str> = g
            .get("components")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                bad_body(format!(
                    "CreateObservations: item {gi} needs a \"components\" array"
                ))
            })?
            .iter()
            .map(|c| c.as_str().unwrap_or(""))
            .collect();
        for required in ["phenomenonTime", "result"] {
            if !components.contains(&required) {
                return Err(bad_body(format!(
                    "CreateObservations: item {gi}: components must include {required}"
                )));
            }
        }
        if let Some(c) = components.iter().find(|c| !COMPONENTS.contains(c)) {
            return Err(bad_body(format!(
                "CreateObservations: item {gi}: unknown component '{c}'"
            )));
        }
        let rows = g
            .get("dataArray")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                bad_body(format!(
                    "CreateObservations: item {gi} needs a \"dataArray\" array"
                ))
            })?;
        out.push(ObservationGroup {
            datastream_id,
            rows: rows
                .iter()
                .map(|row| parse_row(datastream_id, &components, row))
                .collect(),
        });
    }
    Ok(out)
}

/// One dataArray row against its components, read in place (no object built per row).
fn parse_row(ds: i64, components: &[&str], row: &Value) -> Result<ObsInput, String> {
    let cells = row.as_array().ok_or("a dataArray row must be an array")?;
    if cells.len() != components.len() {
        return Err(format!(
            "row has {} values for {} components",
            cells.len(),
            components.len()
        ));
    }
    let feature = match components.iter().position(|c| *c == "FeatureOfInterest/id") {
        Some(i) => Some(id_of(&cells[i]).map_err(|e| e.to_string())?),
        None => None,
    };
    let get = |k: &str| components.iter().position(|c| *c == k).map(|i| &cells[i]);
    parse_members(get, ds, feature).map_err(|e| e.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_data_array_row_reads_as_its_object_form() {
        let body = json!([{
            "Datastream": {"@iot.id": 7},
            "components": ["phenomenonTime", "result", "resultQuality", "FeatureOfInterest/id"],
            "dataArray": [
                ["2026-03-01T00:05:00Z", 0.021, {"flag": "N"}, 3],
                ["2026-03-01T00:10:00Z/2026-03-01T00:15:00Z", 0.5, null, "4"],
                ["2026-03-01T00:20:00Z", 1],
                ["yesterday", 1, null, 3]
            ]
        }]);
        let groups = parse_create_observations(&body).expect("parsed");
        assert_eq!(groups.len(), 1);
        let g = &groups[0];
        assert_eq!(g.datastream_id, 7);
        let object = json!({"phenomenonTime": "2026-03-01T00:05:00Z", "result": 0.021,
                            "resultQuality": {"flag": "N"}});
        let expected = parse_observation(object.as_object().expect("object"), 7, Some(3));
        assert_eq!(g.rows[0].as_ref().ok(), expected.as_ref().ok());
        let second = g.rows[1].as_ref().expect("an interval row");
        assert_eq!(second.end, Some(second.start + 300_000_000));
        assert_eq!(
            (second.feature_id, second.result_quality.clone()),
            (Some(4), None)
        );
        assert_eq!(
            g.rows[2].as_ref().err().map(String::as_str),
            Some("row has 2 values for 4 components")
        );
        assert!(
            g.rows[3]
                .as_ref()
                .err()
                .is_some_and(|e| e.contains("phenomenonTime 'yesterday'")),
            "{:?}",
            g.rows[3]
        );
    }

    #[test]
    fn a_malformed_item_names_itself() {
        for (body, says) in [
            (json!({}), "must be a JSON array"),
            (json!([1]), "item 0 must be an object"),
            (
                json!([{"components": [], "dataArray": []}]),
                "item 0 needs \"Datastream\"",
            ),
            (
                json!([{"Datastream": {"@iot.id": 1}, "components": ["result"], "dataArray": []}]),
                "item 0: components must include phenomenonTime",
            ),
            (
                json!([{"Datastream": {"@iot.id": 1}, "components": ["phenomenonTime", "result", "colour"], "dataArray": []}]),
                "item 0: unknown component 'colour'",
            ),
            (
                json!([{"Datastream": {"@iot.id": 1}, "components": ["phenomenonTime", "result"]}]),
                "item 0 needs a \"dataArray\" array",
            ),
        ] {
            let e = parse_create_observations(&body)
                .err()
                .map(|e| e.to_string());
            assert!(
                e.as_deref().is_some_and(|e| e.contains(says)),
                "{body}: {e:?}"
            );
        }
    }

    #[test]
    fn the_aggregate_keeps_ranges_and_the_newest() {
        let o = |start: i64, rt: Option<i64>| ObsInput {
            datastream_id: 1,
            start,
            end: None,
            result: json!(1),
            result_time: rt,
            result_quality: None,
            valid: None,
            parameters: None,
            feature_id: None,
        };
        let mut a = Aggregate::default();
        a.inserted(&o(20, Some(25)), 2);
        a.inserted(&o(10, None), 1);
        a.inserted(&o(30, Some(5)), 3);
        assert_eq!(a.count_delta, 3);
        assert_eq!((a.min_start, a.max_end), (Some(10), Some(30)));
        assert_eq!((a.min_result_time, a.max_result_time), (Some(5), Some(25)));
        assert_eq!(a.latest, Some((30, 3)));
    }
}
