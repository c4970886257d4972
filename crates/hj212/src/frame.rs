//! The communication packet (通讯包, reference §2): `##` + length + data segment + CRC + line
//! end. This module judges one candidate frame that starts at `##`; the stream handling lives in
//! `decoder.rs`.

use crate::cp::{Cp, find};
use crate::crc::{format_crc, hj212_crc, hj212_crc_utf16, modbus_crc, parse_crc_field};
use crate::error::{FrameError, Hj212Error};
use crate::options::{CrcVariant, DecoderOptions, LineEnd, SplitMode, StationOptions, TextUnits};
use crate::segment::DataSegment;

/// A compatibility tolerance that fired for a frame. The raw frame is stored anyway; these are
/// for logging and counting (reference §15: every tolerance that fires is logged and counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Tolerance {
    /// The CRC was sent in lowercase hex (accepted by default).
    LowercaseCrc,
    /// The CRC matched CRC-16/MODBUS, not the HJ 212 CRC (`crc = modbus | either`).
    ModbusCrc,
    /// Length and CRC were over UTF-16 units (`text_units = utf16 | either`).
    Utf16Units,
    /// The data segment is longer than the standard's 1024 bytes (`warn_segment_len`).
    OversizeSegment(usize),
    /// 3-digit length field (`allow_short_length`).
    ShortLengthField,
    /// The frame ended with LF only, or with nothing (`line_end`).
    NonStandardLineEnd,
}

/// A decoded frame: the parsed data segment and the bytes as received, for the raw log.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Hj212Frame {
    pub segment: DataSegment,
    /// The whole frame as received, `##` to line end.
    pub raw: Vec<u8>,
    /// The CRC as sent (after the case-insensitive check).
    pub crc: u16,
    pub tolerances: Vec<Tolerance>,
    /// True for a split sub-packet of a `concat_split_cp` station: `segment.cp` is left empty and
    /// the CP body is parsed by [`crate::SplitReassembler`] once all parts are there.
    pub cp_deferred: bool,
    segment_start: usize,
    segment_len: usize,
}

impl Hj212Frame {
    /// The data segment bytes as received (what the CRC covers).
    pub fn segment_bytes(&self) -> &[u8] {
        &self.raw[self.segment_start..self.segment_start + self.segment_len]
    }

    /// The CP body as received, between `CP=&&` and the closing `&&`.
    pub fn cp_body(&self) -> Option<&str> {
        let text = std::str::from_utf8(self.segment_bytes()).ok()?;
        let at = text.find("CP=&&")?;
        text[at + 5..].strip_suffix("&&")
    }

    /// MN of the station that sent the frame.
    pub fn mn(&self) -> &str {
        &self.segment.mn
    }
}

/// Wraps a data segment into a frame: 4-digit UTF-8 byte length, uppercase HJ 212 CRC, CR LF.
/// Segments longer than 9999 bytes cannot be framed; callers build them from bounded parts.
pub fn encode_frame(segment: &str) -> Vec<u8> {
    let bytes = segment.as_bytes();
    let mut out = Vec::with_capacity(bytes.len() + 12);
    out.extend_from_slice(b"##");
    out.extend_from_slice(format!("{:04}", bytes.len()).as_bytes());
    out.extend_from_slice(bytes);
    out.extend_from_slice(&format_crc(hj212_crc(bytes)));
    out.extend_from_slice(b"\r\n");
    out
}

/// Encodes a data segment model into a frame.
pub fn encode_segment(segment: &DataSegment) -> Vec<u8> {
    encode_frame(&segment.encode())
}

/// Outcome of judging the bytes at a `##`.
pub(crate) enum Candidate {
    /// The frame is not complete yet.
    NeedMore,
    /// A frame, and how many bytes it took.
    Frame(Box<Hj212Frame>, usize),
    /// A dropped frame, and how many bytes to skip: 1 to resynchronise from the next byte when
    /// the framing itself failed, the whole frame when only its data segment was malformed.
    Reject(Box<FrameError>, usize),
}

struct LengthField {
    declared: usize,
    segment_start: usize,
    short: bool,
}

/// Reads the length field; `Ok(None)` when more bytes are needed.
fn length_field(buf: &[u8]) -> Result<Option<LengthField>, Hj212Error> {
    let digits = buf[2..buf.len().min(6)]
        .iter()
        .take_while(|b| b.is_ascii_digit())
        .count();
    let available = buf.len().min(6) - 2;
    let field_text = || String::from_utf8_lossy(&buf[2..buf.len().min(6)]).into_owned();
    let value = |n: usize| {
        buf[2..2 + n]
            .iter()
            .fold(0usize, |acc, b| acc * 10 + usize::from(b - b'0'))
    };
    match digits {
        4 => Ok(Some(LengthField {
            declared: value(4),
            segment_start: 6,
            short: false,
        })),
        3 if available == 4 => Ok(Some(LengthField {
            declared: value(3),
            segment_start: 5,
            short: true,
        })),
        d if d == available => Ok(None),
        _ => Err(Hj212Error::BadLengthField(field_text())),
    }
}

