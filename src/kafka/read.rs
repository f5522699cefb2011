//! Reading partitions to their end: the one way every reader of this program
//! (the cursor read, `status`, `chart`, `consume`) reads Kafka.
//!
//! A read of a partition starts at an offset, at a time (the broker's time
//! index) or at its start, and ends by position: at the end offset the
//! partition had when the read began, taken under `read_committed` (the
//! last stable offset), never at "the last message seen". A transaction's
//! commit or abort marker, an aborted transaction's messages, an offset
//! compacted away or records deleted before the start (DeleteRecords) take
//! offsets that no message is delivered for; the consumer's position passes
//! them, and librdkafka's end-of-partition event (enabled on every reader,
//! see [`super::KafkaSettings::consumer_config`]) says so. So none of them
//! leaves a reader waiting, and every wait ends at the run's Kafka deadline
//! ([`super::KafkaSettings::deadline`]).

use std::time::{Duration, Instant};

use anyhow::Result;
use chrono::{DateTime, Utc};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, KafkaResult};
use rdkafka::message::BorrowedMessage;
use rdkafka::{Message, Offset, TopicPartitionList};

use super::{is_transient, topics, Context, KafkaSettings};
use crate::exit::{Exit, Staged};

/// Where a read of a partition starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Seek {
    /// The first offset still in the log.
    Start,
    /// This offset (the start of the log when it was deleted).
    Offset(i64),
    /// The first message whose Kafka timestamp is at or after this time
    /// (the end when there is none): our messages carry their key's time.
    Time(DateTime<Utc>),
}

/// One partition's part of a read: the offsets `[from, end)`, and the
/// first offset still in the log when the read began.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Span {
    pub topic: String,
    pub partition: i32,
    pub low: i64,
    pub from: i64,
    pub end: i64,
}

impl Span {
    /// Nothing to read.
    pub fn is_empty(&self) -> bool {
        self.from >= self.end
    }
}

/// A read that did not reach its end (exit 4): what, where, how far it got.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The partitions could not be assigned.
    #[error("cannot assign {topic} partition {partition} to read {what}: {source}")]
    Assign {
        what: String,
        topic: String,
        partition: i32,
        #[source]
        source: KafkaError,
    },
    /// The deadline passed before every partition's end.
    #[error(
        "reading {what} from {brokers}: the end of {} was not reached within {}s \
         ({read} messages read){hint}",
        waiting.iter().map(|w| format!("{} partition {} (at offset {} of {})", w.topic, w.partition, w.at, w.end)).collect::<Vec<_>>().join(", "),
        timeout.as_secs_f64()
    )]
    Timeout {
        what: String,
        brokers: String,
        waiting: Vec<Waiting>,
        read: u64,
        timeout: Duration,
        /// What the caller tells the user to do (empty, or "; ...").
        hint: String,
    },
}

/// A partition whose end was not reached: where the read was.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Waiting {
    pub topic: String,
    pub partition: i32,
    pub at: i64,
    pub end: i64,
}

impl Staged for ReadError {
    fn exit(&self) -> Exit {
        Exit::Kafka
    }
}

/// The first offset of `topic`/`partition` and its end (the last stable
/// offset: readers read committed), within the run's deadline; a missing
/// topic or partition is said plainly.
pub fn bounds(
    settings: &KafkaSettings,
    consumer: &BaseConsumer<Context>,
    topic: &str,
    partition: i32,
) -> Result<(i64, i64)> {
    let what = format!("read the offsets of {topic}");
    settings
        .wait(consumer, &what, |t| {
            refreshing(
                consumer,
                topic,
                t,
                consumer.fetch_watermarks(topic, partition, t),
            )
        })?
        .map_err(|e| topics::offsets_error(settings, consumer, topic, partition, &e))
}

/// `result` of a request to a partition's leader; when it failed, the
/// client's metadata of `topic` is asked anew: the leader asked may be down,
/// and the client would otherwise name it for minutes after a new one was
/// elected (the next slice of the wait asks the new one).
fn refreshing<T>(
    consumer: &BaseConsumer<Context>,
    topic: &str,
    wait: Duration,
    result: KafkaResult<T>,
) -> KafkaResult<T> {
    if result.is_err() {
        let _ = consumer.fetch_metadata(Some(topic), wait);
    }
    result
}

