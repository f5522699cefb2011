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

use crate::exit::{fail, Exit};
use crate::time::{floor, format_span, format_utc};

use super::MessageKey;

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
    fn oldest(&self) -> Option<DateTime<Utc>> {
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
        let limit = now.checked_add_signed(resolution).unwrap_or(now);
        match self.last.iter().find(|(_, s)| s.time > limit) {
            None => Ok(()),
            Some((key, seen)) => Err(fail(
                Exit::Data,
                format!(
                    "the cursor is in the future: {} partition {} offset {} has key '{}', later than \
                     --now {} plus one resolution; every run would publish nothing. Check the \
                     system clock (or --now); if the message is wrong, publish into new topics \
                     or delete the topic's messages from that offset on",
                    self.topic,
                    self.partition,
                    seen.offset,
                    MessageKey::new(seen.time, key),
                    format_utc(now)
                ),
            )),
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
    /// in the cursor is new after where its read stopped.
    pub fn after(cursor: &TopicCursor, from: DateTime<Utc>, until: DateTime<Utc>) -> Published {
        Published {
            last: cursor
                .last
                .iter()
                .map(|(k, s)| (k.clone(), s.time))
                .collect(),
            unseen_from: cursor.complete_since.map_or(from, |t| t.max(from)),
            from,
            until,
        }
    }

    /// For an empty topic: each key's current window (records), or its one
    /// newest window (aggregates), given as the time after which it is new.
    fn fresh(
        after: BTreeMap<Vec<String>, DateTime<Utc>>,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
    ) -> Published {
        Published {
            last: after,
            unseen_from: DateTime::<Utc>::MAX_UTC,
            from,
            until,
        }
    }
}

/// The spans a plan needs.
#[derive(Debug, Clone, Copy)]
pub struct Spans {
    pub resolution: TimeDelta,
    pub window: TimeDelta,
    pub max_lag: TimeDelta,
    pub max_catch_up: TimeDelta,
}

impl Spans {
    /// How far back from a topic's newest message its tail is read: every
    /// key combination published within this span is found.
    pub fn tail(&self) -> TimeDelta {
        self.max_catch_up + self.window + self.resolution
    }
}

/// What one `publish` run fetches and may publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The fetch covers `[fetch_from, limit)`.
    pub fetch_from: DateTime<Utc>,
    /// Rows at or after this are incomplete: `--now` floored to the resolution.
    pub limit: DateTime<Utc>,
    /// The oldest row time (or window's newest row time) that may be
    /// published: `limit - max_catch_up`.
    pub publish_from: DateTime<Utc>,
    /// What a gap longer than `--max-catch-up` skips, per topic: the first and
    /// the last row time (records) or window end (aggregates) left out.
    pub skipped: Vec<(String, DateTime<Utc>, DateTime<Utc>)>,
}

/// Both topics' cursors (`None` for a topic not published to).
#[derive(Debug, Clone, Default)]
pub struct Cursors {
    pub records: Option<TopicCursor>,
    pub aggregates: Option<TopicCursor>,
}

fn minus(t: DateTime<Utc>, d: TimeDelta) -> DateTime<Utc> {
    t.checked_sub_signed(d).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Plans a run at `now` from the cursors.
pub fn plan(cursors: &Cursors, now: DateTime<Utc>, s: Spans) -> Plan {
    let res = s.resolution;
    let limit = floor(now, res);
    let publish_from = floor(minus(limit, s.max_catch_up), res);
    // An empty topic gets each key's current window: rows up to --max-lag back.
    let fresh_start = minus(minus(limit, s.max_lag), s.window);
    let records_from = cursors.records.as_ref().map_or(limit, |c| {
        c.resume(res, publish_from).unwrap_or(fresh_start)
    });
    // The first new aggregate's window reaches `window` back from its end.
    let aggregates_from = cursors.aggregates.as_ref().map_or(limit, |c| {
        c.resume(res, publish_from + res)
            .map_or(fresh_start, |end| minus(end, s.window))
    });
    let fetch_from = floor(
        records_from
            .min(aggregates_from)
            .max(minus(publish_from, s.window))
            .min(minus(limit, s.window)),
        res,
    );
    let mut skipped = Vec::new();
    for (c, last_new) in [
        (&cursors.records, publish_from - res),
        (&cursors.aggregates, publish_from),
    ] {
        if let Some(newest) = c.as_ref().and_then(TopicCursor::newest) {
            if newest < last_new {
                let topic = c.as_ref().map(|c| c.topic.clone()).unwrap_or_default();
                skipped.push((topic, newest + res, last_new));
            }
        }
    }
    Plan {
        fetch_from,
        limit,
        publish_from,
        skipped,
    }
}

impl Plan {
    /// The rule for the records topic: `[publish_from, limit)`, after the
    /// cursor; an empty topic gets each key's current window, which ends
    /// after the key's newest row (`newest`: each key's newest row time).
    pub fn records(
        &self,
        cursor: &TopicCursor,
        newest: &BTreeMap<Vec<String>, DateTime<Utc>>,
        s: Spans,
    ) -> Published {
        if cursor.is_empty() {
            let after = newest
                .iter()
                .map(|(k, t)| (k.clone(), minus(*t, s.window)))
                .collect();
            return Published::fresh(after, self.publish_from, self.limit);
        }
        Published::after(cursor, self.publish_from, self.limit)
    }

    /// The rule for the aggregates topic, in window ends: one per row time
    /// in `[publish_from, limit)`, after the cursor; an empty topic gets each
    /// key's newest window.
    pub fn aggregates(
        &self,
        cursor: &TopicCursor,
        newest: &BTreeMap<Vec<String>, DateTime<Utc>>,
        s: Spans,
    ) -> Published {
        let (from, until) = (self.publish_from + s.resolution, self.limit + s.resolution);
        if cursor.is_empty() {
            return Published::fresh(newest.clone(), from, until);
        }
        Published::after(cursor, from, until)
    }
}

/// Each key combination's newest row time before `limit` (rows sorted by time).
pub fn newest_per_key<'r>(
    rows: impl Iterator<Item = (&'r [String], DateTime<Utc>)>,
    limit: DateTime<Utc>,
) -> BTreeMap<Vec<String>, DateTime<Utc>> {
    let mut newest: BTreeMap<Vec<String>, DateTime<Utc>> = BTreeMap::new();
    for (key, time) in rows.filter(|(_, t)| *t < limit) {
        match newest.get_mut(key) {
            Some(t) => *t = (*t).max(time),
            None => {
                newest.insert(key.to_vec(), time);
            }
        }
    }
    newest
}

/// A log line for a cursor.
pub fn describe(c: Option<&TopicCursor>) -> String {
    match c {
        None => "not published".to_string(),
        Some(c) if c.is_empty() => "none (empty topic)".to_string(),
        Some(c) if c.last.len() == 1 => {
            let (key, seen) = c.last.iter().next().expect("one entry");
            MessageKey::new(seen.time, key).to_string()
        }
        Some(c) => format!(
            "{} key combinations, {} .. {}",
            c.last.len(),
            c.oldest().map_or_else(String::new, format_utc),
            c.newest().map_or_else(String::new, format_utc)
        ),
    }
}

/// A log line for a skipped gap.
pub fn describe_gap(
    max_catch_up: TimeDelta,
    (topic, first, last): &(String, DateTime<Utc>, DateTime<Utc>),
) -> String {
    format!(
        "gap longer than --max-catch-up {}: {topic} from {} to {} (inclusive) are skipped",
        format_span(max_catch_up),
        format_utc(*first),
        format_utc(*last)
    )
}
