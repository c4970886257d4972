//! Per-station compatibility switches (reference §15) and split-frame reassembly (§2.3).

mod common;

use common::*;
use hj212::*;

fn with_station(mn: &str, station: StationOptions) -> DecoderOptions {
    let mut options = DecoderOptions::default();
    options.stations.insert(mn.to_string(), station);
    options
}

fn decode(bytes: &[u8], options: &DecoderOptions) -> Vec<DecodeResult> {
    let mut decoder = Hj212Decoder::new(options.clone());
    decoder.push(bytes);
    decoder.drain().collect()
}

fn only_frame(bytes: &[u8], options: &DecoderOptions) -> Hj212Frame {
    let mut items = decode(bytes, options);
    assert_eq!(items.len(), 1, "{items:?}");
    match items.remove(0) {
        Ok(frame) => frame,
        Err(e) => panic!("{}: {e}", String::from_utf8_lossy(bytes)),
    }
}

fn only_error(bytes: &[u8], options: &DecoderOptions) -> Hj212Error {
    let mut items = decode(bytes, options);
    assert_eq!(items.len(), 1, "{items:?}");
    match items.remove(0) {
        Ok(frame) => panic!("unexpectedly decoded {:?}", frame.segment),
        Err(e) => e.error,
    }
}

/// Frame with an explicit length field, CRC text and tail.
fn raw_frame(len: &str, segment: &str, crc: &str, tail: &str) -> Vec<u8> {
    format!("##{len}{segment}{crc}{tail}").into_bytes()
}

fn seg_of(text: &str) -> &str {
    &text[6..text.len() - 6]
}

#[test]
fn lowercase_crc_is_accepted_and_noted() {
    let lower = E1.replace("&&C181", "&&c181");
    let frame = only_frame(lower.as_bytes(), &DecoderOptions::default());
    assert_eq!(frame.tolerances, [Tolerance::LowercaseCrc]);
    assert_eq!(frame.crc, 0xC181);
}

#[test]
fn modbus_crc_only_for_stations_that_use_it() {
    let seg = "QN=20170516010101001;ST=22;CN=1072;PW=123456;MN=HCU0001;Flag=5;CP=&&NewPW=654321&&";
    let crc = String::from_utf8_lossy(&format_crc(modbus_crc(seg.as_bytes()))).into_owned();
    let bytes = raw_frame(&format!("{:04}", seg.len()), seg, &crc, "\r\n");
    assert!(matches!(
        only_error(&bytes, &DecoderOptions::default()),
        Hj212Error::CrcMismatch { .. }
    ));
    for variant in [CrcVariant::Modbus, CrcVariant::Either] {
        let options = with_station(
            "HCU0001",
            StationOptions {
                crc: variant,
                ..StationOptions::default()
            },
        );
        let frame = only_frame(&bytes, &options);
        assert_eq!(frame.tolerances, [Tolerance::ModbusCrc]);
        // Another station on the same connection stays strict.
        let other = seg.replace("HCU0001", "HCU0002");
        let crc = String::from_utf8_lossy(&format_crc(modbus_crc(other.as_bytes()))).into_owned();
        let other = raw_frame(&format!("{:04}", other.len()), &other, &crc, "\r\n");
        assert!(matches!(
            only_error(&other, &options),
            Hj212Error::CrcMismatch { .. }
        ));
    }
    // `either` still takes the HJ 212 CRC, without a note.
    let either = with_station(
        "010000A8900016F000169DC0",
        StationOptions {
            crc: CrcVariant::Either,
            ..StationOptions::default()
        },
    );
    assert!(only_frame(E1.as_bytes(), &either).tolerances.is_empty());
}

