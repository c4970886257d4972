//! The video points on the shared status board: one [`DeviceStatus`] per camera (its video
//! point id as `station`), GB/T 28181 details beside the common fields, and the source's own
//! metric lines.

use super::platform::Platform;
use crate::metrics::write_family;
use crate::sources::status::{DeviceStatus, SourceStatus};
use chrono::{DateTime, Utc};
use serde_json::{Map, Value, json};
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

pub struct VideoBoard {
    platform: Arc<Mutex<Platform>>,
    /// False when `[gb28181] addr` is unset: no camera can be online, and none is "known".
    listening: bool,
}

impl VideoBoard {
    pub fn new(platform: Arc<Mutex<Platform>>, listening: bool) -> VideoBoard {
        VideoBoard {
            platform,
            listening,
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Platform> {
        self.platform.lock().unwrap_or_else(|p| p.into_inner())
    }
}

fn iso(t: Option<DateTime<Utc>>) -> Value {
    t.map_or(Value::Null, |t| {
        Value::String(t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
    })
}

impl SourceStatus for VideoBoard {
    fn source(&self) -> &'static str {
        "gb28181"
    }

    fn devices(&self, now_micros: i64) -> Vec<DeviceStatus> {
        let now = DateTime::from_timestamp_micros(now_micros).unwrap_or_else(Utc::now);
        let p = self.lock();
        let past_window = self.listening && p.past_first_window(now);
        (0..p.cameras.len())
            .map(|i| {
                let c = &p.cameras[i];
                let st = &p.states[i];
                let online = self.listening && p.is_online(i, now);
                let last = st.registration.last_seen();
                let mut d = Map::new();
                // `known`: the state is a fact (online, or offline after a whole window).
                d.insert("known".into(), json!(online || past_window));
                d.insert("device_id".into(), json!(c.device_id));
                d.insert("channel_id".into(), json!(c.channel_id));
                d.insert("zone".into(), json!(c.zone));
                d.insert(
                    "registered".into(),
                    json!(st.registration.is_registered(now)),
                );
                d.insert("registered_at".into(), iso(st.registration.registered_at()));
                d.insert("expires_s".into(), json!(st.registration.expires_s()));
                d.insert("last_keepalive".into(), iso(st.last_keepalive));
                d.insert(
                    "transport".into(),
                    json!(st.peer.map(|p| match p {
                        super::platform::Peer::Udp(_) => "udp",
                        super::platform::Peer::Tcp { .. } => "tcp",
                    })),
                );
                d.insert("armed".into(), json!(st.armed));
                d.insert(
                    "manufacturer".into(),
                    json!(st.info.as_ref().and_then(|i| i.manufacturer.clone())),
                );
                d.insert(
                    "model".into(),
                    json!(st.info.as_ref().and_then(|i| i.model.clone())),
                );
                d.insert(
                    "firmware".into(),
                    json!(st.info.as_ref().and_then(|i| i.firmware.clone())),
                );
                d.insert("clock_drift_s".into(), json!(st.clock_drift_s));
                d.insert("catalog_channels".into(), json!(st.catalog.len()));
                d.insert("query_retries".into(), json!(st.query_retries));
                d.insert(
                    "queries_unanswered".into(),
                    json!(st.pending.iter().map(|q| q.cmd).collect::<Vec<_>>()),
                );
                d.insert("alarms".into(), json!(st.alarms));
                d.insert(
                    "last_alarm".into(),
                    st.last_alarm.map_or(
                        Value::Null,
                        |(t, kind)| json!({ "at": iso(Some(t)), "type": kind }),
                    ),
                );
                DeviceStatus {
                    station: c.video_id.clone(),
                    name: Some(c.name_en.clone()),
                    source: "gb28181",
                    status: if online { "online" } else { "offline" },
                    connected: st.peer.is_some() && st.registration.is_registered(now),
                    last_frame_at: iso(last).as_str().map(str::to_string),
                    last_frame_micros: last.map(|t| t.timestamp_micros()),
                    frames_received: st.messages,
                    values_received: 0,
                    frames_rejected: st.rejects.clone(),
                    details: d,
                }
            })
            .collect()
    }

    fn unattributed_rejects(&self) -> BTreeMap<&'static str, u64> {
        self.lock().unattributed.clone()
    }

    fn render_metrics(&self, out: &mut String, now_micros: i64) {
        let now = DateTime::from_timestamp_micros(now_micros).unwrap_or_else(Utc::now);
        let p = self.lock();
        let online = (0..p.cameras.len())
            .filter(|&i| self.listening && p.is_online(i, now))
            .count();
        write_family(
            out,
            "qingshui_gb28181_registrations_total",
            "counter",
            "Successful GB/T 28181 REGISTERs (new, refresh and unregister).",
            [format!(" {}", p.registrations)],
        );
        write_family(
            out,
            "qingshui_gb28181_query_retries_total",
            "counter",
            "Catalog/DeviceInfo/DeviceStatus queries sent again for want of an answer.",
            [format!(" {}", p.query_retries)],
        );
        write_family(
            out,
            "qingshui_gb28181_cameras",
            "gauge",
            "Configured GB/T 28181 cameras, by state.",
            [
                format!("{{state=\"online\"}} {online}"),
                format!("{{state=\"offline\"}} {}", p.cameras.len() - online),
            ],
        );
        write_family(
            out,
            "qingshui_gb28181_alarms_total",
            "counter",
            "Alarm notifications received, by video point.",
            (0..p.cameras.len()).map(|i| {
                format!(
                    "{{station=\"{}\"}} {}",
                    p.cameras[i].video_id, p.states[i].alarms
                )
            }),
        );
        write_family(
            out,
            "qingshui_gb28181_clock_drift_seconds",
            "gauge",
            "Camera clock minus platform clock (from DeviceStatus DeviceTime).",
            (0..p.cameras.len()).filter_map(|i| {
                p.states[i]
                    .clock_drift_s
                    .map(|s| format!("{{station=\"{}\"}} {s}", p.cameras[i].video_id))
            }),
        );
    }
}
