//! Durable ingest: the raw ceiling (binary COPY of the same rows into the same partitioned
//! table, one transaction per BATCH rows) and HTTP CreateObservations with 1 and 16 clients on
//! one node, the 16 again while a second, idle node listens (the node then announces every
//! commit: what the notifications cost), and 16 clients split 8 + 8 over two nodes on one schema.

use crate::common::{BATCH, FIVE_MIN, Node, Schemas, create_stations, ingest_start, post_batches};
use postgres::binary_copy::BinaryCopyInWriter;
use postgres::types::Type;
use std::time::Instant;

/// The partitions of the months `rows` five-minute rows from `start` fall in (blocking).
pub fn ensure_months(url: &str, start: i64, rows: usize) -> anyhow::Result<()> {
    let exec = store_postgres::PgExec::new(store_postgres::connect(url)?);
    let last = store_postgres::schema::month_of(start + rows as i64 * FIVE_MIN);
    let mut t = start;
    while store_postgres::schema::month_of(t) <= last {
        store_postgres::schema::ensure_partition(&exec, t)?;
        t += 20 * 86_400_000_000;
    }
    Ok(())
}

/// Binary COPY of `rows` rows into observations, 1 transaction per BATCH rows.
pub fn raw_copy(url: &str, start: i64, rows: usize) -> anyhow::Result<f64> {
    let exec = store_postgres::PgExec::new(store_postgres::connect(url)?);
    store_postgres::schema::migrate(&exec)?;
    drop(exec);
    ensure_months(url, start, rows)?;
    let exec = store_postgres::PgExec::new(store_postgres::connect(url)?);
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
                start + j as i64 * FIVE_MIN,
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

/// One path's figure and the raw ceiling it is compared with: the mean of the binary COPY
/// measured just before and just after it (the machine is shared and its speed drifts within
/// a run; a ceiling measured once at the start swung the ratios by ±0.2).
pub struct Measured {
    pub obs_per_s: f64,
    pub ceiling: f64,
}

impl Measured {
    pub fn ratio(&self) -> f64 {
        self.obs_per_s / self.ceiling
    }
}

/// The figures of the ingest part, obs/s; `raw` are the COPY runs in the order measured.
pub struct Ingest {
    pub raw: Vec<f64>,
    pub one_client: Measured,
    pub sixteen: Measured,
    pub sixteen_watched: Measured,
    pub two_nodes: Measured,
}

/// `clients` concurrent writers of `per_client` rows each, client k on datastream `first + k`
/// and node `k % bases.len()`; obs/s.
async fn concurrent(
    client: &reqwest::Client,
    bases: &[String],
    first: usize,
    start: i64,
    clients: usize,
    per_client: usize,
) -> anyhow::Result<f64> {
    let t = Instant::now();
    let mut tasks = Vec::new();
    for k in 0..clients {
        tasks.push(tokio::spawn(post_batches(
            client.clone(),
            bases[k % bases.len()].clone(),
            first + k,
            start,
            per_client,
        )));
    }
    for task in tasks {
        task.await??;
    }
    Ok((clients * per_client) as f64 / t.elapsed().as_secs_f64())
}

/// The row count of `url`'s observations (blocking): every acknowledged row must be there.
fn stored_rows(url: &str) -> anyhow::Result<i64> {
    let mut c = store_postgres::connect(url)?;
    Ok(c.query_one("SELECT COUNT(*) FROM observations", &[])?
        .get(0))
}

/// The raw ceiling, in a fresh schema: `rows` by binary COPY.
async fn raw(schemas: &Schemas, start: i64, rows: usize) -> anyhow::Result<f64> {
    let s = schemas.clone();
    tokio::task::spawn_blocking(move || raw_copy(&s.create("raw")?, start, rows)).await?
}

pub async fn run(schemas: &Schemas, rows: usize) -> anyhow::Result<Ingest> {
    let start = ingest_start(rows);
    let mut ceilings = vec![raw(schemas, start, rows).await?];
    let client = reqwest::Client::new();
    // The path's figure against the COPY before it and a COPY run now, after it.
    async fn bracket(
        ceilings: &mut Vec<f64>,
        schemas: &Schemas,
        start: i64,
        rows: usize,
        obs_per_s: f64,
    ) -> anyhow::Result<Measured> {
        let before = ceilings.last().copied().unwrap_or(f64::NAN);
        let after = raw(schemas, start, rows).await?;
        ceilings.push(after);
        Ok(Measured {
            obs_per_s,
            ceiling: (before + after) / 2.0,
        })
    }

    // One node: 1 client, then 16.
    let s = schemas.clone();
    let url = tokio::task::spawn_blocking(move || s.create("http")).await??;
    let node = Node::start(&url).await?;
    create_stations(&client, &node.sta(), 33, 4).await?;
    let t = Instant::now();
    post_batches(client.clone(), node.sta(), 1, start, rows).await?;
    let v = rows as f64 / t.elapsed().as_secs_f64();
    let one_client = bracket(&mut ceilings, schemas, start, rows, v).await?;
    let v = concurrent(&client, &[node.sta()], 2, start, 16, rows / 16).await?;
    let sixteen = bracket(&mut ceilings, schemas, start, rows, v).await?;
    // The same 16 clients on datastreams of their own while an idle second node listens.
    let watcher = Node::start(&url).await?;
    let v = concurrent(&client, &[node.sta()], 18, start, 16, rows / 16).await?;
    watcher.stop().await?;
    let sixteen_watched = bracket(&mut ceilings, schemas, start, rows, v).await?;
    node.stop().await?;
    let u = url.clone();
    let n = tokio::task::spawn_blocking(move || stored_rows(&u)).await??;
    anyhow::ensure!(
        n as usize == rows * 3,
        "one node stored {n} of {} rows",
        rows * 3
    );

    // Two nodes on one schema, each its own writer: 8 clients on A, 8 on B.
    let s = schemas.clone();
    let url = tokio::task::spawn_blocking(move || s.create("http2")).await??;
    let a = Node::start(&url).await?;
    let b = Node::start(&url).await?;
    // The months' partitions are created by the two writers during the run, both reaching
    // the same new month at once (as in one node's run; store-postgres migration 6).
    create_stations(&client, &a.sta(), 16, 4).await?;
    let v = concurrent(&client, &[a.sta(), b.sta()], 1, start, 16, rows / 16).await?;
    b.stop().await?;
    a.stop().await?;
    let two_nodes = bracket(&mut ceilings, schemas, start, rows, v).await?;
    let u = url.clone();
    let n = tokio::task::spawn_blocking(move || stored_rows(&u)).await??;
    anyhow::ensure!(n as usize == rows, "two nodes stored {n} of {rows} rows");
    Ok(Ingest {
        raw: ceilings,
        one_client,
        sixteen,
        sixteen_watched,
        two_nodes,
    })
}

pub fn print(i: &Ingest) {
    println!(
        "## Durable ingest on PostgreSQL (CreateObservations, {BATCH} rows per request, synchronous_commit=on)\n"
    );
    let raw: Vec<String> = i.raw.iter().map(|v| format!("{v:.0}")).collect();
    println!(
        "Raw ceiling, binary COPY into observations, 1 transaction per {BATCH} rows, before, between and after the paths: {} obs/s.\n",
        raw.join(" / ")
    );
    println!(
        "| path | obs/s | ceiling: COPY before and after it, mean | ratio |\n|---|---:|---:|---:|"
    );
    for (label, m) in [
        ("HTTP CreateObservations, 1 client, one node", &i.one_client),
        (
            "HTTP CreateObservations, 16 concurrent clients, one node",
            &i.sixteen,
        ),
        (
            "HTTP CreateObservations, 16 concurrent clients, one node, an idle second node listening",
            &i.sixteen_watched,
        ),
        (
            "HTTP CreateObservations, 16 clients split 8 + 8 over two nodes",
            &i.two_nodes,
        ),
    ] {
        println!(
            "| {label} | {:.0} | {:.0} | {:.2} |",
            m.obs_per_s,
            m.ceiling,
            m.ratio()
        );
    }
    println!();
}
