//! ISO 8601 instants and intervals, stored as UTC microseconds since the Unix epoch.

use chrono::{DateTime, Datelike, SecondsFormat, TimeZone, Utc};

/// A phenomenon/valid time: an instant (`end == None`) or an interval `start/end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TimeValue {
    pub start: i64,
    pub end: Option<i64>,
}

/// Years a time may have (UTC). Water-quality data from before 1900 or after 2200 is a wrong
/// clock or a crafted value (years 0000 and 9999 with offsets sit at the edge of what the
/// arithmetic can hold), never a measurement.
pub const MIN_YEAR: i32 = 1900;
pub const MAX_YEAR: i32 = 2200;
/// 1900-01-01T00:00:00Z and 2201-01-01T00:00:00Z in microseconds: the same range for times that
/// arrive already converted (HJ 212, the bulk path).
pub const MIN_TIME: i64 = -2_208_988_800_000_000;
pub const END_TIME: i64 = 7_289_654_400_000_000;

/// Refuses an instant outside the years [`MIN_YEAR`]–[`MAX_YEAR`].
pub fn check_year_range(time: i64) -> Result<(), String> {
    if (MIN_TIME..END_TIME).contains(&time) {
        Ok(())
    } else {
        Err(format!(
            "time {} is outside the years {MIN_YEAR}–{MAX_YEAR}",
            format_instant(time)
        ))
    }
}

pub fn parse_instant(text: &str) -> Result<i64, String> {
    let t = DateTime::parse_from_rfc3339(text)
        .map_err(|e| e.to_string())?
        .with_timezone(&Utc);
    if !(MIN_YEAR..=MAX_YEAR).contains(&t.year()) {
        return Err(format!(
            "year {} is outside {MIN_YEAR}–{MAX_YEAR}",
            t.year()
        ));
    }
    Ok(t.timestamp_micros())
}

