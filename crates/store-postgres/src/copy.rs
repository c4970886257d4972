//! `qingshui store copy`: a one-shot copy of an embedded store into an empty PostgreSQL
//! database, ids kept, then a verification: every table's row count, and a sample of
//! observations compared value by value.
//!
//! The source is any [`Executor`] over the same logical schema (store-sqlite's, opened read
//! only), so this module names no SQLite. Results are re-encoded for PostgreSQL's columns
//! (`result` a double, everything else in `result_json`, `store::deep_insert::encode_result_for`);
//! rows go in multi-row INSERTs of [`ROWS_PER_INSERT`], one transaction per table.

use crate::exec::{PgExec, int};
use serde_json::Value;
use store::StoreError;
use store::executor::{Cell, Executor, Flow};
use store::read::decode::result_value;
use store::sql::{Dialect, SqlValue};

/// Tables in dependency order with their columns (the same in both schemas). `result` pairs
/// are re-encoded; `overlay` is bytes.
const TABLES: &[(&str, &[&str])] = &[
    ("things", &["id", "name", "description", "properties"]),
    (
        "locations",
        &[
            "id",
            "name",
            "description",
            "encoding_type",
            "location",
            "properties",
        ],
    ),
    ("thing_locations", &["thing_id", "location_id"]),
    ("historical_locations", &["id", "thing_id", "time"]),
    (
        "historical_location_locations",
        &["historical_location_id", "location_id"],
    ),
    (
        "sensors",
        &[
            "id",
            "name",
            "description",
            "encoding_type",
            "metadata",
            "properties",
        ],
    ),
    (
        "observed_properties",
        &["id", "name", "definition", "description", "properties"],
    ),
    (
        "datastreams",
        &[
            "id",
            "name",
            "description",
            "unit_of_measurement",
            "observation_type",
            "properties",
            "observed_area",
            "phenomenon_time_start",
            "phenomenon_time_end",
            "result_time_start",
            "result_time_end",
            "thing_id",
            "sensor_id",
            "observed_property_id",
            "observation_count",
            "latest_observation_id",
            "latest_phenomenon_time",
        ],
    ),
    (
        "features",
        &[
            "id",
            "name",
            "description",
            "encoding_type",
            "feature",
            "properties",
            "generated_from_location",
        ],
    ),
    (
        "observations",
        &[
            "datastream_id",
            "phenomenon_time_start",
            "id",
            "phenomenon_time_end",
            "result",
            "result_json",
            "result_time",
            "result_quality",
            "valid_time_start",
            "valid_time_end",
            "parameters",
            "feature_id",
        ],
    ),
    (
        "observation_revisions",
        &[
            "observation_id",
            "revised_at",
            "old_result",
            "old_result_json",
            "old_result_quality",
            "old_parameters",
        ],
    ),
    (
        "alerts",
        &[
            "id",
            "rule",
            "source",
            "station",
            "severity",
            "state",
            "created_at",
            "updated_at",
            "body",
        ],
    ),
    (
        "alert_history",
        &["alert_id", "seq", "at", "action", "body"],
    ),
    (
        "users",
        &[
            "id",
            "name",
            "display_name",
            "role",
            "password_hash",
            "disabled",
            "created_at",
            "updated_at",
        ],
    ),
    (
        "api_tokens",
        &[
            "id",
            "user_id",
            "name",
            "prefix",
            "digest",
            "role",
            "created_at",
            "expires_at",
            "revoked_at",
        ],
    ),
    (
        "sessions",
        &[
            "digest",
            "user_id",
            "csrf",
            "created_at",
            "expires_at",
            "from_addr",
        ],
    ),
    (
        "audit",
        &[
            "id",
            "at",
            "principal",
            "action",
            "target",
            "from_addr",
            "details",
        ],
    ),
    (
        "reviews",
        &[
            "id",
            "datastream_id",
            "start_us",
            "end_us",
            "verdict",
            "reason",
            "note",
            "by",
            "at",
            "undone_at",
            "undone_by",
        ],
    ),
    (
        "day_approvals",
        &["id", "station", "day", "by", "at", "undone_at", "undone_by"],
    ),
    (
        "scenes",
        &["id", "time", "sensor", "created_at", "body", "overlay"],
    ),
];

/// Tables whose `id` is an identity, moved past the copied ids afterwards.
const IDENTITIES: &[&str] = &[
    "things",
    "locations",
    "historical_locations",
    "sensors",
    "observed_properties",
    "datastreams",
    "features",
    "alerts",
    "users",
    "api_tokens",
    "audit",
    "reviews",
    "day_approvals",
    "scenes",
];

