//! The simulator: a pure function of (seed, station, parameter, instant) giving the value a
//! station would report, its HJ 212 data flag, and whether the station is online.

use crate::clock::Clock;
use crate::events::{in_calibration, in_maintenance};
use crate::noise::{Channel, hash, key_of, unit};
use crate::ranges::{Profile, Quantity, normal_range};
use crate::scenario::{EventKind, Scenario, ScriptedEvent};
use chrono::{DateTime, Utc};
use network::{Method, Network, SimHints, SimVariant, StationKind};
use std::fmt;

/// HJ 212 data flag (water-quality.md §13.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataFlag {
    /// Instrument working normally.
    N,
    /// Instrument stopped.
    F,
    /// Maintenance.
    M,
    /// Manually entered set value (the simulator never produces it).
    S,
    /// Instrument fault.
    D,
    /// Calibration.
    C,
    /// Above the instrument's upper measuring limit.
    T,
    /// Instrument–logger communication fault.
    B,
}

impl DataFlag {
    pub fn as_char(self) -> char {
        match self {
            DataFlag::N => 'N',
            DataFlag::F => 'F',
            DataFlag::M => 'M',
            DataFlag::S => 'S',
            DataFlag::D => 'D',
            DataFlag::C => 'C',
            DataFlag::T => 'T',
            DataFlag::B => 'B',
        }
    }
}

impl fmt::Display for DataFlag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.as_char())
    }
}

/// What a station would report for one parameter at one instant.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    /// The value, rounded to the parameter's hourly decimals, in the catalogue unit.
    pub value: f64,
    pub flag: DataFlag,
    /// True while the station is offline: it sends nothing, but its logger keeps this value,
    /// so a sender can backfill it when the station returns.
    pub offline: bool,
}

/// A parameter the simulator produces at a station.
#[derive(Debug, Clone)]
pub struct SimParameter {
    pub code: String,
    pub method: Method,
    pub decimals: u8,
    pub(crate) quantity: Quantity,
    pub(crate) key: u64,
    /// Normal range (hongfeng.md §4) the weather-and-season value stays in.
    pub(crate) range: (f64, f64),
}

/// A station as the simulator sees it.
#[derive(Debug, Clone)]
pub struct SimStation {
    pub code: String,
    pub kind: StationKind,
    pub parameters: Vec<SimParameter>,
    /// Station parameters with no model (no assumed range in the reference): never produced.
    pub skipped: Vec<String>,
    pub(crate) profile: Profile,
    pub(crate) south: bool,
    pub(crate) hints: SimHints,
    pub(crate) key: u64,
    /// Indices of the scenario events that concern this station (pre-filtered for speed).
    pub(crate) events: Vec<usize>,
}

impl SimStation {
    pub fn parameter_index(&self, code: &str) -> Option<usize> {
        self.parameters.iter().position(|p| p.code == code)
    }
}

/// The deterministic generator for one network, seed and scenario.
#[derive(Debug, Clone)]
pub struct Simulator {
    pub(crate) seed: u64,
    pub(crate) utc_offset_s: i64,
    pub(crate) stations: Vec<SimStation>,
    pub(crate) scenario: Scenario,
}

/// Parses `+08:00` / `-05:30`; anything else is Beijing time (HJ 212's default).
fn parse_utc_offset(text: &str) -> i64 {
    let sign = match text.as_bytes().first() {
        Some(b'+') => 1,
        Some(b'-') => -1,
        _ => return 8 * 3600,
    };
    let mut parts = text[1..].split(':');
    let hours = parts.next().and_then(|h| h.parse::<i64>().ok());
    let minutes = parts.next().map_or(Some(0), |m| m.parse::<i64>().ok());
    match (hours, minutes) {
        (Some(h), Some(m)) if h <= 14 && m < 60 => sign * (h * 3600 + m * 60),
        _ => 8 * 3600,
    }
}

impl Simulator {
    /// A simulator with the default scenario (recurrent events only).
    pub fn new(network: &Network, seed: u64) -> Simulator {
        Simulator::with_scenario(network, seed, Scenario::default())
    }

