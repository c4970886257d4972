//! The large table: `datastreams` × `per_ds` five-minute observations, as qingshui would have
//! written them.
//!
//! The entities and the first observation of every datastream go through the API (so the
//! writer creates the generated FeatureOfInterest, observedArea, the aggregates and the
//! partitions its own way); the other rows go by binary COPY straight into `observations`, with
//! ids taken from `observations_id_seq` as the writer takes them, and the per-datastream
//! aggregates (count, phenomenonTime range, latest value) are then recomputed by the store's
//! own backend-neutral statement (`store::cascade::recompute_datastream`). Finally
//! `VACUUM ANALYZE`, what autovacuum does to a table that grew this much.

use crate::common::{FIVE_MIN, T0, value};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::Type;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::time::Instant;

/// Datastreams per COPY transaction (10 × 10,000 rows).
const DS_PER_COPY: i64 = 10;

/// The first observation of every datastream, through CreateObservations (one request).
pub async fn first_rows(
    client: &reqwest::Client,
    base: &str,
    datastreams: usize,
) -> anyhow::Result<()> {
    let groups: Vec<Value> = (1..=datastreams as i64)
        .map(|ds| {
            json!({
                "Datastream": { "@iot.id": ds },
                "components": ["phenomenonTime", "result"],
                "dataArray": [[sta::time::format_instant(T0), value(ds, 0)]]
            })
        })
        .collect();
    let r = client
        .post(format!("{base}/CreateObservations"))
        .json(&groups)
        .send()
        .await?;
    anyhow::ensure!(
        r.status() == 201,
        "CreateObservations answered {}",
        r.status()
    );
    let body: Value = r.json().await?;
    let errors = body
        .as_array()
        .into_iter()
        .flatten()
        .filter(|v| v.as_str() == Some("error"))
        .count();
    anyhow::ensure!(errors == 0, "{errors} first observations were refused");
    Ok(())
}

/// COPY rows 1..per_ds of every datastream, then the aggregates and statistics (blocking).
/// Returns (rows copied, obs/s of the COPY).
pub fn copy_rest(url: &str, datastreams: i64, per_ds: i64) -> anyhow::Result<(i64, f64)> {
    anyhow::ensure!(
        T0 + per_ds * FIVE_MIN < store::clock::now_micros(),
        "{per_ds} five-minute rows from 2026-03-01 reach the future: use more datastreams"
    );
    let exec = store_postgres::PgExec::new(store_postgres::connect(url)?);
    // The partitions of every month the rows fall in (the writer's maintenance, ahead of COPY,
    // so that no row lands in the default partition).
    crate::ingest::ensure_months(url, T0, per_ds as usize)?;
    let mut client = exec.client();
    // The generated FeatureOfInterest of each datastream, from the row the writer stored.
    let features: HashMap<i64, i64> = client
        .query("SELECT datastream_id, feature_id FROM observations", &[])?
        .iter()
        .map(|r| (r.get(0), r.get(1)))
        .collect();
    anyhow::ensure!(
        features.len() as i64 == datastreams,
        "{} first observations stored, {datastreams} expected",
        features.len()
    );
    // A block of ids from the shared sequence, as the writer's nextval would hand them out.
    let n = datastreams * (per_ds - 1);
    let base: i64 = client
        .query_one(
            "SELECT setval('observations_id_seq', nextval('observations_id_seq') + $1) - $1",
            &[&n],
        )?
        .get(0);
    let started = Instant::now();
    let mut next_id = base;
    let mut ds = 1i64;
    while ds <= datastreams {
        let mut tx = client.transaction()?;
        let sink = tx.copy_in(
            "COPY observations (datastream_id, phenomenon_time_start, id, result, feature_id) FROM STDIN BINARY",
        )?;
        let mut w = BinaryCopyInWriter::new(
            sink,
            &[Type::INT8, Type::INT8, Type::INT8, Type::FLOAT8, Type::INT8],
        );
        for d in ds..(ds + DS_PER_COPY).min(datastreams + 1) {
            let f = features
                .get(&d)
                .copied()
                .ok_or_else(|| anyhow::anyhow!("Datastream({d}) has no feature"))?;
            for i in 1..per_ds {
                let (t, v) = (T0 + i * FIVE_MIN, value(d, i));
                w.write(&[&d, &t, &next_id, &v, &f])?;
                next_id += 1;
            }
        }
        w.finish()?;
        tx.commit()?;
        ds += DS_PER_COPY;
    }
    let rate = n as f64 / started.elapsed().as_secs_f64();
    drop(client);
    for d in 1..=datastreams {
        store::cascade::recompute_datastream(&exec, d)?;
    }
    exec.batch("VACUUM ANALYZE observations")?;
    exec.batch("ANALYZE datastreams")?;
    Ok((n, rate))
}
