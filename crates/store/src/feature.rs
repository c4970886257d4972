//! FeatureOfInterest generation (OGC 18-088 §8.2.7): an Observation that names no feature gets
//! the one generated from its Thing's Location, created on first use and reused after (one
//! feature per location). Over an [`Executor`]; the backend caches the answer per datastream.

use crate::executor::Executor;
use crate::sql::SqlValue;
use crate::{StoreError, bad_body};

/// The generated feature of datastream `ds`'s Thing's (first) Location, created if missing.
pub fn generated_for_datastream(exec: &impl Executor, ds: i64) -> Result<i64, StoreError> {
    let p = |n| exec.dialect().placeholder(n);
    let location = exec
        .query_rows(
            &format!(
                "SELECT l.id, l.name, l.description, l.encoding_type, l.location FROM datastreams d
                 JOIN thing_locations tl ON tl.thing_id = d.thing_id JOIN locations l ON l.id = tl.location_id
                 WHERE d.id = {} ORDER BY l.id LIMIT 1",
                p(1)
            ),
            &[SqlValue::Int(ds)],
        )?
        .into_iter()
        .next();
    let Some(mut location) = location.filter(|row| row.len() == 5) else {
        return Err(bad_body(format!(
            "Observation has no FeatureOfInterest and the Thing of Datastream({ds}) has no Location to generate one from"
        )));
    };
    let location_id = location[0].clone();
    let existing = exec.query_first(
        &format!(
            "SELECT id FROM features WHERE generated_from_location = {}",
            p(1)
        ),
        std::slice::from_ref(&location_id),
    )?;
    if let Some(SqlValue::Int(id)) = existing {
        return Ok(id);
    }
    // name, description, encoding_type, feature ← the Location's; then the link back to it.
    location.rotate_left(1);
    // Several nodes on one database may generate the same feature at once: the second insert
    // waits for the first to commit and then does nothing, and the feature is read back.
    let created = exec.query_first(
        &format!(
            "INSERT INTO features (name, description, encoding_type, feature, generated_from_location)
             VALUES ({}, {}, {}, {}, {})
             ON CONFLICT (generated_from_location) DO NOTHING RETURNING id",
            p(1),
            p(2),
            p(3),
            p(4),
            p(5)
        ),
        &location,
    )?;
    let created = match created {
        Some(id) => Some(id),
        None => exec.query_first(
            &format!(
                "SELECT id FROM features WHERE generated_from_location = {}",
                p(1)
            ),
            std::slice::from_ref(&location[4]),
        )?,
    };
    match created {
        Some(SqlValue::Int(id)) => Ok(id),
        other => Err(StoreError::Database(format!(
            "creating the generated FeatureOfInterest returned {other:?}"
        ))),
    }
}
