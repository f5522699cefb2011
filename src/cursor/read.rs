//! Reads the cursors from Kafka itself (no local state): for each topic, the
//! newest time of each key combination among the partition's messages of
//! ours (header `eds-dataset`), read back from the end of the log until a
//! message older than the topic's newest time minus the tail span is seen,
//! or the start of the log. A dataset without key columns has one key
//! combination, so its read stops at the last message of ours.
//!
//! The end of the log is found by reading forward from a little before the
//! high watermark, not by trusting `high - 1` (tansu reports the base offset
//! of the last batch + 1).

use std::time::{Duration, Instant};

use anyhow::Result;
use chrono::{DateTime, TimeDelta, Utc};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Headers};
use rdkafka::{Message, Offset, TopicPartitionList};

use super::plan::{Seen, TailSpan, TopicCursor};
use super::CursorError;
use crate::contract::MessageKey;
use crate::contract::DATASET_HEADER;
use crate::dataset::Dataset;
use crate::exit::staged;
use crate::kafka::{Context, KafkaSettings};

/// Reads the cursors of `topics` (partition `partition` of each) with one
/// consumer; `tail` is how far back from each topic's newest message to read.
pub fn read(
    settings: &KafkaSettings,
    topics: &[&str],
    partition: i32,
    dataset: &Dataset,
    tail: TailSpan,
) -> Result<Vec<TopicCursor>> {
    let started = Instant::now();
    let consumer = settings.consumer(None)?;
    let mut tails: Vec<Tail> = Vec::new();
    for topic in topics {
        let what = format!("read the offsets of {topic}");
        let (low, high) = settings
            .wait(&consumer, &what, |t| {
                consumer.fetch_watermarks(topic, partition, t)
            })?
            .map_err(|e| crate::topics::offsets_error(settings, &consumer, topic, partition, &e))?;
        tails.push(Tail::new(topic, partition, low, high));
    }
    let reader = Reader {
        consumer: &consumer,
        deadline: started + settings.timeout,
        settings,
        partition,
        dataset,
        tail,
    };
    let result = reader.read_tails(&mut tails);
    close(consumer);
    result?;
    for t in &tails {
        log::debug!(
            "cursor of {}: {} key combination(s), {} messages of ours read (offsets {}..{} of {}..{})",
            t.cursor.topic,
            t.cursor.last.len(),
            t.ours,
            t.from,
            t.high,
            t.low,
            t.high
        );
    }
    log::debug!(
        "cursors read in {}",
        crate::logging::elapsed(started.elapsed())
    );
    Ok(tails.into_iter().map(|t| t.cursor).collect())
}

/// One partition's search back through its tail.
struct Tail {
    low: i64,
    high: i64,
    /// This pass reads `[from, until)`; the first pass reads to the end of the log.
    from: i64,
    until: Option<i64>,
    /// The first offset this pass delivered. A broker may start a fetch at
    /// the batch after the one holding `from` (tansu 0.6.0 does): then only
    /// `[first, end)` was read, and the next pass must end there.
    first: Option<i64>,
    cursor: TopicCursor,
    /// The oldest message time of ours read so far.
    oldest: Option<DateTime<Utc>>,
    /// Messages of ours read so far.
    ours: u64,
    /// Searched far enough, or everything there is.
    done: bool,
}

impl Tail {
    fn new(topic: &str, partition: i32, low: i64, high: i64) -> Tail {
        Tail {
            low,
            high,
            from: (high - 16).max(low),
            until: None,
            first: None,
            cursor: TopicCursor {
                topic: topic.to_string(),
                partition,
                ..TopicCursor::default()
            },
            oldest: None,
            ours: 0,
            done: high <= low,
        }
    }

    /// The offset whose arrival (or a later one's) ends this pass.
    fn end(&self) -> i64 {
        self.until.unwrap_or(self.high) - 1
    }

    /// Notes that this pass delivered `offset`; whether the message is new
    /// to the read (earlier passes read everything from their `first` on).
    fn saw(&mut self, offset: i64) -> bool {
        self.first = Some(self.first.map_or(offset, |f| f.min(offset)));
        self.until.is_none_or(|u| offset < u)
    }

    /// Takes one message of ours at `offset`.
    fn take(&mut self, key: MessageKey, offset: i64) {
        self.ours += 1;
        self.oldest = Some(self.oldest.map_or(key.time, |o| o.min(key.time)));
        let seen = Seen {
            time: key.time,
            offset,
        };
        match self.cursor.last.get_mut(&key.key) {
            Some(s) if s.time >= key.time => {}
            Some(s) => *s = seen,
            None => {
                self.cursor.last.insert(key.key, seen);
            }
        }
    }

