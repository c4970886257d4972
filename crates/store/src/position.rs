//! Where a consumer of the commit stream stands (the alert engine, the MQTT fan-out): which
//! inserted observations it has handled, streamed or read from the store.
//!
//! Ids are not a log when several nodes write: node A's batch holding id 7 may commit after
//! node B's id 8, so "handled up to the largest id seen" would leave 7 behind for ever — and a
//! consumer that skipped streamed ids at or below its largest would drop 7 when it arrived. So
//! the position keeps two things: a cursor at or below which *every* observation has been
//! handled, moved only to settled ids (`Store::settled_observation_id`), and the ids above it
//! handled already. A sweep looks up in the store the ids between the cursor and a settled id
//! that the stream did not bring ([`StreamPosition::sweep`]), and the cursor moves there. An
//! observation read from the store is remembered until its streamed copy goes by, so it is
//! handled once. Pure: the caller does the reading.

use crate::ObservationCursor;
use std::collections::{BTreeSet, HashSet};

/// At most this many separate id ranges are looked up per sweep; more are merged.
pub const SWEEP_RANGES: usize = 16;

/// How long ids read from the store are remembered against their streamed copies: a commit
/// stream's worth of batches (the stores' default channel holds 1,024).
const REMEMBER_BATCHES: usize = 1_024;

#[derive(Debug, Default)]
pub struct StreamPosition {
    cursor: ObservationCursor,
    /// Handled ids above the cursor.
    above: BTreeSet<i64>,
    /// Ids read from the store whose streamed copy may still arrive (it is skipped then).
    read: HashSet<i64>,
    batches_since_read: usize,
    /// The settled id of the last sweep call: the next one sweeps up to it.
    sweep_through: Option<i64>,
}

/// What a sweep should read: the ranges of ids the stream did not bring, and where the cursor
/// goes once they are read ([`StreamPosition::swept`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Sweep {
    pub through: i64,
    pub ranges: Vec<(i64, i64)>,
}

impl StreamPosition {
    pub fn new(cursor: ObservationCursor) -> StreamPosition {
        StreamPosition {
            cursor,
            ..Default::default()
        }
    }

    /// Every inserted observation at or below `cursor().last_id` has been handled.
    pub fn cursor(&self) -> ObservationCursor {
        self.cursor
    }

    /// Starts again from `cursor` (a resume from a saved position), forgetting the rest.
    pub fn reset(&mut self, cursor: ObservationCursor) {
        *self = StreamPosition::new(cursor);
    }

    /// An inserted observation arrived in the stream: whether to handle it (false when it was
    /// handled already).
    pub fn streamed(&mut self, id: i64) -> bool {
        if self.read.remove(&id) {
            return false;
        }
        // At or below the cursor and not read from the store: it was not handled (its read copy
        // was forgotten, or the cursor came from elsewhere); handling it twice beats losing it.
        id <= self.cursor.last_id || self.above.insert(id)
    }

    /// A batch of the stream went by: after a channel's worth, the streamed copies of what was
    /// read from the store have all passed.
    pub fn batch_seen(&mut self) {
        if self.read.is_empty() {
            return;
        }
        self.batches_since_read += 1;
        if self.batches_since_read > REMEMBER_BATCHES {
            self.read.clear();
            self.batches_since_read = 0;
        }
    }

    /// An inserted observation was read from the store: whether to handle it (false when the
    /// stream brought it already). Its streamed copy, if it comes, is skipped.
    pub fn read_from_store(&mut self, id: i64) -> bool {
        if id <= self.cursor.last_id || !self.above.insert(id) {
            return false;
        }
        self.read.insert(id);
        self.batches_since_read = 0;
        true
    }

    /// A read from the store handled everything up to `cursor` (a catch-up's page).
    pub fn caught_up(&mut self, cursor: ObservationCursor) {
        self.cursor = cursor;
        self.above = self.above.split_off(&(cursor.last_id.saturating_add(1)));
    }

    /// The next sweep, given the id settled now: up to the id settled on the previous call (by
    /// then the stream has delivered what was committed below it), or up to `settled` itself
    /// with `now` (on stopping, when no later call comes). None when the cursor is there already.
    pub fn sweep(&mut self, settled: i64, now: bool) -> Option<Sweep> {
        let previous = self.sweep_through.replace(settled);
        let through = if now { settled } else { previous? };
        if through <= self.cursor.last_id {
            return None;
        }
        Some(Sweep {
            through,
            ranges: missing_ranges(&self.above, self.cursor.last_id, through),
        })
    }

    /// The sweep's ranges were read (and what they held handled): the cursor moves to `through`.
    pub fn swept(&mut self, through: i64) {
        if through > self.cursor.last_id {
            self.caught_up(ObservationCursor {
                last_id: through,
                ..self.cursor
            });
        }
    }

    /// A sweep could not read: the next call sweeps up to `through` again.
    pub fn sweep_failed(&mut self, through: i64) {
        self.sweep_through = Some(self.sweep_through.map_or(through, |t| t.min(through)));
    }
}

