//! `status` against the real broker: a healthy, a lagging, an incomplete and
//! a duplicated pair of topics, each with its exit code and its numbers.

use crate::support;

use serde_json::Value;
use support::args::Args;
use support::broker::{prodex_backfilled, test_broker, Topics};
use support::{assert_says, stub_at, utc, NOW};

/// `status --format json` of `t` at `now` plus `extra`: (code, report, stderr).
fn status(brokers: &str, t: &Topics, now: &str, extra: &[&str]) -> (i32, Value, String) {
    let (code, out, err) = Args::new("status")
        .brokers(brokers)
        .flag("--records-topic", &t.records)
        .flag("--aggregates-topic", &t.aggregates)
        .flag("--now", now)
        .flag("--kafka-timeout", "20s")
        .extra(&["--format", "json"])
        .extra(extra)
        .run();
    let report = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{e}: {out}\n{err}"));
    (code, report, err)
}

/// The one key combination of PowerSystemRightNow (no key columns).
fn only_key(report: &Value) -> &Value {
    let keys = report["keys"].as_array().unwrap();
    assert_eq!(keys.len(), 1, "{report}");
    assert_eq!(keys[0]["key"], serde_json::json!([]));
    &keys[0]
}

/// Publishes the stub's 11:55..11:59 at NOW into new topics.
fn published(brokers: &str, drop_minute: Option<&str>) -> Topics {
    let stub = stub_at(NOW);
    if let Some(m) = drop_minute {
        stub.drop_minute(utc(m));
    }
    let t = Topics::new("status");
    let (code, _, err) = t.publish(&stub, brokers, NOW, &[]);
    assert_eq!(code, 0, "{err}");
    t
}

#[test]
fn healthy_topics_exit_0_with_their_numbers() {
    let Some(brokers) = test_broker() else {
        return;
    };
    let t = published(&brokers, None);
    let (code, report, err) = status(&brokers, &t, NOW, &[]);
    assert_eq!(code, 0, "{report}\n{err}");
    assert_eq!(report["healthy"], true);
    let k = only_key(&report);
    assert_eq!(k["newest"], "2026-11-28T11:59:00Z");
    assert_eq!(k["lag_seconds"], 90);
    assert_eq!(k["records"], 5);
    assert_eq!(k["windows"], 1, "{report}");
    assert_eq!(k["incomplete_windows"], 0);
    assert_eq!(k["duplicates"], 0);
    assert_eq!(k["largest_gap_seconds"], Value::Null);
    // The table: one line per key and the verdict last.
    let (code, out, err) = Args::new("status")
        .brokers(&brokers)
        .flag("--records-topic", &t.records)
        .flag("--aggregates-topic", &t.aggregates)
        .flag("--now", NOW)
        .run();
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 3, "{out}");
    assert!(
        lines[1].starts_with("(no key)") && lines[1].contains("1m30s"),
        "{out}"
    );
    assert!(
        lines[2].starts_with("healthy: 1 key combination(s)"),
        "{out}"
    );
}

#[test]
fn lagging_topics_exit_5_saying_how_old() {
    let Some(brokers) = test_broker() else {
        return;
    };
    let t = published(&brokers, None);
    let later = "2026-11-28T13:00:30Z";
    let (code, report, err) = status(&brokers, &t, later, &[]);
    assert_eq!(code, 5, "{report}\n{err}");
    assert_eq!(report["healthy"], false);
    assert_eq!(only_key(&report)["lag_seconds"], 3690);
    let reasons = report["reasons"].to_string();
    assert!(reasons.contains("1h1m30s old"), "{reasons}");
    assert!(err.contains("unhealthy"), "{err}");
    // Within a larger --max-lag it is healthy.
    let (code, _, err) = status(&brokers, &t, later, &["--max-lag", "2h"]);
    assert_eq!(code, 0, "{err}");
    // A period without records: unhealthy, said so.
    let (code, report, _) = status(&brokers, &t, "2026-11-30T12:00:00Z", &[]);
    assert_eq!(code, 5);
    assert_eq!(report["keys"], serde_json::json!([]));
    assert!(
        report["reasons"][0]
            .as_str()
            .unwrap()
            .contains("no records"),
        "{report}"
    );
}

#[test]
fn an_incomplete_window_exits_5_naming_the_missing_minute() {
    let Some(brokers) = test_broker() else {
        return;
    };
    let t = published(&brokers, Some("2026-11-28T11:57:00Z"));
    let (code, report, err) = status(&brokers, &t, NOW, &[]);
    assert_eq!(code, 5, "{report}\n{err}");
    let k = only_key(&report);
    assert_eq!(k["records"], 4);
    assert_eq!(k["incomplete_windows"], 1);
    assert_eq!(k["missing"], serde_json::json!(["2026-11-28T11:57:00Z"]));
    assert_eq!(k["largest_gap_seconds"], 60);
    assert_eq!(k["missing_records"], 1);
    assert_eq!(
        k["missing_record_times"],
        serde_json::json!(["2026-11-28T11:57:00Z"])
    );
    // The record time missing is a reason of its own, and so is the window.
    let (code, _, err) = status(&brokers, &t, NOW, &["--max-incomplete", "1"]);
    assert_eq!(code, 5, "{err}");
    assert_says(&err, &["1 record time(s) missing", "2026-11-28T11:57:00Z"]);
    let lenient = ["--max-incomplete", "1", "--max-missing", "1"];
    let (code, _, err) = status(&brokers, &t, NOW, &lenient);
    assert_eq!(code, 0, "one of each allowed: {err}");
}

