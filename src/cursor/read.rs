//! Reads the cursors from Kafka itself (no local state): for each topic, the
//! newest time of each key combination among the partition's messages of
//! ours (header `eds-dataset`). A dataset without key columns has one key
//! combination, so its read stops at the last message of ours; a keyed one
//! reads from the offset the broker's time index gives for the newest time
//! minus the tail span (or, without an index, back in passes): see
//! [`super::tail`], which decides what each pass reads.
//!
//! The end of the log is found by reading forward from a little before the
//! high watermark, not by trusting `high - 1` (tansu reports the base offset
//! of the last batch + 1).

use std::time::{Duration, Instant};

use anyhow::Result;
use chrono::{DateTime, Utc};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::{BorrowedMessage, Headers};
use rdkafka::{Message, Offset, TopicPartitionList};

use super::plan::{TailSpan, TopicCursor};
use super::tail::Tail;
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
            let mut lookup = |topic: &str, t: DateTime<Utc>| self.offset_at(topic, t);
            for t in tails.iter_mut().filter(|t| !t.done) {
                t.next_pass(keyed, self.tail, &mut lookup);
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

    /// The first offset whose timestamp is `t` or later (our messages carry
    /// their row time or window end), from the broker's time index; the high
    /// watermark when there is none; `None` when the broker cannot say (then
    /// the read goes back by its own estimate).
    fn offset_at(&self, topic: &str, t: DateTime<Utc>) -> Option<i64> {
        let remaining = self.deadline.saturating_duration_since(Instant::now());
        let found =
            crate::topics::offset_for_time(self.consumer, topic, self.partition, t, remaining);
        match found {
            Ok(Offset::Offset(o)) if o >= 0 => Some(o),
            Ok(Offset::End) => None,
            other => {
                log::debug!(
                    "reading the cursor of {topic}: offset for a time: {other:?}; reading back"
                );
                None
            }
        }
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
        if tail.saw(m.offset(), m.timestamp().to_millis()) {
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
