//! Incremental frame extraction from a TCP byte stream (reference §2.2).
//!
//! `push` bytes as they arrive, then take decoded items with [`Hj212Decoder::next_item`] or
//! [`Hj212Decoder::drain`]. Frames may be split across reads or share one read; bytes outside
//! frames are skipped and counted; a frame that fails is reported and the decoder resynchronises
//! at the next `##`, so one bad frame never costs the following ones. A candidate still waiting
//! for its declared length is abandoned as soon as a plausible frame header shows up inside the
//! bytes it claims (a truncated `##9999…`), so it cannot hold back the frame behind it.

use std::collections::VecDeque;

use crate::error::FrameError;
use crate::frame::{Candidate, Hj212Frame, evaluate};
use crate::options::DecoderOptions;

/// One decoded item: a frame, or a dropped candidate frame with its error.
pub type DecodeResult = Result<Hj212Frame, FrameError>;

/// Counters of one decoder (one connection), for logs and metrics.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DecoderStats {
    /// Bytes pushed in total.
    pub bytes_in: u64,
    /// Frames decoded.
    pub frames: u64,
    /// Candidate frames dropped (bad length, CRC, tail, data segment, …).
    pub rejected: u64,
    /// Bytes skipped while searching for `##`: garbage between frames, and the bodies of rejected
    /// candidates that had to be rescanned.
    pub skipped_bytes: u64,
    /// Bytes dropped because the buffer limit was reached without a frame completing.
    pub overflow_bytes: u64,
}

/// Incremental HJ 212 decoder over a byte stream. Pure: no IO, no clock.
#[derive(Debug)]
pub struct Hj212Decoder {
    options: DecoderOptions,
    /// Bytes not yet decoded start at `buf[start]`; the prefix is dropped lazily to avoid moving
    /// bytes on every frame.
    buf: Vec<u8>,
    start: usize,
    out: VecDeque<DecodeResult>,
    stats: DecoderStats,
}

impl Default for Hj212Decoder {
    fn default() -> Self {
        Hj212Decoder::new(DecoderOptions::default())
    }
}

impl Hj212Decoder {
    pub fn new(options: DecoderOptions) -> Hj212Decoder {
        Hj212Decoder {
            options,
            buf: Vec::new(),
            start: 0,
            out: VecDeque::new(),
            stats: DecoderStats::default(),
        }
    }

    pub fn options(&self) -> &DecoderOptions {
        &self.options
    }

    /// Replaces the options (e.g. after the station configuration was reloaded). Bytes already
    /// buffered are judged with the new options.
    pub fn set_options(&mut self, options: DecoderOptions) {
        self.options = options;
    }

    pub fn stats(&self) -> DecoderStats {
        self.stats
    }

    /// Bytes buffered and not yet decoded (at most the buffer limit).
    pub fn buffered(&self) -> usize {
        self.buf.len() - self.start
    }

    /// The effective buffer limit: `max_buffer`, raised to hold the longest frame the default or
    /// any station allows (a UTF-16 unit is at most 3 UTF-8 bytes).
    fn limit(&self) -> usize {
        std::iter::once(&self.options.default_station)
            .chain(self.options.stations.values())
            .map(|s| {
                let factor = if s.text_units == crate::TextUnits::Utf8 {
                    1
                } else {
                    3
                };
                s.max_segment_len.saturating_mul(factor).saturating_add(16)
            })
            .fold(self.options.max_buffer, usize::max)
    }

    /// Feeds bytes and decodes every frame they complete. The input is taken in slices no larger
    /// than the buffer limit, so the buffer never holds more than the limit plus one slice.
    pub fn push(&mut self, data: &[u8]) {
        self.stats.bytes_in += data.len() as u64;
        let limit = self.limit();
        for chunk in data.chunks(limit.max(1)) {
            self.buf.extend_from_slice(chunk);
            self.extract();
            let buffered = self.buffered();
            if buffered > limit {
                // A candidate that cannot complete within the limit: give up on it and rescan.
                // Dropping only the surplus keeps a frame that may start inside the kept tail.
                let drop = buffered - limit;
                self.start += drop;
                self.stats.overflow_bytes += drop as u64;
                self.extract();
            }
            self.compact();
        }
    }

    /// The next decoded item, oldest first.
    pub fn next_item(&mut self) -> Option<DecodeResult> {
        self.out.pop_front()
    }

