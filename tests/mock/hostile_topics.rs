//! Hostile input (see cli/hostile.rs) on librdkafka's mock cluster: topics
//! nobody asked for, missing topics named and never created.

use std::time::{Duration, Instant};

use crate::support;
use support::args::Args;
use support::hostile::{huge_values, server, with_closed_stdout};
use support::mock::{brokers, empty};
use support::stub::StubApi;
use support::{consume_of, eds, outcome, stub_at, NOW};

use rdkafka::mocking::MockCluster;
use rdkafka::ClientConfig;

/// Whether `topic` exists, asked without allowing auto-creation.
fn exists(brokers: &str, topic: &str) -> bool {
    support::kafka::topic_exists(brokers, topic, Duration::from_secs(5))
}

fn publish(stub: &StubApi, brokers: &str, extra: &[&str]) -> (i32, String, String) {
    Args::publish(&stub.url, NOW)
        .brokers(brokers)
        .flag("--kafka-timeout", "5s")
        .extra(extra)
        .run()
}

/// librdkafka's mock cluster creates any topic a metadata request allows
/// it to, as a broker with `auto.create.topics.enable=true` does.
#[test]
fn a_missing_topic_is_named_and_not_created() {
    let (_mock, brokers) = empty();
    let stub = stub_at(NOW);
    let topics = [
        "--records-topic",
        "fresh.records",
        "--aggregates-topic",
        "fresh.aggs",
    ];
    let (code, _, err) = publish(&stub, &brokers, &topics);
    assert_eq!(code, 4, "{err}");
    assert!(err.contains("topic fresh.records does not exist"), "{err}");
    assert!(
        err.contains("create it with 1 partition or pass --create-topics"),
        "{err}"
    );
    // Even a user's -X asking for it does not make this program create topics.
    let (code, _, err) = publish(
        &stub,
        &brokers,
        &[&topics[..], &["-X", "allow.auto.create.topics=true"]].concat(),
    );
    assert_eq!(code, 4, "{err}");
    assert!(stub.requests().is_empty(), "no API request is spent");
    for topic in ["fresh.records", "fresh.aggs"] {
        assert!(!exists(&brokers, topic), "{topic} was created");
    }
}

#[test]
fn consume_of_a_missing_topic_says_so_and_creates_nothing() {
    let (_mock, brokers) = empty();
    for start in [
        &["--last", "1"][..],
        &["--from-beginning"][..],
        &["--group", "g1"][..],
    ] {
        let started = Instant::now();
        let (code, _, err) = outcome(
            consume_of(&brokers, "nobody.wrote.this")
                .args(["--kafka-timeout", "5s", "--idle-timeout", "1s"])
                .args(start),
        );
        assert_eq!(code, 4, "{start:?}: {err}");
        assert!(
            err.contains("topic nobody.wrote.this does not exist"),
            "{start:?}: {err}"
        );
        assert!(started.elapsed() < Duration::from_secs(5), "{start:?}");
    }
    assert!(!exists(&brokers, "nobody.wrote.this"));
}

#[test]
fn a_topic_with_more_partitions_is_written_on_one_with_a_warning() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("eds.PowerSystemRightNow.records", 3, 1)
        .unwrap();
    mock.create_topic("eds.PowerSystemRightNow.aggregates", 1, 1)
        .unwrap();
    let brokers = mock.bootstrap_servers();
    let stub = stub_at(NOW);
    let (code, _, err) = publish(&stub, &brokers, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("eds.PowerSystemRightNow.records has 3 partitions; only partition 0"),
        "{err}"
    );
    assert!(!err.contains("aggregates has"), "{err}");
}

