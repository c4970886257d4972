//! SensorThings benchmarks: durable ingest, latest values, a 30-day series and `$count` on a
//! large observation table — each next to the raw ceiling of the same SQLite schema measured in
//! the same run (a bare prepared-statement loop / the bare SQL query on the same file).
//!
//! Run: `cargo run --release -p qingshui-bench --bin sta_bench -- [--observations N] [--datastreams D]
//! [--per-thing K]` (K datastreams per Thing in the large table, for the nested `$expand` lines).

use anyhow::Context;
use rusqlite::{Connection, params};
use serde_json::{Value, json};
use std::sync::Arc;
use std::time::{Duration, Instant};
use store::{NewObservation, Store, WriteCommand};

// The same allocator as the qingshui binary, so the server measured here is the one shipped.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const T0: i64 = 1_772_323_200_000_000; // 2026-03-01T00:00:00Z in µs
const FIVE_MIN: i64 = 300_000_000;
const BATCH: usize = 1000;

struct Args {
    observations: usize,
    datastreams: usize,
    ingest_rows: usize,
    per_thing: usize,
    /// `--result-index 0`: the large table without `[storage] result_index` (its ingest cost).
    result_index: bool,
}

fn args() -> Args {
    let mut a = Args {
        observations: 10_000_000,
        datastreams: 1000,
        ingest_rows: 200_000,
        per_thing: 1,
        result_index: true,
    };
    let v: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i + 1 < v.len() {
        let n: usize = v[i + 1].replace('_', "").parse().unwrap_or(0);
        match v[i].as_str() {
            "--observations" => a.observations = n,
            "--datastreams" => a.datastreams = n,
            "--ingest-rows" => a.ingest_rows = n,
            "--per-thing" => a.per_thing = n.max(1),
            "--result-index" => a.result_index = n != 0,
            _ => {}
        }
        i += 2;
    }
    a
}

fn iso(micros: i64) -> String {
    sta::time::format_instant(micros)
}

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1e3)
}

/// Times `f` `runs` times after two warm-ups and returns the median.
async fn time_async<F, Fut>(runs: usize, mut f: F) -> anyhow::Result<Duration>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    for _ in 0..2 {
        f().await?;
    }
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        f().await?;
        times.push(t.elapsed());
    }
    Ok(median(times))
}

fn time_sync(runs: usize, mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<Duration> {
    for _ in 0..2 {
        f()?;
    }
    let mut times = Vec::new();
    for _ in 0..runs {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed());
    }
    Ok(median(times))
}

/// The raw ceiling: the same schema, WAL, synchronous=FULL, one transaction per batch of a bare
/// prepared INSERT — what the writer could do if it did nothing but insert.
fn raw_ingest(path: &std::path::Path, rows: usize) -> anyhow::Result<f64> {
    let mut conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    store_sqlite::schema::migrate(&mut conn)?;
    conn.execute("INSERT INTO datastreams (id, name, description, unit_of_measurement, observation_type, thing_id, sensor_id, observed_property_id) VALUES (1, 'd', 'd', '{}', 'm', 1, 1, 1)", [])?;
    let start = Instant::now();
    let mut id = 1i64;
    for _ in 0..rows / BATCH {
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO observations (datastream_id, phenomenon_time_start, id, result, feature_id) VALUES (1, ?1, ?2, ?3, 1)",
            )?;
            for _ in 0..BATCH {
                stmt.execute(params![T0 + id * FIVE_MIN, id, id as f64 * 0.001])?;
                id += 1;
            }
        }
        tx.commit()?;
    }
    Ok(rows as f64 / start.elapsed().as_secs_f64())
}

fn check_rows(outcome: store::WriteOutcome) -> anyhow::Result<()> {
    if let store::WriteOutcome::Rows(rows) = outcome
        && let Some(Err(e)) = rows.iter().find(|r| r.is_err())
    {
        anyhow::bail!("bulk insert rejected a row: {e}");
    }
    Ok(())
}

