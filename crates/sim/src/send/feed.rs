//! What each station sends, as plain data (pure: no IO, no clock).
//!
//! A [`Feed`] turns the generator's readings into the uploads a data logger makes — HJ 212
//! real-time (2011) frames every `realtime_interval_s` and hourly (2061) frames at the end of
//! each hour — and into the SensorThings rows of the history backfill and of the manual samples.
//! Both paths take their values from the same functions, so an hour backfilled over STA carries
//! exactly what the station would have sent over HJ 212.

use crate::clock::{Clock, civil_from_days, days_from_civil};
use crate::{DataFlag, Reading, Simulator};
use hj212::{Cn, Cp, CpField, CpItem, DataSegment, Flag};
use network::{DataKind, Hj212Link, Method, Network, datastream_key};

const HOUR: i64 = 3600;
const DAY: i64 = 86_400;

/// Local day of the month and hour at which the monthly manual samples are taken
/// (project choice: the 5th at 10:00; any 28 consecutive days contain one such instant).
pub const MANUAL_SAMPLE_DAY: u32 = 5;
pub const MANUAL_SAMPLE_HOUR: i64 = 10;

/// `resultQuality` of an observation: the HJ 212 data flag, as the station reported it.
pub fn result_quality(flag: DataFlag) -> serde_json::Value {
    serde_json::json!({ "flag": flag.as_char().to_string() })
}

/// One parameter of a station as the feed sends it.
#[derive(Debug, Clone)]
pub struct FeedParameter {
    /// Index in the simulator's station parameters (for [`Simulator::sample_at`]).
    pub sim_index: usize,
    pub code: String,
    /// HJ 212 factor code (`w21011`).
    pub factor: String,
    pub method: Method,
    pub decimals: u8,
}

/// One station as the feed sends it.
#[derive(Debug, Clone)]
pub struct FeedStation {
    /// Index in the simulator's stations.
    pub sim_index: usize,
    pub code: String,
    /// `None` for stations that only have manual data.
    pub link: Option<Hj212Link>,
    pub realtime_interval_s: i64,
    pub parameters: Vec<FeedParameter>,
}

impl FeedStation {
    fn of(&self, method: Method) -> impl Iterator<Item = &FeedParameter> {
        self.parameters.iter().filter(move |p| p.method == method)
    }
}

/// One HJ 212 data upload, before it gets a QN.
#[derive(Debug, Clone, PartialEq)]
pub struct Upload {
    /// Index in [`Feed::stations`].
    pub station: usize,
    /// 2011 (real-time) or 2061 (hourly).
    pub cn: Cn,
    /// `DataTime`: the measurement instant (2011) or the start of the hour (2061), Unix seconds.
    pub data_time: i64,
    /// When the logger sends it: the measurement instant, or the end of the hour.
    pub send_time: i64,
    pub cp: Cp,
    /// The station is offline at `send_time`: the logger keeps the record and sends it later.
    pub offline: bool,
}

/// One observation row of the STA path.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Row {
    pub time: i64,
    pub value: f64,
    pub flag: DataFlag,
}

/// All rows of one datastream, by its plan key (`datastream:R01:tp:hourly`).
#[derive(Debug, Clone, PartialEq)]
pub struct DatastreamRows {
    pub key: String,
    /// Hourly data cover an interval `[time, time + interval_s)` (as the HJ 212 listener stores
    /// 2061 data); `None` for instants (real-time values, manual samples).
    pub interval_s: Option<i64>,
    pub rows: Vec<Row>,
}

/// The senders' view of a network and its generator.
#[derive(Debug, Clone)]
pub struct Feed {
    pub sim: Simulator,
    pub stations: Vec<FeedStation>,
    pub utc_offset_s: i64,
    /// Local hours at which analysers report (00, 04, … 20).
    pub analyser_hours: Vec<u8>,
    pub hj212_st: String,
}

