//! Who is asking: accounts, roles, personal API tokens, dashboard sessions, login throttling and
//! the audit trail. Passwords are argon2 (PHC strings), tokens and session ids 256 random bits
//! kept as SHA-256 digests; none of them is ever logged or answered back after creation.
//!
//! Resolution is synchronous (handlers call `AppState::authorize_*` with the headers): the
//! live tokens and sessions are held in memory, updated at once by every change this node makes
//! and reloaded from the store every `[auth] refresh_s`, so a change made elsewhere (the CLI, a
//! second node) takes effect within that interval.

pub mod audit;
pub mod password;
mod principal;
pub mod throttle;

pub use principal::{Principal, Role, Via};

use crate::config::AuthConfig;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, RwLock};
use store::StoreError;
use store::accounts::{AccountStore, SessionRecord, TokenRecord, UserRecord};

/// The cookie that carries a dashboard session.
pub const SESSION_COOKIE: &str = "qingshui_session";
/// The header a cookie-authenticated state change must carry (double submit of the session's
/// CSRF token).
pub const CSRF_HEADER: &str = "x-csrf-token";
/// Personal API tokens start with this, so a leaked one is recognisable (secret scanners).
pub const TOKEN_PREFIX: &str = "qs_";

/// `n` random bytes as lowercase hex, from the OS generator.
pub fn random_hex(n: usize) -> Result<String, StoreError> {
    let mut bytes = vec![0u8; n];
    getrandom::fill(&mut bytes)
        .map_err(|e| StoreError::Database(format!("no randomness from the OS: {e}")))?;
    Ok(hex(&bytes))
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

/// Hex SHA-256 of a token or session id (what the store keeps).
pub fn digest(secret: &str) -> String {
    hex(&Sha256::digest(secret.as_bytes()))
}

#[derive(Default)]
struct Live {
    /// Token digest → (token, owner).
    tokens: HashMap<String, (TokenRecord, UserRecord)>,
    /// Session digest → (session, user).
    sessions: HashMap<String, (SessionRecord, UserRecord)>,
}

/// The live credentials and the way to change them.
pub struct Accounts {
    pub store: Option<Arc<dyn AccountStore>>,
    pub config: AuthConfig,
    live: RwLock<Live>,
    /// Held by a reload from before it reads the store until it has replaced the live set,
    /// and by every change to the live set (after its store write): a change is never undone
    /// by a reload that read the store before it.
    changes: tokio::sync::Mutex<()>,
    /// Failed logins per account name.
    pub throttle: throttle::Throttle,
    /// Failed logins per client address.
    pub throttle_addr: throttle::Throttle,
    pub audit: audit::AuditLog,
}

impl Accounts {
    pub fn new(store: Option<Arc<dyn AccountStore>>, config: AuthConfig) -> Arc<Accounts> {
        let lockout = std::time::Duration::from_secs(config.login_lockout_s);
        let throttle = throttle::Throttle::new(config.login_max_failures, lockout);
        // One address may fail for several names (a shared office NAT) before it is stopped.
        let throttle_addr =
            throttle::Throttle::new(config.login_max_failures.saturating_mul(4), lockout);
        Arc::new(Accounts {
            audit: audit::AuditLog::start(store.clone()),
            store,
            config,
            live: RwLock::new(Live::default()),
            changes: tokio::sync::Mutex::new(()),
            throttle,
            throttle_addr,
        })
    }

    fn read_live(&self) -> std::sync::RwLockReadGuard<'_, Live> {
        self.live.read().unwrap_or_else(|p| p.into_inner())
    }

    fn write_live(&self) -> std::sync::RwLockWriteGuard<'_, Live> {
        self.live.write().unwrap_or_else(|p| p.into_inner())
    }

    /// Reloads the live tokens and sessions from the store (at start and every `refresh_s`).
    pub async fn reload(&self, now_ms: i64) -> Result<(), StoreError> {
        let Some(store) = &self.store else {
            return Ok(());
        };
        let _changes = self.changes.lock().await;
        let users: HashMap<i64, UserRecord> = store
            .users()
            .await?
            .into_iter()
            .filter(|u| !u.disabled)
            .map(|u| (u.id, u))
            .collect();
        let mut live = Live::default();
        for t in store.tokens().await? {
            let alive = t.revoked_at.is_none() && t.expires_at.is_none_or(|e| e > now_ms);
            if let (true, Some(u)) = (alive, users.get(&t.user_id)) {
                live.tokens.insert(t.digest.clone(), (t, u.clone()));
            }
        }
        for s in store.sessions(now_ms).await? {
            if let Some(u) = users.get(&s.user_id) {
                live.sessions.insert(s.digest.clone(), (s, u.clone()));
            }
        }
        *self.write_live() = live;
        Ok(())
    }

    /// Keeps the live set current: reload every `refresh_s` until `stop`.
    pub fn spawn_refresh(self: &Arc<Self>, mut stop: tokio::sync::watch::Receiver<bool>) {
        let me = self.clone();
        let every = std::time::Duration::from_secs(self.config.refresh_s.max(1));
        tokio::spawn(async move {
            loop {
                tokio::select! {
                    _ = tokio::time::sleep(every) => {}
                    _ = stop.changed() => return,
                }
                if let Err(e) = me.reload(store::clock::now_millis()).await {
                    tracing::warn!(error = %e, "accounts not reloaded");
                }
            }
        });
    }

    /// The principal of a personal token, if it is live.
    pub fn token(&self, token: &str, now_ms: i64) -> Option<Principal> {
        let live = self.read_live();
        let (t, u) = live.tokens.get(&digest(token))?;
        if t.expires_at.is_some_and(|e| e <= now_ms) {
            return None;
        }
        // A token acts with at most its owner's current role.
        let role = Role::parse(&t.role)?.min(Role::parse(&u.role)?);
        Some(Principal::User {
            id: u.id,
            name: u.name.clone(),
            display_name: u.display_name.clone(),
            role,
            via: Via::Token {
                id: t.id,
                prefix: t.prefix.clone(),
            },
        })
    }

    /// The principal of a session cookie, if it is live.
    pub fn session(&self, session_id: &str, now_ms: i64) -> Option<Principal> {
        let live = self.read_live();
        let d = digest(session_id);
        let (s, u) = live.sessions.get(&d)?;
        if s.expires_at <= now_ms {
            return None;
        }
        Some(Principal::User {
            id: u.id,
            name: u.name.clone(),
            display_name: u.display_name.clone(),
            role: Role::parse(&u.role)?,
            via: Via::Session {
                digest: d,
                csrf: s.csrf.clone(),
                expires_at: s.expires_at,
            },
        })
    }

    /// A new session for `user` (after its password was checked): returns (cookie id, record).
    pub async fn open_session(
        &self,
        user: &UserRecord,
        from_addr: String,
        now_ms: i64,
    ) -> Result<(String, SessionRecord), StoreError> {
        let store = self.store.as_ref().ok_or_else(no_accounts)?;
        let id = random_hex(32)?;
        let record = SessionRecord {
            digest: digest(&id),
            user_id: user.id,
            csrf: random_hex(16)?,
            created_at: now_ms,
            expires_at: now_ms + (self.config.session_ttl_s as i64).saturating_mul(1000),
            from_addr,
        };
        store.add_session(record.clone()).await?;
        let _changes = self.changes.lock().await;
        self.write_live()
            .sessions
            .insert(record.digest.clone(), (record.clone(), user.clone()));
        Ok((id, record))
    }

    pub async fn close_session(&self, digest: &str) -> Result<(), StoreError> {
        if let Some(store) = &self.store {
            store.delete_session(digest).await?;
        }
        let _changes = self.changes.lock().await;
        self.write_live().sessions.remove(digest);
        Ok(())
    }

    /// A new personal token: returns the token (shown once) and its record.
    pub async fn issue_token(
        &self,
        owner: &UserRecord,
        name: String,
        role: Role,
        expires_at: Option<i64>,
        now_ms: i64,
    ) -> Result<(String, TokenRecord), StoreError> {
        let store = self.store.as_ref().ok_or_else(no_accounts)?;
        let token = format!("{TOKEN_PREFIX}{}", random_hex(32)?);
        let mut record = TokenRecord {
            id: 0,
            user_id: owner.id,
            name,
            prefix: token.chars().take(10).collect(),
            digest: digest(&token),
            role: role.as_str().to_string(),
            created_at: now_ms,
            expires_at,
            revoked_at: None,
        };
        record.id = store.add_token(record.clone()).await?;
        let _changes = self.changes.lock().await;
        self.write_live()
            .tokens
            .insert(record.digest.clone(), (record.clone(), owner.clone()));
        Ok((token, record))
    }

    pub async fn revoke_token(&self, id: i64, now_ms: i64) -> Result<bool, StoreError> {
        let store = self.store.as_ref().ok_or_else(no_accounts)?;
        let revoked = store.revoke_token(id, now_ms).await?;
        let _changes = self.changes.lock().await;
        self.write_live().tokens.retain(|_, (t, _)| t.id != id);
        Ok(revoked)
    }

    /// Drops the live credentials of an account that was disabled or changed role.
    pub async fn forget_user(&self, user_id: i64) {
        let _changes = self.changes.lock().await;
        let mut live = self.write_live();
        live.tokens.retain(|_, (_, u)| u.id != user_id);
        live.sessions.retain(|_, (_, u)| u.id != user_id);
    }

    /// Replaces the cached copy of an account (role or name changed) in its live credentials.
    pub async fn refresh_user(&self, user: &UserRecord) {
        if user.disabled {
            return self.forget_user(user.id).await;
        }
        let _changes = self.changes.lock().await;
        let mut live = self.write_live();
        for (_, u) in live.tokens.values_mut() {
            if u.id == user.id {
                *u = user.clone();
            }
        }
        for (_, u) in live.sessions.values_mut() {
            if u.id == user.id {
                *u = user.clone();
            }
        }
    }
}

pub fn no_accounts() -> StoreError {
    StoreError::Database("this storage backend keeps no accounts".into())
}
