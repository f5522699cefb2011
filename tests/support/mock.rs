//! Helpers of the tests against librdkafka's in-process mock cluster
//! (tests/mock/): a cluster with a dataset's default topics, and `publish`
//! runs against it.

#![allow(dead_code)]

use rdkafka::mocking::MockCluster;

use super::args::Args;
use super::stub::StubApi;
use super::utc;

pub const RECORDS: &str = "eds.PowerSystemRightNow.records";
pub const AGGREGATES: &str = "eds.PowerSystemRightNow.aggregates";

/// librdkafka's mock cluster, removed on drop.
pub type Mock = MockCluster<'static, rdkafka::producer::DefaultProducerContext>;

/// A one-broker mock cluster with the default records and aggregates topics.
pub fn cluster() -> Mock {
    cluster_for("PowerSystemRightNow")
}

/// A one-broker mock cluster with `dataset`'s default topics
/// (`eds.DATASET.records`, `eds.DATASET.aggregates`).
pub fn cluster_for(dataset: &str) -> Mock {
    let mock = MockCluster::new(1).unwrap();
    for kind in ["records", "aggregates"] {
        mock.create_topic(&format!("eds.{dataset}.{kind}"), 1, 1)
            .unwrap();
    }
    mock
}

/// A one-broker mock cluster without topics, and its bootstrap list.
pub fn empty() -> (Mock, String) {
    let mock = MockCluster::new(1).unwrap();
    let brokers = mock.bootstrap_servers();
    (mock, brokers)
}

/// [`cluster`] and its bootstrap list.
pub fn brokers() -> (Mock, String) {
    brokers_for("PowerSystemRightNow")
}

/// [`cluster_for`] `dataset` and its bootstrap list.
pub fn brokers_for(dataset: &str) -> (Mock, String) {
    let mock = cluster_for(dataset);
    let brokers = mock.bootstrap_servers();
    (mock, brokers)
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
