//! A key combination whose rows reach the API long after the others'
//! (librdkafka's mock cluster): inside `--max-key-lateness` every row is
//! published once; beyond it (or beyond `--max-catch-up`) the rows skipped
//! are named in a warning with their exact times and counted in the metrics
//! file, never lost silently.

use crate::support;

use std::path::PathBuf;

use chrono::{DateTime, TimeDelta, Utc};
use rdkafka::mocking::MockCluster;
use support::keyed::{self};
use support::keyed_runs::read_all;
use support::mock::{brokers_for, Mock};
use support::stub::StubApi;
use support::{assert_says, eds, outcome, temp_dir, times, utc};

const RECORDS: &str = "eds.Forecasts_5Min.records";
/// DK2/Offshore Wind, whose rows arrive `LATE` after their time.
const SLOW: usize = 3;
const LATE: i64 = 40;

/// What the API has at `now`: every key up to `now`, `SLOW` up to `late` minutes before.
fn serve(stub: &StubApi, now: DateTime<Utc>, late: i64) {
    let shape = keyed::forecasts();
    let rows = keyed::rows(&shape, utc("2026-11-28T09:00:00Z"), now)
        .into_iter()
        .filter(|(t, k)| *k != SLOW || *t + TimeDelta::minutes(late) <= now)
        .map(|(t, k)| keyed::row(&shape, t, k))
        .collect();
    stub.serve_sorted_rows(rows);
}

/// One test's world: the mock cluster with Forecasts_5Min's topics, the
/// stub API, and the metrics file (in a directory removed with it).
struct Late {
    _mock: Mock,
    brokers: String,
    stub: StubApi,
    _dir: tempfile::TempDir,
    metrics: PathBuf,
}

impl Late {
    fn new() -> Late {
        let (mock, brokers) = brokers_for("Forecasts_5Min");
        let dir = temp_dir();
        Late {
            _mock: mock,
            brokers,
            stub: StubApi::start(),
            metrics: dir.path().join("eds-late.prom"),
            _dir: dir,
        }
    }

    /// `publish` at `now` plus `extra`, `SLOW` [`LATE`] minutes late: (code, stderr).
    fn publish(&self, now: &str, extra: &[&str]) -> (i32, String) {
        self.publish_late(now, extra, LATE)
    }

    /// [`Late::publish`] with `SLOW` `late` minutes late.
    fn publish_late(&self, now: &str, extra: &[&str], late: i64) -> (i32, String) {
        serve(&self.stub, utc(now), late);
        let (code, _, err) = outcome(
            eds()
                .args(["publish", "--api-url", &self.stub.url])
                .args(["--brokers", &self.brokers])
                .args(["--dataset", "Forecasts_5Min", "--window", "15m"])
                .args(["--fields", "ForecastCurrent", "--now", now])
                .arg("--metrics-file")
                .arg(&self.metrics)
                .args(extra),
        );
        (code, err)
    }

    /// The times of `SLOW`'s records, in topic order.
    fn slow_times(&self) -> Vec<String> {
        read_all(&self.brokers, RECORDS)
            .into_iter()
            .filter(|m| m.key.ends_with("/DK2/Offshore Wind"))
            .map(|m| m.key[..20].to_string())
            .collect()
    }

    /// The keys-behind gauge of the metrics file.
    fn gauge(&self) -> String {
        let text = std::fs::read_to_string(&self.metrics).unwrap();
        text.lines()
            .find(|l| l.starts_with("eds_kafka_keys_behind{"))
            .unwrap_or_else(|| panic!("no keys-behind gauge in {text}"))
            .rsplit(' ')
            .next()
            .unwrap()
            .to_string()
    }
}

#[test]
fn a_key_inside_the_lateness_is_published_once_without_a_warning() {
    let l = Late::new();
    for now in ["12:00:30", "12:30:30", "12:31:30", "13:00:30"] {
        let now = format!("2026-11-28T{now}Z");
        let (code, err) = l.publish(&now, &[]);
        assert_eq!(code, 0, "{err}");
        assert!(!err.contains("--max-key-lateness"), "{err}");
        assert_eq!(l.gauge(), "0");
    }
    // The first run took its current window (11:15 .. 11:20); then every
    // row up to 40 minutes before the last run, once, in order.
    let expected = times(
        utc("2026-11-28T11:15:00Z"),
        utc("2026-11-28T12:20:00Z"),
        TimeDelta::minutes(5),
    );
    assert_eq!(l.slow_times(), expected);
}

/// A key never published that stays 50 minutes late: later than what a
/// first run looks for (`--max-lag` 30m and the 15m window), inside
/// `--max-key-lateness` 1h. It was never published (exit 0, no warning);
/// now the next run looks for it back to the horizon.
#[test]
fn a_new_key_later_than_the_max_lag_is_found_back_to_the_horizon() {
    let l = Late::new();
    let mut warnings = String::new();
    for now in ["12:00:30", "12:05:30", "12:10:30", "13:00:30"] {
        let now = format!("2026-11-28T{now}Z");
        let (code, err) = l.publish_late(&now, &[], 50);
        assert_eq!(code, 0, "{err}");
        warnings.push_str(&err);
    }
    // The first run's fetch (from 11:15) has none of its rows; the second
    // run's reaches the horizon, 11:00 (DK1's newest 11:55, less an hour,
    // plus a resolution), and publishes it from there; then every row once.
    let expected = times(
        utc("2026-11-28T11:00:00Z"),
        utc("2026-11-28T12:10:00Z"),
        TimeDelta::minutes(5),
    );
    assert_eq!(l.slow_times(), expected);
    // Said when it is first published, with its rows before the horizon
    // (from the first one fetched: the reviewed span reaches 09:55).
    assert_says(
        &warnings,
        &[
            "'DK2/Offshore Wind' from 2026-11-28T09:55:00Z to 2026-11-28T10:55:00Z",
            "not yet in eds.Forecasts_5Min.records",
        ],
    );
    assert_eq!(l.gauge(), "0", "nothing behind in the last run");
}

