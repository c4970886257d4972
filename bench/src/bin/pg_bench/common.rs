//! What every part of pg_bench shares: bench schemas (dropped at the end), nodes on a schema,
//! the request shapes of sta_bench, and timing as median and p95.

use serde_json::{Value, json};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

pub const T0: i64 = 1_772_323_200_000_000; // 2026-03-01T00:00:00Z in µs
pub const FIVE_MIN: i64 = 300_000_000;
pub const BATCH: usize = 1000;

/// The bench schemas created in this run, dropped when it ends (they hold up to ~2 GB).
#[derive(Clone, Default)]
pub struct Schemas {
    admin: String,
    names: Arc<Mutex<Vec<String>>>,
}

impl Schemas {
    pub fn new(admin: &str) -> Self {
        Schemas {
            admin: admin.to_string(),
            names: Arc::default(),
        }
    }

    /// A fresh schema and the URL whose `search_path` names it (blocking).
    pub fn create(&self, tag: &str) -> anyhow::Result<String> {
        let (name, url) =
            store_postgres::create_fresh_schema(&self.admin, &format!("bench_{tag}_"))?;
        if let Ok(mut names) = self.names.lock() {
            names.push(name);
        }
        Ok(url)
    }

    /// Drops every schema of this run (blocking); errors are printed, not fatal.
    pub fn drop_all(&self) {
        let names = self
            .names
            .lock()
            .map(|mut n| std::mem::take(&mut *n))
            .unwrap_or_default();
        if names.is_empty() {
            return;
        }
        match store_postgres::connect(&self.admin) {
            Ok(mut c) => {
                for n in names {
                    if let Err(e) = c.batch_execute(&format!("DROP SCHEMA {n} CASCADE")) {
                        eprintln!("could not drop schema {n}: {e}");
                    }
                }
            }
            Err(e) => eprintln!("could not drop the bench schemas {names:?}: {e}"),
        }
    }
}

/// A qingshui node on `url`: its own store (writer, readers, listener) and HTTP server.
pub struct Node {
    pub running: server::Running,
    pub store: Arc<dyn store::Store>,
    pub config: server::config::Config,
}

impl Node {
    pub async fn start(url: &str) -> anyhow::Result<Node> {
        let mut config = server::config::Config::default();
        config.http.addr = "127.0.0.1:0".parse()?;
        config.storage.database_url = url.to_string();
        config.auth.open = true;
        // The 30-day series is 8,640 rows on one page, as in sta_bench.
        config.sta.max_top = 10_000;
        // `BENCH_RESULT_INDEX=1`: with `[storage] result_index` (off by default on PostgreSQL),
        // to measure what it costs and what it gives.
        config.storage.result_index =
            Some(std::env::var("BENCH_RESULT_INDEX").is_ok_and(|v| v == "1"));
        let store = server::open_store(&config)?;
        let running = server::start(config.clone(), store.clone()).await?;
        Ok(Node {
            running,
            store,
            config,
        })
    }

    /// The SensorThings service root of this node.
    pub fn sta(&self) -> String {
        format!("http://{}/v1.1", self.running.http_addr)
    }

    /// The domain API root of this node.
    pub fn api(&self) -> String {
        format!("http://{}/api/v1", self.running.http_addr)
    }

    /// Stops the server, which closes its store (the writer commits what it holds).
    pub async fn stop(self) -> anyhow::Result<()> {
        self.running.stop().await
    }
}

/// A Thing with one datastream (sta_bench's shape, so both backends hold the same entities).
pub fn station(k: usize) -> Value {
    json!({
        "name": format!("bench-{k}"), "description": "benchmark station",
        "Locations": [{ "name": "p", "description": "p", "encodingType": "application/geo+json",
                        "location": { "type": "Point", "coordinates": [106.4, 26.5] } }],
        "Datastreams": [{
            "name": format!("bench-{k} tp 0"), "description": "tp",
            "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
            "unitOfMeasurement": { "name": "mg/L", "symbol": "mg/L", "definition": "ucum:mg/L" },
            "Sensor": { "name": "s", "description": "s", "encodingType": "text/html", "metadata": "m" },
            "ObservedProperty": { "name": "tp", "definition": format!("urn:bench:{k}:0"), "description": "tp" }
        }]
    })
}

