//! The PostgreSQL backend next to its raw ceiling measured in the same run (BENCHMARKS.md):
//!
//! - durable ingest: binary COPY of the same rows into the same (partitioned) observations
//!   table, one transaction per 1000 rows, against HTTP CreateObservations with 1 and 16
//!   clients on one node and 16 clients split 8 + 8 over two nodes on one schema;
//! - reads on a large table (default 10 M observations, 1,000 datastreams × 10,000 five-minute
//!   values, sta_bench's shape): `$count`, the latest values, a 30-day series — median and p95
//!   over HTTP on one node and spread over two, beside the raw SQL producing the same rows.
//!
//! Run: `BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:55433/postgres cargo run --release -p
//! qingshui-bench --bin pg_bench -- [--ingest-rows N] [--read-rows N] [--datastreams D]
//! [--runs R]` (`--read-rows 0` skips the reads; `BENCH_RESULT_INDEX=1` runs the nodes with
//! `[storage] result_index`, off by default on PostgreSQL). Every run works in fresh schemas and drops them at the end.

mod common;
mod ingest;
mod large;
mod reads;

use common::{BATCH, Node, Schemas, create_stations};
use std::time::Instant;

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

struct Args {
    ingest_rows: usize,
    read_rows: usize,
    datastreams: usize,
    runs: usize,
}

fn args() -> anyhow::Result<Args> {
    let mut a = Args {
        ingest_rows: 100_000,
        read_rows: 10_000_000,
        datastreams: 1000,
        runs: 20,
    };
    let v: Vec<String> = std::env::args().skip(1).collect();
    for pair in v.chunks(2) {
        let [flag, n] = pair else {
            anyhow::bail!("{} needs a number", pair[0]);
        };
        let n: usize = n
            .replace('_', "")
            .parse()
            .map_err(|_| anyhow::anyhow!("{flag}: '{n}' is not a number"))?;
        match flag.as_str() {
            "--ingest-rows" => a.ingest_rows = n,
            "--read-rows" => a.read_rows = n,
            "--datastreams" => a.datastreams = n.max(1),
            "--runs" => a.runs = n.max(1),
            other => anyhow::bail!("unknown option {other}"),
        }
    }
    a.ingest_rows = a.ingest_rows / BATCH / 16 * BATCH * 16;
    Ok(a)
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let admin = std::env::var("BENCH_DATABASE_URL")
        .map_err(|_| anyhow::anyhow!("set BENCH_DATABASE_URL=postgres://…"))?;
    let a = args()?;
    let schemas = Schemas::new(&admin);
    let result = run(&a, &schemas).await;
    let s = schemas.clone();
    tokio::task::spawn_blocking(move || s.drop_all()).await?;
    result
}

async fn run(a: &Args, schemas: &Schemas) -> anyhow::Result<()> {
    println!(
        "# qingshui on PostgreSQL (ingest {} rows; reads on {} observations in {} datastreams; {} runs a read)\n",
        a.ingest_rows, a.read_rows, a.datastreams, a.runs
    );
    if a.ingest_rows > 0 {
        let i = ingest::run(schemas, a.ingest_rows).await?;
        ingest::print(&i);
    }
    if a.read_rows > 0 {
        large_reads(a, schemas).await?;
    }
    Ok(())
}

async fn large_reads(a: &Args, schemas: &Schemas) -> anyhow::Result<()> {
    let per_ds = (a.read_rows / a.datastreams).max(1) as i64;
    let ds = a.datastreams as i64;
    let s = schemas.clone();
    let url = tokio::task::spawn_blocking(move || s.create("large")).await??;
    let client = reqwest::Client::new();

    let node_a = Node::start(&url).await?;
    let t = Instant::now();
    create_stations(&client, &node_a.sta(), a.datastreams, 8).await?;
    large::first_rows(&client, &node_a.sta(), a.datastreams).await?;
    let api_s = t.elapsed().as_secs_f64();
    let u = url.clone();
    let t = Instant::now();
    let (copied, copy_rate) =
        tokio::task::spawn_blocking(move || large::copy_rest(&u, ds, per_ds)).await??;
    let load_s = t.elapsed().as_secs_f64();
    println!(
        "## Large table: {} observations ({ds} datastreams × {per_ds}); entities and the first row of each datastream through the API in {api_s:.1} s, {copied} rows by binary COPY at {copy_rate:.0} obs/s, with the aggregates and VACUUM ANALYZE {load_s:.1} s\n",
        ds * per_ds
    );
    let e = reads::Expect {
        datastreams: ds,
        per_ds,
        series_rows: reads::series_rows(per_ds),
    };

    let one = reads::http(&client, &[&node_a], &e, a.runs).await?;
    let in_store = reads::series_in_store(&node_a, a.runs).await?;
    let (u, runs) = (url.clone(), a.runs);
    let raw = tokio::task::spawn_blocking(move || reads::raw(&u, &e, runs)).await??;

    // A second node on the same schema: the reads alternate between the two.
    let node_b = Node::start(&url).await?;
    let two = reads::http(&client, &[&node_a, &node_b], &e, a.runs).await?;
    node_b.stop().await?;
    node_a.stop().await?;

    println!(
        "## Reads on the large table: median (p95) of {} requests, 5 for the scans; HTTP includes JSON encoding and transfer on loopback\n",
        a.runs
    );
    println!(
        "| request | one node | two nodes (requests alternate) | raw SQL, same run |\n|---|---:|---:|---|"
    );
    for ((r, o), t) in reads::READS.iter().zip(&one).zip(&two) {
        let label = if *r == reads::Read::Series {
            format!("{} ({} rows)", r.label(), e.series_rows)
        } else {
            r.label().to_string()
        };
        println!(
            "| {label} | {} | {} | {} |",
            o.show(),
            t.show(),
            reads::raw_for(*r, &raw)
        );
    }
    println!(
        "| the series inside the process, streamed (`Store::read_rendered`, no HTTP) | {} | — | {} |",
        in_store.show(),
        raw.series.show()
    );
    println!();
    Ok(())
}
