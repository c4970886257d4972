//! Report periods: a calendar month, quarter or year in the network's local time.

use crate::Lang;
use chrono::{FixedOffset, NaiveDate, Offset, TimeZone};

#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PeriodKind {
    Month,
    Quarter,
    Year,
}

/// A report period: `2026-11`, `2026-Q4` or `2026`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ReportPeriod {
    pub kind: PeriodKind,
    pub year: i32,
    /// Month 1–12, quarter 1–4, or 1 for a year.
    pub n: u32,
}

#[derive(Debug, thiserror::Error, PartialEq)]
#[error("period '{0}' is not a month (2026-11), a quarter (2026-Q4) or a year (2026)")]
pub struct BadPeriod(pub String);

impl ReportPeriod {
    pub fn parse(text: &str) -> Result<ReportPeriod, BadPeriod> {
        let bad = || BadPeriod(text.to_string());
        let t = text.trim();
        let year = |y: &str| -> Result<i32, BadPeriod> {
            if y.len() != 4 {
                return Err(bad());
            }
            y.parse::<i32>()
                .ok()
                .filter(|y| (1970..=9999).contains(y))
                .ok_or_else(bad)
        };
        match t.split_once('-') {
            None => Ok(ReportPeriod {
                kind: PeriodKind::Year,
                year: year(t)?,
                n: 1,
            }),
            Some((y, rest)) => {
                let y = year(y)?;
                if let Some(q) = rest.strip_prefix('Q').or_else(|| rest.strip_prefix('q')) {
                    let n = q
                        .parse::<u32>()
                        .ok()
                        .filter(|q| (1..=4).contains(q))
                        .ok_or_else(bad)?;
                    Ok(ReportPeriod {
                        kind: PeriodKind::Quarter,
                        year: y,
                        n,
                    })
                } else {
                    if rest.len() != 2 {
                        return Err(bad());
                    }
                    let n = rest
                        .parse::<u32>()
                        .ok()
                        .filter(|m| (1..=12).contains(m))
                        .ok_or_else(bad)?;
                    Ok(ReportPeriod {
                        kind: PeriodKind::Month,
                        year: y,
                        n,
                    })
                }
            }
        }
    }

    /// The month a given local date is in.
    pub fn month(year: i32, month: u32) -> ReportPeriod {
        ReportPeriod {
            kind: PeriodKind::Month,
            year,
            n: month.clamp(1, 12),
        }
    }

    /// The canonical spelling (`2026-11`, `2026-Q4`, `2026`).
    pub fn code(&self) -> String {
        match self.kind {
            PeriodKind::Month => format!("{}-{:02}", self.year, self.n),
            PeriodKind::Quarter => format!("{}-Q{}", self.year, self.n),
            PeriodKind::Year => format!("{}", self.year),
        }
    }

    /// First month (1–12) and the number of months.
    fn months_span(&self) -> (u32, u32) {
        match self.kind {
            PeriodKind::Month => (self.n, 1),
            PeriodKind::Quarter => ((self.n - 1) * 3 + 1, 3),
            PeriodKind::Year => (1, 12),
        }
    }

    /// The months of the period, in order.
    pub fn months(&self) -> Vec<ReportPeriod> {
        let (first, count) = self.months_span();
        (first..first + count)
            .map(|m| ReportPeriod::month(self.year, m))
            .collect()
    }

    /// [from, to) in unix seconds, local midnight at `utc_offset_s`.
    pub fn bounds(&self, utc_offset_s: i32) -> (i64, i64) {
        let (first, count) = self.months_span();
        let start = local_midnight(self.year, first, utc_offset_s);
        let (ey, em) = add_months(self.year, first, count);
        (start, local_midnight(ey, em, utc_offset_s))
    }

    /// The period before (环比): the previous month, quarter or year.
    pub fn previous(&self) -> ReportPeriod {
        match self.kind {
            PeriodKind::Month if self.n == 1 => ReportPeriod {
                n: 12,
                year: self.year - 1,
                ..*self
            },
            PeriodKind::Quarter if self.n == 1 => ReportPeriod {
                n: 4,
                year: self.year - 1,
                ..*self
            },
            PeriodKind::Year => ReportPeriod {
                year: self.year - 1,
                ..*self
            },
            _ => ReportPeriod {
                n: self.n - 1,
                ..*self
            },
        }
    }

    /// The same period a year earlier (同比).
    pub fn year_ago(&self) -> ReportPeriod {
        ReportPeriod {
            year: self.year - 1,
            ..*self
        }
    }

