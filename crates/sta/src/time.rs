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

/// [`push_echo_value`] for a byte buffer (the streamed answer's body), remembering the date of
/// the last time written: the rows of a series share their day (288 five-minute values a day),
/// so its digits are worked out once a day rather than once a row.
#[derive(Debug, Default)]
pub struct EchoWriter {
    /// The day (since 1970) whose `YYYY-MM-DDT` is in `date`.
    day: Option<i64>,
    date: [u8; 11],
}

impl EchoWriter {
    /// An instant, or `start/end` when the end is distinct.
    pub fn extend_value(&mut self, out: &mut Vec<u8>, start: i64, end: Option<i64>) {
        self.extend_instant(out, start);
        if let Some(e) = end
            && e != start
        {
            out.push(b'/');
            self.extend_instant(out, e);
        }
    }

    fn extend_instant(&mut self, out: &mut Vec<u8>, micros: i64) {
        if !(MIN_DATETIME..=MAX_DATETIME).contains(&micros) {
            out.extend_from_slice(chrono_instant(micros, true).as_bytes());
            return;
        }
        let (days, clock) = split(micros);
        if self.day != Some(days) {
            self.date = date_digits(days);
            self.day = Some(days);
        }
        out.extend_from_slice(&self.date);
        let mut buf = [0u8; 16];
        let n = clock_digits(&mut buf, clock, true);
        out.extend_from_slice(&buf[..n]);
    }
}

fn push_instant(out: &mut String, micros: i64, echo: bool) {
    if !(MIN_DATETIME..=MAX_DATETIME).contains(&micros) {
        out.push_str(&chrono_instant(micros, echo));
        return;
    }
    let (days, clock) = split(micros);
    let mut buf = [0u8; 16];
    let n = clock_digits(&mut buf, clock, echo);
    // Only ASCII digits and separators are written.
    out.push_str(std::str::from_utf8(&date_digits(days)).unwrap_or_default());
    out.push_str(std::str::from_utf8(&buf[..n]).unwrap_or_default());
}

/// Years outside 0000–9999, through chrono.
fn chrono_instant(micros: i64, echo: bool) -> String {
    let format = if echo {
        SecondsFormat::AutoSi
    } else {
        SecondsFormat::Millis
    };
    Utc.timestamp_micros(micros)
        .single()
        .map(|t| t.to_rfc3339_opts(format, true))
        .unwrap_or_default()
}

/// Days since 1970 and microseconds into the day.
fn split(micros: i64) -> (i64, i64) {
    (
        micros.div_euclid(86_400_000_000),
        micros.rem_euclid(86_400_000_000),
    )
}

/// Two digits of `v` (0–99). Digits are put by hand: `write!` through `core::fmt`, and a
/// `String` push per character, were a visible share of a long series.
fn two(v: i64) -> [u8; 2] {
    let v = v as u8;
    [b'0' + v / 10, b'0' + v % 10]
}

/// `YYYY-MM-DDT` of a day since 1970 (years 0000–9999), by Howard Hinnant's civil_from_days.
fn date_digits(days: i64) -> [u8; 11] {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    let [c1, c2] = two(year / 100);
    let [y1, y2] = two(year % 100);
    let [m1, m2] = two(month);
    let [d1, d2] = two(day);
    [c1, c2, y1, y2, b'-', m1, m2, b'-', d1, d2, b'T']
}

/// `hh:mm:ss[.fff[fff]]Z` of microseconds into a day: milliseconds always (`echo` false), or
/// the echo form (none when zero, three digits when whole milliseconds, six otherwise).
fn clock_digits(buf: &mut [u8; 16], micros: i64, echo: bool) -> usize {
    let secs = micros / 1_000_000;
    let fraction = micros % 1_000_000;
    let [h1, h2] = two(secs / 3600);
    let [m1, m2] = two(secs % 3600 / 60);
    let [s1, s2] = two(secs % 60);
    buf[..8].copy_from_slice(&[h1, h2, b':', m1, m2, b':', s1, s2]);
    let mut n = 8;
    let digits = match fraction {
        _ if !echo => 3,
        0 => 0,
        f if f % 1000 == 0 => 3,
        _ => 6,
    };
    if digits > 0 {
        buf[n] = b'.';
        n += 1;
        let mut v = if digits == 3 {
            fraction / 1000
        } else {
            fraction
        };
        for i in (0..digits).rev() {
            buf[n + i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        n += digits;
    }
    buf[n] = b'Z';
    n + 1
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
            // The byte writer of the streamed answer writes the same, intervals included.
            for end in [None, Some(m), Some(m.saturating_add(300_000_000))] {
                let mut text = String::new();
                push_echo_value(&mut text, m, end);
                let mut bytes = Vec::new();
                EchoWriter::default().extend_value(&mut bytes, m, end);
                assert_eq!(bytes, text.as_bytes(), "{m} {end:?}");
            }
        }
    }
}
