//! What the alert engine judges from the store rather than from the commit stream: after the
//! stream lagged (the broadcast channel dropped batches), and when the engine starts or takes
//! the lead — everything committed after the position the last leader saved, so observations
//! committed while no node led (the leader died, the next one had not yet taken over; or the
//! process crashed with batches still in its channel) are judged too (docs/alerts.md).
//!
//! The leader saves its position every tick when it moved. An observation judged from the store
//! may still arrive in the stream; it is remembered by id and skipped there.
//!
//! The position (`store::position`) is an id at or below which everything was judged, so it
//! moves only to settled ids (every observation at or below is committed:
//! `Store::settled_observation_id`). On each
//! tick the leader sweeps up to the id settled on the previous tick: the ids in between that
//! the stream brought are judged already; the others are looked up in the store (most are ids
//! no observation holds — a resend's — and a few are another node's observations committed
//! after a larger id, whose notification has not reached this node), and whatever is found is
//! judged. So no observation is left behind by a position that passed it, not even across nodes.

use super::{CommitLagStats, Engine};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use store::ObservationCursor;
use store::alerts::EnginePosition;

/// Observations re-read per store call.
const PAGE: usize = 5_000;

/// At most one position write per this interval (the tick is 1 s by default).
const SAVE_EVERY: Duration = Duration::from_millis(900);

/// Revisions (values replaced by a resend) are not numbered like inserts: on resuming, those
/// stored from this long before the last save on are judged again, so a revision still queued
/// in the old leader's channel, or stamped by a node whose clock is a little behind, is not
/// missed. Judging a recent revision twice changes no alert (one open alert per rule and
/// source, restored before the replay).
const REVISION_MARGIN_US: i64 = 10_000_000;

impl Engine {
    /// The commit stream dropped `missed` batches: re-read every observation committed after the
    /// cursor from the store, in commit order, and evaluate it as if it had been streamed.
    /// Replaced values re-read here may also still arrive in the stream and are then evaluated
    /// twice, which repeats a judgement but changes no alert (one open alert per rule and source).
    pub(super) async fn catch_up(&mut self, missed: u64, enabled: bool) {
        self.commit_lag.events.fetch_add(1, Ordering::Relaxed);
        tracing::warn!(
            missed,
            "the alert engine fell behind the commit stream; re-reading what it missed from the store"
        );
        // The missed batches may have created datastreams.
        self.refresh().await;
        if !enabled {
            return;
        }
        let recovered = self
            .judge_from_store(|lag| &lag.recovered_observations)
            .await;
        tracing::info!(recovered, "the alert engine caught up with the store");
    }

    /// The engine starts, or this node took the lead: judge what was committed after the saved
    /// position (at most `[alerts] replay_limit` observations), then go on from the stream. `now`
    /// is the store's commit position, read after subscribing to the stream. Call after
    /// [`Engine::restore`], so a replayed exceedance continues its open alert.
    pub(super) async fn resume(&mut self, now: ObservationCursor) {
        let Some(alert_store) = self.alert_store.clone() else {
            return;
        };
        let saved = match alert_store.engine_position().await {
            Ok(p) => p,
            Err(e) => {
                tracing::error!(error = %e, "cannot read the alert engine's saved position; judging from now on");
                None
            }
        };
        let Some(saved) = saved else {
            // A new database (or one from before positions were saved): nothing to resume.
            self.position.reset(now);
            self.save_position_now().await;
            return;
        };
        let behind = (now.last_id - saved.cursor.last_id).max(0) as u64;
        if behind > self.replay_limit {
            tracing::warn!(
                behind,
                limit = self.replay_limit,
                "more observations were committed after the alert engine's saved position than [alerts] replay_limit; judging from now on"
            );
            self.position.reset(now);
            self.save_position_now().await;
            return;
        }
        self.position.reset(ObservationCursor {
            last_id: saved.cursor.last_id,
            revised_after: saved
                .cursor
                .revised_after
                .max(saved.saved_at - REVISION_MARGIN_US),
        });
        let resumed = self.judge_from_store(|lag| &lag.resumed_observations).await;
        tracing::info!(
            resumed,
            from = saved.cursor.last_id,
            "the alert engine judged what was committed after its saved position"
        );
        self.save_position_now().await;
    }

