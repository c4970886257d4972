//! Code tables: CN command codes (§7), the Flag field (§5), data flags (§9), QnRtn/ExeRtn (§7.1)
//! and the ST system codes we use (§6).

use std::fmt;

/// ST of surface-water quality stations (ours).
pub const ST_SURFACE_WATER: &str = "21";
/// ST of system interaction, used in every answer.
pub const ST_SYSTEM: &str = "91";

/// A CN command code (4 decimal digits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Cn(pub u16);

/// The name the task brief uses for CN.
pub type CommandCode = Cn;

impl Cn {
    pub const SET_TIMEOUT: Cn = Cn(1000);
    pub const GET_TIME: Cn = Cn(1011);
    pub const SET_TIME: Cn = Cn(1012);
    pub const TIME_CALIBRATION_REQUEST: Cn = Cn(1013);
    pub const GET_RTD_INTERVAL: Cn = Cn(1061);
    pub const SET_RTD_INTERVAL: Cn = Cn(1062);
    pub const GET_MIN_INTERVAL: Cn = Cn(1063);
    pub const SET_MIN_INTERVAL: Cn = Cn(1064);
    pub const SET_PASSWORD: Cn = Cn(1072);
    pub const REALTIME_DATA: Cn = Cn(2011);
    pub const STOP_REALTIME_DATA: Cn = Cn(2012);
    /// 2025 only (single source).
    pub const RAW_MONITORING_DATA: Cn = Cn(2013);
    pub const EQUIPMENT_STATUS: Cn = Cn(2021);
    pub const STOP_EQUIPMENT_STATUS: Cn = Cn(2022);
    pub const DAILY_DATA: Cn = Cn(2031);
    pub const EQUIPMENT_RUN_TIME: Cn = Cn(2041);
    pub const MINUTE_DATA: Cn = Cn(2051);
    pub const HOURLY_DATA: Cn = Cn(2061);
    /// 2025 only (single source): automatic standard-sample check, stored as QC data.
    pub const STANDARD_SAMPLE_CHECK: Cn = Cn(2062);
    /// 2005 only: alarm event.
    pub const ALARM_EVENT_2005: Cn = Cn(2072);
    pub const RESTART_TIME: Cn = Cn(2081);
    pub const SAMPLE_RETENTION: Cn = Cn(3015);
    pub const INSTRUMENT_SN: Cn = Cn(3019);
    pub const FIELD_INFO: Cn = Cn(3020);
    pub const REQUEST_ANSWER: Cn = Cn(9011);
    pub const EXECUTE_ANSWER: Cn = Cn(9012);
    pub const NOTIFICATION_ANSWER: Cn = Cn(9013);
    pub const DATA_ANSWER: Cn = Cn(9014);
    /// 2025 heartbeat (single source), answered 9013.
    pub const HEARTBEAT_2025: Cn = Cn(9015);

    /// What kind of data an upload with this CN carries, if it is a data upload.
    pub fn data_kind(self) -> Option<DataKind> {
        Some(match self.0 {
            2011 => DataKind::RealTime,
            2013 => DataKind::RawMonitoring,
            2021 => DataKind::EquipmentStatus,
            2031 => DataKind::Daily,
            2041 => DataKind::EquipmentRunTime,
            2051 => DataKind::Minute,
            2061 => DataKind::Hourly,
            2062 => DataKind::StandardSampleCheck,
            2072 => DataKind::Alarm,
            2081 => DataKind::Restart,
            3015 => DataKind::SampleRetention,
            3019 => DataKind::InstrumentSn,
            3020 => DataKind::FieldInfo,
            _ => return None,
        })
    }

    /// True for the uploads of reference §10.2 (and the 2025/2005 upload CNs) that get a 9014
    /// when A=1.
    pub fn is_upload(self) -> bool {
        self.data_kind().is_some()
    }

    /// True for the measurement-data uploads (2011 real-time, 2051 minute, 2061 hourly,
    /// 2031 daily, and 2013 raw data), the ones that become observations.
    pub fn is_measurement_upload(self) -> bool {
        self.data_kind().is_some_and(DataKind::is_measurement)
    }

    /// Answers (9011–9014) to commands; the platform never answers these.
    pub fn is_answer(self) -> bool {
        (9011..=9014).contains(&self.0)
    }