/// Published topics plus a forged record message of ours with `key`, and
/// their status, which must be unhealthy: (topics, report, stderr).
fn forged(brokers: &str, key: &str) -> (Topics, Value, String) {
    let t = published(brokers, None);
    support::keyed_runs::produce_ours(brokers, &t.records, "PowerSystemRightNow", key);
    let (code, report, err) = status(brokers, &t, NOW, &[]);
    assert_eq!(code, 5, "{report}\n{err}");
    (t, report, err)
}

#[test]
fn a_duplicate_key_exits_5() {
    let Some(brokers) = test_broker() else {
        return;
    };
    // A forged duplicate: a record message with our header.
    let (_, report, _) = forged(&brokers, "2026-11-28T11:58:00Z");
    let k = only_key(&report);
    assert_eq!(
        (k["records"].clone(), k["duplicates"].clone()),
        (5.into(), 1.into())
    );
    assert_eq!(report["reasons"], serde_json::json!(["1 duplicate key(s)"]));
}

/// A message of ours that every publish run refuses (exit 3) is unhealthy
/// at once: status used to skip it with a warning and say healthy until the
/// lag passed --max-lag.
#[test]
fn a_message_that_stops_publish_exits_5() {
    let Some(brokers) = test_broker() else {
        return;
    };
    let (t, report, _) = forged(&brokers, "2026-11-28T11:59:00Z/DK1");
    let reasons = report["reasons"].to_string();
    assert_says(
        &reasons,
        &[
            "1 message(s) of ours that stop every publish run (exit 3)",
            "key '2026-11-28T11:59:00Z/DK1'",
        ],
    );
    // And publish does stop on it.
    let stub = stub_at("2026-11-28T12:01:30Z");
    let (code, _, err) = t.publish(&stub, &brokers, "2026-11-28T12:01:30Z", &[]);
    assert_eq!(code, 3, "{err}");
}

/// A keyed dataset: a line per key combination, each with its own numbers.
#[test]
fn each_key_combination_is_reported_on_its_own() {
    let Some(brokers) = test_broker() else {
        return;
    };
    // 04:00..10:00 of DK1 and DK2, DK1's 07:00 row missing (15-minute windows).
    let t = prodex_backfilled(&brokers, "status-keyed");
    let now = "2026-11-28T10:00:30Z";
    let dataset = [
        "--dataset",
        "ElectricityProdex5MinRealtime",
        "--since",
        "5h",
    ];
    let (code, report, err) = status(&brokers, &t, now, &dataset);
    assert_eq!(code, 5, "{report}\n{err}");
    let keys = report["keys"].as_array().unwrap();
    let figures: Vec<String> = keys
        .iter()
        .map(|k| {
            format!(
                "{} newest {} lag {} records {} windows {} incomplete {} missing {} gap {}",
                k["key"],
                k["newest"],
                k["lag_seconds"],
                k["records"],
                k["windows"],
                k["incomplete_windows"],
                k["missing"],
                k["largest_gap_seconds"]
            )
        })
        .collect();
    // Records 05:05..09:55 (59 times), windows ending 05:05..10:00 (60); DK1
    // lacks 07:00, its windows ending 07:10 and 07:15 are incomplete and the
    // one ending 07:05 was never published (its last row is the missing one).
    assert_eq!(
        figures,
        [
            r#"["DK1"] newest "2026-11-28T09:55:00Z" lag 330 records 58 windows 59 incomplete 2 missing ["2026-11-28T07:00:00Z"] gap 300"#,
            r#"["DK2"] newest "2026-11-28T09:55:00Z" lag 330 records 59 windows 60 incomplete 0 missing [] gap null"#,
        ]
    );
    assert_eq!(
        report["reasons"],
        serde_json::json!([
            "2 incomplete window(s) (more than --max-incomplete 0)",
            "1 record time(s) missing between records of the same key (more than \
             --max-missing 0): DK1 2026-11-28T07:00:00Z"
        ])
    );
    let mut lenient = dataset.to_vec();
    lenient.extend(["--max-incomplete", "2", "--max-missing", "1"]);
    let (code, _, err) = status(&brokers, &t, now, &lenient);
    assert_eq!(code, 0, "{err}");
}

#[test]
fn kafka_errors_exit_4() {
    let Some(brokers) = test_broker() else {
        return;
    };
    let t = Topics::new("status-missing");
    let (code, out, err) = Args::new("status")
        .brokers(&brokers)
        .flag("--records-topic", &t.records)
        .flag("--aggregates-topic", &t.aggregates)
        .flag("--kafka-timeout", "5s")
        .run();
    assert_eq!((code, out.as_str()), (4, ""), "{err}");
    assert!(err.contains(&t.records), "{err}");
}

/// A deployment that publishes one topic only (`--records-topic ''` or
/// `--aggregates-topic ''` for publish) is watched the same way: status
/// refused an empty name.
#[test]
fn one_topic_alone_can_be_watched() {
    let Some(brokers) = test_broker() else {
        return;
    };
    let t = published(&brokers, None);
    for (records, aggregates) in [(t.records.as_str(), ""), ("", t.aggregates.as_str())] {
        let (code, out, err) = Args::new("status")
            .brokers(&brokers)
            .flag("--records-topic", records)
            .flag("--aggregates-topic", aggregates)
            .flag("--now", NOW)
            .extra(&["--format", "json"])
            .run();
        assert_eq!(code, 0, "{records:?} {aggregates:?}: {out}\n{err}");
        let report: Value = serde_json::from_str(&out).unwrap();
        let k = only_key(&report);
        // The newest row, 11:59, whether read as a record or from its window.
        assert_eq!(k["lag_seconds"], 90, "{report}");
    }
    let (code, _, err) = Args::new("status")
        .brokers(&brokers)
        .flag("--records-topic", "")
        .flag("--aggregates-topic", "")
        .run();
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("both empty"), "{err}");
}
