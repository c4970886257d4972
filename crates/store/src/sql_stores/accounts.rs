//! [`AccountStore`] for every [`SqlRunner`]: accounts, tokens, sessions and the audit trail
//! (each backend's migration 4). Writes run on the writer between group commits, reads on a
//! reader; nothing here is on the observation hot path (the server batches audit entries).

use super::{Row, SqlRunner, all, first, insert_returning_id};
use crate::StoreError;
use crate::accounts::{
    AccountStore, AuditFilter, AuditRecord, SessionRecord, TokenRecord, UserRecord,
};
use async_trait::async_trait;

const USER_COLUMNS: &str =
    "id, name, display_name, role, password_hash, disabled, created_at, updated_at";

fn user(r: &Row<'_>) -> Result<UserRecord, StoreError> {
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

fn token(r: &Row<'_>) -> Result<TokenRecord, StoreError> {
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

fn audit(r: &Row<'_>) -> Result<AuditRecord, StoreError> {
    Ok(AuditRecord {
        id: r.get(0)?,
        at: r.get(1)?,
        principal: r.get(2)?,
        action: r.get(3)?,
        target: r.get(4)?,
        from_addr: r.get(5)?,
        details: r.json(6)?,
    })
}

/// A prefix match for LIKE; LIKE's wildcards in the filter are taken literally.
fn like_prefix(prefix: &str) -> String {
    let escaped = prefix
        .replace('\\', "\\\\")
        .replace('%', "\\%")
        .replace('_', "\\_");
    format!("{escaped}%")
}

#[async_trait]
impl<R: SqlRunner> AccountStore for R {
    async fn add_user(&self, u: UserRecord) -> Result<i64, StoreError> {
        self.on_writer(move |ex| {
            let taken = first(
                ex,
                "SELECT id FROM users WHERE name = ?1",
                &params![&u.name],
                |r| r.get::<i64>(0),
            )?;
            if taken.is_some() {
                return Err(StoreError::Conflict(format!(
                    "an account named {:?} exists",
                    u.name
                )));
            }
            insert_returning_id(
                ex,
                "INSERT INTO users (name, display_name, role, password_hash, disabled, created_at, updated_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) RETURNING id",
                &params![u.name, u.display_name, u.role, u.password_hash, u.disabled, u.created_at, u.updated_at],
            )
        })
        .await
    }

    async fn update_user(&self, u: UserRecord) -> Result<(), StoreError> {
        self.on_writer(move |ex| {
            let n = ex.execute(
                "UPDATE users SET display_name = ?2, role = ?3, password_hash = ?4, disabled = ?5, updated_at = ?6
                 WHERE id = ?1",
                &params![u.id, u.display_name, u.role, u.password_hash, u.disabled, u.updated_at],
            )?;
            if n == 0 {
                return Err(crate::not_found(format!("no account {}", u.id)));
            }
            Ok(())
        })
        .await
    }

    async fn users(&self) -> Result<Vec<UserRecord>, StoreError> {
        self.on_reader(|ex| {
            all(
                ex,
                &format!("SELECT {USER_COLUMNS} FROM users ORDER BY name"),
                &[],
                user,
            )
        })
        .await
    }

    async fn user_by_name(&self, name: &str) -> Result<Option<UserRecord>, StoreError> {
        let name = name.to_string();
        self.on_reader(move |ex| {
            first(
                ex,
                &format!("SELECT {USER_COLUMNS} FROM users WHERE name = ?1"),
                &params![name],
                user,
            )
        })
        .await
    }

    async fn add_token(&self, t: TokenRecord) -> Result<i64, StoreError> {
        self.on_writer(move |ex| {
            insert_returning_id(
                ex,
                "INSERT INTO api_tokens (user_id, name, prefix, digest, role, created_at, expires_at, revoked_at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, NULL) RETURNING id",
                &params![t.user_id, t.name, t.prefix, t.digest, t.role, t.created_at, t.expires_at],
            )
        })
        .await
    }

    async fn revoke_token(&self, id: i64, at: i64) -> Result<bool, StoreError> {
        self.on_writer(move |ex| {
            let n = ex.execute(
                "UPDATE api_tokens SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL",
                &params![id, at],
            )?;
            Ok(n > 0)
        })
        .await
    }

    async fn tokens(&self) -> Result<Vec<TokenRecord>, StoreError> {
        self.on_reader(|ex| {
            all(
                ex,
                "SELECT id, user_id, name, prefix, digest, role, created_at, expires_at, revoked_at
                 FROM api_tokens ORDER BY id",
                &[],
                token,
            )
        })
        .await
    }

    async fn add_session(&self, s: SessionRecord) -> Result<(), StoreError> {
        self.on_writer(move |ex| {
            ex.execute(
                "INSERT INTO sessions (digest, user_id, csrf, created_at, expires_at, from_addr)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                &params![
                    s.digest,
                    s.user_id,
                    s.csrf,
                    s.created_at,
                    s.expires_at,
                    s.from_addr
                ],
            )?;
            Ok(())
        })
        .await
    }

    async fn delete_session(&self, digest: &str) -> Result<(), StoreError> {
        let digest = digest.to_string();
        self.on_writer(move |ex| {
            ex.execute("DELETE FROM sessions WHERE digest = ?1", &params![digest])?;
            Ok(())
        })
        .await
    }

    async fn sessions(&self, now: i64) -> Result<Vec<SessionRecord>, StoreError> {
        // On the writer: expired sessions are removed on the way.
        self.on_writer(move |ex| {
            ex.execute("DELETE FROM sessions WHERE expires_at <= ?1", &params![now])?;
            all(
                ex,
                "SELECT digest, user_id, csrf, created_at, expires_at, from_addr FROM sessions",
                &[],
                |r| {
                    Ok(SessionRecord {
                        digest: r.get(0)?,
                        user_id: r.get(1)?,
                        csrf: r.get(2)?,
                        created_at: r.get(3)?,
                        expires_at: r.get(4)?,
                        from_addr: r.get(5)?,
                    })
                },
            )
        })
        .await
    }

    async fn append_audit(&self, entries: Vec<AuditRecord>) -> Result<(), StoreError> {
        if entries.is_empty() {
            return Ok(());
        }
        // One transaction: `on_writer`'s.
        self.on_writer(move |ex| {
            for e in entries {
                ex.execute(
                    "INSERT INTO audit (at, principal, action, target, from_addr, details)
                     VALUES (?1, ?2, ?3, ?4, ?5, ?6)",
                    &params![
                        e.at,
                        e.principal,
                        e.action,
                        e.target,
                        e.from_addr,
                        e.details.to_string()
                    ],
                )?;
            }
            Ok(())
        })
        .await
    }

    async fn audit(&self, f: AuditFilter) -> Result<Vec<AuditRecord>, StoreError> {
        self.on_reader(move |ex| {
            let action_like = f.action.as_deref().map(like_prefix);
            // The casts type the optional parameters for PostgreSQL (SQLite needs none).
            all(
                ex,
                "SELECT id, at, principal, action, target, from_addr, details FROM audit
                 WHERE (CAST(?1 AS TEXT) IS NULL OR principal = CAST(?1 AS TEXT))
                   AND (CAST(?2 AS TEXT) IS NULL OR action LIKE CAST(?2 AS TEXT) ESCAPE '\\')
                   AND (CAST(?3 AS BIGINT) IS NULL OR at >= CAST(?3 AS BIGINT))
                   AND (CAST(?4 AS BIGINT) IS NULL OR at < CAST(?4 AS BIGINT))
                 ORDER BY at DESC, id DESC LIMIT ?5",
                &params![
                    f.principal,
                    action_like,
                    f.since,
                    f.until,
                    f.limit.max(1) as i64
                ],
                audit,
            )
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::like_prefix;

    #[test]
    fn like_wildcards_in_the_prefix_are_literal() {
        assert_eq!(like_prefix("alert."), "alert.%");
        assert_eq!(like_prefix("a_b%c\\"), "a\\_b\\%c\\\\%");
    }
}
