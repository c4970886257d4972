//! What happens to the network besides the weather: recurrent events switched on or off, and
//! scripted one-off events with a start, a duration, a place and an intensity
//! (hongfeng.md §6).

use chrono::{DateTime, Duration, Utc};
use serde::{Deserialize, Serialize};

/// Recurrent events plus scripted ones.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scenario {
    /// Rain days drawn from the monthly probabilities (hongfeng.md §5.1), with river runoff and
    /// the lagged response of the lake inflow zone.
    pub storms: bool,
    /// One summer bloom a year in the south-lake bays (between 10 July and early September).
    pub blooms: bool,
    /// One autumn overturn a year (November, 3–10 days).
    pub overturn: bool,
    /// Weekly one-hour calibration (flag C) and a monthly 2–6 h maintenance (flag M) per station.
    pub routine_maintenance: bool,
    pub events: Vec<ScriptedEvent>,
}

impl Default for Scenario {
    /// All recurrent events on, nothing scripted.
    fn default() -> Self {
        Scenario {
            storms: true,
            blooms: true,
            overturn: true,
            routine_maintenance: true,
            events: Vec::new(),
        }
    }
}

/// A one-off event.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScriptedEvent {
    pub kind: EventKind,
    /// Station code; `None` = every station the event applies to (storms: the whole network).
    pub station: Option<String>,
    /// Parameter code; `None` = every parameter of the station.
    pub parameter: Option<String>,
    pub start: DateTime<Utc>,
    pub duration_s: i64,
    /// Meaning per kind (see [`EventKind`]); `None` takes the documented default.
    pub intensity: Option<f64>,
}

impl ScriptedEvent {
    pub fn end(&self) -> DateTime<Utc> {
        self.start + Duration::seconds(self.duration_s)
    }

    pub(crate) fn start_unix(&self) -> i64 {
        self.start.timestamp()
    }

    pub(crate) fn contains(&self, unix: i64) -> bool {
        let start = self.start_unix();
        unix >= start && unix < start + self.duration_s
    }

    pub(crate) fn applies_to(&self, station: &str, parameter: &str) -> bool {
        self.station.as_deref().is_none_or(|s| s == station)
            && self.parameter.as_deref().is_none_or(|p| p == parameter)
    }
}

/// Kinds of scripted events, with the meaning of `intensity` and its default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// Rain over the whole network at `start` (river runoff, then the lake inflow zone 36 h
    /// later). Intensity 0.15–1.3, default 1.0 (R01 turbidity peak ≈ 800 NTU × intensity).
    Storm,
    /// Algal bloom at a station (or every station with a bloom hint), in any season.
    /// Intensity = peak chl-a in mg/m³, default 80 (hongfeng.md: 40–120).
    Bloom,
    /// Pollution incident on a river: NH3-N to the intensity (mg/L, default 5; reference 3–8),
    /// DO −2 mg/L.
    PollutionIncident,
    /// Sensor drift growing linearly from `start`, reset at the end (calibration).
    /// Intensity per day: DO −0.5 %/day (≈ −3.5 %/week), turbidity +0.5 NTU/day, pH +0.03/day,
    /// others +1 %/day by default.
    Drift,
    /// The value stays at its value at `start`, still flagged N.
    Flatline,
    /// Instrument fault: flag D, values nonsense (negative, zero or × 5–10).
    Fault,
    /// Isolated spikes flagged N: each sample is a spike with probability `intensity`
    /// (default 0.05); spikes are × 5–10, one in ten negative.
    Spikes,
    /// Instrument stopped (e.g. power failure): flag F.
    InstrumentStopped,
    /// Instrument–logger communication fault: flag B.
    CommFault,
    /// Extra calibration: flag C.
    Calibration,
    /// Extra maintenance: flag M.
    Maintenance,
    /// The station sends nothing; values are still logged for a later backfill.
    Offline,
}

impl Scenario {
    /// The demo scenario: recurrent events plus one of each scripted event, placed around
    /// `anchor` (normally the start of the demo) so that history before it and the first hours
    /// after it both show something. Times are in docs/network.md.
    pub fn demo(anchor: DateTime<Utc>) -> Scenario {
        let h = |hours: i64| anchor + Duration::hours(hours);
        let event = |kind, station: &str, parameter: Option<&str>, start, hours: i64, intensity| {
            ScriptedEvent {
                kind,
                station: Some(station.to_owned()),
                parameter: parameter.map(str::to_owned),
                start,
                duration_s: hours * 3600,
                intensity,
            }
        };
        let mut storm = event(EventKind::Storm, "R01", None, h(-30), 6, Some(1.0));
        storm.station = None;
        Scenario {
            events: vec![
                storm,
                event(
                    EventKind::PollutionIncident,
                    "R09",
                    None,
                    h(2),
                    12,
                    Some(6.0),
                ),
                event(
                    EventKind::Drift,
                    "L02",
                    Some("do"),
                    h(-21 * 24),
                    28 * 24,
                    None,
                ),
                event(
                    EventKind::Drift,
                    "R04",
                    Some("turbidity"),
                    h(-10 * 24),
                    20 * 24,
                    None,
                ),
                event(EventKind::Flatline, "L03", Some("ph"), h(-6), 24, None),
                event(EventKind::Fault, "R06", Some("do"), h(5), 3, None),
                event(
                    EventKind::Spikes,
                    "R07",
                    Some("conductivity"),
                    h(-12),
                    24,
                    Some(0.05),
                ),
                event(EventKind::InstrumentStopped, "R08", None, h(8), 2, None),
                event(EventKind::CommFault, "L04", Some("tp"), h(1), 4, None),
                event(EventKind::Offline, "R05", None, h(3), 6, None),
            ],
            ..Scenario::default()
        }
    }

    /// Only the weather and the seasons: no events, no maintenance. Values stay inside the
    /// assumed normal ranges.
    pub fn quiet() -> Scenario {
        Scenario {
            storms: false,
            blooms: false,
            overturn: false,
            routine_maintenance: false,
            events: Vec::new(),
        }
    }
}
