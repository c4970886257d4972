//! Defences of the HJ 212 listener against peers that are not stations, or not honest ones:
//! connection caps (total and per IP) and a password-guessing guard (backoff per IP, lockout
//! per (MN, IP), suspicion per MN). The log limiter is in [`super::log_limit`].
//!
//! The logic takes the time as an argument (no clock here), so the unit tests below drive it
//! with made-up instants and addresses, which the integration tests on 127.0.0.1 cannot.

use std::collections::HashMap;
use std::net::IpAddr;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// Why a connection was refused at accept.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// `max_connections` connections are open.
    Total,
    /// `max_connections_per_ip` connections from this address are open.
    PerIp,
}

impl Refusal {
    pub fn as_str(self) -> &'static str {
        match self {
            Refusal::Total => "max_connections",
            Refusal::PerIp => "max_connections_per_ip",
        }
    }
}

/// Open connections, total and per source address.
#[derive(Debug)]
pub struct ConnectionCaps {
    max_total: usize,
    max_per_ip: usize,
    /// Addresses without a per-IP cap (local tools: simulator, benchmarks, a local TCP proxy).
    exempt: Vec<IpAddr>,
    open: Mutex<(usize, HashMap<IpAddr, usize>)>,
}

/// One admitted connection; gives its slot back when dropped.
#[derive(Debug)]
pub struct ConnectionSlot {
    caps: Arc<ConnectionCaps>,
    ip: IpAddr,
}

impl ConnectionCaps {
    pub fn new(max_total: usize, max_per_ip: usize, exempt: Vec<IpAddr>) -> Arc<ConnectionCaps> {
        Arc::new(ConnectionCaps {
            max_total,
            max_per_ip,
            exempt,
            open: Mutex::new((0, HashMap::new())),
        })
    }

    /// Admits a connection from `ip`, or says which cap it would exceed.
    pub fn admit(self: &Arc<Self>, ip: IpAddr) -> Result<ConnectionSlot, Refusal> {
        let mut guard = self.open.lock().map_err(|_| Refusal::Total)?;
        let (total, per_ip) = &mut *guard;
        if *total >= self.max_total {
            return Err(Refusal::Total);
        }
        let from_ip = per_ip.entry(ip).or_default();
        if *from_ip >= self.max_per_ip && !self.exempt.contains(&ip) {
            return Err(Refusal::PerIp);
        }
        *from_ip += 1;
        *total += 1;
        Ok(ConnectionSlot {
            caps: self.clone(),
            ip,
        })
    }
}

impl Drop for ConnectionSlot {
    fn drop(&mut self) {
        if let Ok(mut guard) = self.caps.open.lock() {
            let (total, per_ip) = &mut *guard;
            *total = total.saturating_sub(1);
            if let Some(n) = per_ip.get_mut(&self.ip) {
                *n = n.saturating_sub(1);
                if *n == 0 {
                    per_ip.remove(&self.ip);
                }
            }
        }
    }
}

/// Settings of the password-guessing guard (`[hj212] auth_*`).
#[derive(Debug, Clone)]
pub struct AuthSettings {
    /// Failures from one IP before its frames are ignored for a growing delay (0: never).
    pub backoff_after: u32,
    /// The first delay; it doubles with every further failure.
    pub backoff_base: Duration,
    /// The longest delay.
    pub backoff_max: Duration,
    /// Failures for one MN from one IP (within `window`) that lock the pair (0: never).
    pub lockout_after: u32,
    /// How long a locked (MN, IP) pair stays locked.
    pub lockout: Duration,
    /// Failures older than this are forgotten.
    pub window: Duration,
}

/// What the listener does with a frame after the guard looked at its credentials.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AuthVerdict {
    /// Known MN, right PW, not throttled: store and answer.
    Accept,
    /// Unknown MN or wrong PW, judged and refused.
    Fail,
    /// The IP is in backoff: the frame is ignored without telling whether its PW was right.
    Throttled,
    /// The (MN, IP) pair is locked: ignored likewise.
    Locked,
}

/// A lockout that has just begun (WARN once, board, alert).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lockout {
    pub mn: String,
    pub ip: IpAddr,
    pub failures: u32,
    pub duration: Duration,
}

/// Enough failures for one MN (from any addresses) within the window to call it a possible
/// attack: raised once per MN per window, as a WARN and an alert.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Suspicion {
    pub mn: String,
    pub failures: u32,
    /// The address of the failure that crossed the threshold.
    pub ip: IpAddr,
    /// Distinct addresses seen failing for this MN in the window (counted up to 16).
    pub sources: usize,
}