/// Reads `MN=…` from a header for logging and for looking up the station's switches, before the
/// frame has been validated. Only printable ASCII up to 64 characters is believed.
pub(crate) fn mn_hint(segment: &[u8]) -> Option<String> {
    let mut from = 0;
    while let Some(at) = find(&segment[from..], b"MN=") {
        let at = from + at;
        if at == 0 || matches!(segment[at - 1], b';' | b',' | b' ') {
            let value: &[u8] = segment[at + 3..]
                .split(|b| matches!(b, b';' | b',' | b'&'))
                .next()
                .unwrap_or_default();
            let ok = !value.is_empty()
                && value.len() <= 64
                && value.iter().all(|b| b.is_ascii_graphic());
            return ok.then(|| String::from_utf8_lossy(value).into_owned());
        }
        from = at + 3;
    }
    None
}

/// Where a data segment plausibly ends: the first `&&` followed by 4 hex digits and a line end
/// (or the next `##`), searched only up to the next `##` so that the following frame's end is
/// never mistaken for this one's. Used to tell a wrong length field from a corrupt tail, and to
/// fail fast instead of waiting for bytes that a too-large length field claims.
/// Returns the end and whether the search region was closed by a following `##`.
fn plausible_segment_end(buf: &[u8], from: usize) -> (Option<usize>, bool) {
    let next_frame = find(&buf[from..], b"##").map(|k| from + k + 2);
    let region = &buf[..next_frame.unwrap_or(buf.len())];
    let mut at = from;
    while let Some(k) = find(&region[at..], b"&&") {
        let end = at + k + 2;
        let rest = &region[end..];
        if rest.len() >= 5
            && parse_crc_field(&rest[..4]).is_some()
            && (rest[4] == b'\n' || rest[4..].starts_with(b"\r\n") || rest[4..].starts_with(b"##"))
        {
            return (Some(end), true);
        }
        at = end - 1;
    }
    (None, next_frame.is_some())
}

/// The first plausible frame header in `buf[from..before]`: `##`, a 3- or 4-digit length and
/// the first header field (`QN=` or, for frames without QN, `ST=`). Only the bytes up to
/// `before` (the end the current candidate claims) are searched.
fn next_plausible_header(buf: &[u8], from: usize, before: usize) -> Option<usize> {
    let region = &buf[..before.min(buf.len())];
    let mut at = from;
    while let Some(k) = find(&region[at..], b"##") {
        let pos = at + k;
        let rest = &buf[pos + 2..];
        let digits = rest
            .iter()
            .take(4)
            .take_while(|b| b.is_ascii_digit())
            .count();
        let field = rest.get(digits..digits + 3);
        if digits >= 3 && matches!(field, Some(b"QN=") | Some(b"ST=")) {
            return Some(pos);
        }
        at = pos + 1;
    }
    None
}

