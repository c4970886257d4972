//! Reference §14 examples: decode → re-encode byte for byte, and the platform's answers equal
//! the reference's answer frames byte for byte. Reference §4.1 CRC vectors.

mod common;

use chrono::{TimeZone, Utc};
use common::*;
use hj212::*;

fn decode_one(text: &str) -> Hj212Frame {
    let mut items = decode_all(text.as_bytes());
    assert_eq!(items.len(), 1, "one item from {text:?}");
    match items.remove(0) {
        Ok(frame) => frame,
        Err(e) => panic!("{text:?} failed: {e}"),
    }
}

fn segment_of(text: &str) -> &str {
    // Between the 4-digit length and CRC + CR LF.
    &text[6..text.len() - 6]
}

fn opts() -> StationOptions {
    StationOptions::default()
}

#[test]
fn every_example_round_trips_byte_for_byte() {
    for (name, text) in ALL {
        let frame = decode_one(text);
        assert_eq!(frame.raw, text.as_bytes(), "{name}: raw");
        assert_eq!(
            frame.segment_bytes(),
            segment_of(text).as_bytes(),
            "{name}: segment"
        );
        assert_eq!(
            String::from_utf8_lossy(&encode_segment(&frame.segment)),
            *text,
            "{name}: re-encode"
        );
        assert!(
            frame.tolerances.is_empty(),
            "{name}: {:?}",
            frame.tolerances
        );
    }
}

#[test]
fn data_answers_9014_equal_the_reference() {
    for (request, answer) in [
        (E1, E2),
        (E3_1, E3_2),
        (E5_1, E5_2),
        (E5_3, E5_4),
        (E11_2, E11_3),
        (E10_1, E10_2),
    ] {
        let frame = decode_one(request);
        assert_eq!(answer_for(&frame.segment, &opts()), Some(AnswerKind::Data));
        let bytes = answer_frame(&frame.segment, &opts()).expect("answer wanted");
        assert_eq!(String::from_utf8_lossy(&bytes), answer);
        assert_eq!(
            String::from_utf8_lossy(&data_answer(&frame.segment, &opts())),
            answer
        );
    }
}

#[test]
fn notification_answers_9013_equal_the_reference() {
    for (request, answer) in [(E6_1, E6_2), (E10_3, E10_4)] {
        let frame = decode_one(request);
        assert_eq!(
            answer_for(&frame.segment, &opts()),
            Some(AnswerKind::Notification)
        );
        let bytes = answer_frame(&frame.segment, &opts()).expect("answer wanted");
        assert_eq!(String::from_utf8_lossy(&bytes), answer);
        assert_eq!(
            String::from_utf8_lossy(&notification_answer(&frame.segment, &opts())),
            answer
        );
    }
}

#[test]
fn request_and_execute_answers_equal_the_reference() {
    let set_time = decode_one(E4_1).segment;
    let s = |b: Vec<u8>| String::from_utf8(b).expect("ascii");
    assert_eq!(s(request_answer(&set_time, QnRtn::Ready, &opts())), E4_2);
    assert_eq!(s(execute_answer(&set_time, ExeRtn::Success, &opts())), E4_3);
    let backfill = decode_one(E7).segment;
    assert_eq!(s(request_answer(&backfill, QnRtn::Ready, &opts())), E11_1);
    assert_eq!(
        s(execute_answer(&backfill, ExeRtn::Success, &opts())),
        E11_4
    );
    assert_eq!(s(execute_answer(&backfill, ExeRtn::NoData, &opts())), E11_5);
}

#[test]
fn platform_commands_equal_the_reference() {
    let target = CommandTarget {
        st: "21".into(),
        pw: "123456".into(),
        mn: "010000A8900016F000169DC0".into(),
        version: 1,
    };
    // 10:15:00 Beijing = 02:15:00 UTC.
    let now = Utc
        .with_ymd_and_hms(2026, 3, 15, 2, 15, 0)
        .single()
        .expect("valid");
    let qn_time = now + chrono::Duration::milliseconds(1);
    let bytes = set_time_request(&target, now, qn_time, BEIJING_UTC_OFFSET_SECONDS);
    assert_eq!(String::from_utf8_lossy(&bytes), E4_1);
    let begin = Utc
        .with_ymd_and_hms(2026, 3, 14, 16, 0, 0)
        .single()
        .expect("valid");
    let end = Utc
        .with_ymd_and_hms(2026, 3, 15, 2, 0, 0)
        .single()
        .expect("valid");
    let bytes = backfill_request(
        &target,
        "20260315110000001",
        Cn::HOURLY_DATA,
        begin,
        end,
        BEIJING_UTC_OFFSET_SECONDS,
    );
    assert_eq!(String::from_utf8_lossy(&bytes), E7);
}

#[test]
fn frames_that_get_no_answer() {
    // Flag=4 (A=0), 2005 without Flag, and answers to our own requests.
    for text in [E8, E9, E2, E4_2, E4_3, E11_5] {
        let frame = decode_one(text);
        assert_eq!(answer_for(&frame.segment, &opts()), None, "{text}");
        assert_eq!(answer_frame(&frame.segment, &opts()), None);
    }
}

