//! Stations that stop reporting, and come back.

#[allow(unused_imports)]
use super::*;

#[derive(Debug, Clone, Copy, PartialEq)]
pub(super) struct StationClock {
    /// Wall time (µs) data last arrived.
    pub(super) last_seen: i64,
    /// The station's shortest reporting interval (s).
    pub(super) interval_s: i64,
    pub(super) offline: bool,
    pub(super) drinking_water: bool,
}

/// Last-seen tracking per station. A station that never reported since it was added is not
/// watched (it is not commissioned); one that reported once is watched from then on.
#[derive(Debug, Default)]
pub struct OfflineTracker {
    pub(super) stations: BTreeMap<String, StationClock>,
}

impl OfflineTracker {
    /// Data from `station` arrived at wall time `now`. Returns a resolve verdict if it was offline.
    pub fn seen(
        &mut self,
        station: &str,
        interval_s: Option<i64>,
        drinking_water: bool,
        now: i64,
    ) -> Option<Verdict> {
        let interval = interval_s.filter(|&i| i > 0)?;
        let clock = self
            .stations
            .entry(station.to_owned())
            .or_insert(StationClock {
                last_seen: now,
                interval_s: interval,
                offline: false,
                drinking_water,
            });
        clock.interval_s = clock.interval_s.min(interval);
        clock.last_seen = clock.last_seen.max(now);
        clock.drinking_water = drinking_water;
        if clock.offline {
            clock.offline = false;
            let text = Text::new("online").with("station", station);
            return Some(Verdict::Resolve {
                rule: RuleKind::Offline,
                source: station.to_owned(),
                message: text.render(Lang::En).unwrap_or_default(),
                details: text.into_details(json!({ "back_at_us": now })),
            });
        }
        None
    }

    /// Starts watching a station that last reported at `last_seen` (from the store at start).
    pub fn watch(&mut self, station: &str, interval_s: i64, drinking_water: bool, last_seen: i64) {
        let clock = self
            .stations
            .entry(station.to_owned())
            .or_insert(StationClock {
                last_seen,
                interval_s,
                offline: false,
                drinking_water,
            });
        clock.interval_s = clock.interval_s.min(interval_s);
        clock.last_seen = clock.last_seen.max(last_seen);
    }

    /// An offline alert is open for `station` (restored after a restart).
    pub fn set_offline(&mut self, station: &str) {
        if let Some(c) = self.stations.get_mut(station) {
            c.offline = true;
        }
    }

    /// The silence (s) after which a station with this interval is offline.
    pub fn silence_limit_s(s: &OfflineSettings, interval_s: i64) -> i64 {
        s.after_s
            .unwrap_or_else(|| (s.multiple * interval_s as f64).ceil() as i64)
            .max(s.min_silence_s)
    }

    /// Stations that have just gone silent for too long at wall time `now`.
    pub fn check(&mut self, s: &OfflineSettings, now: i64) -> Vec<Verdict> {
        let mut out = Vec::new();
        for (code, c) in self.stations.iter_mut() {
            let limit_s = Self::silence_limit_s(s, c.interval_s);
            let silent_us = now - c.last_seen;
            if !c.offline && silent_us > limit_s.saturating_mul(SECOND) {
                c.offline = true;
                let severity = if c.drinking_water {
                    s.severity.raised()
                } else {
                    s.severity
                };
                let text = Text::new("offline")
                    .with("station", code.as_str())
                    .with("silent_s", silent_us / SECOND)
                    .with("limit_s", limit_s);
                out.push(Verdict::Trigger(Trigger {
                    rule: RuleKind::Offline,
                    source: code.clone(),
                    station: Some(code.clone()),
                    parameter: None,
                    datastream_id: None,
                    severity,
                    message: text.render(Lang::En).unwrap_or_default(),
                    details: text.into_details(json!({ "last_seen_us": c.last_seen, "silence_limit_s": limit_s, "interval_s": c.interval_s })),
                    observed_at: None,
                }));
            }
        }
        out
    }
}
