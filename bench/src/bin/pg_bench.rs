//! Durable ingest on the PostgreSQL backend next to its raw ceiling measured in the same run:
//! binary COPY of the same rows into the same (partitioned) observations table, one transaction
//! per 1000 rows, against HTTP CreateObservations with 1 and 16 clients (BENCHMARKS.md).
//!
//! Run: `BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:55433/postgres cargo run --release -p
//! qingshui-bench --bin pg_bench -- [--ingest-rows N]` (each run in a fresh schema).

use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::Type;
use serde_json::{Value, json};
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const T0: i64 = 1_772_323_200_000_000; // 2026-03-01T00:00:00Z in µs
const FIVE_MIN: i64 = 300_000_000;
const BATCH: usize = 1000;

fn schema_url(admin: &str, tag: &str) -> anyhow::Result<String> {
    let name = format!("bench_{tag}_{:x}", store::clock::now_micros() & 0xffff_ffff);
    let mut c = store_postgres::connect(admin)?;
    c.batch_execute(&format!("CREATE SCHEMA {name}"))?;
    let sep = if admin.contains('?') { '&' } else { '?' };
    Ok(format!("{admin}{sep}options=-csearch_path%3D{name}"))
}

/// Binary COPY of `rows` rows into observations, 1 transaction per BATCH rows.
fn raw_copy(url: &str, rows: usize) -> anyhow::Result<f64> {
    let exec = store_postgres::PgExec::new(store_postgres::connect(url)?);
    store_postgres::schema::migrate(&exec)?;
    for i in 0..(rows as i64 * FIVE_MIN / 2_419_200_000_000 + 2) {
        store_postgres::schema::ensure_partition(&exec, T0 + i * 2_419_200_000_000)?;
    }
    let mut client = exec.client();
    let t = Instant::now();
    let mut i = 0usize;
    while i < rows {
        let mut tx = client.transaction()?;
        let sink = tx.copy_in(
            "COPY observations (datastream_id, phenomenon_time_start, id, result, feature_id) FROM STDIN BINARY",
        )?;
        let mut w = BinaryCopyInWriter::new(
            sink,
            &[Type::INT8, Type::INT8, Type::INT8, Type::FLOAT8, Type::INT8],
        );
        for j in i..i + BATCH {
            let (ds, t, id, v, f) = (
                1i64,
                T0 + j as i64 * FIVE_MIN,
                j as i64 + 1,
                j as f64 * 0.001,
                1i64,
            );
            w.write(&[&ds, &t, &id, &v, &f])?;
        }
        w.finish()?;
        tx.commit()?;
        i += BATCH;
    }
    Ok(rows as f64 / t.elapsed().as_secs_f64())
}

fn station(k: usize) -> Value {
    json!({
        "name": format!("S{k}"), "description": "bench",
        "Locations": [{ "name": "l", "description": "l", "encodingType": "application/geo+json", "location": { "type": "Point", "coordinates": [106.4, 26.5] } }],
        "Datastreams": [{
            "name": "TP", "description": "d",
            "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
            "unitOfMeasurement": { "name": "mg/L", "symbol": "mg/L", "definition": "ucum:mg/L" },
            "Sensor": { "name": "s", "description": "s", "encodingType": "text/html", "metadata": "m" },
            "ObservedProperty": { "name": "p", "definition": format!("urn:p{k}"), "description": "p" }
        }]
    })
}

async fn post_batches(
    client: reqwest::Client,
    base: String,
    ds: usize,
    rows: usize,
) -> anyhow::Result<()> {
    let mut i = 0;
    while i < rows {
        let data: Vec<Value> = (i..i + BATCH)
            .map(|j| {
                json!([
                    sta::time::format_instant(T0 + j as i64 * FIVE_MIN),
                    j as f64 * 0.001
                ])
            })
            .collect();
        let body = json!([{ "Datastream": { "@iot.id": ds }, "components": ["phenomenonTime", "result"], "dataArray": data }]);
        let r = client
            .post(format!("{base}/CreateObservations"))
            .json(&body)
            .send()
            .await?;
        anyhow::ensure!(
            r.status() == 201,
            "CreateObservations answered {}",
            r.status()
        );
        i += BATCH;
    }
    Ok(())
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let admin = std::env::var("BENCH_DATABASE_URL")
        .map_err(|_| anyhow::anyhow!("set BENCH_DATABASE_URL=postgres://…"))?;
    let v: Vec<String> = std::env::args().collect();
    let rows: usize = v
        .iter()
        .position(|a| a == "--ingest-rows")
        .and_then(|i| v.get(i + 1))
        .and_then(|n| n.replace('_', "").parse().ok())
        .unwrap_or(100_000);
    let rows = rows / BATCH / 16 * BATCH * 16;
    println!("# qingshui PostgreSQL ingest ({rows} rows)\n");
    let (a, r) = (admin.clone(), rows);
    let raw = tokio::task::spawn_blocking(move || raw_copy(&schema_url(&a, "raw")?, r)).await??;

    let url = {
        let a = admin.clone();
        tokio::task::spawn_blocking(move || schema_url(&a, "http")).await??
    };
    let mut config = server::config::Config::default();
    config.http.addr = "127.0.0.1:0".parse()?;
    config.storage.database_url = url;
    config.auth.open = true;
    let store = server::open_store(&config)?;
    let running = server::start(config, store).await?;
    let base = format!("http://{}/v1.1", running.http_addr);
    let client = reqwest::Client::new();
    for k in 0..17 {
        let r = client
            .post(format!("{base}/Things"))
            .json(&station(k))
            .send()
            .await?;
        anyhow::ensure!(r.status() == 201, "creating a bench station failed");
    }
    let t = Instant::now();
    post_batches(client.clone(), base.clone(), 1, rows).await?;
    let one = rows as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut tasks = Vec::new();
    for k in 0..16 {
        tasks.push(tokio::spawn(post_batches(
            client.clone(),
            base.clone(),
            k + 2,
            rows / 16,
        )));
    }
    for task in tasks {
        task.await??;
    }
    let sixteen = rows as f64 / t.elapsed().as_secs_f64();
    running.stop().await?;
    println!(
        "## Durable ingest on PostgreSQL (CreateObservations, {BATCH} rows per request, synchronous_commit=on)\n"
    );
    println!("| path | obs/s | ratio to raw |\n|---|---:|---:|");
    println!(
        "| raw ceiling: binary COPY into observations, 1 transaction per {BATCH} rows | {raw:.0} | 1.00 |"
    );
    println!(
        "| HTTP CreateObservations, 1 client | {one:.0} | {:.2} |",
        one / raw
    );
    println!(
        "| HTTP CreateObservations, 16 concurrent clients | {sixteen:.0} | {:.2} |",
        sixteen / raw
    );
    Ok(())
}