/// Judges the candidate frame at the start of `buf` (which starts with `##`).
pub(crate) fn evaluate(buf: &[u8], options: &DecoderOptions) -> Candidate {
    let reject = |error: Hj212Error, mn: Option<String>, upto: usize| {
        Candidate::Reject(
            Box::new(FrameError {
                error,
                mn,
                raw: buf[..upto.min(buf.len())].to_vec(),
            }),
            1,
        )
    };
    let field = match length_field(buf) {
        Ok(Some(field)) => field,
        Ok(None) => return Candidate::NeedMore,
        Err(error) => return reject(error, None, 6),
    };
    let start = field.segment_start;
    let min_end = start + field.declared;
    if buf.len() < min_end + 4 {
        // Fail fast when the frame visibly ends before the declared length.
        if let (Some(end), _) = plausible_segment_end(buf, start)
            && end < min_end
        {
            let mn = mn_hint(&buf[start..end]);
            let error = Hj212Error::LengthMismatch {
                declared: field.declared,
                actual: end - start,
            };
            return reject(error, mn, end + 6);
        }
        // A truncated frame (`##9999…` cut off, the real frame behind it) would otherwise hold
        // back every later frame until the declared length arrived. A data segment never holds
        // a frame header, so one inside the bytes this candidate claims means it cannot be right.
        if let Some(header) = next_plausible_header(buf, start, min_end) {
            let mn = mn_hint(&buf[start..header]);
            let error = Hj212Error::Truncated {
                declared: field.declared,
                received: header - start,
            };
            return reject(error, mn, header);
        }
        return Candidate::NeedMore;
    }
    let mn = mn_hint(&buf[start..min_end]);
    let station = options.station(mn.as_deref());
    if field.short && !station.allow_short_length {
        let text = String::from_utf8_lossy(&buf[2..5]).into_owned();
        return reject(Hj212Error::ShortLengthField(text), mn, 6);
    }
    if field.declared > station.max_segment_len {
        let error = Hj212Error::SegmentTooLong {
            len: field.declared,
            max: station.max_segment_len,
        };
        return reject(error, mn, min_end);
    }
    let utf8 = match station.text_units {
        TextUnits::Utf16 => None,
        _ => Some(check_layout(buf, start, field.declared, false, station)),
    };
    let checked = match (utf8, station.text_units) {
        (Some(Layout::Ok(ok)), _) => Layout::Ok(ok),
        (Some(Layout::NeedMore), _) => return Candidate::NeedMore,
        (Some(Layout::Err(error, upto)), TextUnits::Either) if !buf[start..min_end].is_ascii() => {
            match check_layout(buf, start, field.declared, true, station) {
                Layout::Ok(ok) => Layout::Ok(ok),
                Layout::NeedMore => return Candidate::NeedMore,
                Layout::Err(..) => Layout::Err(error, upto),
            }
        }
        (Some(failed), _) => failed,
        (None, _) => check_layout(buf, start, field.declared, true, station),
    };
    let ok = match checked {
        Layout::Ok(ok) => ok,
        Layout::NeedMore => return Candidate::NeedMore,
        Layout::Err(error, upto) => return reject(error, mn, upto),
    };
    let mut tolerances = ok.tolerances;
    if field.short {
        tolerances.push(Tolerance::ShortLengthField);
    }
    if ok.segment_len > station.warn_segment_len {
        tolerances.push(Tolerance::OversizeSegment(ok.segment_len));
    }
    let segment_bytes = &buf[start..start + ok.segment_len];
    let parsed = std::str::from_utf8(segment_bytes)
        .map_err(|_| Hj212Error::InvalidUtf8)
        .and_then(|text| parse_segment(text, station));
    match parsed {
        Ok((segment, cp_deferred)) => Candidate::Frame(
            Box::new(Hj212Frame {
                segment,
                raw: buf[..ok.end].to_vec(),
                crc: ok.crc,
                tolerances,
                cp_deferred,
                segment_start: start,
                segment_len: ok.segment_len,
            }),
            ok.end,
        ),
        // The frame is well delimited and its CRC holds: skip all of it.
        Err(error) => Candidate::Reject(
            Box::new(FrameError {
                error,
                mn,
                raw: buf[..ok.end].to_vec(),
            }),
            ok.end,
        ),
    }
}

fn parse_segment(text: &str, station: &StationOptions) -> Result<(DataSegment, bool), Hj212Error> {
    let (mut segment, body) = DataSegment::parse_deferring_cp(text)?;
    if segment.split.is_some() && station.split_mode == SplitMode::ConcatCp {
        return Ok((segment, true));
    }
    segment.cp = Cp::parse(body)?;
    Ok((segment, false))
}

struct LayoutOk {
    segment_len: usize,
    end: usize,
    crc: u16,
    tolerances: Vec<Tolerance>,
}

enum Layout {
    Ok(LayoutOk),
    NeedMore,
    /// The error and how many bytes of the candidate to report.
    Err(Hj212Error, usize),
}

/// Byte length of a segment of `units` UTF-16 code units; `Ok(None)` when more bytes are needed.
fn utf16_span(bytes: &[u8], units: usize) -> Result<Option<usize>, Hj212Error> {
    let (mut pos, mut counted) = (0, 0);
    while counted < units {
        let Some(&lead) = bytes.get(pos) else {
            return Ok(None);
        };
        let (len, weight) = match lead {
            0x00..=0x7F => (1, 1),
            0xC2..=0xDF => (2, 1),
            0xE0..=0xEF => (3, 1),
            0xF0..=0xF4 => (4, 2),
            _ => return Err(Hj212Error::InvalidUtf8),
        };
        if bytes.len() < pos + len {
            return Ok(None);
        }
        if std::str::from_utf8(&bytes[pos..pos + len]).is_err() {
            return Err(Hj212Error::InvalidUtf8);
        }
        pos += len;
        counted += weight;
    }
    if counted != units {
        // A surrogate pair straddles the declared length.
        return Err(Hj212Error::InvalidUtf8);
    }
    Ok(Some(pos))
}

