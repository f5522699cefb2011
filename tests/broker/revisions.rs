//! Late rows and corrections against Apache Kafka: the topics are a
//! changelog of the API. A row the API serves late (one run later, twelve
//! runs later) is published and so are the windows it changes; a value the
//! API corrects (twice) is published again under the same key with
//! `eds-revision`; a keyed dataset's late row and another key's correction
//! each reach their own key only; beyond `--max-revision-age` nothing is
//! published but the run warns and counts; a rerun at the same `--now`
//! publishes nothing; a run killed while publishing corrections is
//! completed, once, by the next. After every run the latest message of each
//! key is checked against what the stub serves and the latest aggregate of
//! each window against the latest records.

use crate::support;

use std::collections::BTreeMap;
use std::process::{Command, Stdio};
use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{json, Value};
use support::broker::{test_broker, Topics};
use support::kafka::{latest, once_per_value, read_all, Read};
use support::stub::{psrn_row, StubApi};
use support::{rfc3339, temp_dir, utc};

/// A stub, two topics and the runs against them.
struct World {
    stub: StubApi,
    brokers: String,
    topics: Topics,
    /// The values the stub serves in place of the generated ones.
    corrected: BTreeMap<DateTime<Utc>, f64>,
    dir: tempfile::TempDir,
}

impl World {
    fn new(prefix: &str) -> World {
        World {
            stub: StubApi::start(),
            brokers: test_broker().unwrap(),
            topics: Topics::new(prefix),
            corrected: BTreeMap::new(),
            dir: temp_dir(),
        }
    }

    /// One publish run at `now` (the stub's clock too); asserts exit 0 and
    /// returns (stderr, metrics file).
    fn run(&self, now: DateTime<Utc>, extra: &[&str]) -> (String, String) {
        self.stub.set_now(now);
        let metrics = self.dir.path().join("metrics.prom");
        let metrics = metrics.to_str().unwrap();
        let mut args = vec!["--metrics-file", metrics, "--fields", "CO2Emission"];
        args.extend(extra);
        let (code, _, err) = self
            .topics
            .publish(&self.stub, &self.brokers, &rfc3339(now), &args);
        assert_eq!(code, 0, "{err}");
        (err, std::fs::read_to_string(metrics).unwrap())
    }

    fn correct(&mut self, t: DateTime<Utc>, value: f64) {
        self.stub.correct(t, "CO2Emission", json!(value));
        self.corrected.insert(t, value);
    }

    /// What the stub serves as minute `t`'s CO2Emission.
    fn served(&self, t: DateTime<Utc>) -> f64 {
        let generated = || psrn_row(t)["CO2Emission"].as_f64().unwrap();
        self.corrected.get(&t).copied().unwrap_or_else(generated)
    }

    fn read(&self) -> (Vec<Read>, Vec<Read>) {
        let records = read_all(&self.brokers, &self.topics.records);
        let aggregates = read_all(&self.brokers, &self.topics.aggregates);
        (records, aggregates)
    }

    /// The changelog's promises: no (key, value) twice; the latest record
    /// of each time is what the stub serves; the latest aggregate of each
    /// window is the aggregate of the latest records. Returns the message
    /// counts.
    fn check(&self) -> (usize, usize) {
        let (records, aggregates) = self.read();
        once_per_value(&self.topics.records, &records);
        once_per_value(&self.topics.aggregates, &aggregates);
        let rows: BTreeMap<DateTime<Utc>, f64> = (latest(&records).values())
            .map(|m| {
                let t = utc(m.value["Minutes1UTC"].as_str().unwrap());
                let v = m.value["CO2Emission"].as_f64().unwrap();
                assert!((v - self.served(t)).abs() < 1e-9, "{t}: {v}");
                (t, v)
            })
            .collect();
        // A window reaching before the first record (a backfill's first
        // windows hold rows of its context, never published) is not judged.
        let first = rows.keys().next().copied();
        for m in latest(&aggregates).values() {
            let end = utc(m.value["window_end"].as_str().unwrap());
            if first.is_some_and(|f| end - TimeDelta::minutes(5) >= f) {
                check_window(&m.value, &rows);
            }
        }
        (records.len(), aggregates.len())
    }
}

