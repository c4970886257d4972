//! Property tests: arbitrary bytes never panic the decoder; generated frames round-trip through
//! encode → decode; chunking never changes what is decoded.

mod common;

use common::ALL;
use hj212::*;
use proptest::prelude::*;

/// Options with every tolerance on, so the fuzzed paths include the compatibility code.
fn lenient() -> DecoderOptions {
    DecoderOptions {
        default_station: StationOptions {
            crc: CrcVariant::Either,
            text_units: TextUnits::Either,
            allow_short_length: true,
            line_end: LineEnd::Lf,
            split_mode: SplitMode::ConcatCp,
            ..StationOptions::default()
        },
        ..DecoderOptions::default()
    }
}

fn run(options: &DecoderOptions, bytes: &[u8], chunk: usize) -> Vec<DecodeResult> {
    let mut decoder = Hj212Decoder::new(options.clone());
    let mut items = Vec::new();
    for part in bytes.chunks(chunk.max(1)) {
        decoder.push(part);
        items.extend(decoder.drain());
        assert!(decoder.buffered() <= 64 * 1024);
    }
    items
}

/// Bytes biased towards frame syntax, so the decoder gets past the `##` search.
fn frameish() -> impl Strategy<Value = Vec<u8>> {
    let piece = prop_oneof![
        Just(b"##".to_vec()),
        Just(b"##0087".to_vec()),
        Just(b"&&".to_vec()),
        Just(b"\r\n".to_vec()),
        Just(b"CP=&&".to_vec()),
        Just(b"MN=".to_vec()),
        Just(b";".to_vec()),
        Just("清".as_bytes().to_vec()),
        prop::sample::select(ALL.to_vec()).prop_map(|(_, t)| t.as_bytes().to_vec()),
        prop::collection::vec(any::<u8>(), 0..16),
        "[0-9A-F]{1,6}".prop_map(String::into_bytes),
    ];
    prop::collection::vec(piece, 0..24).prop_map(|v| v.concat())
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in prop::collection::vec(any::<u8>(), 0..4096), chunk in 1usize..300) {
        run(&DecoderOptions::default(), &bytes, chunk);
        run(&lenient(), &bytes, chunk);
    }

    #[test]
    fn frame_like_bytes_never_panic_and_chunking_is_irrelevant(bytes in frameish(), chunk in 1usize..64) {
        for options in [DecoderOptions::default(), lenient()] {
            let whole = run(&options, &bytes, bytes.len());
            let chunked = run(&options, &bytes, chunk);
            // Judgement may happen at different times, but the frames are the same.
            let frames = |items: &[DecodeResult]| -> Vec<Vec<u8>> {
                items.iter().filter_map(|i| i.as_ref().ok()).map(|f| f.raw.clone()).collect()
            };
            prop_assert_eq!(frames(&whole), frames(&chunked));
            for item in whole.iter().filter_map(|i| i.as_ref().ok()) {
                // Reassembly never panics either.
                let _ = SplitReassembler::default().offer(item, 0);
                let _ = answer_frame(&item.segment, &options.default_station);
                // A decoded segment re-encodes canonically into a frame that decodes to it.
                if !item.cp_deferred {
                    let canonical = encode_segment(&item.segment);
                    let again = decode_all(&canonical);
                    prop_assert!(matches!(again.as_slice(), [Ok(f)] if f.segment == item.segment), "{:?}", again);
                }
            }
        }
    }
}

fn token() -> impl Strategy<Value = String> {
    "[A-Za-z0-9._+]{1,12}"
}

fn cp_field() -> impl Strategy<Value = CpField> {
    prop_oneof![
        4 => (token(), "-?[0-9]{1,6}(\\.[0-9]{1,8})?").prop_map(|(k, v)| CpField { key: format!("w{k}-Rtd"), value: v }),
        2 => (token(), token()).prop_map(|(key, value)| CpField { key, value }),
        1 => "[ -+.-:<-~清洗管路]{0,20}".prop_map(|text| CpField {
            key: "i11001-Info".into(),
            value: format!("//{}//", text.replace('/', "")),
        }),
    ]
}

fn segment() -> impl Strategy<Value = DataSegment> {
    let cp =
        prop::collection::vec(prop::collection::vec(cp_field(), 1..4), 0..12).prop_map(|items| {
            Cp {
                items: items.into_iter().map(|fields| CpItem { fields }).collect(),
            }
        });
    let split = prop::option::of((1u16..=9999).prop_flat_map(|pnum| (Just(pnum), 1..=pnum)));
    (
        prop::option::of("[0-9]{17}"),
        "[0-9A-Z]{2}",
        0u16..=9999,
        "[A-Za-z0-9]{1,24}",
        "[A-Za-z0-9]{1,24}",
        prop::option::of(any::<u8>()),
        split,
        cp,
    )
        .prop_map(|(qn, st, cn, pw, mn, flag, split, cp)| DataSegment {
            qn,
            st,
            cn: Cn(cn),
            pw,
            mn,
            flag: flag.map(Flag),
            split: split.map(|(pnum, pno)| SplitInfo { pnum, pno }),
            extra: Vec::new(),
            cp,
        })
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(512))]

    #[test]
    fn encode_then_decode_round_trips(seg in segment(), garbage in "[a-z \r\n]{0,8}", chunk in 1usize..200) {
        let bytes = encode_segment(&seg);
        let mut stream = garbage.clone().into_bytes();
        stream.extend_from_slice(&bytes);
        stream.extend_from_slice(&bytes);
        let items = run(&DecoderOptions::default(), &stream, chunk);
        prop_assert_eq!(items.len(), 2);
        for item in items {
            let frame = item.map_err(|e| TestCaseError::fail(e.to_string()))?;
            prop_assert_eq!(&frame.segment, &seg);
            prop_assert_eq!(&frame.raw, &bytes);
            prop_assert_eq!(encode_segment(&frame.segment), bytes.clone());
        }
    }
}
