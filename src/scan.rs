//! Reading topics over a period (`status`, `chart`): partition `partition`
//! of each topic, assigned without a group (nothing is committed), from the
//! first message whose Kafka timestamp is at or after the period's start
//! (the broker's time index) to the end each partition had when the read
//! began ([`crate::kafka::read`]), all within the run's Kafka deadline. The
//! sink stamps each message with its key's time (row time, window end), so
//! no message of the period comes before that offset, and a day's period
//! does not read a year of topic. Only messages of ours (header
//! `eds-dataset`) with a key of the dataset's shape are handed on; the
//! others of ours are counted ([`Tally`]) and said once. Their values are
//! handed on as they are: [`crate::registry::Values`] reads one in any of
//! our formats.

use anyhow::Result;
use chrono::{DateTime, Utc};
use rdkafka::message::BorrowedMessage;
use rdkafka::Message;

use crate::contract::{
    is_ours, parse_key, parse_revision, MessageKey, DATASET_HEADER, REVISION_HEADER,
};
use crate::dataset::Dataset;
use crate::kafka::read::{self as kread, Reader, Seek};
use crate::kafka::{topics, KafkaSettings};
use crate::logging::Tally;

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

/// A message of ours read: its key, its value and where it was.
pub struct Ours<'m> {
    /// Which of [`Scan::topics`].
    pub topic: usize,
    pub key: MessageKey,
    pub payload: &'m [u8],
    pub offset: i64,
    /// Its `eds-revision` header (0 without one).
    pub revision: u32,
}

impl Scan<'_> {
    /// Calls `each` for every message of ours from the period's start to
    /// the end of each topic (an error of `each` ends the read); returns
    /// those of ours skipped for their key.
    pub fn run(&self, mut each: impl FnMut(Ours<'_>) -> Result<()>) -> Result<Tally> {
        let settings = self.settings;
        crate::probe::check_bootstrap(settings, || settings.consumer(None).map(drop))?;
        let consumer = settings.consumer(None)?;
        let mut refused = Tally::default();
        let result = self.read(&consumer, &mut each, &mut refused);
        kread::close(consumer);
        result?;
        if let Some(line) =
            refused.summary("of ours with a key not of this dataset's shape, skipped")
        {
            log::warn!("{line}");
        }
        Ok(refused)
    }

    fn read(
        &self,
        consumer: &rdkafka::consumer::BaseConsumer<crate::kafka::Context>,
        each: &mut impl FnMut(Ours<'_>) -> Result<()>,
        refused: &mut Tally,
    ) -> Result<()> {
        let mut spans = Vec::new();
        for topic in self.topics {
            topics::require(
                consumer,
                self.settings,
                topic,
                Some(self.partition),
                READ_HINT,
            )?;
            let span = kread::span(
                self.settings,
                consumer,
                topic,
                self.partition,
                Seek::Time(self.from),
            )?;
            log::debug!("{topic}: reading offsets {}..{}", span.from, span.end);
            spans.push(span);
        }
        let mut reader = Reader::assign(consumer, self.settings, spans, &self.topics.join(", "))?;
        reader.to_end("", |i, m| self.take(i, m, each, refused))
    }

    /// One message: handed on when it is ours with a key of this dataset's shape.
    fn take(
        &self,
        topic: usize,
        m: &BorrowedMessage<'_>,
        each: &mut impl FnMut(Ours<'_>) -> Result<()>,
        refused: &mut Tally,
    ) -> Result<()> {
        if !is_ours(kread::header(m, DATASET_HEADER), &self.dataset.name) {
            return Ok(());
        }
        match parse_key(m.key().unwrap_or_default(), self.dataset.key_columns.len()) {
            Ok(key) => each(Ours {
                topic,
                key,
                payload: m.payload().unwrap_or_default(),
                offset: m.offset(),
                revision: kread::header(m, REVISION_HEADER)
                    .and_then(parse_revision)
                    .unwrap_or(0),
            }),
            Err(e) => {
                refused.add(format!("{} offset {}: {e}", m.topic(), m.offset()));
                Ok(())
            }
        }
    }
}
