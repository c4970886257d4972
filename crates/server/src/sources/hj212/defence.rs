//! The connection's defences: quiet deadlines, the rejection-log limit, credentials through the
//! password guard, and the 1012 answer to a clock in the future. A child module of the
//! listener, so it works on the connection's own state.

use super::board::RejectReason;
use super::guard::{AuthVerdict, Lockout, Suspicion};
use super::lockout_alerts::GuessingNotice;
use super::log_limit::Suppressed;
use super::{Connection, Flow, Quiet, SET_TIME_EVERY};
use crate::network::RegisteredStation;
use hj212::DataSegment;
use std::sync::atomic::Ordering;
use std::time::Instant;
use tokio::io::AsyncWriteExt;
use tokio::net::TcpStream;

impl<'a> Connection<'a> {
    /// The next quiet deadline: idle from now, the partial frame held since `partial_since`,
    /// or the first valid frame that has not come.
    pub(super) fn deadline(&self, partial_since: Option<Instant>) -> (Instant, Quiet) {
        let settings = &self.shared.settings;
        let mut deadline = (Instant::now() + settings.idle_timeout, Quiet::Idle);
        if let Some(since) = partial_since {
            deadline = deadline.min_by(since + settings.partial_frame_timeout, Quiet::PartialFrame);
        }
        if !self.authenticated {
            deadline = deadline.min_by(
                self.opened + settings.first_frame_timeout,
                Quiet::FirstFrame,
            );
        }
        deadline
    }

    /// Closes the connection for a quiet deadline; counted by kind.
    pub(super) fn quiet(&self, why: Quiet) {
        let board = &self.shared.board;
        let (counter, what) = match why {
            Quiet::Idle => (&board.closed_idle, "idle"),
            Quiet::PartialFrame => (&board.closed_partial_frame, "holding an incomplete frame"),
            Quiet::FirstFrame => (&board.closed_first_frame, "without a valid frame"),
        };
        counter.fetch_add(1, Ordering::Relaxed);
        tracing::info!(peer = %self.peer, "closing HJ 212 connection: {what} past its timeout");
    }

    /// Whether to log a rejection of `reason`; logs the summary of a finished interval first.
    /// Counters count every rejection either way.
    pub(super) fn may_log(&mut self, reason: RejectReason) -> bool {
        let (log, summary) = self.limiter.event(reason.as_str(), Instant::now());
        if let Some(s) = summary {
            self.summary(&s);
        }
        let board = &self.shared.board;
        if log {
            board.reject_log_lines.fetch_add(1, Ordering::Relaxed);
        } else {
            board.reject_log_suppressed.fetch_add(1, Ordering::Relaxed);
        }
        log
    }

