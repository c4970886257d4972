//! The streamed 30-day series (8,640 rows of one 5-minute datastream) read in a loop inside the
//! process, on the embedded store: what a profiler is pointed at (`perf record -g
//! series_probe`). Prints the median per read beside the raw SQL of the same rows.
//!
//! Run: `cargo build --release -p qingshui-bench --bin series_probe && series_probe [READS]`.

use serde_json::json;
use std::time::{Duration, Instant};
use store::{NewObservation, WriteCommand};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const T0: i64 = 1_772_323_200_000_000; // 2026-03-01T00:00:00Z in µs
const FIVE_MIN: i64 = 300_000_000;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let reads: usize = std::env::args()
        .nth(1)
        .and_then(|n| n.parse().ok())
        .unwrap_or(2000);
    let dir = tempfile::tempdir()?;
    let mut config = server::config::Config::default();
    config.storage.data_dir = dir.path().to_path_buf();
    config.sta.max_top = 10_000;
    let store = server::open_store(&config)?;
    let thing = json!({
        "name": "probe", "description": "series probe",
        "Locations": [{ "name": "p", "description": "p", "encodingType": "application/geo+json",
                        "location": { "type": "Point", "coordinates": [106.4, 26.5] } }],
        "Datastreams": [{
            "name": "tp", "description": "tp",
            "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
            "unitOfMeasurement": { "name": "mg/L", "symbol": "mg/L", "definition": "ucum:mg/L" },
            "Sensor": { "name": "s", "description": "s", "encodingType": "text/html", "metadata": "m" },
            "ObservedProperty": { "name": "tp", "definition": "urn:probe", "description": "tp" }
        }]
    });
    store
        .write(WriteCommand::Create {
            path: sta::parse_path("Things")?,
            body: thing,
        })
        .await?;
    let rows: Vec<NewObservation> = (0..10_000i64)
        .map(|i| NewObservation {
            datastream_id: 1,
            phenomenon_time: T0 + i * FIVE_MIN,
            phenomenon_time_end: None,
            result: json!(((i * 7919) % 10_000) as f64 / 100.0),
            result_time: None,
            result_quality: None,
            parameters: None,
            feature_id: None,
        })
        .collect();
    store.write(WriteCommand::InsertObservations(rows)).await?;
    let from = T0 + 2 * 86_400_000_000;
    let to = from + 30 * 86_400_000_000;
    let query = format!(
        "$filter=phenomenonTime ge {} and phenomenonTime lt {}&$orderby=phenomenonTime&$top=10000&$select=phenomenonTime,result",
        sta::time::format_instant(from),
        sta::time::format_instant(to)
    );
    let render = store::render::Render {
        service_root: "http://localhost/v1.1".into(),
        hidden: Some("mn".into()),
        max_bytes: config.http.max_response_bytes,
    };
    let mut times = Vec::with_capacity(reads);
    let mut bytes = 0;
    for _ in 0..reads {
        let path = sta::parse_path("Datastreams(1)/Observations")?;
        let q = sta::Query::parse(path.target(), &query)?;
        let t = Instant::now();
        let body = store
            .read_rendered(store::ReadRequest { path, query: q }, render.clone())
            .await?;
        times.push(t.elapsed());
        if let store::render::ReadBody::Json(b) = body {
            bytes = b.len();
        }
    }
    let raw = rusqlite::Connection::open_with_flags(
        config.database_path(),
        rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY,
    )?;
    let mut raw_times = Vec::new();
    for _ in 0..reads.min(200) {
        let t = Instant::now();
        let mut stmt = raw.prepare_cached(
            "SELECT phenomenon_time_start, result FROM observations WHERE datastream_id = 1 AND phenomenon_time_start >= ?1 AND phenomenon_time_start < ?2 ORDER BY phenomenon_time_start",
        )?;
        let n = stmt
            .query_map(rusqlite::params![from, to], |r| r.get::<_, i64>(0))?
            .count();
        anyhow::ensure!(n == 8640, "raw rows {n}");
        raw_times.push(t.elapsed());
    }
    let fastest = |v: &[Duration]| v.iter().min().copied().unwrap_or_default();
    println!(
        "series of 8,640 rows ({bytes} bytes): streamed in the store {:.2} ms median, {:.2} ms fastest ({reads} reads); raw SQL {:.2} ms median, {:.2} ms fastest",
        median(times.clone()).as_secs_f64() * 1e3,
        fastest(&times).as_secs_f64() * 1e3,
        median(raw_times.clone()).as_secs_f64() * 1e3,
        fastest(&raw_times).as_secs_f64() * 1e3
    );
    store.close().await;
    Ok(())
}
