//! Observations on the write path: parsing, the idempotency rule, FeatureOfInterest generation
//! and the maintained per-datastream aggregates (count, time ranges, latest).
//!
//! Idempotency rule (stations resend, HJ 212 up to three times, and backfill): an observation is
//! keyed by (datastream, phenomenon time start). Same key and same result and resultQuality → no
//! change (`Unchanged`). Same key, different result or quality → the row is replaced and the old
//! values are kept in `observation_revisions` (`Replaced`). Raw values are never edited otherwise.

use super::WriterState;
use super::bulk;
use crate::exec::{PgExec, cell};
use serde_json::Value;
use sta::geo::{Envelope, union};
use std::collections::HashMap;
use store::executor::Executor;
pub use store::observation_input::{Aggregate, ObsInput, parse_observation};
use store::observation_input::{json_text, parse_create_observations};
use store::sql::SqlValue;
use store::{CommitEvent, ObservationEvent, StoreError, UpsertKind, bad_body};

pub fn flush_aggregates(
    conn: &PgExec,
    pending: &mut HashMap<i64, Aggregate>,
    areas: &mut HashMap<i64, Option<Envelope>>,
) -> Result<(), StoreError> {
    let sql = "UPDATE datastreams SET observation_count = observation_count + $2,
           phenomenon_time_start = LEAST(COALESCE(phenomenon_time_start, $3::BIGINT), $3::BIGINT),
           phenomenon_time_end = GREATEST(COALESCE(phenomenon_time_end, $4::BIGINT), $4::BIGINT),
           result_time_start = CASE WHEN $5::BIGINT IS NULL THEN result_time_start ELSE LEAST(COALESCE(result_time_start, $5::BIGINT), $5::BIGINT) END,
           result_time_end = CASE WHEN $6::BIGINT IS NULL THEN result_time_end ELSE GREATEST(COALESCE(result_time_end, $6::BIGINT), $6::BIGINT) END,
           latest_observation_id = CASE WHEN latest_phenomenon_time IS NULL OR $7::BIGINT >= latest_phenomenon_time THEN $8::BIGINT ELSE latest_observation_id END,
           latest_phenomenon_time = CASE WHEN latest_phenomenon_time IS NULL OR $7::BIGINT >= latest_phenomenon_time THEN $7::BIGINT ELSE latest_phenomenon_time END
         WHERE id = $1";
    let opt = |v: Option<i64>| v.map_or(SqlValue::Null, SqlValue::Int);
    for (ds, agg) in pending.drain() {
        if let Some(area) = agg.area {
            extend_area(conn, areas, ds, area)?;
        }
        let Some((latest_time, latest_id)) = agg.latest else {
            continue;
        };
        conn.execute(
            sql,
            &[
                SqlValue::Int(ds),
                SqlValue::Int(agg.count_delta),
                opt(agg.min_start),
                opt(agg.max_end),
                opt(agg.min_result_time),
                opt(agg.max_result_time),
                SqlValue::Int(latest_time),
                SqlValue::Int(latest_id),
            ],
        )?;
    }
    Ok(())
}

/// Grows the datastream's stored `observedArea` to hold `area`. The stored envelope is cached
/// in the writer, so a batch into a datastream whose features are already inside it (fixed
/// stations: every batch but the first) costs no statement.
fn extend_area(
    conn: &PgExec,
    areas: &mut HashMap<i64, Option<Envelope>>,
    ds: i64,
    area: Envelope,
) -> Result<(), StoreError> {
    let exec = conn;
    let current = match areas.get(&ds) {
        Some(a) => *a,
        None => store::observed_area::stored(exec, ds)?,
    };
    let grown = union(current, area);
    if current != Some(grown) {
        store::observed_area::store(exec, ds, Some(grown))?;
    }
    areas.insert(ds, Some(grown));
    Ok(())
}

/// The envelope of a feature, cached in the writer (features rarely change, and every
/// structural command clears the cache).
fn feature_envelope(
    conn: &PgExec,
    cache: &mut HashMap<i64, Option<Envelope>>,
    feature: i64,
) -> Result<Option<Envelope>, StoreError> {
    if let Some(e) = cache.get(&feature) {
        return Ok(*e);
    }
    let e = store::observed_area::feature_envelope(conn, feature)?;
    cache.insert(feature, e);
    Ok(e)
}

/// The two stored result columns on PostgreSQL: a number in `result` (double precision, what
/// `$filter`, series and aggregates compare), every other JSON value — and an integer, so that
/// it reads back as the integer it was — in `result_json` (`store::read::decode::result_value`
/// reads `result_json` first).
pub fn encode_result(v: &Value) -> (SqlValue, Option<String>) {
    store::deep_insert::encode_result_for(store::sql::Dialect::Postgres, v)
}

fn datastream_exists(conn: &PgExec, st: &mut WriterState, ds: i64) -> Result<bool, StoreError> {
    if st.known_datastreams.contains(&ds) {
        return Ok(true);
    }
    let found = conn
        .query_first(
            "SELECT 1 FROM datastreams WHERE id = $1",
            &[SqlValue::Int(ds)],
        )?
        .is_some();
    if found {
        st.known_datastreams.insert(ds);
    }
    Ok(found)
}

