//! Ack-after-commit, tested the hard way: 16 clients write concurrently, the server is killed
//! with SIGKILL mid-stream, restarted on the same SQLite file, and every observation that was
//! acknowledged (HTTP 201) must be there.

mod served;

use serde_json::{Value, json};
use served::{free_port, spawn_server, wait_ready};
use std::collections::BTreeSet;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const CLIENTS: i64 = 16;

/// The i-th second after 2026-03-15T00:00:00Z.
fn t(i: i64) -> String {
    sta::time::format_instant((1_773_532_800 + i) * 1_000_000)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_acknowledged_observation_survives_sigkill() {
    let dir = tempfile::tempdir().unwrap();
    let port = free_port();
    let base = format!("http://127.0.0.1:{port}/v1.1");
    let client = reqwest::Client::new();
    let mut child = spawn_server(dir.path(), None, port);
    wait_ready(&client, &base).await;

    let thing = served::thing("durability", CLIENTS);
    let r = client
        .post(format!("{base}/Things"))
        .json(&thing)
        .send()
        .await
        .unwrap();
    assert_eq!(r.status(), 201);

    // Each client writes to its own datastream; even clients one observation per request, odd
    // clients dataArray batches of 25. Acknowledged times are recorded per datastream.
    let acked: Arc<Mutex<Vec<BTreeSet<i64>>>> =
        Arc::new(Mutex::new(vec![BTreeSet::new(); CLIENTS as usize]));
    let mut tasks = Vec::new();
    for k in 0..CLIENTS {
        let (client, base, acked) = (client.clone(), base.clone(), acked.clone());
        tasks.push(tokio::spawn(async move {
            let ds = k + 1;
            let mut i = 0i64;
            loop {
                if k % 2 == 0 {
                    let body = json!({ "phenomenonTime": t(i), "result": i });
                    match client.post(format!("{base}/Datastreams({ds})/Observations")).json(&body).send().await {
                        Ok(r) if r.status() == 201 => {
                            acked.lock().unwrap()[k as usize].insert(i);
                        }
                        _ => break,
                    }
                    i += 1;
                } else {
                    let rows: Vec<Value> = (i..i + 25).map(|j| json!([t(j), j])).collect();
                    let body = json!([{ "Datastream": { "@iot.id": ds }, "components": ["phenomenonTime", "result"], "dataArray": rows }]);
                    match client.post(format!("{base}/CreateObservations")).json(&body).send().await {
                        Ok(r) if r.status() == 201 => {
                            let urls: Vec<Value> = match r.json().await {
                                Ok(u) => u,
                                Err(_) => break,
                            };
                            let mut a = acked.lock().unwrap();
                            for (j, u) in (i..i + 25).zip(urls) {
                                assert_ne!(u, "error");
                                a[k as usize].insert(j);
                            }
                        }
                        _ => break,
                    }
                    i += 25;
                }
            }
        }));
    }
    // Let the writes run, then pull the plug.
    let started = Instant::now();
    loop {
        tokio::time::sleep(Duration::from_millis(100)).await;
        let total: usize = acked.lock().unwrap().iter().map(BTreeSet::len).sum();
        if (total > 2_000 && started.elapsed() > Duration::from_millis(1500))
            || started.elapsed() > Duration::from_secs(20)
        {
            break;
        }
    }
    child.kill().unwrap(); // SIGKILL on Unix: no shutdown path runs
    child.wait().unwrap();
    for task in tasks {
        task.await.unwrap();
    }
    let acked = acked.lock().unwrap().clone();
    let total: usize = acked.iter().map(BTreeSet::len).sum();
    assert!(
        total > 200,
        "too few writes were acknowledged before the kill to prove anything: {total}"
    );

    let mut child = spawn_server(dir.path(), None, port);
    wait_ready(&client, &base).await;
    for (k, want) in acked.iter().enumerate() {
        let ds = k + 1;
        let mut url = format!("{base}/Datastreams({ds})/Observations?$select=result&$top=10000");
        let mut stored = BTreeSet::new();
        loop {
            let page: Value = client.get(&url).send().await.unwrap().json().await.unwrap();
            for o in page["value"].as_array().unwrap() {
                stored.insert(o["result"].as_i64().unwrap());
            }
            match page["@iot.nextLink"].as_str() {
                Some(n) => url = n.to_string(),
                None => break,
            }
        }
        let missing: Vec<_> = want.difference(&stored).collect();
        assert!(
            missing.is_empty(),
            "datastream {ds}: {} acknowledged observations lost, e.g. {:?}",
            missing.len(),
            &missing[..missing.len().min(5)]
        );
        // The maintained count agrees with the rows.
        let c: Value = client
            .get(format!(
                "{base}/Datastreams({ds})/Observations?$count=true&$top=0"
            ))
            .send()
            .await
            .unwrap()
            .json()
            .await
            .unwrap();
        assert_eq!(
            c["@iot.count"].as_u64().unwrap() as usize,
            stored.len(),
            "datastream {ds}"
        );
    }
    eprintln!("{total} acknowledged observations, all present after SIGKILL and restart");
    child.kill().unwrap();
    child.wait().unwrap();
}
