//! Fuzzes the HJ 212 stream decoder: arbitrary bytes, cut into reads at fuzzer-chosen points,
//! under the strict defaults and with every compatibility switch on.
//!
//! Invariants checked besides "no panic": the buffer stays bounded, and every decoded frame
//! re-encodes canonically into a frame that decodes to the same data segment.

#![no_main]

use hj212::{
    CrcVariant, DecoderOptions, Hj212Decoder, LineEnd, SplitMode, SplitReassembler, StationOptions,
    TextUnits, answer_frame, decode_all, encode_segment,
};
use libfuzzer_sys::fuzz_target;

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

fuzz_target!(|data: &[u8]| {
    // The first byte chooses the read size, so frames get cut at every kind of boundary.
    let (chunk, bytes) = match data.split_first() {
        Some((&c, rest)) => (usize::from(c) + 1, rest),
        None => (1, data),
    };
    for options in [DecoderOptions::default(), lenient()] {
        let mut decoder = Hj212Decoder::new(options.clone());
        let mut reassembler = SplitReassembler::default();
        for (t, read) in bytes.chunks(chunk).enumerate() {
            decoder.push(read);
            assert!(decoder.buffered() <= 64 * 1024);
            for frame in decoder.drain().flatten() {
                let _ = answer_frame(&frame.segment, &options.default_station);
                let _ = reassembler.offer(&frame, t as u64);
                if frame.cp_deferred {
                    continue;
                }
                let canonical = encode_segment(&frame.segment);
                if canonical.len() <= 9999 + 12 {
                    let again = decode_all(&canonical);
                    match again.as_slice() {
                        [Ok(f)] => assert_eq!(f.segment, frame.segment),
                        other => panic!("canonical re-encoding did not decode: {other:?}"),
                    }
                }
            }
        }
        let _ = reassembler.expire(u64::MAX);
    }
});
