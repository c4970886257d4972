//! The generator reproduces the patterns of hongfeng.md §5 and the events of §6, and is a pure
//! function of (seed, station, parameter, instant).

use chrono::{DateTime, Duration, TimeZone, Utc};
use network::{Network, StationKind, parse_network};
use sim::{DataFlag, EventKind, Scenario, Simulator};

const HONGFENG: &str = include_str!("../../../config/hongfeng.toml");

fn network() -> Network {
    parse_network(HONGFENG, "config/hongfeng.toml").unwrap_or_else(|e| panic!("{e}"))
}

/// Beijing local time → UTC.
fn local(y: i32, m: u32, d: u32, h: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, 0, 0)
        .single()
        .expect("valid date")
        - Duration::hours(8)
}

fn value(sim: &Simulator, station: &str, parameter: &str, at: DateTime<Utc>) -> f64 {
    sim.sample(station, parameter, at).expect("simulated").value
}

fn mean(values: impl Iterator<Item = f64>) -> f64 {
    let (sum, n) = values.fold((0.0, 0usize), |(s, n), v| (s + v, n + 1));
    sum / n as f64
}

/// Hourly instants of one local month.
fn month_hours(y: i32, m: u32) -> impl Iterator<Item = DateTime<Utc>> {
    let start = local(y, m, 1, 0);
    (0..28 * 24).map(move |h| start + Duration::hours(h))
}

#[test]
fn same_seed_same_values_in_any_order() {
    let net = network();
    let a = Simulator::new(&net, 42);
    let b = Simulator::new(&net, 42);
    let times: Vec<_> = (0..50)
        .map(|i| local(2026, 7, 1, 0) + Duration::minutes(137 * i))
        .collect();
    let forward: Vec<_> = times.iter().flat_map(|&t| a.sample_all(t)).collect();
    let mut backward: Vec<_> = times.iter().rev().flat_map(|&t| b.sample_all(t)).collect();
    let per_time = forward.len() / times.len();
    // Undo the reversal of the time order (each time's block stays in network order).
    backward = backward.chunks(per_time).rev().flatten().cloned().collect();
    assert_eq!(forward, backward);
}

#[test]
fn different_seed_different_values() {
    let net = network();
    let a = Simulator::new(&net, 1);
    let b = Simulator::new(&net, 2);
    let t = local(2026, 5, 20, 9);
    let differing = a
        .sample_all(t)
        .iter()
        .zip(b.sample_all(t))
        .filter(|(x, y)| x.2.value != y.2.value)
        .count();
    assert!(
        differing > a.sample_all(t).len() * 3 / 4,
        "only {differing} differ"
    );
}

#[test]
fn every_station_parameter_of_the_demo_is_simulated() {
    let net = network();
    let sim = Simulator::new(&net, 7);
    for st in sim.stations() {
        assert!(st.skipped.is_empty(), "{}: {:?}", st.code, st.skipped);
    }
    assert_eq!(sim.stations().len(), 18);
    assert!(sim.sample("R01", "chl_a", Utc::now()).is_none());
    assert!(sim.sample("X99", "tp", Utc::now()).is_none());
}

#[test]
fn quiet_values_stay_inside_the_reference_ranges() {
    let net = network();
    let sim = Simulator::with_scenario(&net, 3, Scenario::quiet());
    let start = local(2026, 1, 1, 0);
    // Every 7 hours for a year visits every hour of the day.
    for k in 0..(365 * 24 / 7) {
        let unix = (start + Duration::hours(7 * k) + Duration::minutes(5)).timestamp();
        for (s, st) in sim.stations().iter().enumerate() {
            for (p, param) in st.parameters.iter().enumerate() {
                let r = sim.sample_at(s, p, unix);
                let (lo, hi) = sim.normal_range(s, p).expect("range");
                assert!(
                    r.value >= lo && r.value <= hi,
                    "{} {} = {} outside {lo}–{hi} at {unix}",
                    st.code,
                    param.code,
                    r.value
                );
                assert_eq!(r.flag, DataFlag::N);
                assert!(!r.offline);
            }
        }
    }
}

