//! [`SceneStore`] for every [`SqlRunner`]: the scene document as JSON text, the overlay PNG as a
//! BLOB (SQLite) or `bytea` (PostgreSQL) (each backend's migration 3).

use super::{Row, SqlRunner, all, first, insert_returning_id};
use crate::StoreError;
use crate::scenes::{SceneRecord, SceneStore};
use crate::sql::Dialect;
use async_trait::async_trait;

const COLUMNS: &str = "id, time, sensor, created_at, body";

fn record(r: &Row<'_>) -> Result<SceneRecord, StoreError> {
    Ok(SceneRecord {
        id: r.get(0)?,
        time: r.get(1)?,
        sensor: r.get(2)?,
        created_at: r.get(3)?,
        body: r.json(4)?,
    })
}

/// The SQL that turns a hex text parameter into the engine's bytes. Parameters are text or
/// numbers ([`crate::sql::SqlValue`]), so the PNG travels as hex and the engine decodes it; a
/// stored overlay reads back as its bytes on both engines.
fn overlay_param(dialect: Dialect, n: usize) -> String {
    match dialect {
        Dialect::Sqlite => format!("unhex(?{n})"),
        Dialect::Postgres => format!("decode(?{n}, 'hex')"),
    }
}

fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(DIGITS[(b >> 4) as usize] as char);
        out.push(DIGITS[(b & 0xf) as usize] as char);
    }
    out
}

#[async_trait]
impl<R: SqlRunner> SceneStore for R {
    async fn save_scene(&self, s: SceneRecord, overlay: Vec<u8>) -> Result<i64, StoreError> {
        self.on_writer(move |ex| {
            let sql = format!(
                "INSERT INTO scenes (time, sensor, created_at, body, overlay) VALUES (?1, ?2, ?3, ?4, {}) RETURNING id",
                overlay_param(ex.dialect(), 5)
            );
            insert_returning_id(
                ex,
                &sql,
                &params![s.time, s.sensor, s.created_at, s.body.to_string(), hex(&overlay)],
            )
        })
        .await
    }

    async fn scenes(&self, limit: usize) -> Result<Vec<SceneRecord>, StoreError> {
        self.on_reader(move |ex| {
            all(
                ex,
                &format!("SELECT {COLUMNS} FROM scenes ORDER BY time DESC, id DESC LIMIT ?1"),
                &params![limit.max(1) as i64],
                record,
            )
        })
        .await
    }

    async fn scene(&self, id: i64) -> Result<Option<SceneRecord>, StoreError> {
        self.on_reader(move |ex| {
            first(
                ex,
                &format!("SELECT {COLUMNS} FROM scenes WHERE id = ?1"),
                &params![id],
                record,
            )
        })
        .await
    }

    async fn scene_overlay(&self, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        self.on_reader(move |ex| {
            first(
                ex,
                "SELECT overlay FROM scenes WHERE id = ?1",
                &params![id],
                |r| r.get::<Vec<u8>>(0),
            )
        })
        .await
    }
}

#[cfg(test)]
mod tests {
    use super::hex;

    #[test]
    fn hex_is_two_lowercase_digits_a_byte() {
        assert_eq!(hex(&[0x89, b'P', 0x00, 0xff]), "895000ff");
        assert_eq!(hex(&[]), "");
    }
}
