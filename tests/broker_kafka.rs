//! The broker suite: the real binary against Apache Kafka (one KRaft node
//! that scripts/test starts, EDS_TEST_BROKER). The broker would auto-create
//! topics (its default); every test creates its topics with --create-topics.

mod support;

use support::broker::{consume, stub_at, test_broker, Topics};
use support::kafka::Cluster;
use support::{dry_run, eds, outcome, unique_topic};

const NOW: &str = "2026-11-28T12:00:30Z";

fn topics() -> Topics {
    Topics::new("t")
}

#[test]
fn publish_then_consume_equals_dry_run() {
    let Some(brokers) = test_broker() else {
        return;
    };
    let stub = stub_at(NOW);
    let t = topics();
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
    let stub = stub_at(NOW);
    let t = topics();
    let (code, _, err) = t.publish(&stub, &brokers, NOW, &["-X", "security.protocol=bogus"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("security.protocol"), "{err}");

    let dir = std::env::temp_dir().join(unique_topic("eds-kafka-config"));
    std::fs::write(&dir, "# client.properties\nsecurity.protocol=bogus\n").unwrap();
    let file = dir.to_str().unwrap();
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
    std::fs::write(&dir, format!("bootstrap.servers={brokers}\n")).unwrap();
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
    std::fs::remove_file(&dir).unwrap();
    assert_eq!(code, 0, "{err}");
}

#[test]
fn stopped_broker_exits_4() {
    if test_broker().is_none() {
        return;
    }
    let broker = Cluster::single();
    let address = broker.plaintext().to_string();
    let stub = stub_at(NOW);
    let t = topics();
    let (code, _, err) = t.publish(&stub, &address, NOW, &[]);
    assert_eq!(code, 0, "{err}");
    drop(broker);
    let (code, out, err) = t.publish(&stub, &address, NOW, &["--kafka-timeout", "3s"]);
    assert_eq!((code, out.as_str()), (4, ""), "{err}");
    assert!(err.contains(&address), "{err}");
}
