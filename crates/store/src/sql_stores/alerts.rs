//! [`AlertStore`] for every [`SqlRunner`]: alerts and their history (each backend's
//! migration 2), beside the observations in the same database. Writes run on the writer between
//! group commits, reads on a reader. What is PostgreSQL's own about alerts (one alert engine
//! among several nodes: the advisory-lock leadership) stays in `store-postgres`.

use super::{Row, SqlRunner, all, first, insert_returning_id};
use crate::ObservationCursor;
use crate::StoreError;
use crate::alerts::{AlertFilter, AlertHistoryRecord, AlertRecord, AlertStore, EnginePosition};
use crate::executor::Executor;
use crate::sql::SqlValue;
use async_trait::async_trait;
use serde_json::Value;

const COLUMNS: &str = "id, rule, source, station, severity, state, created_at, updated_at, body";

const OPEN_ALERT_EXISTS: &str = "an open alert for this rule and source exists already";

/// The start of the `Conflict` message of a compare-and-set that lost (`AlertRecord::expected_updated_at`).
pub const ALERT_CHANGED_MEANWHILE: &str = "changed by someone else since it was read: alert";

fn record(r: &Row<'_>) -> Result<AlertRecord, StoreError> {
    Ok(AlertRecord {
        id: r.get(0)?,
        rule: r.get(1)?,
        source: r.get(2)?,
        station: r.get(3)?,
        severity: r.get(4)?,
        state: r.get(5)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
        body: r.json(8)?,
        expected_updated_at: None,
    })
}

/// The body as stored: it carries the id too, so a record read back is complete.
fn with_id(body: &Value, id: i64) -> String {
    let mut b = body.clone();
    if let Some(o) = b.as_object_mut() {
        o.insert("id".into(), Value::from(id));
    }
    b.to_string()
}

/// The rule of the unique index `alerts_open_per_source`, asked before writing so that both
/// engines answer it in the same words (SQLite's constraint error is no `Conflict`); a
/// `Conflict` from the index itself (another node's writer on a shared PostgreSQL) reads the same.
fn check_open(ex: &dyn Executor, alert: &AlertRecord) -> Result<(), StoreError> {
    if alert.state == "cleared" {
        return Ok(());
    }
    let other = first(
        ex,
        "SELECT id FROM alerts WHERE rule = ?1 AND source = ?2 AND state <> 'cleared' AND id <> ?3",
        &params![&alert.rule, &alert.source, alert.id],
        |r| r.get::<i64>(0),
    )?;
    match other {
        Some(_) => Err(StoreError::Conflict(OPEN_ALERT_EXISTS.into())),
        None => Ok(()),
    }
}

fn conflict(e: StoreError) -> StoreError {
    match e {
        StoreError::Conflict(_) => StoreError::Conflict(OPEN_ALERT_EXISTS.into()),
        other => other,
    }
}

/// Inserts or replaces the alert and appends its history (inside the writer's transaction).
pub fn save(
    ex: &dyn Executor,
    alert: AlertRecord,
    history: Vec<AlertHistoryRecord>,
) -> Result<i64, StoreError> {
    check_open(ex, &alert)?;
    let id = if alert.id == 0 {
        let id = insert_returning_id(
            ex,
            "INSERT INTO alerts (rule, source, station, severity, state, created_at, updated_at, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
            &params![alert.rule, alert.source, alert.station, alert.severity, alert.state, alert.created_at, alert.updated_at, alert.body.to_string()],
        )
        .map_err(conflict)?;
        ex.execute(
            "UPDATE alerts SET body = ?1 WHERE id = ?2",
            &params![with_id(&alert.body, id), id],
        )?;
        id
    } else {
        // Compare and set: only over the version the change was built on.
        let n = ex
            .execute(
                "UPDATE alerts SET severity = ?1, state = ?2, updated_at = ?3, body = ?4, station = ?5
                 WHERE id = ?6 AND (CAST(?7 AS BIGINT) IS NULL OR updated_at = CAST(?7 AS BIGINT))",
                &params![alert.severity, alert.state, alert.updated_at, with_id(&alert.body, alert.id), alert.station, alert.id, alert.expected_updated_at],
            )
            .map_err(conflict)?;
        if n == 0 {
            let exists = first(
                ex,
                "SELECT 1 FROM alerts WHERE id = ?1",
                &params![alert.id],
                |r| r.get::<i64>(0),
            )?
            .is_some();
            return Err(if exists {
                StoreError::Conflict(format!("{} {}", ALERT_CHANGED_MEANWHILE, alert.id))
            } else {
                crate::not_found(format!("no alert {}", alert.id))
            });
        }
        alert.id
    };
    let mut seq = first(
        ex,
        "SELECT COALESCE(MAX(seq), 0) FROM alert_history WHERE alert_id = ?1",
        &params![id],
        |r| r.get::<i64>(0),
    )?
    .unwrap_or(0);
    for h in history {
        seq += 1;
        ex.execute(
            "INSERT INTO alert_history (alert_id, seq, at, action, body) VALUES (?1, ?2, ?3, ?4, ?5)",
            &params![id, seq, h.at, h.action, h.body.to_string()],
        )?;
    }
    Ok(id)
}

