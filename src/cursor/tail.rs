//! One partition's search back through its tail (pure, no Kafka): which
//! offsets a pass reads, the newest time of each key combination among the
//! messages of ours it took, and when the search is done. [`super::read`]
//! does the reading.

use chrono::{DateTime, TimeDelta, Utc};

use super::plan::{Seen, TailSpan, TopicCursor};
use crate::contract::MessageKey;

/// One partition's search back through its tail.
pub(super) struct Tail {
    pub(super) low: i64,
    /// The partition's end when the read began (its last stable offset).
    pub(super) high: i64,
    /// This pass reads `[from, until)`; the first pass reads to the end of the log.
    pub(super) from: i64,
    pub(super) until: Option<i64>,
    /// The first offset this pass delivered (after `from` when the offsets
    /// before it hold no message: control records, compacted or deleted
    /// ones): only `[first, end)` is known read, and the next pass ends there.
    pub(super) first: Option<i64>,
    /// The Kafka timestamp (ms) of the message at `first`.
    pub(super) first_timestamp: Option<i64>,
    pub(super) cursor: TopicCursor,
    /// The oldest message time of ours read so far.
    pub(super) oldest: Option<DateTime<Utc>>,
    /// This pass's message of ours at the lowest offset, and its time.
    pub(super) edge: Option<(i64, DateTime<Utc>)>,
    /// Messages of ours read so far.
    pub(super) ours: u64,
    /// Searched far enough, or everything there is.
    pub(super) done: bool,
    /// The time whose first offset (found by the broker's time index) this
    /// pass reads from: once read, every message of that time or later was.
    pub(super) target: Option<DateTime<Utc>>,
}

impl Tail {
    pub(super) fn new(topic: &str, partition: i32, low: i64, high: i64) -> Tail {
        Tail {
            low,
            high,
            from: (high - 16).max(low),
            until: None,
            first: None,
            first_timestamp: None,
            cursor: TopicCursor {
                topic: topic.to_string(),
                partition,
                ..TopicCursor::default()
            },
            oldest: None,
            edge: None,
            ours: 0,
            done: high <= low,
            target: None,
        }
    }

    /// Notes that this pass delivered `offset`; whether the message is new
    /// to the read (earlier passes read everything from their `first` on).
    pub(super) fn saw(&mut self, offset: i64, timestamp: Option<i64>) -> bool {
        if self.first.is_none_or(|f| offset < f) {
            self.first = Some(offset);
            self.first_timestamp = timestamp;
        }
        self.until.is_none_or(|u| offset < u)
    }

    /// Takes one message of ours at `offset`.
    pub(super) fn take(&mut self, key: &MessageKey, offset: i64) {
        self.ours += 1;
        if self.edge.is_none_or(|(o, _)| offset < o) {
            self.edge = Some((offset, key.time));
        }
        self.oldest = Some(self.oldest.map_or(key.time, |o| o.min(key.time)));
        let seen = Seen {
            time: key.time,
            offset,
        };
        match self.cursor.last.get_mut(&key.key) {
            Some(s) if s.time >= key.time => {}
            Some(s) => *s = seen,
            None => {
                self.cursor.last.insert(key.key.clone(), seen);
            }
        }
    }

