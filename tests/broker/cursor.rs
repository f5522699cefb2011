//! No gaps, no duplicates, against Apache Kafka: an hour of per-minute runs with
//! faults injected between them, and runs killed with SIGKILL mid-publish,
//! must leave every minute in the topics exactly once, in order.

use crate::support;

use std::process::{Command, Stdio};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use support::args::Args;
use support::broker::{test_broker, Topics};
use support::stub::{Fault, StubApi};
use support::{eds, free_port, json_field, minutes, outcome, rfc3339, utc};

fn topics() -> Topics {
    Topics::new("c")
}

fn publish_args(stub: &StubApi, brokers: &str, t: &Topics, now: DateTime<Utc>) -> Vec<String> {
    t.publish_args(stub, brokers, &rfc3339(now))
}

fn consume(brokers: &str, topic: &str, format: &str) -> String {
    support::broker::consume(brokers, topic, &["--from-beginning", "--format", format])
}

/// `Minutes1UTC` of every record, in topic order.
fn record_minutes(brokers: &str, topic: &str) -> Vec<String> {
    json_field(&consume(brokers, topic, "json"), "Minutes1UTC")
}

/// `window_end` of every aggregate, in topic order.
fn aggregate_ends(brokers: &str, topic: &str) -> Vec<String> {
    json_field(&consume(brokers, topic, "json"), "window_end")
}

fn closed_address() -> String {
    format!("127.0.0.1:{}", free_port())
}

#[test]
fn an_hour_of_runs_with_faults_has_no_gaps_and_no_duplicates() {
    let Some(brokers) = test_broker() else {
        return;
    };
    let closed = closed_address();
    let stub = StubApi::start();
    let t = topics();
    let t0 = utc("2026-11-28T12:00:00Z");
    for m in 0..60 {
        let now = t0 + TimeDelta::minutes(m) + TimeDelta::seconds(30);
        stub.set_now(now);
        let mut target = brokers.as_str();
        let expected = match m {
            5 | 6 => {
                stub.fault(Fault::Status(500, "Internal Server Error"));
                75
            }
            10 => {
                stub.fault(Fault::RateLimited { retry_after: 60 });
                75
            }
            15 => {
                stub.fault(Fault::Html);
                3
            }
            20..=22 => {
                target = &closed;
                4
            }
            _ => 0,
        };
        let timeout = if expected == 4 { "2s" } else { "10s" };
        let (code, out, err) = outcome(
            eds()
                .args(publish_args(&stub, target, &t, now))
                .args(["--kafka-timeout", timeout]),
        );
        assert_eq!((code, out.as_str()), (expected, ""), "minute {m}: {err}");
    }

    // Records: the first run's window (11:55..11:59), then every minute up to the last run's 12:58.
    let expected_records = minutes(t0 - TimeDelta::minutes(5), t0 + TimeDelta::minutes(58));
    assert_eq!(record_minutes(&brokers, &t.records), expected_records);

    // Aggregates: one per minute, each equal to a fault-free dry run for its window.
    let mut expected = String::new();
    for m in 0..60 {
        let now = t0 + TimeDelta::minutes(m) + TimeDelta::seconds(30);
        let (code, dry, err) = Args::dry_run(&stub.url, &rfc3339(now)).run();
        assert_eq!(code, 0, "{err}");
        let mut lines = dry.split_inclusive('\n');
        let header = lines.next().unwrap();
        if expected.is_empty() {
            expected.push_str(header);
        }
        expected.push_str(lines.next().unwrap());
    }
    assert_eq!(consume(&brokers, &t.aggregates, "csv"), expected);
    assert_eq!(aggregate_ends(&brokers, &t.aggregates).len(), 60);
}

#[test]
fn a_run_killed_mid_publish_is_completed_by_the_next() {
    let Some(brokers) = test_broker() else {
        return;
    };
    let stub = StubApi::start();
    let t = topics();
    let t0 = utc("2026-11-28T06:00:30Z");
    stub.set_now(t0);
    let (code, _, err) = outcome(eds().args(publish_args(&stub, &brokers, &t, t0)));
    assert_eq!(code, 0, "{err}");

    // Five hours later: a catch-up of 300 records and 300 aggregates, sent one
    // message per request so that a kill lands in the middle of it.
    let later = t0 + TimeDelta::hours(5);
    stub.set_now(later);
    let slow = [
        "-X",
        "batch.num.messages=1",
        "-X",
        "max.in.flight.requests.per.connection=1",
    ];
    let bin = assert_cmd::cargo::cargo_bin("eds-kafka");
    let mut partial = 0;
    for kill_after_ms in [40, 80, 120, 160, 220, 300, 400] {
        let mut child = Command::new(&bin)
            .args(publish_args(&stub, &brokers, &t, later))
            .args(slow)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(kill_after_ms));
        child.kill().unwrap(); // SIGKILL
        child.wait().unwrap();
        let n = record_minutes(&brokers, &t.records).len();
        if n > 5 && n < 305 {
            partial += 1;
        }
    }
    let (code, _, err) = outcome(eds().args(publish_args(&stub, &brokers, &t, later)));
    assert_eq!(code, 0, "{err}");

    let first = utc("2026-11-28T05:55:00Z");
    assert_eq!(
        record_minutes(&brokers, &t.records),
        minutes(first, later - TimeDelta::seconds(90))
    );
    assert_eq!(
        aggregate_ends(&brokers, &t.aggregates),
        minutes(utc("2026-11-28T06:00:00Z"), later - TimeDelta::seconds(30))
    );
    assert!(
        partial > 0,
        "no kill landed mid-publish; the test did not exercise a partial run"
    );
}
