//! Cluster faults on Apache Kafka: three brokers (and a KRaft controller),
//! topics with replication factor 3 and `min.insync.replicas=2`, and brokers
//! killed (SIGKILL) or stopped between and during runs. After every run that
//! exits 0, an independent reader (tests/support/kafka.rs) must find every
//! minute up to that run's window in the records topic and its window in the
//! aggregates topic; at the end, every minute and every window exactly once.
//! A run that saw a fault may fail (non-zero), never exit 0 with less.
//!
//! The tests share one cluster (started once, stopped and removed when the
//! test process exits) and take turns: each begins with every broker up.
//!
//! A test binary of its own (built with `--features broker-tests`, like
//! tests/broker/): no other test shares the machine's cores while brokers
//! are killed and leaders elected, and runs must fail within their
//! `--kafka-timeout`.

#[path = "../support/mod.rs"]
mod support;

use std::ops::Deref;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use support::broker::{test_broker, Topics};
use support::kafka::{read_all, read_field_once, Cluster, Spec};
use support::stub::StubApi;
use support::{eds, minutes, outcome, rfc3339, stub_at, utc, Shared};

const REPLICATED: [&str; 5] = [
    "--replication-factor",
    "3",
    "--topic-config",
    "min.insync.replicas=2",
    "-q",
];

/// The shared cluster during one test's turn.
struct Turn {
    cluster: Arc<Cluster>,
    _turn: MutexGuard<'static, ()>,
}

impl Deref for Turn {
    type Target = Cluster;

    fn deref(&self) -> &Cluster {
        &self.cluster
    }
}

/// The shared cluster, every broker up, for one test at a time (the broker
/// suite's rule first: see [`test_broker`]).
fn cluster() -> Turn {
    test_broker();
    static TURN: Mutex<()> = Mutex::new(());
    static CLUSTER: Shared<Cluster> = Shared::new();
    let turn = TURN.lock().unwrap_or_else(PoisonError::into_inner);
    let cluster = CLUSTER.get(|| {
        Cluster::start(&Spec {
            nodes: 3,
            ..Spec::default()
        })
    });
    cluster.up();
    Turn {
        cluster,
        _turn: turn,
    }
}

/// A PowerSystemRightNow pipeline on fresh topics: the stub, the topics, and
/// what the runs so far must have published.
struct Pipeline<'a> {
    cluster: &'a Cluster,
    stub: StubApi,
    topics: Topics,
    /// The first run's first row.
    first: Option<DateTime<Utc>>,
    /// The newest window end a run has confirmed with exit 0.
    confirmed: Option<DateTime<Utc>>,
    /// `--kafka-timeout` of the runs.
    timeout: &'static str,
}