    /// After a pass: done when the start of the log was read, or (with
    /// messages of ours) a single-key dataset found its last one, or the
    /// pass from the offset of the time the read must reach (`newest -
    /// tail.complete` for a keyed dataset, and the reviewed span's start;
    /// `lookup`: the broker's time index) was read. Without a time index,
    /// done when a message older than that time less the slack was seen.
    /// Else reads further back.
    pub(super) fn next_pass(
        &mut self,
        keyed: bool,
        tail: TailSpan,
        lookup: &mut dyn FnMut(&str, DateTime<Utc>) -> Option<i64>,
    ) {
        let newest = self.cursor.newest();
        let keyed_reach = newest
            .and_then(|n| n.checked_sub_signed(tail.complete))
            .filter(|_| keyed);
        let reach = match (keyed_reach, self.cursor.review.reach()) {
            (Some(k), Some(r)) => Some(k.min(r)),
            (k, r) => k.or(r),
        };
        let reached = matches!((self.target, reach), (Some(t), Some(r)) if t <= r);
        if newest.is_some() && !keyed && (reach.is_none() || reached) {
            // The one key combination there is was found (and the reviewed
            // span read): no other can be new.
            self.cursor.complete_since = Some(DateTime::<Utc>::MAX_UTC);
            self.done = true;
        } else if reached && keyed {
            // Every message from the first one at the target or later was
            // read (the log's order does not matter: an old message at its
            // end, forged or a correction, cannot end the read early).
            self.cursor.complete_since = self.target;
            self.done = true;
        } else if let Some(at) = reach
            .filter(|_| !reached)
            .and_then(|t| lookup(&self.cursor.topic, t).map(|o| (t, o)))
            .filter(|at| self.plausible(*at))
        {
            self.read_from(at);
        } else if self.stops(reach.and_then(|r| r.checked_sub_signed(tail.slack))) {
            self.cursor.complete_since = keyed_reach;
            self.done = true;
        } else if self.from <= self.low {
            // Read from the start of the log (a batch boundary, so nothing skipped).
            self.done = true;
        } else {
            // A keyless topic without its message since the target: further back.
            self.target = None;
            self.go_back(newest, tail.stop());
        }
    }

    /// Without a time index: this pass's message of ours furthest back in
    /// the log is older than `stop` (any message before it is older than the
    /// tail; an old message elsewhere, forged or from a late backfill, does
    /// not end the read).
    fn stops(&self, stop: Option<DateTime<Utc>>) -> bool {
        stop.is_some_and(|h| self.edge.is_some_and(|(_, t)| t < h))
    }

    /// Whether the broker's answer fits what was read: the first offset at
    /// time `t` or later cannot lie after a message read with such a time
    /// (librdkafka's mock cluster answers the end of the log for any time).
    fn plausible(&self, (t, offset): (DateTime<Utc>, i64)) -> bool {
        let read_from = self.first.map_or(self.from, |f| f.max(self.from));
        offset <= read_from
            || self
                .first_timestamp
                .is_some_and(|ts| ts < t.timestamp_millis())
    }

    /// The next pass reads from `offset`, the first at time `t` or later, up
    /// to where this read began (done if it began there or before).
    fn read_from(&mut self, (t, offset): (DateTime<Utc>, i64)) {
        let read_from = self.first.map_or(self.from, |f| f.max(self.from));
        if offset.max(self.low) >= read_from {
            self.cursor.complete_since = Some(t);
            self.done = true;
            return;
        }
        self.until = Some(self.until.map_or(read_from, |u| u.min(read_from)));
        self.from = offset.max(self.low);
        self.first = None;
        self.first_timestamp = None;
        self.target = Some(t);
        self.edge = None;
    }