#[test]
fn chla_peaks_in_july_and_south_is_richer() {
    let net = network();
    let sim = Simulator::with_scenario(&net, 11, Scenario::quiet());
    let lake = |basin: &str| -> Vec<String> {
        net.stations_of(StationKind::Lake)
            .filter(|s| s.basin == basin)
            .map(|s| s.code.clone())
            .collect()
    };
    let (north, south) = (lake("north"), lake("south"));
    let basin_mean = |codes: &[String], parameter: &str, m: u32| {
        mean(
            codes
                .iter()
                .flat_map(|c| month_hours(2026, m).map(|t| value(&sim, c, parameter, t))),
        )
    };
    for codes in [&north, &south] {
        let july = basin_mean(codes, "chl_a", 7);
        let january = basin_mean(codes, "chl_a", 1);
        assert!(july > 1.8 * january, "July {july} vs January {january}");
        // July is the peak month.
        for m in [3, 5, 6, 8, 9, 10, 12] {
            assert!(july > basin_mean(codes, "chl_a", m), "month {m}");
        }
    }
    for m in [1, 7] {
        for parameter in ["chl_a", "tp", "tn", "turbidity", "cod_mn"] {
            let (n, s) = (
                basin_mean(&north, parameter, m),
                basin_mean(&south, parameter, m),
            );
            assert!(s > n, "{parameter} in month {m}: south {s} <= north {n}");
        }
    }
    // Published order: summer > autumn > winter > spring (hongfeng.md §1).
    let season = |months: [u32; 3]| mean(months.iter().map(|&m| basin_mean(&south, "chl_a", m)));
    let (spring, summer, autumn, winter) = (
        season([3, 4, 5]),
        season([6, 7, 8]),
        season([9, 10, 11]),
        season([12, 1, 2]),
    );
    assert!(
        summer > autumn && autumn > winter && winter > spring,
        "{summer} {autumn} {winter} {spring}"
    );
}

#[test]
fn do_and_temperature_peak_in_the_afternoon() {
    let net = network();
    let sim = Simulator::with_scenario(&net, 5, Scenario::quiet());
    for station in ["L02", "L05", "W01", "R03"] {
        for day in [5, 12, 19, 26] {
            let hour_of = |parameter: &str, max: bool| {
                let hours = (0..24 * 6).map(|i| local(2026, 6, day, 0) + Duration::minutes(10 * i));
                let mut best = (f64::NAN, 0.0);
                for t in hours {
                    let v = value(&sim, station, parameter, t);
                    let hour =
                        ((t + Duration::hours(8)).timestamp().rem_euclid(86_400)) as f64 / 3600.0;
                    if best.0.is_nan() || (max && v > best.0) || (!max && v < best.0) {
                        best = (v, hour);
                    }
                }
                best.1
            };
            let do_max = hour_of("do", true);
            assert!(
                (13.0..=18.5).contains(&do_max),
                "{station} day {day}: DO max at {do_max} h"
            );
            let do_min = hour_of("do", false);
            assert!(
                (4.0..=9.0).contains(&do_min),
                "{station} day {day}: DO min at {do_min} h"
            );
            let temp_max = hour_of("water_temp", true);
            assert!(
                (13.0..=18.0).contains(&temp_max),
                "{station} day {day}: temperature max at {temp_max} h"
            );
        }
    }
}

#[test]
fn summer_bloom_happens_once_in_july_to_september_at_the_bay() {
    let net = network();
    for seed in [1, 2, 3] {
        let sim = Simulator::new(&net, seed);
        let mut bloom_months = std::collections::BTreeSet::new();
        let start = local(2026, 1, 1, 14);
        for d in 0..365 {
            let t = start + Duration::days(d);
            let chla = value(&sim, "L06", "chl_a", t);
            if chla >= 40.0 {
                bloom_months.insert((t + Duration::hours(8)).format("%m").to_string());
                let ph = value(&sim, "L06", "ph", t);
                assert!(ph > 8.8, "pH {ph} during the bloom");
            }
        }
        assert!(!bloom_months.is_empty(), "seed {seed}: no bloom");
        assert!(
            bloom_months
                .iter()
                .all(|m| ["07", "08", "09"].contains(&m.as_str())),
            "{bloom_months:?}"
        );
    }
}

#[test]
fn autumn_overturn_raises_nh3n_and_lowers_do_in_november() {
    let net = network();
    let sim = Simulator::new(&net, 9);
    let max_of = |m: u32, p: &str| {
        month_hours(2026, m)
            .map(|t| value(&sim, "L01", p, t))
            .fold(f64::MIN, f64::max)
    };
    let min_of = |m: u32, p: &str| {
        month_hours(2026, m)
            .map(|t| value(&sim, "L01", p, t))
            .fold(f64::MAX, f64::min)
    };
    assert!(max_of(11, "nh3_n") > max_of(10, "nh3_n") + 0.1);
    assert!(max_of(11, "nh3_n") > 0.25, "above the normal north range");
    assert!(min_of(11, "do") < min_of(12, "do") - 0.8);
    let mn_nov = month_hours(2026, 11)
        .map(|t| value(&sim, "W01", "mn", t))
        .fold(f64::MIN, f64::max);
    assert!(
        mn_nov > 0.1,
        "Mn at the intake exceeds Table 2 during the overturn: {mn_nov}"
    );
}

