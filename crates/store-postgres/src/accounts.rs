//! Accounts, tokens, sessions and the audit trail in PostgreSQL (migration 4). Writes run on the
//! writer thread between group commits, reads on the reader pool; nothing here is on the
//! observation hot path (the server batches audit entries).

use crate::PgStore;
use crate::compat::OptionalExtension;
use crate::exec::Db;
use crate::params;
use async_trait::async_trait;
use serde_json::Value;
use store::StoreError;
use store::accounts::{
    AccountStore, AuditFilter, AuditRecord, SessionRecord, TokenRecord, UserRecord,
};

const USER_COLUMNS: &str =
    "id, name, display_name, role, password_hash, disabled, created_at, updated_at";

fn user(r: &crate::compat::Row<'_>) -> Result<UserRecord, StoreError> {
    Ok(UserRecord {
        id: r.get(0)?,
        name: r.get(1)?,
        display_name: r.get(2)?,
        role: r.get(3)?,
        password_hash: r.get(4)?,
        disabled: r.get::<i64>(5)? != 0,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
    })
}

fn token(r: &crate::compat::Row<'_>) -> Result<TokenRecord, StoreError> {
    Ok(TokenRecord {
        id: r.get(0)?,
        user_id: r.get(1)?,
        name: r.get(2)?,
        prefix: r.get(3)?,
        digest: r.get(4)?,
        role: r.get(5)?,
        created_at: r.get(6)?,
        expires_at: r.get(7)?,
        revoked_at: r.get(8)?,
    })
}

fn audit(r: &crate::compat::Row<'_>) -> Result<AuditRecord, StoreError> {
    let details: String = r.get(6)?;
    Ok(AuditRecord {
        id: r.get(0)?,
        at: r.get(1)?,
        principal: r.get(2)?,
        action: r.get(3)?,
        target: r.get(4)?,
        from_addr: r.get(5)?,
        details: serde_json::from_str(&details).unwrap_or(Value::Null),
    })
}

#[async_trait]
impl AccountStore for PgStore {
    async fn add_user(&self, u: UserRecord) -> Result<i64, StoreError> {
        self.exclusive(move |conn| {
            let taken: Option<i64> = conn
                .query_row("SELECT id FROM users WHERE name = ?1", [&u.name], |r| {
                    r.get(0)
                })
                .optional()
                .db()?;
            if taken.is_some() {
                return Err(StoreError::Conflict(format!(
                    "an account named {:?} exists",
                    u.name
                )));
            }
            conn.execute(
                "INSERT INTO users (name, display_name, role, password_hash, disabled, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
                params![u.name, u.display_name, u.role, u.password_hash, u.disabled as i64, u.created_at, u.updated_at],
            )
            .db()?;
            conn.last_insert_rowid()
        })
        .await
    }

    async fn update_user(&self, u: UserRecord) -> Result<(), StoreError> {
        self.exclusive(move |conn| {
            let n = conn
                .execute(
                    "UPDATE users SET display_name = ?2, role = ?3, password_hash = ?4, disabled = ?5, updated_at = ?6
                     WHERE id = ?1",
                    params![u.id, u.display_name, u.role, u.password_hash, u.disabled as i64, u.updated_at],
                )
                .db()?;
            if n == 0 {
                return Err(store::not_found(format!("no account {}", u.id)));
            }
            Ok(())
        })
        .await
    }

    async fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.with_reader(|conn| {
            let mut stmt = conn
                .prepare_cached(&format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"))
                .db()?;
            stmt.query_map(params![], user)
                .db()?
                .collect::<Result<Vec<_>, _>>()
                .db()
        })
        .await
    }

    async fn user_by_name(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        let name = name.to_string();
        self.with_reader(move |conn| {
            conn.query_row(
                &format!("SELECT {USER_COLUMNS} FROM users WHERE name = ?1"),
                [name],
                user,
            )
            .optional()
            .db()
        })
        .await
    }

    async fn add_token(&self, t: TokenRecord) -> Result<i64, StoreError> {
        self.exclusive(move |conn| {
            conn.execute(
                "INSERT INTO api_tokens (user_id, name, prefix, digest, role, created_at, expires_at, revoked_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL)",
                params![t.user_id, t.name, t.prefix, t.digest, t.role, t.created_at, t.expires_at],
            )
            .db()?;
            conn.last_insert_rowid()
        })
        .await
    }

