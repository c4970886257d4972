//! Recurrent environmental events (rain and runoff, summer bloom, autumn overturn, routine
//! maintenance), drawn from the seed and the calendar so they happen every year without a
//! script, plus the environmental part of scripted events.

use crate::clock::{Clock, days_from_civil, monthly};
use crate::noise::{Channel, hash, unit};
use crate::scenario::{EventKind, Scenario};

/// Rain-event probability per day, January–December (hongfeng.md §5.1).
pub(crate) const RAIN_PROBABILITY: [f64; 12] = [
    0.02, 0.02, 0.04, 0.06, 0.10, 0.14, 0.12, 0.10, 0.08, 0.06, 0.03, 0.02,
];

const HOUR: f64 = 3600.0;
const DAY: i64 = 86_400;

/// One rain event over the network.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Rain {
    pub start: i64,
    /// 0.15–1.0, × 1.3 for the rare extreme storm (turbidity beyond the 1000 NTU range).
    pub intensity: f64,
    /// Per-event randomness for lags and recession times.
    pub shape: u64,
}

/// Calls `f` for each rain event that began in the `days` local days up to and including
/// `clock`'s day (recurrent, when storms are on) and for each scripted storm started in the last
/// `days` × 24 h. The flag tells whether the rain is scripted.
pub(crate) fn for_each_rain(
    seed: u64,
    scenario: &Scenario,
    clock: &Clock,
    utc_offset_s: i64,
    days: i64,
    mut f: impl FnMut(&Rain, bool),
) {
    if scenario.storms {
        for day in (clock.day - days + 1)..=clock.day {
            let h = hash(seed, Channel::Rain as u64, day as u64, 0);
            let day_clock = Clock::new(day * DAY + DAY / 2 - utc_offset_s, utc_offset_s);
            if unit(h) >= monthly(&RAIN_PROBABILITY, day_clock.month_pos) {
                continue;
            }
            let hour = unit(hash(seed, Channel::RainHour as u64, day as u64, 0));
            let hi = hash(seed, Channel::RainIntensity as u64, day as u64, 0);
            let mut intensity = 0.15 + 0.85 * unit(hi);
            if unit(mix_again(hi)) > 0.93 {
                intensity *= 1.3;
            }
            let rain = Rain {
                start: day * DAY - utc_offset_s + (hour * DAY as f64) as i64,
                intensity,
                shape: hi,
            };
            if rain.start <= clock.unix {
                f(&rain, false);
            }
        }
    }
    let window_start = clock.unix - days * DAY;
    for e in scenario
        .events
        .iter()
        .filter(|e| e.kind == EventKind::Storm)
    {
        let start = e.start_unix();
        if (window_start..=clock.unix).contains(&start) {
            let rain = Rain {
                start,
                intensity: e.intensity.unwrap_or(1.0).clamp(0.0, 2.0),
                shape: crate::noise::mix(start as u64),
            };
            f(&rain, true);
        }
    }
}

fn mix_again(h: u64) -> u64 {
    crate::noise::mix(h ^ 0xA5A5_A5A5)
}

fn smoothstep(x: f64) -> f64 {
    let x = x.clamp(0.0, 1.0);
    x * x * (3.0 - 2.0 * x)
}

/// River runoff response to one rain, 0–1 × intensity: rises 1–3 h after the rain starts,
/// peaks 3–8 h after it, recedes with τ = 12–24 h (hongfeng.md §6).
pub(crate) fn river_response(rain: &Rain, t: i64) -> (f64, f64) {
    let tau_h = (t - rain.start) as f64 / HOUR;
    let u = |k: u64| unit(hash(rain.shape, k, 0, 0));
    let lag = 1.0 + 2.0 * u(1);
    let peak = (lag + 2.0 + 3.0 * u(2)).max(3.0);
    let recession = 12.0 + 12.0 * u(3);
    let level = if tau_h < lag {
        0.0
    } else if tau_h < peak {
        smoothstep((tau_h - lag) / (peak - lag))
    } else {
        (-(tau_h - peak) / recession).exp()
    };
    // First flush of NH3-N: strongest right after the rise starts, gone within 6–12 h.
    let flush = if tau_h < lag {
        0.0
    } else {
        (-(tau_h - lag) / (3.0 + 3.0 * u(4))).exp()
    };
    (level * rain.intensity, flush * rain.intensity)
}

