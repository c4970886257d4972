//! Alert persistence in PostgreSQL: alerts and their history, beside the observations in the same
//! database. Writes run on the writer thread between group commits, reads on the reader pool.

use crate::PgStore;
use crate::compat::OptionalExtension;
use crate::exec::{Db, PgExec};
use crate::params;
use async_trait::async_trait;
use serde_json::Value;
use store::StoreError;
use store::alerts::{AlertFilter, AlertHistoryRecord, AlertRecord, AlertStore};

const COLUMNS: &str = "id, rule, source, station, severity, state, created_at, updated_at, body";

fn record(r: &crate::compat::Row<'_>) -> Result<AlertRecord, StoreError> {
    let body: String = r.get(8)?;
    Ok(AlertRecord {
        id: r.get(0)?,
        rule: r.get(1)?,
        source: r.get(2)?,
        station: r.get(3)?,
        severity: r.get(4)?,
        state: r.get(5)?,
        created_at: r.get(6)?,
        updated_at: r.get(7)?,
        body: serde_json::from_str(&body).unwrap_or(Value::Null),
    })
}

fn save(
    conn: &PgExec,
    alert: AlertRecord,
    history: Vec<AlertHistoryRecord>,
) -> Result<i64, StoreError> {
    let tx = conn.transaction().db()?;
    let body = alert.body.to_string();
    let id = if alert.id == 0 {
        tx.execute(
            "INSERT INTO alerts (rule, source, station, severity, state, created_at, updated_at, body)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
            params![alert.rule, alert.source, alert.station, alert.severity, alert.state, alert.created_at, alert.updated_at, body],
        )
        .map_err(conflict)?;
        let id = tx.last_insert_rowid()?;
        tx.execute(
            "UPDATE alerts SET body = ?1 WHERE id = ?2",
            params![with_id(&alert.body, id), id],
        )
        .db()?;
        id
    } else {
        let n = tx
            .execute(
                "UPDATE alerts SET severity = ?1, state = ?2, updated_at = ?3, body = ?4, station = ?5 WHERE id = ?6",
                params![alert.severity, alert.state, alert.updated_at, with_id(&alert.body, alert.id), alert.station, alert.id],
            )
            .map_err(conflict)?;
        if n == 0 {
            return Err(store::not_found(format!("no alert {}", alert.id)));
        }
        alert.id
    };
    let mut seq: i64 = tx
        .query_row(
            "SELECT COALESCE(MAX(seq), 0) FROM alert_history WHERE alert_id = ?1",
            [id],
            |r| r.get(0),
        )
        .db()?;
    for h in history {
        seq += 1;
        tx.execute(
            "INSERT INTO alert_history (alert_id, seq, at, action, body) VALUES (?1, ?2, ?3, ?4, ?5)",
            params![id, seq, h.at, h.action, h.body.to_string()],
        ).db()?;
    }
    tx.commit().db()?;
    Ok(id)
}

/// The body as stored: it carries the id too, so a record read back is complete.
fn with_id(body: &Value, id: i64) -> String {
    let mut b = body.clone();
    if let Some(o) = b.as_object_mut() {
        o.insert("id".into(), Value::from(id));
    }
    b.to_string()
}

fn conflict(e: StoreError) -> StoreError {
    match e {
        StoreError::Conflict(_) => {
            StoreError::Conflict("an open alert for this rule and source exists already".into())
        }
        other => other,
    }
}

fn load(
    conn: &PgExec,
    id: i64,
) -> Result<Option<(AlertRecord, Vec<AlertHistoryRecord>)>, StoreError> {
    let Some(a) = conn
        .query_row(
            &format!("SELECT {COLUMNS} FROM alerts WHERE id = ?1"),
            [id],
            record,
        )
        .optional()
        .db()?
    else {
        return Ok(None);
    };
    let mut stmt = conn
        .prepare_cached(
            "SELECT at, action, body FROM alert_history WHERE alert_id = ?1 ORDER BY seq",
        )
        .db()?;
    let history = stmt
        .query_map([id], |r| {
            let body: String = r.get(2)?;
            Ok(AlertHistoryRecord {
                at: r.get(0)?,
                action: r.get(1)?,
                body: serde_json::from_str(&body).unwrap_or(Value::Null),
            })
        })
        .db()?
        .collect::<Result<Vec<_>, _>>()
        .db()?;
    Ok(Some((a, history)))
}

fn list(conn: &PgExec, f: &AlertFilter) -> Result<(Vec<AlertRecord>, i64), StoreError> {
    let mut clauses = Vec::new();
    let mut args: Vec<String> = Vec::new();
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
                args.push(v.clone());
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
    let total: i64 = conn
        .query_row(
            &format!("SELECT COUNT(*) FROM alerts{filter}"),
            crate::compat::params_from_iter(&args),
            |r| r.get(0),
        )
        .db()?;
    let sql = format!(
        "SELECT {COLUMNS} FROM alerts{filter} ORDER BY updated_at DESC, id DESC LIMIT {} OFFSET {}",
        f.limit.max(1),
        f.offset
    );
    let mut stmt = conn.prepare(&sql).db()?;
    let rows = stmt
        .query_map(crate::compat::params_from_iter(&args), record)
        .db()?
        .collect::<Result<Vec<_>, _>>()
        .db()?;
    Ok((rows, total))
}

#[async_trait]
impl AlertStore for PgStore {
    async fn save_alert(
        &self,
        alert: AlertRecord,
        history: Vec<AlertHistoryRecord>,
    ) -> Result<i64, StoreError> {
        self.exclusive(move |conn| save(conn, alert, history)).await
    }

    async fn alert(
        &self,
        id: i64,
    ) -> Result<Option<(AlertRecord, Vec<AlertHistoryRecord>)>, StoreError> {
        self.with_reader(move |conn| load(conn, id)).await
    }

    async fn alerts(&self, filter: AlertFilter) -> Result<(Vec<AlertRecord>, i64), StoreError> {
        self.with_reader(move |conn| list(conn, &filter)).await
    }
}
