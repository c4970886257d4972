//! The `$expand` rules every backend applies: the expanded-row budget, and recognising the
//! dashboard's latest-value request so a backend can answer it from maintained columns.

use crate::shape::Row;
use crate::{PageLimits, StoreError};
use sta::filter::Expr;
use sta::{EntityType, Expand};

/// The 400 for a response that would embed more than `max_expanded_rows` entities. A 6-level
/// `Things?$expand=Datastreams/Thing/…` multiplies at every to-one level (each parent gets its own
/// copy of the child's subtree): this stops it before those copies are allocated.
pub fn over_budget(limits: PageLimits) -> StoreError {
    StoreError::Sta(sta::StaError::query(
        "$expand",
        format!(
            "the response would embed more than {} expanded entities (limit max_expanded_rows in [sta]); expand fewer levels or lower $top",
            limits.max_expanded_rows
        ),
    ))
}

/// Sum of what the rows embed, checked against the budget.
pub fn check_budget(rows: &[Row], limits: PageLimits) -> Result<(), StoreError> {
    let total = rows
        .iter()
        .fold(0u64, |acc, r| acc.saturating_add(r.embedded));
    if total > limits.max_expanded_rows {
        return Err(over_budget(limits));
    }
    Ok(())
}

/// `Datastreams?$expand=Observations($top=1;$orderby=phenomenonTime desc)`: the dashboard's
/// "latest value" request, answered from the maintained latest-observation column.
pub fn is_latest_request(parent: EntityType, ex: &Expand) -> bool {
    let q = &ex.query;
    parent == EntityType::Datastream
        && ex.target == EntityType::Observation
        && q.top == Some(1)
        && q.skip == 0
        && q.filter.is_none()
        && q.orderby.len() == 1
        && q.orderby[0].descending
        && q.orderby[0].expr == Expr::Property(vec!["phenomenonTime".into()])
}
