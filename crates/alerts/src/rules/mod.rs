//! The rules, evaluated one committed observation at a time (and the offline check on a clock
//! tick). Every rule is a small state machine per source; [`Evaluator`] holds them all and turns
//! observations into [`Verdict`]s, which the engine applies to the alert lifecycle.

use crate::SECOND;
use crate::debounce::{Debounce, Durations, Level, Step};
use crate::lifecycle::Trigger;
use crate::model::{RuleKind, Severity};
use crate::text::{Lang, Text, both};
use crate::trend;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::{BTreeMap, BTreeSet, HashMap, VecDeque};
use wq::classify::{ClassLimits, ClassifyContext, class_limits};
use wq::qc::{QcFlags, QcSettings};
use wq::{DataFlag, Sample, WaterClass, WaterType};

mod bloom;
mod exceedance;
mod faults;
mod offline;
mod projection;
mod settings;

pub use bloom::*;
pub use exceedance::*;
pub use faults::*;
pub use offline::*;
pub use projection::*;
pub use settings::*;

// ---------------------------------------------------------------------------------------------
// Inputs and outputs
// ---------------------------------------------------------------------------------------------

/// What the rules need to know about a datastream (from its and its Thing's properties).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct StreamInfo {
    pub datastream_id: i64,
    pub station: String,
    /// Catalogue code (`tp`, `nh3_n`, …).
    pub parameter: String,
    pub data_kind: String,
    /// Reporting interval (s), when the datastream has a cadence.
    pub interval_s: Option<i64>,
    pub water_type: WaterType,
    pub target_class: Option<WaterClass>,
    pub drinking_water: bool,
}

impl StreamInfo {
    /// The alert source of per-datastream rules: `W01:tp:hourly`.
    pub fn source(&self) -> String {
        format!("{}:{}:{}", self.station, self.parameter, self.data_kind)
    }

    /// The source an instrument/QC fault rolls up into: one per station × parameter, whichever
    /// data kinds (real-time, hourly, …) show it (`W01:tp`).
    pub fn parameter_source(&self) -> String {
        format!("{}:{}", self.station, self.parameter)
    }

    fn covers(&self) -> i64 {
        self.interval_s.unwrap_or(0).max(0) * SECOND
    }
}

/// One committed value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    /// Phenomenon time (µs).
    pub t: i64,
    /// The numeric result, if it is a number.
    pub value: Option<f64>,
    pub flag: DataFlag,
    /// Reported below the detection limit.
    pub censored: bool,
}

impl Reading {
    /// Reads a store observation: the result as a number (or numeric text), the HJ 212 flag
    /// from `resultQuality.flag` (absent = N) and `resultQuality.censored`.
    pub fn from_json(t: i64, result: &Value, quality: Option<&Value>) -> Reading {
        let value = match result {
            Value::Number(n) => n.as_f64(),
            Value::String(s) => s.trim().parse::<f64>().ok(),
            _ => None,
        }
        .filter(|v| v.is_finite());
        let flag = quality
            .and_then(|q| q.get("flag"))
            .and_then(Value::as_str)
            .and_then(DataFlag::parse)
            .unwrap_or(DataFlag::N);
        let censored = quality
            .and_then(|q| q.get("censored"))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        Reading {
            t,
            value,
            flag,
            censored,
        }
    }

    /// A value the threshold rules may use: numeric, flag N.
    fn valid_value(&self) -> Option<f64> {
        if self.flag == DataFlag::N {
            self.value
        } else {
            None
        }
    }
}

/// What the rules decided about one source.
#[derive(Debug, Clone, PartialEq)]
pub enum Verdict {
    /// Raise or re-trigger.
    Trigger(Trigger),
    /// The condition ended: clear the open alert of (rule, source).
    Resolve {
        rule: RuleKind,
        source: String,
        message: String,
        details: Value,
    },
}

impl Verdict {
    pub fn key(&self) -> (RuleKind, &str) {
        match self {
            Verdict::Trigger(t) => (t.rule, &t.source),
            Verdict::Resolve { rule, source, .. } => (*rule, source),
        }
    }
}

/// A parameter's name in both languages, for a message template.
fn parameter_names(code: &str) -> serde_json::Value {
    match wq::catalogue::by_code(code) {
        Some(p) => crate::text::both(p.name_zh, p.name_en),
        None => code.into(),
    }
}

