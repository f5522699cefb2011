//! `consume` against librdkafka's in-process mock cluster: it stops at the end
//! of the log (not after `--idle-timeout`) and logs what it printed;
//! `--follow` prints new messages as they come until the idle timeout or a
//! signal.

use crate::support;

use std::time::{Duration, Instant};

use support::mock::{brokers, publish_at, RECORDS};
use support::stub::StubApi;
use support::{assert_says, consume_of, dry_run, eds, json_field, outcome, read_stderr, NOW};

fn publish(stub: &StubApi, brokers: &str, extra: &[&str]) -> (i32, String, String) {
    publish_at(stub, brokers, NOW, extra)
}

/// `consume` of the records topic plus `extra`: (code, stdout, stderr, time taken).
fn consume_records(brokers: &str, extra: &[&str]) -> (i32, String, String, Duration) {
    let started = Instant::now();
    let (code, out, err) = outcome(
        consume_of(brokers, RECORDS)
            .args(["--format", "json"])
            .args(extra),
    );
    (code, out, err, started.elapsed())
}

#[test]
fn consume_stops_at_the_end_of_the_log_and_logs_what_it_printed() {
    let (mock, brokers) = brokers();
    let stub = StubApi::start();
    assert_eq!(publish(&stub, &brokers, &[]).0, 0);
    let idle = ["--idle-timeout", "20s"];
    let (code, out, err, took) =
        consume_records(&brokers, &[&["--from-beginning"][..], &idle].concat());
    assert_eq!((code, out.lines().count()), (0, 5), "{err}");
    assert!(
        took < Duration::from_secs(8),
        "took {took:?}: it waited for the idle timeout"
    );
    assert!(err.contains("printed 5 messages"), "{err}");

    let (code, out, err, took) = consume_records(&brokers, &[&["--last", "2"][..], &idle].concat());
    assert_eq!((code, out.lines().count()), (0, 2), "{err}");
    assert!(took < Duration::from_secs(8), "took {took:?}");
    assert!(
        err.contains("printed 2 messages"),
        "logs what it printed: {err}"
    );
    let (code, out, err, _) = consume_records(&brokers, &[&["--last", "1"][..], &idle].concat());
    assert_eq!((code, out.lines().count()), (0, 1), "{err}");
    assert!(err.contains("printed 1 message from"), "singular: {err}");

    mock.create_topic("empty", 1, 1).unwrap();
    let started = Instant::now();
    let (code, out, err) = outcome(consume_of(&brokers, "empty").args(idle));
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    assert!(started.elapsed() < Duration::from_secs(8));
    assert!(err.contains("printed 0 messages"), "{err}");
}

#[test]
fn follow_waits_for_the_idle_timeout() {
    let (_mock, brokers) = brokers();
    let stub = StubApi::start();
    assert_eq!(publish(&stub, &brokers, &["--stats", "max"]).0, 0);
    let (_, dry, _) = dry_run(&stub, NOW, &["--stats", "max"]);
    let started = Instant::now();
    let (code, out, err) = outcome(eds().args([
        "consume",
        "--brokers",
        &brokers,
        "--follow",
        "--idle-timeout",
        "3s",
    ]));
    let took = started.elapsed();
    assert_eq!((code, out.as_str()), (0, dry.as_str()), "{err}");
    assert!(took >= Duration::from_secs(3), "stopped after {took:?}");
    assert!(took < Duration::from_secs(20), "took {took:?}");
}

/// `consume --follow` prints what is there, then each new message as it is
/// published; SIGINT and SIGTERM end it with exit 0 and nothing lost.
#[test]
fn follow_prints_new_messages_until_a_signal() {
    use std::io::{BufRead, BufReader};
    use std::process::{Command, Stdio};
    let (_mock, brokers) = brokers();
    let stub = StubApi::start();
    assert_eq!(publish(&stub, &brokers, &[]).0, 0);
    let minute = |line: &str| json_field(line, "Minutes1UTC").remove(0);
    for (signal, now, new_row) in [
        ("INT", "2026-11-28T12:01:30Z", "2026-11-28T12:00:00Z"),
        ("TERM", "2026-11-28T12:02:30Z", "2026-11-28T12:01:00Z"),
    ] {
        let mut child = Command::new(assert_cmd::cargo::cargo_bin("eds-kafka"))
            .args(["consume", "--brokers", &brokers, "--topic", RECORDS])
            .args(["--format", "json", "--last", "1", "--follow"])
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        let (tx, lines) = std::sync::mpsc::channel();
        let stdout = BufReader::new(child.stdout.take().unwrap());
        std::thread::spawn(move || stdout.lines().for_each(|l| tx.send(l.unwrap()).unwrap()));
        let next = || lines.recv_timeout(Duration::from_secs(20)).expect("a line");
        let first = minute(&next());
        assert!(first.as_str() < new_row, "the last record so far: {first}");
        assert_eq!(publish_at(&stub, &brokers, now, &[]).0, 0);
        assert_eq!(minute(&next()), new_row, "printed as it arrived");
        let kill = Command::new("kill")
            .args([format!("-{signal}"), child.id().to_string()])
            .status()
            .unwrap();
        assert!(kill.success());
        let status = child.wait().unwrap();
        let err = read_stderr(&mut child);
        assert_eq!(status.code(), Some(0), "SIG{signal}: {err}");
        assert!(err.contains("printed 2 messages"), "{err}");
        assert!(
            lines.recv_timeout(Duration::from_secs(5)).is_err(),
            "nothing more"
        );
    }
}

/// Without `--follow`, consume reads to the end of the log: an
/// `--idle-timeout` shorter than the brokers' pauses ends it with exit 4,
/// never with exit 0 and part of the log (it printed 124,940 of 260,000).
#[test]
fn an_idle_timeout_before_the_end_is_an_error_not_a_short_success() {
    let (mock, brokers) = brokers();
    let stub = StubApi::start();
    // Six hours of minutes: 360 records.
    let (code, _, err) = publish(
        &stub,
        &brokers,
        &["--max-lag", "6h", "--window", "6h", "--max-catch-up", "6h"],
    );
    assert_eq!(code, 0, "{err}");
    // Each fetch now takes 100 ms: a 50 ms idle timeout passes mid-log.
    mock.broker_round_trip_time(-1, Duration::from_millis(100))
        .unwrap();
    let mut stopped = 0;
    for _ in 0..3 {
        let (code, out, err, _) = consume_records(
            &brokers,
            &[
                "--from-beginning",
                "--idle-timeout",
                "50ms",
                "--kafka-timeout",
                "10s",
            ],
        );
        let printed = out.lines().count();
        match code {
            0 => assert_eq!(printed, 360, "exit 0 with part of the log: {err}"),
            4 => {
                assert_says(&err, &["before the end of the log", "--idle-timeout 50ms"]);
                stopped += 1;
            }
            _ => panic!("exit {code}: {err}"),
        }
    }
    assert!(stopped > 0, "the round trips did not stall the read");
}
