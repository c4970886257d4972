//! The alerts the video points raise, as verdicts for `AlertsHandle::external`: `intrusion`
//! (tripwire, intrusion, loitering), `video_fault` (video loss, tamper, occlusion, disk) and
//! `camera_offline` (offline, resolved when back). Messages are bilingual, Chinese first.

use super::platform::{Camera, CameraState};
use alerts::lifecycle::Trigger;
use alerts::model::{RuleKind, Severity};
use alerts::rules::Verdict;
use chrono::{DateTime, Utc};
use gb28181::manscdp::{Alarm, AlarmClass};
use serde_json::json;

fn zh_label(label: &str) -> &'static str {
    match label {
        "tripwire" => "绊线",
        "intrusion" => "区域入侵",
        "loitering" => "徘徊",
        "image_occlusion" => "图像遮挡",
        "video_loss" => "视频丢失",
        "tamper" => "设备防拆",
        "disk_full" => "磁盘满",
        "disk_fault" => "磁盘故障",
        _ => "其他报警",
    }
}

/// Severity of an intrusion by the zone the camera watches: the first-level protection zone
/// is the no-people core of the drinking-water source.
pub fn intrusion_severity(zone_kind: &str) -> Severity {
    match zone_kind {
        "protection_level1" => Severity::Critical,
        "protection_level2" => Severity::Major,
        _ => Severity::Minor,
    }
}

pub fn alarm(c: &Camera, a: &Alarm, now: DateTime<Utc>) -> Verdict {
    let label = a.type_label();
    let (rule, severity, zh, en) = match a.class() {
        AlarmClass::Intrusion => (
            RuleKind::Intrusion,
            intrusion_severity(&c.zone_kind),
            format!("{}：{}（{}）", c.name_zh, zh_label(label), c.zone_name_zh),
            format!("{}: {label} in {}", c.name_en, c.zone_name_en),
        ),
        _ => (
            RuleKind::VideoFault,
            Severity::Major,
            format!("{}：{}", c.name_zh, zh_label(label)),
            format!("{}: {}", c.name_en, label.replace('_', " ")),
        ),
    };
    Verdict::Trigger(Trigger {
        rule,
        source: c.video_id.clone(),
        station: None,
        parameter: None,
        datastream_id: None,
        severity,
        message: format!("{zh} / {en}"),
        details: json!({
            "kind": format!("gb28181_{label}"),
            "video_point": c.video_id,
            "device_id": c.device_id,
            "channel_id": a.device_id,
            "zone": c.zone,
            "zone_kind": c.zone_kind,
            "alarm_method": a.methods,
            "alarm_type": a.alarm_type,
            "event_type": a.event_type,
            "alarm_priority": a.priority,
            "alarm_time": a.time.map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string()),
            "description": a.description,
            "message_zh": zh,
            "message_en": en,
        }),
        observed_at: Some(now.timestamp_micros()),
    })
}

pub fn offline(c: &Camera, st: &CameraState, now: DateTime<Utc>) -> Verdict {
    let zh = format!("{}离线：超过保活时限未收到心跳", c.name_zh);
    let en = format!("{} is offline: no keepalive within its window", c.name_en);
    Verdict::Trigger(Trigger {
        rule: RuleKind::CameraOffline,
        source: c.video_id.clone(),
        station: None,
        parameter: None,
        datastream_id: None,
        severity: Severity::Major,
        message: format!("{zh} / {en}"),
        details: json!({
            "kind": "gb28181_offline",
            "video_point": c.video_id,
            "device_id": c.device_id,
            "last_seen": st.registration.last_seen().map(|t| t.to_rfc3339()),
            "message_zh": zh,
            "message_en": en,
        }),
        observed_at: Some(now.timestamp_micros()),
    })
}

pub fn back_online(c: &Camera) -> Verdict {
    Verdict::Resolve {
        rule: RuleKind::CameraOffline,
        source: c.video_id.clone(),
        message: format!("{}恢复在线 / {} is back online", c.name_zh, c.name_en),
        details: json!({ "video_point": c.video_id, "device_id": c.device_id }),
    }
}
