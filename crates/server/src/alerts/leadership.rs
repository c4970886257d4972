//! Who runs the alert engine: this node alone on a store with one node; on a shared
//! database (PostgreSQL with several nodes, docs/postgres.md) the node that holds the store's
//! leadership lock, contested again every few seconds so another node takes over soon after
//! the leader dies.

use super::stopped;
use std::sync::Arc;
use std::time::Duration;
use store::Store;
use tokio::sync::watch;

/// How often a node that does not lead tries for the leadership (and the leader checks it still
/// does): the takeover time after a leader dies.
const LEADER_RETRY: Duration = Duration::from_secs(2);

/// The alert engine's leadership: always this node on a store with one node; on a shared
/// database a contest retried every [`LEADER_RETRY`]. The flag: the database is shared (other
/// nodes may change alerts too).
pub(super) async fn contest(
    store: &Arc<dyn Store>,
    enabled: bool,
    mut shutdown: watch::Receiver<bool>,
) -> (watch::Receiver<bool>, bool) {
    let contest = if enabled {
        store.leadership("alerts")
    } else {
        None
    };
    let Some(contest) = contest else {
        let (tx, rx) = watch::channel(true);
        // Keep the sender alive, so the receiver never reports a change.
        tokio::spawn(async move {
            stopped(&mut shutdown).await;
            drop(tx);
        });
        return (rx, false);
    };
    let try_once = |mut c: Box<dyn store::Leadership>| async move {
        tokio::task::spawn_blocking(move || {
            let r = c.try_acquire();
            (c, r)
        })
        .await
        .ok()
    };
    let Some((contest, first)) = try_once(contest).await else {
        return (watch::channel(false).1, true);
    };
    let first = first.unwrap_or_else(|e| {
        tracing::warn!(error = %e, "cannot contest the alert engine's leadership");
        false
    });
    let (tx, rx) = watch::channel(first);
    tokio::spawn(async move {
        let mut slot = Some(contest);
        loop {
            tokio::select! {
                _ = tokio::time::sleep(LEADER_RETRY) => {}
                _ = stopped(&mut shutdown) => break,
            }
            let Some(c) = slot.take() else { break };
            let Some((c, r)) = try_once(c).await else {
                break;
            };
            slot = Some(c);
            let lead = r.unwrap_or(false);
            tx.send_if_modified(|v| std::mem::replace(v, lead) != lead);
        }
        // The advisory lock goes with its connection, closed off the runtime's threads.
        let _ = tokio::task::spawn_blocking(move || drop(slot)).await;
    });
    (rx, true)
}