/// The FeatureOfInterest for an observation that names none: the one generated from its
/// Thing's Location, created on first use (OGC 18-088 §8.2.7).
fn generated_feature(conn: &PgExec, st: &mut WriterState, ds: i64) -> Result<i64, StoreError> {
    if let Some(f) = st.feature_for_datastream.get(&ds) {
        return Ok(*f);
    }
    let id = store::feature::generated_for_datastream(conn, ds)?;
    st.feature_for_datastream.insert(ds, id);
    Ok(id)
}

/// An observation checked and encoded, ready for the INSERT.
pub(super) struct Prepared {
    pub o: ObsInput,
    pub feature_id: i64,
    pub native: SqlValue,
    pub json: Option<String>,
    pub quality: Option<String>,
    pub parameters: Option<String>,
    pub valid_start: Option<i64>,
    pub valid_end: Option<i64>,
}

fn opt_i(v: Option<i64>) -> SqlValue {
    v.map_or(SqlValue::Null, SqlValue::Int)
}

fn opt_t(v: &Option<String>) -> SqlValue {
    v.clone().map_or(SqlValue::Null, SqlValue::Text)
}

/// The checks before the INSERT: time, datastream, feature (generated when absent), the
/// month's partition; the encoded columns.
fn prepare(conn: &PgExec, st: &mut WriterState, o: ObsInput) -> Result<Prepared, StoreError> {
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
                .query_first("SELECT 1 FROM features WHERE id = $1", &[SqlValue::Int(f)])?
                .is_some();
            if !ok {
                return Err(bad_body(format!("FeatureOfInterest({f}) does not exist")));
            }
            f
        }
        None => generated_feature(conn, st, o.datastream_id)?,
    };
    // The month's partition exists before its first row (never the default partition).
    let month = crate::schema::month_of(o.start);
    if !st.months.contains(&month) {
        crate::schema::ensure_partition(conn, o.start)?;
        st.months.insert(month);
    }
    let (native, json) = encode_result(&o.result);
    let quality = json_text(&o.result_quality);
    let parameters = json_text(&o.parameters);
    let (valid_start, valid_end) = match o.valid {
        Some((s, e)) => (Some(s), e),
        None => (None, None),
    };
    Ok(Prepared {
        o,
        feature_id,
        native,
        json,
        quality,
        parameters,
        valid_start,
        valid_end,
    })
}

/// The bookkeeping of an inserted row: aggregates of its datastream.
fn inserted(st: &mut WriterState, o: &ObsInput, id: i64) {
    st.pending
        .entry(o.datastream_id)
        .or_default()
        .inserted(o, id);
}

/// The key is taken: the idempotency rule against the stored row (unchanged, or replaced with
/// the old values kept as a revision).
fn on_conflict(conn: &PgExec, p: &Prepared) -> Result<(i64, UpsertKind), StoreError> {
    let o = &p.o;
    let rows = conn.rows(
        "SELECT id, result, result_json, result_quality, parameters FROM observations
         WHERE datastream_id = $1 AND phenomenon_time_start = $2 FOR UPDATE",
        &[SqlValue::Int(o.datastream_id), SqlValue::Int(o.start)],
    )?;
    let row = rows
        .first()
        .ok_or_else(|| StoreError::Database("the conflicting observation vanished".into()))?;
    let id = crate::exec::int(row, 0)?.unwrap_or(0);
    let old_native = cell(row, 1)?.to_value();
    let old_json = crate::exec::text(row, 2)?;
    let old_quality = crate::exec::text(row, 3)?;
    let old_parameters = crate::exec::text(row, 4)?;
    if old_native == p.native && old_json == p.json && old_quality == p.quality {
        return Ok((id, UpsertKind::Unchanged));
    }
    conn.execute(
        "INSERT INTO observation_revisions (observation_id, revised_at, old_result, old_result_json, old_result_quality, old_parameters)
         VALUES ($1, $2, $3, $4, $5, $6)",
        &[
            SqlValue::Int(id),
            SqlValue::Int(store::clock::now_micros()),
            old_native,
            opt_t(&old_json),
            opt_t(&old_quality),
            opt_t(&old_parameters),
        ],
    )?;
    conn.execute(
        "UPDATE observations SET phenomenon_time_end = $3, result = $4, result_json = $5, result_time = $6,
           result_quality = $7, valid_time_start = $8, valid_time_end = $9, parameters = $10, feature_id = $11
         WHERE datastream_id = $1 AND phenomenon_time_start = $2",
        &[
            SqlValue::Int(o.datastream_id),
            SqlValue::Int(o.start),
            opt_i(o.end),
            p.native.clone(),
            opt_t(&p.json),
            opt_i(o.result_time),
            opt_t(&p.quality),
            opt_i(p.valid_start),
            opt_i(p.valid_end),
            opt_t(&p.parameters),
            SqlValue::Int(p.feature_id),
        ],
    )?;
    Ok((id, UpsertKind::Replaced))
}

