//! MQTT benchmarks (issue 17): durable ingest by QoS 1 PUBLISH from many publishers, next to
//! HTTP `CreateObservations` and the raw ceiling of the same SQLite schema in the same run; and
//! the fan-out latency from a commit to 100 subscribers.
//!
//! Run: `cargo run --release -p qingshui-bench --bin mqtt_bench -- [--publishers P]
//! [--messages M] [--inflight W] [--subscribers S] [--fanout N]`

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use rusqlite::{Connection, params};
use serde_json::{Value, json};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

const T0: i64 = 1_772_323_200_000_000; // 2026-03-01T00:00:00Z in µs
/// Values one second apart: every time stays in the past (times later than now + the clock
/// tolerance are refused).
const STEP: i64 = 1_000_000;
const BATCH: usize = 1000;

struct Args {
    publishers: usize,
    /// Messages per publisher.
    messages: usize,
    inflight: u16,
    subscribers: usize,
    fanout: usize,
}

fn args() -> Args {
    let mut a = Args {
        publishers: 100,
        messages: 1000,
        inflight: 16,
        subscribers: 100,
        fanout: 200,
    };
    let v: Vec<String> = std::env::args().collect();
    let mut i = 1;
    while i + 1 < v.len() {
        let n: usize = v[i + 1].replace('_', "").parse().unwrap_or(0);
        match v[i].as_str() {
            "--publishers" => a.publishers = n.max(1),
            "--messages" => a.messages = n.max(1),
            "--inflight" => a.inflight = u16::try_from(n.max(1)).unwrap_or(u16::MAX),
            "--subscribers" => a.subscribers = n.max(1),
            "--fanout" => a.fanout = n.max(1),
            _ => {}
        }
        i += 2;
    }
    a
}

fn iso(micros: i64) -> String {
    sta::time::format_instant(micros)
}

/// The raw ceiling: a bare prepared INSERT, 1,000 rows per transaction, synchronous=FULL.
fn raw_ingest(path: &std::path::Path, rows: usize) -> anyhow::Result<f64> {
    let mut conn = Connection::open(path)?;
    conn.pragma_update(None, "journal_mode", "WAL")?;
    conn.pragma_update(None, "synchronous", "FULL")?;
    store_sqlite::schema::migrate(&mut conn)?;
    conn.execute("INSERT INTO datastreams (id, name, description, unit_of_measurement, observation_type, thing_id, sensor_id, observed_property_id) VALUES (1, 'd', 'd', '{}', 'm', 1, 1, 1)", [])?;
    let start = Instant::now();
    let mut id = 1i64;
    for _ in 0..rows.div_ceil(BATCH) {
        let tx = conn.transaction()?;
        {
            let mut stmt = tx.prepare_cached(
                "INSERT INTO observations (datastream_id, phenomenon_time_start, id, result, feature_id) VALUES (1, ?1, ?2, ?3, 1)",
            )?;
            for _ in 0..BATCH {
                stmt.execute(params![T0 + id * STEP, id, id as f64 * 0.001])?;
                id += 1;
            }
        }
        tx.commit()?;
    }
    Ok((rows.div_ceil(BATCH) * BATCH) as f64 / start.elapsed().as_secs_f64())
}

fn thing(k: usize) -> Value {
    json!({
        "name": format!("bench-{k}"), "description": "benchmark station",
        "Locations": [{ "name": "p", "description": "p", "encodingType": "application/geo+json",
                        "location": { "type": "Point", "coordinates": [106.4, 26.5] } }],
        "Datastreams": [{
            "name": format!("bench-{k} tp"), "description": "tp",
            "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
            "unitOfMeasurement": { "name": "mg/L", "symbol": "mg/L", "definition": "ucum:mg/L" },
            "Sensor": { "name": "s", "description": "s", "encodingType": "text/html", "metadata": "m" },
            "ObservedProperty": { "name": "tp", "definition": format!("urn:bench:{k}"), "description": "tp" }
        }]
    })
}

