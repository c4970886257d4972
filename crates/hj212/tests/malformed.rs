//! Malformed frames of each kind give their own error variant through the decoder, never a
//! panic, and never cost the frame that follows.

mod common;

use common::*;
use hj212::*;

/// A frame around arbitrary segment bytes, with a correct length and CRC.
fn frame(segment: &[u8]) -> Vec<u8> {
    let mut out = format!("##{:04}", segment.len()).into_bytes();
    out.extend_from_slice(segment);
    out.extend_from_slice(&format_crc(hj212_crc(segment)));
    out.extend_from_slice(b"\r\n");
    out
}

/// Decodes `bad` followed by a good frame: returns the error and checks the good frame survives.
fn error_of_with(bad: &[u8], options: DecoderOptions) -> FrameError {
    let mut stream = bad.to_vec();
    stream.extend_from_slice(E2.as_bytes());
    for chunk in [1, stream.len()] {
        let mut decoder = Hj212Decoder::new(options.clone());
        let mut items = Vec::new();
        for part in stream.chunks(chunk) {
            decoder.push(part);
            items.extend(decoder.drain());
        }
        let ok: Vec<&Hj212Frame> = items.iter().filter_map(|i| i.as_ref().ok()).collect();
        assert_eq!(
            ok.len(),
            1,
            "good frame lost after {:?}: {items:?}",
            String::from_utf8_lossy(bad)
        );
        assert_eq!(ok[0].raw, E2.as_bytes());
        if chunk == stream.len() {
            let mut errors = items.into_iter().filter_map(Result::err);
            let first = errors.next().expect("an error");
            return first;
        }
    }
    unreachable!()
}

fn error_of(bad: &[u8]) -> FrameError {
    error_of_with(bad, DecoderOptions::default())
}

const MN: &str = "010000A8900016F000169DC0";

#[test]
fn framing_errors() {
    let e = error_of(b"##00a7QN=1;CP=&&&&0000\r\n");
    assert_eq!(e.error, Hj212Error::BadLengthField("00a7".into()));

    let short = E2.replace("##0087", "##087");
    let e = error_of(short.as_bytes());
    assert_eq!(e.error, Hj212Error::ShortLengthField("087".into()));
    assert_eq!(e.mn.as_deref(), Some(MN));

    let e = error_of(E1.replace("##0260", "##0250").as_bytes());
    assert_eq!(
        e.error,
        Hj212Error::LengthMismatch {
            declared: 250,
            actual: 260
        }
    );

    let e = error_of(E1.replace("C181\r\n", "C181xx").as_bytes());
    assert_eq!(e.error, Hj212Error::MissingLineEnd);

    let e = error_of(E1.replace("&&C181", "&&C1G1").as_bytes());
    assert_eq!(e.error, Hj212Error::BadCrcField("C1G1".into()));

    let e = error_of(E1.replace("w01010-Rtd=14.6", "w01010-Rtd=14.7").as_bytes());
    assert!(
        matches!(e.error, Hj212Error::CrcMismatch { actual: 0xC181, .. }),
        "{e}"
    );
    assert_eq!(e.mn.as_deref(), Some(MN));
    assert_eq!(
        e.raw,
        E1.replace("w01010-Rtd=14.6", "w01010-Rtd=14.7").as_bytes()
    );

    let tight = DecoderOptions {
        default_station: StationOptions {
            max_segment_len: 100,
            ..StationOptions::default()
        },
        ..DecoderOptions::default()
    };
    let e = error_of_with(P1.as_bytes(), tight);
    assert_eq!(e.error, Hj212Error::SegmentTooLong { len: 101, max: 100 });
}

#[test]
fn data_segment_errors_skip_the_whole_frame() {
    let cases: Vec<(Vec<u8>, Hj212Error)> = vec![
        (
            b"ST=21;CN=2011;PW=1;MN=M1;Flag=4;CP=&&\xff&&".to_vec(),
            Hj212Error::InvalidUtf8,
        ),
        (
            b"ST=21;CN=2011;PW=1;MN=M1;Flag=4;&&".to_vec(),
            Hj212Error::MissingCp,
        ),
        (
            b"ST=21;CN=2011;PW=1;MN=M1;Flag;CP=&&&&".to_vec(),
            Hj212Error::MalformedHeaderField("Flag".into()),
        ),
        (
            b"ST=21;CN=2011;CN=2011;PW=1;MN=M1;CP=&&&&".to_vec(),
            Hj212Error::DuplicateField("CN".into()),
        ),
        (
            b"ST=21;CN=2011;MN=M1;CP=&&&&".to_vec(),
            Hj212Error::MissingField("PW"),
        ),
        (
            b"ST=21;CN=2011;PW=1;MN=M1;Flag=x5;CP=&&&&".to_vec(),
            Hj212Error::BadNumber {
                field: "Flag".into(),
                value: "x5".into(),
            },
        ),
        (
            b"ST=21;CN=2011;PW=1;MN=M1;Flag=7;PNUM=0;PNO=1;CP=&&&&".to_vec(),
            Hj212Error::BadPacketNumber { pnum: 0, pno: 1 },
        ),
        (
            b"ST=21;CN=2011;PW=1;MN=M1;Flag=4;CP=&&DataTime&&".to_vec(),
            Hj212Error::MalformedCpField("DataTime".into()),
        ),
        (
            b"ST=21;CN=3020;PW=1;MN=M1;Flag=4;CP=&&i11001-Info=//x&&".to_vec(),
            Hj212Error::UnterminatedInfo("i11001-Info".into()),
        ),
    ];
    for (segment, expected) in cases {
        let bad = frame(&segment);
        let e = error_of(&bad);
        assert_eq!(e.error, expected, "{}", String::from_utf8_lossy(&segment));
        assert_eq!(e.mn.as_deref(), Some("M1"));
        assert_eq!(e.raw, bad);
        let mut decoder = Hj212Decoder::default();
        decoder.push(&bad);
        assert_eq!(decoder.stats().skipped_bytes, 0, "whole frame consumed");
        assert_eq!(decoder.buffered(), 0);
    }
}

#[test]
fn bad_times_name_the_field() {
    let seg = DataSegment::parse("ST=21;CN=2011;PW=1;MN=M1;Flag=4;CP=&&DataTime=20261315093000&&")
        .expect("parses");
    let err = seg
        .data_time_utc(&StationOptions::default())
        .expect("present");
    assert_eq!(
        err,
        Err(Hj212Error::BadTime {
            field: "DataTime".into(),
            value: "20261315093000".into()
        })
    );
}

#[test]
fn truncated_and_mangled_examples_never_panic() {
    for (_, text) in ALL {
        let bytes = text.as_bytes();
        for cut in 0..bytes.len() {
            let mut decoder = Hj212Decoder::default();
            decoder.push(&bytes[..cut]);
            decoder.push(&bytes[cut + 1..]);
            decoder.push(E2.as_bytes());
            let items: Vec<_> = decoder.drain().collect();
            // Dropping one byte never produces a bogus frame, and the next frame survives.
            let ok: Vec<_> = items.iter().filter_map(|i| i.as_ref().ok()).collect();
            assert_eq!(ok.len(), 1, "{text} without byte {cut}");
            assert_eq!(ok.last().map(|f| f.raw.as_slice()), Some(E2.as_bytes()));
        }
    }
}
