//! DELETE with OGC 18-088's cascades (§10.4), for every backend over an [`Executor`]: Thing →
//! Datastreams and HistoricalLocations; Location → HistoricalLocations; Datastream →
//! Observations; Sensor / ObservedProperty → Datastreams; FeatureOfInterest → Observations.
//! The per-datastream aggregates the deletes change are recomputed ([`recompute_datastream`]).
//! The backend runs it inside the command's transaction.

use crate::executor::Executor;
use crate::sql::SqlValue;
use crate::sql::mapping;
use crate::{ChangeKind, CommitEvent, StoreError};
use sta::EntityType;

/// The first column of every row of a one-parameter query, as ids.
fn ids(exec: &impl Executor, sql: &str, id: i64) -> Result<Vec<i64>, StoreError> {
    Ok(exec
        .query_rows(sql, &[SqlValue::Int(id)])?
        .into_iter()
        .filter_map(|row| match row.into_iter().next() {
            Some(SqlValue::Int(i)) => Some(i),
            _ => None,
        })
        .collect())
}

/// Runs a one-parameter statement written with `?1`, in the executor's dialect.
fn run(exec: &impl Executor, sql: &str, id: i64) -> Result<usize, StoreError> {
    exec.execute(
        &sql.replace("?1", &exec.dialect().placeholder(1)),
        &[SqlValue::Int(id)],
    )
}

fn select(exec: &impl Executor, sql: &str, id: i64) -> Result<Vec<i64>, StoreError> {
    ids(exec, &sql.replace("?1", &exec.dialect().placeholder(1)), id)
}

/// The datastreams with observations of a feature (whose aggregates its changes touch).
pub fn datastreams_of_feature(exec: &impl Executor, feature: i64) -> Result<Vec<i64>, StoreError> {
    select(
        exec,
        "SELECT DISTINCT datastream_id FROM observations WHERE feature_id = ?1",
        feature,
    )
}

/// Recomputes a datastream's maintained aggregates from its rows (after deletes and edits):
/// count, phenomenon and result time ranges, the latest observation and observedArea.
pub fn recompute_datastream(exec: &impl Executor, ds: i64) -> Result<(), StoreError> {
    run(
        exec,
        "UPDATE datastreams SET
           observation_count = (SELECT COUNT(*) FROM observations WHERE datastream_id = ?1),
           phenomenon_time_start = (SELECT MIN(phenomenon_time_start) FROM observations WHERE datastream_id = ?1),
           phenomenon_time_end = (SELECT MAX(COALESCE(phenomenon_time_end, phenomenon_time_start)) FROM observations WHERE datastream_id = ?1),
           result_time_start = (SELECT MIN(result_time) FROM observations WHERE datastream_id = ?1),
           result_time_end = (SELECT MAX(result_time) FROM observations WHERE datastream_id = ?1),
           latest_observation_id = (SELECT id FROM observations WHERE datastream_id = ?1 ORDER BY phenomenon_time_start DESC LIMIT 1),
           latest_phenomenon_time = (SELECT MAX(phenomenon_time_start) FROM observations WHERE datastream_id = ?1)
         WHERE id = ?1",
        ds,
    )?;
    crate::observed_area::recompute(exec, ds)
}

/// Deletes an entity with OGC 18-088's cascades, pushing a `Deleted` event for each entity.
pub fn delete_entity(
    exec: &impl Executor,
    entity: EntityType,
    id: i64,
    ev: &mut Vec<CommitEvent>,
) -> Result<(), StoreError> {
    use EntityType::*;
    match entity {
        Thing => {
            for ds in select(exec, "SELECT id FROM datastreams WHERE thing_id = ?1", id)? {
                delete_entity(exec, Datastream, ds, ev)?;
            }
            for hl in select(
                exec,
                "SELECT id FROM historical_locations WHERE thing_id = ?1",
                id,
            )? {
                delete_entity(exec, HistoricalLocation, hl, ev)?;
            }
            run(exec, "DELETE FROM thing_locations WHERE thing_id = ?1", id)?;
        }
        Location => {
            run(
                exec,
                "DELETE FROM thing_locations WHERE location_id = ?1",
                id,
            )?;
            let hls = select(
                exec,
                "SELECT historical_location_id FROM historical_location_locations WHERE location_id = ?1",
                id,
            )?;
            run(
                exec,
                "DELETE FROM historical_location_locations WHERE location_id = ?1",
                id,
            )?;
            for hl in hls {
                let left = select(
                    exec,
                    "SELECT location_id FROM historical_location_locations WHERE historical_location_id = ?1",
                    hl,
                )?;
                if left.is_empty() {
                    delete_entity(exec, HistoricalLocation, hl, ev)?;
                }
            }
            run(
                exec,
                "UPDATE features SET generated_from_location = NULL WHERE generated_from_location = ?1",
                id,
            )?;
        }
        HistoricalLocation => {
            run(
                exec,
                "DELETE FROM historical_location_locations WHERE historical_location_id = ?1",
                id,
            )?;
        }
        Datastream => {
            run(
                exec,
                "DELETE FROM observation_revisions WHERE observation_id IN (SELECT id FROM observations WHERE datastream_id = ?1)",
                id,
            )?;
            run(
                exec,
                "DELETE FROM observations WHERE datastream_id = ?1",
                id,
            )?;
        }
        Sensor | ObservedProperty => {
            let sql = if entity == Sensor {
                "SELECT id FROM datastreams WHERE sensor_id = ?1"
            } else {
                "SELECT id FROM datastreams WHERE observed_property_id = ?1"
            };
            for ds in select(exec, sql, id)? {
                delete_entity(exec, Datastream, ds, ev)?;
            }
        }
        FeatureOfInterest => {
            let affected = datastreams_of_feature(exec, id)?;
            run(
                exec,
                "DELETE FROM observation_revisions WHERE observation_id IN (SELECT id FROM observations WHERE feature_id = ?1)",
                id,
            )?;
            run(exec, "DELETE FROM observations WHERE feature_id = ?1", id)?;
            for ds in affected {
                recompute_datastream(exec, ds)?;
            }
        }
        Observation => {
            let ds = select(
                exec,
                "SELECT datastream_id FROM observations WHERE id = ?1",
                id,
            )?;
            run(
                exec,
                "DELETE FROM observation_revisions WHERE observation_id = ?1",
                id,
            )?;
            run(exec, "DELETE FROM observations WHERE id = ?1", id)?;
            for ds in ds {
                recompute_datastream(exec, ds)?;
            }
        }
    }
    if entity != Observation {
        let sql = format!("DELETE FROM {} WHERE id = ?1", mapping::table(entity));
        run(exec, &sql, id)?;
    }
    ev.push(CommitEvent::Entity {
        entity,
        id,
        change: ChangeKind::Deleted,
    });
    Ok(())
}
