//! The exactly-once rule, pure (no Kafka): from what the topics' tails say
//! was published, which rows and windows are new. `publish` and `backfill`
//! both ask [`Published::is_new`] and nothing else.
//!
//! Every key combination is its own stream: a row (time, key) is new when
//! its time is after its own key's cursor; a key never seen is new inside the
//! range a run may publish (and after the point the tail read stopped at).
//! The aggregate for (window end, key) is due when the key has a row at
//! `window end - resolution`, and is new by the same rule, in window ends.
//!
//! Within the revision horizon (`--max-revision-age`) the topic's own
//! messages are compared with what the API serves now ([`Published::judge`]):
//! a row the topic lacks between two of its key's published times (a hole)
//! is published late, a value that differs from the latest message of its
//! (time, key) is published again as a correction (its revision counted),
//! and nothing unchanged is published twice. Beyond the horizon, within the
//! reviewed span, such rows are only reported.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, TimeDelta, Utc};

use super::review::{Review, Stamp};
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
    /// How far before a reviewed span's start the read looks for the key
    /// combinations published there (a window).
    pub margin: TimeDelta,
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
    /// The messages of ours within the reviewed span.
    pub review: Review,
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

/// What [`Published::judge`] says of a row (or window) the API serves now.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Verdict {
    /// Published already with this value, or not this run's to publish.
    Skip,
    /// To publish: `revision` 0 for a first publication (`late`: a hole
    /// filled, behind its key's cursor), else the correction's count.
    Publish { revision: u32, late: bool },
    /// Beyond the revision horizon (within the reviewed span): a row the
    /// topic lacks (`late`) or whose value changed; reported, not published.
    Beyond { late: bool },
}

/// The reviewed span of one topic in one run: its messages from `since`
/// on, revisable from `revisable` on (both `MAX` when nothing is reviewed).
#[derive(Debug, Clone, PartialEq, Eq)]
struct Revisions {
    keys: HashMap<Vec<String>, BTreeMap<DateTime<Utc>, Revised>>,
    /// Key combinations published just before `since`.
    before: std::collections::HashSet<Vec<String>>,
    since: DateTime<Utc>,
    revisable: DateTime<Utc>,
}

/// A reviewed message: its digest and revision, and whether this run saw
/// its row again (a row the API no longer serves is counted).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Revised {
    digest: u64,
    revision: u32,
    served: bool,
}

impl Revisions {
    fn none() -> Revisions {
        Revisions {
            keys: HashMap::new(),
            before: Default::default(),
            since: DateTime::<Utc>::MAX_UTC,
            revisable: DateTime::<Utc>::MAX_UTC,
        }
    }

    fn of(review: &Review, revisable: DateTime<Utc>) -> Revisions {
        let Some(since) = review.since else {
            return Revisions::none();
        };
        let keys = (review.keys.iter())
            .map(|(k, times)| {
                let times = (times.iter())
                    .map(|(t, s): (&DateTime<Utc>, &Stamp)| {
                        let seen = Revised {
                            digest: s.digest,
                            revision: s.revision,
                            served: false,
                        };
                        (*t, seen)
                    })
                    .collect();
                (k.clone(), times)
            })
            .collect();
        Revisions {
            keys,
            before: review.before.clone(),
            since,
            revisable: revisable.max(since),
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
    revisions: Revisions,
}

impl Published {
    /// Compares the row (or window) (time, key) the API serves now, its
    /// value's `digest`, with what the topic holds: the one rule of this
    /// program. New after its key's cursor: published. In the reviewed
    /// span: unchanged is skipped; another value is a correction, and a
    /// time the topic lacks between its key's first reviewed time and its
    /// cursor a hole filled late, both published within the revision
    /// horizon and reported beyond it.
    pub fn judge(&mut self, key: &[String], time: DateTime<Utc>, digest: u64) -> Verdict {
        let reviewed = time >= self.revisions.since && time < self.until;
        let revisable = time >= self.revisions.revisable;
        let times = self.revisions.keys.get_mut(key);
        let first = times.as_ref().and_then(|t| t.keys().next().copied());
        if let Some(seen) = times.and_then(|t| t.get_mut(&time)).filter(|_| reviewed) {
            seen.served = true;
            return match (seen.digest == digest, revisable) {
                (true, _) => Verdict::Skip,
                (false, true) => Verdict::Publish {
                    revision: seen.revision + 1,
                    late: false,
                },
                (false, false) => Verdict::Beyond { late: false },
            };
        }
        if self.is_new(key, time) {
            return Verdict::Publish {
                revision: 0,
                late: false,
            };
        }
        // Absent between two of the key's published times: from its first
        // reviewed one on, or from the span's start when it was published
        // just before (a key that started later has no hole before it).
        let published_before =
            first.is_some_and(|f| time > f) || self.revisions.before.contains(key);
        let hole = reviewed && published_before && self.last.get(key).is_some_and(|l| time < *l);
        match (hole, revisable) {
            (false, _) => Verdict::Skip,
            (true, true) => Verdict::Publish {
                revision: 0,
                late: true,
            },
            (true, false) => Verdict::Beyond { late: true },
        }
    }

    /// Whether (time, key) can be anything but [`Verdict::Skip`]: new, or
    /// in the reviewed span (a row outside both need not be looked at).
    pub fn considers(&self, key: &[String], time: DateTime<Utc>) -> bool {
        (time >= self.revisions.since && time < self.until) || self.is_new(key, time)
    }

    /// The reviewed messages at or after `from` whose row this run did not
    /// see: rows the topic has and the API no longer serves (left alone).
    pub fn withdrawn(&self, from: DateTime<Utc>) -> u64 {
        (self.revisions.keys.values())
            .flat_map(|times| times.range(from..self.until))
            .filter(|(_, s)| !s.served)
            .count() as u64
    }

    /// Reviews the messages the cursor read kept (see [`Published::judge`]),
    /// revisable from `span.revisable` on; `None`: no review.
    pub fn reviewing(
        mut self,
        cursor: &TopicCursor,
        span: Option<super::plan::ReviewSpan>,
    ) -> Published {
        if let Some(span) = span {
            self.revisions = Revisions::of(&cursor.review, span.revisable);
        }
        self
    }

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

    /// Records that (time, key) was handed to the sink with `digest` and
    /// `revision`: its key's cursor moves on to it (never back), and a
    /// repeat of it in this run is unchanged.
    pub fn mark(&mut self, key: &[String], time: DateTime<Utc>, digest: u64, revision: u32) {
        match self.last.get_mut(key) {
            Some(last) => *last = (*last).max(time),
            None => {
                self.last.insert(key.to_vec(), time);
            }
        }
        if time >= self.revisions.since {
            let seen = Revised {
                digest,
                revision,
                served: true,
            };
            (self.revisions.keys.entry(key.to_vec()).or_default()).insert(time, seen);
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
            revisions: Revisions::none(),
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
            revisions: Revisions::none(),
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