#[test]
fn utf16_length_and_crc_for_char_counting_devices() {
    // What Java/C# code sends for E8: length 0144 (UTF-16 units) and CRC 7200.
    let bytes = raw_frame("0144", seg_of(E8), "7200", "\r\n");
    assert_eq!(
        only_error(&bytes, &DecoderOptions::default()),
        Hj212Error::LengthMismatch {
            declared: 144,
            actual: 152
        }
    );
    for units in [TextUnits::Utf16, TextUnits::Either] {
        let options = with_station(
            "010000A8900016F000169DC0",
            StationOptions {
                text_units: units,
                ..StationOptions::default()
            },
        );
        let frame = only_frame(&bytes, &options);
        assert_eq!(frame.tolerances, [Tolerance::Utf16Units], "{units:?}");
        assert_eq!(
            frame.segment.cp.factors()[0].info.as_deref(),
            Some("清洗管路")
        );
        // Conforming frames still decode under the switch, split anywhere (under `utf16` only
        // the ASCII ones: a device that counts units cannot also count bytes).
        let conforming: &[&str] = if units == TextUnits::Either {
            &[E8, E1]
        } else {
            &[E1]
        };
        for text in conforming {
            for cut in 0..text.len() {
                let mut decoder = Hj212Decoder::new(options.clone());
                decoder.push(&text.as_bytes()[..cut]);
                decoder.push(&text.as_bytes()[cut..]);
                let items: Vec<_> = decoder.drain().collect();
                assert!(
                    matches!(items.as_slice(), [Ok(_)]),
                    "{units:?} cut {cut}: {items:?}"
                );
            }
        }
    }
}

#[test]
fn short_length_field_for_stations_that_send_it() {
    let bytes = raw_frame("087", seg_of(E2), "E401", "\r\n");
    let options = with_station(
        "010000A8900016F000169DC0",
        StationOptions {
            allow_short_length: true,
            ..StationOptions::default()
        },
    );
    let frame = only_frame(&bytes, &options);
    assert_eq!(frame.tolerances, [Tolerance::ShortLengthField]);
    assert_eq!(frame.segment.cn, Cn::DATA_ANSWER);
}

#[test]
fn line_end_switch() {
    let lf = raw_frame("0087", seg_of(E2), "E401", "\n");
    let none = raw_frame("0087", seg_of(E2), "E401", "");
    // By default LF alone is not an end: the frame is judged when the next bytes show it.
    let mut lf_then_e2 = lf.clone();
    lf_then_e2.extend_from_slice(E2.as_bytes());
    let items = decode(&lf_then_e2, &DecoderOptions::default());
    assert!(
        matches!(&items[0], Err(e) if e.error == Hj212Error::MissingLineEnd),
        "{items:?}"
    );
    assert!(
        matches!(&items[1], Ok(f) if f.raw == E2.as_bytes()),
        "{items:?}"
    );
    let station = |line_end| {
        with_station(
            "010000A8900016F000169DC0",
            StationOptions {
                line_end,
                ..StationOptions::default()
            },
        )
    };
    let frame = only_frame(&lf, &station(LineEnd::Lf));
    assert_eq!(frame.tolerances, [Tolerance::NonStandardLineEnd]);
    // `lf` still takes CR LF.
    assert!(
        only_frame(E2.as_bytes(), &station(LineEnd::Lf))
            .tolerances
            .is_empty()
    );
    // `none`: back-to-back frames delimited by the length field alone.
    let mut stream = none.clone();
    stream.extend_from_slice(&none);
    let items = decode(&stream, &station(LineEnd::None));
    assert_eq!(items.iter().filter(|i| i.is_ok()).count(), 2, "{items:?}");
}

#[test]
fn oversize_segment_is_accepted_with_a_note() {
    let items: Vec<String> = (0..60)
        .map(|i| format!("w{:05}-Rtd={i}.5,w{:05}-Flag=N", i, i))
        .collect();
    let seg = format!(
        "QN=20260315093000123;ST=21;CN=2011;PW=123456;MN=M1;Flag=5;CP=&&DataTime=20260315093000;{}&&",
        items.join(";")
    );
    assert!(seg.len() > 1024);
    let frame = only_frame(&encode_frame(&seg), &DecoderOptions::default());
    assert_eq!(frame.tolerances, [Tolerance::OversizeSegment(seg.len())]);
    assert_eq!(frame.segment.cp.factors().len(), 60);
}

