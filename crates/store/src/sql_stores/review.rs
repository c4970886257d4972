//! [`ReviewStore`] for every [`SqlRunner`]: reviews and station-day approvals (each backend's
//! migration 5). Undo is a timestamp, never a delete.

use super::{Row, SqlRunner, all, first, insert_returning_id};
use crate::StoreError;
use crate::review::{ApprovalRecord, ReviewRecord, ReviewStore, Verdict};
use async_trait::async_trait;

const REVIEW_COLUMNS: &str =
    "id, datastream_id, start_us, end_us, verdict, reason, note, by, at, undone_at, undone_by";

fn review(r: &Row<'_>) -> Result<ReviewRecord, StoreError> {
    let verdict: String = r.get(4)?;
    Ok(ReviewRecord {
        id: r.get(0)?,
        datastream_id: r.get(1)?,
        start_us: r.get(2)?,
        end_us: r.get(3)?,
        verdict: if verdict == "valid" {
            Verdict::Valid
        } else {
            Verdict::Invalid
        },
        reason: r.get(5)?,
        note: r.get(6)?,
        by: r.get(7)?,
        at: r.get(8)?,
        undone_at: r.get(9)?,
        undone_by: r.get(10)?,
    })
}

fn approval(r: &Row<'_>) -> Result<ApprovalRecord, StoreError> {
    Ok(ApprovalRecord {
        id: r.get(0)?,
        station: r.get(1)?,
        day: r.get(2)?,
        by: r.get(3)?,
        at: r.get(4)?,
        undone_at: r.get(5)?,
        undone_by: r.get(6)?,
    })
}

#[async_trait]
impl<R: SqlRunner> ReviewStore for R {
    async fn add_review(&self, v: ReviewRecord) -> Result<i64, StoreError> {
        self.on_writer(move |ex| {
            let verdict = match v.verdict {
                Verdict::Invalid => "invalid",
                Verdict::Valid => "valid",
            };
            insert_returning_id(
                ex,
                "INSERT INTO reviews (datastream_id, start_us, end_us, verdict, reason, note, by, at)
                 VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id",
                &params![v.datastream_id, v.start_us, v.end_us, verdict, v.reason, v.note, v.by, v.at],
            )
        })
        .await
    }

    async fn undo_review(&self, id: i64, by: String, at: i64) -> Result<bool, StoreError> {
        self.on_writer(move |ex| {
            let n = ex.execute(
                "UPDATE reviews SET undone_at = ?2, undone_by = ?3 WHERE id = ?1 AND undone_at IS NULL",
                &params![id, at, by],
            )?;
            Ok(n > 0)
        })
        .await
    }

    async fn reviews(
        &self,
        datastreams: Vec<i64>,
        from_us: i64,
        to_us: i64,
    ) -> Result<Vec<ReviewRecord>, StoreError> {
        self.on_reader(move |ex| {
            let sql = format!(
                "SELECT {REVIEW_COLUMNS} FROM reviews
                 WHERE datastream_id = ?1 AND start_us < ?3 AND end_us >= ?2 ORDER BY at, id"
            );
            let mut out = Vec::new();
            for ds in datastreams {
                out.extend(all(ex, &sql, &params![ds, from_us, to_us], review)?);
            }
            Ok(out)
        })
        .await
    }

    async fn review(&self, id: i64) -> Result<Option<ReviewRecord>, StoreError> {
        self.on_reader(move |ex| {
            first(
                ex,
                &format!("SELECT {REVIEW_COLUMNS} FROM reviews WHERE id = ?1"),
                &params![id],
                review,
            )
        })
        .await
    }

    async fn add_approval(&self, a: ApprovalRecord) -> Result<i64, StoreError> {
        self.on_writer(move |ex| {
            insert_returning_id(
                ex,
                "INSERT INTO day_approvals (station, day, by, at) VALUES (?1, ?2, ?3, ?4) RETURNING id",
                &params![a.station, a.day, a.by, a.at],
            )
        })
        .await
    }

    async fn undo_approval(&self, id: i64, by: String, at: i64) -> Result<bool, StoreError> {
        self.on_writer(move |ex| {
            let n = ex.execute(
                "UPDATE day_approvals SET undone_at = ?2, undone_by = ?3 WHERE id = ?1 AND undone_at IS NULL",
                &params![id, at, by],
            )?;
            Ok(n > 0)
        })
        .await
    }

    async fn approvals(
        &self,
        station: String,
        from_day: String,
        to_day: String,
    ) -> Result<Vec<ApprovalRecord>, StoreError> {
        self.on_reader(move |ex| {
            all(
                ex,
                "SELECT id, station, day, by, at, undone_at, undone_by FROM day_approvals
                 WHERE station = ?1 AND day >= ?2 AND day <= ?3 ORDER BY day, at",
                &params![station, from_day, to_day],
                approval,
            )
        })
        .await
    }
}