/// The aggregate's JSON has the same finite mean as the CSV.
#[test]
fn the_mean_of_huge_values_is_the_same_number_in_kafka() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("eds.PowerSystemRightNow.aggregates", 1, 1)
        .unwrap();
    let brokers = mock.bootstrap_servers();
    let url = server(huge_values);
    let (code, _, err) = Args::publish(&url, NOW)
        .brokers(&brokers)
        .flag("--records-topic", "")
        .flag("--fields", "CO2Emission")
        .run();
    assert_eq!(code, 0, "{err}");
    let (code, out, err) = outcome(eds().args([
        "consume",
        "--brokers",
        &brokers,
        "--format",
        "json",
        "--idle-timeout",
        "1s",
    ]));
    assert_eq!(code, 0, "{err}");
    let value: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
    assert_eq!(
        value["fields"]["CO2Emission"]["mean"].as_f64(),
        Some(1.7e308),
        "{out}"
    );
    let (code, csv, err) =
        outcome(eds().args(["consume", "--brokers", &brokers, "--idle-timeout", "1s"]));
    assert_eq!(code, 0, "{err}");
    let mean = csv
        .lines()
        .nth(1)
        .unwrap()
        .split(',')
        .nth(4)
        .unwrap()
        .to_string();
    assert_eq!(mean.parse::<f64>().unwrap(), 1.7e308, "{csv}");
}

#[test]
fn illegal_topic_names_are_usage_errors() {
    let long = "x".repeat(250);
    for (flag, name) in [
        ("--records-topic", "a b"),
        ("--aggregates-topic", ".."),
        ("--records-topic", long.as_str()),
    ] {
        let (code, _, err) =
            outcome(eds().args(["publish", "--brokers", "127.0.0.1:1", flag, name]));
        assert_eq!(code, 2, "{flag} {name}: {err}");
        assert!(
            err.contains(flag) && err.contains("249 characters"),
            "{err}"
        );
    }
    let (code, _, err) = outcome(eds().args([
        "consume",
        "--brokers",
        "127.0.0.1:1",
        "--topic",
        "no/slashes",
    ]));
    assert_eq!(code, 2, "{err}");
}

/// A message with our header (`ours`) or another producer's.
fn produce(brokers: &str, topic: &str, payload: &str, ours: bool) {
    use rdkafka::message::{Header, OwnedHeaders};
    use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
    let producer: BaseProducer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .create()
        .unwrap();
    let headers = OwnedHeaders::new().insert(Header {
        key: if ours { "eds-dataset" } else { "other" },
        value: Some("PowerSystemRightNow"),
    });
    producer
        .send(
            BaseRecord::to(topic)
                .key("k")
                .payload(payload)
                .headers(headers),
        )
        .unwrap();
    producer.flush(Duration::from_secs(5)).unwrap();
}

/// Messages of ours that look like aggregates but are not are skipped with
/// a warning, another producer's messages are skipped too; a closed stdout
/// ends consume with exit 0.
#[test]
fn consume_skips_bogus_aggregates_and_takes_a_closed_stdout() {
    let (_mock, brokers) = brokers();
    let stub = stub_at(NOW);
    let (code, _, err) = publish(&stub, &brokers, &[]);
    assert_eq!(code, 0, "{err}");
    let topic = "eds.PowerSystemRightNow.aggregates";
    produce(
        &brokers,
        topic,
        r#"{"window_start":"never","fields":{"A":{"median":1}}}"#,
        true,
    );
    produce(
        &brokers,
        topic,
        r#"{"window_start":"x","fields":{}}"#,
        false,
    );
    let (code, out, err) =
        outcome(eds().args(["consume", "--brokers", &brokers, "--idle-timeout", "1s"]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out.lines().count(),
        2,
        "header and the one good aggregate: {out}"
    );
    assert!(err.contains("not an aggregate"), "{err}");
    assert!(
        err.contains(
            "1 message(s) in eds.PowerSystemRightNow.aggregates without the eds-dataset header"
        ),
        "{err}"
    );
    for format in ["csv", "json"] {
        let (code, err) = with_closed_stdout(&[
            "consume",
            "--brokers",
            &brokers,
            "--idle-timeout",
            "1s",
            "--format",
            format,
        ]);
        assert_eq!(code, 0, "{format}: {err}");
        assert!(!err.contains("error"), "{format}: {err}");
    }
}