    pub(super) fn summary(&self, s: &Suppressed) {
        self.shared
            .board
            .reject_log_lines
            .fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            peer = %self.peer,
            "{} more HJ 212 frames dropped from {} in the last {} s by reason: {s}",
            s.total,
            self.peer,
            s.interval.as_secs().max(1)
        );
    }

    /// Checks MN and PW through the guard. Unknown MN, wrong PW and a throttled or locked
    /// source all end the same way for the peer (no answer; closed when
    /// `close_on_auth_failure`); only the log and the counters tell them apart.
    pub(super) fn authenticate(&mut self, segment: &DataSegment) -> Option<&'a RegisteredStation> {
        let shared = self.shared;
        let station = shared.registry.by_mn(&segment.mn);
        let pw_ok = station.is_some_and(|s| same_secret(&s.pw, &segment.pw));
        let ip = self.peer.ip();
        let (verdict, lockout, suspicion) = match shared.guard.lock() {
            Ok(mut guard) => guard.check(ip, station.map(|s| s.mn.as_str()), pw_ok, Instant::now()),
            // A poisoned guard must not open the door.
            Err(_) => (AuthVerdict::Throttled, None, None),
        };
        if let Some(lockout) = lockout {
            self.locked_out(&lockout, station);
        }
        if let (Some(suspicion), Some(station)) = (suspicion, station) {
            self.suspected(&suspicion, station);
        }
        let board = &shared.board;
        let index = station.map(|s| s.index);
        if let Some(i) = index
            && !pw_ok
        {
            board.auth_failure(i);
        }
        let reason = match verdict {
            AuthVerdict::Accept => return station,
            AuthVerdict::Fail => {
                board.auth_failures_total.fetch_add(1, Ordering::Relaxed);
                if station.is_some() {
                    RejectReason::WrongPassword
                } else {
                    RejectReason::UnknownMn
                }
            }
            AuthVerdict::Throttled | AuthVerdict::Locked => {
                board.auth_ignored_total.fetch_add(1, Ordering::Relaxed);
                RejectReason::AuthThrottled
            }
        };
        board.reject(index, reason);
        if self.may_log(reason) {
            tracing::warn!(peer = %self.peer, mn = %segment.mn, cn = %segment.cn, reason = reason.as_str(), "HJ 212 frame refused for its credentials; nothing stored, not answered");
        }
        None
    }

    /// The MN's failures (from any addresses) crossed the threshold: one WARN and one alert per
    /// MN per window, also when the guesses come from many addresses and none is locked.
    fn suspected(&self, suspicion: &Suspicion, station: &RegisteredStation) {
        tracing::warn!(
            mn = %suspicion.mn,
            station = %station.code,
            failures = suspicion.failures,
            sources = suspicion.sources,
            "possible password guessing on HJ 212 station {} from {} ({} wrong passwords from {} address(es) in the window)",
            station.code,
            suspicion.ip,
            suspicion.failures,
            suspicion.sources
        );
        if let Some(tx) = &self.shared.settings.lockouts {
            // Never wait for the engine here; a dropped notice still leaves log, counter, board.
            let _ = tx.try_send(GuessingNotice {
                station: station.code.clone(),
                mn: suspicion.mn.clone(),
                ip: suspicion.ip,
                failures: suspicion.failures,
                sources: suspicion.sources,
            });
        }
    }

    /// A lockout began: one WARN per lockout (a possible attack), counted, on the board.
    pub(super) fn locked_out(&self, lockout: &Lockout, station: Option<&RegisteredStation>) {
        let board = &self.shared.board;
        board.auth_lockouts_total.fetch_add(1, Ordering::Relaxed);
        let code = station.map_or("?", |s| s.code.as_str());
        tracing::warn!(
            peer = %self.peer,
            mn = %lockout.mn,
            station = code,
            failures = lockout.failures,
            lockout_s = lockout.duration.as_secs(),
            "HJ 212 station {code}: MN locked for {} after repeated wrong passwords",
            lockout.ip
        );
        if let Some(s) = station {
            let micros = i64::try_from(lockout.duration.as_micros()).unwrap_or(i64::MAX);
            let until = store::clock::now_micros().saturating_add(micros);
            board.lockout(s.index, lockout.ip.to_string(), until);
        }
    }

    /// Sends the station a 1012 set-time request (reference §15) after a frame dated in the
    /// future, at most once per `SET_TIME_EVERY` on this connection.
    pub(super) async fn set_time(
        &mut self,
        segment: &DataSegment,
        station: &RegisteredStation,
        socket: &mut TcpStream,
    ) -> Flow {
        let now = Instant::now();
        if self
            .last_set_time
            .is_some_and(|t| now.duration_since(t) < SET_TIME_EVERY)
        {
            return Flow::Continue;
        }
        self.last_set_time = Some(now);
        let target = hj212::CommandTarget {
            st: station.st.clone(),
            pw: station.pw.clone(),
            mn: station.mn.clone(),
            version: segment.flag.map_or(1, |f| f.version()),
        };
        let utc = chrono::Utc::now();
        let request =
            hj212::set_time_request(&target, utc, utc, station.options.utc_offset_seconds);
        if let Err(e) = socket.write_all(&request).await {
            tracing::debug!(peer = %self.peer, error = %e, "cannot send the HJ 212 set-time request");
            return Flow::Close;
        }
        self.shared
            .board
            .set_time_sent
            .fetch_add(1, Ordering::Relaxed);
        tracing::info!(peer = %self.peer, station = %station.code, "sent a 1012 set-time request: the station's clock is ahead");
        Flow::Continue
    }
}

/// Compares a received PW with the station's in time independent of where they differ, so the
/// answer time tells a guesser nothing about a prefix.
fn same_secret(expected: &str, given: &str) -> bool {
    let (a, b) = (expected.as_bytes(), given.as_bytes());
    let mut diff = a.len() ^ b.len();
    for i in 0..a.len().max(b.len()) {
        let x = a.get(i).copied().unwrap_or(0);
        let y = b.get(i).copied().unwrap_or(0);
        diff |= usize::from(x ^ y);
    }
    diff == 0
}

/// The earlier of two deadlines, with what it stands for.
trait MinBy {
    fn min_by(self, at: Instant, why: Quiet) -> Self;
}

impl MinBy for (Instant, Quiet) {
    fn min_by(self, at: Instant, why: Quiet) -> Self {
        if at < self.0 { (at, why) } else { self }
    }
}