impl Feed {
    pub fn new(network: &Network, sim: Simulator) -> Feed {
        let stations = sim
            .stations()
            .iter()
            .enumerate()
            .map(|(sim_index, st)| {
                let station = network.station(&st.code);
                FeedStation {
                    sim_index,
                    code: st.code.clone(),
                    link: station.and_then(|s| s.hj212().cloned()),
                    realtime_interval_s: station
                        .map_or(i64::from(network.cadence.realtime_interval_s), |s| {
                            i64::from(s.realtime_interval_s)
                        })
                        .max(1),
                    parameters: st
                        .parameters
                        .iter()
                        .enumerate()
                        .filter_map(|(i, p)| {
                            let catalogue = network.parameter(&p.code)?;
                            Some(FeedParameter {
                                sim_index: i,
                                code: p.code.clone(),
                                factor: catalogue.hj212.clone(),
                                method: p.method,
                                decimals: p.decimals,
                            })
                        })
                        .collect(),
                }
            })
            .collect();
        Feed {
            utc_offset_s: sim.utc_offset_s,
            sim,
            stations,
            analyser_hours: network.cadence.analyser_cycle_hours.clone(),
            hj212_st: network.hj212_st.clone(),
        }
    }

    /// Stations that send HJ 212 data (those with an MN).
    pub fn automatic_stations(&self) -> impl Iterator<Item = usize> + '_ {
        (0..self.stations.len()).filter(|&s| self.stations[s].link.is_some())
    }

    fn read(&self, station: &FeedStation, p: &FeedParameter, unix: i64) -> Reading {
        self.sim.sample_at(station.sim_index, p.sim_index, unix)
    }

    fn is_cycle_hour(&self, hour_start: i64) -> bool {
        let local_hour = (hour_start + self.utc_offset_s).rem_euclid(DAY) / HOUR;
        self.analyser_hours
            .iter()
            .any(|&h| i64::from(h) == local_hour)
    }

    /// The instants within the hour at which the probes are read (the real-time grid).
    fn hour_grid(&self, station: &FeedStation, hour_start: i64) -> impl Iterator<Item = i64> {
        let step = station.realtime_interval_s.min(HOUR);
        (0..HOUR / step).map(move |k| hour_start + k * step)
    }

    /// Hourly (min, avg, max, flag) of a probe: over the real-time grid of the hour, rounded to
    /// the parameter's decimals; one abnormal sample makes the hour abnormal, as stations do
    /// (water-quality.md §13.3).
    fn hourly_probe(&self, station: &FeedStation, p: &FeedParameter, hour_start: i64) -> Hourly {
        let mut min = f64::INFINITY;
        let mut max = f64::NEG_INFINITY;
        let mut sum = 0.0;
        let mut n = 0.0;
        let mut flag = DataFlag::N;
        for t in self.hour_grid(station, hour_start) {
            let r = self.read(station, p, t);
            min = min.min(r.value);
            max = max.max(r.value);
            sum += r.value;
            n += 1.0;
            flag = crate::model::worse(flag, r.flag);
        }
        Hourly {
            min: round_to(min, p.decimals),
            avg: round_to(sum / n, p.decimals),
            max: round_to(max, p.decimals),
            flag,
        }
    }

    /// The 2011 real-time upload of a station's probes at `t`.
    pub fn realtime(&self, station: usize, t: i64) -> Upload {
        let st = &self.stations[station];
        let mut items = vec![data_time_item(t, self.utc_offset_s)];
        for p in st.of(Method::Probe) {
            let r = self.read(st, p, t);
            items.push(factor_item(
                &p.factor,
                &[("Rtd", format_value(r.value, p.decimals))],
                r.flag,
            ));
        }
        Upload {
            station,
            cn: Cn::REALTIME_DATA,
            data_time: t,
            send_time: t,
            cp: Cp { items },
            offline: self.sim.is_offline(st.sim_index, t),
        }
    }

    /// The 2061 hourly upload for the hour starting at `hour_start`, sent when it ends: probe
    /// min/avg/max, plus the analyser results when the hour starts a cycle.
    pub fn hourly(&self, station: usize, hour_start: i64) -> Upload {
        let st = &self.stations[station];
        let mut items = vec![data_time_item(hour_start, self.utc_offset_s)];
        for p in st.of(Method::Probe) {
            let h = self.hourly_probe(st, p, hour_start);
            items.push(factor_item(
                &p.factor,
                &[
                    ("Min", format_value(h.min, p.decimals)),
                    ("Avg", format_value(h.avg, p.decimals)),
                    ("Max", format_value(h.max, p.decimals)),
                ],
                h.flag,
            ));
        }
        if self.is_cycle_hour(hour_start) {
            for p in st.of(Method::Analyser) {
                let r = self.read(st, p, hour_start);
                items.push(factor_item(
                    &p.factor,
                    &[("Avg", format_value(r.value, p.decimals))],
                    r.flag,
                ));
            }
        }
        let send_time = hour_start + HOUR;
        Upload {
            station,
            cn: Cn::HOURLY_DATA,
            data_time: hour_start,
            send_time,
            cp: Cp { items },
            offline: self.sim.is_offline(st.sim_index, send_time),
        }
    }

    /// Every upload of a station with `from <= send_time < to`, in sending order (at the same
    /// instant the real-time frame goes before the hourly frame of the hour that just ended).
    pub fn uploads(&self, station: usize, from: i64, to: i64) -> Vec<Upload> {
        let st = &self.stations[station];
        if st.link.is_none() || from >= to {
            return Vec::new();
        }
        let has_probes = st.of(Method::Probe).next().is_some();
        let has_analysers = st.of(Method::Analyser).next().is_some();
        let step = st.realtime_interval_s;
        let mut out = Vec::new();
        let mut t = ceil_to(from, step.min(HOUR));
        while t < to {
            if has_probes && t.rem_euclid(step) == 0 {
                out.push(self.realtime(station, t));
            }
            if t.rem_euclid(HOUR) == 0
                && (has_probes || (has_analysers && self.is_cycle_hour(t - HOUR)))
            {
                out.push(self.hourly(station, t - HOUR));
            }
            t += step.min(HOUR);
        }
        out
    }

    /// The HJ 212 data segment of an upload with its QN (Flag=5: HJ 212-2017, answer wanted).
    pub fn segment(&self, upload: &Upload, qn: String) -> Option<DataSegment> {
        let link = self.stations.get(upload.station)?.link.as_ref()?;
        Some(DataSegment {
            qn: Some(qn),
            st: if link.st.is_empty() {
                self.hj212_st.clone()
            } else {
                link.st.clone()
            },
            cn: upload.cn,
            pw: link.pw.clone(),
            mn: link.mn.clone(),
            flag: Some(Flag::new(1, true, false)),
            split: None,
            extra: Vec::new(),
            cp: upload.cp.clone(),
        })
    }

    /// Instants of the monthly manual samples with `from <= t < to`.
    pub fn manual_sample_times(&self, from: i64, to: i64) -> Vec<i64> {
        let mut out = Vec::new();
        let first = Clock::new(from, self.utc_offset_s);
        let (mut year, mut month) = (first.year, first.month);
        loop {
            let day = days_from_civil(year, month, MANUAL_SAMPLE_DAY);
            let t = day * DAY + MANUAL_SAMPLE_HOUR * HOUR - self.utc_offset_s;
            if t >= to {
                break;
            }
            if t >= from {
                out.push(t);
            }
            // Next month: the 1st of this month plus 32 days lands in the next one.
            let (y, m, _) = civil_from_days(days_from_civil(year, month, 1) + 32);
            (year, month) = (y, m);
        }
        out
    }

    /// The manual results of every station at one sampling instant, by datastream.
    pub fn manual_rows(&self, t: i64) -> Vec<DatastreamRows> {
        let mut out = Vec::new();
        for st in &self.stations {
            for p in st.of(Method::Manual) {
                let r = self.read(st, p, t);
                out.push(DatastreamRows {
                    key: datastream_key(&st.code, &p.code, DataKind::Manual),
                    interval_s: None,
                    rows: vec![Row {
                        time: t,
                        value: r.value,
                        flag: r.flag,
                    }],
                });
            }
        }
        out
    }

    /// The history the stations would have sent with `from <= send time < to`, as STA rows:
    /// hourly data (probe hourly means, analyser results) for the whole window, real-time
    /// values from `realtime_from` on (keeping 30 days of 5-minute data would cost ten times
    /// the rows for little use), and the monthly manual samples.
    pub fn history(&self, from: i64, to: i64, realtime_from: i64) -> Vec<DatastreamRows> {
        let mut out = Vec::new();
        for st in &self.stations {
            if st.link.is_some() {
                let step = st.realtime_interval_s;
                for p in st.of(Method::Probe) {
                    let realtime = (ceil_to(from.max(realtime_from), step)..to)
                        .step_by(step as usize)
                        .map(|t| {
                            let r = self.read(st, p, t);
                            Row {
                                time: t,
                                value: r.value,
                                flag: r.flag,
                            }
                        })
                        .collect();
                    out.push(DatastreamRows {
                        key: datastream_key(&st.code, &p.code, DataKind::Realtime),
                        interval_s: None,
                        rows: realtime,
                    });
                    let hourly = hours(from, to)
                        .map(|h| {
                            let v = self.hourly_probe(st, p, h);
                            Row {
                                time: h,
                                value: v.avg,
                                flag: v.flag,
                            }
                        })
                        .collect();
                    out.push(DatastreamRows {
                        key: datastream_key(&st.code, &p.code, DataKind::Hourly),
                        interval_s: Some(HOUR),
                        rows: hourly,
                    });
                }
                for p in st.of(Method::Analyser) {
                    let rows = hours(from, to)
                        .filter(|&h| self.is_cycle_hour(h))
                        .map(|h| {
                            let r = self.read(st, p, h);
                            Row {
                                time: h,
                                value: r.value,
                                flag: r.flag,
                            }
                        })
                        .collect();
                    out.push(DatastreamRows {
                        key: datastream_key(&st.code, &p.code, DataKind::Hourly),
                        interval_s: Some(HOUR),
                        rows,
                    });
                }
            }
        }
        let mut manual: Vec<DatastreamRows> = Vec::new();
        for t in self.manual_sample_times(from, to) {
            for m in self.manual_rows(t) {
                match manual.iter_mut().find(|d| d.key == m.key) {
                    Some(d) => d.rows.extend(m.rows),
                    None => manual.push(m),
                }
            }
        }
        out.extend(manual);
        out.retain(|d| !d.rows.is_empty());
        out
    }
}

