//! The keyed exactly-once scenario, run against any broker (librdkafka's
//! mock cluster, Apache Kafka): cron runs five minutes apart on Forecasts_5Min while
//! some rows arrive a run late and a key combination appears midway; then
//! every (time, key) record and every (window end, key) aggregate must be in
//! the topics exactly once, per key in time order, with the right values.

#![allow(dead_code)]

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use serde_json::Value;

use super::keyed::{self, Shape};
use super::stub::StubApi;
use super::{eds, outcome, utc};

/// One message: its key and value.
pub struct Read {
    pub key: String,
    pub value: Value,
}

/// Every message of partition 0 of `topic`, read until 1.5 s pass without one.
pub fn read_all(brokers: &str, topic: &str) -> Vec<Read> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "keyed-test")
        .create()
        .unwrap();
    let mut list = TopicPartitionList::new();
    list.add_partition_offset(topic, 0, Offset::Beginning)
        .unwrap();
    consumer.assign(&list).unwrap();
    let mut out = Vec::new();
    let mut idle = Instant::now();
    while idle.elapsed() < Duration::from_millis(1500) {
        if let Some(m) = consumer.poll(Duration::from_millis(50)) {
            let m = m.unwrap();
            idle = Instant::now();
            out.push(Read {
                key: String::from_utf8(m.key().unwrap().to_vec()).unwrap(),
                value: serde_json::from_slice(m.payload().unwrap()).unwrap(),
            });
        }
    }
    out
}

/// A stub API serving the rows of `shape` from `from` to `to` that `keep`
/// keeps (by time and key index).
pub fn stub_serving(
    shape: &Shape,
    from: &str,
    to: &str,
    keep: impl Fn(DateTime<Utc>, usize) -> bool,
) -> StubApi {
    let stub = StubApi::start();
    let rows = keyed::rows(shape, utc(from), utc(to))
        .into_iter()
        .filter(|(t, k)| keep(*t, *k))
        .map(|(t, k)| keyed::row(shape, t, k))
        .collect();
    stub.serve_sorted_rows(rows);
    stub
}

/// Row (time, key index) is late: it reaches the API a run (ten minutes) after its time.
const LATE: [(&str, usize); 2] = [("2026-11-28T11:20:00Z", 0), ("2026-11-28T11:40:00Z", 3)];
/// Key combination 5 (DK2, Solar) has rows only from this time on.
const NEW_KEY_FROM: &str = "2026-11-28T11:30:00Z";

/// The rows the API has at `now`.
fn visible(shape: &Shape, now: DateTime<Utc>) -> Vec<Value> {
    keyed::rows(
        shape,
        utc("2026-11-28T10:45:00Z"),
        utc("2026-11-28T12:15:00Z"),
    )
    .into_iter()
    .filter(|(t, _)| *t <= now)
    .filter(|(t, k)| *k != 5 || *t >= utc(NEW_KEY_FROM))
    .filter(|(t, k)| {
        !LATE.iter().any(|(lt, lk)| utc(lt) == *t && lk == k) || *t + TimeDelta::minutes(10) <= now
    })
    .map(|(t, k)| keyed::row(shape, t, k))
    .collect()
}

/// Runs `publish` every five minutes from 11:00:30 to 12:00:30 (13 runs)
/// into `records` and `aggregates` on `brokers`, then checks both topics.
pub fn run_and_check(brokers: &str, records: &str, aggregates: &str, create: bool) {
    let shape = keyed::forecasts();
    let stub = StubApi::start();
    let first = utc("2026-11-28T11:00:30Z");
    for i in 0..13 {
        let now = first + TimeDelta::minutes(5 * i);
        stub.serve_sorted_rows(visible(&shape, now));
        let mut cmd = eds();
        cmd.args(["publish", "--api-url", &stub.url, "--now", &keyed::z(now)])
            .args([
                "--brokers",
                brokers,
                "--dataset",
                "Forecasts_5Min",
                "--window",
                "15m",
            ])
            .args(["--records-topic", records, "--aggregates-topic", aggregates]);
        if create {
            cmd.arg("--create-topics");
        }
        let (code, _, err) = outcome(&mut cmd);
        assert_eq!(code, 0, "run at {now}: {err}");
    }
    let expected = Expected {
        data_from: utc("2026-11-28T10:45:00Z"),
        new_key_from: utc(NEW_KEY_FROM),
        limit: utc("2026-11-28T12:00:00Z"),
        first_end: utc("2026-11-28T11:00:00Z"),
    };
    check(&shape, brokers, records, aggregates, &expected);
}