/// Creates `n` stations through the API, `parallel` requests at a time.
pub async fn create_stations(
    client: &reqwest::Client,
    base: &str,
    n: usize,
    parallel: usize,
) -> anyhow::Result<()> {
    let mut k = 0;
    while k < n {
        let mut tasks = Vec::new();
        for j in k..(k + parallel).min(n) {
            let (client, url) = (client.clone(), format!("{base}/Things"));
            tasks.push(tokio::spawn(async move {
                let r = client.post(url).json(&station(j)).send().await?;
                anyhow::ensure!(
                    r.status() == 201,
                    "creating bench station {j}: {}",
                    r.status()
                );
                Ok(())
            }));
        }
        for t in tasks {
            t.await??;
        }
        k += parallel;
    }
    Ok(())
}

/// The result of observation `i` of datastream `ds` in the large table (sta_bench's values).
pub fn value(ds: i64, i: i64) -> f64 {
    ((i * 7919 + ds * 104_729) % 10_000) as f64 / 100.0
}

/// The first phenomenon time of `rows` five-minute ingest rows: a month start far enough back
/// that the last row is in the past (the store refuses future times, row by row).
pub fn ingest_start(rows: usize) -> i64 {
    let span = rows as i64 * FIVE_MIN + 31 * 86_400_000_000;
    store_postgres::schema::month_of(store::clock::now_micros() - span)
}

/// CreateObservations of `rows` rows into datastream `ds`, BATCH rows per request, the first
/// at `start`; every row must be stored (a refused row is an error, not a faster request).
pub async fn post_batches(
    client: reqwest::Client,
    base: String,
    ds: usize,
    start: i64,
    rows: usize,
) -> anyhow::Result<()> {
    let mut i = 0;
    while i < rows {
        let data: Vec<Value> = (i..i + BATCH)
            .map(|j| {
                json!([
                    sta::time::format_instant(start + j as i64 * FIVE_MIN),
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
        if r.status() != 201 {
            let status = r.status();
            anyhow::bail!(
                "CreateObservations into Datastream({ds}) at {base} answered {status}: {}",
                r.text().await.unwrap_or_default()
            );
        }
        let answer: Value = r.json().await?;
        let refused = answer
            .as_array()
            .into_iter()
            .flatten()
            .filter(|v| v.as_str() == Some("error"))
            .count();
        anyhow::ensure!(
            refused == 0,
            "CreateObservations into Datastream({ds}) refused {refused} rows"
        );
        i += BATCH;
    }
    Ok(())
}

/// Median and 95th percentile of the timed runs.
#[derive(Debug, Clone, Copy)]
pub struct Stat {
    pub median: Duration,
    pub p95: Duration,
}

impl Stat {
    pub fn of(mut v: Vec<Duration>) -> Stat {
        v.sort();
        let n = v.len().max(1);
        let at = |q: f64| v.get(((q * n as f64).ceil() as usize).clamp(1, n) - 1);
        Stat {
            median: v.get(n / 2).copied().unwrap_or_default(),
            p95: at(0.95).copied().unwrap_or_default(),
        }
    }

    /// "median (p95)" in milliseconds.
    pub fn show(&self) -> String {
        format!(
            "{:.2} ms ({:.2})",
            self.median.as_secs_f64() * 1e3,
            self.p95.as_secs_f64() * 1e3
        )
    }
}

/// Times `f(k)` for k in 0..runs after two warm-ups (k is the run number: which node to ask).
pub async fn time_async<F, Fut>(runs: usize, mut f: F) -> anyhow::Result<Stat>
where
    F: FnMut(usize) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<()>>,
{
    for k in 0..2 {
        f(k).await?;
    }
    let mut times = Vec::with_capacity(runs);
    for k in 0..runs {
        let t = Instant::now();
        f(k).await?;
        times.push(t.elapsed());
    }
    Ok(Stat::of(times))
}

/// The same for blocking work (raw SQL on its own connection).
pub fn time_sync(runs: usize, mut f: impl FnMut() -> anyhow::Result<()>) -> anyhow::Result<Stat> {
    for _ in 0..2 {
        f()?;
    }
    let mut times = Vec::with_capacity(runs);
    for _ in 0..runs {
        let t = Instant::now();
        f()?;
        times.push(t.elapsed());
    }
    Ok(Stat::of(times))
}

/// GET `url`, requiring success; returns the body.
pub async fn get(client: &reqwest::Client, url: &str) -> anyhow::Result<Vec<u8>> {
    let r = client.get(url).send().await?;
    anyhow::ensure!(r.status().is_success(), "{url}: {}", r.status());
    Ok(r.bytes().await?.to_vec())
}
