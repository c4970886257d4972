//! Login throttling: after `max_failures` failed logins for one account name, or from one
//! address, within `lockout`, further attempts are refused (429) until the window passes —
//! even with the right password, so guessing cannot be sped up by luck.

use std::collections::HashMap;
use std::sync::Mutex;
use std::time::{Duration, Instant};

pub struct Throttle {
    max_failures: u32,
    lockout: Duration,
    failures: Mutex<HashMap<String, (u32, Instant)>>,
}

impl Throttle {
    pub fn new(max_failures: u32, lockout: Duration) -> Throttle {
        Throttle {
            max_failures: max_failures.max(1),
            lockout,
            failures: Mutex::new(HashMap::new()),
        }
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, (u32, Instant)>> {
        self.failures.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Seconds until `keys` may try again (`None`: they may now).
    pub fn blocked(&self, keys: &[String]) -> Option<u64> {
        let mut f = self.lock();
        let lockout = self.lockout;
        f.retain(|_, (_, first)| first.elapsed() < lockout);
        keys.iter()
            .filter_map(|k| f.get(k))
            .filter(|(n, _)| *n >= self.max_failures)
            .map(|(_, first)| lockout.saturating_sub(first.elapsed()).as_secs().max(1))
            .max()
    }

    pub fn failed(&self, keys: &[String]) {
        let mut f = self.lock();
        for k in keys {
            let e = f.entry(k.clone()).or_insert((0, Instant::now()));
            e.0 += 1;
        }
    }

    pub fn succeeded(&self, keys: &[String]) {
        let mut f = self.lock();
        for k in keys {
            f.remove(k);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_nth_failure_locks_the_name_for_the_window() {
        let t = Throttle::new(3, Duration::from_secs(60));
        let k = vec!["name:wang".to_string()];
        for _ in 0..2 {
            t.failed(&k);
            assert_eq!(t.blocked(&k), None);
        }
        t.failed(&k);
        assert!(t.blocked(&k).is_some_and(|s| s <= 60));
        assert_eq!(t.blocked(&["name:li".to_string()]), None);
        t.succeeded(&k);
        assert_eq!(t.blocked(&k), None);
    }
}
