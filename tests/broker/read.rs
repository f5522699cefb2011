//! Every reader (publish's cursor read, `status`, `chart`, `consume`) on
//! real Apache Kafka topics that end in what no consumer receives as a
//! message: a transaction's commit or abort marker, an aborted transaction,
//! records deleted before an offset, compacted-away offsets. Hostile input
//! through the same readers is in `read_hostile`.

use crate::support;

use std::time::{Duration, Instant};

use rdkafka::Offset;
use serde_json::{json, Value};
use support::args::Args;
use support::broker::{test_broker, Topics};
use support::forge::{self, Forger};
use support::kafka::Cluster;
use support::stub::StubApi;
use support::{assert_says, stub_at, utc, NOW};

/// `NOW` plus `minutes`.
pub(super) fn at(minutes: i64) -> String {
    support::rfc3339(utc(NOW) + chrono::TimeDelta::minutes(minutes))
}

/// One run of the binary that must succeed well within its Kafka timeout
/// (the readers used to wait it out): its stdout and stderr.
pub(super) fn ok(args: Args) -> (String, String) {
    let started = Instant::now();
    let (code, out, err) = args.flag("--kafka-timeout", "15s").run();
    assert_eq!(code, 0, "{:?}: {err}", started.elapsed());
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}: {err}",
        started.elapsed()
    );
    (out, err)
}

/// The CSV lines after the header.
fn rows(csv: &str) -> Vec<&str> {
    csv.lines().skip(1).collect()
}

fn status(brokers: &str, t: &Topics, now: &str) -> Value {
    let (out, _) = ok(Args::new("status")
        .brokers(brokers)
        .flag("--records-topic", &t.records)
        .flag("--aggregates-topic", &t.aggregates)
        .flag("--now", now)
        .extra(&["--format", "json"]));
    serde_json::from_str(&out).unwrap()
}

fn consume(brokers: &str, topic: &str, extra: &[&str]) -> String {
    ok(Args::new("consume")
        .brokers(brokers)
        .flag("--topic", topic)
        .extra(extra))
    .0
}

fn chart(brokers: &str, topic: &str, now: &str) -> String {
    ok(Args::new("chart")
        .brokers(brokers)
        .flag("--aggregates-topic", topic)
        .flag("--now", now)
        .flag("--since", "1h"))
    .0
}

/// Publishes the minute before `now` (the first run: five minutes) and
/// checks it published exactly that much.
/// The stub at [`NOW`] and new topics named after `prefix`, published to
/// once (five records).
pub(super) fn first_publish(brokers: &str, prefix: &str) -> (StubApi, Topics) {
    let stub = stub_at(NOW);
    let t = Topics::new(prefix);
    publish(brokers, &stub, &t, NOW, 5);
    (stub, t)
}

fn publish(brokers: &str, stub: &StubApi, t: &Topics, now: &str, records: u64) {
    stub.set_now(utc(now));
    let (_, err) = ok(Args::new("publish")
        .flag("--api-url", &stub.url)
        .flag("--now", now)
        .brokers(brokers)
        .flag("--records-topic", &t.records)
        .flag("--aggregates-topic", &t.aggregates)
        .extra(&["--create-topics"]));
    let said = format!(
        "published {records} record{} and 1 aggregate",
        if records == 1 { "" } else { "s" }
    );
    assert!(err.contains(&said), "{said}: {err}");
}

/// Every reader once, at `now`, `records` records and `windows` windows in
/// the topics.
fn every_reader(brokers: &str, t: &Topics, now: &str, records: usize, windows: usize) {
    let all = consume(brokers, &t.records, &["--from-beginning"]);
    assert_eq!(rows(&all).len(), records, "{all}");
    let last = consume(brokers, &t.aggregates, &["--last", "1"]);
    assert_eq!(rows(&last).len(), 1, "{last}");
    assert!(
        last.contains(&now[..16]),
        "the newest window ends {now}: {last}"
    );
    let report = status(brokers, t, now);
    assert_eq!(report["healthy"], true, "{report}");
    assert_eq!(report["keys"][0]["records"], records, "{report}");
    assert_eq!(report["keys"][0]["windows"], windows, "{report}");
    let svg = chart(brokers, &t.aggregates, now);
    assert!(svg.starts_with("<svg"), "{svg}");
}

