//! MANSCDP XML bodies (`Application/MANSCDP+xml`) carried in SIP MESSAGE.
//!
//! Decoding: bodies say GB2312 but real devices send UTF-8 or GB18030, so we
//! try strict UTF-8 first and fall back to GB18030 (a superset of GB2312).
//! Encoding: GB18030 (identical to GB2312 for every GB2312 character, plain
//! ASCII for ASCII). Unknown elements are ignored; a missing optional element
//! is `None`.

use chrono::NaiveDateTime;

pub use crate::alarm::AlarmClass;
use crate::time;
use crate::xml::{self, Element, leaf};

pub const CONTENT_TYPE: &str = "Application/MANSCDP+xml";

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BodyError {
    #[error("body is not well-formed XML: {0}")]
    Xml(String),
    #[error("body lacks <{0}>")]
    Missing(&'static str),
    #[error("<{element}> is not a number: {value:?}")]
    NotNumber {
        element: &'static str,
        value: String,
    },
    #[error("unknown root element <{0}>")]
    Root(String),
}

/// Strict UTF-8, else GB18030 (never fails: GB18030 decodes any bytes,
/// replacing invalid sequences).
pub fn decode_text(bytes: &[u8]) -> String {
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => encoding_rs::GB18030
            .decode_without_bom_handling(bytes)
            .0
            .into_owned(),
    }
}

/// GB18030 bytes of a body.
pub fn encode_text(s: &str) -> Vec<u8> {
    encoding_rs::GB18030.encode(s).0.into_owned()
}

/// A camera's heartbeat.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Keepalive {
    pub sn: u32,
    pub device_id: String,
    /// `OK` normally; anything else is a device-reported fault.
    pub status: String,
    /// Channel IDs the device lists as faulty in `<Info>`.
    pub faulty: Vec<String>,
}

/// A platform query (`<Query>`): Catalog, DeviceInfo, DeviceStatus, …
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Query {
    pub cmd: String,
    pub sn: u32,
    pub device_id: String,
}

#[derive(Debug, Clone, Default, PartialEq)]
pub struct CatalogItem {
    pub device_id: String,
    pub name: Option<String>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub civil_code: Option<String>,
    pub address: Option<String>,
    pub parent_id: Option<String>,
    /// `ON`/`OFF` (some send `ONLINE`/`OFFLINE`).
    pub status: Option<String>,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
}

/// One page of a Catalog response; pages are joined by [`crate::CatalogAssembler`].
#[derive(Debug, Clone, PartialEq)]
pub struct CatalogPage {
    pub sn: u32,
    pub device_id: String,
    pub sum_num: u32,
    pub items: Vec<CatalogItem>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceInfo {
    pub sn: u32,
    pub device_id: String,
    pub device_name: Option<String>,
    pub result: Option<String>,
    pub manufacturer: Option<String>,
    pub model: Option<String>,
    pub firmware: Option<String>,
    pub channels: Option<u32>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct DeviceStatus {
    pub sn: u32,
    pub device_id: String,
    pub result: Option<String>,
    pub online: Option<String>,
    pub status: Option<String>,
    pub encode: Option<String>,
    pub record: Option<String>,
    /// The camera's clock, local time: the source of clock drift.
    pub device_time: Option<NaiveDateTime>,
}

/// An alarm notification (§ Alarm method/type table in the reference).
#[derive(Debug, Clone, PartialEq)]
pub struct Alarm {
    pub sn: u32,
    /// The alarm source: channel, device or alarm input.
    pub device_id: String,
    /// 1..4 (一级..四级警情).
    pub priority: Option<u8>,
    /// Each digit is one method; "12" combines telephone and device alarm.
    pub methods: Vec<u8>,
    pub time: Option<NaiveDateTime>,
    pub description: Option<String>,
    /// From `<Info><AlarmType>` or, as some devices send it, top-level `<AlarmType>`.
    pub alarm_type: Option<u8>,
    /// `AlarmTypeParam/EventType`: 1 enter, 2 leave.
    pub event_type: Option<u8>,
    pub longitude: Option<f64>,
    pub latitude: Option<f64>,
}

/// What the platform asks a device to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ControlCmd {
    /// Arm (`SetGuard`) or disarm (`ResetGuard`).
    Guard {
        arm: bool,
    },
    ResetAlarm,
    /// 2022 image snapshot: take `count` pictures `interval` s apart and
    /// upload them to `upload_url`, tagged `session_id`.
    Snapshot {
        count: u32,
        interval: u32,
        upload_url: String,
        session_id: String,
    },
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Control {
    pub sn: u32,
    pub device_id: String,
    pub cmd: ControlCmd,
}

/// A generic `<Response>` carrying only `<Result>` (Alarm and DeviceControl answers).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Ack {
    pub cmd: String,
    pub sn: u32,
    pub device_id: String,
    pub ok: bool,
}

/// 2022 `UploadSnapShotFinished` notify.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SnapshotFinished {
    pub sn: u32,
    pub device_id: String,
    pub session_id: String,
    pub snapshots: Vec<String>,
}