#[derive(Debug, Clone)]
struct MnState {
    failures: u32,
    first_failure: Instant,
    alerted: bool,
    ips: Vec<IpAddr>,
}

/// Distinct addresses remembered per MN (for the alert text only).
const MN_IPS: usize = 16;

#[derive(Debug, Clone, Copy)]
struct IpState {
    failures: u32,
    last_failure: Instant,
    blocked_until: Option<Instant>,
}

#[derive(Debug, Clone, Copy)]
struct PairState {
    failures: u32,
    first_failure: Instant,
    locked_until: Option<Instant>,
}

/// The rule (docs/hj212.md, "Station credentials"):
///
/// * an unknown MN and a wrong PW are the same failure to the peer (no answer; closed when
///   `close_on_auth_failure`);
/// * after `backoff_after` failures from an IP, every frame from that IP is ignored for
///   `backoff_base × 2^(n − backoff_after)` (at most `backoff_max`), whatever its PW: a guesser
///   cannot learn from an ignored frame whether the PW was right;
/// * after `lockout_after` failures for one MN from one IP within `window`, that (MN, IP) pair
///   is locked for `lockout`: ignored even with the right PW. The same MN from another IP (the
///   real station) is not affected, so a guesser elsewhere cannot lock a station out.
///
/// Failures while throttled or locked still count, so spamming only prolongs the block.
#[derive(Debug)]
pub struct AuthGuard {
    settings: AuthSettings,
    ips: HashMap<IpAddr, IpState>,
    pairs: HashMap<(String, IpAddr), PairState>,
    /// Per registered MN, whatever the address (bounded by the registry: unknown MNs are not
    /// keyed).
    mns: HashMap<String, MnState>,
}

/// Entries kept before expired ones are swept (memory stays bounded whatever peers send).
const MAX_TRACKED: usize = 10_000;

impl AuthGuard {
    pub fn new(settings: AuthSettings) -> AuthGuard {
        AuthGuard {
            settings,
            ips: HashMap::new(),
            pairs: HashMap::new(),
            mns: HashMap::new(),
        }
    }

    /// Judges one frame's credentials: `known_mn` is the MN when it is registered, `pw_ok`
    /// whether its PW matched. Returns the verdict, a lockout that began with this frame, and
    /// the MN's suspicion when this frame crossed its threshold.
    pub fn check(
        &mut self,
        ip: IpAddr,
        known_mn: Option<&str>,
        pw_ok: bool,
        now: Instant,
    ) -> (AuthVerdict, Option<Lockout>, Option<Suspicion>) {
        let throttled = self
            .ips
            .get(&ip)
            .and_then(|s| s.blocked_until)
            .is_some_and(|t| now < t);
        let locked = known_mn
            .and_then(|mn| self.pairs.get(&(mn.to_owned(), ip)))
            .and_then(|s| s.locked_until)
            .is_some_and(|t| now < t);
        let ok = known_mn.is_some() && pw_ok;
        let mut lockout = None;
        let mut suspicion = None;
        if ok {
            if !throttled && !locked {
                // A station that mistyped its PW and then got it right starts afresh.
                if let Some(mn) = known_mn {
                    self.pairs.remove(&(mn.to_owned(), ip));
                }
                return (AuthVerdict::Accept, None, None);
            }
        } else {
            self.sweep(now);
            self.ip_failure(ip, now);
            // Unknown MNs are counted per IP only: keying pairs by them would let a peer grow
            // the table with invented MNs.
            if let Some(mn) = known_mn {
                lockout = self.pair_failure(mn, ip, now);
                suspicion = self.mn_failure(mn, ip, now);
            }
        }
        let verdict = if locked || lockout.is_some() {
            AuthVerdict::Locked
        } else if throttled {
            AuthVerdict::Throttled
        } else if ok {
            AuthVerdict::Accept
        } else {
            AuthVerdict::Fail
        };
        (verdict, lockout, suspicion)
    }