/// Hour starts `h` with `from <= h` whose hourly upload (sent at `h + 1 h`) is due before `to`.
fn hours(from: i64, to: i64) -> impl Iterator<Item = i64> {
    let first = ceil_to(from, HOUR);
    (0..)
        .map(move |k| first + k * HOUR)
        .take_while(move |&h| h + HOUR < to)
}

struct Hourly {
    min: f64,
    avg: f64,
    max: f64,
    flag: DataFlag,
}

fn ceil_to(t: i64, step: i64) -> i64 {
    let r = t.rem_euclid(step);
    if r == 0 { t } else { t + step - r }
}

fn round_to(value: f64, decimals: u8) -> f64 {
    let scale = 10f64.powi(i32::from(decimals));
    (value * scale).round() / scale
}

/// The value as the decimal string on the wire, with the parameter's decimals (never `-0`).
pub fn format_value(value: f64, decimals: u8) -> String {
    let text = format!("{:.*}", usize::from(decimals), value);
    if text.starts_with('-') && text[1..].bytes().all(|b| b == b'0' || b == b'.') {
        text[1..].to_owned()
    } else {
        text
    }
}

fn data_time_item(t: i64, utc_offset_s: i64) -> CpItem {
    CpItem {
        fields: vec![CpField {
            key: "DataTime".into(),
            value: local_time(t, utc_offset_s),
        }],
    }
}