/// One QoS 1 publisher: `messages` observations to its datastream, `inflight` unacknowledged at
/// most; returns once every one is acknowledged.
async fn publisher(
    port: u16,
    k: usize,
    messages: usize,
    inflight: u16,
    acked: Arc<AtomicU64>,
) -> anyhow::Result<()> {
    let mut o = MqttOptions::new(format!("bench-pub-{k}"), "127.0.0.1", port);
    o.set_keep_alive(Duration::from_secs(30));
    o.set_inflight(inflight);
    let (client, mut eventloop) = AsyncClient::new(o, usize::from(inflight) * 2);
    let topic = format!("v1.1/Datastreams({})/Observations", k + 1);
    let sender = tokio::spawn(async move {
        for i in 0..messages {
            let body =
                json!({ "phenomenonTime": iso(T0 + i as i64 * STEP), "result": i as f64 * 0.001 });
            if client
                .publish(topic.as_str(), QoS::AtLeastOnce, false, body.to_string())
                .await
                .is_err()
            {
                break;
            }
        }
        client
    });
    let mut mine = 0usize;
    while mine < messages {
        if let Event::Incoming(Packet::PubAck(_)) = eventloop.poll().await? {
            mine += 1;
            acked.fetch_add(1, Ordering::Relaxed);
        }
    }
    let client = sender.await?;
    let _ = client.disconnect().await;
    Ok(())
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    let i = ((sorted.len() - 1) as f64 * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let a = args();
    let total = a.publishers * a.messages;
    let dir = tempfile::Builder::new()
        .prefix("qingshui-mqtt-bench-")
        .tempdir_in(std::env::var("BENCH_DIR").unwrap_or_else(|_| "/var/tmp".into()))?;
    println!(
        "# qingshui MQTT benchmark ({} publishers × {} QoS 1 messages, {} in flight each; fan-out to {} subscribers)\n",
        a.publishers, a.messages, a.inflight, a.subscribers
    );
    let raw = raw_ingest(&dir.path().join("raw.sqlite"), total)?;

    let mut config = server::config::Config::default();
    config.http.addr = "127.0.0.1:0".parse()?;
    config.storage.data_dir = dir.path().join("server");
    config.auth.open = true;
    config.mqtt.listen = Some("127.0.0.1:0".parse()?);
    config.mqtt.max_inflight = usize::from(a.inflight).max(1);
    let store = server::open_store(&config)?;
    let running = server::start(config, store).await?;
    let base = format!("http://{}/v1.1", running.http_addr);
    let port = running.source_addrs["mqtt"].port();
    let client = reqwest::Client::new();
    for k in 0..a.publishers.max(16) {
        let r = client
            .post(format!("{base}/Things"))
            .json(&thing(k))
            .send()
            .await?;
        anyhow::ensure!(r.status() == 201, "creating a bench station failed");
    }

    // HTTP CreateObservations, 16 clients, 1,000 rows per request: the same number of rows.
    let per_client = total.div_ceil(16 * BATCH) * BATCH;
    let t = Instant::now();
    let mut tasks = Vec::new();
    for k in 0..16usize {
        let (client, base) = (client.clone(), base.clone());
        tasks.push(tokio::spawn(async move {
            let mut i = 0;
            while i < per_client {
                let data: Vec<Value> = (i..i + BATCH)
                    .map(|j| json!([iso(T0 + (200_000 + j) as i64 * STEP), j as f64 * 0.001]))
                    .collect();
                let body = json!([{ "Datastream": { "@iot.id": k + 1 }, "components": ["phenomenonTime", "result"], "dataArray": data }]);
                let r = client.post(format!("{base}/CreateObservations")).json(&body).send().await?;
                anyhow::ensure!(r.status() == 201, "CreateObservations answered {}", r.status());
                let urls: Vec<Value> = r.json().await?;
                anyhow::ensure!(urls.iter().all(|u| u != "error"), "CreateObservations refused rows");
                i += BATCH;
            }
            Ok::<(), anyhow::Error>(())
        }));
    }
    for task in tasks {
        task.await??;
    }
    let http = (per_client * 16) as f64 / t.elapsed().as_secs_f64();

    // HTTP, one observation per POST, as many clients as publishers: the like-for-like path.
    let t = Instant::now();
    let tasks: Vec<_> = (0..a.publishers)
        .map(|k| {
            let (client, base, n) = (client.clone(), base.clone(), a.messages);
            tokio::spawn(async move {
                for i in 0..n {
                    let body = json!({ "phenomenonTime": iso(T0 + (300_000 + i) as i64 * STEP), "result": i as f64 * 0.001 });
                    let r = client
                        .post(format!("{base}/Datastreams({})/Observations", k + 1))
                        .json(&body)
                        .send()
                        .await?;
                    anyhow::ensure!(r.status() == 201, "POST answered {}", r.status());
                }
                Ok::<(), anyhow::Error>(())
            })
        })
        .collect();
    for task in tasks {
        task.await??;
    }
    let http_single = total as f64 / t.elapsed().as_secs_f64();

    // MQTT: every publisher at once, until every message is acknowledged (after its commit).
    let acked = Arc::new(AtomicU64::new(0));
    let t = Instant::now();
    let tasks: Vec<_> = (0..a.publishers)
        .map(|k| tokio::spawn(publisher(port, k, a.messages, a.inflight, acked.clone())))
        .collect();
    for task in tasks {
        task.await??;
    }
    let mqtt = total as f64 / t.elapsed().as_secs_f64();
    anyhow::ensure!(
        acked.load(Ordering::Relaxed) as usize == total,
        "not every publish was acknowledged"
    );

    println!("## Durable ingest (synchronous=FULL, group commit)\n");
    println!("| path | obs/s | ratio to raw | ratio to HTTP |\n|---|---:|---:|---:|");
    println!(
        "| raw ceiling: bare prepared INSERT, 1,000 rows per transaction | {raw:.0} | 1.00 | |"
    );
    println!(
        "| HTTP CreateObservations, 16 clients × 1,000 rows per request | {http:.0} | {:.2} | 1.00 |",
        http / raw
    );
    println!(
        "| HTTP POST Datastreams(id)/Observations, {} clients × 1 observation per request | {http_single:.0} | {:.2} | {:.2} |",
        a.publishers,
        http_single / raw,
        http_single / http
    );
    println!(
        "| MQTT QoS 1, {} publishers × 1 observation per PUBLISH, {} in flight each | {mqtt:.0} | {:.2} | {:.2} |\n",
        a.publishers,
        a.inflight,
        mqtt / raw,
        mqtt / http
    );

    // Fan-out: S subscribers on one datastream topic; N observations posted one by one over HTTP.
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel::<(i64, Instant)>();
    let mut subs = Vec::new();
    for k in 0..a.subscribers {
        let mut o = MqttOptions::new(format!("bench-sub-{k}"), "127.0.0.1", port);
        o.set_keep_alive(Duration::from_secs(30));
        let (c, mut el) = AsyncClient::new(o, 100);
        c.subscribe(
            "v1.1/Datastreams(1)/Observations?$select=result",
            QoS::AtMostOnce,
        )
        .await?;
        let tx = tx.clone();
        subs.push((
            c,
            tokio::spawn(async move {
                while let Ok(ev) = el.poll().await {
                    if let Event::Incoming(Packet::Publish(p)) = ev
                        && !p.retain
                        && let Ok(v) = serde_json::from_slice::<Value>(&p.payload)
                        && let Some(r) = v["result"].as_i64()
                    {
                        let _ = tx.send((r, Instant::now()));
                    }
                }
            }),
        ));
    }
    tokio::time::sleep(Duration::from_millis(500)).await;
    while rx.try_recv().is_ok() {}
    // (POST sent, 201 received) per observation: the commit lies between the two.
    let mut times = Vec::with_capacity(a.fanout);
    for i in 0..a.fanout {
        let body = json!({ "phenomenonTime": iso(T0 + (400_000 + i) as i64 * STEP), "result": 1_000_000 + i });
        let sent = Instant::now();
        let r = client
            .post(format!("{base}/Datastreams(1)/Observations"))
            .json(&body)
            .send()
            .await?;
        anyhow::ensure!(r.status() == 201, "POST answered {}", r.status());
        times.push((sent, Instant::now()));
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    let want = a.fanout * a.subscribers;
    let (mut from_sent, mut from_answer) = (Vec::with_capacity(want), Vec::with_capacity(want));
    let deadline = Instant::now() + Duration::from_secs(30);
    while from_sent.len() < want && Instant::now() < deadline {
        match tokio::time::timeout(Duration::from_secs(5), rx.recv()).await {
            Ok(Some((r, at))) => {
                let i = (r - 1_000_000) as usize;
                if let Some((sent, answered)) = times.get(i) {
                    from_sent.push(at.saturating_duration_since(*sent).as_secs_f64() * 1e3);
                    // Negative when the message beat the HTTP answer to the client.
                    let d = if at >= *answered {
                        at.duration_since(*answered).as_secs_f64()
                    } else {
                        -answered.duration_since(at).as_secs_f64()
                    };
                    from_answer.push(d * 1e3);
                }
            }
            _ => break,
        }
    }
    from_sent.sort_by(|a, b| a.total_cmp(b));
    from_answer.sort_by(|a, b| a.total_cmp(b));
    println!(
        "## Fan-out: HTTP-created observation → {} MQTT subscribers\n",
        a.subscribers
    );
    println!(
        "| measured from | messages | delivered | p50 | p99 | max |\n|---|---:|---:|---:|---:|---:|"
    );
    for (name, lat) in [
        ("POST sent (commit included)", &from_sent),
        ("201 received (after the commit)", &from_answer),
    ] {
        println!(
            "| {name} | {want} | {} | {:.2} ms | {:.2} ms | {:.2} ms |",
            lat.len(),
            percentile(lat, 0.5),
            percentile(lat, 0.99),
            lat.last().copied().unwrap_or(f64::NAN)
        );
    }
    println!(
        "\n(one observation every 10 ms; each subscriber on `v1.1/Datastreams(1)/Observations?$select=result`)"
    );
    for (c, task) in subs {
        let _ = c.disconnect().await;
        task.abort();
    }
    running.stop().await?;
    Ok(())
}