/// Where a read of `topic`/`partition` from `seek` begins and ends.
pub fn span(
    settings: &KafkaSettings,
    consumer: &BaseConsumer<Context>,
    topic: &str,
    partition: i32,
    seek: Seek,
) -> Result<Span> {
    let (low, end) = bounds(settings, consumer, topic, partition)?;
    let from = match seek {
        Seek::Start => low,
        Seek::Offset(o) => o.clamp(low, end),
        Seek::Time(t) => {
            let what = format!("find the offset of a time in {topic}");
            let found = settings
                .wait(consumer, &what, |left| {
                    let found = topics::offset_for_time(consumer, topic, partition, t, left);
                    refreshing(consumer, topic, left, found)
                })?
                .map_err(|e| settings.unreachable(&what, &e, consumer.context()))?;
            match found {
                Offset::Offset(o) => o.clamp(low, end),
                // No message at or after that time.
                Offset::End => end,
                _ => low,
            }
        }
    };
    Ok(Span {
        topic: topic.to_string(),
        partition,
        low,
        from,
        end,
    })
}

/// Reads spans to their ends with one consumer.
pub struct Reader<'c> {
    consumer: &'c BaseConsumer<Context>,
    settings: &'c KafkaSettings,
    spans: Vec<Span>,
    /// Whether each span's end was reached.
    reached: Vec<bool>,
    /// Messages past a span's end are delivered too (`consume --follow`).
    following: bool,
    /// What is read, for messages: "the cursors of X", "status's topics".
    what: String,
    /// Messages delivered.
    read: u64,
}

impl<'c> Reader<'c> {
    /// Assigns `spans` to `consumer` (no group: nothing is committed).
    pub fn assign(
        consumer: &'c BaseConsumer<Context>,
        settings: &'c KafkaSettings,
        spans: Vec<Span>,
        what: &str,
    ) -> Result<Reader<'c>> {
        // Empty spans too: a reader that follows starts at their end.
        let mut list = TopicPartitionList::new();
        for s in &spans {
            list.add_partition_offset(&s.topic, s.partition, Offset::Offset(s.from))
                .map_err(|e| assign_error(what, s, e))?;
        }
        if let Some(first) = spans.first() {
            consumer
                .assign(&list)
                .map_err(|e| assign_error(what, first, e))?;
        }
        Ok(Reader::joined(consumer, settings, spans, what))
    }

    /// A reader of partitions the consumer already consumes (a group
    /// assigned them), from the spans given.
    pub fn joined(
        consumer: &'c BaseConsumer<Context>,
        settings: &'c KafkaSettings,
        spans: Vec<Span>,
        what: &str,
    ) -> Reader<'c> {
        Reader {
            consumer,
            settings,
            reached: spans.iter().map(Span::is_empty).collect(),
            spans,
            following: false,
            what: what.to_string(),
            read: 0,
        }
    }

    pub fn spans(&self) -> &[Span] {
        &self.spans
    }

    /// Every span's end was reached.
    pub fn done(&self) -> bool {
        self.reached.iter().all(|r| *r)
    }

    /// Messages delivered so far.
    pub fn read(&self) -> u64 {
        self.read
    }

    /// From now on, messages after a span's end are delivered too.
    pub fn follow(&mut self) {
        self.following = true;
    }

    /// Polls once for at most `wait`: the next message inside a span, with
    /// the span's index; `None` when nothing came, or only what no span
    /// wants (an end-of-partition event, a message before a span's start or
    /// after its end, a transient error librdkafka recovers from).
    pub fn poll(&mut self, wait: Duration) -> Result<Option<(usize, BorrowedMessage<'c>)>> {
        let consumer = self.consumer;
        match consumer.poll(wait) {
            None => Ok(None),
            Some(Ok(m)) => Ok(self.accept(m)),
            Some(Err(KafkaError::PartitionEOF(partition))) => {
                self.at_end_of(partition);
                Ok(None)
            }
            // A broker stopped or a leader moved: librdkafka reconnects and
            // fetches from the new leader; the deadline bounds the wait.
            Some(Err(e)) if is_transient(&e) => {
                log::debug!("reading {}: {e} (retrying)", self.what);
                Ok(None)
            }
            // No Read ACL comes here, after the offsets (Describe) were read:
            // the read fails, never taking the topic for an empty one.
            Some(Err(e)) if super::is_denied(&e) => Err(super::BrokerError::ReadDenied {
                what: self.what.clone(),
                brokers: self.settings.brokers().to_string(),
                source: e,
            }
            .into()),
            Some(Err(e)) => {
                let what = format!("read {}", self.what);
                Err(self.settings.unreachable(&what, &e, consumer.context()))
            }
        }
    }

    /// Reads every span to its end, handing each message to `each`, within
    /// the run's Kafka deadline (`hint`: what the timeout's message adds).
    pub fn to_end(
        &mut self,
        hint: &str,
        mut each: impl FnMut(usize, &BorrowedMessage<'c>) -> Result<()>,
    ) -> Result<()> {
        let deadline = self.settings.deadline();
        while !self.done() {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(self.timeout(hint).into());
            }
            if let Some((i, m)) = self.poll(left.min(Duration::from_millis(100)))? {
                each(i, &m)?;
            }
        }
        Ok(())
    }

    /// The consumer reading.
    pub fn consumer(&self) -> &'c BaseConsumer<Context> {
        self.consumer
    }

    /// The partitions whose end was not reached, and where the read is.
    pub fn waiting(&self) -> Vec<Waiting> {
        let positions = self.positions();
        (self.spans.iter().zip(&self.reached))
            .filter(|(_, r)| !**r)
            .map(|(s, _)| Waiting {
                topic: s.topic.clone(),
                partition: s.partition,
                at: position_of(&positions, s).unwrap_or(s.from),
                end: s.end,
            })
            .collect()
    }

    /// The error for a read whose deadline passed (see [`ReadError::Timeout`]).
    pub fn timeout(&self, hint: &str) -> ReadError {
        ReadError::Timeout {
            what: self.what.clone(),
            brokers: self.settings.brokers().to_string(),
            waiting: self.waiting(),
            read: self.read,
            timeout: self.settings.timeout,
            hint: hint.to_string(),
        }
    }

    /// A message (polled here, or by the caller before the reader existed):
    /// its span's end is reached at the offset before the end; handed on
    /// when it lies inside its span (or after it, when following).
    pub fn accept(&mut self, m: BorrowedMessage<'c>) -> Option<(usize, BorrowedMessage<'c>)> {
        let i = (self.spans.iter())
            .position(|s| s.partition == m.partition() && s.topic == m.topic())?;
        let span = &self.spans[i];
        if m.offset() >= span.end - 1 {
            self.reached[i] = true;
        }
        if m.offset() < span.from || (m.offset() >= span.end && !self.following) {
            return None;
        }
        self.read += 1;
        Some((i, m))
    }

    /// An end-of-partition event for `partition` (the event names no
    /// topic): each span of that partition whose consumer position passed
    /// its end (control records and holes included) is done.
    fn at_end_of(&mut self, partition: i32) {
        if !(self.spans.iter().zip(&self.reached)).any(|(s, r)| !r && s.partition == partition) {
            return;
        }
        let positions = self.positions();
        for (s, r) in self.spans.iter().zip(self.reached.iter_mut()) {
            if !*r && s.partition == partition {
                *r = position_of(&positions, s).is_some_and(|p| p >= s.end);
            }
        }
    }

    fn positions(&self) -> Option<TopicPartitionList> {
        self.consumer.position().ok()
    }
}

