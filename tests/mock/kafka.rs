//! `publish` to Kafka and `consume` back, against librdkafka's in-process mock
//! cluster (fast; no broker to install). The real-broker suite is tests/broker/ (Apache Kafka).

use crate::support;

use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Headers;
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};
use serde_json::Value;
use support::args::Args;
use support::mock::{brokers, empty, publish_at, AGGREGATES, RECORDS};
use support::stub::StubApi;
use support::{
    assert_says, consume_of, dry_run, eds, json_field, outcome, stub_at, utc, words, NOW,
};

struct Read {
    key: String,
    value: Value,
    timestamp: i64,
    dataset_header: String,
}

/// Every message of partition 0 of `topic`: read up to the high watermark
/// (exact on the mock cluster), no wait for silence.
fn read_all(brokers: &str, topic: &str) -> Vec<Read> {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "test")
        .create()
        .unwrap();
    let timeout = Duration::from_secs(10);
    let (low, high) = consumer.fetch_watermarks(topic, 0, timeout).unwrap();
    let mut list = TopicPartitionList::new();
    list.add_partition_offset(topic, 0, Offset::Offset(low))
        .unwrap();
    consumer.assign(&list).unwrap();
    let mut out = Vec::new();
    let deadline = Instant::now() + timeout;
    while (out.len() as i64) < high - low {
        assert!(
            Instant::now() < deadline,
            "{topic}: offsets {low}..{high} did not all arrive"
        );
        let Some(m) = consumer.poll(Duration::from_millis(50)) else {
            continue;
        };
        let m = m.unwrap();
        let header = m
            .headers()
            .and_then(|h| h.iter().find(|h| h.key == "eds-dataset"))
            .and_then(|h| h.value);
        let value: Value = serde_json::from_slice(m.payload().unwrap()).unwrap();
        // Every message of ours meets its schema (forged test messages are `{}`).
        if let (Some(dataset), false) = (header, value == serde_json::json!({})) {
            support::schema::assert_valid_message(std::str::from_utf8(dataset).unwrap(), &value);
        }
        out.push(Read {
            key: String::from_utf8(m.key().unwrap().to_vec()).unwrap(),
            value,
            timestamp: m.timestamp().to_millis().unwrap(),
            dataset_header: String::from_utf8(header.unwrap_or_default().to_vec()).unwrap(),
        });
    }
    out
}

fn publish(stub: &StubApi, brokers: &str, extra: &[&str]) -> (i32, String, String) {
    publish_at(stub, brokers, NOW, extra)
}

#[test]
fn publish_writes_the_message_contract() {
    let (_mock, brokers) = brokers();
    let stub = stub_at(NOW);
    let (code, out, err) = publish(&stub, &brokers, &[]);
    assert_eq!((code, out.as_str()), (0, ""), "stdout stays empty: {err}");

    let records = read_all(&brokers, RECORDS);
    let keys: Vec<&str> = records.iter().map(|r| r.key.as_str()).collect();
    assert_eq!(
        keys,
        [
            "2026-11-28T11:55:00Z",
            "2026-11-28T11:56:00Z",
            "2026-11-28T11:57:00Z",
            "2026-11-28T11:58:00Z",
            "2026-11-28T11:59:00Z"
        ]
    );
    let first = &records[0];
    assert_eq!(
        first.timestamp,
        utc("2026-11-28T11:55:00Z").timestamp_millis()
    );
    assert_eq!(first.dataset_header, "PowerSystemRightNow");
    assert_eq!(first.value["Minutes1UTC"], "2026-11-28T11:55:00Z");
    assert_eq!(first.value["Minutes1DK"], "2026-11-28T12:55:00");
    let expected = support::stub::psrn_row(utc("2026-11-28T11:55:00Z"));
    assert_eq!(
        first.value["CO2Emission"].as_f64(),
        expected["CO2Emission"].as_f64()
    );
    assert!(
        first
            .value
            .get("mFRR_ActivatedDK1")
            .is_some_and(Value::is_null),
        "nulls are kept"
    );
    assert!(
        first.value.get("Exchange_DK1_DE").is_some(),
        "fields not selected are kept too"
    );

    let aggregates = read_all(&brokers, AGGREGATES);
    assert_eq!(aggregates.len(), 1);
    let agg = &aggregates[0];
    assert_eq!(agg.key, "2026-11-28T12:00:00Z");
    assert_eq!(
        agg.timestamp,
        utc("2026-11-28T12:00:00Z").timestamp_millis()
    );
    assert_eq!(agg.dataset_header, "PowerSystemRightNow");
    assert_eq!(agg.value["dataset"], "PowerSystemRightNow");
    assert_eq!(agg.value["window_start"], "2026-11-28T11:55:00Z");
    assert_eq!(agg.value["window_end"], "2026-11-28T12:00:00Z");
    assert_eq!(agg.value["rows"], 5);
    let co2 = &agg.value["fields"]["CO2Emission"];
    assert_eq!(co2["count"], 5);
    let values: Vec<f64> = records
        .iter()
        .map(|r| r.value["CO2Emission"].as_f64().unwrap())
        .collect();
    assert_eq!(co2["max"].as_f64(), values.iter().cloned().reduce(f64::max));
    assert_eq!(co2["last"].as_f64(), Some(values[4]));
    assert_eq!(agg.value["fields"].as_object().unwrap().len(), 7);
}