#[test]
fn split_packets_are_standalone_by_default() {
    let mut reassembler = SplitReassembler::default();
    for text in [E5_1, E5_3] {
        let frame = only_frame(text.as_bytes(), &DecoderOptions::default());
        assert!(!frame.cp_deferred);
        match reassembler.offer(&frame, 0) {
            Ok(Reassembly::Complete(seg)) => assert_eq!(seg, frame.segment),
            other => panic!("{other:?}"),
        }
    }
    assert_eq!(reassembler.pending(), 0);
}

fn split_part(qn: &str, pno: u16, cp: &str) -> Vec<u8> {
    encode_frame(&format!(
        "QN={qn};ST=21;CN=2061;PW=123456;MN=CUT01;Flag=7;PNUM=3;PNO={pno};CP=&&{cp}&&"
    ))
}

#[test]
fn concat_split_cp_joins_parts_cut_mid_item() {
    let options = with_station(
        "CUT01",
        StationOptions {
            split_mode: SplitMode::ConcatCp,
            ..StationOptions::default()
        },
    );
    let parts = [
        split_part("20260315100000001", 1, "DataTime=20260315090000;w01019-Av"),
        split_part("20260315100000002", 2, "g=2.3,w01019-Flag=N;w21"),
        split_part("20260315100000003", 3, "003-Avg=0.15,w21003-Flag=N"),
    ];
    // Parts arrive out of order, with one resent.
    let order = [2usize, 0, 0, 1];
    let mut reassembler = SplitReassembler::default();
    let mut results = Vec::new();
    for (t, &i) in order.iter().enumerate() {
        let frame = only_frame(&parts[i], &options);
        assert!(frame.cp_deferred && frame.segment.cp.items.is_empty());
        // Each part still gets its own 9014 echoing its own QN.
        let answer = answer_frame(&frame.segment, &StationOptions::default()).expect("A=1");
        let qn = frame.segment.qn.clone().expect("qn");
        assert!(String::from_utf8_lossy(&answer).contains(&format!("QN={qn};ST=91;CN=9014;")));
        results.push(reassembler.offer(&frame, t as u64).expect("ok"));
    }
    assert_eq!(
        results[..3],
        [
            Reassembly::Pending,
            Reassembly::Pending,
            Reassembly::Pending
        ]
    );
    let Reassembly::Complete(merged) = &results[3] else {
        panic!("{:?}", results[3]);
    };
    assert_eq!(
        merged.cp.encode(),
        "DataTime=20260315090000;w01019-Avg=2.3,w01019-Flag=N;w21003-Avg=0.15,w21003-Flag=N"
    );
    assert_eq!(merged.split, None);
    assert_eq!(merged.flag, Some(Flag(5)));
    assert_eq!(merged.qn.as_deref(), Some("20260315100000001"));
    assert_eq!(reassembler.pending(), 0);
}

#[test]
fn incomplete_split_groups_expire_and_are_bounded() {
    let options = with_station(
        "CUT01",
        StationOptions {
            split_mode: SplitMode::ConcatCp,
            ..StationOptions::default()
        },
    );
    let mut reassembler = SplitReassembler::new(1, 1000);
    let first = only_frame(&split_part("20260315100000001", 1, "DataTime=1"), &options);
    assert_eq!(reassembler.offer(&first, 0), Ok(Reassembly::Pending));
    assert_eq!(reassembler.expire(999), []);
    let expired = reassembler.expire(1000);
    assert_eq!(expired.len(), 1);
    assert_eq!(
        (expired[0].pnum, expired[0].received.as_slice()),
        (3, &[1u16][..])
    );
    // A second group evicts the first when only one may be open.
    let mut reassembler = SplitReassembler::new(1, 1000);
    reassembler.offer(&first, 0).expect("ok");
    let other =
        encode_frame("QN=1;ST=21;CN=2051;PW=123456;MN=CUT01;Flag=7;PNUM=2;PNO=1;CP=&&x=1&&");
    reassembler
        .offer(&only_frame(&other, &options), 1)
        .expect("ok");
    assert_eq!(reassembler.pending(), 1);
    assert_eq!(reassembler.expire(2).len(), 1);
}