fn factor_item(factor: &str, values: &[(&str, String)], flag: DataFlag) -> CpItem {
    let mut fields: Vec<CpField> = values
        .iter()
        .map(|(suffix, value)| CpField {
            key: format!("{factor}-{suffix}"),
            value: value.clone(),
        })
        .collect();
    fields.push(CpField {
        key: format!("{factor}-Flag"),
        value: flag.as_char().to_string(),
    });
    CpItem { fields }
}

/// `YYYYMMDDhhmmss` in the stations' local time.
pub fn local_time(t: i64, utc_offset_s: i64) -> String {
    let c = Clock::new(t, utc_offset_s);
    let secs = (t + utc_offset_s).rem_euclid(DAY);
    format!(
        "{:04}{:02}{:02}{:02}{:02}{:02}",
        c.year,
        c.month,
        c.day_of_month,
        secs / HOUR,
        secs % HOUR / 60,
        secs % 60
    )
}

/// A 17-digit QN (`YYYYMMDDhhmmsszzz`) in local time from Unix milliseconds.
pub fn qn_of(unix_ms: i64, utc_offset_s: i64) -> String {
    format!(
        "{}{:03}",
        local_time(unix_ms.div_euclid(1000), utc_offset_s),
        unix_ms.rem_euclid(1000)
    )
}
