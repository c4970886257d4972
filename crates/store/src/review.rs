//! Data review (数据审核): a reviewer marks values of a datastream invalid or valid over a time
//! range, with a reason from a fixed list, and approves station-days. Raw values are never
//! edited — a review is a layer beside them, with history: an undo is a timestamp on the
//! record, never a delete, so the assessment as it stood at any moment can be recomputed.

use crate::StoreError;
use async_trait::async_trait;
use serde::{Deserialize, Serialize};

/// Why a range was marked (the fixed list reviewers choose from).
pub const REASONS: &[(&str, &str, &str)] = &[
    ("instrument_fault", "仪器故障", "instrument fault"),
    ("maintenance", "维护/校准", "maintenance or calibration"),
    ("out_of_range", "超出合理范围", "out of range"),
    ("communication", "通讯异常", "communication"),
    ("interference", "外部干扰", "external interference"),
    ("other", "其他", "other"),
];

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    Invalid,
    Valid,
}

/// One review of a datastream's values in `[start_us, end_us]`.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReviewRecord {
    pub id: i64,
    pub datastream_id: i64,
    pub start_us: i64,
    pub end_us: i64,
    pub verdict: Verdict,
    pub reason: String,
    pub note: String,
    pub by: String,
    /// Unix milliseconds.
    pub at: i64,
    pub undone_at: Option<i64>,
    pub undone_by: Option<String>,
}

impl ReviewRecord {
    /// In force at `as_of` (ms): made by then and not yet undone.
    pub fn in_force(&self, as_of: i64) -> bool {
        self.at <= as_of && self.undone_at.is_none_or(|u| u > as_of)
    }
}

/// A reviewer's approval of one station-day (local calendar day, `YYYY-MM-DD`).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ApprovalRecord {
    pub id: i64,
    pub station: String,
    pub day: String,
    pub by: String,
    pub at: i64,
    pub undone_at: Option<i64>,
    pub undone_by: Option<String>,
}

impl ApprovalRecord {
    pub fn in_force(&self, as_of: i64) -> bool {
        self.at <= as_of && self.undone_at.is_none_or(|u| u > as_of)
    }
}

/// The verdict on a value at phenomenon time `t_us`, as of `as_of` (ms): the latest review in
/// force that covers it (a later "valid" over an earlier "invalid" restores the value);
/// `None`: unreviewed.
pub fn verdict_at(reviews: &[ReviewRecord], t_us: i64, as_of: i64) -> Option<Verdict> {
    reviews
        .iter()
        .filter(|r| r.in_force(as_of) && r.start_us <= t_us && t_us <= r.end_us)
        .max_by_key(|r| (r.at, r.id))
        .map(|r| r.verdict)
}

#[async_trait]
pub trait ReviewStore: Send + Sync + 'static {
    async fn add_review(&self, review: ReviewRecord) -> Result<i64, StoreError>;
    /// Marks a review undone; false when it does not exist or is already undone.
    async fn undo_review(&self, id: i64, by: String, at: i64) -> Result<bool, StoreError>;
    /// Every review (undone ones too) of `datastreams` overlapping `[from_us, to_us)`.
    async fn reviews(
        &self,
        datastreams: Vec<i64>,
        from_us: i64,
        to_us: i64,
    ) -> Result<Vec<ReviewRecord>, StoreError>;
    async fn review(&self, id: i64) -> Result<Option<ReviewRecord>, StoreError>;

    async fn add_approval(&self, approval: ApprovalRecord) -> Result<i64, StoreError>;
    async fn undo_approval(&self, id: i64, by: String, at: i64) -> Result<bool, StoreError>;
    /// Every approval (undone ones too) of `station` for days in `[from_day, to_day]`.
    async fn approvals(
        &self,
        station: String,
        from_day: String,
        to_day: String,
    ) -> Result<Vec<ApprovalRecord>, StoreError>;
}

#[cfg(test)]
mod tests {
    use super::*;

    fn r(
        id: i64,
        start: i64,
        end: i64,
        verdict: Verdict,
        at: i64,
        undone: Option<i64>,
    ) -> ReviewRecord {
        ReviewRecord {
            id,
            datastream_id: 1,
            start_us: start,
            end_us: end,
            verdict,
            reason: "maintenance".into(),
            note: String::new(),
            by: "li".into(),
            at,
            undone_at: undone,
            undone_by: None,
        }
    }

    #[test]
    fn the_latest_review_in_force_decides() {
        let rs = [
            r(1, 0, 100, Verdict::Invalid, 10, None),
            r(2, 40, 60, Verdict::Valid, 20, None),
            r(3, 80, 90, Verdict::Invalid, 30, Some(40)),
        ];
        assert_eq!(verdict_at(&rs, 50, 100), Some(Verdict::Valid));
        assert_eq!(
            verdict_at(&rs, 50, 15),
            Some(Verdict::Invalid),
            "as of before the valid one"
        );
        assert_eq!(verdict_at(&rs, 10, 100), Some(Verdict::Invalid));
        assert_eq!(verdict_at(&rs, 85, 35), Some(Verdict::Invalid));
        assert_eq!(
            verdict_at(&rs, 85, 45),
            Some(Verdict::Invalid),
            "undone: review 1 again"
        );
        assert_eq!(verdict_at(&rs, 150, 100), None, "unreviewed");
        assert_eq!(verdict_at(&rs, 50, 5), None, "before any review");
    }
}
