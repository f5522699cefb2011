//! Reads the cursors from Kafka itself (no local state): for each topic, the
//! newest time of each key combination among the partition's messages of
//! ours (header `eds-dataset`). A dataset without key columns has one key
//! combination, so its read stops at the last message of ours; a keyed one
//! reads from the offset the broker's time index gives for the newest time
//! minus the tail span (or, without an index, back in passes): see
//! [`super::tail`], which decides what each pass reads. Each pass reads its
//! offsets to their end with [`crate::kafka::read`].

use std::time::Instant;

use anyhow::Result;
use chrono::{DateTime, Utc};
use rdkafka::consumer::BaseConsumer;
use rdkafka::message::BorrowedMessage;
use rdkafka::{Message, Offset};

use super::plan::{TailSpan, TopicCursor};
use super::review::{Review, Stamp};
use super::tail::Tail;
use super::CursorError;
use crate::contract::{
    is_ours, parse_key, MessageKey, DATASET_HEADER, DIGEST_HEADER, REVISION_HEADER,
};
use crate::dataset::Dataset;
use crate::kafka::read::{self as kread, Reader, Span};
use crate::kafka::{Context, KafkaSettings};

/// What a cursor read that runs out of time tells the user.
const TIMEOUT_HINT: &str = ". A slow or overloaded broker, or a tail too long to read in \
     time (a keyed topic's tail spans --max-key-lateness of messages for every key \
     combination): raise --kafka-timeout / EDS_KAFKA_TIMEOUT, or lower --max-key-lateness";

