//! What the simulated stations send is a pure function of (network, seed, scenario, time):
//! the same seed gives the same frames and rows, and every frame is valid HJ 212.

use chrono::{DateTime, Utc};
use hj212::{Cn, Hj212Decoder, encode_segment};
use sim::send::Feed;
use sim::{Scenario, Simulator};

fn network() -> network::Network {
    let text = include_str!("../../../config/hongfeng.toml");
    network::parse_network(text, "hongfeng.toml").expect("the demo network parses")
}

fn anchor() -> DateTime<Utc> {
    "2026-07-20T00:00:00Z".parse().expect("valid time")
}

fn feed(seed: u64) -> Feed {
    let network = network();
    let sim = Simulator::with_scenario(&network, seed, Scenario::demo(anchor()));
    Feed::new(&network, sim)
}

/// Every upload of every station over a span, as the bytes on the wire (QN = send time).
fn wire(feed: &Feed, from: i64, to: i64) -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for station in feed.automatic_stations() {
        for (n, upload) in feed.uploads(station, from, to).iter().enumerate() {
            let qn = sim::send::feed::qn_of(upload.send_time * 1000 + n as i64, 8 * 3600);
            let segment = feed.segment(upload, qn).expect("automatic station");
            out.push(encode_segment(&segment));
        }
    }
    out
}

#[test]
fn same_seed_same_frames_and_rows() {
    let t0 = anchor().timestamp();
    let (a, b, other) = (feed(7), feed(7), feed(8));
    let span = (t0, t0 + 6 * 3600);
    assert_eq!(wire(&a, span.0, span.1), wire(&b, span.0, span.1));
    assert_ne!(wire(&a, span.0, span.1), wire(&other, span.0, span.1));
    let history = |f: &Feed| f.history(t0 - 3 * 86_400, t0, t0 - 86_400);
    assert_eq!(history(&a), history(&b));
    assert_ne!(history(&a), history(&other));
}

#[test]
fn frames_are_valid_hj212_with_the_expected_cadence() {
    let f = feed(1);
    let t0 = anchor().timestamp();
    let r01 = f
        .stations
        .iter()
        .position(|s| s.code == "R01")
        .expect("R01");
    let uploads = f.uploads(r01, t0, t0 + 4 * 3600);
    let realtime = uploads.iter().filter(|u| u.cn == Cn::REALTIME_DATA).count();
    let hourly = uploads.iter().filter(|u| u.cn == Cn::HOURLY_DATA).count();
    assert_eq!(
        (realtime, hourly),
        (48, 4),
        "2011 every 300 s, 2061 every hour"
    );
    assert!(uploads.windows(2).all(|w| w[0].send_time <= w[1].send_time));

    let mut decoder = Hj212Decoder::default();
    for bytes in wire(&f, t0, t0 + 4 * 3600) {
        decoder.push(&bytes);
    }
    let frames: Vec<_> = decoder.drain().collect();
    assert!(!frames.is_empty());
    for frame in frames {
        let frame = frame.expect("CRC, length and segment are valid");
        assert!(frame.segment.answer_requested(), "uploads ask for a 9014");
        assert_eq!(frame.segment.st, "21");
        assert!(frame.segment.cp.data_time().is_some());
    }
}

#[test]
fn hourly_frames_carry_analyser_results_at_cycle_hours_only() {
    let f = feed(1);
    let r01 = f
        .stations
        .iter()
        .position(|s| s.code == "R01")
        .expect("R01");
    // 2026-07-20T00:00Z is 08:00 Beijing time, a cycle hour; 09:00 is not.
    let t0 = anchor().timestamp();
    let at_cycle = f.hourly(r01, t0).cp.encode();
    let off_cycle = f.hourly(r01, t0 + 3600).cp.encode();
    assert!(at_cycle.starts_with("DataTime=20260720080000;"));
    assert!(at_cycle.contains("w21011-Avg="), "TP analyser at 08:00");
    assert!(!off_cycle.contains("w21011-"), "no TP at 09:00");
    assert!(off_cycle.contains("w01010-Min=") && off_cycle.contains("w01010-Max="));
}

#[test]
fn offline_window_marks_uploads_held_and_history_has_hourly_manual_and_realtime() {
    let f = feed(1);
    let t0 = anchor().timestamp();
    let r05 = f
        .stations
        .iter()
        .position(|s| s.code == "R05")
        .expect("R05");
    // Scenario::demo: R05 offline from anchor + 3 h for 6 h.
    let uploads = f.uploads(r05, t0, t0 + 12 * 3600);
    let held: Vec<_> = uploads.iter().filter(|u| u.offline).collect();
    assert_eq!(
        held.len(),
        6 * 12 + 6,
        "72 real-time and 6 hourly frames held"
    );
    assert!(
        held.iter()
            .all(|u| u.send_time >= t0 + 3 * 3600 && u.send_time < t0 + 9 * 3600)
    );

    let history = f.history(t0 - 30 * 86_400, t0, t0 - 86_400);
    let rows = |key: &str| {
        history
            .iter()
            .find(|d| d.key == key)
            .map_or(0, |d| d.rows.len())
    };
    assert_eq!(rows("datastream:R01:water_temp:realtime"), 288);
    assert_eq!(rows("datastream:R01:water_temp:hourly"), 30 * 24 - 1);
    assert_eq!(rows("datastream:R01:tp:hourly"), 30 * 6);
    assert_eq!(
        rows("datastream:L06:sd:manual"),
        1,
        "one monthly sample in 30 days"
    );
}
