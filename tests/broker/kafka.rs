//! The broker suite: the real binary against Apache Kafka (one KRaft node
//! that scripts/test starts, EDS_TEST_BROKER). The broker would auto-create
//! topics (its default); every test creates its topics with --create-topics.

use crate::support;

use support::args::Args;
use support::broker::{consume, test_broker, Topics};
use support::kafka::Cluster;
use support::{dry_run, eds, outcome, stub_at, temp_dir, NOW};

fn topics() -> Topics {
    Topics::new("t")
}

#[test]
fn publish_then_consume_equals_dry_run() {
    let Some(brokers) = test_broker() else {
        return;
    };
    let (stub, t) = (stub_at(NOW), topics());
    let (code, out, err) = t.publish(&stub, &brokers, NOW, &[]);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    let (_, dry, _) = dry_run(&stub, NOW, &[]);
    let (_, dry_records, _) = dry_run(&stub, NOW, &["--records"]);
    assert_eq!(consume(&brokers, &t.aggregates, &[]), dry);
    let records = consume(&brokers, &t.records, &["--from-beginning"]);
    assert_eq!(records, dry_records);
    let minutes: Vec<&str> = records.lines().skip(1).map(|l| &l[11..16]).collect();
    assert_eq!(minutes, ["11:55", "11:56", "11:57", "11:58", "11:59"]);
    // Keys, as the JSON format shows the values only: read the keys' order through the values.
    let json = consume(
        &brokers,
        &t.records,
        &["--from-beginning", "--format", "json"],
    );
    assert_eq!(json.lines().count(), 5);
    assert!(
        json.lines()
            .next()
            .unwrap()
            .contains("\"Minutes1UTC\":\"2026-11-28T11:55:00Z\""),
        "{json}"
    );
    // --last 2 prints the last two at once (it does not wait for the idle timeout).
    let started = std::time::Instant::now();
    let last = consume(
        &brokers,
        &t.records,
        &["--last", "2", "--idle-timeout", "20s"],
    );
    assert!(started.elapsed() < std::time::Duration::from_secs(10));
    let minutes: Vec<&str> = last.lines().skip(1).map(|l| &l[11..16]).collect();
    assert_eq!(minutes, ["11:58", "11:59"]);
}

#[test]
fn x_and_kafka_config_reach_librdkafka() {
    let Some(brokers) = test_broker() else {
        return;
    };
    let (stub, t) = (stub_at(NOW), topics());
    let (code, _, err) = t.publish(&stub, &brokers, NOW, &["-X", "security.protocol=bogus"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("security.protocol"), "{err}");

    let dir = temp_dir();
    let path = dir.path().join("client.properties");
    std::fs::write(&path, "# client.properties\nsecurity.protocol=bogus\n").unwrap();
    let file = path.to_str().unwrap();
    let (code, _, err) = t.publish(&stub, &brokers, NOW, &["--kafka-config", file]);
    assert_eq!(code, 2, "a bad value in the file is refused: {err}");
    let (code, _, err) = t.publish(
        &stub,
        &brokers,
        NOW,
        &["--kafka-config", file, "-X", "security.protocol=plaintext"],
    );
    assert_eq!(code, 0, "-X wins over the file: {err}");

    // Brokers from the file alone.
    std::fs::write(&path, format!("bootstrap.servers={brokers}\n")).unwrap();
    let mut cmd = eds();
    cmd.args([
        "publish",
        "--api-url",
        &stub.url,
        "--now",
        NOW,
        "--kafka-config",
        file,
        "--create-topics",
    ])
    .args([
        "--records-topic",
        &t.records,
        "--aggregates-topic",
        &t.aggregates,
    ]);
    let (code, _, err) = outcome(&mut cmd);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn stopped_broker_exits_4() {
    if test_broker().is_none() {
        return;
    }
    let broker = Cluster::single();
    let address = broker.plaintext().to_string();
    let (stub, t) = (stub_at(NOW), topics());
    let (code, _, err) = t.publish(&stub, &address, NOW, &[]);
    assert_eq!(code, 0, "{err}");
    drop(broker);
    let (code, out, err) = t.publish(&stub, &address, NOW, &["--kafka-timeout", "3s"]);
    assert_eq!((code, out.as_str()), (4, ""), "{err}");
    assert!(err.contains(&address), "{err}");
}

/// `--create-topics` with one topic there and the other missing: only the
/// missing one is created (both are asked for in one request otherwise),
/// and both are written.
#[test]
fn create_topics_makes_only_the_missing_one() {
    let Some(brokers) = test_broker() else {
        return;
    };
    let (stub, t) = (stub_at(NOW), topics());
    let created = |topic: &str| format!("created topic {topic} ");
    let (code, _, err) = Args::publish(&stub.url, NOW)
        .brokers(&brokers)
        .extra(&["--create-topics", "--aggregates-topic", ""])
        .flag("--records-topic", &t.records)
        .run();
    assert_eq!(code, 0, "{err}");
    assert!(err.contains(&created(&t.records)), "{err}");
    let (code, _, err) = t.publish(&stub, &brokers, NOW, &[]);
    assert_eq!(code, 0, "{err}");
    assert!(!err.contains(&created(&t.records)), "{err}");
    assert!(err.contains(&created(&t.aggregates)), "{err}");
    assert!(consume(&brokers, &t.aggregates, &[]).lines().count() > 1);
}

/// `--create-topics` with `--replication-factor` and `--topic-config`: the
/// topic gets the config (read back with the admin API); a factor above the
/// cluster's brokers and a config the broker refuses are usage errors (2)
/// that name the flag, and leave no topic behind.
#[test]
fn new_topics_get_replication_and_config_or_a_clear_refusal() {
    use rdkafka::admin::{AdminClient, AdminOptions, ResourceSpecifier};
    use rdkafka::client::DefaultClientContext;
    let Some(brokers) = test_broker() else {
        return;
    };
    let (stub, t) = (stub_at(NOW), topics());
    let (code, _, err) = t.publish(
        &stub,
        &brokers,
        NOW,
        &[
            "--topic-config",
            "retention.ms=123456789",
            "--replication-factor",
            "1",
        ],
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("replication factor 1"), "{err}");
    let admin: AdminClient<DefaultClientContext> = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", &brokers)
        .set("allow.auto.create.topics", "false")
        .create()
        .unwrap();
    let described = futures_executor::block_on(admin.describe_configs(
        [&ResourceSpecifier::Topic(&t.records)],
        &AdminOptions::new(),
    ))
    .unwrap();
    let config = described[0].as_ref().unwrap();
    assert_eq!(
        config.get("retention.ms").and_then(|e| e.value.as_deref()),
        Some("123456789")
    );

    for (extra, flag) in [
        (["--replication-factor", "3"], "--replication-factor"),
        (
            ["--topic-config", "min.insync.replicas=abc"],
            "--topic-config",
        ),
    ] {
        let t = topics();
        let (code, out, err) = t.publish(&stub, &brokers, NOW, &extra);
        assert_eq!((code, out.as_str()), (2, ""), "{extra:?}: {err}");
        assert!(err.contains(flag), "{err}");
        let metadata = admin
            .inner()
            .fetch_metadata(Some(&t.records), std::time::Duration::from_secs(10))
            .unwrap();
        assert!(
            metadata.topics()[0].partitions().is_empty(),
            "no topic left behind: {extra:?}"
        );
    }
}