    /// On the tick: judge the observations at or below the id settled on the previous tick that
    /// the stream did not bring, and move the cursor there (module docs).
    ///
    /// `now`: sweep up to the id settled at this moment (on stopping, when no later tick
    /// comes), reading from the store what the stream has not delivered yet.
    pub(super) async fn sweep(&mut self, now: bool) {
        let settled = match self.store.settled_observation_id().await {
            Ok(id) => id,
            Err(e) => {
                tracing::warn!(error = %e, "cannot read the settled observation id; the alert engine's position waits");
                return;
            }
        };
        let Some(sweep) = self.position.sweep(settled, now) else {
            return;
        };
        let read = match self.store.observations_in(&sweep.ranges).await {
            Ok(r) => r,
            Err(e) => {
                // The cursor stays: the next tick sweeps these ranges again.
                tracing::warn!(error = %e, "cannot read observations the commit stream did not bring");
                self.position.sweep_failed(sweep.through);
                return;
            }
        };
        let mut swept = 0u64;
        let now = store::clock::now_micros();
        for o in &read {
            if self.position.read_from_store(o.id) {
                swept += 1;
                self.commit_lag
                    .swept_observations
                    .fetch_add(1, Ordering::Relaxed);
                self.observe(o, now).await;
            }
        }
        if swept > 0 {
            tracing::info!(
                swept,
                through = sweep.through,
                "the alert engine judged observations from the store that the commit stream had not brought"
            );
        }
        self.position.swept(sweep.through);
    }

    /// Reads every observation committed after the cursor, page by page, judges it and moves the
    /// cursor; `counter` counts them. Inserted ones are remembered against their streamed copy;
    /// those the stream brought already are not judged again.
    async fn judge_from_store(&mut self, counter: fn(&CommitLagStats) -> &AtomicU64) -> u64 {
        let mut judged = 0u64;
        loop {
            let page = match self
                .store
                .observations_since(self.position.cursor(), PAGE)
                .await
            {
                Ok(p) => p,
                Err(e) => {
                    tracing::error!(error = %e, "cannot re-read committed observations; they are not evaluated");
                    break;
                }
            };
            // Counted before they are evaluated: an alert raised from a re-read value is never
            // visible before the counter that explains it.
            let fresh: Vec<&store::ObservationEvent> = page
                .events
                .iter()
                .filter(|o| {
                    o.kind != store::UpsertKind::Inserted || self.position.read_from_store(o.id)
                })
                .collect();
            judged += fresh.len() as u64;
            counter(&self.commit_lag).fetch_add(fresh.len() as u64, Ordering::Relaxed);
            let now = store::clock::now_micros();
            for o in fresh {
                self.observe(o, now).await;
            }
            self.position.caught_up(page.cursor);
            if page.complete {
                break;
            }
        }
        judged
    }

    /// On the tick: the leader saves its position when it moved (at most every [`SAVE_EVERY`]).
    pub(super) async fn save_position(&mut self) {
        let due = match self.saved {
            None => true,
            Some((at, when)) => at != self.position.cursor() && when.elapsed() >= SAVE_EVERY,
        };
        if due {
            self.save_position_now().await;
        }
    }

    pub(super) async fn save_position_now(&mut self) {
        let Some(alert_store) = &self.alert_store else {
            return;
        };
        let position = EnginePosition {
            cursor: self.position.cursor(),
            saved_at: store::clock::now_micros(),
        };
        match alert_store.save_engine_position(position).await {
            Ok(()) => self.saved = Some((position.cursor, Instant::now())),
            // Tried again on the next tick; until then a successor would judge a little more.
            Err(e) => tracing::warn!(error = %e, "cannot save the alert engine's position"),
        }
    }
}
