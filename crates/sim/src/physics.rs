//! Weather, seasons and places: the value of a station parameter before instrument artefacts
//! (hongfeng.md §4–§6). Every number here is from the reference or is a documented assumption
//! (docs/network.md, "Simulator").

use crate::clock::{Clock, monthly};
use crate::events::{
    bloom_window, for_each_rain, lake_response, overturn_window, river_response, window_shape,
};
use crate::model::{SimParameter, SimStation, Simulator};
use crate::noise::{self, Channel, hash, key_of, unit};
use crate::ranges::{Profile, Quantity, normal_range, place, soft_clamp};
use crate::scenario::EventKind;

/// Lake surface temperature, monthly means January–December, ℃ (hongfeng.md §5.1).
const LAKE_SURFACE_TEMP: [f64; 12] = [
    9.0, 9.5, 12.0, 16.0, 20.0, 24.0, 27.0, 27.5, 25.0, 20.5, 16.0, 11.5,
];
/// chl-a as a fraction of the July peak (hongfeng.md §5.1).
const CHLA_MULTIPLIER: [f64; 12] = [
    0.40, 0.35, 0.25, 0.30, 0.50, 0.85, 1.00, 0.95, 0.80, 0.60, 0.45, 0.45,
];
/// Peak (July) chl-a, mg/m³: north basin ≈ 15, south basin ≈ 25 (hongfeng.md §5.1).
const CHLA_PEAK_NORTH: f64 = 15.0;
const CHLA_PEAK_SOUTH: f64 = 25.0;
/// Storm peak turbidity increase at a river with storm response 1 and intensity 1, NTU
/// (hongfeng.md §6: up to 100–800 NTU).
const STORM_PEAK_NTU: f64 = 800.0;
/// DO saturation pressure factor at 1,240 m (water-quality.md §2.1: 0.861).
const ALTITUDE_FACTOR: f64 = 0.861;

const DAY: i64 = 86_400;
const KEY_TEMP: u64 = key_of("water_temp");
const KEY_CHLA: u64 = key_of("chl_a");

/// Season indices of an instant, each 0–1.
struct Seasons {
    /// 0 in mid-January, 1 in mid-August (from the lake temperature curve).
    summer: f64,
    /// chl-a multiplier rescaled: 0 in March, 1 in July.
    algae: f64,
    /// Rain probability rescaled: 1 in June.
    wet: f64,
    /// Thermal stratification: 0 December–March, rising April–May, 1 June–September,
    /// breaking down October–November.
    stratified: f64,
}

impl Seasons {
    fn at(c: &Clock) -> Seasons {
        let m = c.month_pos;
        let ramp = |x: f64| x.clamp(0.0, 1.0);
        Seasons {
            summer: (monthly(&LAKE_SURFACE_TEMP, m) - 9.0) / 18.5,
            algae: (monthly(&CHLA_MULTIPLIER, m) - 0.25) / 0.75,
            wet: monthly(&crate::events::RAIN_PROBABILITY, m) / 0.14,
            stratified: ramp((m - 3.0) / 2.0).min(ramp((11.0 - m) / 2.0)),
        }
    }
}

/// Diurnal wave: −1 at `h_min`, +1 at `h_max` (local hours), cosine-shaped on both sides, so
/// minimum and maximum can sit at the hours the reference gives (not 12 h apart).
fn wave(hour: f64, h_min: f64, h_max: f64) -> f64 {
    let rise = (h_max - h_min).rem_euclid(24.0);
    let x = (hour - h_min).rem_euclid(24.0);
    if x < rise {
        -(std::f64::consts::PI * x / rise).cos()
    } else {
        (std::f64::consts::PI * (x - rise) / (24.0 - rise)).cos()
    }
}

/// Dissolved-oxygen saturation at 1,240 m, mg/L (468 / (31.6 + T) × 0.861).
fn do_saturation(temp: f64) -> f64 {
    ALTITUDE_FACTOR * 468.0 / (31.6 + temp)
}

/// Log-linear interpolation through (x, y) points, y on a log scale, clamped at the ends.
fn log_interpolate(points: &[(f64, f64)], x: f64) -> f64 {
    let (first, last) = (points[0], points[points.len() - 1]);
    if x <= first.0 {
        return first.1;
    }
    for w in points.windows(2) {
        let ((x0, y0), (x1, y1)) = (w[0], w[1]);
        if x <= x1 {
            let t = (x - x0) / (x1 - x0);
            return (y0.ln() + (y1.ln() - y0.ln()) * t).exp();
        }
    }
    last.1
}