/// Lake inflow-zone response: 1–3 days after the rain (36 h for scripted storms), rising over
/// 12 h, receding with τ = 36 h.
pub(crate) fn lake_response(rain: &Rain, t: i64, scripted: bool) -> f64 {
    let tau_h = (t - rain.start) as f64 / HOUR;
    let lag = if scripted {
        36.0
    } else {
        24.0 + 48.0 * unit(hash(rain.shape, Channel::LakeLag as u64, 0, 0))
    };
    let level = if tau_h < lag {
        0.0
    } else if tau_h < lag + 12.0 {
        smoothstep((tau_h - lag) / 12.0)
    } else {
        (-(tau_h - lag - 12.0) / 36.0).exp()
    };
    level * rain.intensity
}

/// A window with a smooth ramp up and down: 0 outside, 1 on the plateau.
pub(crate) fn window_shape(t: i64, start: i64, end: i64, ramp_up_s: f64, ramp_down_s: f64) -> f64 {
    if t < start || t >= end {
        return 0.0;
    }
    let up = smoothstep((t - start) as f64 / ramp_up_s);
    let down = smoothstep((end - t) as f64 / ramp_down_s);
    up.min(down)
}

/// This year's summer bloom window (unix seconds) and its peak chl-a: it starts between
/// 10 July and 23 August and lasts 3–14 days, so it lies within July–September.
pub(crate) fn bloom_window(seed: u64, year: i32, utc_offset_s: i64) -> (i64, i64, f64) {
    let h = hash(seed, Channel::Bloom as u64, year as u64, 0);
    let start_day = days_from_civil(year, 7, 10) + (h % 45) as i64;
    let days = 3 + (mix_again(h) % 12) as i64;
    let peak = 40.0 + 80.0 * unit(crate::noise::mix(h));
    let start = start_day * DAY - utc_offset_s;
    (start, start + days * DAY, peak)
}

/// This year's autumn overturn window: starts 3–17 November, lasts 3–10 days.
pub(crate) fn overturn_window(seed: u64, year: i32, utc_offset_s: i64) -> (i64, i64) {
    let h = hash(seed, Channel::Overturn as u64, year as u64, 0);
    let start_day = days_from_civil(year, 11, 3) + (h % 15) as i64;
    let days = 3 + (mix_again(h) % 8) as i64;
    let start = start_day * DAY - utc_offset_s;
    (start, start + days * DAY)
}

/// Weekly calibration: one hour, 10:00–11:00 local, on a weekday (Mon–Fri) fixed per station.
pub(crate) fn in_calibration(seed: u64, station_key: u64, clock: &Clock) -> bool {
    let weekday = (hash(seed, Channel::Calibration as u64, station_key, 0) % 5) as u32;
    clock.weekday == weekday && (10.0..11.0).contains(&clock.hour)
}

/// Monthly maintenance: 2–6 h starting 09:00–12:00 local on a day 1–28 drawn per month.
pub(crate) fn in_maintenance(seed: u64, station_key: u64, clock: &Clock) -> bool {
    let month_index = clock.year as u64 * 12 + u64::from(clock.month);
    let h = hash(seed, Channel::Maintenance as u64, station_key, month_index);
    let day = 1 + (h % 28) as u32;
    let start = 9.0 + (mix_again(h) % 4) as f64;
    let hours = 2.0 + (crate::noise::mix(h) % 5) as f64;
    clock.day_of_month == day && clock.hour >= start && clock.hour < start + hours
}
