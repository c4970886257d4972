//! Device-state logic as pure state machines that take `now`.
//!
//! - [`Registration`]: REGISTER / refresh / `Expires: 0`, registration expiry,
//!   and the keepalive offline rule `min(expires, interval × count)` after the
//!   last sign of life (WVP's and the reference's rule).
//! - [`CatalogAssembler`]: Catalog pages collected until `SumNum` items,
//!   keyed by (device, SN), tolerant of out-of-order and repeated pages.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Duration, Utc};

use crate::manscdp::{CatalogItem, CatalogPage};

/// Keepalive settings of the platform (the camera has its own; mismatches are
/// the classic cause of flapping, so the defaults follow the common 60 s × 3).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Liveness {
    pub interval_s: u32,
    pub count: u32,
}

impl Default for Liveness {
    fn default() -> Self {
        Self {
            interval_s: 60,
            count: 3,
        }
    }
}

/// What a REGISTER did to a device's registration.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RegisterOutcome {
    /// First registration, or a new Call-ID (device rebooted).
    New,
    /// Same Call-ID: 注册续订.
    Refresh,
    /// `Expires: 0`.
    Unregistered,
}

/// One device's registration and liveness.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Registration {
    call_id: Option<String>,
    registered_at: Option<DateTime<Utc>>,
    expires_s: u32,
    last_seen: Option<DateTime<Utc>>,
}

impl Registration {
    /// Applies an authenticated REGISTER.
    pub fn register(
        &mut self,
        now: DateTime<Utc>,
        expires_s: u32,
        call_id: &str,
    ) -> RegisterOutcome {
        if expires_s == 0 {
            *self = Self::default();
            return RegisterOutcome::Unregistered;
        }
        let refresh = self.is_registered(now) && self.call_id.as_deref() == Some(call_id);
        self.call_id = Some(call_id.to_string());
        self.registered_at = Some(now);
        self.expires_s = expires_s;
        self.last_seen = Some(now);
        if refresh {
            RegisterOutcome::Refresh
        } else {
            RegisterOutcome::New
        }
    }

    /// A keepalive (or any MESSAGE) from a registered device. Returns false
    /// when the device is not registered: the caller should refuse it so the
    /// device registers again.
    pub fn keepalive(&mut self, now: DateTime<Utc>) -> bool {
        if !self.is_registered(now) {
            return false;
        }
        self.last_seen = Some(now);
        true
    }

    /// Registration still within its Expires.
    pub fn is_registered(&self, now: DateTime<Utc>) -> bool {
        self.registered_at
            .is_some_and(|at| now < at + Duration::seconds(i64::from(self.expires_s)))
    }

    /// Online: registered and heard from within `min(expires, interval × count)`.
    pub fn is_online(&self, now: DateTime<Utc>, live: Liveness) -> bool {
        self.offline_at(live).is_some_and(|t| now < t)
    }

    /// When the device goes offline if nothing more is heard.
    pub fn offline_at(&self, live: Liveness) -> Option<DateTime<Utc>> {
        let at = self.registered_at?;
        let window = self
            .expires_s
            .min(live.interval_s.saturating_mul(live.count));
        let expiry = at + Duration::seconds(i64::from(self.expires_s));
        let silence = self.last_seen? + Duration::seconds(i64::from(window));
        Some(expiry.min(silence))
    }

    pub fn last_seen(&self) -> Option<DateTime<Utc>> {
        self.last_seen
    }

    pub fn registered_at(&self) -> Option<DateTime<Utc>> {
        self.registered_at
    }

    pub fn expires_s(&self) -> u32 {
        self.expires_s
    }
}

/// What feeding one Catalog page produced.
#[derive(Debug, Clone, PartialEq)]
pub enum CatalogProgress {
    /// Still waiting: items so far, of SumNum.
    Partial { have: usize, of: u32 },
    /// All `SumNum` items, ordered by channel ID.
    Complete(Vec<CatalogItem>),
}

#[derive(Debug)]
struct Pending {
    started: DateTime<Utc>,
    sum_num: u32,
    items: BTreeMap<String, CatalogItem>,
}

/// Joins Catalog pages. Bounded: at most `max_items` per catalog and stale
/// assemblies dropped after `timeout`.
#[derive(Debug)]
pub struct CatalogAssembler {
    pending: HashMap<(String, u32), Pending>,
    max_items: usize,
    timeout: Duration,
}

impl CatalogAssembler {
    pub fn new(max_items: usize, timeout: Duration) -> Self {
        Self {
            pending: HashMap::new(),
            max_items,
            timeout,
        }
    }

    /// Adds a page; repeated items (same channel ID) count once.
    pub fn feed(&mut self, now: DateTime<Utc>, page: CatalogPage) -> CatalogProgress {
        let timeout = self.timeout;
        self.pending.retain(|_, p| now - p.started < timeout);
        if page.sum_num == 0 {
            self.pending.remove(&(page.device_id, page.sn));
            return CatalogProgress::Complete(Vec::new());
        }
        let key = (page.device_id.clone(), page.sn);
        let entry = self.pending.entry(key.clone()).or_insert_with(|| Pending {
            started: now,
            sum_num: page.sum_num,
            items: BTreeMap::new(),
        });
        for item in page.items {
            if entry.items.len() >= self.max_items {
                break;
            }
            entry.items.insert(item.device_id.clone(), item);
        }
        let target = (entry.sum_num as usize).min(self.max_items);
        if entry.items.len() >= target {
            let done = self
                .pending
                .remove(&key)
                .map(|p| p.items.into_values().collect());
            return CatalogProgress::Complete(done.unwrap_or_default());
        }
        CatalogProgress::Partial {
            have: entry.items.len(),
            of: entry.sum_num,
        }
    }

    pub fn pending(&self) -> usize {
        self.pending.len()
    }
}