    fn mn_failure(&mut self, mn: &str, ip: IpAddr, now: Instant) -> Option<Suspicion> {
        let s = &self.settings;
        let state = self.mns.entry(mn.to_owned()).or_insert(MnState {
            failures: 0,
            first_failure: now,
            alerted: false,
            ips: Vec::new(),
        });
        if now.duration_since(state.first_failure) > s.window {
            *state = MnState {
                failures: 0,
                first_failure: now,
                alerted: false,
                ips: Vec::new(),
            };
        }
        state.failures = state.failures.saturating_add(1);
        if state.ips.len() < MN_IPS && !state.ips.contains(&ip) {
            state.ips.push(ip);
        }
        if state.alerted || s.lockout_after == 0 || state.failures < s.lockout_after {
            return None;
        }
        state.alerted = true;
        Some(Suspicion {
            mn: mn.to_owned(),
            failures: state.failures,
            ip,
            sources: state.ips.len(),
        })
    }

    fn ip_failure(&mut self, ip: IpAddr, now: Instant) {
        let s = &self.settings;
        let state = self.ips.entry(ip).or_insert(IpState {
            failures: 0,
            last_failure: now,
            blocked_until: None,
        });
        if now.duration_since(state.last_failure) > s.window {
            state.failures = 0;
        }
        state.failures = state.failures.saturating_add(1);
        state.last_failure = now;
        if s.backoff_after > 0 && state.failures >= s.backoff_after {
            let doublings = (state.failures - s.backoff_after).min(30);
            let delay = s
                .backoff_base
                .saturating_mul(1u32 << doublings)
                .min(s.backoff_max);
            let until = now + delay;
            state.blocked_until = Some(state.blocked_until.map_or(until, |t| t.max(until)));
        }
    }

    fn pair_failure(&mut self, mn: &str, ip: IpAddr, now: Instant) -> Option<Lockout> {
        let s = &self.settings;
        let state = self.pairs.entry((mn.to_owned(), ip)).or_insert(PairState {
            failures: 0,
            first_failure: now,
            locked_until: None,
        });
        let locked = state.locked_until.is_some_and(|t| now < t);
        if !locked && now.duration_since(state.first_failure) > s.window {
            *state = PairState {
                failures: 0,
                first_failure: now,
                locked_until: None,
            };
        }
        state.failures = state.failures.saturating_add(1);
        if locked || s.lockout_after == 0 || state.failures < s.lockout_after {
            return None;
        }
        state.locked_until = Some(now + s.lockout);
        Some(Lockout {
            mn: mn.to_owned(),
            ip,
            failures: state.failures,
            duration: s.lockout,
        })
    }

