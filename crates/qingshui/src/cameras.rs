//! The demo's simulated cameras: one `sim` GB/T 28181 camera per video point with a device ID,
//! registering over real SIP on loopback with the demo's own listener. The scenario, in real
//! time from the start: an intrusion into the intake's first-level protection zone at 20 s
//! (V01), two cameras (V20, V40) losing power at 90 s — offline once the 30 s keepalive window
//! passed — and back at 150 s.

use sim::send::camera::{CameraConfig, SimCamera, intrusion_alarm};
use std::net::SocketAddr;
use std::time::Duration;
use tokio::sync::watch;
use tokio::task::JoinHandle;

/// The platform side of the demo's offline rule: 10 s keepalives, offline after 3 missed.
pub const KEEPALIVE_S: u32 = 10;
pub const KEEPALIVE_COUNT: u32 = 3;
/// The demo's registration password (a local demo on loopback; no secret worth keeping).
pub const PASSWORD: &str = "qingshui-demo-camera";

const INTRUSION_AT: Duration = Duration::from_secs(20);
const OUTAGE_AT: Duration = Duration::from_secs(90);
const BACK_AT: Duration = Duration::from_secs(150);
const OUTAGE: [&str; 2] = ["V20", "V40"];
const INTRUDED: &str = "V01";

fn config(
    v: &network::VideoPoint,
    gb: &network::GbLink,
    sip: SocketAddr,
    c: &server::config::Gb28181Config,
) -> CameraConfig {
    CameraConfig {
        platform: sip,
        platform_id: c.platform_id.clone(),
        domain: c.domain.clone(),
        device_id: gb.device_id.clone(),
        channel_id: gb.channel_id.clone(),
        password: PASSWORD.into(),
        name: v.name_en.clone(),
        expires_s: 3600,
        keepalive: Duration::from_secs(u64::from(KEEPALIVE_S)),
        clock_offset_s: 0,
        lon: v.position.lon,
        lat: v.position.lat,
        upload_snapshots: true,
        answer_invites: true,
        invite_answer_delay: Duration::ZERO,
        ignore_device_info: 0,
    }
}

/// Starts every camera and runs the scenario until `stop`.
pub fn start(
    network: &network::Network,
    sip: SocketAddr,
    settings: &server::config::Gb28181Config,
    mut stop: watch::Receiver<bool>,
) -> JoinHandle<()> {
    let points: Vec<(String, CameraConfig)> = network
        .video_points
        .iter()
        .filter_map(|v| Some((v.id.clone(), config(v, v.gb28181.as_ref()?, sip, settings))))
        .collect();
    tokio::spawn(async move {
        let mut cams = Vec::new();
        for (id, c) in &points {
            // All at once, as a fleet meets a restarted platform: the answers the burst loses
            // (a full UDP receive buffer) are asked for again (`[gb28181] query_retry_s`).
            match SimCamera::start(c.clone()).await {
                Ok(cam) => cams.push((id.clone(), Some(cam))),
                Err(e) => {
                    tracing::warn!(camera = %id, error = %e, "simulated camera did not start")
                }
            }
        }
        let started = tokio::time::Instant::now();
        let mut intruded = false;
        let mut out = false;
        let mut back = false;
        let mut tick = tokio::time::interval(Duration::from_secs(1));
        loop {
            tokio::select! {
                _ = stop.wait_for(|s| *s) => break,
                _ = tick.tick() => {}
            }
            let t = started.elapsed();
            if !intruded && t >= INTRUSION_AT {
                intruded = true;
                if let Some((_, Some(cam))) = cams.iter().find(|(id, _)| id == INTRUDED) {
                    cam.alarm(intrusion_alarm(
                        "person entering the first-level protection zone",
                    ))
                    .await;
                    println!(
                        "  视频 video: intrusion alarm from {INTRUDED} (intake first-level protection zone)"
                    );
                }
            }
            if !out && t >= OUTAGE_AT {
                out = true;
                for (id, cam) in cams
                    .iter_mut()
                    .filter(|(id, _)| OUTAGE.contains(&id.as_str()))
                {
                    if let Some(c) = cam.take() {
                        c.stop();
                        println!(
                            "  视频 video: camera {id} lost power (offline after {} s)",
                            KEEPALIVE_S * KEEPALIVE_COUNT
                        );
                    }
                }
            }
            if !back && t >= BACK_AT {
                back = true;
                for (id, c) in points
                    .iter()
                    .filter(|(id, _)| OUTAGE.contains(&id.as_str()))
                {
                    if let Ok(cam) = SimCamera::start(c.clone()).await
                        && let Some(slot) = cams.iter_mut().find(|(i, _)| i == id)
                    {
                        slot.1 = Some(cam);
                        println!("  视频 video: camera {id} back");
                    }
                }
            }
        }
        for (_, cam) in cams {
            if let Some(c) = cam {
                c.stop();
            }
        }
    })
}
