//! Reading topics over a period (`status`, `chart`): partition `partition`
//! of each topic, assigned without a group (nothing is committed), from the
//! first message whose Kafka timestamp is at or after the period's start
//! (`offsets_for_times`) to the high watermark, all within `--kafka-timeout`.
//! The sink stamps each message with its key's time (row time, window end),
//! so no message of the period comes before that offset. Only messages
//! of ours (header `eds-dataset`) with a key of the dataset's shape are
//! handed on; others are skipped (a warning for a bad key).

use std::time::{Duration, Instant};

use anyhow::Result;
use chrono::{DateTime, Utc};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{BorrowedMessage, Headers};
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::contract::{MessageKey, DATASET_HEADER};
use crate::dataset::Dataset;
use crate::exit::{fail, Exit, OrExit};
use crate::kafka::{Context, KafkaSettings};
use crate::topics;

/// What a missing topic's message tells a reader.
const READ_HINT: &str = "check the topic flags and --dataset / EDS_DATASET";

/// One read: the topics, and the period's start.
pub struct Scan<'a> {
    pub settings: &'a KafkaSettings,
    pub dataset: &'a Dataset,
    pub topics: &'a [&'a str],
    pub partition: i32,
    pub from: DateTime<Utc>,
}

/// Messages of ours whose key is not of the dataset's shape: `publish`
/// refuses to run on such a topic (exit 3). Counted; the first few named.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Refused {
    pub count: u64,
    pub first: Vec<String>,
}

impl Refused {
    /// Counts (and logs) one message skipped.
    pub fn add(&mut self, what: String) {
        log::warn!("{what}; skipped");
        self.count += 1;
        if self.first.len() < 3 {
            self.first.push(what);
        }
    }

    /// Takes in another's count and names (the first few kept).
    pub fn absorb(&mut self, other: Refused) {
        self.count += other.count;
        let room = 3usize.saturating_sub(self.first.len());
        self.first.extend(other.first.into_iter().take(room));
    }
}

/// One topic's partition being read up to `end` (the offset before the
/// high watermark); `done` when that arrived or there is nothing to read.
struct Part<'c> {
    topic: &'c str,
    end: i64,
    done: bool,
}

impl Scan<'_> {
    /// Calls `each(topic index, key, payload)` for every message of ours
    /// from the period's start to the end of each topic; returns those of
    /// ours skipped for their key.
    pub fn run(&self, mut each: impl FnMut(usize, MessageKey, &[u8])) -> Result<Refused> {
        let settings = self.settings;
        crate::probe::check_bootstrap(settings, || settings.consumer(None).map(drop))?;
        let consumer = settings.consumer(None)?;
        let mut refused = Refused::default();
        let result = self.read(&consumer, &mut each, &mut refused);
        drop(consumer);
        result.map(|()| refused)
    }

    fn read(
        &self,
        consumer: &BaseConsumer<Context>,
        each: &mut impl FnMut(usize, MessageKey, &[u8]),
        refused: &mut Refused,
    ) -> Result<()> {
        let deadline = Instant::now() + self.settings.timeout;
        let mut list = TopicPartitionList::new();
        let mut parts = Vec::new();
        for topic in self.topics {
            let (from, high) = self.start(consumer, topic)?;
            log::debug!("{topic}: reading offsets {from}..{high}");
            list.add_partition_offset(topic, self.partition, Offset::Offset(from))
                .or_exit(Exit::Kafka, |e| format!("assigning {topic}: {e}"))?;
            parts.push(Part {
                topic,
                end: high - 1,
                done: from >= high,
            });
        }
        consumer
            .assign(&list)
            .or_exit(Exit::Kafka, |e| format!("assigning the topics: {e}"))?;
        while parts.iter().any(|p| !p.done) {
            if Instant::now() >= deadline {
                return Err(self.timeout(&parts));
            }
            match consumer.poll(Duration::from_millis(50)) {
                None => {}
                Some(Ok(m)) => self.take(&mut parts, &m, each, refused),
                Some(Err(e)) if crate::kafka::is_transient(&e) => {
                    log::debug!("reading the topics: {e} (retrying)");
                }
                Some(Err(e)) => {
                    return Err(self.settings.unreachable(
                        "read the topics",
                        &e,
                        consumer.context(),
                    ))
                }
            }
        }
        Ok(())
    }

    fn timeout(&self, parts: &[Part]) -> anyhow::Error {
        let waiting: Vec<&str> = parts.iter().filter(|p| !p.done).map(|p| p.topic).collect();
        fail(
            Exit::Kafka,
            format!(
                "reading {} from {}: the end did not arrive within {}s",
                waiting.join(", "),
                self.settings.brokers(),
                self.settings.timeout.as_secs_f64()
            ),
        )
    }

    /// The offset the period starts at in `topic`, and its high watermark.
    fn start(&self, consumer: &BaseConsumer<Context>, topic: &str) -> Result<(i64, i64)> {
        let settings = self.settings;
        let partition = self.partition;
        topics::require(consumer, settings, topic, Some(partition), READ_HINT)?;
        let what = format!("read the offsets of {topic}");
        let (low, high) = settings
            .wait(consumer, &what, |t| {
                consumer.fetch_watermarks(topic, partition, t)
            })?
            .map_err(|e| topics::offsets_error(settings, consumer, topic, partition, &e))?;
        let found = settings
            .wait(consumer, &what, |t| {
                topics::offset_for_time(consumer, topic, partition, self.from, t)
            })?
            .map_err(|e| settings.unreachable(&what, &e, consumer.context()))?;
        let from = match found {
            Offset::Offset(o) => o.clamp(low, high),
            // No message at or after that time.
            Offset::End => high,
            _ => low,
        };
        Ok((from, high))
    }

    /// One message: handed on when it is ours with a key of this dataset's shape.
    fn take(
        &self,
        parts: &mut [Part],
        m: &BorrowedMessage<'_>,
        each: &mut impl FnMut(usize, MessageKey, &[u8]),
        refused: &mut Refused,
    ) {
        let Some(index) = parts.iter().position(|p| p.topic == m.topic()) else {
            return;
        };
        if m.offset() >= parts[index].end {
            parts[index].done = true;
        }
        let ours = m
            .headers()
            .and_then(|h| h.iter().find(|h| h.key == DATASET_HEADER))
            .is_some_and(|h| h.value == Some(self.dataset.name.as_bytes()));
        if !ours {
            return;
        }
        let at = format!("{} offset {}", m.topic(), m.offset());
        let text = String::from_utf8_lossy(m.key().unwrap_or_default());
        let text: String = text
            .chars()
            .take(200)
            .collect::<String>()
            .escape_debug()
            .to_string();
        match std::str::from_utf8(m.key().unwrap_or_default()).map(str::parse::<MessageKey>) {
            Ok(Ok(key)) if key.key.len() == self.dataset.key_columns.len() => {
                each(index, key, m.payload().unwrap_or_default());
            }
            Ok(Ok(_)) => refused.add(format!(
                "{at}: key '{text}' has not this dataset's key columns"
            )),
            Ok(Err(e)) => refused.add(format!("{at}: key '{text}': {e}")),
            Err(_) => refused.add(format!("{at}: key '{text}' is not UTF-8")),
        }
    }
}
