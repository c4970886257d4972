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
use postgres::error::SqlState;
use std::collections::{HashMap, HashSet};
use std::io::Write;
use store::StoreError;
use store::sql::SqlValue;

/// Rows per bulk statement (bounds the INSERT's arrays and a COPY's ids; a CreateObservations
/// request is 1,000 rows in practice).
pub const CHUNK: usize = 10_000;

/// Below this many rows the INSERT's single round trip beats the COPY's three (see
/// [`insert_new`]): HJ 212 frames and single observations.
const COPY_MIN_ROWS: usize = 64;

/// A chunk spread over more (datastream, month) ranges than this takes the INSERT (the look-up
/// has one range each).
const COPY_MAX_RANGES: usize = 32;

/// The key of a stored observation: (datastream, phenomenon time start).
type Key = (i64, i64);

/// Stores the rows whose key is free, returning their ids by key; a key that is taken — stored
/// before, or twice in `rows` (its first occurrence is stored) — is absent from the answer, for
/// the caller's idempotency rule.
///
/// The COPY path costs three round trips: one simple query opening the savepoint, taking the
/// ids and looking up the stored keys; the COPY; its end. The savepoint is not released on
/// success: the command's own savepoint releases it (a round trip fewer).
pub(super) fn insert_new(
    conn: &PgExec,
    rows: &[&Prepared],
) -> Result<HashMap<Key, i64>, StoreError> {
    if rows.len() < COPY_MIN_ROWS {
        return insert_on_conflict(conn, rows);
    }
    let Some(ranges) = ranges(rows) else {
        return insert_on_conflict(conn, rows);
    };
    let Before { ids, taken } = before_copy(conn, &ranges, rows.len())?;
    let Some(taken) = taken else {
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

/// A range of the look-up: datastream, first and last start, and the most stored values it
/// may return before the look-up gives up.
struct Range {
    datastream: i64,
    first: i64,
    last: i64,
    limit: i64,
}

/// The look-up's ranges, one per datastream and month (each inside one month's partition), or
/// `None` when the chunk is spread over too many.
fn ranges(rows: &[&Prepared]) -> Option<Vec<Range>> {
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
        if ranges.len() > COPY_MAX_RANGES {
            return None;
        }
    }
    Some(
        ranges
            .into_iter()
            .map(|((datastream, _), (first, last, n))| Range {
                datastream,
                first,
                last,
                limit: 4 * n + 16,
            })
            .collect(),
    )
}

/// What the COPY needs to know first: an id for every row (in their order; the ids of rows
/// that turn out stored are not used — a sequence has gaps anyway), and the keys already
/// stored, or `None` when looking them up would read much more than the chunk (a range holds
/// many other stored values: a backfill between stored ones) — then the INSERT decides row by
/// row.
struct Before {
    ids: Vec<i64>,
    taken: Option<HashSet<Key>>,
}

/// `SAVEPOINT bulk`, the ids and the look-up as one simple query (one round trip). The
/// look-up's ranges are literals (our own integers), so PostgreSQL plans it for these values
/// and opens only the partitions they lie in, never the default one (see `writer_session` in
/// lib.rs for why that matters).
fn before_copy(conn: &PgExec, ranges: &[Range], n: usize) -> Result<Before, StoreError> {
    let lookup = ranges
        .iter()
        .enumerate()
        .map(|(k, r)| {
            format!(
                "(SELECT {k}, phenomenon_time_start FROM observations WHERE datastream_id = {} AND phenomenon_time_start BETWEEN {} AND {} LIMIT {})",
                r.datastream, r.first, r.last, r.limit
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let sql = format!(
        "SAVEPOINT bulk; SELECT ARRAY(SELECT nextval('observations_id_seq') FROM generate_series(1, {n})); {lookup}"
    );
    let answer = conn.client().simple_query(&sql).db()?;
    let bad = |what: &str| StoreError::Database(format!("the bulk look-up answered {what}"));
    let number = |v: Option<&str>| -> Result<i64, StoreError> {
        v.and_then(|v| v.parse().ok())
            .ok_or_else(|| bad("a value that is no number"))
    };
    // Which statement a row belongs to: the count of completed statements before it.
    let mut statement = 0;
    let mut ids = Vec::new();
    let mut found = vec![0i64; ranges.len()];
    let mut taken = Some(HashSet::new());
    for m in &answer {
        match m {
            postgres::SimpleQueryMessage::CommandComplete(_) => statement += 1,
            postgres::SimpleQueryMessage::Row(row) if statement == 1 => {
                // An int8[] as text: {1,2,3}
                let text = row.get(0).ok_or_else(|| bad("no ids"))?;
                ids = text
                    .trim_start_matches('{')
                    .trim_end_matches('}')
                    .split(',')
                    .map(|v| number(Some(v)))
                    .collect::<Result<_, _>>()?;
            }
            postgres::SimpleQueryMessage::Row(row) if statement == 2 => {
                let k = number(row.get(0))? as usize;
                let r = ranges.get(k).ok_or_else(|| bad("a key of no range"))?;
                found[k] += 1;
                if found[k] >= r.limit {
                    taken = None;
                } else if let Some(t) = taken.as_mut() {
                    t.insert((r.datastream, number(row.get(1))?));
                }
            }
            _ => {}
        }
    }
    if ids.len() != n {
        return Err(StoreError::Database(format!(
            "the id sequence gave {} ids for {n} rows",
            ids.len()
        )));
    }
    Ok(Before { ids, taken })
}

enum Copied {
    Stored,
    KeyTaken,
}

/// One binary COPY of `rows` with `ids` into `observations`, inside the savepoint
/// [`before_copy`] opened: a taken key rolls back only the COPY.
fn copy(conn: &PgExec, rows: &[&Prepared], ids: &[i64]) -> Result<Copied, StoreError> {
    const COPY: &str = "COPY observations (datastream_id, phenomenon_time_start, id, phenomenon_time_end, result, result_json, result_time, result_quality, valid_time_start, valid_time_end, parameters, feature_id) FROM STDIN BINARY";
    let data = copy_data(rows, ids);
    let mut client = conn.client();
    let written = (|| -> Result<u64, postgres::Error> {
        let mut w = client.copy_in(COPY)?;
        // Buffered by the writer and sent by `finish` as one message (it cannot fail here).
        if let Err(e) = w.write_all(&data) {
            tracing::error!(error = %e, "COPY data not buffered");
        }
        w.finish()
    })();
    match written {
        Ok(n) if n as usize == rows.len() => Ok(Copied::Stored),
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

/// The `result` column (double precision) of a row: its number, if the result is one.
fn result_number(p: &Prepared) -> Option<f64> {
    match p.native {
        SqlValue::Float(f) => Some(f),
        SqlValue::Int(i) => Some(i as f64),
        _ => None,
    }
}

/// The rows in PostgreSQL's binary COPY format (the header, per row the field count and each
/// field as its length and big-endian value, -1 for NULL; the trailer), built in one buffer.
/// The client library's row writer hands the connection a message per 4 KB, which on two cores
/// cost as much as PostgreSQL's own work on the rows (the COPY of 1,000 rows took 8 ms against
/// the raw ceiling's 7 ms for COPY and COMMIT together).
fn copy_data(rows: &[&Prepared], ids: &[i64]) -> Vec<u8> {
    const FIELDS: i16 = 12;
    let mut out = Vec::with_capacity(19 + rows.len() * 160 + 2);
    out.extend_from_slice(b"PGCOPY\n\xff\r\n\0");
    out.extend_from_slice(&0i32.to_be_bytes()); // flags
    out.extend_from_slice(&0i32.to_be_bytes()); // header extension length
    let int = |out: &mut Vec<u8>, v: i64| {
        out.extend_from_slice(&8i32.to_be_bytes());
        out.extend_from_slice(&v.to_be_bytes());
    };
    let null = |out: &mut Vec<u8>| out.extend_from_slice(&(-1i32).to_be_bytes());
    let opt_int = |out: &mut Vec<u8>, v: Option<i64>| match v {
        Some(v) => int(out, v),
        None => null(out),
    };
    let opt_text = |out: &mut Vec<u8>, v: &Option<String>| match v {
        // A text field longer than 2 GiB cannot reach here: the request body limit is far below.
        Some(t) => {
            out.extend_from_slice(&(t.len() as i32).to_be_bytes());
            out.extend_from_slice(t.as_bytes());
        }
        None => null(out),
    };
    for (p, id) in rows.iter().zip(ids) {
        out.extend_from_slice(&FIELDS.to_be_bytes());
        int(&mut out, p.o.datastream_id);
        int(&mut out, p.o.start);
        int(&mut out, *id);
        opt_int(&mut out, p.o.end);
        match result_number(p) {
            Some(f) => {
                out.extend_from_slice(&8i32.to_be_bytes());
                out.extend_from_slice(&f.to_bits().to_be_bytes());
            }
            None => null(&mut out),
        }
        opt_text(&mut out, &p.json);
        opt_int(&mut out, p.o.result_time);
        opt_text(&mut out, &p.quality);
        opt_int(&mut out, p.valid_start);
        opt_int(&mut out, p.valid_end);
        opt_text(&mut out, &p.parameters);
        int(&mut out, p.feature_id);
    }
    out.extend_from_slice(&(-1i16).to_be_bytes());
    out
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
        result.push(result_number(p));
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
