//! ISO 8601 instants and intervals, stored as UTC microseconds since the Unix epoch.

use chrono::{DateTime, SecondsFormat, TimeZone, Utc};

/// A phenomenon/valid time: an instant (`end == None`) or an interval `start/end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeValue {
    pub start: i64,
    pub end: Option<i64>,
}

pub fn parse_instant(text: &str) -> Result<i64, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc).timestamp_micros())
        .map_err(|e| e.to_string())
}

/// Parses `instant` or `start/end` (ISO 8601 interval of two instants).
pub fn parse_time_value(text: &str) -> Result<TimeValue, String> {
    match text.split_once('/') {
        None => Ok(TimeValue {
            start: parse_instant(text)?,
            end: None,
        }),
        Some((a, b)) => {
            let start = parse_instant(a)?;
            let end = parse_instant(b)?;
            if end < start {
                return Err(format!("interval '{text}' ends before it starts"));
            }
            Ok(TimeValue {
                start,
                end: Some(end),
            })
        }
    }
}

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`. Formatting times is on the hot path of every observation read,
/// so years 0000–9999 are written directly (civil-from-days arithmetic) and only the rest go
/// through chrono.
pub fn format_instant(micros: i64) -> String {
    if !(MIN_DATETIME..=MAX_DATETIME).contains(&micros) {
        return match Utc.timestamp_micros(micros).single() {
            Some(t) => t.to_rfc3339_opts(SecondsFormat::Millis, true),
            None => String::new(),
        };
    }
    let secs = micros.div_euclid(1_000_000);
    let millis = micros.rem_euclid(1_000_000) / 1000;
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    use std::fmt::Write;
    let mut out = String::with_capacity(24);
    let _ = write!(
        out,
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    );
    out
}

pub fn format_time_value(start: i64, end: Option<i64>) -> String {
    match end {
        Some(e) if e != start => format!("{}/{}", format_instant(start), format_instant(e)),
        _ => format_instant(start),
    }
}

pub fn now_micros() -> i64 {
    Utc::now().timestamp_micros()
}

/// Earliest/latest instants of OData `mindatetime()`/`maxdatetime()`, clamped to what fits.
pub const MIN_DATETIME: i64 = -62_135_596_800_000_000; // 0001-01-01T00:00:00Z
pub const MAX_DATETIME: i64 = 253_402_300_799_999_999; // 9999-12-31T23:59:59.999999Z

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn instants_and_intervals() {
        assert_eq!(parse_instant("1970-01-01T00:00:01Z"), Ok(1_000_000));
        assert_eq!(parse_instant("1970-01-01T08:00:01+08:00"), Ok(1_000_000));
        assert!(parse_instant("yesterday").is_err());
        let iv = parse_time_value("2026-01-01T00:00:00Z/2026-01-01T01:00:00Z").unwrap();
        assert_eq!(iv.end.unwrap() - iv.start, 3_600_000_000);
        assert!(parse_time_value("2026-01-02T00:00:00Z/2026-01-01T00:00:00Z").is_err());
        assert_eq!(format_instant(1_000_000), "1970-01-01T00:00:01.000Z");
        assert_eq!(
            format_time_value(0, Some(1_000_000)),
            "1970-01-01T00:00:00.000Z/1970-01-01T00:00:01.000Z"
        );
        assert_eq!(format_instant(MIN_DATETIME), "0001-01-01T00:00:00.000Z");
        // The fast formatter agrees with chrono across eras, leap days and negative times.
        for m in [
            0,
            1,
            -1,
            951_782_400_123_456,
            1_773_567_000_000_000,
            -62_135_596_800_000_000,
            253_402_300_799_999_999,
            4_107_542_400_999_000,
            -1_000_000_000_000_001,
        ] {
            let want = Utc
                .timestamp_micros(m)
                .single()
                .unwrap()
                .to_rfc3339_opts(SecondsFormat::Millis, true);
            assert_eq!(format_instant(m), want, "{m}");
        }
    }
}
