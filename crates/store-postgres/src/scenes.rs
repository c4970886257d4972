//! Scene persistence in PostgreSQL: the scene document as JSON, the overlay PNG as a BLOB.

use crate::PgStore;
use crate::compat::OptionalExtension;
use crate::exec::Db;
use crate::params;
use async_trait::async_trait;
use serde_json::Value;
use store::StoreError;
use store::scenes::{SceneRecord, SceneStore};

fn record(r: &crate::compat::Row<'_>) -> Result<SceneRecord, StoreError> {
    let body: String = r.get(4)?;
    Ok(SceneRecord {
        id: r.get(0)?,
        time: r.get(1)?,
        sensor: r.get(2)?,
        created_at: r.get(3)?,
        body: serde_json::from_str(&body).unwrap_or(Value::Null),
    })
}

const COLUMNS: &str = "id, time, sensor, created_at, body";

#[async_trait]
impl SceneStore for PgStore {
    async fn save_scene(&self, s: SceneRecord, overlay: Vec<u8>) -> Result<i64, StoreError> {
        self.exclusive(move |conn| {
            let tx = conn.transaction().db()?;
            tx.execute_bytes(
                "INSERT INTO scenes (time, sensor, created_at, body, overlay) VALUES (?1, ?2, ?3, ?4, ?5)",
                &crate::compat::params_from_iter([
                    store::sql::SqlValue::Int(s.time),
                    store::sql::SqlValue::Text(s.sensor.clone()),
                    store::sql::SqlValue::Int(s.created_at),
                    store::sql::SqlValue::Text(s.body.to_string()),
                ]),
                &overlay,
            )?;
            let id = tx.last_insert_rowid()?;
            tx.commit().db()?;
            Ok(id)
        })
        .await
    }

    async fn scenes(&self, limit: usize) -> Result<Vec<SceneRecord>, StoreError> {
        self.with_reader(move |conn| {
            let mut stmt = conn
                .prepare_cached(&format!(
                    "SELECT {COLUMNS} FROM scenes ORDER BY time DESC, id DESC LIMIT ?1"
                ))
                .db()?;
            stmt.query_map(params![limit.max(1) as i64], record)
                .db()?
                .collect::<Result<Vec<_>, _>>()
                .db()
        })
        .await
    }

    async fn scene(&self, id: i64) -> Result<Option<SceneRecord>, StoreError> {
        self.with_reader(move |conn| {
            conn.query_row(
                &format!("SELECT {COLUMNS} FROM scenes WHERE id = ?1"),
                params![id],
                record,
            )
            .optional()
            .db()
        })
        .await
    }

    async fn scene_overlay(&self, id: i64) -> Result<Option<Vec<u8>>, StoreError> {
        self.with_reader(move |conn| {
            conn.query_row(
                "SELECT overlay FROM scenes WHERE id = ?1",
                params![id],
                |r| r.get(0),
            )
            .optional()
            .db()
        })
        .await
    }
}