/// What the topics must hold in the end.
pub struct Expected {
    /// The first row time of the data.
    pub data_from: DateTime<Utc>,
    /// Key combination 5 has rows from this time on.
    pub new_key_from: DateTime<Utc>,
    /// Rows before this time are published.
    pub limit: DateTime<Utc>,
    /// The first aggregate of a key seen by the first run ends here.
    pub first_end: DateTime<Utc>,
}

/// Every row before `limit`: (time, key index).
fn expected_rows(shape: &Shape, e: &Expected) -> BTreeSet<(DateTime<Utc>, usize)> {
    keyed::rows(shape, e.data_from, e.limit)
        .into_iter()
        .filter(|(t, k)| *k != 5 || *t >= e.new_key_from)
        .collect()
}

fn key_index(shape: &Shape, values: &[&str]) -> usize {
    shape
        .keys
        .iter()
        .position(|k| k[..] == values[..])
        .unwrap_or_else(|| panic!("unknown key {values:?}"))
}

/// Reads a message key `time/area/type`: (time, key index).
fn parse_key(shape: &Shape, key: &str) -> (DateTime<Utc>, usize) {
    let parts: Vec<&str> = key.split('/').collect();
    assert_eq!(parts.len(), 3, "{key}");
    (utc(parts[0]), key_index(shape, &parts[1..]))
}

/// Checks both topics against every row before `limit`.
pub fn check(shape: &Shape, brokers: &str, records: &str, aggregates: &str, e: &Expected) {
    let rows = expected_rows(shape, e);
    let first_end = e.first_end;
    let got = read_all(brokers, records);
    let keys: Vec<(DateTime<Utc>, usize)> = got.iter().map(|r| parse_key(shape, &r.key)).collect();
    check_once_in_order(&keys, &rows, "records");
    for (r, (t, k)) in got.iter().zip(&keys) {
        super::schema::assert_valid(shape.name, "records", &r.value);
        assert_eq!(r.value["Minutes5UTC"], keyed::z(*t), "{}", r.key);
        assert_eq!(r.value["ForecastType"], shape.keys[*k][1], "{}", r.key);
        let expected = keyed::value(shape, *t, *k, 4).unwrap();
        assert_eq!(
            r.value["ForecastCurrent"].as_f64(),
            Some(expected),
            "{}",
            r.key
        );
    }

    let window = TimeDelta::minutes(15);
    // One aggregate per row, but an empty topic starts at each key's current
    // window: for the keys the first run saw, the one ending at `first_end`.
    let ends: BTreeSet<(DateTime<Utc>, usize)> = rows
        .iter()
        .map(|(t, k)| (*t + shape.resolution, *k))
        .filter(|(end, _)| *end >= first_end)
        .collect();
    let got = read_all(brokers, aggregates);
    let keys: Vec<(DateTime<Utc>, usize)> = got.iter().map(|r| parse_key(shape, &r.key)).collect();
    check_once_in_order(&keys, &ends, "aggregates");
    for (a, (end, k)) in got.iter().zip(&keys) {
        let times: Vec<DateTime<Utc>> = rows
            .iter()
            .filter(|(t, key)| key == k && *t >= *end - window && t < end)
            .map(|(t, _)| *t)
            .collect();
        let v = &a.value;
        super::schema::assert_valid(shape.name, "aggregates", v);
        assert_eq!(v["window_end"], keyed::z(*end), "{}", a.key);
        let missing = v["missing"].as_array().unwrap().len() as u64;
        assert_eq!(v["expected_rows"], 3, "{}", a.key);
        assert_eq!(missing, 3 - times.len() as u64, "{}: {v}", a.key);
        assert_eq!(
            (v["PriceArea"].as_str(), v["ForecastType"].as_str()),
            (Some(shape.keys[*k][0]), Some(shape.keys[*k][1]))
        );
        assert_eq!(
            v["rows"].as_u64(),
            Some(times.len() as u64),
            "{}: {v}",
            a.key
        );
        let values: Vec<Option<f64>> = times
            .iter()
            .map(|t| keyed::value(shape, *t, *k, 4))
            .collect();
        let mean = keyed::stats(&values).1.unwrap();
        let got_mean = v["fields"]["ForecastCurrent"]["mean"].as_f64().unwrap();
        assert!(
            (got_mean - mean).abs() < 1e-9,
            "{}: {got_mean} != {mean}",
            a.key
        );
    }
}