    /// The 12 months ending with the period's last month (the trend charts' span).
    pub fn trailing_months(&self, count: u32) -> Vec<ReportPeriod> {
        let (first, n) = self.months_span();
        let (ly, lm) = add_months(self.year, first, n - 1);
        (0..count)
            .rev()
            .map(|back| {
                let idx = ly * 12 + lm as i32 - 1 - back as i32;
                ReportPeriod::month(idx.div_euclid(12), idx.rem_euclid(12) as u32 + 1)
            })
            .collect()
    }

    pub fn label(&self, lang: Lang) -> String {
        match (self.kind, lang) {
            (PeriodKind::Month, Lang::Zh) => format!("{}年{}月", self.year, self.n),
            (PeriodKind::Quarter, Lang::Zh) => {
                format!(
                    "{}年第{}季度",
                    self.year,
                    ["一", "二", "三", "四"][(self.n - 1) as usize]
                )
            }
            (PeriodKind::Year, Lang::Zh) => format!("{}年", self.year),
            (PeriodKind::Month, Lang::En) => {
                format!("{} {}", MONTHS_EN[(self.n - 1) as usize], self.year)
            }
            (PeriodKind::Quarter, Lang::En) => format!("Q{} {}", self.n, self.year),
            (PeriodKind::Year, Lang::En) => format!("{}", self.year),
        }
    }

    /// Short label for chart axes: `2026-11`.
    pub fn short(&self) -> String {
        self.code()
    }

    /// The bulletin's name: 水质月报 / 季报 / 年报.
    pub fn report_name(&self, lang: Lang) -> &'static str {
        match (self.kind, lang) {
            (PeriodKind::Month, Lang::Zh) => "水质月报",
            (PeriodKind::Quarter, Lang::Zh) => "水质季报",
            (PeriodKind::Year, Lang::Zh) => "水质年报",
            (PeriodKind::Month, Lang::En) => "Monthly water-quality report",
            (PeriodKind::Quarter, Lang::En) => "Quarterly water-quality report",
            (PeriodKind::Year, Lang::En) => "Annual water-quality report",
        }
    }
}

const MONTHS_EN: [&str; 12] = [
    "January",
    "February",
    "March",
    "April",
    "May",
    "June",
    "July",
    "August",
    "September",
    "October",
    "November",
    "December",
];

fn add_months(year: i32, month: u32, add: u32) -> (i32, u32) {
    let idx = year * 12 + month as i32 - 1 + add as i32;
    (idx.div_euclid(12), idx.rem_euclid(12) as u32 + 1)
}

fn local_midnight(year: i32, month: u32, offset_s: i32) -> i64 {
    let tz = FixedOffset::east_opt(offset_s).unwrap_or_else(|| chrono::Utc.fix());
    let date = NaiveDate::from_ymd_opt(year, month, 1).unwrap_or_default();
    let naive = date.and_hms_opt(0, 0, 0).unwrap_or_default();
    tz.from_local_datetime(&naive)
        .single()
        .map(|d| d.timestamp())
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_and_bounds_in_beijing_time() {
        let p = ReportPeriod::parse("2026-11").expect("month");
        assert_eq!(p.kind, PeriodKind::Month);
        let (a, b) = p.bounds(8 * 3600);
        // 2026-11-01T00:00+08:00 = 2026-10-31T16:00Z
        assert_eq!(a, 1_793_462_400);
        assert_eq!(b - a, 30 * 86_400);
        let q = ReportPeriod::parse("2026-Q4").expect("quarter");
        assert_eq!(q.months().len(), 3);
        assert_eq!(
            q.bounds(8 * 3600).0,
            ReportPeriod::parse("2026-10")
                .expect("m")
                .bounds(8 * 3600)
                .0
        );
        let y = ReportPeriod::parse("2026").expect("year");
        let (a, b) = y.bounds(0);
        assert_eq!(b - a, 365 * 86_400);
        for bad in [
            "2026-13", "2026-Q5", "26", "2026-1", "november", "", "2026-00",
        ] {
            assert!(ReportPeriod::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn previous_year_ago_and_trailing() {
        let p = ReportPeriod::parse("2026-01").expect("m");
        assert_eq!(p.previous().code(), "2025-12");
        assert_eq!(p.year_ago().code(), "2025-01");
        assert_eq!(
            ReportPeriod::parse("2026-Q1").expect("q").previous().code(),
            "2025-Q4"
        );
        let t = ReportPeriod::parse("2026-Q4")
            .expect("q")
            .trailing_months(12);
        assert_eq!(t.first().map(|p| p.code()), Some("2026-01".into()));
        assert_eq!(t.last().map(|p| p.code()), Some("2026-12".into()));
        assert_eq!(p.label(Lang::Zh), "2026年1月");
        assert_eq!(
            ReportPeriod::parse("2026-Q4").expect("q").label(Lang::Zh),
            "2026年第四季度"
        );
    }
}