#[test]
fn consume_csv_equals_dry_run() {
    let (_mock, brokers) = brokers();
    let stub = stub_at(NOW);
    let (code, _, err) = publish(&stub, &brokers, &["--stats", "max,count,last"]);
    assert_eq!(code, 0, "{err}");
    let (_, dry, _) = dry_run(&stub, NOW, &["--stats", "max,count,last"]);
    let (_, dry_records, _) = dry_run(&stub, NOW, &["--records"]);

    let consume = |extra: &[&str]| {
        let mut cmd = eds();
        cmd.args(["consume", "--brokers", &brokers, "--idle-timeout", "1s"])
            .args(extra);
        outcome(&mut cmd)
    };
    let (code, out, err) = consume(&[]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, dry);
    assert!(out.lines().count() == 2 && out.contains("CO2Emission_max"));
    let (code, out, err) = consume(&["--topic", RECORDS, "--from-beginning"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, dry_records);
    let (_, out, _) = consume(&["--topic", RECORDS, "--last", "2", "--format", "json"]);
    let minutes = json_field(&out, "Minutes1UTC");
    assert_eq!(minutes, ["2026-11-28T11:58:00Z", "2026-11-28T11:59:00Z"]);
    let (_, out, _) = consume(&[
        "--topic",
        RECORDS,
        "--from-beginning",
        "--max-messages",
        "3",
        "--format",
        "json",
    ]);
    assert_eq!(out.lines().count(), 3);
}

#[test]
fn empty_topic_name_publishes_nothing_there() {
    let (_mock, brokers) = brokers();
    let stub = stub_at(NOW);
    let (code, _, err) = publish(&stub, &brokers, &["--records-topic", ""]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(read_all(&brokers, RECORDS).len(), 0);
    assert_eq!(read_all(&brokers, AGGREGATES).len(), 1);
}

#[test]
fn missing_topic_needs_create_topics() {
    let (mock, brokers) = empty();
    let stub = stub_at(NOW);
    let fresh = words("--records-topic fresh.records --aggregates-topic fresh.aggs");
    let no_auto = ["-X", "allow.auto.create.topics=false"];
    let (code, _, err) = publish(&stub, &brokers, &[&fresh[..], &no_auto].concat());
    assert_eq!(code, 4, "{err}");
    assert!(
        err.contains("does not exist") && err.contains("--create-topics / EDS_CREATE_TOPICS=true"),
        "the hint names the flag and its variable: {err}"
    );
    assert!(
        stub.requests().is_empty(),
        "no API request is spent when Kafka is not ready"
    );
    // librdkafka's mock cluster has no CreateTopics, so --create-topics is
    // tested against Apache Kafka (tests/broker/kafka.rs); here the topics are made by hand.
    mock.create_topic("fresh.records", 1, 1).unwrap();
    mock.create_topic("fresh.aggs", 1, 1).unwrap();
    let (code, _, err) = publish(&stub, &brokers, &fresh);
    assert_eq!(code, 0, "{err}");
    assert_eq!(read_all(&brokers, "fresh.records").len(), 5);
}

#[test]
fn broker_down_exits_4_within_the_timeout() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let stub = stub_at(NOW);
    let brokers = format!("127.0.0.1:{port}");
    let started = Instant::now();
    let (code, out, err) = Args::publish(&stub.url, NOW)
        .brokers(&brokers)
        .flag("--kafka-timeout", "2s")
        .run();
    assert_eq!((code, out.as_str()), (4, ""), "{err}");
    assert!(
        started.elapsed() < Duration::from_secs(10),
        "{:?}",
        started.elapsed()
    );
    assert!(
        err.contains(&brokers),
        "the message names the brokers: {err}"
    );
    assert!(stub.requests().is_empty());
}

#[test]
fn bad_librdkafka_property_is_a_usage_error() {
    let stub = stub_at(NOW);
    let (code, _, err) = Args::publish(&stub.url, NOW)
        .brokers("127.0.0.1:1")
        .flag("-X", "security.protocol=carrier-pigeon")
        .run();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("security.protocol"), "{err}");
    let (code, _, err) = outcome(eds().args(["publish", "--now", NOW]));
    assert_eq!(code, 2, "brokers are required without --dry-run: {err}");
}