impl Simulator {
    fn slow(&self, st: &SimStation, key: u64, c: &Clock, period_days: f64) -> f64 {
        noise::slow(
            self.seed,
            st.key ^ key.rotate_left(13),
            c.unix,
            (period_days * DAY as f64) as i64,
        )
    }

    fn white(&self, st: &SimStation, key: u64, c: &Clock) -> f64 {
        noise::white(self.seed, st.key ^ key.rotate_left(29), c.unix)
    }

    /// A fixed 0–1 number per station and parameter: where in its range a river usually sits.
    fn character(&self, st: &SimStation, key: u64) -> f64 {
        unit(hash(self.seed, st.key, key, Channel::Character as u64))
    }

    /// The value before instrument artefacts: weather, season, place and environmental events.
    pub(crate) fn environment(&self, st: &SimStation, param: &SimParameter, c: &Clock) -> f64 {
        let seasons = Seasons::at(c);
        match st.profile {
            Profile::River | Profile::RiverTown => self.river(st, param, c, &seasons),
            Profile::LakeNorth | Profile::LakeSouth | Profile::Intake | Profile::DeepOutflow => {
                self.lake(st, param, c, &seasons)
            }
        }
    }

    fn lake_temperature(&self, st: &SimStation, c: &Clock, s: &Seasons) -> f64 {
        let stability = st.hints.stability;
        let basin_offset = if st.south { 0.3 } else { -0.2 } * s.summer;
        let amplitude = (0.3 + 0.4 * s.summer) * (1.0 - 0.4 * stability);
        monthly(&LAKE_SURFACE_TEMP, c.month_pos)
            + basin_offset
            + 0.4 * (1.0 - 0.5 * stability) * self.slow(st, KEY_TEMP, c, 3.0)
            + amplitude * wave(c.hour, 6.5, 15.5)
    }

    fn chla_peak(&self, st: &SimStation) -> f64 {
        if st.south {
            CHLA_PEAK_SOUTH
        } else {
            CHLA_PEAK_NORTH
        }
    }

    /// chl-a without blooms: July peak × monthly multiplier, with weather and a surface maximum
    /// in the early afternoon (buoyant cyanobacteria).
    fn chla_normal(&self, st: &SimStation, c: &Clock) -> f64 {
        let place_factor = 1.0 + 0.05 * st.hints.bloom - 0.3 * st.hints.stability;
        self.chla_peak(st)
            * monthly(&CHLA_MULTIPLIER, c.month_pos)
            * place_factor
            * (1.0 + 0.12 * self.slow(st, KEY_CHLA, c, 3.0))
            * (1.0 + 0.1 * wave(c.hour, 5.0, 13.5))
    }

    /// Bloom level at the station (0–1) and its peak chl-a.
    fn bloom(&self, st: &SimStation, c: &Clock) -> (f64, f64) {
        let mut best = (0.0, 0.0);
        if self.scenario.blooms && st.hints.bloom > 0.0 {
            let (start, end, peak) = bloom_window(self.seed, c.year, self.utc_offset_s);
            let b = window_shape(c.unix, start, end, 1.5 * DAY as f64, DAY as f64) * st.hints.bloom;
            if b > best.0 {
                best = (b, peak);
            }
        }
        for &i in &st.events {
            let e = &self.scenario.events[i];
            if e.kind != EventKind::Bloom || !e.contains(c.unix) {
                continue;
            }
            let scale = if e.station.is_some() {
                1.0
            } else {
                st.hints.bloom
            };
            let start = e.start_unix();
            let ramp = (e.duration_s as f64 / 4.0).min(DAY as f64);
            let b = window_shape(c.unix, start, start + e.duration_s, ramp, ramp) * scale;
            if b > best.0 {
                best = (b, e.intensity.unwrap_or(80.0));
            }
        }
        best
    }

    /// Autumn overturn level (0–1) at lake points, the intake and the deep outflow.
    fn overturn(&self, c: &Clock) -> f64 {
        if !self.scenario.overturn || c.month != 11 {
            return 0.0;
        }
        let (start, end) = overturn_window(self.seed, c.year, self.utc_offset_s);
        window_shape(c.unix, start, end, DAY as f64, 1.5 * DAY as f64)
    }

