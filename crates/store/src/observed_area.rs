//! A Datastream's server-computed `observedArea` (OGC 18-088 §8.2.4): the envelope of the
//! FeaturesOfInterest of its Observations, as GeoJSON in `datastreams.observed_area`. The
//! backend's group commit extends it per batch (an envelope only grows as observations arrive);
//! after deletes and edits it is recomputed here from the remaining observations.

use crate::StoreError;
use crate::executor::Executor;
use crate::sql::SqlValue;
use sta::geo::{Envelope, envelope_geojson, envelope_of, union};

fn envelope_cell(cell: Option<SqlValue>) -> Option<Envelope> {
    match cell {
        Some(SqlValue::Text(t)) => envelope_of(&t),
        _ => None,
    }
}

/// The envelope of one FeatureOfInterest's `feature`; `None` when it has no geometry.
pub fn feature_envelope(
    exec: &impl Executor,
    feature: i64,
) -> Result<Option<Envelope>, StoreError> {
    let sql = format!(
        "SELECT feature FROM features WHERE id = {}",
        exec.dialect().placeholder(1)
    );
    Ok(envelope_cell(
        exec.query_first(&sql, &[SqlValue::Int(feature)])?,
    ))
}

/// The stored `observedArea` of a datastream, as an envelope.
pub fn stored(exec: &impl Executor, datastream: i64) -> Result<Option<Envelope>, StoreError> {
    let sql = format!(
        "SELECT observed_area FROM datastreams WHERE id = {}",
        exec.dialect().placeholder(1)
    );
    Ok(envelope_cell(
        exec.query_first(&sql, &[SqlValue::Int(datastream)])?,
    ))
}

/// Stores `area` as the datastream's `observedArea` (NULL when it has no observations).
pub fn store(
    exec: &impl Executor,
    datastream: i64,
    area: Option<Envelope>,
) -> Result<(), StoreError> {
    let d = exec.dialect();
    let sql = format!(
        "UPDATE datastreams SET observed_area = {} WHERE id = {}",
        d.placeholder(1),
        d.placeholder(2)
    );
    let value = area.map_or(SqlValue::Null, |e| {
        SqlValue::Text(envelope_geojson(e).to_string())
    });
    exec.execute(&sql, &[value, SqlValue::Int(datastream)])?;
    Ok(())
}

/// Recomputes the datastream's `observedArea` from the features its observations still use.
pub fn recompute(exec: &impl Executor, datastream: i64) -> Result<(), StoreError> {
    let sql = format!(
        "SELECT feature FROM features WHERE id IN (SELECT DISTINCT feature_id FROM observations WHERE datastream_id = {})",
        exec.dialect().placeholder(1)
    );
    let mut area = None;
    for row in exec.query_rows(&sql, &[SqlValue::Int(datastream)])? {
        if let Some(e) = envelope_cell(row.into_iter().next()) {
            area = Some(union(area, e));
        }
    }
    store(exec, datastream, area)
}