/// The consumer's position in `span`'s partition, when it has one.
fn position_of(positions: &Option<TopicPartitionList>, span: &Span) -> Option<i64> {
    match positions
        .as_ref()?
        .find_partition(&span.topic, span.partition)?
        .offset()
    {
        Offset::Offset(o) => Some(o),
        _ => None,
    }
}

/// The value of the first header `name` of a message (`None`: no such
/// header, or one without a value).
pub fn header<'m>(m: &'m BorrowedMessage<'_>, name: &str) -> Option<&'m [u8]> {
    use rdkafka::message::Headers;
    m.headers()?.iter().find(|h| h.key == name)?.value
}

fn assign_error(what: &str, span: &Span, source: KafkaError) -> anyhow::Error {
    anyhow::Error::new(ReadError::Assign {
        what: what.to_string(),
        topic: span.topic.clone(),
        partition: span.partition,
        source,
    })
}

/// Closes a reader's consumer in 1 ms steps (for at most a second), then
/// destroys it. Its `Drop` alone would close it polling in 100 ms steps
/// (most of a short run's time). It must be destroyed before the process
/// exits: a consumer left to the exit still runs its broker threads while
/// the exit frees OpenSSL, and with TLS about one run in 40 ended with
/// SIGSEGV (tests/broker_security.rs).
pub fn close(consumer: BaseConsumer<Context>) {
    let deadline = Instant::now() + Duration::from_secs(1);
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

    #[test]
    fn a_timeout_names_each_partition_and_where_the_read_was() {
        let e = ReadError::Timeout {
            what: "the cursors".into(),
            brokers: "b:1".into(),
            waiting: vec![Waiting {
                topic: "t".into(),
                partition: 0,
                at: 5,
                end: 9,
            }],
            read: 3,
            timeout: Duration::from_secs(20),
            hint: "; raise --kafka-timeout".into(),
        };
        assert_eq!(
            e.to_string(),
            "reading the cursors from b:1: the end of t partition 0 (at offset 5 of 9) was not \
             reached within 20s (3 messages read); raise --kafka-timeout"
        );
        assert_eq!(e.exit(), Exit::Kafka);
    }

    #[test]
    fn an_empty_span_is_reached_at_once() {
        let span = |from, end| Span {
            topic: "t".into(),
            partition: 0,
            low: 0,
            from,
            end,
        };
        assert!(span(5, 5).is_empty() && span(6, 5).is_empty() && !span(4, 5).is_empty());
    }
}