#[test]
fn a_known_key_beyond_the_catch_up_is_warned_with_its_range_and_counted() {
    let l = Late::new();
    let (code, err) = l.publish("2026-11-28T12:00:30Z", &[]);
    assert_eq!(code, 0, "{err}");
    let short = ["--max-catch-up", "30m"];
    let (code, err) = l.publish("2026-11-28T12:30:30Z", &short);
    assert_eq!(code, 0, "{err}");
    // Rows 11:25 .. 11:55 of the slow key are before the 30-minute range:
    // they were lost without a word before.
    assert_says(
        &err,
        &[
            "1 key combination(s) of eds.Forecasts_5Min.records trail the newest",
            "--max-key-lateness / EDS_MAX_KEY_LATENESS 1h (or fall before --max-catch-up)",
            "'DK2/Offshore Wind' from 2026-11-28T11:25:00Z to 2026-11-28T11:55:00Z",
            "of eds.Forecasts_5Min.aggregates",
        ],
    );
    assert_eq!(l.gauge(), "1");
    assert_eq!(l.slow_times().last().unwrap(), "2026-11-28T11:20:00Z");
    // With the default range, the slow key resumes at the lateness horizon
    // (the newest key was at 12:25), and what lies before it is warned.
    let (code, err) = l.publish("2026-11-28T12:50:30Z", &[]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("'DK2/Offshore Wind' from 2026-11-28T11:25:00Z to 2026-11-28T11:25:00Z"),
        "{err}"
    );
    let times = l.slow_times();
    let resumed: Vec<&str> = times
        .iter()
        .map(String::as_str)
        .skip_while(|t| *t <= "2026-11-28T11:20:00Z")
        .collect();
    let expected = [
        "11:30", "11:35", "11:40", "11:45", "11:50", "11:55", "12:00", "12:05", "12:10",
    ]
    .map(|hm| format!("2026-11-28T{hm}:00Z"));
    assert_eq!(resumed, expected);
}

#[test]
fn a_key_never_published_and_beyond_the_catch_up_is_warned() {
    let l = Late::new();
    let short = ["--max-catch-up", "30m"];
    for now in ["12:00:30", "12:30:30"] {
        let now = format!("2026-11-28T{now}Z");
        let (code, err) = l.publish(&now, &short);
        assert_eq!(code, 0, "{err}");
    }
    let (code, err) = l.publish("2026-11-28T12:31:30Z", &short);
    assert_eq!(code, 0, "{err}");
    // The slow key was never published: its rows that the fetch saw are named.
    assert_says(
        &err,
        &[
        "1 key combination(s) not yet in eds.Forecasts_5Min.records have rows older than this run may publish for them (2026-11-28T12:00:00Z on)",
        "'DK2/Offshore Wind' from 2026-11-28T11:45:00Z to 2026-11-28T11:50:00Z",
        ],
    );
    assert_eq!(l.gauge(), "1");
    assert!(l.slow_times().is_empty());
}

#[test]
fn a_key_beyond_the_lateness_is_warned_and_the_others_go_on() {
    let l = Late::new();
    let short = ["--max-key-lateness", "20m"];
    let (code, err) = l.publish("2026-11-28T12:00:30Z", &short);
    assert_eq!(code, 0, "{err}");
    let (code, err) = l.publish("2026-11-28T12:30:30Z", &short);
    assert_eq!(code, 0, "{err}");
    // The newest key was at 11:55 before this run: the horizon is 11:40.
    assert!(
        err.contains("'DK2/Offshore Wind' from 2026-11-28T11:25:00Z to 2026-11-28T11:35:00Z"),
        "{err}"
    );
    assert!(err.contains("EDS_MAX_KEY_LATENESS 20m"), "{err}");
    assert_eq!(l.gauge(), "1");
    let times = l.slow_times();
    let expected =
        ["11:15", "11:20", "11:40", "11:45", "11:50"].map(|hm| format!("2026-11-28T{hm}:00Z"));
    assert_eq!(times, expected);
    let dk1_solar = read_all(&l.brokers, RECORDS)
        .into_iter()
        .filter(|m| m.key.ends_with("/DK1/Solar"))
        .count();
    assert_eq!(dk1_solar, 3 + 6, "11:45 .. 11:55, then 12:00 .. 12:25");
}

/// A message of ours with an old time at the end of the log (forged, or
/// written by a late backfill) must not end the cursor read early (the mock
/// cluster has no time index: the read goes back by itself).
#[test]
fn an_old_message_at_the_end_of_the_log_does_not_cause_duplicates() {
    let mock = MockCluster::new(1).unwrap();
    let (records, aggregates) = ("syn.records", "syn.aggregates");
    mock.create_topic(records, 1, 1).unwrap();
    mock.create_topic(aggregates, 1, 1).unwrap();
    support::keyed_runs::old_message_at_the_end(
        &mock.bootstrap_servers(),
        records,
        aggregates,
        false,
    );
}
