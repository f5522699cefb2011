//! The exactly-once rule, pure (no Kafka): from what the topics' tails say
//! was published, which rows and windows are new. `publish` and `backfill`
//! both ask [`Published::is_new`] and nothing else.
//!
//! Every key combination is its own stream: a row (time, key) is new when
//! its time is after its own key's cursor; a key never seen is new inside the
//! range a run may publish (and after the point the tail read stopped at).
//! The aggregate for (window end, key) is due when the key has a row at
//! `window end - resolution`, and is new by the same rule, in window ends.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};

use super::CursorError;
use crate::contract::MessageKey;

/// How far back from a topic's newest message its tail is read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TailSpan {
    /// Every key combination with a message within this span of the newest
    /// is found: `complete_since` is the newest minus this.
    pub complete: TimeDelta,
    /// No run publishes a message older than the topic's newest (before the
    /// run) minus this, so once the read sees a message older than the newest
    /// minus `complete + slack`, every message before it in the log is older
    /// than the newest minus `complete`, and the read stops.
    pub slack: TimeDelta,
}

impl TailSpan {
    /// The read stops at a message older than the newest minus this.
    pub fn stop(&self) -> TimeDelta {
        self.complete + self.slack
    }
}

/// Whether a message of ours at `t` is a cursor in the future: later than
/// `now` plus one resolution. `publish` refuses to run on it; `status` calls
/// it unhealthy.
pub fn is_future(t: DateTime<Utc>, now: DateTime<Utc>, resolution: TimeDelta) -> bool {
    t > now.checked_add_signed(resolution).unwrap_or(now)
}

/// A key combination's newest message in a topic, and where it was read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Seen {
    pub time: DateTime<Utc>,
    pub offset: i64,
}

/// What one topic's tail says: the newest time of each key combination.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TopicCursor {
    pub topic: String,
    pub partition: i32,
    pub last: BTreeMap<Vec<String>, Seen>,
    /// The read stopped at this time: a key combination not in `last` has
    /// nothing published since (the end of time for a dataset without key
    /// columns: there is no other combination). `None`: the whole partition
    /// was read.
    pub complete_since: Option<DateTime<Utc>>,
}

impl TopicCursor {
    /// No message of ours in the topic.
    pub fn is_empty(&self) -> bool {
        self.last.is_empty()
    }

    /// The newest time over all key combinations.
    pub fn newest(&self) -> Option<DateTime<Utc>> {
        self.last.values().map(|s| s.time).max()
    }

    /// The oldest time some key combination resumes after.
    pub(super) fn oldest(&self) -> Option<DateTime<Utc>> {
        self.last.values().map(|s| s.time).min()
    }

    /// The earliest time [`Published::after`] accepts for a range starting
    /// at `from` (rows on the resolution's grid); `None` for an empty topic.
    pub fn resume(&self, resolution: TimeDelta, from: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let unseen = self.complete_since.map_or(from, |t| t.max(from));
        self.oldest()
            .map(|t| (t + resolution).min(unseen).max(from))
    }

    /// Refuses a cursor later than `now + resolution`: a message of ours
    /// from the future would make every later run publish nothing.
    pub fn check_not_future(
        &self,
        now: DateTime<Utc>,
        resolution: TimeDelta,
    ) -> anyhow::Result<()> {
        match self
            .last
            .iter()
            .find(|(_, s)| is_future(s.time, now, resolution))
        {
            None => Ok(()),
            Some((key, seen)) => Err(CursorError::Future {
                topic: self.topic.clone(),
                partition: self.partition,
                offset: seen.offset,
                key: MessageKey::new(seen.time, key).to_string(),
                now,
            }
            .into()),
        }
    }
}

/// The exactly-once rule for one topic in one run: times in `[from, until)`,
/// after their key's last published time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Published {
    last: BTreeMap<Vec<String>, DateTime<Utc>>,
    /// A key combination not in `last` is new at or after this time.
    unseen_from: DateTime<Utc>,
    /// Where the tail read stopped: a key combination not in `last` has
    /// nothing published at or after this time.
    stopped: DateTime<Utc>,
    from: DateTime<Utc>,
    until: DateTime<Utc>,
}

impl Published {
    /// Whether the message (time, key) is new: the one rule of this program.
    pub fn is_new(&self, key: &[String], time: DateTime<Utc>) -> bool {
        time >= self.from
            && time < self.until
            && match self.last.get(key) {
                Some(last) => time > *last,
                None => time >= self.unseen_from,
            }
    }

    /// Whether (time, key) is of a key combination never published (since
    /// the read stopped) but before the range this run may publish for it:
    /// a row that would be lost silently unless warned.
    pub fn is_skipped_unseen(&self, key: &[String], time: DateTime<Utc>) -> bool {
        time >= self.stopped
            && time < self.unseen_from
            && time < self.until
            && !self.last.contains_key(key)
    }

    /// Whether `key` has no published time yet (not in the cursor, not marked).
    pub fn is_unseen(&self, key: &[String]) -> bool {
        !self.last.contains_key(key)
    }

    /// Records that (time, key) was handed to the sink.
    pub fn mark(&mut self, key: &[String], time: DateTime<Utc>) {
        match self.last.get_mut(key) {
            Some(last) => *last = time,
            None => {
                self.last.insert(key.to_vec(), time);
            }
        }
    }

    /// Whether a topic resumes after `cursor` in `[from, until)`; a key not
    /// in the cursor is new from `unseen_from` (and after where its read
    /// stopped).
    pub fn after(
        cursor: &TopicCursor,
        from: DateTime<Utc>,
        unseen_from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Published {
        let stopped = cursor.complete_since.unwrap_or(DateTime::<Utc>::MIN_UTC);
        Published {
            last: cursor
                .last
                .iter()
                .map(|(k, s)| (k.clone(), s.time))
                .collect(),
            unseen_from: unseen_from.max(stopped).max(from),
            stopped,
            from,
            until,
        }
    }

    /// [`Published::after`] with every key combination not in the cursor new
    /// over the whole range (after where its read stopped): a backfill.
    pub fn within(cursor: &TopicCursor, from: DateTime<Utc>, until: DateTime<Utc>) -> Published {
        Published::after(cursor, from, from, until)
    }

    /// For an empty topic: each key's current window (records), or its one
    /// newest window (aggregates), given as the time after which it is new.
    pub(super) fn fresh(
        after: BTreeMap<Vec<String>, DateTime<Utc>>,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Published {
        Published {
            last: after,
            unseen_from: DateTime::<Utc>::MAX_UTC,
            stopped: DateTime::<Utc>::MAX_UTC,
            from,
            until,
        }
    }
}

/// Both topics' cursors (`None` for a topic not published to).
#[derive(Debug, Clone, Default)]
pub struct Cursors {
    pub records: Option<TopicCursor>,
    pub aggregates: Option<TopicCursor>,
}

impl Cursors {
    /// One empty topic: what `--dry-run` prints is what a first run would
    /// publish to it (the records table, or the aggregates table).
    pub fn empty(records: bool) -> Cursors {
        let empty = Some(TopicCursor::default());
        if records {
            Cursors {
                records: empty,
                aggregates: None,
            }
        } else {
            Cursors {
                records: None,
                aggregates: empty,
            }
        }
    }
}