impl<'a> Pipeline<'a> {
    fn new(cluster: &'a Cluster, prefix: &str) -> Pipeline<'a> {
        Pipeline {
            cluster,
            stub: StubApi::start(),
            topics: Topics::new(prefix),
            first: None,
            confirmed: None,
            timeout: "25s",
        }
    }

    /// A pipeline whose first run, at [`T0`], exited 0: (it, T0).
    fn started(cluster: &'a Cluster, prefix: &str) -> (Pipeline<'a>, DateTime<Utc>) {
        let mut p = Pipeline::new(cluster, prefix);
        let t0 = utc(T0);
        assert_eq!(p.run(t0), 0);
        (p, t0)
    }

    fn args(&self, now: DateTime<Utc>) -> Vec<String> {
        let mut args =
            self.topics
                .publish_args(&self.stub, self.cluster.plaintext(), &rfc3339(now));
        args.extend(REPLICATED.iter().map(|s| s.to_string()));
        args.extend(["--kafka-timeout".to_string(), self.timeout.to_string()]);
        args
    }

    /// A cron run at `now`; checks the topics when it exits 0. Its code.
    fn run(&mut self, now: DateTime<Utc>) -> i32 {
        self.stub.set_now(now);
        let (code, _, err) = outcome(eds().args(self.args(now)));
        self.after(now, code, &err);
        code
    }

    /// A run at `now` in the background (see [`Pipeline::after`]).
    fn spawn(&mut self, now: DateTime<Utc>, extra: &[&str]) -> Child {
        self.stub.set_now(now);
        Command::new(assert_cmd::cargo::cargo_bin("eds-kafka"))
            .args(self.args(now))
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    /// Waits for a spawned run, then (`heal`: the faulted broker back, so
    /// that the reader never waits on a partition that is offline meanwhile)
    /// checks it like [`Pipeline::run`].
    fn wait(&mut self, child: Child, now: DateTime<Utc>, heal: impl FnOnce()) -> i32 {
        let out = child.wait_with_output().unwrap();
        let code = out.status.code().unwrap_or(-1);
        heal();
        self.after(now, code, &String::from_utf8_lossy(&out.stderr));
        code
    }

    /// After a run at `now`: exit 0 means its window and everything before it
    /// is in the topics, once.
    fn after(&mut self, now: DateTime<Utc>, code: i32, err: &str) {
        let end = minute(now);
        eprintln!(
            "{}: run at {} exit {code}",
            self.topics.records,
            rfc3339(now)
        );
        if code != 0 {
            eprintln!("{err}");
        }
        self.first.get_or_insert(end - TimeDelta::minutes(5));
        if code == 0 {
            self.confirmed = Some(end);
            self.check(end);
        } else {
            assert!(code == 4 || code == 75, "exit {code}: {err}");
        }
    }

    /// Records from the first run's window to `end` (exclusive) and
    /// aggregates ending at each minute up to `end`: each exactly once, in
    /// order, and nothing later.
    fn check(&self, end: DateTime<Utc>) {
        let first = self.first.unwrap();
        let brokers = self.cluster.plaintext();
        let times = read_field_once(brokers, &self.topics.records, "Minutes1UTC");
        assert_eq!(
            times,
            minutes(first, end - TimeDelta::minutes(1)),
            "records"
        );
        let ends = read_field_once(brokers, &self.topics.aggregates, "window_end");
        assert_eq!(
            ends,
            minutes(first + TimeDelta::minutes(5), end),
            "aggregates"
        );
    }

    /// The final check: a last run must succeed and leave no gap.
    fn finish(&mut self, now: DateTime<Utc>) {
        let code = self.run(now);
        assert_eq!(code, 0, "the run after the faults succeeds");
        self.check(minute(now));
    }
}

fn minute(t: DateTime<Utc>) -> DateTime<Utc> {
    t - TimeDelta::seconds(t.timestamp().rem_euclid(60))
}

fn at(t0: DateTime<Utc>, minutes: i64) -> DateTime<Utc> {
    t0 + TimeDelta::minutes(minutes)
}

const T0: &str = "2026-11-28T12:00:30Z";

#[test]
fn leader_killed_between_runs_leaves_no_gap_and_no_duplicate() {
    let cluster = cluster();
    let (mut p, t0) = Pipeline::started(&cluster, "kb");
    let mut failed = 0;
    for (m, topic) in
        [(1, &p.topics.records), (5, &p.topics.aggregates)].map(|(m, t)| (m, t.clone()))
    {
        let leader = cluster.leader(&topic);
        cluster.kill(leader);
        for k in m..m + 3 {
            if p.run(at(t0, k)) != 0 {
                failed += 1;
            }
        }
        cluster.restart(leader);
    }
    p.finish(at(t0, 9));
    assert!(
        failed <= 2,
        "runs after a leader loss go on: {failed} failed"
    );
}

#[test]
fn leader_killed_during_a_runs_produce_leaves_no_gap_and_no_duplicate() {
    let cluster = cluster();
    let (mut p, t0) = Pipeline::started(&cluster, "kp");
    // Each run catches up five hours (600 messages), one message per request,
    // and loses the records topic's leader once its first messages landed.
    let slow = [
        "-X",
        "batch.num.messages=1",
        "-X",
        "max.in.flight.requests.per.connection=1",
    ];
    let mut mid = 0;
    for round in 1..=3 {
        let now = at(t0, round * 300);
        let before = read_all(cluster.plaintext(), &p.topics.records).len();
        let leader = cluster.leader(&p.topics.records);
        let child = p.spawn(now, &slow);
        let landed = wait_for_growth(&cluster, &p.topics.records, before);
        cluster.kill(leader);
        let code = p.wait(child, now, || cluster.restart(leader));
        if landed && code == 0 {
            mid += 1;
        }
        if code != 0 {
            assert_eq!(p.run(now), 0, "the next run completes round {round}");
        }
    }
    p.finish(at(t0, 3 * 300 + 1));
    assert!(mid > 0, "no run survived a leader loss mid-produce");
}

fn child_running(child: &Child) -> bool {
    // Signal 0: does the process still exist (it is not reaped before wait)?
    Command::new("kill")
        .args(["-0", &child.id().to_string()])
        .status()
        .is_ok_and(|s| s.success())
        && std::fs::read_to_string(format!("/proc/{}/stat", child.id()))
            .is_ok_and(|stat| !stat.contains(") Z "))
}

/// Waits (at most 20 s) until `topic` holds more than `before` messages.
fn wait_for_growth(cluster: &Cluster, topic: &str, before: usize) -> bool {
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", cluster.plaintext())
        .create()
        .unwrap();
    let deadline = Instant::now() + Duration::from_secs(20);
    while Instant::now() < deadline {
        if let Ok((_, high)) = consumer.fetch_watermarks(topic, 0, Duration::from_secs(5)) {
            if high > before as i64 {
                return true;
            }
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    false
}

#[test]
fn leader_killed_during_a_backfill_leaves_no_gap_and_no_duplicate() {
    let cluster = cluster();
    let stub = stub_at("2026-11-20T00:00:30Z");
    let t = Topics::new("kbf");
    let backfill = |extra: &[&str]| {
        let mut cmd = Command::new(assert_cmd::cargo::cargo_bin("eds-kafka"));
        cmd.args(["backfill", "--api-url", &stub.url, "--brokers"])
            .arg(cluster.plaintext())
            .args([
                "--records-topic",
                &t.records,
                "--aggregates-topic",
                &t.aggregates,
            ])
            .args([
                "--create-topics",
                "--min-request-interval",
                "0s",
                "--chunk",
                "6h",
            ])
            .args(["--from", "2026-11-10", "--to", "2026-11-14"])
            .args(REPLICATED)
            .args(["--kafka-timeout", "25s"])
            // Small batches, one in flight: the backfill lasts long enough
            // for the kill to land in the middle of it.
            .args([
                "-X",
                "batch.num.messages=4",
                "-X",
                "max.in.flight.requests.per.connection=1",
            ])
            .args(extra)
            .stdout(Stdio::null())
            .stderr(Stdio::piped());
        cmd
    };
    // Four days: 5760 records and as many aggregates.
    let leader = {
        let child = backfill(&[]).spawn().unwrap();
        // The topic exists once the first messages land; its leader then.
        assert!(
            wait_for_growth(&cluster, &t.records, 0),
            "the backfill produces"
        );
        (child, cluster.leader(&t.records))
    };
    let (child, leader) = leader;
    assert!(wait_for_growth(&cluster, &t.records, 500));
    cluster.kill(leader);
    assert!(
        child_running(&child),
        "the backfill was still running when its leader was killed"
    );
    let first = child.wait_with_output().unwrap();
    cluster.restart(leader);
    let code = first.status.code().unwrap_or(-1);
    let mut runs = 1;
    if code != 0 {
        assert!(
            code == 4 || code == 75,
            "{}",
            String::from_utf8_lossy(&first.stderr)
        );
        let again = backfill(&[]).output().unwrap();
        runs += 1;
        assert!(
            again.status.success(),
            "{}",
            String::from_utf8_lossy(&again.stderr)
        );
    }
    let from = utc("2026-11-10T00:00:00Z");
    let to = utc("2026-11-13T23:59:00Z");
    let times = read_field_once(cluster.plaintext(), &t.records, "Minutes1UTC");
    assert_eq!(
        times,
        minutes(from, to),
        "records after {runs} backfill run(s)"
    );
    // Aggregates: exactly the windows a dry run of the same backfill prints.
    let ends = read_field_once(cluster.plaintext(), &t.aggregates, "window_end");
    let (code, dry, err) = outcome(eds().args([
        "backfill",
        "--api-url",
        &stub.url,
        "--min-request-interval",
        "0s",
        "--chunk",
        "6h",
        "--from",
        "2026-11-10",
        "--to",
        "2026-11-14",
        "--dry-run",
    ]));
    assert_eq!(code, 0, "{err}");
    let expected: Vec<String> = dry
        .lines()
        .skip(1)
        .map(|l| l.split(',').nth(1).unwrap().to_string())
        .collect();
    assert_eq!(ends.len(), expected.len());
    assert_eq!(ends, expected);
}

#[test]
fn one_broker_down_for_several_runs_they_go_on() {
    let cluster = cluster();
    let (mut p, t0) = Pipeline::started(&cluster, "k1");
    let leader = cluster.leader(&p.topics.records);
    let other = (1..=3).find(|n| *n != leader).unwrap();
    for node in [other, leader] {
        cluster.kill(node);
        for _ in 0..3 {
            let m = p
                .confirmed
                .map_or(1, |c| (c - minute(t0)).num_minutes() + 1);
            assert_eq!(p.run(at(t0, m)), 0, "one broker down (node {node})");
        }
        cluster.restart(node);
    }
    p.finish(at(t0, 7));
}

#[test]
fn two_brokers_down_fail_within_the_timeout_then_catch_up() {
    let cluster = cluster();
    let (mut p, t0) = Pipeline::started(&cluster, "k2");
    let leader = cluster.leader(&p.topics.records);
    let down: Vec<i32> = (1..=3).filter(|n| *n != leader).collect();
    for node in &down {
        cluster.kill(*node);
    }
    // Let the leader notice: its followers leave the ISR (fenced after
    // broker.session.timeout.ms=4s, lagging after replica.lag.time.max.ms=5s).
    std::thread::sleep(Duration::from_secs(7));
    for m in 1..=2 {
        let now = at(t0, m);
        p.stub.set_now(now);
        let started = Instant::now();
        p.timeout = "8s";
        let (code, out, err) = outcome(eds().args(p.args(now)));
        p.timeout = "25s";
        let took = started.elapsed();
        assert_eq!((code, out.as_str()), (4, ""), "{err}");
        // One deadline for all the run's Kafka work, plus the stated margin.
        assert!(took < Duration::from_secs(8 + 3), "took {took:?}: {err}");
        assert!(err.contains("in-sync replicas"), "{err}");
        p.after(now, code, &err);
    }
    for node in &down {
        cluster.restart(*node);
    }
    p.finish(at(t0, 3));
}

#[test]
fn leader_change_during_the_cursor_read() {
    let cluster = cluster();
    let (mut p, t0) = Pipeline::started(&cluster, "kc");
    // The run reads the cursor first (after the metadata it needs): a leader
    // change at 0-150 ms lands in or just before that read.
    for (i, delay) in [0u64, 30, 60, 100, 150].into_iter().enumerate() {
        let now = at(t0, i as i64 + 1);
        let leader = cluster.leader(&p.topics.aggregates);
        let child = p.spawn(now, &[]);
        std::thread::sleep(Duration::from_millis(delay));
        if i % 2 == 0 {
            cluster.term(leader); // a clean stop moves leadership at once
        } else {
            cluster.kill(leader);
        }
        let code = p.wait(child, now, || cluster.restart(leader));
        if code != 0 {
            assert_eq!(p.run(now), 0, "the next run completes");
        }
    }
    p.finish(at(t0, 6));
}

#[test]
fn rolling_restart_while_runs_continue() {
    let cluster = cluster();
    let (mut p, t0) = Pipeline::started(&cluster, "kr");
    let mut m = 0;
    for node in 1..=3 {
        cluster.term(node);
        m += 1;
        assert_eq!(p.run(at(t0, m)), 0, "node {node} stopped");
        cluster.restart(node);
        m += 1;
        assert_eq!(p.run(at(t0, m)), 0, "node {node} back");
    }
    p.finish(at(t0, m + 1));
}
