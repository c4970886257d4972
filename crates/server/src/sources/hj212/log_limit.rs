//! A log limiter for peer-triggered warnings: rejected garbage must not flood the log (1 MB of
//! `##9999` fragments once wrote 41 MB of WARN lines). Takes the time as an argument.

use std::collections::BTreeMap;
use std::fmt;
use std::time::{Duration, Instant};

/// Events left out of the log during one interval, by reason.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suppressed {
    pub total: u64,
    pub by_reason: BTreeMap<&'static str, u64>,
    pub interval: Duration,
}

impl fmt::Display for Suppressed {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut first = true;
        for (reason, n) in &self.by_reason {
            if !first {
                f.write_str(", ")?;
            }
            first = false;
            write!(f, "{reason} {n}")?;
        }
        Ok(())
    }
}

/// At most `lines` log lines per `interval`; what is left out is summed up by reason and
/// reported once the interval is over. Counters elsewhere keep counting every event.
#[derive(Debug, Clone)]
pub struct LogLimiter {
    lines: u32,
    interval: Duration,
    window_start: Option<Instant>,
    logged: u32,
    suppressed: BTreeMap<&'static str, u64>,
}

impl LogLimiter {
    pub fn new(lines: u32, interval: Duration) -> LogLimiter {
        LogLimiter {
            lines,
            interval,
            window_start: None,
            logged: 0,
            suppressed: BTreeMap::new(),
        }
    }

    /// An event of `reason` at `now`: whether to log it, and the summary of the interval that
    /// just ended (log that first).
    pub fn event(&mut self, reason: &'static str, now: Instant) -> (bool, Option<Suppressed>) {
        let summary = match self.window_start {
            Some(start) if now.duration_since(start) < self.interval => None,
            _ => {
                let summary = self.take(now);
                self.window_start = Some(now);
                self.logged = 0;
                summary
            }
        };
        if self.logged < self.lines {
            self.logged += 1;
            (true, summary)
        } else {
            *self.suppressed.entry(reason).or_default() += 1;
            (false, summary)
        }
    }

    /// The summary of what is still unreported (at connection close).
    pub fn flush(&mut self, now: Instant) -> Option<Suppressed> {
        self.take(now)
    }

    fn take(&mut self, now: Instant) -> Option<Suppressed> {
        if self.suppressed.is_empty() {
            return None;
        }
        let by_reason = std::mem::take(&mut self.suppressed);
        Some(Suppressed {
            total: by_reason.values().sum(),
            by_reason,
            interval: self
                .window_start
                .map_or(self.interval, |s| now.duration_since(s)),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn log_limiter_summarises_by_reason() {
        let mut l = LogLimiter::new(3, Duration::from_secs(10));
        let t0 = Instant::now();
        let mut logged = 0;
        for i in 0..10_000u32 {
            let reason = if i % 2 == 0 { "bad_framing" } else { "bad_crc" };
            let (log, summary) = l.event(reason, t0 + Duration::from_millis(u64::from(i) / 10));
            logged += u32::from(log);
            assert!(summary.is_none());
        }
        assert_eq!(logged, 3, "1 s of events: 3 lines");
        let (log, summary) = l.event("bad_crc", t0 + Duration::from_secs(11));
        assert!(log);
        let summary = summary.expect("summary of the first interval");
        assert_eq!(summary.total, 9_997);
        assert_eq!(summary.by_reason["bad_framing"], 4_998);
        assert_eq!(summary.to_string(), "bad_crc 4999, bad_framing 4998");
        assert!(l.flush(t0 + Duration::from_secs(12)).is_none());
    }
}