/// Another application's transactions on our topics (a mirror, a Kafka
/// Connect or Flink job with exactly-once delivery): a log that ends with a
/// commit marker made every publish exit 4 after --kafka-timeout, consume
/// print nothing and exit 4, status and chart exit 4.
#[test]
fn transaction_markers_and_aborted_transactions_stop_no_reader() {
    let Some(brokers) = test_broker() else {
        return;
    };
    let (stub, t) = first_publish(&brokers, "read-txn");
    let other = Forger::transactional(&brokers);
    let foreign = |minute: i64| {
        for topic in [&t.records, &t.aggregates] {
            let ts = utc(&at(minute)).timestamp_millis();
            other.send(topic, b"mirror", b"{}", None, Some(ts));
        }
    };
    // A committed transaction: the logs end with a commit marker.
    other.begin();
    foreign(0);
    other.commit();
    every_reader(&brokers, &t, NOW, 5, 1);
    publish(&brokers, &stub, &t, &at(1), 1);
    every_reader(&brokers, &t, &at(1), 6, 2);
    // An aborted one at the end: its messages and its marker are never read.
    other.begin();
    foreign(1);
    other.abort();
    every_reader(&brokers, &t, &at(1), 6, 2);
    publish(&brokers, &stub, &t, &at(2), 1);
    // Now the aborted transaction is in the middle of the logs.
    every_reader(&brokers, &t, &at(2), 7, 3);
    // A message of ours inside a committed transaction is read as any other:
    // it is the latest of its key, with another value than the API's, so
    // the API's value is published again (a correction).
    other.begin();
    let key = "2026-11-28T12:02:00Z";
    let value = json!({"Minutes1UTC": key, "Minutes1DK": "2026-11-28T13:02:00"});
    other.send(
        &t.records,
        key.as_bytes(),
        value.to_string().as_bytes(),
        Some("PowerSystemRightNow"),
        None,
    );
    other.commit();
    stub.set_now(utc(&at(3)));
    let (_, err) = ok(Args::new("publish")
        .flag("--api-url", &stub.url)
        .flag("--now", &at(3))
        .brokers(&brokers)
        .flag("--records-topic", &t.records)
        .flag("--aggregates-topic", &t.aggregates));
    assert_says(
        &err,
        &[
            "published 1 record and 1 aggregate",
            "records: published 0 late (a hole filled) and 1 correction(s)",
        ],
    );
}

/// Records deleted before an offset (DeleteRecords), and all of them.
#[test]
fn deleted_records_stop_no_reader() {
    let Some(brokers) = test_broker() else {
        return;
    };
    let (stub, t) = first_publish(&brokers, "read-deleted");
    publish(&brokers, &stub, &t, &at(1), 1);
    forge::delete_records(&brokers, &t.records, Offset::Offset(4));
    forge::delete_records(&brokers, &t.aggregates, Offset::Offset(1));
    assert_eq!(forge::watermarks(&brokers, &t.records), (4, 6));
    every_reader(&brokers, &t, &at(1), 2, 1);
    publish(&brokers, &stub, &t, &at(2), 1);
    every_reader(&brokers, &t, &at(2), 3, 2);
    // Everything deleted: an empty tail.
    forge::delete_records(&brokers, &t.aggregates, Offset::End);
    let none = consume(&brokers, &t.aggregates, &["--from-beginning"]);
    assert!(rows(&none).is_empty(), "{none}");
    let last = consume(&brokers, &t.aggregates, &["--last", "3"]);
    assert!(rows(&last).is_empty(), "{last}");
}

/// A compacted topic: offsets the cleaner removed hold no message, the
/// cursor read, consume, status and chart read past them. A cluster of the
/// test's own, with the log cleaner on and quick.
#[test]
fn compacted_topics_with_holes_stop_no_reader() {
    if test_broker().is_none() {
        return;
    }
    let cluster = Cluster::start(&support::kafka::Spec {
        nodes: 1,
        config: "log.cleaner.enable=true\nlog.cleaner.backoff.ms=100\n",
        ..Default::default()
    });
    let brokers = cluster.plaintext().to_string();
    let t = Topics::new("read-compacted");
    let compacted = [
        ("cleanup.policy", "compact"),
        ("segment.ms", "100"),
        ("min.cleanable.dirty.ratio", "0.001"),
        ("delete.retention.ms", "0"),
        ("min.compaction.lag.ms", "0"),
    ];
    for topic in [&t.records, &t.aggregates] {
        forge::create_topic(&brokers, topic, &compacted);
    }
    let stub = stub_at(NOW);
    let other = Forger::new(&brokers);
    let churn = |n: usize| {
        for _ in 0..n {
            for topic in [&t.records, &t.aggregates] {
                other.send(topic, b"churn", b"{}", None, None);
            }
            std::thread::sleep(Duration::from_millis(120));
        }
    };
    churn(5);
    publish(&brokers, &stub, &t, NOW, 5);
    churn(5);
    publish(&brokers, &stub, &t, &at(1), 1);
    churn(5);
    // Wait until the cleaner removed the older "churn" messages: fewer
    // messages than offsets.
    let deadline = Instant::now() + Duration::from_secs(90);
    loop {
        let (low, high) = forge::watermarks(&brokers, &t.records);
        let read = support::kafka::read_all(&brokers, &t.records).len() as i64;
        if read < high - low && read >= 6 {
            break;
        }
        assert!(Instant::now() < deadline, "no compaction within 90 s");
        churn(1);
    }
    every_reader(&brokers, &t, &at(1), 6, 2);
    publish(&brokers, &stub, &t, &at(2), 1);
    every_reader(&brokers, &t, &at(2), 7, 3);
}