    /// (runoff level, first-flush level) at a river: sum over recent rains × storm response.
    fn river_storm(&self, st: &SimStation, c: &Clock) -> (f64, f64) {
        let k = st.hints.storm;
        if k <= 0.0 {
            return (0.0, 0.0);
        }
        let (mut level, mut flush) = (0.0, 0.0);
        for_each_rain(
            self.seed,
            &self.scenario,
            c,
            self.utc_offset_s,
            5,
            |rain, _| {
                let (l, f) = river_response(rain, c.unix);
                level += l;
                flush += f;
            },
        );
        (level * k, flush * k)
    }

    /// Lake inflow-zone response to recent rains × storm response.
    fn lake_storm(&self, st: &SimStation, c: &Clock) -> f64 {
        let k = st.hints.storm;
        if k <= 0.0 {
            return 0.0;
        }
        let mut level = 0.0;
        for_each_rain(
            self.seed,
            &self.scenario,
            c,
            self.utc_offset_s,
            8,
            |rain, scripted| {
                level += lake_response(rain, c.unix, scripted);
            },
        );
        level * k
    }

    /// A station-specific 0–1 number for event magnitudes.
    fn magnitude(&self, st: &SimStation, channel: Channel) -> f64 {
        unit(hash(self.seed, st.key, channel as u64, 0x4D41_474E))
    }

