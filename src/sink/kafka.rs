//! The Kafka sink: one idempotent producer, every message of a topic to one
//! partition in time order, and a run that ends only when the brokers have
//! acknowledged every message (or fails with exit 4). Also makes sure the
//! topics exist (`--create-topics` creates them with one partition). Values
//! are plain JSON or framed for a schema registry ([`super::values`]).

use std::time::{Duration, Instant};

use anyhow::Result;
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

use super::create::Closing;
use super::error::SinkError;
use super::values::{ValueFormat, Valued, Values};
use super::{Message, Sink, Written};
use crate::aggregate::Aggregate;
use crate::contract::{digest_text, DATASET_HEADER, DIGEST_HEADER, REVISION_HEADER};
use crate::dataset::{Dataset, Row};
use crate::kafka::topics;
use crate::kafka::{replica_shortage, Context, KafkaSettings, CREATE_HINT};
use crate::logging::{count, elapsed};

/// Where the messages go; `None` for a topic not to publish to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Topics {
    pub records: Option<String>,
    pub aggregates: Option<String>,
    pub partition: i32,
}

impl Topics {
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.records
            .iter()
            .chain(self.aggregates.iter())
            .map(String::as_str)
    }
}

/// Where a run's messages go, and how to reach them.
#[derive(Debug, Clone, PartialEq)]
pub struct KafkaOutput {
    pub settings: KafkaSettings,
    pub topics: Topics,
    /// `--create-topics`: how to create a missing topic; `None`: a missing topic is exit 4.
    pub create_topics: Option<NewTopics>,
    /// `--value-format` and its schema registry.
    pub values: ValueFormat,
}

/// How `--create-topics` creates a topic (always one partition).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct NewTopics {
    /// `--replication-factor`; `None`: the broker's `default.replication.factor`.
    pub replication_factor: Option<i16>,
    /// `--topic-config` pairs, in order.
    pub config: Vec<(String, String)>,
}

pub struct KafkaSink {
    producer: BaseProducer<Context>,
    settings: KafkaSettings,
    topics: Topics,
    dataset: String,
    written: Written,
    started: Instant,
    values: Values,
    /// A framed value being written, reused from message to message.
    buf: Vec<u8>,
    /// The admin client that created topics, being dropped meanwhile.
    admin: Closing,
}

impl KafkaSink {
    /// Creates the producer and checks (or creates) the topics and partition.
    pub fn connect(
        settings: &KafkaSettings,
        topics: Topics,
        create_topics: Option<&NewTopics>,
        dataset: &Dataset,
    ) -> Result<KafkaSink> {
        let started = Instant::now();
        log::debug!("Kafka settings: {}", settings.describe());
        let producer: BaseProducer<Context> = settings
            .producer_config()
            .create_with_context(Context::default())
            .map_err(|e| settings.creation_error(e))?;
        let mut sink = KafkaSink {
            producer,
            settings: settings.clone(),
            topics,
            dataset: dataset.name.clone(),
            written: Written::default(),
            started,
            values: Values::json(),
            buf: Vec::new(),
            admin: Closing::none(),
        };
        let topics: Vec<String> = sink.topics.names().map(str::to_string).collect();
        sink.admin = sink.check_topics(&topics, create_topics)?;
        if topics.len() == 1 {
            // The idempotent producer asks for its producer id after a metadata
            // response; after the first one the bootstrap connection is being
            // replaced and no broker is up, so librdkafka retries only after
            // 500 ms. A second response, from the real broker, gets the id at once.
            sink.partitions(&topics[0])?;
        }
        log::debug!("Kafka topics ready in {}", elapsed(started.elapsed()));
        Ok(sink)
    }

    /// Writes the values with `values` (plain JSON without).
    pub fn with_values(mut self, values: Values) -> KafkaSink {
        self.values = values;
        self
    }

    /// The number of partitions of `topic`, or `None` when it does not exist.
    fn partitions(&self, topic: &str) -> Result<Option<usize>> {
        topics::partitions(&self.producer, &self.settings, topic)
    }

    /// Checks the topics and their partition; with `create`, the missing
    /// ones are created (in one request, after the others were checked) and
    /// waited for. Returns the admin client's drop, when one was made.
    fn check_topics(&self, topics: &[String], create: Option<&NewTopics>) -> Result<Closing> {
        let mut counts = Vec::with_capacity(topics.len());
        for topic in topics {
            counts.push(self.partitions(topic)?);
        }
        let missing: Vec<&str> = (topics.iter().zip(&counts))
            .filter_map(|(topic, count)| count.is_none().then_some(topic.as_str()))
            .collect();
        for (topic, count) in topics.iter().zip(&counts).filter(|(_, c)| c.is_some()) {
            self.check_partitions(topic, *count)?;
        }
        let mut closing = Closing::none();
        if let (false, Some(new)) = (missing.is_empty(), create) {
            closing = super::create::create_topics(&self.settings, &missing, new)?;
        }
        let deadline = self.settings.deadline();
        for topic in &missing {
            let mut count = None;
            if create.is_some() {
                count = self.partitions(topic)?;
                while count.is_none() && Instant::now() < deadline {
                    std::thread::sleep(Duration::from_millis(20));
                    count = self.partitions(topic)?;
                }
            }
            self.check_partitions(topic, count)?;
        }
        Ok(closing)
    }