/// What follows every stored row: the observedArea envelope, the event.
fn after(
    conn: &PgExec,
    st: &mut WriterState,
    p: Prepared,
    kind: (i64, UpsertKind),
    events: &mut Vec<CommitEvent>,
) -> Result<(), StoreError> {
    if let Some(e) = feature_envelope(conn, &mut st.feature_envelopes, p.feature_id)? {
        st.pending.entry(p.o.datastream_id).or_default().cover(e);
    }
    events.push(CommitEvent::Observation(ObservationEvent {
        id: kind.0,
        datastream_id: p.o.datastream_id,
        phenomenon_time: p.o.start,
        result: p.o.result,
        result_quality: p.o.result_quality,
        kind: kind.1,
    }));
    Ok(())
}

/// Stores one observation under the idempotency rule.
pub fn store_observation(
    conn: &PgExec,
    st: &mut WriterState,
    o: ObsInput,
    events: &mut Vec<CommitEvent>,
) -> Result<(i64, UpsertKind), StoreError> {
    let mut out = store_observations(conn, st, vec![Ok(o)], events)?;
    out.pop()
        .unwrap_or_else(|| Err(StoreError::Database("no outcome".into())))
}

/// One row's outcome: its id and what the idempotency rule did, or why it was refused.
type Stored = Result<(i64, UpsertKind), StoreError>;

/// Stores many observations under the idempotency rule, in order, as storing them one by one
/// would, but with one bulk insert per [`bulk::CHUNK`] rows (a few round trips instead of one
/// per row). A row that fails its checks (`Err` in, or a client error in `prepare`) is
/// an `Err` out; an engine error fails the whole call.
fn store_observations(
    conn: &PgExec,
    st: &mut WriterState,
    inputs: Vec<Result<ObsInput, StoreError>>,
    events: &mut Vec<CommitEvent>,
) -> Result<Vec<Stored>, StoreError> {
    // Rows are large (a Prepared is a few hundred bytes): both lists are sized once, and a
    // row waiting for its INSERT holds no placeholder error (a growing list and a String per
    // row were a tenth of the writer's time).
    let mut out: Vec<Option<Stored>> = Vec::with_capacity(inputs.len());
    let mut ready: Vec<(usize, Prepared)> = Vec::with_capacity(inputs.len());
    for (i, input) in inputs.into_iter().enumerate() {
        match input.and_then(|o| prepare(conn, st, o)) {
            Ok(p) => {
                ready.push((i, p));
                out.push(None);
            }
            Err(e @ StoreError::Sta(_)) => out.push(Some(Err(e))),
            Err(e) => return Err(e),
        }
    }
    let mut rest = ready.into_iter().peekable();
    while rest.peek().is_some() {
        let chunk: Vec<(usize, Prepared)> = rest.by_ref().take(bulk::CHUNK).collect();
        let refs: Vec<&Prepared> = chunk.iter().map(|(_, p)| p).collect();
        let mut ids = bulk::insert_new(conn, &refs)?;
        for (i, p) in chunk {
            let kind = match ids.remove(&(p.o.datastream_id, p.o.start)) {
                Some(id) => {
                    inserted(st, &p.o, id);
                    (id, UpsertKind::Inserted)
                }
                None => on_conflict(conn, &p)?,
            };
            after(conn, st, p, kind, events)?;
            out[i] = Some(Ok(kind));
        }
    }
    Ok(out
        .into_iter()
        .map(|r| r.unwrap_or_else(|| Err(StoreError::Database("a row was not stored".into()))))
        .collect())
}

/// `POST /CreateObservations`: each row is validated first; a bad row becomes `"error"` in the
/// answer without failing the others.
pub fn create_observations(
    conn: &PgExec,
    st: &mut WriterState,
    body: &Value,
    events: &mut Vec<CommitEvent>,
) -> Result<Vec<store::RowOutcome>, StoreError> {
    let mut out = Vec::new();
    for group in parse_create_observations(body)? {
        let inputs = group
            .rows
            .into_iter()
            .map(|r| r.map_err(bad_body))
            .collect();
        for r in store_observations(conn, st, inputs, events)? {
            out.push(r.map_err(|e| match e {
                StoreError::Sta(e) => e.to_string(),
                other => other.to_string(),
            }));
        }
    }
    Ok(out)
}

/// The rows of `POST /CreateObservations` or `InsertObservations`, stored in multi-row INSERTs.
pub fn insert_observations(
    conn: &PgExec,
    st: &mut WriterState,
    rows: Vec<store::NewObservation>,
    events: &mut Vec<CommitEvent>,
) -> Result<Vec<store::RowOutcome>, StoreError> {
    let inputs = rows.into_iter().map(|r| Ok(ObsInput::from(r))).collect();
    Ok(store_observations(conn, st, inputs, events)?
        .into_iter()
        .map(|r| {
            r.map_err(|e| match e {
                StoreError::Sta(e) => e.to_string(),
                other => other.to_string(),
            })
        })
        .collect())
}
