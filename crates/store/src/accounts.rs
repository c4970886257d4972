//! Accounts, API tokens, login sessions and the audit trail: what the server's access control
//! keeps beside the data. Secrets are never stored: passwords as argon2 PHC strings, tokens and
//! session ids as SHA-256 digests (they carry 256 random bits, so a fast digest is enough). The
//! server does the hashing; a backend only keeps rows.

use crate::StoreError;
use async_trait::async_trait;
use serde::Serialize;
use serde_json::Value;

/// A person's account.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct UserRecord {
    /// 0 for a new account; the store assigns the id.
    pub id: i64,
    /// Login name, unique.
    pub name: String,
    pub display_name: String,
    /// `viewer`, `operator`, `reviewer` or `admin` (the server's `Role`).
    pub role: String,
    /// argon2 PHC string; never leaves the server.
    #[serde(skip)]
    pub password_hash: String,
    pub disabled: bool,
    /// Unix milliseconds.
    pub created_at: i64,
    pub updated_at: i64,
}

/// A personal API token. The token itself is shown once, at creation; this keeps its digest.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct TokenRecord {
    pub id: i64,
    pub user_id: i64,
    /// What the owner calls it ("数据推送", "FROST client", …).
    pub name: String,
    /// The first characters of the token, to recognise it in a list.
    pub prefix: String,
    /// Hex SHA-256 of the whole token.
    #[serde(skip)]
    pub digest: String,
    /// The role the token acts with: at most its owner's.
    pub role: String,
    pub created_at: i64,
    /// Unix milliseconds; `None`: never expires.
    pub expires_at: Option<i64>,
    pub revoked_at: Option<i64>,
}

/// A dashboard login session (the cookie's id is kept as its digest).
#[derive(Debug, Clone, PartialEq)]
pub struct SessionRecord {
    pub digest: String,
    pub user_id: i64,
    /// The CSRF token the dashboard echoes in `X-CSRF-Token` on state changes.
    pub csrf: String,
    pub created_at: i64,
    pub expires_at: i64,
    pub from_addr: String,
}

/// One audit entry: who did what, when, from where, and before/after where it applies.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    pub id: i64,
    /// Unix milliseconds.
    pub at: i64,
    /// `user:<name>`, `token:<prefix>(<owner>)`, `service`, `anonymous`, `device:<id>`, `cli`.
    pub principal: String,
    /// e.g. `alert.ack`, `sta.create`, `user.add`, `token.revoke`, `session.login`.
    pub action: String,
    /// What it acted on (`/v1.1/Things(3)`, `alert 17`, `user wang`).
    pub target: String,
    pub from_addr: String,
    /// Request details, `before`/`after` where they apply.
    pub details: Value,
}

/// Which audit entries to list.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct AuditFilter {
    pub principal: Option<String>,
    /// Prefix of the action (`alert.` matches every alert action).
    pub action: Option<String>,
    pub since: Option<i64>,
    pub until: Option<i64>,
    pub limit: usize,
}

/// Everything the server keeps about access, in one backend.
#[async_trait]
pub trait AccountStore: Send + Sync + 'static {
    /// Creates an account; `StoreError::Conflict` when the name is taken. Returns the id.
    async fn add_user(&self, user: UserRecord) -> Result<i64, StoreError>;
    /// Replaces an account's mutable fields (display name, role, password hash, disabled).
    async fn update_user(&self, user: UserRecord) -> Result<(), StoreError>;
    async fn users(&self) -> Result<Vec<UserRecord>, StoreError>;
    async fn user_by_name(&self, name: &str) -> Result<Option<UserRecord>, StoreError>;

    async fn add_token(&self, token: TokenRecord) -> Result<i64, StoreError>;
    /// Marks a token revoked at `at`; false when there is no such live token.
    async fn revoke_token(&self, id: i64, at: i64) -> Result<bool, StoreError>;
    /// Every token, revoked and expired ones included (the server decides what is live).
    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError>;

    async fn add_session(&self, session: SessionRecord) -> Result<(), StoreError>;
    async fn delete_session(&self, digest: &str) -> Result<(), StoreError>;
    /// Sessions not expired at `now`; expired ones are removed on the way.
    async fn sessions(&self, now: i64) -> Result<Vec<SessionRecord>, StoreError>;

    /// Appends entries in one transaction.
    async fn append_audit(&self, entries: Vec<AuditRecord>) -> Result<(), StoreError>;
    /// Entries matching `filter`, newest first.
    async fn audit(&self, filter: AuditFilter) -> Result<Vec<AuditRecord>, StoreError>;
}
