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
use serde_json::Value;
use sta::geo::{Envelope, union};
use std::collections::HashMap;
pub use store::observation_input::{Aggregate, ObsInput, parse_observation};
use store::observation_input::{json_text, parse_create_observations};
use store::{CommitEvent, ObservationEvent, StoreError, UpsertKind, bad_body};

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
        st.pending
            .entry(o.datastream_id)
            .or_default()
            .inserted(&o, id);
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
        st.pending.entry(o.datastream_id).or_default().cover(e);
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
    let mut out = Vec::new();
    for group in parse_create_observations(body)? {
        for row in group.rows {
            out.push(row.and_then(|input| {
                store_observation(conn, st, input, events).map_err(|e| match e {
                    StoreError::Sta(e) => e.to_string(),
                    other => other.to_string(),
                })
            }));
        }
    }
    Ok(out)
}