/// Refuses `time` (UTC microseconds) later than `now` + `tolerance_s`. Pure: the caller passes
/// the clock in.
pub fn check_not_future(time: i64, now: i64, tolerance_s: u64) -> Result<(), String> {
    let tolerance = i64::try_from(tolerance_s)
        .unwrap_or(i64::MAX)
        .saturating_mul(1_000_000);
    let limit = now.saturating_add(tolerance);
    if time > limit {
        return Err(format!(
            "phenomenonTime {} is in the future: later than now ({}) plus the clock tolerance of {tolerance_s} s (clock_tolerance_s in [ingest])",
            format_instant(time),
            format_instant(now)
        ));
    }
    Ok(())
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

/// `YYYY-MM-DDTHH:MM:SS.mmmZ`, always with milliseconds: the fixed width the domain API, events
/// and alert texts use (the dashboard parses it as a date, never compares it as sent).
pub fn format_instant(micros: i64) -> String {
    write_instant(micros, false)
}

/// `YYYY-MM-DDTHH:MM:SSZ`, with `.mmm` or `.mmmuuu` only when the instant has them: how the
/// SensorThings API prints times, because clients compare the times they sent as strings, so
/// `…T00:00:00Z` must come back without `.000` (issue 12; OGC 18-088 leaves the precision open,
/// FROST echoes the same way).
pub fn format_echo(micros: i64) -> String {
    write_instant(micros, true)
}

/// Formatting times is on the hot path of every observation read, so years 0000–9999 are
/// written directly (civil-from-days arithmetic) and only the rest go through chrono.
fn write_instant(micros: i64, echo: bool) -> String {
    let mut out = String::with_capacity(28);
    push_instant(&mut out, micros, echo);
    out
}

/// [`format_echo_value`] appended to `out`: the streamed STA answer writes times straight into
/// its buffer, without a string per row.
pub fn push_echo_value(out: &mut String, start: i64, end: Option<i64>) {
    push_instant(out, start, true);
    if let Some(e) = end
        && e != start
    {
        out.push('/');
        push_instant(out, e, true);
    }
}

fn push_instant(out: &mut String, micros: i64, echo: bool) {
    if !(MIN_DATETIME..=MAX_DATETIME).contains(&micros) {
        let format = if echo {
            SecondsFormat::AutoSi
        } else {
            SecondsFormat::Millis
        };
        if let Some(t) = Utc.timestamp_micros(micros).single() {
            out.push_str(&t.to_rfc3339_opts(format, true));
        }
        return;
    }
    let secs = micros.div_euclid(1_000_000);
    let fraction = micros.rem_euclid(1_000_000);
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
    // Digits pushed by hand: `write!` through `core::fmt` was a visible share of a long series.
    push_digits(out, year, 4);
    out.push('-');
    push_digits(out, month, 2);
    out.push('-');
    push_digits(out, day, 2);
    out.push('T');
    push_digits(out, rem / 3600, 2);
    out.push(':');
    push_digits(out, rem % 3600 / 60, 2);
    out.push(':');
    push_digits(out, rem % 60, 2);
    match fraction {
        f if !echo => {
            out.push('.');
            push_digits(out, f / 1000, 3);
        }
        0 => {}
        f if f % 1000 == 0 => {
            out.push('.');
            push_digits(out, f / 1000, 3);
        }
        f => {
            out.push('.');
            push_digits(out, f, 6);
        }
    }
    out.push('Z');
}

/// `n` (0 ≤ n < 10^width, as the callers guarantee) zero-padded to `width` digits.
fn push_digits(out: &mut String, n: i64, width: u32) {
    let mut div = 10i64.pow(width.saturating_sub(1));
    while div > 0 {
        let d = (n / div % 10) as u8;
        out.push(char::from(b'0' + d));
        div /= 10;
    }
}

/// An instant, or an interval `start/end` when it has a distinct end (milliseconds always).
pub fn format_time_value(start: i64, end: Option<i64>) -> String {
    match end {
        Some(e) if e != start => format!("{}/{}", format_instant(start), format_instant(e)),
        _ => format_instant(start),
    }
}

/// [`format_time_value`] in the SensorThings echo form ([`format_echo`]).
pub fn format_echo_value(start: i64, end: Option<i64>) -> String {
    match end {
        Some(e) if e != start => format!("{}/{}", format_echo(start), format_echo(e)),
        _ => format_echo(start),
    }
}

/// The wall clock, for tests only: a pure crate reads no clock (callers pass `now`; the shells
/// read it through `store::clock`). Behind the `clock` feature, which only dev-dependencies
/// enable.
#[cfg(feature = "clock")]
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
    fn hand_written_digits_match_chrono_over_the_whole_range() {
        let span = (MAX_DATETIME - MIN_DATETIME) as i128;
        for k in 0..20_011i128 {
            // Spread over 0001–9999 with every kind of fraction (none, ms, µs).
            let mut m = (MIN_DATETIME as i128 + span * k / 20_011) as i64;
            m -= m.rem_euclid(1_000_000);
            m += [0, 5_000, 123_000, 123_456, 999_999, 7][k as usize % 6];
            let m = m.min(MAX_DATETIME);
            let t = Utc.timestamp_micros(m).single().expect("in range");
            assert_eq!(
                format_instant(m),
                t.to_rfc3339_opts(SecondsFormat::Millis, true)
            );
            assert_eq!(
                format_echo(m),
                t.to_rfc3339_opts(SecondsFormat::AutoSi, true)
            );
        }
    }

    #[test]
    fn future_times_beyond_the_tolerance_are_refused() {
        let now = 1_773_567_000_000_000;
        assert!(check_not_future(now + 600_000_000, now, 600).is_ok());
        let e = check_not_future(now + 600_000_001, now, 600).unwrap_err();
        assert!(
            e.contains("600 s") && e.contains("clock_tolerance_s"),
            "{e}"
        );
        assert!(check_not_future(i64::MAX, now, u64::MAX).is_ok());
        assert!(check_year_range(parse_instant("1900-01-01T00:00:00Z").unwrap()).is_ok());
        assert!(check_year_range(parse_instant("2200-12-31T23:59:59Z").unwrap()).is_ok());
        assert!(check_year_range(MIN_TIME - 1).is_err());
        assert!(check_year_range(END_TIME).is_err());
    }

    #[test]
    fn instants_and_intervals() {
        assert_eq!(parse_instant("1970-01-01T00:00:01Z"), Ok(1_000_000));
        assert_eq!(parse_instant("1970-01-01T08:00:01+08:00"), Ok(1_000_000));
        assert!(parse_instant("yesterday").is_err());
        for bad in [
            "0000-01-01T00:00:00Z",
            "9999-12-31T23:59:59+14:00",
            "9999-01-01T00:00:00-12:00",
            "1899-12-31T23:59:59Z",
            "2201-01-01T00:00:00Z",
        ] {
            let e = parse_instant(bad).unwrap_err();
            assert!(e.contains("outside 1900–2200"), "{bad}: {e}");
        }
        assert!(parse_instant("1900-01-01T00:00:00Z").is_ok());
        assert!(parse_instant("2200-12-31T23:59:59Z").is_ok());
        assert!(parse_time_value("2026-01-01T00:00:00Z/9999-01-01T00:00:00Z").is_err());
        let iv = parse_time_value("2026-01-01T00:00:00Z/2026-01-01T01:00:00Z").unwrap();
        assert_eq!(iv.end.unwrap() - iv.start, 3_600_000_000);
        assert!(parse_time_value("2026-01-02T00:00:00Z/2026-01-01T00:00:00Z").is_err());
        assert_eq!(format_instant(1_000_000), "1970-01-01T00:00:01.000Z");
        assert_eq!(
            format_time_value(0, Some(1_000_000)),
            "1970-01-01T00:00:00.000Z/1970-01-01T00:00:01.000Z"
        );
        assert_eq!(format_instant(MIN_DATETIME), "0001-01-01T00:00:00.000Z");
        assert_eq!(
            format_echo_value(0, Some(1_000_000)),
            "1970-01-01T00:00:00Z/1970-01-01T00:00:01Z"
        );
        // Times echo as sent: no fraction when there is none, milli- or microseconds when there are.
        for sent in [
            "2015-03-03T00:00:00Z",
            "2015-03-03T00:00:00.123Z",
            "2015-03-03T00:00:00.120Z",
            "2015-03-03T00:00:00.123456Z",
        ] {
            assert_eq!(format_echo(parse_instant(sent).unwrap()), sent);
        }
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
            let t = Utc.timestamp_micros(m).single().unwrap();
            let want = t.to_rfc3339_opts(SecondsFormat::Millis, true);
            assert_eq!(format_instant(m), want, "{m}");
            let want = t.to_rfc3339_opts(SecondsFormat::AutoSi, true);
            assert_eq!(format_echo(m), want, "{m}");
        }
    }
}
