//! Each rule on synthetic series: duration, hysteresis, clearing, severities.

use alerts::rules::{
    Evaluator, OfflineSettings, Reading, RuleSettings, StreamInfo, TargetLimit, Verdict,
    exceedance_severity, project,
};
use alerts::{RuleKind, SECOND, Severity};
use serde_json::json;
use wq::{DataFlag, WaterClass, WaterType};

const MIN: i64 = 60 * SECOND;
const HOUR: i64 = 60 * MIN;
const T0: i64 = 1_795_000_000 * SECOND;

fn stream(
    station: &str,
    parameter: &str,
    kind: &str,
    interval_s: i64,
    target: WaterClass,
) -> StreamInfo {
    StreamInfo {
        datastream_id: 1,
        station: station.into(),
        parameter: parameter.into(),
        data_kind: kind.into(),
        interval_s: Some(interval_s),
        water_type: WaterType::Lake,
        target_class: Some(target),
        drinking_water: false,
    }
}

fn reading(t: i64, v: f64) -> Reading {
    Reading {
        t,
        value: Some(v),
        flag: DataFlag::N,
        censored: false,
    }
}

/// Feeds values `step` apart; returns (index, verdict) for every verdict of `rule`.
fn run(
    ev: &mut Evaluator,
    info: &StreamInfo,
    step: i64,
    values: &[f64],
    rule: RuleKind,
) -> Vec<(usize, Verdict)> {
    let mut out = Vec::new();
    for (i, &v) in values.iter().enumerate() {
        let t = T0 + i as i64 * step;
        for verdict in ev.observe(info, &reading(t, v), t) {
            if verdict.key().0 == rule {
                out.push((i, verdict));
            }
        }
    }
    out
}

fn kinds(v: &[(usize, Verdict)]) -> Vec<(usize, &'static str)> {
    v.iter()
        .map(|(i, v)| {
            (
                *i,
                if matches!(v, Verdict::Trigger(_)) {
                    "trigger"
                } else {
                    "resolve"
                },
            )
        })
        .collect()
}

fn only(rule: RuleKind) -> RuleSettings {
    let mut s = RuleSettings {
        threshold_data_kinds: vec!["hourly".into(), "realtime".into()],
        ..Default::default()
    };
    s.exceedance.enabled = rule == RuleKind::Exceedance;
    s.trend.enabled = rule == RuleKind::Trend;
    s.sensor_fault.enabled = rule == RuleKind::SensorFault;
    s.bloom.enabled = rule == RuleKind::Bloom;
    s.offline.enabled = rule == RuleKind::Offline;
    s
}

#[test]
fn exceedance_needs_duration_and_clears_with_hysteresis() {
    // NH3-N, lake, target III: limit 1.0 mg/L; hysteresis 5 % → clears at ≤ 0.95.
    let info = stream("L01", "nh3_n", "realtime", 300, WaterClass::III);
    // 5-min values; 15 min raise = 3 values; 15 min clear = 3 values
    let values = [
        0.8, 1.2, 0.9, 1.1, 1.3, 1.4, 1.5, 0.97, 0.99, 0.9, 0.9, 0.98, 0.9, 0.9, 0.9,
    ];
    let mut ev = Evaluator::new(only(RuleKind::Exceedance));
    let got = run(&mut ev, &info, 5 * MIN, &values, RuleKind::Exceedance);
    assert_eq!(
        kinds(&got),
        vec![
            // 1.2 alone (then 0.9) does not raise; 1.1, 1.3, 1.4 do on the third
            (5, "trigger"),
            (6, "trigger"),
            // 0.97 / 0.99 sit in the hysteresis band; 0.9, 0.9 then 0.98 (band) restarts; then three
            (14, "resolve"),
        ]
    );
    let Verdict::Trigger(t) = &got[0].1 else {
        panic!()
    };
    assert_eq!(t.source, "L01:nh3_n:realtime");
    assert_eq!(t.details["class"], "Ⅳ");
    assert_eq!(t.severity, Severity::Minor);
}