/// An aggregate (5-minute window, CO2Emission) equals its recomputation
/// from the latest records of its window.
fn check_window(agg: &Value, rows: &BTreeMap<DateTime<Utc>, f64>) {
    let end = utc(agg["window_end"].as_str().unwrap());
    let start = end - TimeDelta::minutes(5);
    let within: Vec<f64> = rows.range(start..end).map(|(_, v)| *v).collect();
    let missing: Vec<String> = (0..5)
        .map(|i| start + TimeDelta::minutes(i))
        .filter(|t| !rows.contains_key(t))
        .map(rfc3339)
        .collect();
    assert_eq!(agg["rows"], json!(within.len()), "{agg}");
    assert_eq!(agg["missing"], json!(missing), "{agg}");
    let mean = within.iter().sum::<f64>() / within.len() as f64;
    let got = agg["fields"]["CO2Emission"]["mean"].as_f64().unwrap();
    assert!(
        (got - mean).abs() < 1e-6,
        "{end}: mean {got}, expected {mean}"
    );
}

/// The value of gauge `name` in a metrics file.
fn gauge(metrics: &str, name: &str) -> f64 {
    let line = (metrics.lines())
        .find(|l| l.starts_with(&format!("{name}{{")))
        .unwrap_or_else(|| panic!("no {name} in {metrics}"));
    line.rsplit(' ').next().unwrap().parse().unwrap()
}

/// The messages after the first `before`, as (key, revision).
fn since(messages: &[Read], before: usize) -> Vec<(String, u32)> {
    let new = messages[before..].iter();
    new.map(|m| (m.key.clone(), m.revision)).collect()
}

fn at(hm: &str) -> DateTime<Utc> {
    utc(&format!("2026-11-28T{hm}Z"))
}