    /// Known in HJ/T 212-2005, HJ 212-2017 or the 2025 additions (reference §7).
    pub fn is_known(self) -> bool {
        self.data_kind().is_some()
            || matches!(
                self.0,
                1000..=1002
                    | 1011..=1014
                    | 1021
                    | 1022
                    | 1031
                    | 1032
                    | 1041
                    | 1042
                    | 1061..=1064
                    | 1072
                    | 2012
                    | 2022
                    | 2052
                    | 2071
                    | 2111
                    | 3011..=3022
                    | 3024
                    | 9011..=9015
            )
    }
}

impl fmt::Display for Cn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}", self.0)
    }
}

/// What a data upload carries; `DataTime` is the measurement instant for real-time data and the
/// **start** of the interval for minute, hourly and daily data (reference §8.2).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DataKind {
    RealTime,
    Minute,
    Hourly,
    Daily,
    RawMonitoring,
    StandardSampleCheck,
    EquipmentStatus,
    EquipmentRunTime,
    Alarm,
    Restart,
    SampleRetention,
    InstrumentSn,
    FieldInfo,
}

impl DataKind {
    /// Measurement values that become observations.
    pub fn is_measurement(self) -> bool {
        matches!(
            self,
            DataKind::RealTime
                | DataKind::Minute
                | DataKind::Hourly
                | DataKind::Daily
                | DataKind::RawMonitoring
        )
    }
}

/// The Flag field (§5): bit 0 A (answer wanted), bit 1 D (split), bits 7..2 the version.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Flag(pub u8);

impl Flag {
    pub const A: u8 = 1;
    pub const D: u8 = 2;

    /// Flag of an answer or request of the given version with A and D as given.
    pub fn new(version: u8, answer: bool, split: bool) -> Flag {
        Flag((version << 2) | u8::from(answer) | (u8::from(split) << 1))
    }

    /// A bit: the sender wants an answer.
    pub fn answer_requested(self) -> bool {
        self.0 & Flag::A != 0
    }

    /// D bit: PNUM/PNO are announced (ignored by the parser when PNUM is absent, as 2005 devices
    /// send Flag=3 on unsplit requests).
    pub fn split(self) -> bool {
        self.0 & Flag::D != 0
    }

    /// `Flag >> 2`: 0 = 2005, 1 = 2017, 2 = 2025.
    pub fn version(self) -> u8 {
        self.0 >> 2
    }

    pub fn protocol(self) -> ProtocolVersion {
        match self.version() {
            0 => ProtocolVersion::Hj212_2005,
            1 => ProtocolVersion::Hj212_2017,
            2 => ProtocolVersion::Hj212_2025,
            v => ProtocolVersion::Unknown(v),
        }
    }

    /// The version bits only (A=0, D=0): the Flag of an answer mirroring this frame.
    pub fn version_bits(self) -> Flag {
        Flag(self.0 & !(Flag::A | Flag::D))
    }
}

/// The protocol revision announced by the Flag version bits. Unknown versions are accepted and
/// mirrored (reference §3: never reject a frame because of its version bits).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ProtocolVersion {
    Hj212_2005,
    Hj212_2017,
    Hj212_2025,
    Unknown(u8),
}

/// A factor's data flag (`xxxxxx-Flag`, §9).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub enum DataFlag {
    /// N: instrument normal.
    Normal,
    /// F: instrument stopped (停运).
    Stopped,
    /// M: maintenance.
    Maintenance,
    /// S: manually entered set value.
    ManualSetValue,
    /// D: instrument fault.
    Fault,
    /// C: calibration.
    Calibration,
    /// T: above the upper measuring limit.
    OverRange,
    /// B: instrument–logger communication fault.
    CommunicationFault,
    /// Anything else, stored verbatim and treated as invalid.
    Other(String),
}

impl DataFlag {
    pub fn parse(text: &str) -> DataFlag {
        match text {
            "N" => DataFlag::Normal,
            "F" => DataFlag::Stopped,
            "M" => DataFlag::Maintenance,
            "S" => DataFlag::ManualSetValue,
            "D" => DataFlag::Fault,
            "C" => DataFlag::Calibration,
            "T" => DataFlag::OverRange,
            "B" => DataFlag::CommunicationFault,
            other => DataFlag::Other(other.to_string()),
        }
    }

    pub fn as_str(&self) -> &str {
        match self {
            DataFlag::Normal => "N",
            DataFlag::Stopped => "F",
            DataFlag::Maintenance => "M",
            DataFlag::ManualSetValue => "S",
            DataFlag::Fault => "D",
            DataFlag::Calibration => "C",
            DataFlag::OverRange => "T",
            DataFlag::CommunicationFault => "B",
            DataFlag::Other(s) => s,
        }
    }