    fn lake(&self, st: &SimStation, param: &SimParameter, c: &Clock, s: &Seasons) -> f64 {
        use Quantity as Q;
        let q = param.quantity;
        let range = param.range;
        let variability = 1.0 - 0.5 * st.hints.stability;
        let slow = |days| variability * self.slow(st, param.key, c, days);
        let white = self.white(st, param.key, c);

        let chla_normal = self.chla_normal(st, c);
        let chl_rel = (chla_normal / self.chla_peak(st)).min(1.0);
        let (bloom, bloom_peak) = self.bloom(st, c);
        let chla = chla_normal + bloom * (bloom_peak - chla_normal).max(0.0);
        let overturn = self.overturn(c);
        let turnover = overturn * (0.5 + 0.5 * self.magnitude(st, Channel::Overturn));
        let deep = if st.profile == Profile::DeepOutflow {
            s.stratified
        } else {
            0.0
        };
        let storm = if q == Q::Turbidity || q == Q::Tp || q == Q::Sd {
            self.lake_storm(st, c)
        } else {
            0.0
        };
        let temp = self.lake_temperature(st, c, s);

        let normal = |x: f64| soft_clamp(x, range);
        match q {
            Q::Temp => {
                let surface = normal(temp + 0.05 * white);
                // R10 in summer: water drawn at depth, 14 ℃ in June warming to 20 ℃ by October.
                let deep_temp =
                    14.0 + 6.0 * ((c.month_pos - 5.0) / 5.0).clamp(0.0, 1.0) + 0.3 * slow(3.0);
                (1.0 - deep) * surface + deep * deep_temp
            }
            Q::Ph => {
                let width = range.1 - range.0;
                let diurnal = (0.05 + 0.01 * chla_normal) * (1.0 - 0.4 * st.hints.stability);
                let base = range.0 + 0.2 * width + 0.45 * width * chl_rel + 0.05 * slow(4.0);
                let v = normal(base + diurnal * wave(c.hour, 6.5, 16.0) + 0.02 * white);
                let in_bloom = 9.3 + 0.25 * wave(c.hour, 6.5, 16.0) + 0.02 * white;
                (1.0 - bloom) * v + bloom * in_bloom.max(v)
                    - overturn * (0.3 + 0.2 * self.magnitude(st, Channel::Character))
            }
            Q::Do => {
                let diurnal = (0.3 + 0.04 * chla_normal) * (1.0 - 0.4 * st.hints.stability);
                let base = do_saturation(temp) * (0.95 + 0.08 * chl_rel) + 0.15 * slow(3.0);
                let v = normal(base + diurnal * wave(c.hour, 6.5, 16.0) + 0.05 * white);
                // Bloom: afternoon 12–14 mg/L, dawn 4–5 mg/L.
                let in_bloom = 8.75 + 4.25 * wave(c.hour, 6.5, 16.0) + 0.05 * white;
                let deep_do = 4.5 + 1.2 * slow(5.0);
                let v = (1.0 - bloom) * v + bloom * in_bloom;
                (1.0 - deep) * v + deep * deep_do
                    - overturn * (1.0 + 2.0 * self.magnitude(st, Channel::Bloom))
            }
            Q::Conductivity => {
                let p = 0.5 + 0.15 * (1.0 - s.wet) - 0.1 * s.wet + 0.2 * slow(5.0);
                normal(place(q, range, p) + 2.0 * white)
            }
            Q::Turbidity => {
                let p = 0.3 + 0.25 * s.wet + 0.2 * slow(2.0) + 0.1 * chl_rel;
                let v = normal(place(q, range, p) * (1.0 + 0.05 * white));
                v * (1.0 + 3.0 * storm) * (1.0 + 0.7 * turnover) * (1.0 + 0.5 * bloom)
            }
            Q::CodMn => {
                let p = 0.3 + 0.4 * s.algae + 0.12 * slow(4.0);
                let v = normal(place(q, range, p) * (1.0 + 0.04 * white));
                let in_bloom = 4.0 + 0.5 * ((bloom_peak - 40.0) / 80.0).clamp(0.0, 1.0);
                v + bloom * (in_bloom - v).max(0.0)
            }
            Q::Nh3n => {
                let p = 0.45 - 0.2 * s.algae + 0.15 * slow(4.0);
                let v = normal(place(q, range, p) * (1.0 + 0.04 * white));
                let deep_nh3n = 0.35 + 0.12 * slow(5.0);
                (1.0 - deep) * v
                    + deep * deep_nh3n
                    + overturn * (0.2 + 0.3 * self.magnitude(st, Channel::Spike))
            }
            Q::Tp => {
                let p = 0.2 + 0.45 * s.algae + 0.15 * slow(4.0) + 0.1 * st.hints.storm;
                let v = normal(place(q, range, p) * (1.0 + 0.04 * white));
                v + 0.015 * storm
                    + 0.01 * bloom
                    + overturn * (0.01 + 0.02 * self.magnitude(st, Channel::Fault))
            }
            Q::Tn => {
                let p = 0.75 - 0.3 * s.algae + 0.12 * slow(4.0);
                normal(place(q, range, p) * (1.0 + 0.04 * white))
            }
            Q::Chla => {
                let v = normal(chla_normal * (1.0 + 0.05 * white));
                v + bloom * (bloom_peak - v).max(0.0)
            }
            Q::AlgalDensity => {
                // Cells follow chl-a on a log scale through the reference's ranges and blooms.
                let points: [(f64, f64); 4] = if st.south {
                    [(3.0, 5e5), (30.0, 8e6), (40.0, 2e7), (120.0, 2e8)]
                } else {
                    [(2.0, 2e5), (18.0, 3e6), (40.0, 2e7), (120.0, 2e8)]
                };
                let v = log_interpolate(&points, chla) * (1.0 + 0.1 * white);
                if bloom > 0.0 { v } else { normal(v) }
            }
            Q::Sd => {
                let chl_range = normal_range(st.profile, Q::Chla).unwrap_or((2.0, 18.0));
                let t = ((chla_normal - chl_range.0) / (chl_range.1 - chl_range.0)).clamp(0.0, 1.0);
                let v = normal((range.1 - (range.1 - range.0) * t) * (1.0 + 0.03 * white));
                let in_bloom = 1.0 - 0.5 * ((bloom_peak - 40.0) / 80.0).clamp(0.0, 1.0);
                (1.0 - bloom) * v + bloom * in_bloom.min(v) - 0.3 * storm.min(1.0) * v
            }
            Q::Fe => {
                let p = 0.4 + 0.2 * s.wet + 0.2 * slow(10.0);
                normal(place(q, range, p) * (1.0 + 0.05 * white)) + 0.1 * overturn
            }
            Q::Mn => {
                let p = 0.4 + 0.25 * slow(10.0);
                // Mn up to 0.15 mg/L at the intake during the overturn (hongfeng.md §4.2).
                normal(place(q, range, p) * (1.0 + 0.05 * white)) + 0.1 * overturn
            }
            Q::FecalColiform => {
                let p = 0.4 + 0.2 * s.wet + 0.15 * slow(5.0);
                normal(place(q, range, p) * (1.0 + 0.15 * white))
            }
        }
    }

