//! The observation rows of one command, stored in bulk: either one binary COPY straight into
//! the partitioned `observations` table (large chunks, the usual CreateObservations request),
//! or one `INSERT … SELECT FROM unnest(arrays) ON CONFLICT DO NOTHING` (small chunks, and
//! whenever the COPY cannot be sure it meets no stored key).
//!
//! Why two: PostgreSQL spends about twice the work on the INSERT (a function scan of the
//! arrays, the speculative insertion of ON CONFLICT, RETURNING) that COPY spends on the same
//! rows, and that work was most of a durable ingest (BENCHMARKS.md, issue 16). COPY has no
//! ON CONFLICT, so before it the keys already stored are looked up — one index range per
//! datastream and month, which for new values (the normal case: a station sends what it just measured)
//! finds nothing — and only rows whose key is free go into the COPY. A key stored by another
//! node between that look-up and the COPY makes the COPY fail with `unique_violation`; it runs
//! in a savepoint of its own, so the chunk is then stored by the INSERT instead, with the
//! idempotency rule of the caller applied to what it finds.

use super::observations::Prepared;
use crate::exec::{Db, PgExec};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::error::SqlState;
use postgres::types::{ToSql, Type};
use std::collections::{HashMap, HashSet};
use store::StoreError;
use store::sql::SqlValue;

/// Rows per bulk statement (bounds the INSERT's arrays and a COPY's ids; a CreateObservations
/// request is 1,000 rows in practice).
pub const CHUNK: usize = 10_000;

/// Below this many rows the INSERT's single round trip beats the COPY's five (the look-up,
/// the ids, the savepoint, the COPY, its release): HJ 212 frames and single observations.
const COPY_MIN_ROWS: usize = 64;

/// A chunk spread over more (datastream, month) ranges than this takes the INSERT (the look-up
/// has one range each).
const COPY_MAX_RANGES: usize = 32;

/// The key of a stored observation: (datastream, phenomenon time start).
type Key = (i64, i64);

/// Stores the rows whose key is free, returning their ids by key; a key that is taken — stored
/// before, or twice in `rows` (its first occurrence is stored) — is absent from the answer, for
/// the caller's idempotency rule.
pub(super) fn insert_new(
    conn: &PgExec,
    rows: &[&Prepared],
) -> Result<HashMap<Key, i64>, StoreError> {
    if rows.len() < COPY_MIN_ROWS {
        return insert_on_conflict(conn, rows);
    }
    let Some(taken) = stored_keys(conn, rows)? else {
        return insert_on_conflict(conn, rows);
    };
    let mut seen = HashSet::with_capacity(rows.len());
    let fresh: Vec<&Prepared> = rows
        .iter()
        .copied()
        .filter(|p| {
            let key = (p.o.datastream_id, p.o.start);
            !taken.contains(&key) && seen.insert(key)
        })
        .collect();
    if fresh.is_empty() {
        return Ok(HashMap::new());
    }
    let ids = take_ids(conn, fresh.len())?;
    match copy(conn, &fresh, &ids)? {
        Copied::Stored => Ok(fresh
            .iter()
            .zip(ids)
            .map(|(p, id)| ((p.o.datastream_id, p.o.start), id))
            .collect()),
        // Another node stored one of these keys meanwhile.
        Copied::KeyTaken => insert_on_conflict(conn, rows),
    }
}