    /// After a pass: done when the start of the log was read, or (with
    /// messages of ours) a single-key dataset found its last one, or a
    /// message older than `newest - tail.stop()` was seen; else reads further back.
    fn next_pass(&mut self, keyed: bool, tail: TailSpan) {
        let newest = self.cursor.newest();
        let stop = newest.and_then(|n| n.checked_sub_signed(tail.stop()));
        if newest.is_some() && !keyed {
            // The one key combination there is was found: no other can be new.
            self.cursor.complete_since = Some(DateTime::<Utc>::MAX_UTC);
            self.done = true;
        } else if stop.is_some_and(|h| self.oldest.is_some_and(|o| o < h)) {
            let complete = newest.and_then(|n| n.checked_sub_signed(tail.complete));
            self.cursor.complete_since = complete;
            self.done = true;
        } else if self.from <= self.low {
            // Read from the start of the log (a batch boundary, so nothing skipped).
            self.done = true;
        } else {
            self.go_back(newest, tail.stop());
        }
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
    }
}

/// What every pass needs.
struct Reader<'a> {
    consumer: &'a BaseConsumer<Context>,
    /// All passes together end by then (`--kafka-timeout` from the start).
    deadline: Instant,
    settings: &'a KafkaSettings,
    partition: i32,
    dataset: &'a Dataset,
    tail: TailSpan,
}

