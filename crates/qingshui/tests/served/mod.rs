//! The real `qingshui serve` as a child process, for the tests that kill or stop it: a free port,
//! the spawn, readiness, a graceful stop, and the Thing with datastreams those tests write to.
//! Each test binary uses a part of it.
#![allow(dead_code)]

use serde_json::{Value, json};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .expect("bind")
        .local_addr()
        .expect("addr")
        .port()
}

/// The PostgreSQL URL of the schema standing for data directory `data` when the tests run on
/// PostgreSQL (`QINGSHUI_TEST_DATABASE_URL`, `make test-postgres`): created on first use, the
/// same for a restart on the same directory.
pub fn postgres_url_for(data: &Path) -> Option<String> {
    let admin = std::env::var("QINGSHUI_TEST_DATABASE_URL")
        .ok()
        .filter(|u| !u.trim().is_empty())?;
    let h = data
        .to_string_lossy()
        .bytes()
        .fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
        });
    let schema = format!("q_{h:016x}");
    let (a, s) = (admin.clone(), schema.clone());
    std::thread::spawn(move || {
        let mut c = store_postgres::connect(&a).expect("connect to the test database");
        c.batch_execute(&format!("CREATE SCHEMA IF NOT EXISTS {s}"))
            .expect("schema");
    })
    .join()
    .expect("schema thread");
    let sep = if admin.contains('?') { '&' } else { '?' };
    Some(format!("{admin}{sep}options=-csearch_path%3D{schema}"))
}

/// `qingshui serve --open` on `port` with its data in `data` (and `config`, when given); on
/// PostgreSQL when the tests run there.
pub fn spawn_server(data: &Path, config: Option<&Path>, port: u16) -> Child {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_qingshui"));
    if let Some(url) = postgres_url_for(data) {
        cmd.env("QINGSHUI_DATABASE_URL", url);
    }
    cmd.args(["serve", "--open", "--http", &format!("127.0.0.1:{port}")]);
    if let Some(config) = config {
        cmd.arg("--config").arg(config);
    }
    cmd.arg("--data-dir")
        .arg(data)
        .env("QINGSHUI_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start qingshui")
}

/// Sends SIGTERM (a graceful stop) to `child`; false when the signal could not be sent.
pub fn sigterm(child: &Child) -> bool {
    let Ok(pid) = libc::pid_t::try_from(child.id()) else {
        return false;
    };
    // SAFETY: kill(2) only sends a signal; the pid is our own child's.
    unsafe { libc::kill(pid, libc::SIGTERM) == 0 }
}

pub async fn wait_ready(client: &reqwest::Client, base: &str) {
    let deadline = Instant::now() + Duration::from_secs(30);
    while client.get(base).send().await.is_err() {
        assert!(Instant::now() < deadline, "server did not come up");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

/// One Thing with `datastreams` datastreams (`ds0`, `ds1`, …), for a deep-insert POST.
pub fn thing(description: &str, datastreams: i64) -> Value {
    let datastreams: Vec<Value> = (0..datastreams)
        .map(|k| {
            json!({
                "name": format!("ds{k}"), "description": "d",
                "observationType": "http://www.opengis.net/def/observationType/OGC-OM/2.0/OM_Measurement",
                "unitOfMeasurement": { "name": "mg/L", "symbol": "mg/L", "definition": "ucum:mg/L" },
                "Sensor": { "name": "s", "description": "s", "encodingType": "text/html", "metadata": "m" },
                "ObservedProperty": { "name": "p", "definition": format!("urn:p{k}"), "description": "p" }
            })
        })
        .collect();
    json!({
        "name": "T", "description": description,
        "Locations": [{ "name": "l", "description": "l", "encodingType": "application/geo+json", "location": { "type": "Point", "coordinates": [106.4, 26.5] } }],
        "Datastreams": datastreams
    })
}