#[test]
fn a_hole_filled_one_run_later_and_a_value_corrected_twice() {
    let mut w = World::new("rev.psrn");
    w.stub.drop_minute(at("09:58:00"));
    w.run(at("10:00:30"), &[]);
    w.run(at("10:01:30"), &[]);
    assert_eq!(w.check(), (5, 2), "09:58 is missing, twice");

    // 09:58 arrives: its record, and the two windows it completes again.
    w.stub.restore_minute(at("09:58:00"));
    let (_, metrics) = w.run(at("10:02:30"), &[]);
    let (records, aggregates) = w.read();
    assert_eq!(
        since(&records, 5),
        [
            ("2026-11-28T09:58:00Z".to_string(), 0),
            ("2026-11-28T10:01:00Z".to_string(), 0)
        ]
    );
    assert_eq!(
        since(&aggregates, 2),
        [
            ("2026-11-28T10:00:00Z".to_string(), 1),
            ("2026-11-28T10:01:00Z".to_string(), 1),
            ("2026-11-28T10:02:00Z".to_string(), 0)
        ]
    );
    assert_eq!(gauge(&metrics, "eds_kafka_late_published"), 1.0);
    assert_eq!(gauge(&metrics, "eds_kafka_corrections_published"), 2.0);
    assert_eq!(w.check(), (7, 5));
    // A rerun at the same --now publishes nothing.
    w.run(at("10:02:30"), &[]);
    assert_eq!(w.check(), (7, 5));

    // 10:00 corrected, then corrected again: its record and every window
    // that holds it, each time.
    w.correct(at("10:00:00"), 999.5);
    w.run(at("10:03:30"), &[]);
    let (records, _) = w.read();
    assert_eq!(
        since(&records, 7),
        [
            ("2026-11-28T10:00:00Z".to_string(), 1),
            ("2026-11-28T10:02:00Z".to_string(), 0)
        ]
    );
    w.check();
    w.correct(at("10:00:00"), 12.25);
    let (_, metrics) = w.run(at("10:04:30"), &[]);
    let (records, aggregates) = w.read();
    assert_eq!(latest(&records)["2026-11-28T10:00:00Z"].revision, 2);
    assert_eq!(latest(&aggregates)["2026-11-28T10:01:00Z"].revision, 3);
    // 10:00 and the windows ending 10:01..10:03 that were published before.
    assert_eq!(gauge(&metrics, "eds_kafka_corrections_published"), 4.0);
    let counts = w.check();
    w.run(at("10:04:30"), &[]);
    assert_eq!(w.check(), counts, "a rerun publishes nothing");
    // status reads the changelog: corrections, not duplicates; healthy.
    let (code, out, err) = support::outcome(support::eds().args([
        "status",
        "--brokers",
        &w.brokers,
        "--records-topic",
        &w.topics.records,
        "--aggregates-topic",
        &w.topics.aggregates,
        "--now",
        "2026-11-28T10:04:30Z",
        "--since",
        "1h",
        "--format",
        "json",
    ]));
    assert_eq!(code, 0, "{out}{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    let key = &report["keys"][0];
    assert_eq!(
        (key["duplicates"].clone(), key["missing_records"].clone()),
        (json!(0), json!(0))
    );
    // 10:00 and 10:01 completed; 10:00 corrected twice, with 2 then 3 windows.
    assert_eq!(key["corrections"], json!(2 + 3 + 4), "{out}");
}

#[test]
fn a_hole_filled_twelve_runs_later_then_nothing_new() {
    let w = World::new("rev.twelve");
    let hole = at("10:01:00");
    w.stub.drop_minute(hole);
    for m in 0..13 {
        w.run(at("10:00:30") + TimeDelta::minutes(m), &[]);
    }
    let (records, _) = w.read();
    assert!(!records.iter().any(|r| r.key == rfc3339(hole)));
    w.stub.restore_minute(hole);
    let (err, metrics) = w.run(at("10:13:30"), &[]);
    let (records, aggregates) = w.read();
    let z = |hm: &str| format!("2026-11-28T{hm}:00Z");
    let last = |m: &[Read], n: usize| since(m, m.len() - n);
    assert_eq!(
        last(&records, 2),
        [(z("10:01"), 0), (z("10:12"), 0)],
        "{err}"
    );
    // The window 10:01 was due in (ending 10:02) is published late, a first
    // publication; those that hold it (ending 10:03..10:06) again.
    assert_eq!(
        last(&aggregates, 6),
        [
            (z("10:02"), 0),
            (z("10:03"), 1),
            (z("10:04"), 1),
            (z("10:05"), 1),
            (z("10:06"), 1),
            (z("10:13"), 0)
        ]
    );
    assert_eq!(gauge(&metrics, "eds_kafka_late_published"), 2.0);
    let counts = w.check();
    w.run(at("10:13:30"), &[]);
    w.run(at("10:14:30"), &[]);
    assert_eq!(w.check().0, counts.0 + 1, "one new record, nothing again");
}

#[test]
fn beyond_the_horizon_a_late_row_is_warned_and_counted_not_published() {
    let w = World::new("rev.beyond");
    let hole = at("10:01:00");
    w.stub.drop_minute(hole);
    let horizon = ["--max-revision-age", "10m"];
    for m in 0..16 {
        w.run(at("10:00:30") + TimeDelta::minutes(m), &horizon);
    }
    w.stub.restore_minute(hole);
    let (err, metrics) = w.run(at("10:16:30"), &horizon);
    let (records, _) = w.read();
    assert!(!records.iter().any(|r| r.key == rfc3339(hole)), "{err}");
    support::assert_says(
        &err,
        &[
            "older than --max-revision-age / EDS_MAX_REVISION_AGE 10m that the topic lacks",
            "2026-11-28T10:01:00Z",
        ],
    );
    assert!(gauge(&metrics, "eds_kafka_beyond_revision_horizon") >= 1.0);
    assert_eq!(gauge(&metrics, "eds_kafka_late_published"), 0.0);
    let counts = w.check();
    w.run(at("10:16:30"), &horizon);
    assert_eq!(w.check(), counts, "a rerun publishes nothing");
    // --max-revision-age 0: the review is off, nothing is said.
    let (err, _) = w.run(at("10:17:30"), &["--max-revision-age", "0"]);
    assert!(!err.contains("--max-revision-age"), "{err}");
}

#[test]
fn a_run_killed_while_publishing_corrections_is_completed_once() {
    let mut w = World::new("rev.killed");
    let horizon = ["--max-revision-age", "3h"];
    w.run(at("07:00:30"), &horizon);
    w.run(at("10:00:30"), &horizon);
    let before = w.check();
    // Every row of the last three hours corrected: a run of 179 record and
    // 179 aggregate corrections, sent one per request, killed midway, later
    // and later, until one run is cut short and one completes.
    for m in 1..=179 {
        w.correct(at("07:00:00") + TimeDelta::minutes(m), 500.0 + m as f64);
    }
    w.stub.set_now(at("10:00:30"));
    let bin = assert_cmd::cargo::cargo_bin("eds-kafka");
    let slow = [
        "-X",
        "batch.num.messages=1",
        "-X",
        "max.in.flight.requests.per.connection=1",
        "--fields",
        "CO2Emission",
    ];
    let args = w
        .topics
        .publish_args(&w.stub, &w.brokers, "2026-11-28T10:00:30Z");
    let (mut partial, mut kill_after_ms) = (0, 40);
    while kill_after_ms < 3000 {
        let mut child = Command::new(&bin)
            .args(&args)
            .args(horizon)
            .args(slow)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .unwrap();
        std::thread::sleep(Duration::from_millis(kill_after_ms));
        child.kill().unwrap(); // SIGKILL (or too late: it has ended)
        child.wait().unwrap();
        let corrected = w.read().0.len() - before.0;
        partial += usize::from(corrected > 0 && corrected < 179);
        if corrected == 179 {
            break;
        }
        kill_after_ms += 40;
    }
    w.run(at("10:00:30"), &horizon);
    let (records, aggregates) = w.read();
    let revised = |m: &[Read]| m.iter().filter(|r| r.revision > 0).count();
    // Each corrected row and each window that holds one (ending 07:02 to
    // 10:00) once, over the killed runs and the last.
    assert_eq!(revised(&records), 179);
    assert_eq!(revised(&aggregates), 179);
    assert_eq!(w.check(), (before.0 + 179, before.1 + 179));
    w.run(at("10:00:30"), &horizon);
    let counts = (before.0 + 179, before.1 + 179);
    assert_eq!(w.check(), counts, "a rerun publishes nothing");
    assert!(
        partial > 0,
        "no kill landed mid-publish; the test did not exercise a partial run"
    );
}

/// Forecasts_5Min: (DK1, Offshore Wind)'s 11:20 row reaches the API two
/// runs late; (DK2, Offshore Wind)'s 11:15 ForecastCurrent is corrected
/// after it was published. Each reaches its own key only: its record, and
/// the windows of its own key that hold it.
#[test]
fn a_keyed_late_row_and_another_keys_correction_reach_their_own_keys() {
    use support::keyed::{self, forecasts};
    let shape = forecasts();
    let brokers = test_broker().unwrap();
    let topics = Topics::new("rev.keyed");
    let stub = StubApi::start();
    let (late, corrected) = ((at("11:20:00"), 0), (at("11:15:00"), 3));
    let served = |now: DateTime<Utc>| -> Vec<Value> {
        let rows = keyed::rows(&shape, at("10:30:00"), now);
        let visible = rows
            .into_iter()
            .filter(|tk| *tk != late || now >= at("11:30:00"));
        let row = |(t, k): (DateTime<Utc>, usize)| {
            keyed::row_with(&shape, t, k, |f| {
                let v = keyed::value(&shape, t, k, f);
                let fixed = (t, k) == corrected && now >= at("11:30:00") && f == 4;
                v.map(|v| if fixed { v + 1000.0 } else { v })
            })
        };
        visible.map(row).collect()
    };
    let run = |now: DateTime<Utc>| {
        stub.serve_sorted_rows(served(now));
        let args = ["--dataset", "Forecasts_5Min", "--window", "15m"];
        let (code, _, err) = topics.publish(&stub, &brokers, &rfc3339(now), &args);
        assert_eq!(code, 0, "{err}");
        err
    };
    for m in (0..=25).step_by(5) {
        run(at("11:00:30") + TimeDelta::minutes(m));
    }
    let err = run(at("11:30:30"));
    let records = read_all(&brokers, &topics.records);
    let aggregates = read_all(&brokers, &topics.aggregates);
    once_per_value(&topics.records, &records);
    once_per_value(&topics.aggregates, &aggregates);
    let key_of =
        |(t, k): (DateTime<Utc>, usize)| format!("{}/{}", rfc3339(t), shape.keys[k].join("/"));
    let of_key = |m: &[Read], key: &str| -> Vec<(String, u32)> {
        (m.iter())
            .filter(|r| r.key == key)
            .map(|r| (r.key.clone(), r.revision))
            .collect()
    };
    assert_eq!(
        of_key(&records, &key_of(late)),
        [(key_of(late), 0)],
        "{err}"
    );
    assert_eq!(
        of_key(&records, &key_of(corrected)),
        [(key_of(corrected), 0), (key_of(corrected), 1)]
    );
    // Corrections only in the corrected key's own windows (ending 11:20 to
    // 11:30); the late row's key gets the window its row was due in (ending
    // 11:25, never published without it), late, as a first publication.
    let revised: Vec<String> = (aggregates.iter())
        .filter(|a| a.revision > 0)
        .map(|a| a.key.clone())
        .collect();
    let dk2 = |hm: &str| format!("2026-11-28T{hm}:00Z/DK2/Offshore Wind");
    assert_eq!(revised, [dk2("11:20"), dk2("11:25")]);
    let due = format!("{}/DK1/Offshore Wind", rfc3339(at("11:25:00")));
    assert_eq!(of_key(&aggregates, &due), [(due.clone(), 0)]);
    // Every latest window equals its recomputation from the latest records.
    let latest_records = latest(&records);
    for a in latest(&aggregates).values() {
        let end = utc(a.value["window_end"].as_str().unwrap());
        let key = a.key.split_once('/').unwrap().1;
        let within: Vec<f64> = (1..=3)
            .map(|i| format!("{}/{key}", rfc3339(end - TimeDelta::minutes(5 * i))))
            .filter_map(|k| latest_records.get(&k))
            .map(|r| r.value["ForecastCurrent"].as_f64().unwrap())
            .collect();
        assert_eq!(a.value["rows"], json!(within.len()), "{}", a.key);
        let mean = a.value["fields"]["ForecastCurrent"]["mean"]
            .as_f64()
            .unwrap();
        let expected = within.iter().sum::<f64>() / within.len() as f64;
        assert!(
            (mean - expected).abs() < 1e-6,
            "{}: {mean} {expected}",
            a.key
        );
    }
    // A rerun publishes nothing.
    run(at("11:30:30"));
    assert_eq!(read_all(&brokers, &topics.records).len(), records.len());
    assert_eq!(
        read_all(&brokers, &topics.aggregates).len(),
        aggregates.len()
    );
}

/// backfill shares the rule: a second backfill over a range whose values
/// the API corrected publishes each corrected row (and the windows that
/// hold it) once, under its key, when `--max-revision-age` reaches it; the
/// default hour before where it resumes does not reach 08:30; a third
/// backfill publishes nothing.
#[test]
fn a_backfill_over_corrected_rows_publishes_each_latest_value_once() {
    let mut w = World::new("rev.backfill");
    w.stub.set_now(at("12:00:00"));
    fn backfill(w: &World, extra: &[&str]) -> String {
        let args = support::args::Args::backfill(&w.stub.url)
            .brokers(&w.brokers)
            .flag("--records-topic", &w.topics.records)
            .flag("--aggregates-topic", &w.topics.aggregates)
            .flag("--from", "2026-11-28T08:00:00Z")
            .flag("--to", "2026-11-28T10:00:00Z")
            .flag("--fields", "CO2Emission")
            .extra(extra);
        let (code, _, err) = args.run();
        assert_eq!(code, 0, "{err}");
        err
    }
    backfill(&w, &["--create-topics"]);
    let before = w.check();
    w.correct(at("08:30:00"), 42.5);
    let err = backfill(&w, &[]);
    let (records, aggregates) = w.read();
    assert_eq!(
        (records.len(), aggregates.len()),
        before,
        "an hour before 10:00 does not reach 08:30: {err}"
    );
    let err = backfill(&w, &["--max-revision-age", "1d"]);
    let (records, aggregates) = w.read();
    assert_eq!(
        since(&records, before.0),
        [("2026-11-28T08:30:00Z".to_string(), 1)],
        "{err}"
    );
    // The windows that hold 08:30: ending 08:31 to 08:35.
    assert_eq!(since(&aggregates, before.1).len(), 5, "{err}");
    let counts = w.check();
    backfill(&w, &["--max-revision-age", "1d"]);
    assert_eq!(w.check(), counts, "nothing again");
}