#[test]
fn exceedance_severity_by_class_gap_and_drinking_water() {
    use WaterClass::*;
    let cases = [
        (IV, III, false, Severity::Minor),
        (V, III, false, Severity::Major),
        (WorseThanV, III, false, Severity::Critical),
        (III, II, false, Severity::Minor),
        (III, II, true, Severity::Major),
        (WorseThanV, II, true, Severity::Critical),
    ];
    for (class, target, dw, want) in cases {
        assert_eq!(
            exceedance_severity(class, target, dw),
            want,
            "{class:?} vs {target:?} dw={dw}"
        );
    }
}

#[test]
fn one_analyser_value_raises_and_one_clears() {
    // TP at the intake (target II, lake limit 0.025), 4-hourly analyser: one value covers 4 h.
    let mut info = stream("W01", "tp", "hourly", 14_400, WaterClass::II);
    info.drinking_water = true;
    let mut ev = Evaluator::new(only(RuleKind::Exceedance));
    let got = run(
        &mut ev,
        &info,
        4 * HOUR,
        &[0.02, 0.031, 0.031, 0.024, 0.02],
        RuleKind::Exceedance,
    );
    assert_eq!(
        kinds(&got),
        vec![(1, "trigger"), (2, "trigger"), (4, "resolve")]
    );
    let Verdict::Trigger(t) = &got[0].1 else {
        panic!()
    };
    assert_eq!(
        t.severity,
        Severity::Major,
        "Ⅲ at a Ⅱ target is minor, one step up at the intake"
    );
}

#[test]
fn dissolved_oxygen_is_an_at_least_limit() {
    let info = stream("R09", "do", "hourly", 3600, WaterClass::III);
    let mut ev = Evaluator::new(only(RuleKind::Exceedance));
    // limit ≥5; clears at ≥ 5.25
    let got = run(
        &mut ev,
        &info,
        HOUR,
        &[6.0, 4.2, 5.1, 5.3],
        RuleKind::Exceedance,
    );
    assert_eq!(kinds(&got), vec![(1, "trigger"), (3, "resolve")]);
}

#[test]
fn flagged_values_do_not_count_for_thresholds() {
    let info = stream("W01", "tp", "hourly", 14_400, WaterClass::II);
    let mut ev = Evaluator::new(only(RuleKind::Exceedance));
    let r = Reading {
        t: T0,
        value: Some(0.5),
        flag: DataFlag::M,
        censored: false,
    };
    assert!(ev.observe(&info, &r, T0).is_empty());
}

#[test]
fn trend_projects_towards_the_limit() {
    let limit = TargetLimit::AtMost(0.025);
    let s = alerts::rules::TrendSettings::default();
    // rising 0.001 mg/L per hour from 0.019: at 0.022 after 3 h, reaches 0.025 in 3 h
    let window: Vec<(i64, f64)> = (0..4)
        .map(|i| (i * 3600, 0.019 + 0.001 * i as f64))
        .collect();
    let p = project(&window, limit, &s).expect("heading for the limit");
    assert!((p.seconds_to_limit - 3.0 * 3600.0).abs() < 1.0);
    // too few points, falling, far from the limit, already over: no projection
    assert!(project(&window[..3], limit, &s).is_none());
    let falling: Vec<(i64, f64)> = window.iter().map(|&(t, v)| (t, 0.05 - v)).collect();
    assert!(project(&falling, limit, &s).is_none());
    let far: Vec<(i64, f64)> = window.iter().map(|&(t, v)| (t, v - 0.015)).collect();
    assert!(
        project(&far, limit, &s).is_none(),
        "0.007 is below 80 % of the limit"
    );
    // slow rise: reaches the limit beyond the 12 h horizon
    let slow: Vec<(i64, f64)> = (0..4)
        .map(|i| (i * 3600, 0.020 + 0.0001 * i as f64))
        .collect();
    assert!(project(&slow, limit, &s).is_none());

    let info = stream("W01", "tp", "hourly", 3600, WaterClass::II);
    let mut ev = Evaluator::new(only(RuleKind::Trend));
    let got = run(
        &mut ev,
        &info,
        HOUR,
        &[0.019, 0.020, 0.021, 0.022, 0.023, 0.026],
        RuleKind::Trend,
    );
    assert_eq!(
        kinds(&got),
        vec![(3, "trigger"), (4, "trigger"), (5, "resolve")]
    );
    let Verdict::Resolve { message, .. } = &got[2].1 else {
        panic!()
    };
    assert!(message.contains("limit is reached"), "{message}");
}

