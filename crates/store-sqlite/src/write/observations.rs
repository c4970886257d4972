//! Observations on the write path: parsing, the idempotency rule, FeatureOfInterest generation
//! and the maintained per-datastream aggregates (count, time ranges, latest).
//!
//! Idempotency rule (stations resend, HJ 212 up to three times, and backfill): an observation is
//! keyed by (datastream, phenomenon time start). Same key and same result and resultQuality → no
//! change (`Unchanged`). Same key, different result or quality → the row is replaced and the old
//! values are kept in `observation_revisions` (`Replaced`). Raw values are never edited otherwise.

use super::WriterState;
use crate::error::Db;
use crate::executor::SqliteExecutor;
use rusqlite::types::Value as SqlValue;
use rusqlite::{Connection, OptionalExtension, params};
use serde_json::{Map, Value};
use sta::geo::{Envelope, union};
use std::collections::HashMap;
use store::{CommitEvent, NewObservation, ObservationEvent, StoreError, UpsertKind, bad_body};

/// A fully parsed observation ready to store.
#[derive(Debug, Clone)]
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
    count_delta: i64,
    min_start: Option<i64>,
    max_end: Option<i64>,
    min_result_time: Option<i64>,
    max_result_time: Option<i64>,
    latest: Option<(i64, i64)>,
    /// The envelope of the features of this command's observations (`observedArea`).
    area: Option<Envelope>,
}

fn min_opt(a: Option<i64>, b: i64) -> Option<i64> {
    Some(a.map_or(b, |a| a.min(b)))
}
fn max_opt(a: Option<i64>, b: i64) -> Option<i64> {
    Some(a.map_or(b, |a| a.max(b)))
}

pub fn flush_aggregates(
    conn: &Connection,
    pending: &mut HashMap<i64, Aggregate>,
    areas: &mut HashMap<i64, Option<Envelope>>,
) -> Result<(), StoreError> {
    let mut stmt = conn.prepare_cached(
        "UPDATE datastreams SET observation_count = observation_count + ?2,
           phenomenon_time_start = MIN(COALESCE(phenomenon_time_start, ?3), ?3),
           phenomenon_time_end = MAX(COALESCE(phenomenon_time_end, ?4), ?4),
           result_time_start = CASE WHEN ?5 IS NULL THEN result_time_start ELSE MIN(COALESCE(result_time_start, ?5), ?5) END,
           result_time_end = CASE WHEN ?6 IS NULL THEN result_time_end ELSE MAX(COALESCE(result_time_end, ?6), ?6) END,
           latest_observation_id = CASE WHEN latest_phenomenon_time IS NULL OR ?7 >= latest_phenomenon_time THEN ?8 ELSE latest_observation_id END,
           latest_phenomenon_time = CASE WHEN latest_phenomenon_time IS NULL OR ?7 >= latest_phenomenon_time THEN ?7 ELSE latest_phenomenon_time END
         WHERE id = ?1",
    ).db()?;
    for (ds, agg) in pending.drain() {
        if let Some(area) = agg.area {
            extend_area(conn, areas, ds, area)?;
        }
        let Some((latest_time, latest_id)) = agg.latest else {
            continue;
        };
        stmt.execute(params![
            ds,
            agg.count_delta,
            agg.min_start,
            agg.max_end,
            agg.min_result_time,
            agg.max_result_time,
            latest_time,
            latest_id
        ])
        .db()?;
    }
    Ok(())
}

/// Grows the datastream's stored `observedArea` to hold `area`. The stored envelope is cached
/// in the writer, so a batch into a datastream whose features are already inside it (fixed
/// stations: every batch but the first) costs no statement.
fn extend_area(
    conn: &Connection,
    areas: &mut HashMap<i64, Option<Envelope>>,
    ds: i64,
    area: Envelope,
) -> Result<(), StoreError> {
    let exec = SqliteExecutor(conn);
    let current = match areas.get(&ds) {
        Some(a) => *a,
        None => store::observed_area::stored(&exec, ds)?,
    };
    let grown = union(current, area);
    if current != Some(grown) {
        store::observed_area::store(&exec, ds, Some(grown))?;
    }
    areas.insert(ds, Some(grown));
    Ok(())
}

/// The envelope of a feature, cached in the writer (features rarely change, and every
/// structural command clears the cache).
fn feature_envelope(
    conn: &Connection,
    cache: &mut HashMap<i64, Option<Envelope>>,
    feature: i64,
) -> Result<Option<Envelope>, StoreError> {
    if let Some(e) = cache.get(&feature) {
        return Ok(*e);
    }
    let e = store::observed_area::feature_envelope(&SqliteExecutor(conn), feature)?;
    cache.insert(feature, e);
    Ok(e)
}