/// Every body this crate understands, plus the rest by name.
#[derive(Debug, Clone, PartialEq)]
pub enum Body {
    Keepalive(Keepalive),
    Query(Query),
    Catalog(CatalogPage),
    DeviceInfo(DeviceInfo),
    DeviceStatus(DeviceStatus),
    Alarm(Alarm),
    Control(Control),
    Ack(Ack),
    SnapshotFinished(SnapshotFinished),
    /// Understood as MANSCDP but not a command we act on.
    Other {
        root: String,
        cmd: String,
        sn: u32,
        device_id: String,
    },
}

fn num<T: std::str::FromStr>(el: &Element, name: &'static str) -> Result<Option<T>, BodyError> {
    el.text_of(name)
        .map(|v| {
            v.parse().map_err(|_| BodyError::NotNumber {
                element: name,
                value: v.clone(),
            })
        })
        .transpose()
}

fn float(el: &Element, name: &str) -> Option<f64> {
    // Coordinates are informative; a device's garbage there must not reject the alarm.
    el.text_of(name)
        .and_then(|v| v.parse().ok())
        .filter(|v: &f64| v.is_finite())
}

impl Body {
    /// Parses a body from raw bytes (any of the charsets above).
    pub fn parse(bytes: &[u8]) -> Result<Body, BodyError> {
        let text = decode_text(bytes);
        // The declaration names a charset we already applied; drop it so the
        // XML reader does not second-guess the decoded text.
        let text = match (text.find("<?xml"), text.find("?>")) {
            (Some(a), Some(b)) if a < b => format!("{}{}", &text[..a], &text[b + 2..]),
            _ => text,
        };
        let root = xml::parse(&text).map_err(BodyError::Xml)?;
        let cmd = root
            .text_of("CmdType")
            .ok_or(BodyError::Missing("CmdType"))?;
        let sn: u32 = num(&root, "SN")?.ok_or(BodyError::Missing("SN"))?;
        let device_id = root
            .text_of("DeviceID")
            .ok_or(BodyError::Missing("DeviceID"))?;
        let r = root.name.as_str();
        let lc = cmd.to_ascii_lowercase();
        Ok(match (r, lc.as_str()) {
            ("Notify", "keepalive") => Body::Keepalive(Keepalive {
                sn,
                device_id,
                status: root.text_of("Status").unwrap_or_else(|| "OK".into()),
                faulty: root
                    .child("Info")
                    .map(|i| {
                        i.children_named("DeviceID")
                            .map(|d| d.text.trim().to_string())
                            .collect()
                    })
                    .unwrap_or_default(),
            }),
            ("Notify", "alarm") => Body::Alarm(parse_alarm(&root, sn, device_id)?),
            ("Notify", "uploadsnapshotfinished") => Body::SnapshotFinished(SnapshotFinished {
                sn,
                device_id,
                session_id: root.text_of("SessionID").unwrap_or_default(),
                snapshots: root
                    .child("SnapShotList")
                    .map(|l| {
                        l.children
                            .iter()
                            .map(|c| c.text.trim().to_string())
                            .collect()
                    })
                    .unwrap_or_default(),
            }),
            ("Query", _) => Body::Query(Query { cmd, sn, device_id }),
            ("Response", "catalog") => Body::Catalog(CatalogPage {
                sn,
                device_id,
                sum_num: num(&root, "SumNum")?.ok_or(BodyError::Missing("SumNum"))?,
                items: root
                    .child("DeviceList")
                    .map(|l| l.children_named("Item").map(parse_item).collect())
                    .unwrap_or_default(),
            }),
            ("Response", "deviceinfo") => Body::DeviceInfo(DeviceInfo {
                sn,
                device_id,
                device_name: root.text_of("DeviceName"),
                result: root.text_of("Result"),
                manufacturer: root.text_of("Manufacturer"),
                model: root.text_of("Model"),
                firmware: root.text_of("Firmware"),
                channels: num(&root, "Channel")?,
            }),
            ("Response", "devicestatus") => Body::DeviceStatus(DeviceStatus {
                sn,
                device_id,
                result: root.text_of("Result"),
                online: root.text_of("Online"),
                status: root.text_of("Status"),
                encode: root.text_of("Encode"),
                record: root.text_of("Record"),
                device_time: root.text_of("DeviceTime").and_then(|t| time::parse(&t)),
            }),
            ("Response", _) if root.child("Result").is_some() => Body::Ack(Ack {
                ok: root
                    .text_of("Result")
                    .is_some_and(|v| v.eq_ignore_ascii_case("OK")),
                cmd,
                sn,
                device_id,
            }),
            ("Control", _) => match parse_control(&root) {
                Some(c) => Body::Control(Control {
                    sn,
                    device_id,
                    cmd: c,
                }),
                None => Body::Other {
                    root: r.to_string(),
                    cmd,
                    sn,
                    device_id,
                },
            },
            ("Notify" | "Response", _) => Body::Other {
                root: r.to_string(),
                cmd,
                sn,
                device_id,
            },
            _ => return Err(BodyError::Root(r.to_string())),
        })
    }