#[test]
fn rain_storms_raise_river_turbidity_and_tp() {
    let net = network();
    let sim = Simulator::new(&net, 4);
    let start = local(2026, 6, 1, 0);
    let hours = (0..30 * 24).map(|h| start + Duration::hours(h));
    let peak = hours
        .clone()
        .map(|t| value(&sim, "R01", "turbidity", t))
        .fold(0.0, f64::max);
    assert!(peak > 100.0, "June storms at R01: peak {peak} NTU");
    let tp_peak = hours
        .map(|t| value(&sim, "R01", "tp", t))
        .fold(0.0, f64::max);
    assert!(tp_peak > 0.3, "TP storm peak {tp_peak}");
}

#[test]
fn scripted_demo_events_occur_in_their_windows() {
    let net = network();
    let anchor = local(2026, 3, 16, 0);
    let demo = Scenario::demo(anchor);
    let sim = Simulator::with_scenario(
        &net,
        8,
        Scenario {
            events: demo.events.clone(),
            ..Scenario::quiet()
        },
    );
    let plain = Simulator::with_scenario(&net, 8, Scenario::quiet());
    // The same scenario without one kind of event, to isolate that event's effect.
    let without = |kind: EventKind| {
        let events = demo
            .events
            .iter()
            .filter(|e| e.kind != kind)
            .cloned()
            .collect();
        Simulator::with_scenario(
            &net,
            8,
            Scenario {
                events,
                ..Scenario::quiet()
            },
        )
    };
    let at = |h: i64| anchor + Duration::hours(h);
    let reading = |s: &Simulator, st: &str, p: &str, t| s.sample(st, p, t).expect("simulated");

    // Offline R05 for 6 h from anchor + 3 h; values still produced for a backfill.
    assert!(!reading(&sim, "R05", "tp", at(3) - Duration::seconds(1)).offline);
    assert!(reading(&sim, "R05", "tp", at(3)).offline);
    assert!(reading(&sim, "R05", "water_temp", at(8) + Duration::minutes(59)).offline);
    assert!(!reading(&sim, "R05", "tp", at(9)).offline);

    // Pollution incident at R09: NH3-N 3–8 mg/L, DO −2.
    assert!(reading(&sim, "R09", "nh3_n", at(1)).value < 1.6);
    let nh3n = reading(&sim, "R09", "nh3_n", at(8)).value;
    assert!((3.0..=8.0).contains(&nh3n), "{nh3n}");
    let no_incident = without(EventKind::PollutionIncident);
    let do_drop =
        reading(&no_incident, "R09", "do", at(8)).value - reading(&sim, "R09", "do", at(8)).value;
    assert!((do_drop - 2.0).abs() < 0.05, "{do_drop}");

    // Instrument stopped at R08: F on every automatic parameter.
    for p in ["water_temp", "tp", "turbidity"] {
        assert_eq!(reading(&sim, "R08", p, at(9)).flag, DataFlag::F);
        assert_eq!(reading(&sim, "R08", p, at(7)).flag, DataFlag::N);
    }
    assert_eq!(
        reading(&sim, "R08", "fecal_coliform", at(9)).flag,
        DataFlag::N,
        "manual data is not stopped"
    );

    // Fault at R06 DO: D, nonsense values; other parameters unaffected.
    assert_eq!(reading(&sim, "R06", "do", at(6)).flag, DataFlag::D);
    assert_eq!(reading(&sim, "R06", "ph", at(6)).flag, DataFlag::N);

    // Communication fault at L04 TP: B.
    assert_eq!(reading(&sim, "L04", "tp", at(2)).flag, DataFlag::B);

    // Flatline at L03 pH: one value for 24 h, flag N, while the plain series moves.
    let flat: Vec<f64> = (0..24)
        .map(|h| reading(&sim, "L03", "ph", at(h - 6)).value)
        .collect();
    assert!(flat.iter().all(|&v| v == flat[0]));
    assert!(reading(&sim, "L03", "ph", at(0)).flag == DataFlag::N);
    let moving: Vec<f64> = (0..24)
        .map(|h| reading(&plain, "L03", "ph", at(h - 6)).value)
        .collect();
    assert!(moving.iter().any(|&v| v != moving[0]));

    // Drift at L02 DO: −0.5 %/day since anchor − 21 days.
    let drifted = reading(&sim, "L02", "do", at(0)).value;
    let clean = reading(&plain, "L02", "do", at(0)).value;
    assert!(
        (drifted / clean - (1.0 - 0.005 * 21.0)).abs() < 0.01,
        "{drifted} vs {clean}"
    );
    assert_eq!(
        reading(&sim, "L02", "do", at(7 * 24 + 1)).value,
        reading(&plain, "L02", "do", at(7 * 24 + 1)).value,
        "reset after the window"
    );

    // Spikes at R07 conductivity: some samples × 5–10 or negative, flagged N.
    let no_spikes = without(EventKind::Spikes);
    let spikes = (0..24 * 12)
        .map(|i| at(-12) + Duration::minutes(5 * i))
        .filter(|&t| {
            let (s, p) = (
                reading(&sim, "R07", "conductivity", t),
                reading(&no_spikes, "R07", "conductivity", t),
            );
            s.value != p.value && s.flag == DataFlag::N
        })
        .count();
    assert!((5..40).contains(&spikes), "{spikes} spikes");

    // Storm at anchor − 30 h: R01 turbidity peaks within hours, L07 follows ~36 h later.
    let r01_peak = (0..24)
        .map(|h| reading(&sim, "R01", "turbidity", at(-30 + h)).value)
        .fold(0.0, f64::max);
    assert!(r01_peak > 500.0, "{r01_peak}");
    let l07 = reading(&sim, "L07", "turbidity", at(20)).value;
    let l07_plain = reading(&plain, "L07", "turbidity", at(20)).value;
    assert!(l07 > 2.0 * l07_plain, "{l07} vs {l07_plain}");
}