    fn river(&self, st: &SimStation, param: &SimParameter, c: &Clock, s: &Seasons) -> f64 {
        use Quantity as Q;
        let q = param.quantity;
        let range = param.range;
        let slow = |days| self.slow(st, param.key, c, days);
        let white = self.white(st, param.key, c);
        // Where this river usually sits in the range (0.25–0.6 of it).
        let character = 0.25 + 0.35 * self.character(st, param.key);
        let (runoff, flush) = self.river_storm(st, c);
        let level = runoff.min(1.5);
        let pollution = self.pollution(st, c);
        let normal = |x: f64| soft_clamp(x, range);

        // Temperature follows the air: 8 ℃ in January to 23.5 ℃ in August, larger diurnal range.
        let temp = 8.0
            + 15.5 * s.summer
            + 0.6 * self.slow(st, KEY_TEMP, c, 3.0)
            + (0.5 + 1.0 * s.summer) * wave(c.hour, 6.5, 15.5);
        match q {
            Q::Temp => normal(temp + 0.05 * white) - 1.5 * level.min(1.0),
            Q::Ph => {
                let p = character + 0.15 * slow(4.0) + 0.1 * wave(c.hour, 6.5, 16.0);
                normal(place(q, range, p) + 0.02 * white) - 0.2 * level.min(1.0)
            }
            Q::Do => {
                let fraction = if st.profile == Profile::RiverTown {
                    0.78
                } else {
                    0.97
                };
                let base = do_saturation(temp) * fraction
                    + 0.2 * slow(3.0)
                    + 0.5 * wave(c.hour, 6.5, 16.0);
                normal(base + 0.05 * white) - 1.2 * level.min(1.0) - 2.0 * pollution.0
            }
            Q::Conductivity => {
                let p = character + 0.15 * (1.0 - s.wet) + 0.1 * slow(5.0);
                normal(place(q, range, p) + 2.0 * white) * (1.0 - 0.3 * level.min(1.0))
            }
            Q::Turbidity => {
                let p = 0.6 * character + 0.25 * s.wet + 0.15 * slow(2.0);
                normal(place(q, range, p) * (1.0 + 0.05 * white)) + STORM_PEAK_NTU * runoff
            }
            Q::CodMn => {
                let p = character + 0.15 * s.wet + 0.1 * slow(4.0);
                normal(place(q, range, p) * (1.0 + 0.04 * white)) + 4.0 * level.min(1.0)
            }
            Q::Nh3n => {
                let p = character + 0.1 * (1.0 - s.wet) + 0.12 * slow(4.0);
                let v = normal(place(q, range, p) * (1.0 + 0.04 * white))
                    * (1.0 + 1.5 * flush.min(1.3));
                v + pollution.0 * (pollution.1 - v).max(0.0)
            }
            Q::Tp => {
                let p = character + 0.15 * s.wet + 0.1 * slow(4.0);
                // TP ≈ base + 0.001–0.002 × ΔNTU (hongfeng.md §6).
                let per_ntu = 0.001 + 0.001 * self.magnitude(st, Channel::Rain);
                normal(place(q, range, p) * (1.0 + 0.04 * white))
                    + per_ntu * STORM_PEAK_NTU * runoff
            }
            Q::Tn => {
                let p = character + 0.25 * s.wet + 0.1 * slow(4.0);
                normal(place(q, range, p) * (1.0 + 0.04 * white)) * (1.0 + 0.5 * level.min(1.0))
            }
            Q::FecalColiform => {
                let p = character + 0.2 * s.wet + 0.15 * slow(5.0);
                normal(place(q, range, p) * (1.0 + 0.15 * white)) * (1.0 + 4.0 * level.min(1.0))
            }
            // Not measured at rivers in the demo network; fall back to a plain range value.
            _ => normal(place(q, range, 0.5 + 0.2 * slow(4.0))),
        }
    }

    /// (level 0–1, NH3-N peak mg/L) of a pollution incident at a river station.
    fn pollution(&self, st: &SimStation, c: &Clock) -> (f64, f64) {
        let mut best = (0.0, 0.0);
        for &i in &st.events {
            let e = &self.scenario.events[i];
            if e.kind != EventKind::PollutionIncident || !e.contains(c.unix) {
                continue;
            }
            let start = e.start_unix();
            let level = window_shape(c.unix, start, start + e.duration_s, 3600.0, 3.0 * 3600.0);
            if level > best.0 {
                best = (level, e.intensity.unwrap_or(5.0));
            }
        }
        best
    }
}