/// A class in both languages ("Ⅴ类" / "Class V").
fn class_names(c: wq::WaterClass) -> serde_json::Value {
    crate::text::both(c.label_zh(), c.label_en())
}

/// A trigger whose message is `text` (stored in the details; `message` is its English form).
fn trigger_text(
    info: &StreamInfo,
    rule: RuleKind,
    severity: Severity,
    text: crate::text::Text,
    details: Value,
    t: i64,
) -> Verdict {
    let message = text.render(crate::text::Lang::En).unwrap_or_default();
    trigger(info, rule, severity, message, text.into_details(details), t)
}

fn resolve_text(
    info: &StreamInfo,
    rule: RuleKind,
    text: crate::text::Text,
    details: Value,
) -> Verdict {
    let message = text.render(crate::text::Lang::En).unwrap_or_default();
    resolve(info, rule, message, text.into_details(details))
}

fn unit(code: &str) -> &'static str {
    wq::catalogue::by_code(code)
        .map(|p| p.unit.symbol())
        .unwrap_or("")
}

fn trigger(
    info: &StreamInfo,
    rule: RuleKind,
    severity: Severity,
    message: String,
    details: Value,
    t: i64,
) -> Verdict {
    Verdict::Trigger(Trigger {
        rule,
        source: info.source(),
        station: Some(info.station.clone()),
        parameter: Some(info.parameter.clone()),
        datastream_id: Some(info.datastream_id),
        severity,
        message,
        details,
        observed_at: Some(t),
    })
}

fn resolve(info: &StreamInfo, rule: RuleKind, message: String, details: Value) -> Verdict {
    Verdict::Resolve {
        rule,
        source: info.source(),
        message,
        details,
    }
}

// ---------------------------------------------------------------------------------------------
// All rules together
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Default)]
struct StreamState {
    exceedance: ExceedanceState,
    trend: TrendState,
    fault: FaultState,
    bloom: BloomState,
}

/// Every rule's state, fed one observation (or clock tick) at a time.
#[derive(Debug, Default)]
pub struct Evaluator {
    pub settings: RuleSettings,
    streams: HashMap<i64, StreamState>,
    offline: OfflineTracker,
    /// Open alerts restored at start whose sources have not been seen yet.
    restored: BTreeSet<(RuleKind, String)>,
    /// Per rolled-up fault source (`W01:tp`, or `W01:maintenance`), the datastreams
    /// (`parameter:data kind`) whose fault is raised: the one alert clears only when all of
    /// them are healthy again.
    faulted: HashMap<String, BTreeSet<String>>,
    /// The rolled-up source each datastream's raised fault went to.
    fault_key: HashMap<i64, String>,
}

/// A fault made only of maintenance or calibration flags (M, C): planned work on the station,
/// one alert for all its parameters rather than one per parameter.
fn is_maintenance(details: &Value) -> bool {
    details["faults"].as_array().is_some_and(|f| {
        !f.is_empty()
            && f.iter()
                .all(|x| matches!(x["flag"].as_str(), Some("M") | Some("C")))
    })
}