#[test]
fn turbidity_beyond_the_instrument_range_is_flagged_t() {
    let net = network();
    let t0 = local(2026, 2, 10, 0);
    let storm = sim::ScriptedEvent {
        kind: EventKind::Storm,
        station: None,
        parameter: None,
        start: t0,
        duration_s: 3600,
        intensity: Some(1.3),
    };
    let sim = Simulator::with_scenario(
        &net,
        6,
        Scenario {
            events: vec![storm],
            ..Scenario::quiet()
        },
    );
    let flags: Vec<DataFlag> = (0..24)
        .map(|h| {
            sim.sample("R01", "turbidity", t0 + Duration::hours(h))
                .expect("r")
                .flag
        })
        .collect();
    assert!(flags.contains(&DataFlag::T));
    assert_eq!(flags[0], DataFlag::N);
}

#[test]
fn routine_calibration_and_maintenance_flags() {
    let net = network();
    let sim = Simulator::new(&net, 12);
    let start = local(2026, 3, 1, 0);
    let mut calibration_hours = std::collections::BTreeSet::new();
    let mut maintenance_days = std::collections::BTreeSet::new();
    for i in 0..(31 * 24 * 4) {
        let t = start + Duration::minutes(15 * i);
        let r = sim.sample("L05", "water_temp", t).expect("r");
        let local_time = t + Duration::hours(8);
        match r.flag {
            DataFlag::C => {
                calibration_hours.insert(local_time.format("%H").to_string());
            }
            DataFlag::M => {
                maintenance_days.insert(local_time.format("%d").to_string());
            }
            _ => {}
        }
    }
    assert_eq!(calibration_hours.into_iter().collect::<Vec<_>>(), ["10"]);
    assert_eq!(maintenance_days.len(), 1, "one maintenance day in March");
}

#[test]
fn many_samples_are_cheap() {
    let net = network();
    let sim = Simulator::new(&net, 1);
    let start = local(2026, 7, 1, 0).timestamp();
    let mut checksum = 0.0;
    let mut n = 0;
    for k in 0..1000 {
        for (s, st) in sim.stations().iter().enumerate() {
            for p in 0..st.parameters.len() {
                checksum += sim.sample_at(s, p, start + 300 * k).value;
                n += 1;
            }
        }
    }
    assert!(n > 100_000 && checksum.is_finite());
}

#[test]
fn calm_instruments_do_not_look_stuck_to_qc() {
    // QC calls an instrument stuck when a probe repeats one value for ≥ 6 h, or an analyser for
    // ≥ 6 cycles (water-quality.md §13.4). Quiet simulated data must never look like that, or the
    // demo would be full of false sensor-fault alerts.
    let net = network();
    let sim = Simulator::with_scenario(&net, 7, Scenario::quiet());
    let start = local(2026, 11, 20, 0).timestamp();
    for (si, st) in sim.stations().iter().enumerate() {
        for (pi, p) in st.parameters.iter().enumerate() {
            let (step, limit) = match p.method {
                network::Method::Probe => (300, 72),
                network::Method::Analyser => (4 * 3600, 6),
                network::Method::Manual => continue,
            };
            let mut run = 1;
            let mut previous = f64::NAN;
            for i in 0..(3 * 86_400 / step) {
                let v = sim.sample_at(si, pi, start + i * step).value;
                run = if v == previous { run + 1 } else { 1 };
                previous = v;
                assert!(
                    run < limit,
                    "{} {} repeats {v} {run} times",
                    st.code,
                    p.code
                );
            }
        }
    }
}
