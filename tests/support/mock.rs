//! Helpers of the tests against librdkafka's in-process mock cluster
//! (tests/kafka_mock.rs, tests/consume_mock.rs): a cluster with the default
//! topics, and `publish` runs against it.

#![allow(dead_code)]

use rdkafka::mocking::MockCluster;

use super::args::Args;
use super::stub::StubApi;
use super::utc;

pub const NOW: &str = "2026-11-28T12:00:30Z";
pub const RECORDS: &str = "eds.PowerSystemRightNow.records";
pub const AGGREGATES: &str = "eds.PowerSystemRightNow.aggregates";

/// A one-broker mock cluster with the default records and aggregates topics.
pub fn cluster() -> MockCluster<'static, rdkafka::producer::DefaultProducerContext> {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic(RECORDS, 1, 1).unwrap();
    mock.create_topic(AGGREGATES, 1, 1).unwrap();
    mock
}

/// `publish` at `now`, with the stub's clock set to it.
pub fn publish_at(
    stub: &StubApi,
    brokers: &str,
    now: &str,
    extra: &[&str],
) -> (i32, String, String) {
    stub.set_now(utc(now));
    Args::publish(&stub.url, now)
        .brokers(brokers)
        .flag("--kafka-timeout", "10s")
        .extra(extra)
        .run()
}