fn keys(brokers: &str, topic: &str) -> Vec<String> {
    read_all(brokers, topic)
        .into_iter()
        .map(|r| r.key)
        .collect()
}

#[test]
fn runs_continue_from_the_cursor() {
    let (_mock, brokers) = brokers();
    let stub = StubApi::start();
    let run = |now: &str| publish_at(&stub, &brokers, now, &[]);
    let (code, _, err) = run(NOW);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(&format!(
            "published 5 records and 1 aggregate to {brokers} in "
        )),
        "singular and plural: {err}"
    );
    let (code, _, err) = run(NOW);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("nothing new to publish (newest row 2026-11-28T11:59:00Z)")
            && !err.contains("published 0"),
        "the same minute again publishes nothing: {err}"
    );
    assert_eq!(keys(&brokers, RECORDS).len(), 5);
    assert_eq!(keys(&brokers, AGGREGATES).len(), 1);

    // Three minutes later: the three new rows and three sliding windows.
    let (code, _, err) = run("2026-11-28T12:03:10Z");
    assert_eq!(code, 0, "{err}");
    let records = keys(&brokers, RECORDS);
    assert_eq!(records.len(), 8);
    assert_eq!(
        records[5..],
        [
            "2026-11-28T12:00:00Z",
            "2026-11-28T12:01:00Z",
            "2026-11-28T12:02:00Z"
        ]
    );
    let aggregates = read_all(&brokers, AGGREGATES);
    let ends: Vec<&str> = aggregates.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(
        ends,
        [
            "2026-11-28T12:00:00Z",
            "2026-11-28T12:01:00Z",
            "2026-11-28T12:02:00Z",
            "2026-11-28T12:03:00Z"
        ]
    );
    assert_eq!(aggregates[2].value["window_start"], "2026-11-28T11:57:00Z");
    assert_eq!(aggregates[2].value["rows"], 5);
    assert_eq!(stub.requests().len(), 3, "one API request per run");
}