const ROWS_PER_INSERT: usize = 500;
/// Observations compared value by value after the copy.
const SAMPLE: i64 = 200;

/// What the copy did and what the verification found.
#[derive(Debug, Clone, Default)]
pub struct CopyReport {
    /// (table, rows in the source, rows in the target after the copy)
    pub tables: Vec<(String, i64, i64)>,
    pub sampled: usize,
    pub sample_mismatches: usize,
}

impl CopyReport {
    pub fn verified(&self) -> bool {
        self.sample_mismatches == 0 && self.tables.iter().all(|(_, a, b)| a == b)
    }
}

fn count(exec: &impl Executor, table: &str) -> Result<i64, StoreError> {
    Ok(exec
        .query_first(&format!("SELECT COUNT(*) FROM {table}"), &[])?
        .and_then(|v| match v {
            SqlValue::Int(i) => Some(i),
            _ => None,
        })
        .unwrap_or(0))
}

/// The source's cell re-encoded for the target's column.
fn value(c: Cell<'_>) -> SqlValue {
    c.to_value()
}

/// SQLite's (result, result_json) as PostgreSQL's.
fn reencode(native: Cell<'_>, json: Cell<'_>) -> (SqlValue, SqlValue) {
    let v = result_value(native, json);
    let (n, j) = store::deep_insert::encode_result_for(Dialect::Postgres, &v);
    (n, j.map_or(SqlValue::Null, SqlValue::Text))
}

/// Copies every table of `src` into the empty store at `url` (migrated first); `progress` is
/// told (table, rows done, rows in the table) as rows go in.
pub fn copy_from(
    src: &impl Executor,
    url: &str,
    progress: &mut dyn FnMut(&str, u64, u64),
) -> Result<CopyReport, StoreError> {
    let url = url.to_owned();
    std::thread::scope(|scope| {
        // The blocking client must not run on an async runtime's thread; a scoped thread
        // keeps `src` borrowed.
        let handle = scope.spawn(|| -> Result<PgExec, StoreError> {
            let dst = PgExec::new(crate::connect(&url)?);
            crate::schema::migrate(&dst)?;
            Ok(dst)
        });
        let dst = handle
            .join()
            .map_err(|_| StoreError::Database("connecting panicked".into()))??;
        let result = copy_into(src, &dst, progress);
        let _ = scope.spawn(move || drop(dst)).join();
        result
    })
}

