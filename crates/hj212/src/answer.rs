//! What the platform answers (reference §10.2) and the answer/command frames themselves.
//!
//! The decision ([`answer_for`]) is separate from the bytes ([`encode_answer`]) because the
//! server must send a 9014 only after the raw frame is durably committed, and never for a frame
//! whose CRC failed (such frames never reach this module: the decoder drops them).

use crate::codes::{Cn, ExeRtn, Flag, QnRtn, ST_SYSTEM};
use crate::cp::Cp;
use crate::frame::encode_segment;
use crate::options::StationOptions;
use crate::segment::DataSegment;
use crate::time::{format_local_time, format_qn};

/// The answer a received frame calls for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum AnswerKind {
    /// 9014 data answer: uploads (and unknown CNs, so the device stops retrying) with A=1.
    Data,
    /// 9013 notification answer: 1013 time-calibration requests and 9015 heartbeats (regardless
    /// of A, as the standard's 1013 example carries Flag=4), vendor heartbeats with A=1.
    Notification,
    /// A configured `heartbeat_answer_cn` other than 9013.
    Custom(Cn),
}

impl AnswerKind {
    pub fn cn(self) -> Cn {
        match self {
            AnswerKind::Data => Cn::DATA_ANSWER,
            AnswerKind::Notification => Cn::NOTIFICATION_ANSWER,
            AnswerKind::Custom(cn) => cn,
        }
    }
}

/// Which answer, if any, the platform sends for a frame that passed framing and CRC.
///
/// * 9011–9014 (answers to our requests): none; match them to the pending request by QN.
/// * 1013 and 9015: 9013 regardless of A. After a 1013 the server also sends a 1012
///   ([`set_time_request`]).
/// * vendor heartbeat CNs with A=1: `heartbeat_answer_cn` (9013 by default).
/// * anything else with A=1 (uploads, unknown CNs): 9014. A=0 or no Flag (2005): none.
pub fn answer_for(segment: &DataSegment, options: &StationOptions) -> Option<AnswerKind> {
    let cn = segment.cn;
    if cn.is_answer() {
        return None;
    }
    if cn == Cn::TIME_CALIBRATION_REQUEST || cn == Cn::HEARTBEAT_2025 {
        return Some(AnswerKind::Notification);
    }
    if !segment.answer_requested() {
        return None;
    }
    if options.heartbeat_cn.contains(&cn) {
        return Some(match options.heartbeat_answer_cn {
            Cn::NOTIFICATION_ANSWER => AnswerKind::Notification,
            Cn::DATA_ANSWER => AnswerKind::Data,
            other => AnswerKind::Custom(other),
        });
    }
    Some(AnswerKind::Data)
}

/// [`answer_for`] and [`encode_answer`] in one step.
pub fn answer_frame(segment: &DataSegment, options: &StationOptions) -> Option<Vec<u8>> {
    answer_for(segment, options)
        .map(|kind| encode_answer(segment, kind.cn(), Cp::default(), options))
}

/// 9014 data answer echoing QN, PW and MN.
pub fn data_answer(request: &DataSegment, options: &StationOptions) -> Vec<u8> {
    encode_answer(request, Cn::DATA_ANSWER, Cp::default(), options)
}

/// 9013 notification answer echoing QN.
pub fn notification_answer(request: &DataSegment, options: &StationOptions) -> Vec<u8> {
    encode_answer(request, Cn::NOTIFICATION_ANSWER, Cp::default(), options)
}

/// 9011 request answer with `QnRtn`.
pub fn request_answer(request: &DataSegment, rtn: QnRtn, options: &StationOptions) -> Vec<u8> {
    let cp = Cp::from_pairs([("QnRtn", rtn.code().to_string())]);
    encode_answer(request, Cn::REQUEST_ANSWER, cp, options)
}

/// 9012 execution answer with `ExeRtn` (echoes the **request** QN, also after a backfill).
pub fn execute_answer(request: &DataSegment, rtn: ExeRtn, options: &StationOptions) -> Vec<u8> {
    let cp = Cp::from_pairs([("ExeRtn", rtn.code().to_string())]);
    encode_answer(request, Cn::EXECUTE_ANSWER, cp, options)
}