/// Checks line end and CRC of the segment that starts at `start`, with the length counted in
/// bytes or (for `utf16`) in UTF-16 units.
fn check_layout(
    buf: &[u8],
    start: usize,
    declared: usize,
    utf16: bool,
    station: &StationOptions,
) -> Layout {
    let segment_len = if utf16 {
        match utf16_span(&buf[start..], declared) {
            Ok(Some(len)) => len,
            Ok(None) => return Layout::NeedMore,
            Err(error) => return Layout::Err(error, start + declared),
        }
    } else {
        declared
    };
    let crc_at = start + segment_len;
    let tail_at = crc_at + 4;
    let tail_len = match station.line_end {
        LineEnd::CrLf => 2,
        LineEnd::None => 0,
        // `lf` also takes CR LF: the station's switch loosens, it never forbids the standard.
        LineEnd::Lf => match buf.get(tail_at) {
            None => return Layout::NeedMore,
            Some(b'\r') => 2,
            Some(_) => 1,
        },
    };
    let end = tail_at + tail_len;
    if buf.len() < end {
        return Layout::NeedMore;
    }
    let tail = &buf[tail_at..end];
    let tail_ok = match station.line_end {
        LineEnd::CrLf => tail == b"\r\n",
        LineEnd::Lf => tail == b"\n" || tail == b"\r\n",
        LineEnd::None => true,
    };
    if !tail_ok {
        let error = match plausible_segment_end(buf, start) {
            (Some(actual_end), _) if actual_end != crc_at => Hj212Error::LengthMismatch {
                declared,
                actual: actual_end - start,
            },
            // Nothing tells yet where this frame really ends: the rest may still be arriving.
            (None, false) => return Layout::NeedMore,
            _ => Hj212Error::MissingLineEnd,
        };
        return Layout::Err(error, end);
    }
    let Some((sent, lowercase)) = parse_crc_field(&buf[crc_at..tail_at]) else {
        let text = String::from_utf8_lossy(&buf[crc_at..tail_at]).into_owned();
        return Layout::Err(Hj212Error::BadCrcField(text), end);
    };
    let segment = &buf[start..crc_at];
    let mut tolerances = Vec::new();
    let hj212 = || {
        if utf16 {
            // The span was checked to be UTF-8 above.
            std::str::from_utf8(segment).map_or(0, hj212_crc_utf16)
        } else {
            hj212_crc(segment)
        }
    };
    let expected = match station.crc {
        CrcVariant::Hj212 => hj212(),
        CrcVariant::Modbus => modbus_crc(segment),
        CrcVariant::Either => {
            let h = hj212();
            if h == sent { h } else { modbus_crc(segment) }
        }
    };
    if expected != sent {
        return Layout::Err(
            Hj212Error::CrcMismatch {
                expected,
                actual: sent,
            },
            end,
        );
    }
    if station.crc != CrcVariant::Hj212 && expected != hj212() {
        tolerances.push(Tolerance::ModbusCrc);
    }
    if lowercase {
        tolerances.push(Tolerance::LowercaseCrc);
    }
    if utf16 && !segment.is_ascii() {
        tolerances.push(Tolerance::Utf16Units);
    }
    if tail != b"\r\n" {
        tolerances.push(Tolerance::NonStandardLineEnd);
    }
    Layout::Ok(LayoutOk {
        segment_len,
        end,
        crc: sent,
        tolerances,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mn_hint_reads_only_the_mn_field() {
        assert_eq!(
            mn_hint(b"QN=1;ST=21;PMN=x;MN=ABC123;Flag=5").as_deref(),
            Some("ABC123")
        );
        assert_eq!(
            mn_hint(b"MN=ZLDSZ20210127&&").as_deref(),
            Some("ZLDSZ20210127")
        );
        assert_eq!(mn_hint(b"ST=21;CN=2011"), None);
        assert_eq!(mn_hint(b"ST=21;MN=\x01;"), None);
    }

    #[test]
    fn utf16_span_counts_units() {
        let text = "a清b".as_bytes();
        assert_eq!(utf16_span(text, 3), Ok(Some(5)));
        assert_eq!(utf16_span(text, 4), Ok(None));
        assert_eq!(utf16_span(b"\xff", 1), Err(Hj212Error::InvalidUtf8));
        assert_eq!(utf16_span("😀".as_bytes(), 1), Err(Hj212Error::InvalidUtf8));
    }

    #[test]
    fn encodes_p1() {
        let seg = "QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&";
        let frame = encode_frame(seg);
        assert!(frame.starts_with(b"##0101QN="));
        assert!(frame.ends_with(b"&&1C80\r\n"));
    }
}
