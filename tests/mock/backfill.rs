//! `eds-kafka backfill`: paced chunks, streamed, the same windows as
//! `publish`, resuming from and respecting the topics' cursors.

use crate::support;

use std::time::{Duration, Instant};

use rdkafka::mocking::MockCluster;
use serde_json::Value;
use support::args::Args;
use support::stub::{Fault, StubApi};
use support::{assert_says, consume_of, eds, outcome, stub_at, utc, words};

const RECORDS: &str = "eds.PowerSystemRightNow.records";
const AGGREGATES: &str = "eds.PowerSystemRightNow.aggregates";

fn stub() -> StubApi {
    stub_at("2026-11-28T23:59:30Z")
}

fn backfill(stub: &StubApi, extra: &[&str]) -> (i32, String, String) {
    Args::backfill(&stub.url).extra(extra).run()
}

#[test]
fn dry_run_windows_equal_publish_windows() {
    let stub = stub();
    let (code, out, err) = backfill(
        &stub,
        &words("--from 2026-11-28T10:00:00Z --to 2026-11-28T11:00:00Z --chunk 20m --dry-run"),
    );
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 61, "header and one aggregate per minute");
    assert_eq!(stub.requests().len(), 3, "one request per chunk");
    assert!(stub.requests().iter().all(|r| r.contains("limit=0")));
    for (i, line) in lines.iter().enumerate().skip(1) {
        // The aggregate for row time N equals what publish computes at N + 1m30s.
        let now = utc("2026-11-28T10:01:30Z") + chrono::TimeDelta::minutes(i as i64 - 1);
        let (code, dry, err) = Args::dry_run(&stub.url, &now.to_rfc3339()).run();
        assert_eq!(code, 0, "{err}");
        assert_eq!(dry.lines().nth(1), Some(*line), "window {i}");
        if i == 1 {
            assert_eq!(dry.lines().next(), Some(lines[0]));
        }
    }
    let (code, out, _) = backfill(
        &stub,
        &words("--from 2026-11-28T10:00:00Z --to 2026-11-28T11:00:00Z --dry-run --records"),
    );
    assert_eq!(code, 0);
    let minutes: Vec<&str> = out.lines().skip(1).map(|l| &l[11..16]).collect();
    assert_eq!(minutes.len(), 60);
    assert_eq!((minutes[0], minutes[59]), ("10:00", "10:59"));
}

#[test]
fn failed_chunks_are_retried_and_requests_are_paced() {
    let stub = stub();
    stub.fault(Fault::Status(502, "Bad Gateway"));
    let started = Instant::now();
    let mut cmd = eds();
    cmd.args([
        "backfill",
        "--api-url",
        &stub.url,
        "--min-request-interval",
        "1s",
        "--dry-run",
        "--records",
    ])
    .args(words(
        "--from 2026-11-28T10:00:00Z --to 2026-11-28T10:30:00Z --chunk 15m",
    ));
    let (code, out, err) = outcome(&mut cmd);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        stub.requests().len(),
        3,
        "the failed first chunk, its retry, the second chunk"
    );
    assert!(
        started.elapsed() >= Duration::from_secs(2),
        "requests at least 1s apart"
    );
    assert_eq!(out.lines().count(), 31);
    // Each paced wait is said before it happens (not a silent minute), and
    // the progress line's span is of data, not of time.
    let waits = err
        .matches("waiting 1s (API limit, --min-request-interval / EDS_MIN_REQUEST_INTERVAL)")
        .count();
    assert_eq!(waits, 2, "before the retry and the second chunk: {err}");
    assert!(err.contains("15m of data left"), "{err}");
    assert!(
        err.contains("backfill done: 30 records and 0 aggregates in "),
        "{err}"
    );
}