/// Reads the cursors of `topics` (partition `partition` of each) with one
/// consumer; `tail` is how far back from each topic's newest message to
/// read, and each topic's messages from its review time (when given) on are
/// all read and kept ([`super::review::Review`]).
pub fn read(
    settings: &KafkaSettings,
    topics: &[(&str, Option<DateTime<Utc>>)],
    partition: i32,
    dataset: &Dataset,
    tail: TailSpan,
) -> Result<Vec<TopicCursor>> {
    let started = Instant::now();
    let consumer = settings.consumer(None)?;
    let mut tails: Vec<Tail> = Vec::new();
    for (topic, review) in topics {
        match kread::bounds(settings, &consumer, topic, partition) {
            Ok((low, end)) => {
                let mut t = Tail::new(topic, partition, low, end);
                t.cursor.review = Review::from(*review, tail.margin);
                tails.push(t);
            }
            Err(e) => {
                kread::close(consumer);
                return Err(e);
            }
        }
    }
    let reader = Passes {
        consumer: &consumer,
        settings,
        partition,
        dataset,
        tail,
        found: Default::default(),
    };
    reader.start_at_reviews(&mut tails);
    let result = reader.read_tails(&mut tails);
    kread::close(consumer);
    result?;
    for t in &tails {
        log::debug!(
            "cursor of {}: {} key combination(s), {} messages of ours read (log {}..{})",
            t.cursor.topic,
            t.cursor.last.len(),
            t.ours,
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

/// The broker's time-index answers, per (topic, time), as `offset_for_time` gave them.
type Found = std::cell::RefCell<std::collections::HashMap<(String, DateTime<Utc>), Option<i64>>>;

/// What every pass needs.
struct Passes<'a> {
    consumer: &'a BaseConsumer<Context>,
    settings: &'a KafkaSettings,
    partition: i32,
    dataset: &'a Dataset,
    tail: TailSpan,
    /// The broker's answers for (topic, time): each asked once.
    found: Found,
}

impl Passes<'_> {
    /// A reviewed span is read whole: the first pass starts at its first
    /// offset (the broker's time index), so that one pass reads both the
    /// newest messages and the span (the search still checks the answer).
    fn start_at_reviews(&self, tails: &mut [Tail]) {
        for t in tails.iter_mut().filter(|t| !t.done) {
            let Some(reach) = t.cursor.review.reach() else {
                continue;
            };
            if let Some(offset) = self.offset_at(&t.cursor.topic, reach) {
                t.from = t.from.min(offset).max(t.low);
            }
        }
    }

    /// Reads every partition not done from `from` to the end of its pass;
    /// goes further back for those that need it, until the start of the log.
    fn read_tails(&self, tails: &mut [Tail]) -> Result<()> {
        loop {
            let spans: Vec<Span> = (tails.iter().filter(|t| !t.done))
                .map(|t| Span {
                    topic: t.cursor.topic.clone(),
                    partition: self.partition,
                    low: t.low,
                    from: t.from,
                    end: t.until.unwrap_or(t.high),
                })
                .collect();
            if spans.is_empty() {
                return Ok(());
            }
            for s in &spans {
                log::trace!(
                    "cursor of {}: reading offsets {}..{}",
                    s.topic,
                    s.from,
                    s.end
                );
            }
            self.pass(tails, spans)?;
            let keyed = !self.dataset.key_columns.is_empty();
            let mut lookup = |topic: &str, t: DateTime<Utc>| self.offset_at(topic, t);
            for t in tails.iter_mut().filter(|t| !t.done) {
                t.next_pass(keyed, self.tail, &mut lookup);
            }
        }
    }

    /// One pass: each span read to its end.
    fn pass(&self, tails: &mut [Tail], spans: Vec<Span>) -> Result<()> {
        let what = format!(
            "the cursors of {}",
            spans
                .iter()
                .map(|s| s.topic.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        );
        let mut reader = Reader::assign(self.consumer, self.settings, spans, &what)?;
        reader.to_end(TIMEOUT_HINT, |_, m| {
            let Some(tail) = tails
                .iter_mut()
                .find(|t| !t.done && t.cursor.topic == m.topic())
            else {
                return Ok(());
            };
            if tail.saw(m.offset(), m.timestamp().to_millis()) {
                if let Some(key) = self.ours(m)? {
                    let stamp = Stamp::of(
                        kread::header(m, DIGEST_HEADER),
                        kread::header(m, REVISION_HEADER),
                        m.payload().unwrap_or_default(),
                        m.offset(),
                    );
                    tail.take(&key, m.offset());
                    tail.cursor.review.note(key.time, key.key, stamp);
                }
            }
            Ok(())
        })
    }

    /// The first offset whose timestamp is `t` or later (our messages carry
    /// their row time or window end), from the broker's time index; the high
    /// watermark when there is none; `None` when the broker cannot say (then
    /// the read goes back by its own estimate).
    fn offset_at(&self, topic: &str, t: DateTime<Utc>) -> Option<i64> {
        let asked = (topic.to_string(), t);
        if let Some(found) = self.found.borrow().get(&asked) {
            return *found;
        }
        let found = self.ask_offset_at(topic, t);
        self.found.borrow_mut().insert(asked, found);
        found
    }

    /// [`Passes::offset_at`], asked of the broker.
    fn ask_offset_at(&self, topic: &str, t: DateTime<Utc>) -> Option<i64> {
        let remaining = self.settings.remaining();
        let found = crate::kafka::topics::offset_for_time(
            self.consumer,
            topic,
            self.partition,
            t,
            remaining,
        );
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

    /// The key of a message of ours for this dataset; `None` for others.
    /// A message of ours whose key is not of the dataset's shape stops the
    /// run (exit 3): where the topic ends for that key is unknown.
    fn ours(&self, m: &BorrowedMessage<'_>) -> Result<Option<MessageKey>> {
        if !is_ours(kread::header(m, DATASET_HEADER), &self.dataset.name) {
            return Ok(None);
        }
        let columns = &self.dataset.key_columns;
        parse_key(m.key().unwrap_or_default(), columns.len())
            .map(Some)
            .map_err(|source| {
                anyhow::Error::new(CursorError::Key {
                    topic: m.topic().to_string(),
                    partition: m.partition(),
                    offset: m.offset(),
                    dataset: self.dataset.name.clone(),
                    columns: columns.clone(),
                    source,
                })
            })
    }
}
