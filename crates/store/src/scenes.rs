//! Scene persistence: one record per analysed satellite or drone scene (metadata and figures as
//! JSON, the classified overlay PNG as bytes), beside the observations. The per-basin figures are
//! also observations, written through the normal write path; this keeps what only a scene has.

use crate::StoreError;
use async_trait::async_trait;
use serde::Serialize;
use serde_json::Value;

/// One scene as stored.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SceneRecord {
    /// 0 for a new scene; the store assigns the id.
    pub id: i64,
    /// Acquisition time, Unix milliseconds.
    pub time: i64,
    pub sensor: String,
    /// Ingest time, Unix milliseconds.
    pub created_at: i64,
    /// Metadata and figures (the server's scene document).
    pub body: Value,
}

#[async_trait]
pub trait SceneStore: Send + Sync + 'static {
    /// Stores the scene and its overlay in one transaction; returns the id.
    async fn save_scene(&self, scene: SceneRecord, overlay_png: Vec<u8>)
    -> Result<i64, StoreError>;
    /// Scenes, latest acquisition first.
    async fn scenes(&self, limit: usize) -> Result<Vec<SceneRecord>, StoreError>;
    async fn scene(&self, id: i64) -> Result<Option<SceneRecord>, StoreError>;
    async fn scene_overlay(&self, id: i64) -> Result<Option<Vec<u8>>, StoreError>;
}