/// The two stored result columns (`store::deep_insert::encode_result`), as rusqlite values.
pub fn encode_result(v: &Value) -> (SqlValue, Option<String>) {
    let (native, json) = store::deep_insert::encode_result(v);
    let native = match native {
        store::sql::SqlValue::Null => SqlValue::Null,
        store::sql::SqlValue::Int(i) => SqlValue::Integer(i),
        store::sql::SqlValue::Float(f) => SqlValue::Real(f),
        store::sql::SqlValue::Text(t) => SqlValue::Text(t),
    };
    (native, json)
}

fn json_text(v: &Option<Value>) -> Option<String> {
    v.as_ref().filter(|v| !v.is_null()).map(|v| v.to_string())
}

/// Parses an Observation body. `datastream` comes from the body's `Datastream` or the path.
pub fn parse_observation(
    m: &Map<String, Value>,
    datastream_id: i64,
    feature_id: Option<i64>,
) -> Result<ObsInput, StoreError> {
    let result = m
        .get("result")
        .cloned()
        .ok_or_else(|| bad_body("Observation: 'result' is required"))?;
    let (start, end) = match m.get("phenomenonTime") {
        None | Some(Value::Null) => (store::clock::now_micros(), None),
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
    let result_time = match m.get("resultTime") {
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
    let valid = match m.get("validTime") {
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
    let parameters = match m.get("parameters") {
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
        result_quality: m.get("resultQuality").cloned().filter(|v| !v.is_null()),
        valid,
        parameters,
        feature_id,
    })
}

fn datastream_exists(conn: &Connection, st: &mut WriterState, ds: i64) -> Result<bool, StoreError> {
    if st.known_datastreams.contains(&ds) {
        return Ok(true);
    }
    let found = conn
        .prepare_cached("SELECT 1 FROM datastreams WHERE id = ?1")
        .db()?
        .query_row([ds], |_| Ok(()))
        .optional()
        .db()?
        .is_some();
    if found {
        st.known_datastreams.insert(ds);
    }
    Ok(found)
}

/// The FeatureOfInterest for an observation that names none: the one generated from its
/// Thing's Location, created on first use (OGC 18-088 §8.2.7).
fn generated_feature(conn: &Connection, st: &mut WriterState, ds: i64) -> Result<i64, StoreError> {
    if let Some(f) = st.feature_for_datastream.get(&ds) {
        return Ok(*f);
    }
    let id = store::feature::generated_for_datastream(&SqliteExecutor(conn), ds)?;
    st.feature_for_datastream.insert(ds, id);
    Ok(id)
}

/// The stored columns the idempotency rule compares: id, result, result_json, quality, parameters.
type StoredRow = (
    i64,
    SqlValue,
    Option<String>,
    Option<String>,
    Option<String>,
);

/// Stores one observation under the idempotency rule.
pub fn store_observation(
    conn: &Connection,
    st: &mut WriterState,
    o: ObsInput,
    events: &mut Vec<CommitEvent>,
) -> Result<(i64, UpsertKind), StoreError> {
    st.time.check(o.start)?;
    if !datastream_exists(conn, st, o.datastream_id)? {
        return Err(bad_body(format!(
            "Datastream({}) does not exist",
            o.datastream_id
        )));
    }
    let feature_id = match o.feature_id {
        Some(f) => {
            let ok = conn
                .prepare_cached("SELECT 1 FROM features WHERE id = ?1")
                .db()?
                .query_row([f], |_| Ok(()))
                .optional()
                .db()?
                .is_some();
            if !ok {
                return Err(bad_body(format!("FeatureOfInterest({f}) does not exist")));
            }
            f
        }
        None => generated_feature(conn, st, o.datastream_id)?,
    };
    let (native, json) = encode_result(&o.result);
    let quality = json_text(&o.result_quality);
    let parameters = json_text(&o.parameters);
    let (valid_start, valid_end) = match o.valid {
        Some((s, e)) => (Some(s), e),
        None => (None, None),
    };
    // Insert first: a new value (the common case) costs one B-tree descent. Only when the key is
    // taken do we read the stored row and apply the idempotency rule.
    let id = st.next_observation_id;
    let inserted = conn
        .prepare_cached(
            "INSERT INTO observations (datastream_id, phenomenon_time_start, id, phenomenon_time_end, result, result_json,
               result_time, result_quality, valid_time_start, valid_time_end, parameters, feature_id)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?12)
             ON CONFLICT (datastream_id, phenomenon_time_start) DO NOTHING",
        ).db()?
        .execute(params![
            o.datastream_id,
            o.start,
            id,
            o.end,
            native,
            json,
            o.result_time,
            quality,
            valid_start,
            valid_end,
            parameters,
            feature_id
        ]).db()?;
    let kind = if inserted == 1 {
        st.next_observation_id += 1;
        let agg = st.pending.entry(o.datastream_id).or_default();
        agg.count_delta += 1;
        agg.min_start = min_opt(agg.min_start, o.start);
        agg.max_end = max_opt(agg.max_end, o.end.unwrap_or(o.start));
        if let Some(rt) = o.result_time {
            agg.min_result_time = min_opt(agg.min_result_time, rt);
            agg.max_result_time = max_opt(agg.max_result_time, rt);
        }
        if agg.latest.is_none_or(|(t, _)| o.start >= t) {
            agg.latest = Some((o.start, id));
        }
        (id, UpsertKind::Inserted)
    } else {
        let (id, old_native, old_json, old_quality, old_parameters): StoredRow = conn
            .prepare_cached(
                "SELECT id, result, result_json, result_quality, parameters FROM observations
                 WHERE datastream_id = ?1 AND phenomenon_time_start = ?2",
            )
            .db()?
            .query_row(params![o.datastream_id, o.start], |r| {
                Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?))
            })
            .db()?;
        if old_native == native && old_json == json && old_quality == quality {
            return Ok((id, UpsertKind::Unchanged));
        }
        conn.prepare_cached(
            "INSERT INTO observation_revisions (observation_id, revised_at, old_result, old_result_json, old_result_quality, old_parameters)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
        ).db()?
        .execute(params![id, store::clock::now_micros(), old_native, old_json, old_quality, old_parameters]).db()?;
        conn.prepare_cached(
            "UPDATE observations SET phenomenon_time_end = ?2, result = ?3, result_json = ?4, result_time = ?5,
               result_quality = ?6, valid_time_start = ?7, valid_time_end = ?8, parameters = ?9, feature_id = ?10
             WHERE id = ?1",
        ).db()?
        .execute(params![id, o.end, native, json, o.result_time, quality, valid_start, valid_end, parameters, feature_id]).db()?;
        (id, UpsertKind::Replaced)
    };
    // observedArea: the feature's envelope joins the datastream's (a replaced row's old feature
    // stays counted until the next recompute; an envelope may only be too large, never miss).
    if let Some(e) = feature_envelope(conn, &mut st.feature_envelopes, feature_id)? {
        let agg = st.pending.entry(o.datastream_id).or_default();
        agg.area = Some(union(agg.area, e));
    }
    events.push(CommitEvent::Observation(ObservationEvent {
        id: kind.0,
        datastream_id: o.datastream_id,
        phenomenon_time: o.start,
        result: o.result,
        result_quality: o.result_quality,
        kind: kind.1,
    }));
    Ok(kind)
}