/// The version bits an answer carries: `force_version` if set, else the request's (A=0, D=0);
/// 0 for 2005 frames without Flag.
pub fn answer_flag(request: &DataSegment, options: &StationOptions) -> Flag {
    match options.force_version {
        Some(version) => Flag::new(version, false, false),
        None => request.flag.map_or(Flag(0), Flag::version_bits),
    }
}

/// The answer data segment: `QN=<same>;ST=91;CN=<cn>;PW=<same>;MN=<same>;Flag=<version bits>;
/// CP=&&<cp>&&`. For version 0 (2005) the QN moves into CP (`CP=&&QN=…;QnRtn=1&&`) and
/// Flag=0, as 2005 answers do.
pub fn answer_segment(
    request: &DataSegment,
    cn: Cn,
    cp: Cp,
    options: &StationOptions,
) -> DataSegment {
    let flag = answer_flag(request, options);
    let st = if options.answer_st_mirror {
        request.st.clone()
    } else {
        ST_SYSTEM.to_string()
    };
    let (qn, cp) = match (&request.qn, flag.version()) {
        (Some(qn), 0) => {
            let mut items = Cp::from_pairs([("QN", qn.clone())]).items;
            items.extend(cp.items);
            (None, Cp { items })
        }
        (qn, _) => (qn.clone(), cp),
    };
    DataSegment {
        qn,
        st,
        cn,
        pw: request.pw.clone(),
        mn: request.mn.clone(),
        flag: Some(flag),
        split: None,
        extra: Vec::new(),
        cp,
    }
}

/// The answer frame bytes.
pub fn encode_answer(request: &DataSegment, cn: Cn, cp: Cp, options: &StationOptions) -> Vec<u8> {
    encode_segment(&answer_segment(request, cn, cp, options))
}

/// Addressing of a platform → station command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CommandTarget {
    /// ST of the station (21 for our surface-water stations).
    pub st: String,
    pub pw: String,
    pub mn: String,
    /// Flag version of the station: 1 = 2017, 2 = 2025.
    pub version: u8,
}

/// A platform → station request with A=1 (Flag=5 for 2017): the station answers 9011, then its
/// data or answer, then 9012, all echoing `qn`.
pub fn command(target: &CommandTarget, qn: &str, cn: Cn, cp: Cp) -> DataSegment {
    DataSegment {
        qn: Some(qn.to_string()),
        st: target.st.clone(),
        cn,
        pw: target.pw.clone(),
        mn: target.mn.clone(),
        flag: Some(Flag::new(target.version, true, false)),
        split: None,
        extra: Vec::new(),
        cp,
    }
}

/// 1012 set-time request with the platform time in the station's zone; the QN is derived from
/// the same instant (pass a later `qn_time` if it collides with another QN for this MN).
pub fn set_time_request(
    target: &CommandTarget,
    now: chrono::DateTime<chrono::Utc>,
    qn_time: chrono::DateTime<chrono::Utc>,
    utc_offset_seconds: i32,
) -> Vec<u8> {
    let cp = Cp::from_pairs([("SystemTime", format_local_time(now, utc_offset_seconds))]);
    let qn = format_qn(qn_time, utc_offset_seconds);
    encode_segment(&command(target, &qn, Cn::SET_TIME, cp))
}

/// Backfill request (2061 hourly, 2051 minute, 2031 daily) for `[begin, end]`.
pub fn backfill_request(
    target: &CommandTarget,
    qn: &str,
    cn: Cn,
    begin: chrono::DateTime<chrono::Utc>,
    end: chrono::DateTime<chrono::Utc>,
    utc_offset_seconds: i32,
) -> Vec<u8> {
    let cp = Cp::from_pairs([
        ("BeginTime", format_local_time(begin, utc_offset_seconds)),
        ("EndTime", format_local_time(end, utc_offset_seconds)),
    ]);
    encode_segment(&command(target, qn, cn, cp))
}
