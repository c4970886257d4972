//! HJ 212 (HJ/T 212-2005, HJ 212-2017, HJ 212-2025) codec for the qingshui ingestion service.
//!
//! Pure: no IO, no async, no threads, no clock. The TCP listener feeds bytes into an
//! [`Hj212Decoder`], takes [`Hj212Frame`]s out, appends `frame.raw` to the raw log, and only then
//! sends [`answer_frame`] (9014 only after commit and only when asked; a frame with a bad CRC is
//! reported as a [`FrameError`] and never answered).
//!
//! Numbers and defaults follow `shared/reference/hj212.md`; see `docs/hj212.md`.
//!
//! ```
//! use hj212::{Hj212Decoder, StationOptions, answer_frame};
//!
//! let wire = b"##0101QN=20160801085857223;ST=32;CN=1062;PW=100000;MN=010000A8900016F000169DC0;Flag=5;CP=&&RtdInterval=30&&1C80\r\n";
//! let mut decoder = Hj212Decoder::default();
//! decoder.push(&wire[..40]);
//! assert!(decoder.next_item().is_none());
//! decoder.push(&wire[40..]);
//! let frame = decoder.next_item().unwrap().unwrap();
//! assert_eq!(frame.segment.cp.get("RtdInterval"), Some("30"));
//! let answer = answer_frame(&frame.segment, &StationOptions::default()).unwrap();
//! assert!(answer.starts_with(b"##0087QN=20160801085857223;ST=91;CN=9014;"));
//! ```

mod answer;
mod codes;
mod cp;
mod crc;
mod decoder;
mod error;
mod frame;
mod options;
mod reassembly;
mod segment;
mod time;

pub use answer::{
    AnswerKind, CommandTarget, answer_flag, answer_for, answer_frame, answer_segment,
    backfill_request, command, data_answer, encode_answer, execute_answer, notification_answer,
    request_answer, set_time_request,
};
pub use codes::{
    Cn, CommandCode, DataFlag, DataKind, ExeRtn, Flag, ProtocolVersion, QnRtn, ST_SURFACE_WATER,
    ST_SYSTEM,
};
pub use cp::{Cp, CpField, CpItem, FactorValue};
pub use crc::{format_crc, hj212_crc, hj212_crc_utf16, modbus_crc, parse_crc_field};
pub use decoder::{DecodeResult, DecoderStats, Hj212Decoder, decode_all};
pub use error::{FrameError, Hj212Error};
pub use frame::{Hj212Frame, Tolerance, encode_frame, encode_segment};
pub use options::{
    BEIJING_UTC_OFFSET_SECONDS, CrcVariant, DecoderOptions, LineEnd, SplitMode, StationOptions,
    TextUnits,
};
pub use reassembly::{IncompleteSplit, Reassembly, SplitReassembler};
pub use segment::{DataSegment, SplitInfo};
pub use time::{format_local_time, format_qn, local_time_to_utc, qn_to_utc};
