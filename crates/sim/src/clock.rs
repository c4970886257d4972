//! Local (station) calendar features of an instant, computed without allocation.

/// Calendar position of an instant in the stations' local time.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Clock {
    /// Seconds since the Unix epoch (UTC).
    pub unix: i64,
    /// Local day number since 1970-01-01.
    pub day: i64,
    /// Local hour of day, fractional, in [0, 24).
    pub hour: f64,
    pub year: i32,
    /// 1–12.
    pub month: u32,
    /// 1–31.
    pub day_of_month: u32,
    /// 0 = Monday … 6 = Sunday.
    pub weekday: u32,
    /// Position in the year in months, [0, 12): 0 = 1 January 00:00, 6.5 ≈ mid-July.
    pub month_pos: f64,
}

impl Clock {
    pub fn new(unix: i64, utc_offset_s: i64) -> Clock {
        let local = unix + utc_offset_s;
        let day = local.div_euclid(86_400);
        let hour = local.rem_euclid(86_400) as f64 / 3600.0;
        let (year, month, day_of_month) = civil_from_days(day);
        let year_start = days_from_civil(year, 1, 1);
        let year_len = days_from_civil(year + 1, 1, 1) - year_start;
        let day_of_year = (day - year_start) as f64 + hour / 24.0;
        Clock {
            unix,
            day,
            hour,
            year,
            month,
            day_of_month,
            weekday: (day + 3).rem_euclid(7) as u32,
            month_pos: day_of_year / year_len as f64 * 12.0,
        }
    }
}

/// Howard Hinnant's `civil_from_days`: proleptic Gregorian (year, month, day) of a day number.
pub(crate) fn civil_from_days(z: i64) -> (i32, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    ((if m <= 2 { y + 1 } else { y }) as i32, m, d)
}

/// Day number of a proleptic Gregorian date (inverse of [`civil_from_days`]).
pub(crate) fn days_from_civil(y: i32, m: u32, d: u32) -> i64 {
    let y = i64::from(y) - i64::from(m <= 2);
    let era = y.div_euclid(400);
    let yoe = y.rem_euclid(400);
    let m = i64::from(m);
    let doy = (153 * (if m > 2 { m - 3 } else { m + 9 }) + 2) / 5 + i64::from(d) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// Linear interpolation of a monthly table whose values stand at mid-month, cyclic over the year.
pub(crate) fn monthly(table: &[f64; 12], month_pos: f64) -> f64 {
    let x = month_pos - 0.5;
    let i = x.floor();
    let frac = x - i;
    let a = table[(i as i64).rem_euclid(12) as usize];
    let b = table[(i as i64 + 1).rem_euclid(12) as usize];
    a + (b - a) * frac
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_round_trip() {
        for day in [-1000, 0, 19_000, 20_454, 30_000] {
            let (y, m, d) = civil_from_days(day);
            assert_eq!(days_from_civil(y, m, d), day);
        }
        // 2026-01-05 is a Monday.
        let c = Clock::new(
            days_from_civil(2026, 1, 5) * 86_400 + 3600 * 10 - 8 * 3600,
            8 * 3600,
        );
        assert_eq!(
            (c.year, c.month, c.day_of_month, c.weekday),
            (2026, 1, 5, 0)
        );
        assert!((c.hour - 10.0).abs() < 1e-9);
    }

    #[test]
    fn monthly_table_hits_mid_month_values() {
        let t = [
            1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 8.0, 9.0, 10.0, 11.0, 12.0,
        ];
        assert!((monthly(&t, 6.5) - 7.0).abs() < 1e-12);
        assert!((monthly(&t, 0.0) - 6.5).abs() < 1e-12); // between December and January
    }
}