    async fn revoke_token(&self, id: i64, at: i64) -> Result<bool, StoreError> {
        self.exclusive(move |conn| {
            let n = conn
                .execute(
                    "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                    params![id, at],
                )
                .db()?;
            Ok(n > 0)
        })
        .await
    }

    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.with_reader(|conn| {
            let mut stmt = conn
                .prepare_cached(
                    "SELECT id, user_id, name, prefix, digest, role, created_at, expires_at, revoked_at
                     FROM api_tokens ORDER BY id",
                )
                .db()?;
            stmt.query_map(params![], token)
                .db()?
                .collect::<Result<Vec<_>, _>>()
                .db()
        })
        .await
    }

    async fn add_session(&self, s: SessionRecord) -> Result<(), StoreError> {
        self.exclusive(move |conn| {
            conn.execute(
                "INSERT INTO sessions (digest, user_id, csrf, created_at, expires_at, from_addr)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                params![
                    s.digest,
                    s.user_id,
                    s.csrf,
                    s.created_at,
                    s.expires_at,
                    s.from_addr
                ],
            )
            .db()?;
            Ok(())
        })
        .await
    }

    async fn delete_session(&self, digest: &str) -> Result<(), StoreError> {
        let digest = digest.to_string();
        self.exclusive(move |conn| {
            conn.execute("DELETE FROM sessions WHERE digest = ?1", [digest])
                .db()?;
            Ok(())
        })
        .await
    }

    async fn sessions(&self, now: i64) -> Result<Vec<SessionRecord>, StoreError> {
        self.exclusive(move |conn| {
            conn.execute("DELETE FROM sessions WHERE expires_at <= ?1", [now])
                .db()?;
            let mut stmt = conn
                .prepare_cached(
                    "SELECT digest, user_id, csrf, created_at, expires_at, from_addr FROM sessions",
                )
                .db()?;
            stmt.query_map(params![], |r| {
                Ok(SessionRecord {
                    digest: r.get(0)?,
                    user_id: r.get(1)?,
                    csrf: r.get(2)?,
                    created_at: r.get(3)?,
                    expires_at: r.get(4)?,
                    from_addr: r.get(5)?,
                })
            })
            .db()?
            .collect::<Result<Vec<_>, _>>()
            .db()
        })
        .await
    }

    async fn append_audit(&self, entries: Vec<AuditRecord>) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        self.exclusive(move |conn| {
            let tx = conn.transaction().db()?;
            {
                let mut stmt = tx
                    .prepare_cached(
                        "INSERT INTO audit (at, principal, action, target, from_addr, details)
                         VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    )
                    .db()?;
                for e in entries {
                    stmt.execute(params![
                        e.at,
                        e.principal,
                        e.action,
                        e.target,
                        e.from_addr,
                        e.details.to_string()
                    ])
                    .db()?;
                }
            }
            tx.commit().db()
        })
        .await
    }

    async fn audit(&self, f: AuditFilter) -> Result<Vec<AuditRecord>, StoreError> {
        self.with_reader(move |conn| {
            let action_like = f.action.as_ref().map(|a| {
                // A prefix match; LIKE's wildcards in the filter are taken literally.
                let escaped = a
                    .replace('\\', "\\\\")
                    .replace('%', "\\%")
                    .replace('_', "\\_");
                format!("{escaped}%")
            });
            let mut stmt = conn
                .prepare_cached(
                    "SELECT id, at, principal, action, target, from_addr, details FROM audit
                     WHERE (?1::TEXT IS NULL OR principal = ?1::TEXT)
                       AND (?2::TEXT IS NULL OR action LIKE ?2::TEXT ESCAPE '\\')
                       AND (?3::BIGINT IS NULL OR at >= ?3::BIGINT)
                       AND (?4::BIGINT IS NULL OR at < ?4::BIGINT)
                     ORDER BY at DESC, id DESC LIMIT ?5",
                )
                .db()?;
            stmt.query_map(
                params![
                    f.principal,
                    action_like,
                    f.since,
                    f.until,
                    f.limit.max(1) as i64
                ],
                audit,
            )
            .db()?
            .collect::<Result<Vec<_>, _>>()
            .db()
        })
        .await
    }
}