/// One datastream's fault verdict as the verdicts of its rolled-up alert: a trigger joins
/// (or opens) the alert of its station × parameter — or of its station's maintenance — and
/// a resolve closes it only when no member is left.
fn roll_up_fault(
    faulted: &mut HashMap<String, BTreeSet<String>>,
    fault_key: &mut HashMap<i64, String>,
    restored: &mut BTreeSet<(RuleKind, String)>,
    info: &StreamInfo,
    v: Verdict,
) -> Vec<Verdict> {
    let member = format!("{}:{}", info.parameter, info.data_kind);
    let mut out = Vec::new();
    // Leaves `key`'s alert; resolves it when it was the last member.
    let mut leave = |faulted: &mut HashMap<String, BTreeSet<String>>,
                     key: &str,
                     message: String,
                     details: Value,
                     out: &mut Vec<Verdict>| {
        let members = faulted.entry(key.to_string()).or_default();
        members.remove(&member);
        if members.is_empty() {
            faulted.remove(key);
            restored.remove(&(RuleKind::SensorFault, key.to_string()));
            out.push(Verdict::Resolve {
                rule: RuleKind::SensorFault,
                source: key.to_string(),
                message,
                details,
            });
        }
    };
    match v {
        Verdict::Trigger(mut t) => {
            let maintenance = is_maintenance(&t.details);
            let key = if maintenance {
                format!("{}:maintenance", info.station)
            } else {
                info.parameter_source()
            };
            if let Some(old) = fault_key.get(&info.datastream_id).cloned()
                && old != key
            {
                let text = Text::new("fault_clear")
                    .with("station", info.station.as_str())
                    .with("parameter", parameter_names(&info.parameter));
                let message = text.render(Lang::En).unwrap_or_default();
                leave(
                    faulted,
                    &old,
                    message,
                    text.into_details(json!({})),
                    &mut out,
                );
            }
            let members = faulted.entry(key.clone()).or_default();
            members.insert(member.clone());
            fault_key.insert(info.datastream_id, key.clone());
            t.source = key;
            let kinds: Vec<String> = members
                .iter()
                .filter_map(|m| m.split_once(':'))
                .filter(|(p, _)| maintenance || *p == info.parameter)
                .map(|(_, k)| k.to_string())
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            let parameters: Vec<String> = members
                .iter()
                .filter_map(|m| m.split_once(':').map(|(p, _)| p.to_string()))
                .collect::<BTreeSet<_>>()
                .into_iter()
                .collect();
            if maintenance {
                let names = |zh: bool| {
                    parameters
                        .iter()
                        .map(|p| match wq::catalogue::by_code(p) {
                            Some(c) if zh => c.name_zh.to_string(),
                            Some(c) => c.name_en.to_string(),
                            None => p.clone(),
                        })
                        .collect::<Vec<_>>()
                };
                let flags: BTreeSet<String> = t.details["faults"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .filter_map(|f| f["flag"].as_str().map(str::to_string))
                    .collect();
                let flags = flags.into_iter().collect::<Vec<_>>().join("/");
                let text = Text::new("maintenance")
                    .with("station", info.station.as_str())
                    .with("flags", flags)
                    .with(
                        "parameters",
                        both(names(true).join("、"), names(false).join(", ")),
                    );
                t.message = text.render(Lang::En).unwrap_or_default();
                if let Value::Object(d) = &mut t.details {
                    d.insert("text".into(), json!(text));
                }
                t.parameter = None;
                t.datastream_id = None;
            }
            if let Value::Object(d) = &mut t.details {
                d.insert("data_kind".into(), info.data_kind.clone().into());
                d.insert("data_kinds".into(), json!(kinds));
                d.insert("parameters".into(), json!(parameters));
            }
            out.push(Verdict::Trigger(t));
        }
        Verdict::Resolve {
            message, details, ..
        } => {
            let key = fault_key
                .remove(&info.datastream_id)
                .unwrap_or_else(|| info.parameter_source());
            leave(faulted, &key, message, details, &mut out);
        }
    }
    out
}

/// `W01:tp:hourly` → `W01:tp`.
fn rolled_up(source: &str) -> &str {
    source.rsplit_once(':').map_or(source, |(head, _)| head)
}

impl Evaluator {
    pub fn new(settings: RuleSettings) -> Self {
        Evaluator {
            settings,
            ..Default::default()
        }
    }

    /// One committed observation of `info`'s datastream, arrived at wall time `now`.
    pub fn observe(&mut self, info: &StreamInfo, r: &Reading, now: i64) -> Vec<Verdict> {
        let s = &self.settings;
        let mut out = Vec::new();
        if s.offline.enabled
            && let Some(v) =
                self.offline
                    .seen(&info.station, info.interval_s, info.drinking_water, now)
        {
            out.push(v);
        }
        let faulted = &mut self.faulted;
        let fault_key = &mut self.fault_key;
        let state = self.streams.entry(info.datastream_id).or_insert_with(|| {
            let mut st = StreamState::default();
            let source = info.source();
            // A fault alert open at start: every data kind of its parameter resumes "raised",
            // so it clears once all of them are healthy.
            let maintenance = format!("{}:maintenance", info.station);
            for key in [info.parameter_source(), maintenance] {
                if self
                    .restored
                    .contains(&(RuleKind::SensorFault, key.clone()))
                {
                    st.fault.raised = true;
                    faulted
                        .entry(key.clone())
                        .or_default()
                        .insert(format!("{}:{}", info.parameter, info.data_kind));
                    fault_key.insert(info.datastream_id, key);
                    break;
                }
            }
            for rule in [
                RuleKind::Exceedance,
                RuleKind::Trend,
                RuleKind::SensorFault,
                RuleKind::Bloom,
            ] {
                if self.restored.remove(&(rule, source.clone())) {
                    match rule {
                        RuleKind::Exceedance => st.exceedance.filter.set_raised(),
                        RuleKind::Trend => st.trend.raised = true,
                        RuleKind::SensorFault => st.fault.raised = true,
                        _ => st.bloom.filter.set_raised(),
                    }
                }
            }
            st
        });
        if s.sensor_fault.enabled
            && let Some(v) = state.fault.observe(&s.sensor_fault, info, r)
        {
            out.extend(roll_up_fault(
                &mut self.faulted,
                &mut self.fault_key,
                &mut self.restored,
                info,
                v,
            ));
        }
        if s.threshold_data_kinds.iter().any(|k| k == &info.data_kind) {
            if s.exceedance.enabled {
                out.extend(state.exceedance.observe(&s.exceedance, info, r));
            }
            if s.trend.enabled {
                out.extend(state.trend.observe(&s.trend, info, r));
            }
            if s.bloom.enabled {
                out.extend(state.bloom.observe(&s.bloom, info, r));
            }
        }
        out
    }

    /// The clock: stations silent for too long.
    pub fn tick(&mut self, now: i64) -> Vec<Verdict> {
        if !self.settings.offline.enabled {
            return Vec::new();
        }
        self.offline.check(&self.settings.offline, now)
    }

    /// Watch a station from its last data in the store (at start).
    pub fn watch_station(
        &mut self,
        station: &str,
        interval_s: i64,
        drinking_water: bool,
        last_seen: i64,
    ) {
        self.offline
            .watch(station, interval_s, drinking_water, last_seen);
    }

    /// An alert of (rule, source) is open in the store (at start): the rule continues from
    /// "raised", so recovery clears it and a persisting condition updates it.
    pub fn restore_open(&mut self, rule: RuleKind, source: &str) {
        match rule {
            RuleKind::Offline => self.offline.set_offline(source),
            // Event rules: raised from outside the observation stream, nothing to resume.
            RuleKind::Intrusion
            | RuleKind::VideoFault
            | RuleKind::CameraOffline
            | RuleKind::BloomArea
            | RuleKind::CredentialGuessing => {}
            _ => {
                self.restored.insert((rule, source.to_owned()));
            }
        }
    }

    /// The alert of (rule, source) was cleared by hand at wall time `now`: start its rule over
    /// (a still-silent station gets a full silence period again). `source_of` maps a
    /// datastream id to its source.
    pub fn reset(
        &mut self,
        rule: RuleKind,
        source: &str,
        now: i64,
        source_of: impl Fn(i64) -> Option<String>,
    ) {
        self.restored.remove(&(rule, source.to_owned()));
        if rule == RuleKind::Offline {
            if let Some(c) = self.offline.stations.get_mut(source) {
                c.offline = false;
                c.last_seen = c.last_seen.max(now);
            }
            return;
        }
        if rule == RuleKind::SensorFault {
            self.faulted.remove(source);
            self.fault_key.retain(|_, k| k != source);
        }
        for (id, st) in self.streams.iter_mut() {
            let Some(of) = source_of(*id) else { continue };
            // A fault alert stands for every data kind of its parameter.
            let of = if rule == RuleKind::SensorFault {
                rolled_up(&of)
            } else {
                of.as_str()
            };
            // A station's maintenance alert stands for all its datastreams.
            let maintenance_of_station = rule == RuleKind::SensorFault
                && source
                    .strip_suffix(":maintenance")
                    .is_some_and(|st| of.split_once(':').is_some_and(|(station, _)| station == st));
            if of == source || maintenance_of_station {
                match rule {
                    RuleKind::Exceedance => st.exceedance.filter.reset(),
                    RuleKind::Trend => st.trend.raised = false,
                    RuleKind::SensorFault => {
                        st.fault.raised = false;
                        st.fault.healthy_run = 0;
                    }
                    RuleKind::Bloom => st.bloom.filter.reset(),
                    _ => {}
                }
            }
        }
    }
}