    /// All decoded items, oldest first.
    pub fn drain(&mut self) -> impl Iterator<Item = DecodeResult> + '_ {
        self.out.drain(..)
    }

    fn compact(&mut self) {
        if self.start > 0 && (self.start >= self.buf.len() / 2 || self.start > 64 * 1024) {
            self.buf.drain(..self.start);
            self.start = 0;
        }
    }

    fn extract(&mut self) {
        loop {
            let pending = &self.buf[self.start..];
            let Some(at) = pending.windows(2).position(|w| w == b"##") else {
                // Keep a trailing `#`: it may be the first half of the next `##`.
                let keep = usize::from(pending.last() == Some(&b'#'));
                let skip = pending.len() - keep;
                self.stats.skipped_bytes += skip as u64;
                self.start += skip;
                return;
            };
            // In a run of `#`, only the last pair can start a header (a length starts with a digit).
            let run = pending[at + 2..].iter().take_while(|&&b| b == b'#').count();
            self.stats.skipped_bytes += (at + run) as u64;
            self.start += at + run;
            match evaluate(&self.buf[self.start..], &self.options) {
                Candidate::NeedMore => return,
                Candidate::Frame(frame, used) => {
                    self.start += used;
                    self.stats.frames += 1;
                    self.out.push_back(Ok(*frame));
                }
                Candidate::Reject(error, used) => {
                    self.start += used;
                    self.stats.rejected += 1;
                    // A resynchronising skip drops the first `#` only; count it as skipped.
                    if used == 1 {
                        self.stats.skipped_bytes += 1;
                    }
                    self.out.push_back(Err(*error));
                }
            }
        }
    }
}

/// Decodes a complete byte buffer with the default options (convenience for tests and tools).
pub fn decode_all(bytes: &[u8]) -> Vec<DecodeResult> {
    let mut decoder = Hj212Decoder::default();
    decoder.push(bytes);
    decoder.drain().collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Hj212Error;
    use crate::frame::encode_frame;

    const SEGMENT: &str = "QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&";

    #[test]
    fn a_truncated_frame_does_not_hold_back_the_next() {
        let mut decoder = Hj212Decoder::default();
        decoder.push(b"##9999QN=20160801085857223;ST=32;CN=2011;PW=100000;MN=M1;Flag=5;CP=&&w01");
        assert!(
            decoder.next_item().is_none(),
            "waits while nothing tells it is cut off"
        );
        decoder.push(&encode_frame(SEGMENT));
        let items: Vec<_> = decoder.drain().collect();
        assert!(
            matches!(&items[0], Err(e) if matches!(e.error, Hj212Error::Truncated { declared: 9999, .. }) && e.mn.as_deref() == Some("M1")),
            "{items:?}"
        );
        assert!(
            matches!(items.last(), Some(Ok(f)) if f.segment.mn == "010000A8900016F000169DC0"),
            "{items:?}"
        );
        assert_eq!(decoder.buffered(), 0);
    }

    #[test]
    fn a_header_without_a_first_field_is_not_a_frame_start() {
        // `##0101` followed by something other than QN=/ST= does not abandon the candidate.
        let mut decoder = Hj212Decoder::default();
        decoder.push(b"##9999QN=1;ST=21;CN=2011;PW=1;MN=M;CP=&&a=##0101xx");
        assert!(decoder.next_item().is_none());
        // A 2005 frame starting with ST= does.
        decoder.push(b"##0101ST=21;");
        assert!(
            matches!(decoder.next_item(), Some(Err(e)) if matches!(e.error, Hj212Error::Truncated { .. }))
        );
    }

    #[test]
    fn many_truncated_fragments_cost_one_rejection_each() {
        let mut decoder = Hj212Decoder::default();
        let fragment = b"##9999QN=20260101000000000;ST=21;CN=2011;PW=x;MN=M;CP=&&w01010-Rtd=1";
        for _ in 0..1000 {
            decoder.push(fragment);
        }
        decoder.push(&encode_frame(SEGMENT));
        let items: Vec<_> = decoder.drain().collect();
        assert_eq!(
            items.len(),
            1001,
            "each fragment judged by the next header, then the frame"
        );
        assert!(items.last().is_some_and(Result::is_ok));
        assert_eq!(decoder.buffered(), 0);
    }
}