    /// Drops state that no longer matters once the tables grow large.
    fn sweep(&mut self, now: Instant) {
        let window = self.settings.window;
        let lockout = self.settings.lockout;
        if self.ips.len() >= MAX_TRACKED {
            self.ips.retain(|_, s| {
                s.blocked_until.is_some_and(|t| now < t)
                    || now.duration_since(s.last_failure) <= window
            });
        }
        if self.pairs.len() >= MAX_TRACKED {
            self.pairs.retain(|_, s| {
                s.locked_until.is_some_and(|t| now < t)
                    || now.duration_since(s.first_failure) <= window.max(lockout)
            });
        }
        // Still full (a flood of fresh addresses): forget the oldest half rather than grow.
        if self.ips.len() >= MAX_TRACKED {
            let mut ages: Vec<Instant> = self.ips.values().map(|s| s.last_failure).collect();
            ages.sort_unstable();
            let cut = ages[ages.len() / 2];
            self.ips.retain(|_, s| s.last_failure > cut);
        }
        if self.pairs.len() >= MAX_TRACKED {
            let mut ages: Vec<Instant> = self.pairs.values().map(|s| s.first_failure).collect();
            ages.sort_unstable();
            let cut = ages[ages.len() / 2];
            self.pairs.retain(|_, s| s.first_failure > cut);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(last: u8) -> IpAddr {
        IpAddr::from([10, 0, 0, last])
    }

    fn settings() -> AuthSettings {
        AuthSettings {
            backoff_after: 3,
            backoff_base: Duration::from_secs(1),
            backoff_max: Duration::from_secs(60),
            lockout_after: 10,
            lockout: Duration::from_secs(600),
            window: Duration::from_secs(900),
        }
    }

    #[test]
    fn caps_per_ip_and_total() {
        let caps = ConnectionCaps::new(3, 2, vec![ip(7)]);
        let a = caps.admit(ip(1)).expect("1st");
        let _b = caps.admit(ip(1)).expect("2nd");
        assert_eq!(caps.admit(ip(1)).unwrap_err(), Refusal::PerIp);
        let _c = caps.admit(ip(2)).expect("other ip");
        assert_eq!(caps.admit(ip(3)).unwrap_err(), Refusal::Total);
        drop(a);
        assert!(
            caps.admit(ip(1)).is_ok(),
            "a closed connection gives its slot back"
        );
        let caps = ConnectionCaps::new(10, 1, vec![ip(7)]);
        let _held: Vec<_> = (0..5).map(|_| caps.admit(ip(7)).expect("exempt")).collect();
        assert_eq!(
            caps.admit(ip(8)).map(|_| ()),
            Ok(()),
            "others keep their own cap"
        );
    }

    #[test]
    fn backoff_grows_and_hides_the_right_password() {
        let mut g = AuthGuard::new(settings());
        let t0 = Instant::now();
        for _ in 0..2 {
            assert_eq!(g.check(ip(1), Some("MN"), false, t0).0, AuthVerdict::Fail);
        }
        // The third failure starts a 1 s backoff.
        assert_eq!(g.check(ip(1), Some("MN"), false, t0).0, AuthVerdict::Fail);
        assert_eq!(
            g.check(ip(1), Some("MN"), true, t0).0,
            AuthVerdict::Throttled,
            "the right PW is ignored too: no oracle"
        );
        // An unknown MN looks the same, and is the 4th failure: it doubles the delay to 2 s.
        assert_eq!(g.check(ip(1), None, true, t0).0, AuthVerdict::Throttled);
        let t = t0 + Duration::from_millis(1500);
        assert_eq!(
            g.check(ip(1), Some("MN"), true, t).0,
            AuthVerdict::Throttled
        );
        let t = t0 + Duration::from_millis(2100);
        assert_eq!(g.check(ip(1), Some("MN"), true, t).0, AuthVerdict::Accept);
        // Another IP was never affected.
        assert_eq!(g.check(ip(2), Some("MN"), true, t0).0, AuthVerdict::Accept);
    }

    #[test]
    fn lockout_is_per_mn_and_ip_and_expires() {
        let mut g = AuthGuard::new(settings());
        let t0 = Instant::now();
        let mut lockouts = Vec::new();
        let mut suspicions = Vec::new();
        for _ in 0..100 {
            let (_, l, s) = g.check(ip(1), Some("MN"), false, t0);
            lockouts.extend(l);
            suspicions.extend(s);
        }
        assert_eq!(suspicions.len(), 1, "one alert per MN per window");
        assert_eq!(
            lockouts.len(),
            1,
            "one lockout (one WARN), not one per guess"
        );
        assert_eq!(lockouts[0].failures, 10);
        // The guesser's backoff is at its maximum (60 s); the pair stays locked for 600 s.
        let t = t0 + Duration::from_secs(120);
        assert_eq!(g.check(ip(1), Some("MN"), true, t).0, AuthVerdict::Locked);
        assert_eq!(
            g.check(ip(1), Some("OTHER"), true, t).0,
            AuthVerdict::Accept
        );
        // The real station on its own address is not locked out by the guesser.
        assert_eq!(g.check(ip(9), Some("MN"), true, t0).0, AuthVerdict::Accept);
        let t = t0 + Duration::from_secs(601);
        assert_eq!(g.check(ip(1), Some("MN"), true, t).0, AuthVerdict::Accept);
    }

    #[test]
    fn guessing_from_many_addresses_is_suspected_without_a_lockout() {
        let mut g = AuthGuard::new(settings());
        let t0 = Instant::now();
        let mut suspicions = Vec::new();
        for i in 0..20u8 {
            let (verdict, lockout, s) = g.check(ip(i), Some("MN"), false, t0);
            assert_eq!(verdict, AuthVerdict::Fail, "each address guesses once");
            assert!(lockout.is_none());
            suspicions.extend(s);
        }
        assert_eq!(suspicions.len(), 1, "{suspicions:?}");
        assert_eq!(suspicions[0].failures, 10);
        assert_eq!(suspicions[0].sources, 10);
        assert_eq!(g.check(ip(99), Some("MN"), true, t0).0, AuthVerdict::Accept);
    }

    #[test]
    fn unknown_mns_do_not_grow_the_tables() {
        let mut g = AuthGuard::new(settings());
        let t0 = Instant::now();
        for i in 0..50_000u32 {
            let addr = IpAddr::from(i.to_be_bytes());
            g.check(addr, None, false, t0);
        }
        assert!(g.ips.len() <= MAX_TRACKED, "{}", g.ips.len());
        assert!(g.pairs.is_empty());
    }
}