pub fn load(
    ex: &dyn Executor,
    id: i64,
) -> Result<Option<(AlertRecord, Vec<AlertHistoryRecord>)>, StoreError> {
    let Some(a) = first(
        ex,
        &format!("SELECT {COLUMNS} FROM alerts WHERE id = ?1"),
        &params![id],
        record,
    )?
    else {
        return Ok(None);
    };
    let history = all(
        ex,
        "SELECT at, action, body FROM alert_history WHERE alert_id = ?1 ORDER BY seq",
        &params![id],
        |r| {
            Ok(AlertHistoryRecord {
                at: r.get(0)?,
                action: r.get(1)?,
                body: r.json(2)?,
            })
        },
    )?;
    Ok(Some((a, history)))
}

pub fn list(ex: &dyn Executor, f: &AlertFilter) -> Result<(Vec<AlertRecord>, i64), StoreError> {
    let mut clauses = Vec::new();
    let mut args: Vec<SqlValue> = Vec::new();
    for (column, values) in [
        ("state", &f.states),
        ("severity", &f.severities),
        ("station", &f.stations),
        ("rule", &f.rules),
    ] {
        if values.is_empty() {
            continue;
        }
        let marks: Vec<String> = values
            .iter()
            .map(|v| {
                args.push(SqlValue::from(v));
                format!("?{}", args.len())
            })
            .collect();
        clauses.push(format!("{column} IN ({})", marks.join(", ")));
    }
    let filter = if clauses.is_empty() {
        String::new()
    } else {
        format!(" WHERE {}", clauses.join(" AND "))
    };
    let total = first(
        ex,
        &format!("SELECT COUNT(*) FROM alerts{filter}"),
        &args,
        |r| r.get::<i64>(0),
    )?
    .unwrap_or(0);
    let sql = format!(
        "SELECT {COLUMNS} FROM alerts{filter} ORDER BY updated_at DESC, id DESC LIMIT {} OFFSET {}",
        f.limit.max(1),
        f.offset
    );
    Ok((all(ex, &sql, &args, record)?, total))
}

/// The one row of `alert_engine_position` (migration 6 on SQLite, 7 on PostgreSQL).
pub fn position(ex: &dyn Executor) -> Result<Option<EnginePosition>, StoreError> {
    first(
        ex,
        "SELECT last_id, revised_after, saved_at FROM alert_engine_position WHERE id = 1",
        &[],
        |r| {
            Ok(EnginePosition {
                cursor: ObservationCursor {
                    last_id: r.get(0)?,
                    revised_after: r.get(1)?,
                },
                saved_at: r.get(2)?,
            })
        },
    )
}

pub fn save_position(ex: &dyn Executor, p: EnginePosition) -> Result<(), StoreError> {
    // CASE rather than MAX()/GREATEST(): the same SQL on both engines.
    ex.execute(
        "INSERT INTO alert_engine_position (id, last_id, revised_after, saved_at) VALUES (1, ?1, ?2, ?3)
         ON CONFLICT (id) DO UPDATE SET
           last_id = CASE WHEN excluded.last_id > alert_engine_position.last_id THEN excluded.last_id ELSE alert_engine_position.last_id END,
           revised_after = CASE WHEN excluded.revised_after > alert_engine_position.revised_after THEN excluded.revised_after ELSE alert_engine_position.revised_after END,
           saved_at = excluded.saved_at",
        &params![p.cursor.last_id, p.cursor.revised_after, p.saved_at],
    )?;
    Ok(())
}

#[async_trait]
impl<R: SqlRunner> AlertStore for R {
    async fn save_alert(
        &self,
        alert: AlertRecord,
        history: Vec<AlertHistoryRecord>,
    ) -> Result<i64, StoreError> {
        let announce = self.announcer();
        self.on_writer(move |ex| {
            let id = save(ex, alert, history)?;
            // The other nodes' engines and live streams learn of it when this commits.
            if let Some(announce) = &announce {
                announce(ex, &[crate::CommitEvent::Alert { id }])?;
            }
            Ok(id)
        })
        .await
    }

    async fn alert(
        &self,
        id: i64,
    ) -> Result<Option<(AlertRecord, Vec<AlertHistoryRecord>)>, StoreError> {
        self.on_reader(move |ex| load(ex, id)).await
    }

    async fn alerts(&self, filter: AlertFilter) -> Result<(Vec<AlertRecord>, i64), StoreError> {
        self.on_reader(move |ex| list(ex, &filter)).await
    }

    async fn engine_position(&self) -> Result<Option<EnginePosition>, StoreError> {
        self.on_reader(position).await
    }

    async fn save_engine_position(&self, p: EnginePosition) -> Result<(), StoreError> {
        self.on_writer(move |ex| save_position(ex, p)).await
    }
}
