//! Ack-after-commit over MQTT, tested the hard way (issue 17): 8 QoS-1 publishers write
//! concurrently to `qingshui serve --open --mqtt`, the server is killed with SIGKILL mid-stream,
//! restarted on the same SQLite file, and every observation that got its PUBACK must be there.

mod served;

use rumqttc::{AsyncClient, Event, MqttOptions, Packet, QoS};
use serde_json::{Value, json};
use served::{free_port, wait_ready};
use std::collections::BTreeSet;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const PUBLISHERS: i64 = 8;

/// The i-th second after 2026-03-15T00:00:00Z.
fn t(i: i64) -> String {
    sta::time::format_instant((1_773_532_800 + i) * 1_000_000)
}

fn spawn(data: &Path, http: u16, mqtt: u16) -> Child {
    Command::new(env!("CARGO_BIN_EXE_qingshui"))
        .args(["serve", "--open", "--http", &format!("127.0.0.1:{http}")])
        .args(["--mqtt", &format!("127.0.0.1:{mqtt}")])
        .arg("--data-dir")
        .arg(data)
        .env("QINGSHUI_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("start qingshui")
}

/// Publishes observation after observation (each waits for its PUBACK) until the connection
/// breaks; records every acknowledged index.
async fn publisher(k: i64, port: u16, acked: Arc<Mutex<Vec<BTreeSet<i64>>>>) {
    let mut o = MqttOptions::new(format!("pub-{k}"), "127.0.0.1", port);
    o.set_keep_alive(Duration::from_secs(5));
    let (client, mut eventloop) = AsyncClient::new(o, 10);
    let ds = k + 1;
    let topic = format!("v1.1/Datastreams({ds})/Observations");
    let mut i = 0i64;
    let mut waiting = false;
    loop {
        if !waiting {
            let body = json!({ "phenomenonTime": t(i), "result": i }).to_string();
            if client
                .publish(topic.as_str(), QoS::AtLeastOnce, false, body)
                .await
                .is_err()
            {
                return;
            }
            waiting = true;
        }
        match eventloop.poll().await {
            Ok(Event::Incoming(Packet::PubAck(_))) => {
                acked.lock().expect("lock")[k as usize].insert(i);
                i += 1;
                waiting = false;
            }
            Ok(_) => {}
            // The server is gone: whatever was not acknowledged may be lost.
            Err(_) => return,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_pubacked_observation_survives_sigkill() {
    let dir = tempfile::tempdir().expect("dir");
    let (http, mqtt) = (free_port(), free_port());
    let base = format!("http://127.0.0.1:{http}/v1.1");
    let client = reqwest::Client::new();
    let mut child = spawn(dir.path(), http, mqtt);
    wait_ready(&client, &base).await;
    let r = client
        .post(format!("{base}/Things"))
        .json(&served::thing("mqtt durability", PUBLISHERS))
        .send()
        .await
        .expect("POST");
    assert_eq!(r.status(), 201);

    let acked: Arc<Mutex<Vec<BTreeSet<i64>>>> =
        Arc::new(Mutex::new(vec![BTreeSet::new(); PUBLISHERS as usize]));
    let tasks: Vec<_> = (0..PUBLISHERS)
        .map(|k| tokio::spawn(publisher(k, mqtt, acked.clone())))
        .collect();
    let started = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let total: usize = acked.lock().expect("lock").iter().map(BTreeSet::len).sum();
        if (total > 1_000 && started.elapsed() > Duration::from_millis(1500))
            || started.elapsed() > Duration::from_secs(20)
        {
            break;
        }
    }
    child.kill().expect("SIGKILL"); // no shutdown path runs
    child.wait().expect("wait");
    for task in tasks {
        let _ = tokio::time::timeout(Duration::from_secs(15), task).await;
    }
    let acked = acked.lock().expect("lock").clone();
    let total: usize = acked.iter().map(BTreeSet::len).sum();
    let rate = total as f64 / started.elapsed().as_secs_f64();
    assert!(
        total > 100,
        "too few publishes were acknowledged before the kill to prove anything: {total}"
    );

    let mut child = spawn(dir.path(), http, mqtt);
    wait_ready(&client, &base).await;
    for (k, want) in acked.iter().enumerate() {
        let ds = k + 1;
        let mut url = format!("{base}/Datastreams({ds})/Observations?$select=result&$top=10000");
        let mut stored = BTreeSet::new();
        loop {
            let page: Value = client
                .get(&url)
                .send()
                .await
                .expect("GET")
                .json()
                .await
                .expect("JSON");
            for o in page["value"].as_array().expect("value") {
                stored.insert(o["result"].as_i64().expect("result"));
            }
            match page["@iot.nextLink"].as_str() {
                Some(n) => url = n.to_string(),
                None => break,
            }
        }
        let missing: Vec<_> = want.difference(&stored).collect();
        assert!(
            missing.is_empty(),
            "datastream {ds}: {} PUBACKed observations lost, e.g. {:?}",
            missing.len(),
            &missing[..missing.len().min(5)]
        );
    }
    eprintln!(
        "{total} PUBACKed observations from {PUBLISHERS} publishers (~{rate:.0}/s, one in flight each), all present after SIGKILL and restart"
    );
    child.kill().expect("kill");
    child.wait().expect("wait");
}