    /// The next pass reads further back: as far as the time per offset seen
    /// so far says the tail reaches (with a margin), 2 to 64 times as far
    /// as read so far, or 16 times without a rate.
    fn go_back(&mut self, newest: Option<DateTime<Utc>>, tail: TimeDelta) {
        let read = (self.high - self.from).max(1);
        let covered = match (newest, self.oldest) {
            (Some(n), Some(o)) if n > o => Some((n - o).num_seconds().max(1) as f64),
            _ => None,
        };
        let wanted = covered.map_or(read.saturating_mul(16), |c| {
            let estimate = read as f64 * tail.num_seconds() as f64 / c * 1.25;
            (estimate.min(i64::MAX as f64) as i64)
                .clamp(read.saturating_mul(2), read.saturating_mul(64))
        });
        // Read from where this pass really began (what came before it was skipped).
        let read_from = self.first.map_or(self.from, |f| f.max(self.from));
        let until = self.until.map_or(read_from, |u| u.min(read_from));
        self.until = Some(until);
        self.from = self
            .high
            .saturating_sub(wanted)
            .min(until.saturating_sub(read.max(16)))
            .max(self.low);
        self.first = None;
        self.edge = None;
        self.first_timestamp = None;
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_utc;
    use std::collections::BTreeMap;

    fn key(text: &str) -> MessageKey {
        text.parse().unwrap()
    }

    /// A broker without a time index.
    fn no_index(_: &str, _: DateTime<Utc>) -> Option<i64> {
        None
    }

    /// A tail of `hours`, no slack.
    fn span(hours: i64) -> TailSpan {
        TailSpan {
            complete: TimeDelta::hours(hours),
            slack: TimeDelta::zero(),
            margin: TimeDelta::zero(),
        }
    }

    #[test]
    fn with_a_time_index_the_read_covers_every_message_since_the_tail_start() {
        let mut t = Tail::new("t", 0, 0, 1000);
        // The last 16 offsets: the newest of DK1, and a forged old message.
        t.take(&key("2026-11-28T12:00:00Z/DK1"), 999);
        t.take(&key("2026-11-28T01:00:00Z/DK2"), 998);
        let mut asked = Vec::new();
        let mut index = |topic: &str, at: DateTime<Utc>| {
            asked.push((topic.to_string(), at));
            Some(700)
        };
        t.next_pass(true, span(1), &mut index);
        assert_eq!(
            asked,
            [("t".to_string(), parse_utc("2026-11-28T11:00:00").unwrap())]
        );
        assert!(!t.done, "an old message at the end does not end the read");
        assert_eq!((t.from, t.until), (700, Some(984)));
        t.take(&key("2026-11-28T11:30:00Z/DK3"), 800);
        t.next_pass(true, span(1), &mut |_, _| panic!("looked up once"));
        assert!(t.done);
        assert_eq!(t.cursor.complete_since, parse_utc("2026-11-28T11:00:00"));
        assert_eq!(t.cursor.last.len(), 3);
        // When the first pass began before that offset, it is done.
        let ms = |text: &str| parse_utc(text).unwrap().timestamp_millis();
        let mut t = Tail::new("t", 0, 0, 1000);
        assert!(t.saw(984, Some(ms("2026-11-28T10:00:00"))));
        t.take(&key("2026-11-28T12:00:00Z/DK1"), 999);
        t.next_pass(true, span(1), &mut |_, _| Some(990));
        assert!(t.done);
        assert_eq!(t.cursor.complete_since, parse_utc("2026-11-28T11:00:00"));
        // An answer that contradicts what was read (a message at 11:30 read
        // before the offset given for 11:00) is not trusted: the read goes
        // back by its own estimate.
        let mut t = Tail::new("t", 0, 0, 1000);
        assert!(t.saw(984, Some(ms("2026-11-28T11:30:00"))));
        t.take(&key("2026-11-28T12:00:00Z/DK1"), 999);
        t.take(&key("2026-11-28T11:30:00Z/DK2"), 984);
        t.next_pass(true, span(1), &mut |_, _| Some(1000));
        assert!(!t.done && t.target.is_none() && t.from < 984);
    }

    #[test]
    fn keeps_the_newest_time_of_each_key() {
        let mut t = Tail::new("t", 0, 0, 100);
        t.take(&key("2026-11-28T12:00:00Z/DK1"), 90);
        t.take(&key("2026-11-28T11:55:00Z/DK1"), 80);
        t.take(&key("2026-11-28T11:55:00Z/DK2"), 91);
        assert_eq!(t.cursor.last.len(), 2);
        assert_eq!(t.cursor.last[&vec!["DK1".to_string()]].offset, 90);
        assert_eq!(t.oldest, parse_utc("2026-11-28T11:55:00"));
    }

    #[test]
    fn keyed_reads_go_back_until_older_than_the_tail() {
        let mut t = Tail::new("t", 0, 0, 1000);
        assert_eq!(t.from, 984);
        t.take(&key("2026-11-28T12:00:00Z/DK1"), 999);
        t.take(&key("2026-11-28T11:45:00Z/DK2"), 984);
        t.next_pass(true, span(1), &mut no_index);
        assert!(!t.done, "15 minutes read, an hour wanted");
        // 16 offsets cover 15 minutes: an hour is about 64, with a margin 80.
        assert_eq!((t.from, t.until), (1000 - 80, Some(984)));
        t.take(&key("2026-11-28T10:55:00Z/DK3"), 930);
        t.next_pass(true, span(1), &mut no_index);
        assert!(t.done);
        assert_eq!(t.cursor.complete_since, parse_utc("2026-11-28T11:00:00"));
    }

    #[test]
    fn a_fetch_that_skips_to_the_next_batch_is_read_again_from_further_back() {
        // Offsets 279..294 hold no message (control records, compacted or
        // deleted ones): the first message delivered is 294.
        let mut t = Tail::new("t", 0, 0, 295);
        assert_eq!(t.from, 279);
        assert!(t.saw(294, None));
        t.take(&key("2026-11-28T10:00:00Z/DK1"), 294);
        t.next_pass(true, span(6), &mut no_index);
        assert_eq!(t.until, Some(294), "only 294.. was read");
        assert!(t.from < 279);
        // The broker skips again (to 294): nothing new, and the next pass goes further back.
        let from = t.from;
        assert!(!t.saw(294, None), "already read");
        t.next_pass(true, span(6), &mut no_index);
        assert_eq!(t.until, Some(294));
        assert!(t.from < from);
        // From the start of the log (a batch boundary) everything comes.
        t.from = 0;
        assert!(t.saw(0, None));
        t.take(&key("2026-11-28T09:00:00Z/DK2"), 0);
        t.next_pass(true, span(6), &mut no_index);
        assert!(t.done);
        assert_eq!(t.cursor.last.len(), 2);
    }

    #[test]
    fn unkeyed_reads_stop_at_the_last_message() {
        let mut t = Tail::new("t", 0, 0, 1000);
        t.take(&key("2026-11-28T12:00:00Z"), 999);
        t.next_pass(false, span(6), &mut no_index);
        assert!(t.done);
        assert_eq!(t.cursor.complete_since, Some(DateTime::<Utc>::MAX_UTC));
    }

    #[test]
    fn reads_stop_at_the_start_of_the_log() {
        let mut t = Tail::new("t", 0, 0, 10);
        assert_eq!(t.from, 0);
        t.take(&key("2026-11-28T12:00:00Z/DK1"), 9);
        t.next_pass(true, span(6), &mut no_index);
        assert!(t.done);
        assert_eq!(
            t.cursor.complete_since, None,
            "the whole partition was read"
        );
        let mut empty = Tail::new("t", 0, 0, 2000);
        empty.next_pass(true, span(6), &mut no_index);
        assert_eq!((empty.from, empty.until), (2000 - 256, Some(1984)));
    }

    #[test]
    fn no_duplicate_key_entries() {
        let mut by_key: BTreeMap<Vec<String>, Seen> = BTreeMap::new();
        let mut t = Tail::new("t", 0, 0, 100);
        for (i, k) in ["2026-11-28T12:00:00Z/a", "2026-11-28T12:05:00Z/a"]
            .iter()
            .enumerate()
        {
            t.take(&key(k), i as i64);
        }
        by_key.insert(
            vec!["a".into()],
            Seen {
                time: parse_utc("2026-11-28T12:05:00").unwrap(),
                offset: 1,
            },
        );
        assert_eq!(t.cursor.last, by_key);
    }
}