/// The ranges of ids in (`after`, `through`] missing from `handled` (ascending), merged into at
/// most [`SWEEP_RANGES`] by closing the smallest gaps between them.
pub fn missing_ranges(handled: &BTreeSet<i64>, after: i64, through: i64) -> Vec<(i64, i64)> {
    let mut ranges: Vec<(i64, i64)> = Vec::new();
    let mut expected = after.saturating_add(1);
    for &id in handled.range(expected..=through) {
        if id > expected {
            ranges.push((expected, id - 1));
        }
        expected = id + 1;
    }
    if expected <= through {
        ranges.push((expected, through));
    }
    while ranges.len() > SWEEP_RANGES {
        // Join the two neighbours with the fewest handled ids between them.
        let Some(i) = (0..ranges.len() - 1).min_by_key(|&i| ranges[i + 1].0 - ranges[i].1) else {
            break;
        };
        ranges[i].1 = ranges[i + 1].1;
        ranges.remove(i + 1);
    }
    ranges
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(last_id: i64) -> ObservationCursor {
        ObservationCursor {
            last_id,
            revised_after: 0,
        }
    }

    #[test]
    fn the_ids_the_stream_did_not_bring() {
        let handled: BTreeSet<i64> = [11, 12, 14, 15, 18].into_iter().collect();
        // after 10 through 20: 13, 16–17 and 19–20 are missing.
        assert_eq!(
            missing_ranges(&handled, 10, 20),
            vec![(13, 13), (16, 17), (19, 20)]
        );
        assert!(missing_ranges(&handled, 10, 12).is_empty());
        assert_eq!(missing_ranges(&BTreeSet::new(), 0, 5), vec![(1, 5)]);
        // Handled ids above `through` do not count.
        assert_eq!(missing_ranges(&handled, 15, 17), vec![(16, 17)]);
    }

    #[test]
    fn many_gaps_merge_where_the_fewest_handled_ids_lie_between() {
        // Every other id missing: 1, 3, 5, … 99 — fifty ranges, merged into sixteen.
        let handled: BTreeSet<i64> = (2..=100).step_by(2).collect();
        let ranges = missing_ranges(&handled, 0, 100);
        assert_eq!(ranges.len(), SWEEP_RANGES);
        assert_eq!(ranges.first().map(|r| r.0), Some(1));
        assert_eq!(ranges.last().map(|r| r.1), Some(99));
        for id in (1..=99).step_by(2) {
            assert!(ranges.iter().any(|&(lo, hi)| lo <= id && id <= hi), "{id}");
        }
    }

    #[test]
    fn a_smaller_id_arriving_after_a_larger_one_is_handled() {
        // Node B's 8 arrives before node A's 7: both are handled, once each.
        let mut p = StreamPosition::new(at(6));
        assert!(p.streamed(8));
        assert!(p.streamed(7));
        assert!(!p.streamed(8), "a copy of 8 is not handled twice");
        // The cursor moves only with a sweep, and only to a settled id.
        assert_eq!(p.cursor().last_id, 6);
        assert_eq!(
            p.sweep(8, false),
            None,
            "the first call only notes the settled id"
        );
        let sweep = p.sweep(9, false).expect("a sweep to 8");
        assert_eq!(
            sweep,
            Sweep {
                through: 8,
                ranges: vec![]
            },
            "7 and 8 both came"
        );
        p.swept(8);
        assert_eq!(p.cursor().last_id, 8);
    }

    #[test]
    fn what_the_stream_did_not_bring_is_read_once() {
        let mut p = StreamPosition::new(at(10));
        for id in [11, 12, 14] {
            assert!(p.streamed(id));
        }
        p.sweep(15, false);
        let sweep = p.sweep(15, false).expect("sweep");
        assert_eq!(sweep.ranges, vec![(13, 13), (15, 15)]);
        // The store holds 13 (another node's, its notification late); 15 was a resend's id.
        assert!(p.read_from_store(13));
        p.swept(sweep.through);
        assert_eq!(p.cursor().last_id, 15);
        // 13's notification arrives at last: skipped; 16 is new.
        assert!(!p.streamed(13));
        assert!(p.streamed(16));
    }

    #[test]
    fn a_catch_up_skips_what_was_streamed_and_moves_the_cursor() {
        let mut p = StreamPosition::new(at(0));
        assert!(p.streamed(3));
        assert!(p.read_from_store(1));
        assert!(p.read_from_store(2));
        assert!(!p.read_from_store(3), "streamed already");
        p.caught_up(at(5));
        assert_eq!(p.cursor().last_id, 5);
        assert!(
            !p.streamed(2),
            "read from the store: its streamed copy is skipped"
        );
        assert!(p.streamed(6));
    }

    #[test]
    fn stopping_sweeps_to_the_id_settled_now_and_a_failed_sweep_is_retried() {
        let mut p = StreamPosition::new(at(0));
        assert!(p.streamed(1));
        let sweep = p.sweep(3, true).expect("sweep now");
        assert_eq!(
            sweep,
            Sweep {
                through: 3,
                ranges: vec![(2, 3)]
            }
        );
        p.sweep_failed(3);
        let again = p.sweep(4, false).expect("the failed range again");
        assert_eq!(again.through, 3);
    }
}