    /// Exit 4 unless `topic` exists with the partition this run writes.
    fn check_partitions(&self, topic: &str, count: Option<usize>) -> Result<()> {
        let partition = Some(self.topics.partition);
        topics::check_partitions(&self.settings, topic, count, partition, CREATE_HINT)?;
        Ok(())
    }

    /// Sends one message: its value written as the run's format says.
    fn publish(
        &mut self,
        what: Valued<'_>,
        topic: &str,
        key: &str,
        at: i64,
        message: Message<'_>,
    ) -> Result<()> {
        let mut buf = std::mem::take(&mut self.buf);
        let aggregate = matches!(what, Valued::Aggregate(_));
        let sent = (self.values.value(what, message.json, &mut buf))
            .map_err(anyhow::Error::from)
            .and_then(|payload| self.send(topic, key, at, aggregate, payload, message));
        self.buf = buf;
        sent
    }

    /// Sends one message with `payload` as its value (`aggregate`: which
    /// kind, for the message when it is too large).
    fn send(
        &mut self,
        topic: &str,
        key: &str,
        at: i64,
        aggregate: bool,
        payload: &[u8],
        message: Message<'_>,
    ) -> Result<()> {
        let mut record = BaseRecord::to(topic)
            .partition(self.topics.partition)
            .key(key)
            .payload(payload)
            .timestamp(at)
            .headers(self.headers(&message));
        let mut deadline = None;
        loop {
            match self.producer.send(record) {
                Ok(()) => break,
                Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back))
                    if Instant::now()
                        < *deadline.get_or_insert_with(|| self.settings.deadline()) =>
                {
                    record = back;
                    self.serve_or_wait();
                }
                Err((source, _)) => {
                    let e = self.refused(topic, key, payload.len(), aggregate, source);
                    return Err(e.into());
                }
            }
        }
        let sent = self.written.records + self.written.aggregates;
        if sent.is_multiple_of(1024) {
            self.serve();
        }
        Ok(())
    }

    /// Serves the delivery reports that are there, without waiting: each
    /// `poll(0)` takes one event (a batch of reports), as long as they come.
    fn serve(&self) -> bool {
        let mut served = false;
        loop {
            let before = self.producer.in_flight_count();
            self.producer.poll(Duration::ZERO);
            if self.producer.in_flight_count() == before {
                return served;
            }
            served = true;
        }
    }

    /// Serves the reports there are, or sleeps a moment when there are none.
    /// rust-rdkafka's `poll(timeout)` serves until the timeout has passed and
    /// spins through its last millisecond (librdkafka's waits are whole
    /// milliseconds): waiting on acknowledgements that way cost a cron run
    /// most of its CPU. Sleeping a quarter of a millisecond between looks
    /// costs a few microseconds each.
    fn serve_or_wait(&self) {
        if !self.serve() {
            std::thread::sleep(WAIT_STEP);
        }
    }
}

/// How long the sink sleeps between two looks at its delivery reports.
const WAIT_STEP: Duration = Duration::from_micros(250);

impl KafkaSink {
    /// A message's headers: the dataset, the value's digest, and on a
    /// correction its revision.
    fn headers(&self, message: &Message<'_>) -> OwnedHeaders {
        let digest = digest_text(message.digest);
        let headers = OwnedHeaders::new_with_capacity(3)
            .insert(Header {
                key: DATASET_HEADER,
                value: Some(self.dataset.as_bytes()),
            })
            .insert(Header {
                key: DIGEST_HEADER,
                value: Some(digest.as_bytes()),
            });
        if message.revision == 0 {
            return headers;
        }
        headers.insert(Header {
            key: REVISION_HEADER,
            value: Some(message.revision.to_string().as_bytes()),
        })
    }