/// The keys of `rows` already stored, or `None` when looking them up would read much more
/// than the chunk (its datastreams are many, or their time ranges hold many other stored
/// values: a backfill between stored ones) — then the INSERT decides row by row.
///
/// One statement for all the ranges (one round trip), a range per datastream and month so that
/// each lies inside one month's partition: planned for these values (the values are our own
/// integers, written as literals), PostgreSQL opens only those partitions, never the default
/// one (see `writer_session` in lib.rs for why that matters).
fn stored_keys(conn: &PgExec, rows: &[&Prepared]) -> Result<Option<HashSet<Key>>, StoreError> {
    // (datastream, month) → (first start, last start, rows)
    let mut ranges: HashMap<(i64, i64), (i64, i64, i64)> = HashMap::new();
    for p in rows {
        let month = crate::schema::month_of(p.o.start);
        let r = ranges
            .entry((p.o.datastream_id, month))
            .or_insert((p.o.start, p.o.start, 0));
        r.0 = r.0.min(p.o.start);
        r.1 = r.1.max(p.o.start);
        r.2 += 1;
    }
    if ranges.len() > COPY_MAX_RANGES {
        return Ok(None);
    }
    let ranges: Vec<(i64, i64, i64, i64)> = ranges
        .into_iter()
        .map(|((ds, _), (first, last, n))| (ds, first, last, 4 * n + 16))
        .collect();
    let sql = ranges
        .iter()
        .enumerate()
        .map(|(k, (ds, first, last, limit))| {
            format!(
                "(SELECT {k}, phenomenon_time_start FROM observations WHERE datastream_id = {ds} AND phenomenon_time_start BETWEEN {first} AND {last} LIMIT {limit})"
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let answer = conn.client().simple_query(&sql).db()?;
    let mut found = vec![0i64; ranges.len()];
    let mut taken = HashSet::new();
    for m in &answer {
        let postgres::SimpleQueryMessage::Row(row) = m else {
            continue;
        };
        let number = |i: usize| -> Result<i64, StoreError> {
            row.get(i)
                .and_then(|v| v.parse().ok())
                .ok_or_else(|| StoreError::Database("a stored key did not read as a number".into()))
        };
        let k = number(0)? as usize;
        let (ds, _, _, limit) = *ranges
            .get(k)
            .ok_or_else(|| StoreError::Database("a stored key of no range".into()))?;
        found[k] += 1;
        if found[k] >= limit {
            return Ok(None);
        }
        taken.insert((ds, number(1)?));
    }
    Ok(Some(taken))
}

/// `n` ids from the sequence every node shares, ascending (in the order of the rows).
fn take_ids(conn: &PgExec, n: usize) -> Result<Vec<i64>, StoreError> {
    let rows = conn.rows(
        "SELECT nextval('observations_id_seq') FROM generate_series(1, ?1)",
        &[SqlValue::Int(n as i64)],
    )?;
    let ids = rows
        .iter()
        .map(|r| crate::exec::int(r, 0).map(|v| v.unwrap_or(0)))
        .collect::<Result<Vec<_>, _>>()?;
    if ids.len() != n {
        return Err(StoreError::Database(format!(
            "the id sequence gave {} ids for {n} rows",
            ids.len()
        )));
    }
    Ok(ids)
}

enum Copied {
    Stored,
    KeyTaken,
}

/// One binary COPY of `rows` with `ids` into `observations`, in a savepoint: a taken key
/// rolls back only the COPY.
fn copy(conn: &PgExec, rows: &[&Prepared], ids: &[i64]) -> Result<Copied, StoreError> {
    const COPY: &str = "COPY observations (datastream_id, phenomenon_time_start, id, phenomenon_time_end, result, result_json, result_time, result_quality, valid_time_start, valid_time_end, parameters, feature_id) FROM STDIN BINARY";
    const TYPES: [Type; 12] = [
        Type::INT8,
        Type::INT8,
        Type::INT8,
        Type::INT8,
        Type::FLOAT8,
        Type::TEXT,
        Type::INT8,
        Type::TEXT,
        Type::INT8,
        Type::INT8,
        Type::TEXT,
        Type::INT8,
    ];
    let mut client = conn.client();
    client.batch_execute("SAVEPOINT bulk").db()?;
    let written = (|| -> Result<u64, postgres::Error> {
        let mut w = BinaryCopyInWriter::new(client.copy_in(COPY)?, &TYPES);
        for (p, id) in rows.iter().zip(ids) {
            let result = match p.native {
                SqlValue::Float(f) => Some(f),
                SqlValue::Int(i) => Some(i as f64),
                _ => None,
            };
            let row: [&(dyn ToSql + Sync); 12] = [
                &p.o.datastream_id,
                &p.o.start,
                id,
                &p.o.end,
                &result,
                &p.json,
                &p.o.result_time,
                &p.quality,
                &p.valid_start,
                &p.valid_end,
                &p.parameters,
                &p.feature_id,
            ];
            w.write(&row)?;
        }
        w.finish()
    })();
    match written {
        Ok(n) if n as usize == rows.len() => {
            client.batch_execute("RELEASE SAVEPOINT bulk").db()?;
            Ok(Copied::Stored)
        }
        Ok(n) => Err(StoreError::Database(format!(
            "COPY stored {n} of {} observations",
            rows.len()
        ))),
        Err(e) if e.code() == Some(&SqlState::UNIQUE_VIOLATION) => {
            client
                .batch_execute("ROLLBACK TO SAVEPOINT bulk; RELEASE SAVEPOINT bulk")
                .db()?;
            Ok(Copied::KeyTaken)
        }
        Err(e) => Err(crate::exec::to_store_error(e)),
    }
}

/// The rows as one `INSERT … SELECT FROM unnest(arrays) ON CONFLICT DO NOTHING RETURNING`: one
/// prepared statement whatever the row count, its eleven columns sent as binary arrays (a
/// multi-row `VALUES` list costs PostgreSQL a parse and plan of eleven placeholders per row and
/// one conversion per value; the arrays one of each per column). Returns the ids of the rows
/// inserted, by key (a key twice in `rows` is inserted once, for its first occurrence).
fn insert_on_conflict(conn: &PgExec, rows: &[&Prepared]) -> Result<HashMap<Key, i64>, StoreError> {
    const SQL: &str = "INSERT INTO observations (datastream_id, phenomenon_time_start, id, phenomenon_time_end, result, result_json, result_time, result_quality, valid_time_start, valid_time_end, parameters, feature_id)
         SELECT d, s, nextval('observations_id_seq'), e, r, rj, rt, rq, vs, ve, p, f
         FROM unnest($1::BIGINT[], $2::BIGINT[], $3::BIGINT[], $4::DOUBLE PRECISION[], $5::TEXT[], $6::BIGINT[], $7::TEXT[], $8::BIGINT[], $9::BIGINT[], $10::TEXT[], $11::BIGINT[])
              AS u(d, s, e, r, rj, rt, rq, vs, ve, p, f)
         ON CONFLICT (datastream_id, phenomenon_time_start) DO NOTHING
         RETURNING datastream_id, phenomenon_time_start, id";
    let n = rows.len();
    let mut ds = Vec::with_capacity(n);
    let mut start = Vec::with_capacity(n);
    let mut end = Vec::with_capacity(n);
    let mut result = Vec::with_capacity(n);
    let mut json = Vec::with_capacity(n);
    let mut result_time = Vec::with_capacity(n);
    let mut quality = Vec::with_capacity(n);
    let mut valid_start = Vec::with_capacity(n);
    let mut valid_end = Vec::with_capacity(n);
    let mut parameters = Vec::with_capacity(n);
    let mut feature = Vec::with_capacity(n);
    for p in rows {
        ds.push(p.o.datastream_id);
        start.push(p.o.start);
        end.push(p.o.end);
        result.push(match p.native {
            SqlValue::Float(f) => Some(f),
            SqlValue::Int(i) => Some(i as f64),
            _ => None,
        });
        json.push(p.json.as_deref());
        result_time.push(p.o.result_time);
        quality.push(p.quality.as_deref());
        valid_start.push(p.valid_start);
        valid_end.push(p.valid_end);
        parameters.push(p.parameters.as_deref());
        feature.push(p.feature_id);
    }
    let stmt = conn.prepared(SQL)?;
    let returned = conn
        .client()
        .query(
            &stmt,
            &[
                &ds,
                &start,
                &end,
                &result,
                &json,
                &result_time,
                &quality,
                &valid_start,
                &valid_end,
                &parameters,
                &feature,
            ],
        )
        .db()?;
    let mut out = HashMap::with_capacity(n);
    for r in &returned {
        if let (Some(ds), Some(t), Some(id)) = (
            crate::exec::int(r, 0)?,
            crate::exec::int(r, 1)?,
            crate::exec::int(r, 2)?,
        ) {
            out.insert((ds, t), id);
        }
    }
    Ok(out)
}