impl Reader<'_> {
    /// Reads every partition not done from `from` to the end of its pass;
    /// goes further back for those that need it, until the start of the log.
    fn read_tails(&self, tails: &mut [Tail]) -> Result<()> {
        loop {
            let mut list = TopicPartitionList::new();
            for t in tails.iter().filter(|t| !t.done) {
                list.add_partition_offset(&t.cursor.topic, self.partition, Offset::Offset(t.from))
                    .map_err(|e| {
                        staged(CursorError::Assign {
                            message: format!(
                                "assigning {}/{}: {e}",
                                t.cursor.topic, self.partition
                            ),
                            source: e,
                        })
                    })?;
            }
            if list.count() == 0 {
                return Ok(());
            }
            for t in tails.iter().filter(|t| !t.done) {
                log::trace!(
                    "cursor of {}: reading offsets {}..{} (log {}..{})",
                    t.cursor.topic,
                    t.from,
                    t.until.map_or("end".to_string(), |u| u.to_string()),
                    t.low,
                    t.high
                );
            }
            self.consumer.assign(&list).map_err(|e| {
                staged(CursorError::Assign {
                    message: format!("assigning partitions to read the cursors: {e}"),
                    source: e,
                })
            })?;
            self.pass(tails)?;
            let keyed = !self.dataset.key_columns.is_empty();
            for t in tails.iter_mut().filter(|t| !t.done) {
                t.next_pass(keyed, self.tail);
            }
        }
    }

    /// One pass: until the message before each pass's end arrived, waits for
    /// it; after that, only drains what its fetch brought (the rest of the
    /// last batch).
    fn pass(&self, tails: &mut [Tail]) -> Result<()> {
        let mut pending: Vec<bool> = tails.iter().map(|t| !t.done).collect();
        let deadline = self.deadline;
        while pending.iter().any(|p| *p)
            || self.drain(tails, &mut pending, Duration::from_millis(5))?
        {
            if Instant::now() >= deadline {
                let waiting: Vec<&str> = tails
                    .iter()
                    .zip(&pending)
                    .filter(|(_, p)| **p)
                    .map(|(t, _)| t.cursor.topic.as_str())
                    .collect();
                let read: u64 = tails.iter().map(|t| t.ours).sum();
                return Err(staged(CursorError::Timeout {
                    message: format!(
                        "reading the cursors: the ends of {} did not arrive from {} within {}s \
                         ({read} messages of ours read so far). A slow or overloaded broker, or a \
                         tail too long to read in time (a keyed topic's tail spans \
                         --max-key-lateness of messages for every key combination): raise \
                         --kafka-timeout / EDS_KAFKA_TIMEOUT, or lower --max-key-lateness",
                        waiting.join(", "),
                        self.settings.brokers(),
                        self.settings.timeout.as_secs_f64()
                    ),
                }));
            }
            self.drain(tails, &mut pending, Duration::from_millis(50))?;
        }
        Ok(())
    }

    /// Polls once; returns whether a message arrived.
    fn drain(&self, tails: &mut [Tail], pending: &mut [bool], wait: Duration) -> Result<bool> {
        let Some(message) = self.consumer.poll(wait) else {
            return Ok(false);
        };
        let m = match message {
            Ok(m) => m,
            // A broker stopped or a leader moved: librdkafka reconnects and
            // fetches from the new leader; the deadline bounds the wait.
            Err(e) if crate::kafka::is_transient(&e) => {
                log::debug!("reading the cursors: {e} (retrying)");
                return Ok(false);
            }
            Err(e) => return Err(self.poll_error(tails, &e)),
        };
        let Some(i) = tails.iter().position(|t| t.cursor.topic == m.topic()) else {
            return Ok(true);
        };
        let tail = &mut tails[i];
        if tail.done || m.offset() < tail.from {
            return Ok(true);
        }
        if m.offset() >= tail.end() {
            pending[i] = false;
        }
        if tail.saw(m.offset()) {
            if let Some(key) = self.ours(&m)? {
                tail.take(key, m.offset());
            }
        }
        Ok(true)
    }

    /// The error for a failed poll. A principal that may not read a topic
    /// (no Read ACL) gets TOPIC_AUTHORIZATION_FAILED here, after the offsets
    /// (Describe) were read: the read fails, never taking the topic for an
    /// empty one (which would publish everything again).
    fn poll_error(&self, tails: &[Tail], err: &KafkaError) -> anyhow::Error {
        let topics: Vec<&str> = tails
            .iter()
            .filter(|t| !t.done)
            .map(|t| t.cursor.topic.as_str())
            .collect();
        let topics = topics.join(", ");
        let denied = crate::kafka::is_denied(err);
        let message = if denied {
            format!(
                "cannot read the cursors of {topics} from {}: {err}: this principal may not \
                 read them (no Read ACL on the topics), so where the topics end is unknown and \
                 nothing is published; {}",
                self.settings.brokers(),
                crate::kafka::ACL_HINT
            )
        } else {
            format!("reading the cursors of {topics}: {err}")
        };
        staged(CursorError::Read {
            message: crate::redact::text(&message),
            denied,
            source: err.clone(),
        })
    }

    /// The key of a message of ours for this dataset; `None` for others.
    fn ours(&self, m: &BorrowedMessage<'_>) -> Result<Option<MessageKey>> {
        let ours = m
            .headers()
            .and_then(|h| h.iter().find(|h| h.key == DATASET_HEADER))
            .is_some_and(|h| h.value == Some(self.dataset.name.as_bytes()));
        if !ours {
            return Ok(None);
        }
        let at = format!(
            "{} partition {} offset {}",
            m.topic(),
            m.partition(),
            m.offset()
        );
        // Never decoded lossily: a key that is not UTF-8 would otherwise read
        // as the cursor of a real key holding U+FFFD.
        let bytes = m.key().unwrap_or_default();
        let text = std::str::from_utf8(bytes).map_err(|e| {
            staged(CursorError::NotUtf8 {
                message: format!(
                    "cannot read the cursor: {at} has a key that is not UTF-8 ({}): not written \
                     by eds-kafka; publish into new topics (--records-topic / EDS_RECORDS_TOPIC, \
                     --aggregates-topic / EDS_AGGREGATES_TOPIC)",
                    String::from_utf8_lossy(bytes).escape_debug()
                ),
                source: e,
            })
        })?;
        let key: MessageKey = text.parse().map_err(|e| {
            staged(CursorError::BadKey {
                message: format!("cannot read the cursor: {at} has key '{text}': {e}"),
                source: e,
            })
        })?;
        let columns = &self.dataset.key_columns;
        if key.key.len() != columns.len() {
            return Err(staged(CursorError::KeyColumns {
                message: format!(
                    "cannot read the cursor: {at} has key '{text}' with {} key value(s), but {} has \
                     {} key column(s) ({}): the topic was written with another description of the \
                     dataset; publish into new topics (--records-topic / EDS_RECORDS_TOPIC, \
                     --aggregates-topic / EDS_AGGREGATES_TOPIC)",
                    key.key.len(),
                    self.dataset.name,
                    columns.len(),
                    if columns.is_empty() { "none".to_string() } else { columns.join(",") }
                ),
            }));
        }
        Ok(Some(key))
    }
}

