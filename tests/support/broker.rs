//! Helpers of the broker suite (tests/broker/): the shared test broker
//! (one Apache Kafka node, started by scripts/test), unique topics, and
//! publish/consume runs against them. Clusters of a test's own are in
//! [`super::kafka`].
//!
//! These tests are built only with `--features broker-tests` (plain `cargo
//! test` leaves them out); built, they need `EDS_TEST_BROKER` and fail
//! without it.

#![allow(dead_code)]

use std::time::{Duration, Instant};

use super::args::Args;
use super::stub::StubApi;
use super::{eds, outcome, unique_topic, utc};

/// The shared test broker's address. These tests are built only with the
/// `broker-tests` feature, for a run that has a broker: without
/// `EDS_TEST_BROKER` they fail, saying what to do (never pass untested).
/// Returns an `Option` so that callers read as before.
pub fn test_broker() -> Option<String> {
    match std::env::var("EDS_TEST_BROKER") {
        Ok(address) if !address.is_empty() => Some(address),
        _ => panic!(
            "the broker suite needs a running broker: set EDS_TEST_BROKER=host:port \
             (scripts/test starts Apache Kafka and sets it), or run plain `cargo test` \
             without --features broker-tests to leave the broker suite out"
        ),
    }
}

/// Whether the broker suite runs here: see [`test_broker`].
pub fn broker_suite_runs() -> bool {
    test_broker().is_some()
}

/// A records topic and an aggregates topic no other test uses.
pub struct Topics {
    pub records: String,
    pub aggregates: String,
}

impl Topics {
    /// `<prefix>.records...` and `<prefix>.aggs...`.
    pub fn new(prefix: &str) -> Topics {
        Topics {
            records: unique_topic(&format!("{prefix}.records")),
            aggregates: unique_topic(&format!("{prefix}.aggs")),
        }
    }

    /// `publish` to these topics (created when missing) at `now`.
    pub fn publish_args(&self, stub: &StubApi, brokers: &str, now: &str) -> Vec<String> {
        Args::publish(&stub.url, now)
            .brokers(brokers)
            .extra(&["--create-topics"])
            .flag("--records-topic", &self.records)
            .flag("--aggregates-topic", &self.aggregates)
            .list()
            .to_vec()
    }

    /// Runs `publish` (see [`Topics::publish_args`]) plus `extra`: (code, stdout, stderr).
    pub fn publish(
        &self,
        stub: &StubApi,
        brokers: &str,
        now: &str,
        extra: &[&str],
    ) -> (i32, String, String) {
        outcome(
            eds()
                .args(self.publish_args(stub, brokers, now))
                .args(extra),
        )
    }
}

/// `consume` of `topic` plus `extra`; asserts exit 0 and returns stdout.
/// With `--format json`, every message printed is validated against its
/// committed schema (the dataset from `--dataset`, PowerSystemRightNow by default).
pub fn consume(brokers: &str, topic: &str, extra: &[&str]) -> String {
    let (code, out, err) = outcome(super::consume_of(brokers, topic).args(extra));
    assert_eq!(code, 0, "{err}");
    let after = |flag: &str| extra.windows(2).find(|w| w[0] == flag).map(|w| w[1]);
    if after("--format") == Some("json") {
        let dataset = after("--dataset").unwrap_or("PowerSystemRightNow");
        for line in out.lines() {
            let value: serde_json::Value = serde_json::from_str(line).unwrap();
            super::schema::assert_valid_message(dataset, &value);
        }
    }
    out
}

/// Waits until something listens on `address`.
pub fn wait_for_listener(address: &str) {
    let deadline = Instant::now() + Duration::from_secs(10);
    while std::net::TcpStream::connect(address).is_err() {
        assert!(Instant::now() < deadline, "nothing listens on {address}");
        std::thread::sleep(Duration::from_millis(20));
    }
}

pub const PRODEX_FROM: &str = "2026-11-28T04:00:00Z";
pub const PRODEX_TO: &str = "2026-11-28T10:00:00Z";
/// The row left out: DK1's at 07:00.
pub const PRODEX_DROPPED: &str = "2026-11-28T07:00:00Z";

/// Backfills ElectricityProdex5MinRealtime (DK1, DK2) over PRODEX_FROM..PRODEX_TO
/// with a 15-minute window into new topics named after `prefix`: DK1's row at
/// PRODEX_DROPPED left out, SolarPower always null.
pub fn prodex_backfilled(brokers: &str, prefix: &str) -> Topics {
    let shape = super::keyed::prodex();
    let solar = shape
        .fields
        .iter()
        .position(|f| *f == "SolarPower")
        .unwrap();
    let rows = super::keyed::rows(&shape, utc(PRODEX_FROM), utc(PRODEX_TO))
        .into_iter()
        .filter(|(t, k)| (*t, *k) != (utc(PRODEX_DROPPED), 0))
        .map(|(t, k)| {
            super::keyed::row_with(&shape, t, k, |f| {
                (f != solar)
                    .then(|| super::keyed::value(&shape, t, k, f))
                    .flatten()
            })
        })
        .collect();
    let stub = StubApi::start();
    stub.serve_sorted_rows(rows);
    let t = Topics::new(prefix);
    let (code, _, err) = Args::backfill(&stub.url)
        .brokers(brokers)
        .flag("--dataset", "ElectricityProdex5MinRealtime")
        .flag("--window", "15m")
        .flag("--fields", &shape.fields.join(","))
        .flag("--records-topic", &t.records)
        .flag("--aggregates-topic", &t.aggregates)
        .flag("--from", PRODEX_FROM)
        .flag("--to", PRODEX_TO)
        .extra(&["--create-topics"])
        .run();
    assert_eq!(code, 0, "{err}");
    t
}
