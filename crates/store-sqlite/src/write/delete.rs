//! DELETE with OGC 18-088's cascades (§10.4): Thing → Datastreams and HistoricalLocations;
//! Location → HistoricalLocations; Datastream → Observations; Sensor / ObservedProperty →
//! Datastreams; FeatureOfInterest → Observations. Per-datastream aggregates are recomputed.

use super::observations::recompute_datastream;
use crate::error::Db;
use rusqlite::Connection;
use sta::EntityType;
use store::sql::mapping;
use store::{ChangeKind, CommitEvent, StoreError};

fn ids(conn: &Connection, sql: &str, id: i64) -> Result<Vec<i64>, StoreError> {
    let mut stmt = conn.prepare_cached(sql).db()?;
    let rows = stmt.query_map([id], |r| r.get(0)).db()?;
    rows.collect::<Result<_, _>>().db()
}

/// Deletes an entity with OGC 18-088's cascades.
pub(super) fn delete_entity(
    conn: &Connection,
    entity: EntityType,
    id: i64,
    ev: &mut Vec<CommitEvent>,
) -> Result<(), StoreError> {
    use EntityType::*;
    match entity {
        Thing => {
            for ds in ids(conn, "SELECT id FROM datastreams WHERE thing_id = ?1", id)? {
                delete_entity(conn, Datastream, ds, ev)?;
            }
            for hl in ids(
                conn,
                "SELECT id FROM historical_locations WHERE thing_id = ?1",
                id,
            )? {
                delete_entity(conn, HistoricalLocation, hl, ev)?;
            }
            conn.execute("DELETE FROM thing_locations WHERE thing_id = ?1", [id])
                .db()?;
        }
        Location => {
            conn.execute("DELETE FROM thing_locations WHERE location_id = ?1", [id])
                .db()?;
            let hls = ids(
                conn,
                "SELECT historical_location_id FROM historical_location_locations WHERE location_id = ?1",
                id,
            )?;
            conn.execute(
                "DELETE FROM historical_location_locations WHERE location_id = ?1",
                [id],
            )
            .db()?;
            for hl in hls {
                let left: i64 = conn.query_row("SELECT COUNT(*) FROM historical_location_locations WHERE historical_location_id = ?1", [hl], |r| r.get(0)).db()?;
                if left == 0 {
                    delete_entity(conn, HistoricalLocation, hl, ev)?;
                }
            }
            conn.execute("UPDATE features SET generated_from_location = NULL WHERE generated_from_location = ?1", [id]).db()?;
        }
        HistoricalLocation => {
            conn.execute(
                "DELETE FROM historical_location_locations WHERE historical_location_id = ?1",
                [id],
            )
            .db()?;
        }
        Datastream => {
            conn.execute("DELETE FROM observation_revisions WHERE observation_id IN (SELECT id FROM observations WHERE datastream_id = ?1)", [id]).db()?;
            conn.execute("DELETE FROM observations WHERE datastream_id = ?1", [id])
                .db()?;
        }
        Sensor | ObservedProperty => {
            let col = if entity == Sensor {
                "sensor_id"
            } else {
                "observed_property_id"
            };
            for ds in ids(
                conn,
                &format!("SELECT id FROM datastreams WHERE {col} = ?1"),
                id,
            )? {
                delete_entity(conn, Datastream, ds, ev)?;
            }
        }
        FeatureOfInterest => {
            let affected = ids(
                conn,
                "SELECT DISTINCT datastream_id FROM observations WHERE feature_id = ?1",
                id,
            )?;
            conn.execute("DELETE FROM observation_revisions WHERE observation_id IN (SELECT id FROM observations WHERE feature_id = ?1)", [id]).db()?;
            conn.execute("DELETE FROM observations WHERE feature_id = ?1", [id])
                .db()?;
            for ds in affected {
                recompute_datastream(conn, ds)?;
            }
        }
        Observation => {
            let ds: i64 = conn
                .query_row(
                    "SELECT datastream_id FROM observations WHERE id = ?1",
                    [id],
                    |r| r.get(0),
                )
                .db()?;
            conn.execute(
                "DELETE FROM observation_revisions WHERE observation_id = ?1",
                [id],
            )
            .db()?;
            conn.execute("DELETE FROM observations WHERE id = ?1", [id])
                .db()?;
            recompute_datastream(conn, ds)?;
        }
    }
    if entity != Observation {
        conn.execute(
            &format!("DELETE FROM {} WHERE id = ?1", mapping::table(entity)),
            [id],
        )
        .db()?;
    }
    ev.push(CommitEvent::Entity {
        entity,
        id,
        change: ChangeKind::Deleted,
    });
    Ok(())
}