/// `POST /CreateObservations`: each row is validated first; a bad row becomes `"error"` in the
/// answer without failing the others.
pub fn create_observations(
    conn: &Connection,
    st: &mut WriterState,
    body: &Value,
    events: &mut Vec<CommitEvent>,
) -> Result<Vec<store::RowOutcome>, StoreError> {
    let groups = body
        .as_array()
        .ok_or_else(|| bad_body("CreateObservations: the body must be a JSON array"))?;
    let mut out = Vec::new();
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
        let ds = super::id_of(ds).map_err(|_| {
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
        for c in &components {
            if !matches!(
                *c,
                "id" | "phenomenonTime"
                    | "resultTime"
                    | "result"
                    | "resultQuality"
                    | "validTime"
                    | "parameters"
                    | "FeatureOfInterest/id"
            ) {
                return Err(bad_body(format!(
                    "CreateObservations: item {gi}: unknown component '{c}'"
                )));
            }
        }
        let rows = g
            .get("dataArray")
            .and_then(Value::as_array)
            .ok_or_else(|| {
                bad_body(format!(
                    "CreateObservations: item {gi} needs a \"dataArray\" array"
                ))
            })?;
        for row in rows {
            out.push(create_one(conn, st, ds, &components, row, events));
        }
    }
    Ok(out)
}

fn create_one(
    conn: &Connection,
    st: &mut WriterState,
    ds: i64,
    components: &[&str],
    row: &Value,
    events: &mut Vec<CommitEvent>,
) -> Result<(i64, UpsertKind), String> {
    let cells = row.as_array().ok_or("a dataArray row must be an array")?;
    if cells.len() != components.len() {
        return Err(format!(
            "row has {} values for {} components",
            cells.len(),
            components.len()
        ));
    }
    let mut m = Map::new();
    let mut feature = None;
    for (c, v) in components.iter().zip(cells) {
        match *c {
            "FeatureOfInterest/id" => feature = Some(super::id_of(v).map_err(|e| e.to_string())?),
            "id" => {}
            other => {
                m.insert(other.to_string(), v.clone());
            }
        }
    }
    let input = parse_observation(&m, ds, feature).map_err(|e| e.to_string())?;
    match store_observation(conn, st, input, events) {
        Ok(r) => Ok(r),
        Err(StoreError::Sta(e)) => Err(e.to_string()),
        Err(other) => Err(other.to_string()),
    }
}
