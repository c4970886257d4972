//! Who is told about what, and how often: per-channel routing by severity and action, and a
//! sliding-window rate limit that folds a storm of alerts into one digest.

use crate::SECOND;
use crate::model::{Action, Severity};
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

/// Which alert changes a channel receives.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct Route {
    /// Least severity sent to this channel.
    pub min_severity: Severity,
    /// Actions sent (raised, escalated, cleared, acknowledged, updated).
    pub on: Vec<Action>,
}

impl Default for Route {
    fn default() -> Self {
        Route {
            min_severity: Severity::Warning,
            on: vec![Action::Raised, Action::Escalated, Action::Cleared],
        }
    }
}

impl Route {
    pub fn accepts(&self, severity: Severity, action: Action) -> bool {
        severity >= self.min_severity && self.on.contains(&action)
    }
}

/// At most `max_per_window` messages per sliding `window_s`; 0 means no limit.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct RateLimit {
    pub max_per_window: usize,
    pub window_s: i64,
}

impl Default for RateLimit {
    fn default() -> Self {
        RateLimit {
            max_per_window: 0,
            window_s: 600,
        }
    }
}

/// A rate limiter per channel. Notices over the limit wait; when the window frees a slot they
/// leave together as one digest (which counts as one message).
#[derive(Debug, Clone)]
pub struct Limiter<N> {
    limit: RateLimit,
    /// Send times (µs) within the window.
    sent: VecDeque<i64>,
    pending: Vec<N>,
}

impl<N> Limiter<N> {
    pub fn new(limit: RateLimit) -> Self {
        Limiter {
            limit,
            sent: VecDeque::new(),
            pending: Vec::new(),
        }
    }

    fn expire(&mut self, now: i64) {
        let window = self.limit.window_s.max(0).saturating_mul(SECOND);
        while self.sent.front().is_some_and(|&t| t <= now - window) {
            self.sent.pop_front();
        }
    }

    fn has_slot(&mut self, now: i64) -> bool {
        self.expire(now);
        self.limit.max_per_window == 0 || self.sent.len() < self.limit.max_per_window
    }

    /// `Some(notice)` to send at once; `None` when it was queued for the next digest.
    pub fn offer(&mut self, now: i64, notice: N) -> Option<N> {
        // Keep order: while a digest is waiting, later notices join it.
        if self.pending.is_empty() && self.has_slot(now) {
            if self.limit.max_per_window > 0 {
                self.sent.push_back(now);
            }
            Some(notice)
        } else {
            self.pending.push(notice);
            None
        }
    }

    /// The waiting notices as one digest, once the window has a free slot.
    pub fn take_digest(&mut self, now: i64) -> Option<Vec<N>> {
        if self.pending.is_empty() || !self.has_slot(now) {
            return None;
        }
        if self.limit.max_per_window > 0 {
            self.sent.push_back(now);
        }
        Some(std::mem::take(&mut self.pending))
    }

    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routing() {
        let r = Route {
            min_severity: Severity::Major,
            ..Route::default()
        };
        assert!(r.accepts(Severity::Critical, Action::Raised));
        assert!(r.accepts(Severity::Major, Action::Cleared));
        assert!(!r.accepts(Severity::Minor, Action::Raised));
        assert!(!r.accepts(Severity::Critical, Action::Acknowledged));
    }

    #[test]
    fn storm_becomes_a_digest() {
        let mut l = Limiter::new(RateLimit {
            max_per_window: 2,
            window_s: 60,
        });
        let s = SECOND;
        assert_eq!(l.offer(0, 1), Some(1));
        assert_eq!(l.offer(s, 2), Some(2));
        assert_eq!(l.offer(2 * s, 3), None);
        assert_eq!(l.offer(3 * s, 4), None);
        assert_eq!(l.take_digest(30 * s), None, "window still full");
        assert_eq!(
            l.take_digest(60 * s),
            Some(vec![3, 4]),
            "the first send left the window"
        );
        assert_eq!(l.offer(60 * s, 5), None, "the digest took the free slot");
        assert_eq!(l.take_digest(61 * s), Some(vec![5]));
        assert_eq!(l.pending(), 0);
    }

    #[test]
    fn unlimited() {
        let mut l = Limiter::new(RateLimit::default());
        for i in 0..1000 {
            assert_eq!(l.offer(0, i), Some(i));
        }
        assert_eq!(l.take_digest(0), None);
    }
}