    /// Whether a value with this flag counts in statistics by default (only N; S is configurable
    /// upstream, unknown letters are invalid).
    pub fn is_valid(&self) -> bool {
        matches!(self, DataFlag::Normal)
    }
}

impl fmt::Display for DataFlag {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// `QnRtn` of a 9011 request answer (STD17 Table 6).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum QnRtn {
    Ready,
    Refused,
    PwError,
    MnError,
    StError,
    FlagError,
    QnError,
    CnError,
    CrcError,
    Unknown,
    Other(u16),
}

impl QnRtn {
    pub fn code(self) -> u16 {
        match self {
            QnRtn::Ready => 1,
            QnRtn::Refused => 2,
            QnRtn::PwError => 3,
            QnRtn::MnError => 4,
            QnRtn::StError => 5,
            QnRtn::FlagError => 6,
            QnRtn::QnError => 7,
            QnRtn::CnError => 8,
            QnRtn::CrcError => 9,
            QnRtn::Unknown => 100,
            QnRtn::Other(c) => c,
        }
    }

    pub fn from_code(code: u16) -> QnRtn {
        match code {
            1 => QnRtn::Ready,
            2 => QnRtn::Refused,
            3 => QnRtn::PwError,
            4 => QnRtn::MnError,
            5 => QnRtn::StError,
            6 => QnRtn::FlagError,
            7 => QnRtn::QnError,
            8 => QnRtn::CnError,
            9 => QnRtn::CrcError,
            100 => QnRtn::Unknown,
            c => QnRtn::Other(c),
        }
    }
}

/// `ExeRtn` of a 9012 execution answer (STD17 Table 7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ExeRtn {
    Success,
    Failed,
    ConditionError,
    Timeout,
    Busy,
    SystemFault,
    NoData,
    Other(u16),
}

impl ExeRtn {
    pub fn code(self) -> u16 {
        match self {
            ExeRtn::Success => 1,
            ExeRtn::Failed => 2,
            ExeRtn::ConditionError => 3,
            ExeRtn::Timeout => 4,
            ExeRtn::Busy => 5,
            ExeRtn::SystemFault => 6,
            ExeRtn::NoData => 100,
            ExeRtn::Other(c) => c,
        }
    }

    pub fn from_code(code: u16) -> ExeRtn {
        match code {
            1 => ExeRtn::Success,
            2 => ExeRtn::Failed,
            3 => ExeRtn::ConditionError,
            4 => ExeRtn::Timeout,
            5 => ExeRtn::Busy,
            6 => ExeRtn::SystemFault,
            100 => ExeRtn::NoData,
            c => ExeRtn::Other(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn flag_bits() {
        let f = Flag(7);
        assert!(f.answer_requested() && f.split());
        assert_eq!(f.protocol(), ProtocolVersion::Hj212_2017);
        assert_eq!(f.version_bits(), Flag(4));
        assert_eq!(Flag(9).version_bits(), Flag(8));
        assert_eq!(Flag(9).protocol(), ProtocolVersion::Hj212_2025);
        assert_eq!(Flag(3).protocol(), ProtocolVersion::Hj212_2005);
        assert_eq!(Flag(0xFF).protocol(), ProtocolVersion::Unknown(63));
        assert_eq!(Flag::new(1, true, false), Flag(5));
    }

    #[test]
    fn upload_map() {
        for cn in [2011, 2051, 2061, 2031] {
            assert!(Cn(cn).is_measurement_upload(), "{cn}");
        }
        assert!(Cn(3020).is_upload() && !Cn(3020).is_measurement_upload());
        assert!(!Cn(1013).is_upload() && !Cn(9014).is_upload());
        assert_eq!(Cn(2061).data_kind(), Some(DataKind::Hourly));
        assert!(Cn(9015).is_known() && !Cn(9021).is_known());
        assert_eq!(Cn(2011).to_string(), "2011");
    }

    #[test]
    fn return_codes_round_trip() {
        for c in [1, 2, 3, 4, 5, 6, 7, 8, 9, 100, 42] {
            assert_eq!(QnRtn::from_code(c).code(), c);
            assert_eq!(ExeRtn::from_code(c).code(), c);
        }
        assert_eq!(DataFlag::parse("M"), DataFlag::Maintenance);
        assert_eq!(DataFlag::parse("P").as_str(), "P");
        assert!(!DataFlag::parse("P").is_valid());
    }
}
