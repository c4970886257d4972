//! GB/T 28181 time formats: `yyyy-MM-ddTHH:mm:ss[.SSS]`, local time, no zone.

use chrono::NaiveDateTime;

/// The REGISTER 200 `Date` header value (GB format, not RFC 1123).
pub fn sip_date(local: NaiveDateTime) -> String {
    local.format("%Y-%m-%dT%H:%M:%S%.3f").to_string()
}

/// Parses `DeviceTime`/`AlarmTime`/`Date`: with or without milliseconds,
/// and tolerating a space instead of `T` as some firmware sends.
pub fn parse(s: &str) -> Option<NaiveDateTime> {
    let s = s.trim();
    ["%Y-%m-%dT%H:%M:%S%.f", "%Y-%m-%d %H:%M:%S%.f"]
        .iter()
        .find_map(|f| NaiveDateTime::parse_from_str(s, f).ok())
}