#[test]
fn decoded_fields_of_the_examples() {
    let e1 = decode_one(E1).segment;
    assert_eq!(e1.qn.as_deref(), Some("20260315093000123"));
    assert_eq!(e1.st, ST_SURFACE_WATER);
    assert_eq!(e1.cn, Cn::REALTIME_DATA);
    assert!(e1.cn.is_measurement_upload() && e1.answer_requested());
    assert_eq!(e1.protocol(), ProtocolVersion::Hj212_2017);
    let factors = e1.cp.factors();
    let codes: Vec<&str> = factors.iter().map(|f| f.code.as_str()).collect();
    assert_eq!(codes, ["w01010", "w01001", "w01009", "w01014", "w01003"]);
    assert_eq!(factors[3].rtd.as_deref(), Some("312.5"));
    let utc = e1.data_time_utc(&opts()).expect("present").expect("valid");
    assert_eq!(utc.to_rfc3339(), "2026-03-15T01:30:00+00:00");
    let qn = e1.qn_utc(&opts()).expect("present").expect("valid");
    assert_eq!(qn.to_rfc3339(), "2026-03-15T01:30:00.123+00:00");

    let e3 = decode_one(E3_1).segment;
    assert_eq!(e3.cn.data_kind(), Some(DataKind::Hourly));
    let tn = &e3.cp.factors()[3];
    assert_eq!(
        (tn.code.as_str(), tn.avg.as_deref()),
        ("w21001", Some("0.95"))
    );
    assert_eq!(tn.flag, Some(DataFlag::Maintenance));

    let e5 = decode_one(E5_3).segment;
    assert_eq!(e5.split, Some(SplitInfo { pnum: 2, pno: 2 }));
    assert_eq!(e5.flag, Some(Flag(7)));

    let e8 = decode_one(E8);
    assert_eq!(e8.segment_bytes().len(), 152);
    assert_eq!(e8.segment.cp.factors()[0].info.as_deref(), Some("清洗管路"));
    assert_eq!(e8.segment.cp.get("PolId"), Some("w21011"));

    let e9 = decode_one(E9).segment;
    assert_eq!((e9.qn.as_deref(), e9.flag), (None, None));
    assert_eq!(e9.protocol(), ProtocolVersion::Hj212_2005);
    let b01 = &e9.cp.factors()[0];
    assert_eq!(b01.code, "b01");
    assert_eq!(b01.effective_flag(), Some(DataFlag::Normal));

    let e10 = decode_one(E10_1).segment;
    assert_eq!(e10.protocol(), ProtocolVersion::Hj212_2025);

    let e4 = decode_one(E4_2).segment;
    assert_eq!(e4.cp.get("QnRtn"), Some("1"));
    assert!(e4.cn.is_answer());
}

#[test]
fn crc_vectors() {
    assert_eq!(hj212_crc(b"123456789"), 0x2F80);
    assert_eq!(modbus_crc(b"123456789"), 0x4B37);
    assert_eq!(hj212_crc(b""), 0xFFFF);
    assert_eq!(modbus_crc(b""), 0xFFFF);
    let p1 = segment_of(P1).as_bytes();
    assert_eq!(p1.len(), 101);
    assert_eq!(hj212_crc(p1), 0x1C80);
    assert_eq!(modbus_crc(p1), 0x0759);
    let e8 = segment_of(E8);
    assert_eq!(e8.len(), 152);
    assert_eq!(e8.chars().count(), 144);
    assert_eq!(hj212_crc(e8.as_bytes()), 0xD081);
    assert_eq!(hj212_crc_utf16(e8), 0x7200);
    // Every example's CRC field is the HJ 212 CRC of its segment.
    for (name, text) in ALL {
        let field = &text.as_bytes()[text.len() - 6..text.len() - 2];
        assert_eq!(
            &format_crc(hj212_crc(segment_of(text).as_bytes())),
            field,
            "{name}"
        );
    }
}

#[test]
fn answer_rules_for_switches() {
    let e1 = decode_one(E1).segment;
    let mirrored = StationOptions {
        answer_st_mirror: true,
        force_version: Some(2),
        ..StationOptions::default()
    };
    let bytes = answer_frame(&e1, &mirrored).expect("answer");
    let text = String::from_utf8_lossy(&bytes);
    assert!(
        text.contains(";ST=21;CN=9014;") && text.contains(";Flag=8;"),
        "{text}"
    );

    // Vendor heartbeat 9021 with A=1 gets 9013; without the switch it is an unknown CN → 9014.
    let hb = DataSegment::parse("QN=20260315093100000;ST=21;CN=9021;PW=1;MN=M1;Flag=5;CP=&&&&")
        .expect("parses");
    assert_eq!(answer_for(&hb, &opts()), Some(AnswerKind::Data));
    let vendor = StationOptions {
        heartbeat_cn: vec![Cn(9021)],
        ..StationOptions::default()
    };
    assert_eq!(answer_for(&hb, &vendor), Some(AnswerKind::Notification));

    // A 2005 1013 (no Flag) gets the 2005-form 9013: QN inside CP, Flag=0.
    let old = DataSegment::parse("QN=20260315102000010;ST=32;CN=1013;PW=1;MN=M2;CP=&&&&")
        .expect("parses");
    let bytes = answer_frame(&old, &opts()).expect("answer");
    let seg = decode_one(std::str::from_utf8(&bytes).expect("ascii")).segment;
    assert_eq!(
        seg.encode(),
        "ST=91;CN=9013;PW=1;MN=M2;Flag=0;CP=&&QN=20260315102000010&&"
    );
    let r = request_answer(&old, QnRtn::Ready, &opts());
    let seg = decode_one(std::str::from_utf8(&r).expect("ascii")).segment;
    assert_eq!(
        seg.encode(),
        "ST=91;CN=9011;PW=1;MN=M2;Flag=0;CP=&&QN=20260315102000010;QnRtn=1&&"
    );
}