/// A Thing with `per_thing` datastreams of its own.
fn station(k: usize, per_thing: usize) -> Value {
    let datastreams: Vec<Value> = (0..per_thing)
        .map(|j| {
            json!({
                "name": format!("bench-{k} tp {j}"), "description": "tp",
                "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
                "unitOfMeasurement": { "name": "mg/L", "symbol": "mg/L", "definition": "ucum:mg/L" },
                "Sensor": { "name": "s", "description": "s", "encodingType": "text/html", "metadata": "m" },
                "ObservedProperty": { "name": "tp", "definition": format!("urn:bench:{k}:{j}"), "description": "tp" }
            })
        })
        .collect();
    json!({
        "name": format!("bench-{k}"), "description": "benchmark station",
        "Locations": [{ "name": "p", "description": "p", "encodingType": "application/geo+json",
                        "location": { "type": "Point", "coordinates": [106.4, 26.5] } }],
        "Datastreams": datastreams
    })
}

async fn post_batches(
    client: reqwest::Client,
    base: String,
    ds: usize,
    offset: usize,
    rows: usize,
) -> anyhow::Result<()> {
    let mut i = 0;
    while i < rows {
        let data: Vec<Value> = (i..i + BATCH)
            .map(|j| json!([iso(T0 + (offset + j) as i64 * FIVE_MIN), j as f64 * 0.001]))
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
    let a = args();
    let dir = tempfile::Builder::new()
        .prefix("qingshui-bench-")
        .tempdir_in(std::env::var("BENCH_DIR").unwrap_or_else(|_| "/var/tmp".into()))?;
    println!(
        "# qingshui STA benchmark ({} observations in {} datastreams; ingest {} rows; result_index {})\n",
        a.observations, a.datastreams, a.ingest_rows, a.result_index
    );

    // 1. Raw ceiling of durable ingest.
    let raw = raw_ingest(&dir.path().join("raw.sqlite"), a.ingest_rows)?;

    // 2. Durable ingest through HTTP CreateObservations, 1 and 16 concurrent clients.
    let mut config = server::config::Config::default();
    config.http.addr = "127.0.0.1:0".parse()?;
    config.storage.data_dir = dir.path().join("ingest");
    config.storage.result_index = Some(a.result_index);
    config.auth.open = true;
    let store = server::open_store(&config)?;
    let running = server::start(config, store).await?;
    let base = format!("http://{}/v1.1", running.http_addr);
    let client = reqwest::Client::new();
    for k in 0..16 {
        let r = client
            .post(format!("{base}/Things"))
            .json(&station(k, 1))
            .send()
            .await?;
        anyhow::ensure!(r.status() == 201, "creating a bench station failed");
    }
    let t = Instant::now();
    post_batches(client.clone(), base.clone(), 1, 0, a.ingest_rows).await?;
    let one = a.ingest_rows as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    let per_client = a.ingest_rows / 16 / BATCH * BATCH;
    let mut tasks = Vec::new();
    for k in 0..16 {
        tasks.push(tokio::spawn(post_batches(
            client.clone(),
            base.clone(),
            k + 1,
            a.ingest_rows * 2,
            per_client,
        )));
    }
    for task in tasks {
        task.await??;
    }
    let sixteen = (per_client * 16) as f64 / t.elapsed().as_secs_f64();
    running.stop().await?;

    println!(
        "## Durable ingest (CreateObservations, {BATCH} rows per request, synchronous=FULL)\n"
    );
    println!("| path | obs/s | ratio to raw |\n|---|---:|---:|");
    println!(
        "| raw ceiling: bare prepared INSERT, 1 transaction per {BATCH} rows | {raw:.0} | 1.00 |"
    );
    println!(
        "| HTTP CreateObservations, 1 client | {one:.0} | {:.2} |",
        one / raw
    );
    println!(
        "| HTTP CreateObservations, 16 concurrent clients | {sixteen:.0} | {:.2} |\n",
        sixteen / raw
    );

    // 3. A large observation table through the internal bulk path.
    let mut config = server::config::Config::default();
    config.http.addr = "127.0.0.1:0".parse()?;
    config.storage.data_dir = dir.path().join("large");
    config.storage.result_index = Some(a.result_index);
    config.auth.open = true;
    config.sta.max_top = 10_000;
    let store = server::open_store(&config)?;
    let running = server::start(config.clone(), store.clone()).await?;
    let base = format!("http://{}/v1.1", running.http_addr);
    let api = format!("http://{}/api/v1", running.http_addr);
    for k in 0..a.datastreams / a.per_thing {
        let r = client
            .post(format!("{base}/Things"))
            .json(&station(k, a.per_thing))
            .send()
            .await?;
        anyhow::ensure!(r.status() == 201);
    }
    let per_ds = a.observations / a.datastreams;
    let t = Instant::now();
    let chunk_rows = 50_000usize;
    let mut pending = Vec::with_capacity(chunk_rows);
    let mut writes = Vec::new();
    for ds in 1..=a.datastreams as i64 {
        for i in 0..per_ds as i64 {
            pending.push(NewObservation {
                datastream_id: ds,
                phenomenon_time: T0 + i * FIVE_MIN,
                phenomenon_time_end: None,
                result: json!(((i * 7919 + ds * 104_729) % 10_000) as f64 / 100.0),
                result_time: None,
                result_quality: None,
                parameters: None,
                feature_id: None,
            });
            if pending.len() == chunk_rows {
                let s: Arc<dyn Store> = store.clone();
                let rows = std::mem::replace(&mut pending, Vec::with_capacity(chunk_rows));
                writes.push(tokio::spawn(async move {
                    s.write(WriteCommand::InsertObservations(rows)).await
                }));
                if writes.len() >= 4 {
                    check_rows(writes.remove(0).await??)?;
                }
            }
        }
    }
    if !pending.is_empty() {
        check_rows(
            store
                .write(WriteCommand::InsertObservations(pending))
                .await?,
        )?;
    }
    for w in writes {
        check_rows(w.await??)?;
    }
    let total = per_ds * a.datastreams;
    let bulk = total as f64 / t.elapsed().as_secs_f64();
    println!(
        "## Large table: {total} observations loaded through the internal bulk path at {bulk:.0} obs/s\n"
    );

    let db = config.database_path();
    let raw_conn = Connection::open_with_flags(&db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    let get = |url: String| {
        let client = client.clone();
        async move {
            let r = client.get(&url).send().await?;
            anyhow::ensure!(r.status().is_success(), "{url}: {}", r.status());
            let _ = r.bytes().await?;
            Ok(())
        }
    };
    let runs = 15;

    // $count.
    let count_http = time_async(runs, || {
        get(format!("{base}/Observations?$count=true&$top=0"))
    })
    .await?;
    let count_raw = time_sync(5, || {
        let _: i64 = raw_conn.query_row("SELECT COUNT(*) FROM observations", [], |r| r.get(0))?;
        Ok(())
    })?;
    let count_ds_http = time_async(runs, || {
        get(format!(
            "{base}/Datastreams(7)/Observations?$count=true&$top=0"
        ))
    })
    .await?;
    let count_ds_raw = time_sync(runs, || {
        let _: i64 = raw_conn.query_row(
            "SELECT COUNT(*) FROM observations WHERE datastream_id = 7",
            [],
            |r| r.get(0),
        )?;
        Ok(())
    })?;
    let count_filtered = time_async(5, || {
        get(format!(
            "{base}/Observations?$filter=result%20gt%2099.5&$count=true&$top=0"
        ))
    })
    .await?;
    let count_filtered_raw = time_sync(5, || {
        let _: i64 = raw_conn.query_row(
            "SELECT COUNT(*) FROM observations WHERE result > 99.5",
            [],
            |r| r.get(0),
        )?;
        Ok(())
    })?;

    // Latest value of every datastream.
    let latest_api = time_async(runs, || get(format!("{api}/latest"))).await?;
    let latest_sta = time_async(runs, || {
        get(format!("{base}/Datastreams?$top=10000&$select=id,name&$expand=Observations($top=1;$orderby=phenomenonTime%20desc;$select=phenomenonTime,result)"))
    })
    .await?;
    let latest_raw = time_sync(runs, || {
        let mut stmt = raw_conn.prepare_cached(
            "SELECT d.id, o.phenomenon_time_start, o.result FROM datastreams d JOIN observations o ON o.id = d.latest_observation_id",
        )?;
        let n = stmt.query_map([], |r| r.get::<_, i64>(0))?.count();
        anyhow::ensure!(n == a.datastreams);
        Ok(())
    })?;
    let latest_naive = time_sync(3, || {
        let mut stmt = raw_conn.prepare_cached(
            "SELECT datastream_id, MAX(phenomenon_time_start) FROM observations GROUP BY datastream_id",
        )?;
        let n = stmt.query_map([], |r| r.get::<_, i64>(0))?.count();
        anyhow::ensure!(n == a.datastreams);
        Ok(())
    })?;

    // A 30-day series of one 5-minute datastream.
    let from = T0 + 2 * 86_400_000_000;
    let to = from + 30 * 86_400_000_000;
    let series_q = format!(
        "{base}/Datastreams(7)/Observations?$filter=phenomenonTime%20ge%20{}%20and%20phenomenonTime%20lt%20{}&$orderby=phenomenonTime&$top=10000&$select=phenomenonTime,result",
        iso(from),
        iso(to)
    );
    let probe: Value = client.get(&series_q).send().await?.json().await?;
    let series_n = probe["value"].as_array().map(Vec::len).unwrap_or(0);
    let series_http = time_async(runs, || get(series_q.clone())).await?;
    let series_da = time_async(runs, || get(format!("{series_q}&$resultFormat=dataArray"))).await?;
    let series_raw = time_sync(runs, || {
        let mut stmt = raw_conn.prepare_cached(
            "SELECT phenomenon_time_start, result FROM observations WHERE datastream_id = 7 AND phenomenon_time_start >= ?1 AND phenomenon_time_start < ?2 ORDER BY phenomenon_time_start",
        )?;
        let n = stmt
            .query_map(params![from, to], |r| r.get::<_, i64>(0))?
            .count();
        anyhow::ensure!(n == series_n);
        Ok(())
    })?;
    // The same series inside the process, without HTTP: what the store itself spends (the
    // streamed body, and the value path it replaced, rendered with the same rules).
    let series_path = "Datastreams(7)/Observations";
    let series_raw_query = series_q.split_once('?').map(|(_, q)| q).unwrap_or_default();
    let series_req = || -> anyhow::Result<store::ReadRequest> {
        let path = sta::parse_path(series_path)?;
        let query = sta::Query::parse(path.target(), series_raw_query)?;
        Ok(store::ReadRequest { path, query })
    };
    let render = store::render::Render {
        service_root: base.clone(),
        hidden: Some("mn".into()),
        max_bytes: config.http.max_response_bytes,
    };
    let series_store = time_async(runs, || {
        let (store, render, req) = (store.clone(), render.clone(), series_req());
        async move {
            let body = store.read_rendered(req?, render).await?;
            anyhow::ensure!(matches!(body, store::render::ReadBody::Json(_)));
            Ok(())
        }
    })
    .await?;
    let series_value = time_async(runs, || {
        let (store, render, req) = (store.clone(), render.clone(), series_req());
        async move {
            let v = store.read(req?).await?;
            let _ = store::render::render_response(v, &render)?;
            Ok(())
        }
    })
    .await?;
    // Nested per-parent $expand: the first N Things, all their Datastreams, 5 Observations each,
    // beside the raw SQL that reads the same 5 rows per datastream by primary-key range.
    let mut nested = Vec::new();
    for things in [10usize, 100] {
        if things * a.per_thing > a.datastreams {
            continue;
        }
        let url = format!(
            "{base}/Things?$top={things}&$expand=Datastreams($expand=Observations($top=5))"
        );
        let probe: Value = client.get(&url).send().await?.json().await?;
        let members: usize = probe["value"]
            .as_array()
            .into_iter()
            .flatten()
            .flat_map(|t| t["Datastreams"].as_array().into_iter().flatten())
            .map(|d| d["Observations"].as_array().map_or(0, Vec::len))
            .sum();
        anyhow::ensure!(members == things * a.per_thing * 5.min(per_ds));
        let http = time_async(runs, || get(url.clone())).await?;
        let n_ds = (things * a.per_thing) as i64;
        let raw = time_sync(runs, || {
            let mut stmt = raw_conn.prepare_cached(
                "SELECT id, phenomenon_time_start, result FROM observations WHERE datastream_id = ?1 ORDER BY phenomenon_time_start LIMIT 5",
            )?;
            let mut n = 0;
            for ds in 1..=n_ds {
                n += stmt.query_map([ds], |r| r.get::<_, i64>(0))?.count();
            }
            anyhow::ensure!(n == members);
            Ok(())
        })?;
        nested.push((things, members, http, raw));
    }
    running.stop().await?;

    println!(
        "## Reads on the large table (median of {runs} runs, HTTP includes JSON encoding and transfer on loopback)\n"
    );
    println!("| request | qingshui | raw SQL on the same file | note |\n|---|---:|---:|---|");
    println!(
        "| `Observations?$count=true` ({total} rows) | {} | {} (`COUNT(*)`) | maintained per-datastream counts |",
        ms(count_http),
        ms(count_raw)
    );
    println!(
        "| `Datastreams(7)/Observations?$count=true` | {} | {} | |",
        ms(count_ds_http),
        ms(count_ds_raw)
    );
    println!(
        "| `Observations?$filter=result gt 99.5&$count=true` | {} | {} | index range with `[storage] result_index` (else a scan) |",
        ms(count_filtered),
        ms(count_filtered_raw)
    );
    println!(
        "| `/api/v1/latest` ({} datastreams) | {} | {} (maintained join); {} (naive GROUP BY) | |",
        a.datastreams,
        ms(latest_api),
        ms(latest_raw),
        ms(latest_naive)
    );
    println!(
        "| `Datastreams?$expand=Observations($top=1;$orderby=phenomenonTime desc)` | {} | same | fast path |",
        ms(latest_sta)
    );
    println!(
        "| 30-day series, one 5-minute datastream ({series_n} rows) | {} | {} | |",
        ms(series_http),
        ms(series_raw)
    );
    println!(
        "| same, `$resultFormat=dataArray` | {} | {} | |",
        ms(series_da),
        ms(series_raw)
    );
    println!(
        "| same, inside the process: streamed body (`Store::read_rendered`) | {} | {} | no HTTP |",
        ms(series_store),
        ms(series_raw)
    );
    println!(
        "| same, inside the process: value path (`Store::read` + render) | {} | {} | no HTTP |",
        ms(series_value),
        ms(series_raw)
    );
    for (things, members, http, raw) in nested {
        println!(
            "| `Things?$top={things}&$expand=Datastreams($expand=Observations($top=5))` ({things} × {} × {per_ds}; {members} observations) | {} | {} (one PK range per datastream) | |",
            a.per_thing,
            ms(http),
            ms(raw)
        );
    }
    let _ = std::fs::remove_dir_all(dir.path()).context("cleaning up");
    Ok(())
}
