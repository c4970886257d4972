//! Decode errors. Every malformed kind is its own variant so the server can count them apart.

use std::fmt;

/// What is wrong with one frame or one field.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Hj212Error {
    /// The 4 characters after `##` are not a decimal length.
    #[error("length field {0:?} is not 4 decimal digits")]
    BadLengthField(String),
    /// A 3-digit length field (`##453QN=…`) from a station without `allow_short_length`.
    #[error("3-digit length field {0:?} (allow_short_length is off for this station)")]
    ShortLengthField(String),
    /// The declared length does not end where the frame ends.
    #[error("length field says {declared} but the data segment is {actual} long")]
    LengthMismatch { declared: usize, actual: usize },
    /// A new frame header arrived before the declared length was reached: the frame was cut
    /// off (its `received` bytes are dropped so the following frame is judged at once).
    #[error("length field says {declared} but a new frame header follows after {received}")]
    Truncated { declared: usize, received: usize },
    /// The frame does not end with the station's line end where the length says it should, and
    /// no plausible end was found either.
    #[error("frame does not end with the expected line end")]
    MissingLineEnd,
    /// The data segment is longer than `max_segment_len`.
    #[error("data segment of {len} exceeds the limit of {max}")]
    SegmentTooLong { len: usize, max: usize },
    /// The 4 characters before the line end are not hex digits.
    #[error("CRC field {0:?} is not 4 hex digits")]
    BadCrcField(String),
    /// The CRC in the frame (`actual`) differs from the one computed over the data segment.
    #[error("CRC mismatch: frame says {actual:04X}, data segment gives {expected:04X}")]
    CrcMismatch { expected: u16, actual: u16 },
    /// The data segment is not UTF-8.
    #[error("data segment is not valid UTF-8")]
    InvalidUtf8,
    /// The data segment has no `CP=&&…&&` area.
    #[error("data segment has no CP=&&…&& area")]
    MissingCp,
    /// A header field is not `NAME=value`.
    #[error("header field {0:?} is not NAME=value")]
    MalformedHeaderField(String),
    /// A header field appears twice.
    #[error("header field {0} appears twice")]
    DuplicateField(String),
    /// A required header field is absent.
    #[error("required field {0} is missing")]
    MissingField(&'static str),
    /// A field that must be a number is not one.
    #[error("field {field} has bad number {value:?}")]
    BadNumber { field: String, value: String },
    /// PNO is outside 1..=PNUM (or PNUM is 0).
    #[error("PNO {pno} is outside 1..={pnum}")]
    BadPacketNumber { pnum: u16, pno: u16 },
    /// A CP token is not `NAME=value`.
    #[error("CP field {0:?} is not NAME=value")]
    MalformedCpField(String),
    /// An Info value opens `//` without closing it.
    #[error("Info text of {0} is not closed by //")]
    UnterminatedInfo(String),
    /// A timestamp field (DataTime, QN, …) is not a valid local time.
    #[error("field {field} has bad time {value:?}")]
    BadTime { field: String, value: String },
}

/// A frame the decoder had to drop: the error, the MN when readable (for logging which station
/// sends garbage, even when the CRC failed), and the bytes of the candidate frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FrameError {
    pub error: Hj212Error,
    pub mn: Option<String>,
    /// The candidate frame from `##` to where it was judged (at most the declared frame).
    pub raw: Vec<u8>,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.mn {
            Some(mn) => write!(f, "frame from MN {mn} dropped: {}", self.error),
            None => write!(f, "frame dropped: {}", self.error),
        }
    }
}

impl std::error::Error for FrameError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.error)
    }
}
