//! The decoder over a byte stream: frames cut at every byte boundary, byte by byte, several per
//! read, garbage between frames, resynchronisation after bad frames, the buffer bound.

mod common;

use common::*;
use hj212::*;

fn frames_of(decoder: &mut Hj212Decoder) -> Vec<Vec<u8>> {
    decoder
        .drain()
        .map(|item| match item {
            Ok(frame) => frame.raw,
            Err(e) => panic!("unexpected error: {e}"),
        })
        .collect()
}

#[test]
fn every_example_split_at_every_byte_boundary() {
    for (name, text) in ALL {
        let bytes = text.as_bytes();
        for cut in 0..=bytes.len() {
            let mut decoder = Hj212Decoder::default();
            decoder.push(&bytes[..cut]);
            let early = frames_of(&mut decoder);
            if cut < bytes.len() {
                assert!(
                    early.is_empty(),
                    "{name}: frame before its last byte (cut {cut})"
                );
            }
            decoder.push(&bytes[cut..]);
            let mut all = early;
            all.extend(frames_of(&mut decoder));
            assert_eq!(all, vec![bytes.to_vec()], "{name}: cut at {cut}");
            assert_eq!(decoder.stats().skipped_bytes, 0, "{name}");
            assert_eq!(decoder.buffered(), 0, "{name}");
        }
    }
}

#[test]
fn every_example_byte_by_byte() {
    let mut decoder = Hj212Decoder::default();
    let mut got = Vec::new();
    for (_, text) in ALL {
        for b in text.as_bytes() {
            decoder.push(std::slice::from_ref(b));
            got.extend(frames_of(&mut decoder));
        }
    }
    let expected: Vec<Vec<u8>> = ALL.iter().map(|(_, t)| t.as_bytes().to_vec()).collect();
    assert_eq!(got, expected);
    assert_eq!(decoder.stats().frames, ALL.len() as u64);
}

#[test]
fn several_frames_in_one_read_and_split_across_reads() {
    let stream: Vec<u8> = ALL
        .iter()
        .flat_map(|(_, t)| t.as_bytes().to_vec())
        .collect();
    let expected: Vec<Vec<u8>> = ALL.iter().map(|(_, t)| t.as_bytes().to_vec()).collect();
    for chunk in [1, 7, 64, 100, 333, 1000, stream.len()] {
        let mut decoder = Hj212Decoder::default();
        let mut got = Vec::new();
        for part in stream.chunks(chunk) {
            decoder.push(part);
            got.extend(frames_of(&mut decoder));
        }
        assert_eq!(got, expected, "chunk {chunk}");
    }
}

#[test]
fn garbage_between_frames_is_skipped_and_counted() {
    let garbage: [&[u8]; 4] = [b"hello", b"\r\n\r\n", b"#x#", b"\x00\xff\xfe# "];
    let mut stream = Vec::new();
    let mut garbage_len = 0;
    for (i, (_, text)) in ALL.iter().enumerate() {
        let g = garbage[i % garbage.len()];
        stream.extend_from_slice(g);
        garbage_len += g.len();
        stream.extend_from_slice(text.as_bytes());
    }
    stream.extend_from_slice(b"trailing");
    garbage_len += 8;
    for chunk in [1, 13, stream.len()] {
        let mut decoder = Hj212Decoder::default();
        let mut got = Vec::new();
        for part in stream.chunks(chunk) {
            decoder.push(part);
            got.extend(frames_of(&mut decoder));
        }
        assert_eq!(got.len(), ALL.len(), "chunk {chunk}");
        let stats = decoder.stats();
        assert_eq!(stats.skipped_bytes, garbage_len as u64, "chunk {chunk}");
        assert_eq!(stats.rejected, 0);
        assert_eq!(stats.bytes_in, stream.len() as u64);
    }
}

#[test]
fn a_hash_before_the_header_does_not_eat_the_frame() {
    let mut stream = b"###".to_vec();
    stream.extend_from_slice(E1.as_bytes());
    let mut decoder = Hj212Decoder::default();
    decoder.push(&stream);
    let items: Vec<_> = decoder.drain().collect();
    let frames: Vec<_> = items.iter().filter(|i| i.is_ok()).collect();
    assert_eq!(frames.len(), 1, "{items:?}");
}

#[test]
fn bad_frames_do_not_desynchronise_the_stream() {
    // A frame with a flipped CRC, one with a wrong length, then good frames.
    let bad_crc = E1.replace("&&C181", "&&C182");
    let bad_len = E2.replace("##0087", "##0080");
    let too_long = E2.replace("##0087", "##0200");
    let stream = format!("{bad_crc}{E3_1}{bad_len}{E4_1}{too_long}{E6_1}");
    for chunk in [1, 50, stream.len()] {
        let mut decoder = Hj212Decoder::default();
        let mut items = Vec::new();
        for part in stream.as_bytes().chunks(chunk) {
            decoder.push(part);
            items.extend(decoder.drain());
        }
        let ok: Vec<String> = items
            .iter()
            .filter_map(|i| i.as_ref().ok())
            .map(|f| String::from_utf8_lossy(&f.raw).into_owned())
            .collect();
        assert_eq!(ok, [E3_1, E4_1, E6_1], "chunk {chunk}");
        let errors: Vec<&FrameError> = items.iter().filter_map(|i| i.as_ref().err()).collect();
        assert_eq!(errors.len(), 3, "chunk {chunk}: {errors:?}");
        assert_eq!(
            errors[0].error,
            Hj212Error::CrcMismatch {
                expected: 0xC181,
                actual: 0xC182
            }
        );
        // The MN of a frame whose CRC failed is exposed for logging.
        assert_eq!(errors[0].mn.as_deref(), Some("010000A8900016F000169DC0"));
        assert_eq!(
            errors[1].error,
            Hj212Error::LengthMismatch {
                declared: 80,
                actual: 87
            }
        );
        assert_eq!(
            errors[2].error,
            Hj212Error::LengthMismatch {
                declared: 200,
                actual: 87
            }
        );
        assert_eq!(decoder.stats().rejected, 3);
    }
}

#[test]
fn a_peer_cannot_grow_the_buffer() {
    let mut decoder = Hj212Decoder::default();
    let junk = vec![b'x'; 100_000];
    decoder.push(&junk);
    assert_eq!(decoder.buffered(), 0);
    // A header promising 9999 bytes, then endless filler without a frame end.
    decoder.push(b"##9999QN=1;");
    for _ in 0..100 {
        decoder.push(&[b'a'; 1000]);
        assert!(decoder.buffered() <= 16 * 1024, "{}", decoder.buffered());
    }
    let stats = decoder.stats();
    // The candidate is abandoned once the buffer is full; its bytes count as overflow.
    assert!(stats.overflow_bytes > 0, "{stats:?}");
    // The stream still works afterwards.
    decoder.push(E1.as_bytes());
    let last = decoder.drain().last().expect("an item");
    assert!(last.is_ok(), "{last:?}");
}

#[test]
fn frame_waits_for_a_declared_length_then_fails() {
    let mut decoder = Hj212Decoder::default();
    decoder.push(b"##9999QN=1;ST=21;CN=2011;PW=1;MN=M;CP=&&&&");
    assert!(decoder.next_item().is_none());
    assert!(decoder.buffered() > 0);
}
