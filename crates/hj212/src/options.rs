//! Per-station compatibility switches (reference §15) and per-connection decoder limits.
//!
//! The default of every switch is the reference's strict default; tolerances are switched on
//! per station, keyed by MN, because one non-conforming device must not weaken the checks for
//! the others.

use std::collections::BTreeMap;

use crate::codes::Cn;

/// Which checksum a station sends (reference §15, `crc`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum CrcVariant {
    /// The HJ 212 CRC of §4 (default).
    #[default]
    Hj212,
    /// CRC-16/MODBUS, seen in linqiu126/hcu.
    Modbus,
    /// Accept either.
    Either,
}

/// What the 4-digit length and the CRC are computed over (reference §2.1, `text_units`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TextUnits {
    /// UTF-8 bytes (default; inferred from the standard's encoding clause).
    #[default]
    Utf8,
    /// UTF-16 code units, as Java `char` / C# `string` implementations do.
    Utf16,
    /// Bytes first; the UTF-16 variant is retried only when the frame has non-ASCII bytes.
    Either,
}

/// What follows the CRC (reference §15, `line_end`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum LineEnd {
    /// CR LF (default).
    #[default]
    CrLf,
    /// LF only.
    Lf,
    /// Nothing: the length field alone delimits the frame.
    None,
}

/// How split sub-packets (拆分包) are handled (reference §2.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SplitMode {
    /// Every sub-packet is a standalone record; storage merges on the observation key (default).
    #[default]
    Standalone,
    /// `concat_split_cp`: buffer the parts and join their CP bodies in PNO order, for devices that
    /// cut CP in the middle of an item.
    ConcatCp,
}

/// The compatibility switches of one station. `Default` gives the reference's defaults.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StationOptions {
    /// `crc`: which checksum is accepted. Default HJ 212 only.
    pub crc: CrcVariant,
    /// `text_units`: length and CRC over UTF-8 bytes or UTF-16 units. Default bytes.
    pub text_units: TextUnits,
    /// `max_segment_len`: longest accepted data segment. Default 9999 (all the 4-digit field can
    /// say); the standard's 1024 only produces a warning note.
    pub max_segment_len: usize,
    /// Above this length a frame is accepted with a [`crate::Tolerance::OversizeSegment`] note.
    /// Default 1024, the standard's limit.
    pub warn_segment_len: usize,
    /// `allow_short_length`: accept a 3-digit length field (`##453QN=…`). Default off.
    pub allow_short_length: bool,
    /// `line_end`: expected tail. Default CR LF.
    pub line_end: LineEnd,
    /// `force_version`: version (Flag >> 2) to put in answers instead of mirroring the request's.
    pub force_version: Option<u8>,
    /// `answer_st_mirror`: answer with the station's ST instead of 91. Default off.
    pub answer_st_mirror: bool,
    /// `heartbeat_cn`: vendor heartbeat CNs (e.g. 9021), answered with `heartbeat_answer_cn` when
    /// A=1. The 2025 heartbeat 9015 is always recognised. Default none.
    pub heartbeat_cn: Vec<Cn>,
    /// `heartbeat_answer_cn`: the answer to a vendor heartbeat. Default 9013.
    pub heartbeat_answer_cn: Cn,
    /// `concat_split_cp`: how split packets are reassembled. Default standalone.
    pub split_mode: SplitMode,
    /// Offset of station clocks from UTC in seconds: DataTime, SystemTime and QN carry no zone.
    /// Default Beijing time, +08:00, no DST (reference §12).
    pub utc_offset_seconds: i32,
}

/// Beijing time (UTC+08:00), the zone of every DataTime/QN by default.
pub const BEIJING_UTC_OFFSET_SECONDS: i32 = 8 * 3600;

impl Default for StationOptions {
    fn default() -> Self {
        StationOptions {
            crc: CrcVariant::Hj212,
            text_units: TextUnits::Utf8,
            max_segment_len: 9999,
            warn_segment_len: 1024,
            allow_short_length: false,
            line_end: LineEnd::CrLf,
            force_version: None,
            answer_st_mirror: false,
            heartbeat_cn: Vec::new(),
            heartbeat_answer_cn: Cn::NOTIFICATION_ANSWER,
            split_mode: SplitMode::Standalone,
            utc_offset_seconds: BEIJING_UTC_OFFSET_SECONDS,
        }
    }
}

/// Options of one decoder (one TCP connection). One connection may carry several MNs, so the
/// station switches are looked up per frame by the MN read from the frame header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecoderOptions {
    /// Upper bound of buffered, not yet decoded bytes. Default 16 KiB (reference §2.2). Raised
    /// automatically to hold the longest frame `max_segment_len` allows.
    pub max_buffer: usize,
    /// Switches for stations without an entry in `stations`.
    pub default_station: StationOptions,
    /// Switches per MN.
    pub stations: BTreeMap<String, StationOptions>,
}

impl Default for DecoderOptions {
    fn default() -> Self {
        DecoderOptions {
            max_buffer: 16 * 1024,
            default_station: StationOptions::default(),
            stations: BTreeMap::new(),
        }
    }
}

impl DecoderOptions {
    /// The switches for a station; the defaults when the MN is unknown or unreadable.
    pub fn station(&self, mn: Option<&str>) -> &StationOptions {
        mn.and_then(|mn| self.stations.get(mn))
            .unwrap_or(&self.default_station)
    }
}