/// Closes the consumer in 1 ms steps, then destroys it. Its `Drop` alone
/// would close it polling in 100 ms steps (most of a run's time); after this
/// close, its second close fails at once (logged at debug, see
/// [`crate::logging`]). It must be destroyed: a consumer left to the process
/// exit still runs its broker threads while the exit frees OpenSSL, and with
/// TLS about one run in 40 ended with SIGSEGV (tests/broker_security.rs).
fn close(consumer: BaseConsumer<Context>) {
    let deadline = Instant::now() + Duration::from_secs(2);
    if consumer.close_queue().is_ok() {
        while !consumer.closed() && Instant::now() < deadline {
            consumer.poll(Duration::from_millis(1));
        }
    }
    drop(consumer);
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_utc;
    use std::collections::BTreeMap;

    fn key(text: &str) -> MessageKey {
        text.parse().unwrap()
    }

    /// A tail of `hours`, no slack.
    fn span(hours: i64) -> TailSpan {
        TailSpan {
            complete: TimeDelta::hours(hours),
            slack: TimeDelta::zero(),
        }
    }

    #[test]
    fn keeps_the_newest_time_of_each_key() {
        let mut t = Tail::new("t", 0, 0, 100);
        t.take(key("2026-11-28T12:00:00Z/DK1"), 90);
        t.take(key("2026-11-28T11:55:00Z/DK1"), 80);
        t.take(key("2026-11-28T11:55:00Z/DK2"), 91);
        assert_eq!(t.cursor.last.len(), 2);
        assert_eq!(t.cursor.last[&vec!["DK1".to_string()]].offset, 90);
        assert_eq!(t.oldest, parse_utc("2026-11-28T11:55:00"));
    }

    #[test]
    fn keyed_reads_go_back_until_older_than_the_tail() {
        let mut t = Tail::new("t", 0, 0, 1000);
        assert_eq!(t.from, 984);
        t.take(key("2026-11-28T12:00:00Z/DK1"), 999);
        t.take(key("2026-11-28T11:45:00Z/DK2"), 984);
        t.next_pass(true, span(1));
        assert!(!t.done, "15 minutes read, an hour wanted");
        // 16 offsets cover 15 minutes: an hour is about 64, with a margin 80.
        assert_eq!((t.from, t.until), (1000 - 80, Some(984)));
        t.take(key("2026-11-28T10:55:00Z/DK3"), 930);
        t.next_pass(true, span(1));
        assert!(t.done);
        assert_eq!(t.cursor.complete_since, parse_utc("2026-11-28T11:00:00"));
    }

    #[test]
    fn a_fetch_that_skips_to_the_next_batch_is_read_again_from_further_back() {
        // tansu 0.6.0: a fetch from 279 starts at the batch based at 294.
        let mut t = Tail::new("t", 0, 0, 295);
        assert_eq!(t.from, 279);
        assert!(t.saw(294));
        t.take(key("2026-11-28T10:00:00Z/DK1"), 294);
        t.next_pass(true, span(6));
        assert_eq!(t.until, Some(294), "only 294.. was read");
        assert!(t.from < 279);
        // The broker skips again (to 294): nothing new, and the next pass goes further back.
        let from = t.from;
        assert!(!t.saw(294), "already read");
        t.next_pass(true, span(6));
        assert_eq!(t.until, Some(294));
        assert!(t.from < from);
        // From the start of the log (a batch boundary) everything comes.
        t.from = 0;
        assert!(t.saw(0));
        t.take(key("2026-11-28T09:00:00Z/DK2"), 0);
        t.next_pass(true, span(6));
        assert!(t.done);
        assert_eq!(t.cursor.last.len(), 2);
    }

    #[test]
    fn unkeyed_reads_stop_at_the_last_message() {
        let mut t = Tail::new("t", 0, 0, 1000);
        t.take(key("2026-11-28T12:00:00Z"), 999);
        t.next_pass(false, span(6));
        assert!(t.done);
        assert_eq!(t.cursor.complete_since, Some(DateTime::<Utc>::MAX_UTC));
    }

    #[test]
    fn reads_stop_at_the_start_of_the_log() {
        let mut t = Tail::new("t", 0, 0, 10);
        assert_eq!(t.from, 0);
        t.take(key("2026-11-28T12:00:00Z/DK1"), 9);
        t.next_pass(true, span(6));
        assert!(t.done);
        assert_eq!(
            t.cursor.complete_since, None,
            "the whole partition was read"
        );
        let mut empty = Tail::new("t", 0, 0, 2000);
        empty.next_pass(true, span(6));
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
            t.take(key(k), i as i64);
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