    pub fn with_scenario(network: &Network, seed: u64, scenario: Scenario) -> Simulator {
        let stations = network
            .stations
            .iter()
            .map(|st| {
                let south = st.basin == "south";
                let profile = match (st.kind, st.sim.variant) {
                    (StationKind::River, SimVariant::Town) => Profile::RiverTown,
                    (StationKind::River, SimVariant::DeepOutflow) => Profile::DeepOutflow,
                    (StationKind::River, SimVariant::Standard) => Profile::River,
                    (StationKind::Intake, _) => Profile::Intake,
                    (StationKind::Lake, _) if south => Profile::LakeSouth,
                    (StationKind::Lake, _) => Profile::LakeNorth,
                };
                let mut parameters = Vec::new();
                let mut skipped = Vec::new();
                for sp in &st.parameters {
                    let model = Quantity::from_code(&sp.code)
                        .and_then(|q| normal_range(profile, q).map(|range| (q, range)));
                    match model {
                        Some((quantity, range)) => parameters.push(SimParameter {
                            code: sp.code.clone(),
                            method: sp.method,
                            decimals: network.parameter(&sp.code).map_or(3, |p| p.decimals),
                            quantity,
                            key: key_of(&sp.code),
                            range,
                        }),
                        None => skipped.push(sp.code.clone()),
                    }
                }
                let events = scenario
                    .events
                    .iter()
                    .enumerate()
                    .filter(|(_, e)| e.station.as_deref().is_none_or(|s| s == st.code))
                    .map(|(i, _)| i)
                    .collect();
                SimStation {
                    code: st.code.clone(),
                    kind: st.kind,
                    parameters,
                    skipped,
                    profile,
                    south,
                    hints: st.sim,
                    key: key_of(&st.code),
                    events,
                }
            })
            .collect();
        Simulator {
            seed,
            utc_offset_s: parse_utc_offset(&network.utc_offset),
            stations,
            scenario,
        }
    }

    pub fn seed(&self) -> u64 {
        self.seed
    }

    pub fn scenario(&self) -> &Scenario {
        &self.scenario
    }

    pub fn stations(&self) -> &[SimStation] {
        &self.stations
    }

    pub fn station_index(&self, code: &str) -> Option<usize> {
        self.stations.iter().position(|s| s.code == code)
    }

    /// The assumed normal range (hongfeng.md §4) of a station parameter.
    pub fn normal_range(&self, station: usize, parameter: usize) -> Option<(f64, f64)> {
        Some(self.stations.get(station)?.parameters.get(parameter)?.range)
    }

    /// The reading of one station parameter, by code; `None` if the station or parameter is
    /// unknown or not simulated.
    pub fn sample(&self, station: &str, parameter: &str, at: DateTime<Utc>) -> Option<Reading> {
        let s = self.station_index(station)?;
        let p = self.stations[s].parameter_index(parameter)?;
        Some(self.sample_at(s, p, at.timestamp()))
    }

    /// Every simulated station × parameter at one instant, in network order.
    pub fn sample_all(&self, at: DateTime<Utc>) -> Vec<(&str, &str, Reading)> {
        let unix = at.timestamp();
        let mut out = Vec::new();
        for (s, st) in self.stations.iter().enumerate() {
            for (p, param) in st.parameters.iter().enumerate() {
                out.push((
                    st.code.as_str(),
                    param.code.as_str(),
                    self.sample_at(s, p, unix),
                ));
            }
        }
        out
    }

    /// Whether the station is offline (sends nothing) at this instant.
    pub fn is_offline(&self, station: usize, unix: i64) -> bool {
        self.stations.get(station).is_some_and(|st| {
            st.events.iter().any(|&i| {
                let e = &self.scenario.events[i];
                e.kind == EventKind::Offline && e.contains(unix)
            })
        })
    }