#[test]
fn sensor_faults_flags_constant_range() {
    let info = stream("R01", "tp", "hourly", 14_400, WaterClass::III);
    let mut ev = Evaluator::new(only(RuleKind::SensorFault));
    let mut out = Vec::new();
    let flags = [
        DataFlag::N,
        DataFlag::M,
        DataFlag::D,
        DataFlag::N,
        DataFlag::B,
    ];
    for (i, f) in flags.iter().enumerate() {
        let t = T0 + i as i64 * 4 * HOUR;
        let r = Reading {
            t,
            value: Some(0.02 + i as f64 * 0.001),
            flag: *f,
            censored: false,
        };
        out.push(ev.observe(&info, &r, t));
    }
    assert!(out[0].is_empty());
    let Verdict::Trigger(m) = &out[1][0] else {
        panic!("{:?}", out[1])
    };
    assert_eq!(m.severity, Severity::Warning);
    assert!(m.message.contains("maintenance"));
    // Maintenance is the station's: one alert for all its parameters.
    assert_eq!(m.source, "R01:maintenance");
    // Flag D after M: the maintenance alert ends, an instrument fault of TP opens.
    assert!(
        matches!(&out[2][0], Verdict::Resolve { source, .. } if source == "R01:maintenance"),
        "{:?}",
        out[2]
    );
    let Verdict::Trigger(d) = &out[2][1] else {
        panic!("{:?}", out[2])
    };
    assert_eq!(d.source, "R01:tp");
    assert_eq!(d.severity, Severity::Major, "flag D is a major fault");
    assert!(matches!(out[3][0], Verdict::Resolve { .. }));
    assert!(out[4].is_empty(), "flag B is not a fault by default");

    // 4-hourly analyser: 6 equal cycles are a constant value
    let mut ev = Evaluator::new(only(RuleKind::SensorFault));
    let got = run(
        &mut ev,
        &info,
        4 * HOUR,
        &[0.02, 0.03, 0.03, 0.03, 0.03, 0.03, 0.03, 0.031],
        RuleKind::SensorFault,
    );
    assert_eq!(kinds(&got), vec![(6, "trigger"), (7, "resolve")]);
    let Verdict::Trigger(t) = &got[0].1 else {
        panic!()
    };
    assert_eq!(t.details["faults"], json!(["constant"]));

    // negative value
    let mut ev = Evaluator::new(only(RuleKind::SensorFault));
    let got = run(
        &mut ev,
        &info,
        4 * HOUR,
        &[0.02, -0.01, 0.02],
        RuleKind::SensorFault,
    );
    assert_eq!(kinds(&got), vec![(1, "trigger"), (2, "resolve")]);
}

#[test]
fn spike_needs_a_normal_range() {
    let info = stream("L01", "ph", "realtime", 300, WaterClass::III);
    let mut s = only(RuleKind::SensorFault);
    s.sensor_fault.qc.per_parameter.insert(
        "ph".into(),
        wq::qc::QcThresholds {
            normal_range: Some([6.5, 8.5]),
            ..Default::default()
        },
    );
    let mut ev = Evaluator::new(s);
    let got = run(
        &mut ev,
        &info,
        5 * MIN,
        &[7.5, 7.6, 9.0, 7.6, 7.7],
        RuleKind::SensorFault,
    );
    // the jump up and the jump back are both spikes; the next value clears
    assert_eq!(
        kinds(&got),
        vec![(2, "trigger"), (3, "trigger"), (4, "resolve")]
    );
}

#[test]
fn bloom_levels() {
    let info = stream("L01", "chl_a", "hourly", 3600, WaterClass::III);
    let mut ev = Evaluator::new(only(RuleKind::Bloom));
    // 30 min raise: one hourly value covers it; 1 h clear below 9 (10 % hysteresis)
    let got = run(
        &mut ev,
        &info,
        HOUR,
        &[6.0, 12.0, 35.0, 9.5, 8.0],
        RuleKind::Bloom,
    );
    assert_eq!(
        kinds(&got),
        vec![(1, "trigger"), (2, "trigger"), (4, "resolve")]
    );
    let sev: Vec<Severity> = got
        .iter()
        .filter_map(|(_, v)| {
            if let Verdict::Trigger(t) = v {
                Some(t.severity)
            } else {
                None
            }
        })
        .collect();
    assert_eq!(sev, vec![Severity::Minor, Severity::Major]);
}