/// Each expected (time, key) exactly once, per key in increasing time.
fn check_once_in_order(
    got: &[(DateTime<Utc>, usize)],
    expected: &BTreeSet<(DateTime<Utc>, usize)>,
    what: &str,
) {
    let set: BTreeSet<(DateTime<Utc>, usize)> = got.iter().copied().collect();
    assert_eq!(got.len(), set.len(), "{what}: duplicates");
    let missing: Vec<_> = expected.difference(&set).collect();
    let extra: Vec<_> = set.difference(expected).collect();
    assert!(
        missing.is_empty() && extra.is_empty(),
        "{what}: missing {missing:?}, extra {extra:?}"
    );
    let mut last: BTreeMap<usize, DateTime<Utc>> = BTreeMap::new();
    for (t, k) in got {
        if let Some(prev) = last.insert(*k, *t) {
            assert!(prev < *t, "{what}: key {k} went from {prev} to {t}");
        }
    }
}

/// Produces one message with our header for `dataset` (a forged cursor).
pub fn produce_ours(brokers: &str, topic: &str, dataset: &str, key: &str) {
    produce_ours_bytes(brokers, topic, dataset, key.as_bytes());
}

/// [`produce_ours`] with any key bytes.
pub fn produce_ours_bytes(brokers: &str, topic: &str, dataset: &str, key: &[u8]) {
    use rdkafka::message::{Header, OwnedHeaders};
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
    use rdkafka::ClientConfig;
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    let headers = OwnedHeaders::new().insert(Header {
        key: "eds-dataset",
        value: Some(dataset),
    });
    let record = BaseRecord::to(topic)
        .partition(0)
        .key(key)
        .payload("{}")
        .headers(headers);
    producer.send(record).map_err(|(e, _)| e).unwrap();
    producer.flush(std::time::Duration::from_secs(10)).unwrap();
}

/// Runs on a 40-key dataset, then a message of ours with an old time at the
/// end of both topics, then one more run: no message may be in a topic twice.
pub fn old_message_at_the_end(brokers: &str, records: &str, aggregates: &str, create: bool) {
    let shape = keyed::synthetic(40);
    let stub = stub_serving(
        &shape,
        "2026-11-28T10:00:00Z",
        "2026-11-28T13:00:00Z",
        |_, _| true,
    );
    let run = |now: &str, create: bool| {
        let mut cmd = eds();
        cmd.args(["publish", "--api-url", &stub.url, "--brokers", brokers])
            .args(["--dataset", "Synthetic", "--time-column", "Minutes5UTC"])
            .args(["--dk-time-column", "Minutes5DK", "--key-columns", "Area"])
            .args(["--resolution", "5m", "--records-topic", records])
            .args(["--aggregates-topic", aggregates, "--now", now]);
        if create {
            cmd.arg("--create-topics");
        }
        let (code, _, err) = outcome(&mut cmd);
        assert_eq!(code, 0, "{err}");
    };
    run("2026-11-28T12:00:30Z", create);
    run("2026-11-28T12:05:30Z", false);
    for topic in [records, aggregates] {
        produce_ours(brokers, topic, "Synthetic", "2026-11-28T06:00:00Z/A0000001");
    }
    run("2026-11-28T12:10:30Z", false);
    for topic in [records, aggregates] {
        let mut keys: Vec<String> = read_all(brokers, topic)
            .into_iter()
            .map(|m| m.key)
            .collect();
        let n = keys.len();
        keys.sort();
        keys.dedup();
        assert_eq!(keys.len(), n, "{topic}: a message twice");
        assert!(
            keys.iter().any(|k| k.starts_with("2026-11-28T12:05:00Z/")),
            "{topic}"
        );
    }
}