    /// The fast path: station and parameter by index (from [`Simulator::stations`]), time in
    /// Unix seconds. Panics only if an index is out of range.
    pub fn sample_at(&self, station: usize, parameter: usize, unix: i64) -> Reading {
        let st = &self.stations[station];
        let param = &st.parameters[parameter];
        let clock = Clock::new(unix, self.utc_offset_s);
        let mut value = self.environment(st, param, &clock);
        let mut flag = DataFlag::N;
        let automatic = param.method != Method::Manual;
        if automatic {
            // Instruments repeat to a few per cent (analysers) or a little better (probes): without
            // it a calm value rounds to the same number reading after reading and QC (rightly)
            // calls the instrument stuck (water-quality.md §13.4). At least two digits of the
            // reported resolution, since near a detection limit the relative figure alone
            // vanishes in rounding.
            let (relative, digits) = if param.method == Method::Analyser {
                (ANALYSER_REPEATABILITY, 2.0)
            } else {
                (PROBE_REPEATABILITY, 1.5)
            };
            let amplitude =
                (value.abs() * relative).max(digits * 10f64.powi(-i32::from(param.decimals)));
            let noisy = value
                + amplitude * crate::noise::white(self.seed, st.key ^ param.key ^ 0xA11A, unix);
            let (lo, hi) = param.range;
            // Noise must not push an in-range value out of the assumed range (hongfeng.md §4).
            value = if (lo..=hi).contains(&value) {
                noisy.clamp(lo, hi)
            } else {
                noisy
            };
        }

        if automatic && self.scenario.routine_maintenance {
            if in_maintenance(self.seed, st.key, &clock) {
                flag = DataFlag::M;
            } else if in_calibration(self.seed, st.key, &clock) {
                flag = DataFlag::C;
            }
        }

        for &i in &st.events {
            let e = &self.scenario.events[i];
            if !e.contains(unix) || !e.applies_to(&st.code, &param.code) {
                continue;
            }
            match e.kind {
                EventKind::Drift => value = drift(param, value, e, unix),
                EventKind::Flatline => {
                    let start = Clock::new(e.start_unix(), self.utc_offset_s);
                    value = self.environment(st, param, &start);
                }
                EventKind::Spikes => {
                    let u = unit(hash(
                        self.seed,
                        st.key ^ param.key,
                        Channel::Spike as u64,
                        unix as u64,
                    ));
                    if u < e.intensity.unwrap_or(0.05) {
                        let v = unit(crate::noise::mix(u.to_bits()));
                        value *= if v < 0.1 { -1.0 } else { 5.0 + 5.0 * v };
                    }
                }
                EventKind::Fault => {
                    flag = worse(flag, DataFlag::D);
                    let h = hash(
                        self.seed,
                        st.key ^ param.key,
                        Channel::Fault as u64,
                        unix as u64,
                    );
                    value = match h % 3 {
                        0 => -value.abs() * 0.1,
                        1 => 0.0,
                        _ => value * (5.0 + 5.0 * unit(h)),
                    };
                }
                EventKind::InstrumentStopped if automatic => flag = worse(flag, DataFlag::F),
                EventKind::CommFault if automatic => flag = worse(flag, DataFlag::B),
                EventKind::Calibration if automatic => flag = worse(flag, DataFlag::C),
                EventKind::Maintenance if automatic => flag = worse(flag, DataFlag::M),
                _ => {}
            }
        }

        // Turbidity probes read 0–1000 NTU (hongfeng.md §4.3): above it, flag T, value kept.
        if param.quantity == Quantity::Turbidity && value > 1000.0 {
            flag = worse(flag, DataFlag::T);
        }

        Reading {
            value: round_to(value, param.decimals),
            flag,
            offline: self.is_offline(station, unix),
        }
    }
}

/// The more serious of two flags (F > D > B > M > C > T > N).
pub(crate) fn worse(a: DataFlag, b: DataFlag) -> DataFlag {
    let rank = |f| match f {
        DataFlag::F => 7,
        DataFlag::D => 6,
        DataFlag::B => 5,
        DataFlag::M => 4,
        DataFlag::C => 3,
        DataFlag::T => 2,
        DataFlag::S => 1,
        DataFlag::N => 0,
    };
    if rank(b) > rank(a) { b } else { a }
}

/// Sensor drift since the event start (hongfeng.md §6: DO −2 to −5 %/week from membrane
/// fouling, turbidity +0.2–1 NTU/day, pH ±0.02–0.05/day).
fn drift(param: &SimParameter, value: f64, e: &ScriptedEvent, unix: i64) -> f64 {
    let days = (unix - e.start_unix()) as f64 / 86_400.0;
    match param.quantity {
        Quantity::Do => value * (1.0 - e.intensity.unwrap_or(0.005) * days),
        Quantity::Turbidity => value + e.intensity.unwrap_or(0.5) * days,
        Quantity::Ph => value + e.intensity.unwrap_or(0.03) * days,
        _ => value * (1.0 + e.intensity.unwrap_or(0.01) * days),
    }
}

/// Relative repeatability of an automatic analyser (±, triangular).
const ANALYSER_REPEATABILITY: f64 = 0.08;
/// Relative repeatability of a probe (±, triangular).
const PROBE_REPEATABILITY: f64 = 0.02;

fn round_to(value: f64, decimals: u8) -> f64 {
    let scale = 10f64.powi(i32::from(decimals));
    (value * scale).round() / scale
}