#[test]
fn offline_and_back() {
    let mut s = only(RuleKind::Offline);
    s.offline = OfflineSettings {
        multiple: 2.0,
        ..OfflineSettings::default()
    };
    let mut ev = Evaluator::new(s);
    let info = stream("R01", "ph", "realtime", 300, WaterClass::III);
    assert!(
        ev.tick(T0).is_empty(),
        "a station that never reported is not watched"
    );
    assert!(ev.observe(&info, &reading(T0, 7.0), T0).is_empty());
    assert!(
        ev.tick(T0 + 10 * MIN).is_empty(),
        "exactly 2 × 300 s is not over the limit"
    );
    let v = ev.tick(T0 + 10 * MIN + SECOND);
    assert_eq!(v.len(), 1);
    let Verdict::Trigger(t) = &v[0] else { panic!() };
    assert_eq!(
        (t.rule, t.source.as_str(), t.severity),
        (RuleKind::Offline, "R01", Severity::Major)
    );
    assert!(ev.tick(T0 + 20 * MIN).is_empty(), "raised once");
    let back = ev.observe(&info, &reading(T0 + 21 * MIN, 7.0), T0 + 21 * MIN);
    assert!(
        matches!(&back[0], Verdict::Resolve { rule: RuleKind::Offline, source, .. } if source == "R01")
    );
}

#[test]
fn restored_alerts_clear_on_recovery_and_manual_clear_restarts_the_rule() {
    let info = stream("W01", "tp", "hourly", 14_400, WaterClass::II);
    let mut ev = Evaluator::new(only(RuleKind::Exceedance));
    ev.restore_open(RuleKind::Exceedance, "W01:tp:hourly");
    let got = run(&mut ev, &info, 4 * HOUR, &[0.01], RuleKind::Exceedance);
    assert_eq!(kinds(&got), vec![(0, "resolve")]);

    // manual clear while exceeding: the next value must cover the raise duration again
    let mut s = only(RuleKind::Exceedance);
    s.exceedance.min_duration_s = 3 * 3600;
    let info = stream("W01", "tp", "hourly", 3600, WaterClass::II);
    let mut ev = Evaluator::new(s);
    let got = run(
        &mut ev,
        &info,
        HOUR,
        &[0.05, 0.05, 0.05],
        RuleKind::Exceedance,
    );
    assert_eq!(kinds(&got), vec![(2, "trigger")]);
    ev.reset(RuleKind::Exceedance, "W01:tp:hourly", T0, |_| {
        Some("W01:tp:hourly".into())
    });
    let mut again = Vec::new();
    for i in 3..6 {
        let t = T0 + i * HOUR;
        again.push(ev.observe(&info, &reading(t, 0.05), t).len());
    }
    assert_eq!(again, vec![0, 0, 1]);
}

#[test]
fn separately_reported_items_are_warnings_not_critical() {
    // TN at a lake intake (target II, limit 0.5 mg/L): Class V (≤ 2.0) would be critical for a
    // classed item at a drinking-water source; TN is reported on its own line, so: warning.
    let mut info = stream("W01", "tn", "hourly", 3600, WaterClass::II);
    info.drinking_water = true;
    // Not raised by default (reported on its own line of the assessment)…
    let mut ev = Evaluator::new(only(RuleKind::Exceedance));
    assert!(run(&mut ev, &info, HOUR, &[1.7, 1.7], RuleKind::Exceedance).is_empty());
    // …and a warning when asked for.
    let mut s = only(RuleKind::Exceedance);
    s.exceedance.alert_separately_reported = true;
    let mut ev = Evaluator::new(s);
    let got = run(&mut ev, &info, HOUR, &[1.7, 1.7], RuleKind::Exceedance);
    let Verdict::Trigger(t) = &got[0].1 else {
        panic!("TN above its limit is still watched")
    };
    assert_eq!(t.severity, Severity::Warning);
    assert!(t.message.contains("own line"), "{}", t.message);
    // TP, a classed item, at the same station stays escalated.
    let mut info = stream("W01", "tp", "hourly", 3600, WaterClass::II);
    info.drinking_water = true;
    let mut ev = Evaluator::new(only(RuleKind::Exceedance));
    let got = run(&mut ev, &info, HOUR, &[0.2, 0.2], RuleKind::Exceedance);
    let Verdict::Trigger(t) = &got[0].1 else {
        panic!()
    };
    assert_eq!(t.severity, Severity::Critical);
}