    /// The error of a message librdkafka refused to queue.
    fn refused(
        &self,
        topic: &str,
        key: &str,
        bytes: usize,
        aggregate: bool,
        source: KafkaError,
    ) -> SinkError {
        if source.rdkafka_error_code() == Some(RDKafkaErrorCode::MessageSizeTooLarge) {
            return SinkError::TooLarge {
                topic: topic.to_string(),
                key: key.to_string(),
                bytes,
                aggregate,
                source,
            };
        }
        SinkError::Produce {
            topic: topic.to_string(),
            brokers: self.settings.brokers().to_string(),
            why: self.why(topic, source.rdkafka_error_code()),
            source,
        }
    }

    /// Why production failed, when librdkafka knows more than the error
    /// `code`: the idempotent producer's fatal error (its producer id was
    /// refused) and what to do about a missing ACL. Empty otherwise.
    fn why(&self, topic: &str, code: Option<RDKafkaErrorCode>) -> String {
        let fatal = self.producer.client().fatal_error();
        let code = fatal.as_ref().map(|(c, _)| *c).or(code);
        let mut out = fatal
            .map(|(c, reason)| format!(" (fatal: {c}: {reason})"))
            .unwrap_or_default();
        if code.is_some_and(crate::kafka::is_denied_code) {
            out.push_str(&format!(
                ": this principal may not write to {topic} (no Write ACL on the topic; \
                 its idempotent producer needs Write on the topic, or IdempotentWrite on the \
                 cluster with older brokers)"
            ));
        }
        out
    }
}

impl Sink for KafkaSink {
    fn record(&mut self, row: &Row, message: Message<'_>) -> Result<()> {
        let Some(topic) = self.topics.records.take() else {
            return Ok(());
        };
        let key = row.message_key().to_string();
        let at = row.time.timestamp_millis();
        let sent = self.publish(Valued::Record(row), &topic, &key, at, message);
        self.topics.records = Some(topic);
        sent?;
        self.written.record(message.revision);
        Ok(())
    }

    fn aggregate(&mut self, agg: &Aggregate, message: Message<'_>) -> Result<()> {
        let Some(topic) = self.topics.aggregates.take() else {
            return Ok(());
        };
        let key = agg.message_key().to_string();
        let at = agg.window_end.timestamp_millis();
        let sent = self.publish(Valued::Aggregate(agg), &topic, &key, at, message);
        self.topics.aggregates = Some(topic);
        sent?;
        self.written.aggregate(agg, message.revision);
        Ok(())
    }

    /// Polls in small steps (not `flush`, which sleeps in 100 ms steps) until
    /// every message is acknowledged, failed, or the run's deadline passes.
    fn finish(&mut self) -> Result<Written> {
        self.admin.join();
        let deadline = self.settings.deadline();
        while self.producer.in_flight_count() > 0 && Instant::now() < deadline {
            self.serve_or_wait();
        }
        self.check_delivered()?;
        let total = self.written.records + self.written.aggregates;
        if total > 0 {
            log::info!(
                "published {} and {} to {} in {}",
                count(self.written.records, "record"),
                count(self.written.aggregates, "aggregate"),
                self.settings.brokers(),
                elapsed(self.started.elapsed())
            );
        }
        Ok(self.written)
    }
}

impl KafkaSink {
    /// Every message sent was acknowledged: none failed, none in flight.
    fn check_delivered(&self) -> Result<()> {
        let total = self.written.records + self.written.aggregates;
        let brokers = self.settings.brokers().to_string();
        let (failed, first) = self.producer.context().failures();
        let first = first.unwrap_or_default();
        if failed > 0 {
            let failure = self.producer.context().failure_code();
            // The broker refused a message over the topic's max.message.bytes:
            // the next run would send the same one.
            if failure
                .as_ref()
                .is_some_and(|(_, code)| *code == Some(RDKafkaErrorCode::MessageSizeTooLarge))
            {
                return Err(SinkError::RefusedTooLarge {
                    failed,
                    total,
                    brokers,
                    first,
                }
                .into());
            }
            let why =
                (failure.as_ref()).map_or(String::new(), |(topic, code)| self.why(topic, *code));
            let shortage = self.replica_shortage();
            return Err(SinkError::NotDelivered {
                failed,
                total,
                brokers,
                first,
                why,
                shortage,
            }
            .into());
        }
        let left = self.producer.in_flight_count();
        if left > 0 {
            return Err(SinkError::NotAcknowledged {
                left,
                total,
                brokers,
                timeout: self.settings.timeout,
                detail: self.producer.context().last_error(),
                shortage: self.replica_shortage(),
            }
            .into());
        }
        Ok(())
    }
}

impl KafkaSink {
    /// Why the brokers may not have acknowledged: see [`replica_shortage`].
    fn replica_shortage(&self) -> String {
        let topics: Vec<&str> = self.topics.names().collect();
        replica_shortage(
            self.producer.client(),
            &topics,
            self.topics.partition,
            self.settings.timeout,
        )
    }
}