fn keys(brokers: &str, topic: &str) -> Vec<String> {
    values(brokers, topic)
        .iter()
        .map(|v| {
            v.get("window_end")
                .or(v.get("Minutes1UTC"))
                .unwrap()
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// Every message value of `topic`, in order.
fn values(brokers: &str, topic: &str) -> Vec<Value> {
    let (code, out, err) = outcome(consume_of(brokers, topic).arg("--from-beginning").args([
        "--format",
        "json",
        "--idle-timeout",
        "1500ms",
    ]));
    assert_eq!(code, 0, "{err}");
    out.lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect()
}

#[test]
fn backfill_resumes_from_the_cursor_and_hands_over_to_publish() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic(RECORDS, 1, 1).unwrap();
    mock.create_topic(AGGREGATES, 1, 1).unwrap();
    let brokers = mock.bootstrap_servers();
    let stub = stub();
    let run = |from: &str, to: &str| {
        backfill(
            &stub,
            &[
                "--brokers",
                &brokers,
                "--from",
                from,
                "--to",
                to,
                "--chunk",
                "30m",
            ],
        )
    };

    let (code, _, err) = run("2026-11-28T10:00:00Z", "2026-11-28T11:00:00Z");
    assert_eq!(code, 0, "{err}");
    // A second backfill over a longer range resumes after the first: no duplicates.
    let (code, _, err) = run("2026-11-28T10:00:00Z", "2026-11-28T12:00:00Z");
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("resuming after the cursors: from 2026-11-28T11:00:00Z"),
        "{err}"
    );
    let records = keys(&brokers, RECORDS);
    assert_eq!(records.len(), 120);
    assert_eq!(
        (records[0].as_str(), records[119].as_str()),
        ("2026-11-28T10:00:00Z", "2026-11-28T11:59:00Z")
    );
    let ends = keys(&brokers, AGGREGATES);
    assert_eq!(ends.len(), 120);
    assert_eq!(
        (ends[0].as_str(), ends[119].as_str()),
        ("2026-11-28T10:01:00Z", "2026-11-28T12:00:00Z")
    );

    // Records carry the whole API row (every field, nulls and all), the UTC time as `...Z`.
    let first = &values(&brokers, RECORDS)[0];
    let mut expected = support::stub::psrn_row(utc("2026-11-28T10:00:00Z"));
    expected["Minutes1UTC"] = "2026-11-28T10:00:00Z".into();
    assert_eq!(first, &expected);

    // A range wholly behind the cursor is left alone.
    let (code, _, err) = run("2026-11-28T09:00:00Z", "2026-11-28T11:00:00Z");
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("nothing to backfill"), "{err}");
    assert_eq!(keys(&brokers, RECORDS).len(), 120);

    // The cron job takes over from the backfill's cursor.
    let (code, _, err) = outcome(eds().args([
        "publish",
        "--api-url",
        &stub.url,
        "--brokers",
        &brokers,
        "--now",
        "2026-11-28T12:02:30Z",
    ]));
    assert_eq!(code, 0, "{err}");
    let records = keys(&brokers, RECORDS);
    assert_eq!(
        records[118..],
        [
            "2026-11-28T11:58:00Z",
            "2026-11-28T11:59:00Z",
            "2026-11-28T12:00:00Z",
            "2026-11-28T12:01:00Z"
        ]
    );
    assert_eq!(keys(&brokers, AGGREGATES).len(), 122);
}

/// The body is read on a thread of its own while the rows are published:
/// a body cut off mid-chunk is still exit 3, nothing past the rows read
/// before the cut is published, and the next run resumes exactly (the
/// chunks are fetched one after the other, one request each).
#[test]
fn a_body_cut_off_mid_chunk_publishes_only_what_was_read_and_resumes() {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic(RECORDS, 1, 1).unwrap();
    mock.create_topic(AGGREGATES, 1, 1).unwrap();
    let brokers = mock.bootstrap_servers();
    let stub = stub();
    let run = |to: &str| {
        let range = format!("--from 2026-11-28T10:00:00Z --to {to} --chunk 20m");
        backfill(
            &stub,
            &[&["--brokers", &brokers][..], &words(&range)].concat(),
        )
    };
    let (code, _, err) = run("2026-11-28T11:00:00Z");
    assert_eq!(code, 0, "{err}");
    stub.fault(Fault::Truncated);
    let (code, _, err) = run("2026-11-28T12:00:00Z");
    assert_eq!(code, 3, "{err}");
    let records = keys(&brokers, RECORDS);
    let last = records.last().unwrap().clone();
    assert!(
        (last.as_str() >= "2026-11-28T10:59:00Z") && (last.as_str() < "2026-11-28T11:20:00Z"),
        "only rows of the cut chunk read before the cut: {last}"
    );
    let before = stub.requests().len();
    let (code, _, err) = run("2026-11-28T12:00:00Z");
    assert_eq!(code, 0, "{err}");
    let chunks = stub.requests().len() - before;
    // From the revision horizon (an hour back, not before --from) to --to.
    assert!((3..=6).contains(&chunks), "one request a chunk: {chunks}");
    let expected = |first: i64| -> Vec<String> {
        (first..first + 120)
            .map(|m| {
                let t = utc("2026-11-28T10:00:00Z") + chrono::TimeDelta::minutes(m);
                t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
            })
            .collect()
    };
    assert_eq!(keys(&brokers, RECORDS), expected(0), "no gap, no duplicate");
    assert_eq!(keys(&brokers, AGGREGATES), expected(1));
}