#[test]
fn catch_up_beyond_the_cap_warns_with_the_skipped_range() {
    let (_mock, brokers) = brokers();
    let stub = StubApi::start();
    let run = |now: &str| {
        publish_at(
            &stub,
            &brokers,
            now,
            &["--max-catch-up", "30m", "--max-lag", "2h"],
        )
    };
    assert_eq!(run(NOW).0, 0);
    let (code, _, err) = run("2026-11-28T13:00:30Z");
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(
            "records from 2026-11-28T12:00:00Z to 2026-11-28T12:29:00Z (inclusive) are skipped"
        ) && err.contains("run once with a larger --max-catch-up / EDS_MAX_CATCH_UP"),
        "{err}"
    );
    let records = keys(&brokers, RECORDS);
    assert_eq!(records.len(), 5 + 30);
    assert_eq!(records[5], "2026-11-28T12:30:00Z");
}

#[test]
fn a_second_concurrent_run_with_the_lock_exits_75() {
    let (_mock, brokers) = brokers();
    let stub = stub_at(NOW);
    stub.fault(support::stub::Fault::Slow(Duration::from_secs(2)));
    let dir = support::temp_dir();
    let lock = dir.path().join("eds-kafka.lock");
    let lock = lock.to_str().unwrap().to_string();
    let args = Args::publish(&stub.url, NOW)
        .brokers(&brokers)
        .flag("--lock-file", &lock);
    let mut first = std::process::Command::new(assert_cmd::cargo::cargo_bin("eds-kafka"))
        .args(args.list())
        .stderr(std::process::Stdio::null())
        .spawn()
        .unwrap();
    // The first run holds the lock by the time it asks the API.
    let deadline = Instant::now() + Duration::from_secs(20);
    while stub.requests().is_empty() {
        assert!(
            Instant::now() < deadline,
            "the first run never reached the API"
        );
        std::thread::sleep(Duration::from_millis(10));
    }
    let (code, out, err) = args.run();
    assert_eq!((code, out.as_str()), (75, ""), "{err}");
    assert!(err.contains("another run holds the lock"), "{err}");
    assert_eq!(stub.requests().len(), 1, "the second run fetched nothing");
    assert!(first.wait().unwrap().success());
    assert_eq!(keys(&brokers, RECORDS).len(), 5, "and published nothing");
}

/// Produces one message to partition 0 of `topic`, with or without our header.
fn produce_raw(brokers: &str, topic: &str, key: &str, with_header: bool) {
    use rdkafka::message::{Header, OwnedHeaders};
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    let mut record = BaseRecord::to(topic).partition(0).key(key).payload("{}");
    if with_header {
        record = record.headers(OwnedHeaders::new().insert(Header {
            key: "eds-dataset",
            value: Some("PowerSystemRightNow"),
        }));
    }
    producer.send(record).map_err(|(e, _)| e).unwrap();
    producer.flush(Duration::from_secs(10)).unwrap();
}

#[test]
fn foreign_messages_are_skipped_and_bad_keys_of_ours_are_data_errors() {
    let (_mock, brokers) = brokers();
    let stub = StubApi::start();
    let run = |now: &str| publish_at(&stub, &brokers, now, &[]);
    assert_eq!(run(NOW).0, 0);
    // Someone else's message after ours: not our cursor.
    produce_raw(&brokers, RECORDS, "not-a-time", false);
    let (code, _, err) = run("2026-11-28T12:01:30Z");
    assert_eq!(code, 0, "{err}");
    let records = keys(&brokers, RECORDS);
    assert_eq!(records[5..], ["not-a-time", "2026-11-28T12:00:00Z"]);
    // A message claiming to be ours with a key that is no time: exit 3, naming topic and offset.
    produce_raw(&brokers, RECORDS, "garbage", true);
    let (code, out, err) = run("2026-11-28T12:02:30Z");
    assert_eq!((code, out.as_str()), (3, ""), "{err}");
    assert!(
        err.contains(RECORDS) && err.contains("offset 7") && err.contains("garbage"),
        "{err}"
    );
}