    /// The XML text (declaration says GB2312; see the module note).
    pub fn to_xml(&self) -> String {
        let mut o = String::from("<?xml version=\"1.0\" encoding=\"GB2312\"?>\r\n");
        let head = |o: &mut String, root: &str, cmd: &str, sn: u32, id: &str| {
            o.push_str(&format!("<{root}>\r\n"));
            leaf(o, "CmdType", cmd);
            leaf(o, "SN", &sn.to_string());
            leaf(o, "DeviceID", id);
        };
        let opt = |o: &mut String, name: &str, v: &Option<String>| {
            if let Some(v) = v {
                leaf(o, name, v);
            }
        };
        let root = match self {
            Body::Keepalive(k) => {
                head(&mut o, "Notify", "Keepalive", k.sn, &k.device_id);
                leaf(&mut o, "Status", &k.status);
                if !k.faulty.is_empty() {
                    o.push_str("<Info>\r\n");
                    for d in &k.faulty {
                        leaf(&mut o, "DeviceID", d);
                    }
                    o.push_str("</Info>\r\n");
                }
                "Notify"
            }
            Body::Query(q) => {
                head(&mut o, "Query", &q.cmd, q.sn, &q.device_id);
                "Query"
            }
            Body::Catalog(c) => {
                head(&mut o, "Response", "Catalog", c.sn, &c.device_id);
                leaf(&mut o, "SumNum", &c.sum_num.to_string());
                o.push_str(&format!("<DeviceList Num=\"{}\">\r\n", c.items.len()));
                for it in &c.items {
                    o.push_str("<Item>\r\n");
                    leaf(&mut o, "DeviceID", &it.device_id);
                    opt(&mut o, "Name", &it.name);
                    opt(&mut o, "Manufacturer", &it.manufacturer);
                    opt(&mut o, "Model", &it.model);
                    opt(&mut o, "CivilCode", &it.civil_code);
                    opt(&mut o, "Address", &it.address);
                    opt(&mut o, "ParentID", &it.parent_id);
                    opt(&mut o, "Status", &it.status);
                    opt(&mut o, "Longitude", &it.longitude.map(|v| v.to_string()));
                    opt(&mut o, "Latitude", &it.latitude.map(|v| v.to_string()));
                    o.push_str("</Item>\r\n");
                }
                o.push_str("</DeviceList>\r\n");
                "Response"
            }
            Body::DeviceInfo(d) => {
                head(&mut o, "Response", "DeviceInfo", d.sn, &d.device_id);
                opt(&mut o, "DeviceName", &d.device_name);
                opt(&mut o, "Result", &d.result);
                opt(&mut o, "Manufacturer", &d.manufacturer);
                opt(&mut o, "Model", &d.model);
                opt(&mut o, "Firmware", &d.firmware);
                opt(&mut o, "Channel", &d.channels.map(|v| v.to_string()));
                "Response"
            }
            Body::DeviceStatus(d) => {
                head(&mut o, "Response", "DeviceStatus", d.sn, &d.device_id);
                opt(&mut o, "Result", &d.result);
                opt(&mut o, "Online", &d.online);
                opt(&mut o, "Status", &d.status);
                opt(&mut o, "Encode", &d.encode);
                opt(&mut o, "Record", &d.record);
                let t = d
                    .device_time
                    .map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string());
                opt(&mut o, "DeviceTime", &t);
                "Response"
            }
            Body::Alarm(a) => {
                head(&mut o, "Notify", "Alarm", a.sn, &a.device_id);
                opt(&mut o, "AlarmPriority", &a.priority.map(|v| v.to_string()));
                let m: String = a.methods.iter().map(|m| m.to_string()).collect();
                leaf(&mut o, "AlarmMethod", &m);
                let t = a.time.map(|t| t.format("%Y-%m-%dT%H:%M:%S").to_string());
                opt(&mut o, "AlarmTime", &t);
                opt(&mut o, "AlarmDescription", &a.description);
                opt(&mut o, "Longitude", &a.longitude.map(|v| v.to_string()));
                opt(&mut o, "Latitude", &a.latitude.map(|v| v.to_string()));
                if let Some(t) = a.alarm_type {
                    o.push_str("<Info>\r\n");
                    leaf(&mut o, "AlarmType", &t.to_string());
                    if let Some(e) = a.event_type {
                        o.push_str("<AlarmTypeParam>\r\n");
                        leaf(&mut o, "EventType", &e.to_string());
                        o.push_str("</AlarmTypeParam>\r\n");
                    }
                    o.push_str("</Info>\r\n");
                }
                "Notify"
            }
            Body::Control(c) => {
                head(&mut o, "Control", "DeviceControl", c.sn, &c.device_id);
                match &c.cmd {
                    ControlCmd::Guard { arm } => leaf(
                        &mut o,
                        "GuardCmd",
                        if *arm { "SetGuard" } else { "ResetGuard" },
                    ),
                    ControlCmd::ResetAlarm => leaf(&mut o, "AlarmCmd", "ResetAlarm"),
                    ControlCmd::Snapshot {
                        count,
                        interval,
                        upload_url,
                        session_id,
                    } => {
                        o.push_str("<SnapShotConfig>\r\n");
                        leaf(&mut o, "SnapNum", &count.to_string());
                        leaf(&mut o, "Interval", &interval.to_string());
                        leaf(&mut o, "UploadURL", upload_url);
                        leaf(&mut o, "SessionID", session_id);
                        o.push_str("</SnapShotConfig>\r\n");
                    }
                }
                "Control"
            }
            Body::Ack(a) => {
                head(&mut o, "Response", &a.cmd, a.sn, &a.device_id);
                leaf(&mut o, "Result", if a.ok { "OK" } else { "ERROR" });
                "Response"
            }
            Body::SnapshotFinished(s) => {
                head(
                    &mut o,
                    "Notify",
                    "UploadSnapShotFinished",
                    s.sn,
                    &s.device_id,
                );
                leaf(&mut o, "SessionID", &s.session_id);
                o.push_str(&format!("<SnapShotList Num=\"{}\">\r\n", s.snapshots.len()));
                for id in &s.snapshots {
                    leaf(&mut o, "SnapShotFileID", id);
                }
                o.push_str("</SnapShotList>\r\n");
                "Notify"
            }
            Body::Other {
                root,
                cmd,
                sn,
                device_id,
            } => {
                head(&mut o, root, cmd, *sn, device_id);
                root
            }
        };
        o.push_str(&format!("</{root}>\r\n"));
        o
    }

    /// GB18030 bytes ready for a SIP body.
    pub fn encode(&self) -> Vec<u8> {
        encode_text(&self.to_xml())
    }

    pub fn sn(&self) -> u32 {
        match self {
            Body::Keepalive(b) => b.sn,
            Body::Query(b) => b.sn,
            Body::Catalog(b) => b.sn,
            Body::DeviceInfo(b) => b.sn,
            Body::DeviceStatus(b) => b.sn,
            Body::Alarm(b) => b.sn,
            Body::Control(b) => b.sn,
            Body::Ack(b) => b.sn,
            Body::SnapshotFinished(b) => b.sn,
            Body::Other { sn, .. } => *sn,
        }
    }
}