#[test]
fn a_fault_on_several_data_kinds_is_one_alert_until_all_are_healthy() {
    let mut hourly = stream("R06", "do", "hourly", 3_600, WaterClass::III);
    let mut realtime = stream("R06", "do", "realtime", 300, WaterClass::III);
    hourly.datastream_id = 1;
    realtime.datastream_id = 2;
    let mut ev = Evaluator::new(only(RuleKind::SensorFault));
    let flagged = |t: i64, f: DataFlag| Reading {
        t,
        value: Some(7.0),
        flag: f,
        censored: false,
    };
    let mut seen = Vec::new();
    let feed =
        |seen: &mut Vec<Verdict>, ev: &mut Evaluator, info: &StreamInfo, t: i64, f: DataFlag| {
            for v in ev.observe(info, &flagged(t, f), t) {
                if v.key().0 == RuleKind::SensorFault {
                    seen.push(v);
                }
            }
        };
    // Both kinds report an instrument fault: one source, R06:do.
    feed(&mut seen, &mut ev, &realtime, T0, DataFlag::D);
    feed(&mut seen, &mut ev, &hourly, T0 + HOUR, DataFlag::D);
    assert_eq!(seen.len(), 2);
    assert!(seen.iter().all(|v| v.key().1 == "R06:do"), "{seen:?}");
    let Verdict::Trigger(t) = &seen[1] else {
        panic!("{seen:?}")
    };
    assert_eq!(t.details["data_kinds"], json!(["hourly", "realtime"]));
    // The hourly value is healthy again: the real-time fault still stands, nothing clears.
    feed(&mut seen, &mut ev, &hourly, T0 + 2 * HOUR, DataFlag::N);
    assert_eq!(seen.len(), 2, "{seen:?}");
    // Now the real-time one too: the one alert clears.
    feed(
        &mut seen,
        &mut ev,
        &realtime,
        T0 + 2 * HOUR + 300 * SECOND,
        DataFlag::N,
    );
    assert_eq!(seen.len(), 3, "{seen:?}");
    assert!(matches!(&seen[2], Verdict::Resolve { source, .. } if source == "R06:do"));
}

#[test]
fn maintenance_on_several_parameters_is_one_station_alert() {
    let mut ev = Evaluator::new(only(RuleKind::SensorFault));
    let mut seen = Vec::new();
    for (id, p) in [(1, "tp"), (2, "tn"), (3, "nh3_n")] {
        let mut info = stream("L06", p, "hourly", 3_600, WaterClass::III);
        info.datastream_id = id;
        let r = Reading {
            t: T0,
            value: Some(1.0),
            flag: DataFlag::M,
            censored: false,
        };
        seen.extend(ev.observe(&info, &r, T0));
    }
    assert!(
        seen.iter().all(|v| v.key().1 == "L06:maintenance"),
        "{seen:?}"
    );
    let Some(Verdict::Trigger(last)) = seen.last() else {
        panic!("{seen:?}")
    };
    assert_eq!(last.details["parameters"], json!(["nh3_n", "tn", "tp"]));
    let text = alerts::text::message(&last.details, &last.message, alerts::text::Lang::Zh);
    assert!(
        text.starts_with("L06 维护/校准中（标记 M）：") && text.contains("总磷"),
        "{text}"
    );
    // Two back to normal: still open; the third: cleared.
    let mut resolves = 0;
    for (id, p) in [(1, "tp"), (2, "tn"), (3, "nh3_n")] {
        let mut info = stream("L06", p, "hourly", 3_600, WaterClass::III);
        info.datastream_id = id;
        for v in ev.observe(&info, &reading(T0 + HOUR, 1.1), T0 + HOUR) {
            if matches!(v, Verdict::Resolve { .. }) {
                resolves += 1;
                assert_eq!(id, 3, "cleared only when the last parameter is healthy");
            }
        }
    }
    assert_eq!(resolves, 1);
}