fn copy_into(
    src: &impl Executor,
    dst: &PgExec,
    progress: &mut dyn FnMut(&str, u64, u64),
) -> Result<CopyReport, StoreError> {
    for table in ["things", "observations", "users", "alerts"] {
        if count(dst, table)? > 0 {
            return Err(StoreError::Conflict(format!(
                "the target database is not empty ({table} has rows); copy into a new database"
            )));
        }
    }
    let mut report = CopyReport::default();
    let mut months = std::collections::HashSet::new();
    for (table, columns) in TABLES {
        let total = count(src, table)?;
        progress(table, 0, total as u64);
        dst.batch("BEGIN")?;
        let select = format!("SELECT {} FROM {table}", columns.join(", "));
        let width = columns.len();
        let mut rows: Vec<SqlValue> = Vec::with_capacity(ROWS_PER_INSERT * width);
        let mut blobs: Vec<Vec<u8>> = Vec::new();
        let mut done = 0u64;
        let mut failure = None;
        let flush = |rows: &mut Vec<SqlValue>,
                     blobs: &mut Vec<Vec<u8>>|
         -> Result<(), StoreError> {
            if rows.is_empty() {
                return Ok(());
            }
            if *table == "scenes" {
                // One row at a time: the overlay travels as bytes.
                for (r, blob) in rows.chunks(width).zip(blobs.iter()) {
                    dst.execute_bytes(
                        "INSERT INTO scenes (id, time, sensor, created_at, body, overlay) VALUES ($1, $2, $3, $4, $5, $6)",
                        &r[..5],
                        blob,
                    )?;
                }
            } else {
                let n = rows.len() / width;
                let groups: Vec<String> = (0..n)
                    .map(|i| {
                        let marks: Vec<String> =
                            (1..=width).map(|k| format!("${}", i * width + k)).collect();
                        format!("({})", marks.join(", "))
                    })
                    .collect();
                dst.execute_values(
                    &format!(
                        "INSERT INTO {table} ({}) VALUES {}",
                        columns.join(", "),
                        groups.join(", ")
                    ),
                    rows,
                )?;
            }
            rows.clear();
            blobs.clear();
            Ok(())
        };
        src.query_each(&select, &[], &mut |r| {
            let mut i = 0;
            while i < width {
                let name = columns[i];
                match name {
                    "result" | "old_result" => {
                        let (n, j) = reencode(r.cell(i)?, r.cell(i + 1)?);
                        rows.push(n);
                        rows.push(j);
                        i += 2;
                        continue;
                    }
                    "overlay" => {
                        blobs.push(match r.cell(i)? {
                            Cell::Text(b) => b.to_vec(),
                            _ => Vec::new(),
                        });
                        rows.push(SqlValue::Null);
                    }
                    "phenomenon_time_start" if *table == "observations" => {
                        let t = r.cell(i)?.as_i64().unwrap_or(0);
                        let m = crate::schema::month_of(t);
                        if months.insert(m) {
                            crate::schema::ensure_partition(dst, t)?;
                        }
                        rows.push(SqlValue::Int(t));
                    }
                    _ => rows.push(value(r.cell(i)?)),
                }
                i += 1;
            }
            done += 1;
            if rows.len() >= ROWS_PER_INSERT * width {
                if let Err(e) = flush(&mut rows, &mut blobs) {
                    failure = Some(e);
                    return Ok(Flow::Stop);
                }
                progress(table, done, total as u64);
            }
            Ok(Flow::Continue)
        })?;
        if let Some(e) = failure {
            let _ = dst.batch("ROLLBACK");
            return Err(e);
        }
        if let Err(e) = flush(&mut rows, &mut blobs) {
            let _ = dst.batch("ROLLBACK");
            return Err(e);
        }
        dst.batch("COMMIT")?;
        progress(table, done, total as u64);
        report
            .tables
            .push(((*table).to_owned(), total, count(dst, table)?));
    }
    for table in IDENTITIES {
        dst.batch(&format!(
            "SELECT setval(pg_get_serial_sequence('{table}', 'id'), GREATEST(COALESCE((SELECT MAX(id) FROM {table}), 0), 1), (SELECT MAX(id) FROM {table}) IS NOT NULL)"
        ))?;
    }
    dst.batch(
        "SELECT setval('observations_id_seq', GREATEST(COALESCE((SELECT MAX(id) FROM observations), 0), 1), (SELECT MAX(id) FROM observations) IS NOT NULL)",
    )?;
    // The sample: every n-th observation by id, compared as the API would answer it.
    let n = count(src, "observations")?;
    let step = (n / SAMPLE).max(1);
    let sample = src.query_rows(
        &format!(
            "SELECT id, result, result_json, result_quality FROM observations WHERE id % {step} = 0 ORDER BY id LIMIT {SAMPLE}"
        ),
        &[],
    )?;
    for row in &sample {
        let [SqlValue::Int(id), native, json, quality] = row.as_slice() else {
            continue;
        };
        let cell = |v: &SqlValue| -> Value {
            match v {
                SqlValue::Null => Value::Null,
                SqlValue::Int(i) => Value::from(*i),
                SqlValue::Float(f) => Value::from(*f),
                SqlValue::Text(t) => Value::String(t.clone()),
            }
        };
        let want_result = match (native, json) {
            (_, SqlValue::Text(t)) => serde_json::from_str(t).unwrap_or(Value::Null),
            (n, _) => cell(n),
        };
        let got = dst.rows(
            "SELECT result, result_json, result_quality, id FROM observations WHERE id = $1",
            &[SqlValue::Int(*id)],
        )?;
        report.sampled += 1;
        let same = got.first().is_some_and(|r| {
            let res = match (crate::exec::cell(r, 0), crate::exec::cell(r, 1)) {
                (Ok(a), Ok(b)) => result_value(a, b),
                _ => Value::Null,
            };
            let q = crate::exec::text(r, 2).ok().flatten();
            let want_q = match quality {
                SqlValue::Text(t) => Some(t.clone()),
                _ => None,
            };
            numbers_equal(&res, &want_result)
                && q == want_q
                && int(r, 3).ok().flatten() == Some(*id)
        });
        if !same {
            report.sample_mismatches += 1;
        }
    }
    Ok(report)
}

/// JSON equality that takes 5 and 5.0 as the same number (SQLite may keep either).
fn numbers_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}
