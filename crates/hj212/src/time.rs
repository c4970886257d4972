//! DataTime / SystemTime / QN ↔ UTC. The wire carries no zone: stations send local time, Beijing
//! time (UTC+08:00, no DST) by default (reference §12), configurable per station.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveDateTime, Offset, TimeZone, Utc};

use crate::error::Hj212Error;
use crate::options::StationOptions;
use crate::segment::DataSegment;

fn bad_time(field: &str, value: &str) -> Hj212Error {
    Hj212Error::BadTime {
        field: field.to_string(),
        value: value.to_string(),
    }
}

fn zone(field: &str, value: &str, utc_offset_seconds: i32) -> Result<FixedOffset, Hj212Error> {
    FixedOffset::east_opt(utc_offset_seconds).ok_or_else(|| bad_time(field, value))
}

fn digits(field: &str, value: &str, len: usize) -> Result<Vec<u32>, Hj212Error> {
    if value.len() != len || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(bad_time(field, value));
    }
    Ok(value.bytes().map(|b| u32::from(b - b'0')).collect())
}

fn naive(field: &str, value: &str, d: &[u32], millis: u32) -> Result<NaiveDateTime, Hj212Error> {
    let n = |range: std::ops::Range<usize>| d[range].iter().fold(0u32, |acc, x| acc * 10 + x);
    let year = i32::try_from(n(0..4)).map_err(|_| bad_time(field, value))?;
    NaiveDate::from_ymd_opt(year, n(4..6), n(6..8))
        .and_then(|date| date.and_hms_milli_opt(n(8..10), n(10..12), n(12..14), millis))
        .ok_or_else(|| bad_time(field, value))
}

/// A 14-digit local time (`YYYYMMDDhhmmss`: DataTime, SystemTime, BeginTime, …) as UTC.
/// `field` names the field in the error.
pub fn local_time_to_utc(
    field: &str,
    value: &str,
    utc_offset_seconds: i32,
) -> Result<DateTime<Utc>, Hj212Error> {
    let d = digits(field, value, 14)?;
    let local = naive(field, value, &d, 0)?;
    let zone = zone(field, value, utc_offset_seconds)?;
    zone.from_local_datetime(&local)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| bad_time(field, value))
}

/// A 17-digit QN (`YYYYMMDDhhmmsszzz`, milliseconds) as UTC.
pub fn qn_to_utc(qn: &str, utc_offset_seconds: i32) -> Result<DateTime<Utc>, Hj212Error> {
    let d = digits("QN", qn, 17)?;
    let millis = d[14..].iter().fold(0u32, |acc, x| acc * 10 + x);
    let local = naive("QN", qn, &d, millis)?;
    let zone = zone("QN", qn, utc_offset_seconds)?;
    zone.from_local_datetime(&local)
        .single()
        .map(|t| t.with_timezone(&Utc))
        .ok_or_else(|| bad_time("QN", qn))
}

fn local(t: DateTime<Utc>, utc_offset_seconds: i32) -> DateTime<FixedOffset> {
    // An out-of-range offset falls back to UTC rather than panicking; options are validated
    // where they are loaded.
    let zone = FixedOffset::east_opt(utc_offset_seconds).unwrap_or_else(|| Utc.fix());
    t.with_timezone(&zone)
}

/// UTC as a 14-digit local time for SystemTime (1012), BeginTime/EndTime (backfill requests).
pub fn format_local_time(t: DateTime<Utc>, utc_offset_seconds: i32) -> String {
    local(t, utc_offset_seconds)
        .format("%Y%m%d%H%M%S")
        .to_string()
}

/// UTC as a 17-digit QN in local time. Keep platform QNs unique per MN: add 1 ms on collision.
pub fn format_qn(t: DateTime<Utc>, utc_offset_seconds: i32) -> String {
    local(t, utc_offset_seconds)
        .format("%Y%m%d%H%M%S%3f")
        .to_string()
}

impl DataSegment {
    /// `DataTime` of CP as UTC, using the station's zone; `None` when CP has no DataTime.
    pub fn data_time_utc(
        &self,
        options: &StationOptions,
    ) -> Option<Result<DateTime<Utc>, Hj212Error>> {
        self.cp
            .data_time()
            .map(|v| local_time_to_utc("DataTime", v, options.utc_offset_seconds))
    }

    /// QN as UTC; `None` when the frame has no QN (2005 style).
    pub fn qn_utc(&self, options: &StationOptions) -> Option<Result<DateTime<Utc>, Hj212Error>> {
        self.qn
            .as_deref()
            .map(|qn| qn_to_utc(qn, options.utc_offset_seconds))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::options::BEIJING_UTC_OFFSET_SECONDS as BJ;

    #[test]
    fn beijing_time_to_utc() {
        let t = local_time_to_utc("DataTime", "20260315093000", BJ).expect("valid");
        assert_eq!(t.to_rfc3339(), "2026-03-15T01:30:00+00:00");
        let t = qn_to_utc("20260315000000123", BJ).expect("valid");
        assert_eq!(t.to_rfc3339(), "2026-03-14T16:00:00.123+00:00");
        assert_eq!(format_local_time(t, BJ), "20260315000000");
        assert_eq!(format_qn(t, BJ), "20260315000000123");
        let utc = local_time_to_utc("DataTime", "20260315093000", 0).expect("valid");
        assert_eq!(utc.to_rfc3339(), "2026-03-15T09:30:00+00:00");
    }

    #[test]
    fn bad_times_name_the_field() {
        for bad in [
            "2026031509300",
            "20261315093000",
            "2026031509300x",
            "20260230000000",
        ] {
            assert_eq!(
                local_time_to_utc("DataTime", bad, BJ),
                Err(bad_time("DataTime", bad))
            );
        }
        assert_eq!(qn_to_utc("2026", BJ), Err(bad_time("QN", "2026")));
        assert_eq!(
            local_time_to_utc("DataTime", "20260315093000", 90_000),
            Err(bad_time("DataTime", "20260315093000"))
        );
    }
}