#[test]
fn secrets_appear_in_no_output() {
    const SECRET: &str = "Pa55w0rd-do-not-print";
    let (_mock, brokers) = brokers();
    let stub = stub_at(NOW);
    let dir = support::temp_dir();
    let file = dir.path().join("client.properties");
    std::fs::write(
        &file,
        format!(
            "sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required username='u' password='{SECRET}';\n\
             ssl.key.password={SECRET}\n"
        ),
    )
    .unwrap();
    let file = file.to_str().unwrap().to_string();
    let base = Args::publish(&stub.url, NOW)
        .brokers(&brokers)
        .flag("--kafka-config", &file)
        .extra(&["-vv"]);
    let x_password = format!("sasl.password={SECRET}");
    let x_malformed = format!("sasl.password{SECRET}");
    let cases: Vec<(Vec<&str>, i32)> = vec![
        // Succeeds over plaintext: the SASL settings are unused but logged at -vv.
        (vec!["-X", &x_password], 0),
        // librdkafka refuses the configuration.
        (vec!["-X", &x_password, "-X", "security.protocol=bogus"], 2),
        // SASL against a broker that does not speak it: connection errors.
        (
            vec![
                "-X",
                "security.protocol=sasl_plaintext",
                "-X",
                "sasl.mechanisms=PLAIN",
                "--kafka-timeout",
                "2s",
            ],
            4,
        ),
        // A malformed -X naming a secret.
        (vec!["-X", &x_malformed], 2),
    ];
    for (extra, expected) in cases {
        let (code, out, err) = base.clone().extra(&extra).run();
        assert_eq!(code, expected, "{extra:?}: {err}");
        assert!(
            !out.contains(SECRET) && !err.contains(SECRET),
            "{extra:?} printed the secret:\n{err}"
        );
        if expected == 0 {
            assert!(
                err.contains("[redacted]"),
                "the -vv settings line shows that a secret was set: {err}"
            );
        }
    }
}

#[test]
fn consume_with_a_group_commits_what_it_read() {
    let (_mock, brokers) = brokers();
    let stub = StubApi::start();
    assert_eq!(publish(&stub, &brokers, &[]).0, 0);
    let consume = || {
        outcome(
            consume_of(&brokers, RECORDS)
                .args(["--group", "readers", "-X", "session.timeout.ms=6000"])
                .args(["--kafka-timeout", "20s"])
                .args(["--format", "json", "--idle-timeout", "3s"]),
        )
    };
    let (code, out, err) = consume();
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines().count(),
        5,
        "a new group starts at the earliest offset: {err}"
    );
    let (code, out, err) = consume();
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 0, "the first read was committed");
    assert_eq!(
        publish_at(&stub, &brokers, "2026-11-28T12:01:30Z", &[]).0,
        0
    );
    let (_, out, err) = consume();
    assert_eq!(out.lines().count(), 1, "only the new record: {err}");
}

/// A message over the producer's `message.max.bytes` is refused the same way
/// on every run: a data error (exit 3) that names the cause and what to
/// change, not a Kafka error that the next run would "retry" forever.
#[test]
fn a_message_larger_than_kafka_takes_is_a_data_error() {
    let (_mock, brokers) = brokers();
    let stub = StubApi::start();
    let big = [
        "-X",
        "message.max.bytes=1000",
        "--fields",
        "all",
        "--stats",
        "count,mean,min,max,last",
    ];
    for _ in 0..2 {
        let (code, out, err) = publish(&stub, &brokers, &big);
        assert_eq!((code, out.as_str()), (3, ""), "{err}");
        assert_says(
            &err,
            &[
                "producing to eds.PowerSystemRightNow.aggregates",
                "bytes, more than Kafka takes",
                "--window / EDS_WINDOW",
                "message.max.bytes",
            ],
        );
    }
    // The window's five records went out once; with the default limit the
    // aggregate follows.
    let (code, _, err) = publish(&stub, &brokers, &["--fields", "all"]);
    assert_eq!(code, 0, "{err}");
    assert_eq!(read_all(&brokers, RECORDS).len(), 5);
    assert_eq!(read_all(&brokers, AGGREGATES).len(), 1);
}