fn parse_item(el: &Element) -> CatalogItem {
    CatalogItem {
        device_id: el.text_of("DeviceID").unwrap_or_default(),
        name: el.text_of("Name"),
        manufacturer: el.text_of("Manufacturer"),
        model: el.text_of("Model"),
        civil_code: el.text_of("CivilCode"),
        address: el.text_of("Address"),
        parent_id: el.text_of("ParentID"),
        status: el.text_of("Status"),
        longitude: float(el, "Longitude"),
        latitude: float(el, "Latitude"),
    }
}

fn parse_alarm(root: &Element, sn: u32, device_id: String) -> Result<Alarm, BodyError> {
    let method_text = root
        .text_of("AlarmMethod")
        .ok_or(BodyError::Missing("AlarmMethod"))?;
    let methods: Vec<u8> = method_text
        .chars()
        .map(|c| c.to_digit(10).map(|d| d as u8))
        .collect::<Option<_>>()
        .ok_or(BodyError::NotNumber {
            element: "AlarmMethod",
            value: method_text.clone(),
        })?;
    let info = root.child("Info");
    let alarm_type = match info.and_then(|i| i.text_of("AlarmType")) {
        Some(_) => info.map(|i| num(i, "AlarmType")).transpose()?.flatten(),
        None => num(root, "AlarmType")?,
    };
    let event_type = info
        .and_then(|i| i.child("AlarmTypeParam"))
        .or_else(|| root.child("AlarmTypeParam"))
        .map(|p| num(p, "EventType"))
        .transpose()?
        .flatten();
    Ok(Alarm {
        sn,
        device_id,
        priority: num(root, "AlarmPriority")?,
        methods,
        time: root.text_of("AlarmTime").and_then(|t| time::parse(&t)),
        description: root.text_of("AlarmDescription"),
        alarm_type,
        event_type,
        longitude: float(root, "Longitude"),
        latitude: float(root, "Latitude"),
    })
}

fn parse_control(root: &Element) -> Option<ControlCmd> {
    if let Some(g) = root.text_of("GuardCmd") {
        return match g.as_str() {
            "SetGuard" => Some(ControlCmd::Guard { arm: true }),
            "ResetGuard" => Some(ControlCmd::Guard { arm: false }),
            _ => None,
        };
    }
    if root.text_of("AlarmCmd").as_deref() == Some("ResetAlarm") {
        return Some(ControlCmd::ResetAlarm);
    }
    let s = root.child("SnapShotConfig")?;
    Some(ControlCmd::Snapshot {
        count: s
            .text_of("SnapNum")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1),
        interval: s
            .text_of("Interval")
            .and_then(|v| v.parse().ok())
            .unwrap_or(1),
        upload_url: s.text_of("UploadURL")?,
        session_id: s.text_of("SessionID").unwrap_or_default(),
    })
}
