//! Writing to the test topics what eds-kafka never writes itself, with a
//! plain rdkafka client: messages of another producer (with or without our
//! header), committed or aborted transactions, records deleted before an
//! offset, and topics created with a config of the test's own.

#![allow(dead_code)]

use std::time::Duration;

use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{Header, OwnedHeaders};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
use rdkafka::{ClientConfig, Offset, TopicPartitionList};

const TIMEOUT: Duration = Duration::from_secs(30);

/// A producer of another application writing to our topics.
pub struct Forger {
    producer: BaseProducer,
    transactional: bool,
}

impl Forger {
    /// A plain (idempotent) producer.
    pub fn new(brokers: &str) -> Forger {
        let producer = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .set("allow.auto.create.topics", "false")
            .create()
            .unwrap();
        Forger {
            producer,
            transactional: false,
        }
    }

    /// A transactional producer (as a Kafka Connect or Flink job with
    /// exactly-once delivery is), its transactions begun with [`Forger::begin`].
    pub fn transactional(brokers: &str) -> Forger {
        let id = super::unique_topic("eds-kafka-tests-txn");
        let producer: BaseProducer = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .set("transactional.id", &id)
            .set("allow.auto.create.topics", "false")
            .create()
            .unwrap();
        producer.init_transactions(TIMEOUT).unwrap();
        Forger {
            producer,
            transactional: true,
        }
    }

    pub fn begin(&self) {
        self.producer.begin_transaction().unwrap();
    }

    pub fn commit(&self) {
        self.producer.commit_transaction(TIMEOUT).unwrap();
    }

    pub fn abort(&self) {
        self.producer.flush(TIMEOUT).unwrap();
        self.producer.abort_transaction(TIMEOUT).unwrap();
    }

    /// Sends one message to partition 0 (`dataset`: our header's value,
    /// `None` for a message that is not ours), with a timestamp in ms.
    pub fn send(
        &self,
        topic: &str,
        key: &[u8],
        value: &[u8],
        dataset: Option<&str>,
        timestamp: Option<i64>,
    ) {
        let mut headers = OwnedHeaders::new();
        if let Some(d) = dataset {
            headers = headers.insert(Header {
                key: "eds-dataset",
                value: Some(d),
            });
        }
        let mut record = BaseRecord::to(topic)
            .partition(0)
            .key(key)
            .payload(value)
            .headers(headers);
        if let Some(ts) = timestamp {
            record = record.timestamp(ts);
        }
        self.producer.send(record).map_err(|(e, _)| e).unwrap();
        if !self.transactional {
            self.producer.flush(TIMEOUT).unwrap();
        }
    }
}

/// Deletes the records of partition 0 of `topic` before `offset`
/// (DeleteRecords; `Offset::End` deletes them all).
pub fn delete_records(brokers: &str, topic: &str, offset: Offset) {
    let admin = admin(brokers);
    let mut list = TopicPartitionList::new();
    list.add_partition_offset(topic, 0, offset).unwrap();
    let options = AdminOptions::new().operation_timeout(Some(TIMEOUT));
    let result = futures_executor::block_on(admin.delete_records(&list, &options)).unwrap();
    for e in result.elements() {
        assert!(
            e.error().is_ok(),
            "deleting records of {topic}: {:?}",
            e.error()
        );
    }
}

/// Creates `topic` with one partition and `config`.
pub fn create_topic(brokers: &str, topic: &str, config: &[(&str, &str)]) {
    let admin = admin(brokers);
    let mut new = NewTopic::new(topic, 1, TopicReplication::Fixed(1));
    for (k, v) in config {
        new = new.set(k, v);
    }
    let options = AdminOptions::new().operation_timeout(Some(TIMEOUT));
    for r in futures_executor::block_on(admin.create_topics([&new], &options)).unwrap() {
        r.unwrap();
    }
}

/// Partition 0's first offset and end, as a plain consumer sees them.
pub fn watermarks(brokers: &str, topic: &str) -> (i64, i64) {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "eds-kafka-tests-watermarks")
        .create()
        .unwrap();
    consumer.fetch_watermarks(topic, 0, TIMEOUT).unwrap()
}

fn admin(brokers: &str) -> AdminClient<DefaultClientContext> {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap()
}