#[test]
fn backfill_refuses_all_fields_and_bad_ranges() {
    let stub = stub();
    let (code, _, err) = backfill(
        &stub,
        &words("--from 2026-11-28 --to 2026-11-29 --dry-run --fields all"),
    );
    assert_eq!(code, 2, "{err}");
    let (code, _, err) = backfill(
        &stub,
        &["--from", "2026-11-29", "--to", "2026-11-28", "--dry-run"],
    );
    assert_eq!(code, 2, "{err}");
}

#[test]
fn an_api_that_cannot_be_reached_before_any_data_fails_at_once() {
    // Nothing listens on this port: connection refused, as for a wrong host.
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let started = std::time::Instant::now();
    let (code, _, err) = support::outcome(support::eds().args([
        "backfill",
        "--dry-run",
        "--api-url",
        &format!("http://127.0.0.1:{port}"),
        "--from",
        "2026-11-01",
        "--to",
        "2026-11-03",
        "--min-request-interval",
        "60s",
    ]));
    assert_eq!(code, 75, "{err}");
    assert_says(&err, &["cannot be reached", "--api-url"]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(20),
        "no paced retries: {:?}",
        started.elapsed()
    );
}

/// Rows at or after `--now` are not final (DayAheadPrices has tomorrow's):
/// a `--to` after it is cut there with a warning, a `--from` after it is a
/// usage error. Before, tomorrow's rows were backfilled: Kafka refused them
/// (exit 4 on every retry), or a topic that took them put the cursor in the
/// future and every publish exited 3 until then.
#[test]
fn backfill_stops_at_now() {
    let stub = stub();
    let range = ["--from", "2026-11-28T11:00:00Z", "--to", "2026-11-29"];
    let (code, out, err) = backfill(
        &stub,
        &[
            &range[..],
            &["--dry-run", "--records", "--now", "2026-11-28T12:00:30Z"],
        ]
        .concat(),
    );
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains(
            "--to 2026-11-29T00:00:00Z is after --now: backfilling up to 2026-11-28T12:00:00Z only"
        ),
        "{err}"
    );
    let times: Vec<&str> = out.lines().skip(1).map(|l| &l[..20]).collect();
    assert_eq!(times.len(), 60, "11:00 .. 11:59: {times:?}");
    assert_eq!(times.last(), Some(&"2026-11-28T11:59:00Z"));
    let (code, _, err) = backfill(
        &stub,
        &[
            "--from",
            "2026-11-28T13:00:00Z",
            "--to",
            "2026-11-29",
            "--dry-run",
        ],
    );
    assert_eq!(code, 0, "the system clock is days later: {err}");
    let (code, _, err) = backfill(
        &stub,
        &[&range[..], &["--dry-run", "--now", "2026-11-28T10:59:59Z"]].concat(),
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("is not before --now / EDS_NOW"), "{err}");
}

/// `backfill` takes publish's `--lock-file` / `EDS_LOCK_FILE`: run next to a
/// publish over the same range, both wrote the same rows (duplicates).
#[test]
fn backfill_takes_the_lock_file() {
    let stub = stub();
    let dir = support::temp_dir();
    let lock = dir.path().join("eds-kafka.lock");
    let held = std::fs::File::create(&lock).unwrap();
    held.try_lock().unwrap();
    let args = [
        "--from",
        "2026-11-28T11:00:00Z",
        "--to",
        "2026-11-28T12:00:00Z",
        "--dry-run",
    ];
    let mut cmd = eds();
    cmd.args(Args::backfill(&stub.url).extra(&args).list())
        .env("EDS_LOCK_FILE", &lock);
    let (code, out, err) = outcome(&mut cmd);
    assert_eq!((code, out.as_str()), (75, ""), "{err}");
    assert!(err.contains("another run holds the lock"), "{err}");
    drop(held);
    let (code, out, err) = backfill(
        &stub,
        &[&args[..], &["--lock-file", lock.to_str().unwrap()]].concat(),
    );
    assert_eq!(code, 0, "{err}");
    assert!(out.lines().count() > 1, "{out}");
}
