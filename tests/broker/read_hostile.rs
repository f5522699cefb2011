//! Hostile key bytes and field names through every reader, values at the
//! limits of f64, a `--fields` typo, `-o -`, 3,000 keys, and an aggregates
//! topic that falls behind or holds what is not an aggregate: nothing
//! floods, nothing hangs, nothing reaches the terminal raw.

use crate::support;

use serde_json::{json, Value};
use support::args::Args;
use support::broker::{test_broker, Topics};
use support::forge::{self, Forger};
use support::stub::StubApi;
use support::{assert_says, feed, keyed, utc, NOW};

use super::read::{at, first_publish, ok};

/// No control character in `text` but line feeds: nothing that could drive
/// a terminal or forge a log line.
fn assert_no_raw_controls(what: &str, text: &str) {
    let raw: Vec<char> = text
        .chars()
        .filter(|c| *c != '\n' && (c.is_control() || ('\u{2028}'..='\u{202e}').contains(c)))
        .collect();
    assert!(raw.is_empty(), "{what} has raw {raw:?}:\n{text}");
}

/// Parses `svg` as XML 1.0 with Python's expat (strict about the characters
/// XML forbids).
fn assert_well_formed_xml(svg: &str) {
    use std::process::{Command, Stdio};
    let python = Command::new("python3")
        .args([
            "-c",
            "import sys, xml.dom.minidom; xml.dom.minidom.parse(sys.stdin.buffer)",
        ])
        .stdin(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("python3 runs");
    let out = feed(python, svg.as_bytes());
    assert!(
        out.status.success(),
        "not XML: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A keyed dataset described by flags, backfilled from `from` to `to`.
fn backfilled(brokers: &str, shape: &keyed::Shape, from: &str, to: &str, fields: &str) -> Topics {
    let rows = keyed::rows(shape, utc(from), utc(to))
        .into_iter()
        .map(|(t, k)| keyed::row(shape, t, k))
        .collect();
    let stub = StubApi::start();
    stub.serve_sorted_rows(rows);
    let t = Topics::new("read-keyed");
    let (code, _, err) = Args::backfill(&stub.url)
        .brokers(brokers)
        .extra(&described())
        .flag("--fields", fields)
        .flag("--window", "10m")
        .flag("--records-topic", &t.records)
        .flag("--aggregates-topic", &t.aggregates)
        .flag("--from", from)
        .flag("--to", to)
        .flag("--now", NOW)
        .extra(&["--create-topics"])
        .run();
    assert_eq!(code, 0, "{err}");
    assert_no_raw_controls("backfill's log", &err);
    t
}

/// The flags that describe `keyed::synthetic`'s dataset.
fn described() -> [&'static str; 10] {
    [
        "--dataset",
        "Synthetic",
        "--time-column",
        "Minutes5UTC",
        "--dk-time-column",
        "Minutes5DK",
        "--key-columns",
        "Area",
        "--resolution",
        "5m",
    ]
}

const HOSTILE: [&str; 7] = [
    "esc\x1b[31mred",
    "cr\rlf\nx",
    "bel\x07nul\0y",
    "del\x7fz",
    "ls\u{2028}ps\u{2029}",
    "bidi\u{202e}rtl",
    "c1\u{9b}2J",
];

/// Key values and field names with control characters: escaped visibly in
/// the status table and verdict, the logs and the chart (well-formed XML);
/// kept exact in the JSON report and consume's CSV.
#[test]
fn hostile_key_values_and_field_names_are_shown_escaped() {
    let Some(brokers) = test_broker() else {
        return;
    };
    let field = "Ugly\x1b[1mField";
    let shape = keyed::Shape {
        keys: HOSTILE.iter().map(|k| vec![*k]).collect(),
        fields: vec!["Value", field],
        ..keyed::synthetic(1)
    };
    let fields = format!("Value,{field}");
    let t = backfilled(
        &brokers,
        &shape,
        "2026-11-28T11:00:00Z",
        "2026-11-28T12:00:00Z",
        &fields,
    );
    let status = |format: &str| {
        Args::new("status")
            .brokers(&brokers)
            .extra(&described())
            .flag("--records-topic", &t.records)
            .flag("--aggregates-topic", &t.aggregates)
            .flag("--now", "2026-11-28T13:00:30Z")
            .flag("--format", format)
            .run()
    };
    let (code, table, err) = status("table");
    assert_eq!(code, 5, "an hour old: {err}");
    assert_no_raw_controls("the status table", &table);
    assert_no_raw_controls("status's verdict", &err);
    assert_says(&table, &["esc\\x1b[31mred", "cr\\rlf\\nx"]);
    assert!(err.contains("bel\\x07nul\\0y"), "{err}");
    let (_, json, err) = status("json");
    assert_no_raw_controls("status's log", &err);
    let report: Value = serde_json::from_str(&json).unwrap();
    let mut keys: Vec<String> = (report["keys"].as_array().unwrap().iter())
        .map(|k| k["key"][0].as_str().unwrap().to_string())
        .collect();
    keys.sort();
    let mut expected: Vec<String> = HOSTILE.iter().map(|k| k.to_string()).collect();
    expected.sort();
    assert_eq!(keys, expected, "JSON keeps the exact values");
    // The chart: well-formed XML, labels escaped.
    let (code, svg, err) = Args::new("chart")
        .brokers(&brokers)
        .extra(&described())
        .flag("--aggregates-topic", &t.aggregates)
        .flag("--fields", &fields)
        .flag("--now", "2026-11-28T12:00:30Z")
        .flag("--since", "2h")
        .extra(&["-o", "-"])
        .run();
    assert_eq!(code, 0, "{err}");
    assert_no_raw_controls("the chart", &svg);
    assert_no_raw_controls("chart's log", &err);
    assert_well_formed_xml(&svg);
    assert_says(&svg, &["esc\\x1b[31mred", "Ugly\\x1b[1mField"]);
    // consume's CSV is data: exact, and quoted where RFC 4180 says.
    let (code, csv, err) = Args::new("consume")
        .brokers(&brokers)
        .extra(&described())
        .flag("--topic", &t.records)
        .flag("--fields", &fields)
        .extra(&["--from-beginning"])
        .run();
    assert_eq!(code, 0, "{err}");
    assert_no_raw_controls("consume's log", &err);
    let mut reader = csv::Reader::from_reader(csv.as_bytes());
    let area = reader
        .headers()
        .unwrap()
        .iter()
        .position(|h| h == "Area")
        .unwrap();
    let mut seen: Vec<String> = reader
        .records()
        .map(|r| r.unwrap()[area].to_string())
        .collect();
    assert_eq!(seen.len(), 7 * 12, "{csv}");
    seen.sort();
    seen.dedup();
    assert_eq!(seen, expected);
}

/// Aggregates whose values are at the limits of f64: the chart spun at
/// 100% CPU; it draws them (the axis clamped) at once.
#[test]
fn a_chart_of_values_at_the_limits_of_f64_renders() {
    let Some(brokers) = test_broker() else {
        return;
    };
    let t = Topics::new("read-limits");
    forge::create_topic(&brokers, &t.aggregates, &[]);
    let ours = Forger::new(&brokers);
    let values = [
        (1e308, -1.797e308, 1.797e308),
        (-1e308, -f64::MAX, f64::MAX),
        (5e-324, 5e-324, 5e-324),
        (1.797e308, 1.797e308, 1.797e308),
    ];
    for (i, (mean, min, max)) in values.into_iter().enumerate() {
        let end = utc("2026-11-28T11:50:00Z") + chrono::TimeDelta::minutes(i as i64);
        let key = support::rfc3339(end);
        let value = json!({"dataset": "PowerSystemRightNow",
            "window_start": support::rfc3339(end - chrono::TimeDelta::minutes(5)),
            "window_end": key, "rows": 5, "expected_rows": 5, "missing": [],
            "fields": {"CO2Emission": {"count": 5, "mean": mean, "min": min, "max": max, "last": mean}}});
        let ts = Some(end.timestamp_millis());
        ours.send(
            &t.aggregates,
            key.as_bytes(),
            value.to_string().as_bytes(),
            Some("PowerSystemRightNow"),
            ts,
        );
    }
    let (svg, _) = ok(Args::new("chart")
        .brokers(&brokers)
        .flag("--aggregates-topic", &t.aggregates)
        .flag("--fields", "CO2Emission")
        .flag("--now", NOW));
    assert_well_formed_xml(&svg);
    assert!(svg.contains("4 window(s)"), "{svg}");
}

/// `chart --fields` naming a field the aggregates lack was exit 0 with an
/// empty panel; `-o -` wrote a file named `-`.
#[test]
fn a_fields_typo_is_a_usage_error_and_dash_o_is_stdout() {
    let Some(brokers) = test_broker() else {
        return;
    };
    let (_stub, t) = first_publish(&brokers, "read-chart");
    let chart = |extra: &[&str]| {
        Args::new("chart")
            .brokers(&brokers)
            .flag("--aggregates-topic", &t.aggregates)
            .flag("--now", NOW)
            .extra(extra)
    };
    let (code, out, err) = chart(&["--fields", "CO2Emision,SolarPower"]).run();
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(
        err.contains("no field 'CO2Emision'")
            && err.contains("CO2Emission")
            && !err.contains("'SolarPower'"),
        "{err}"
    );
    let dir = support::temp_dir();
    let out = support::eds()
        .current_dir(dir.path())
        .args(chart(&["-o", "-"]).list())
        .output()
        .unwrap();
    assert_eq!(
        out.status.code(),
        Some(0),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(out.stdout.starts_with(b"<svg"));
    assert_eq!(
        std::fs::read_dir(dir.path()).unwrap().count(),
        0,
        "no file named '-'"
    );
}

/// 3,000 key combinations: the verdict names the worst five and counts the
/// rest on one line; a `--now` before every message and a chart pointed at
/// a records topic say so once, not once a message; the chart draws the ten
/// with the most windows and says how many it left out.
#[test]
fn three_thousand_keys_do_not_flood() {
    let Some(brokers) = test_broker() else {
        return;
    };
    let shape = keyed::synthetic(3000);
    let t = backfilled(
        &brokers,
        &shape,
        "2026-11-28T11:40:00Z",
        "2026-11-28T12:00:00Z",
        "Value",
    );
    let status = |now: &str| {
        Args::new("status")
            .brokers(&brokers)
            .extra(&described())
            .flag("--records-topic", &t.records)
            .flag("--aggregates-topic", &t.aggregates)
            .flag("--now", now)
            .flag("--max-lag", "1m")
            .run()
    };
    let (code, _, err) = status(NOW);
    assert_eq!(code, 5, "{err}");
    assert!(
        err.len() < 4000 && err.lines().count() < 5,
        "{} bytes: {err}",
        err.len()
    );
    assert!(
        err.contains("and 2996 more (status --format json lists them all)"),
        "{err}"
    );
    let (code, _, err) = status("2026-11-28T11:00:30Z");
    assert_eq!(code, 5, "{err}");
    assert!(
        err.len() < 4000 && err.lines().count() < 5,
        "{} bytes: {err}",
        err.len()
    );
    assert!(err.contains("stop every publish run"), "{err}");
    let chart = |topic: &str| {
        Args::new("chart")
            .brokers(&brokers)
            .extra(&described())
            .flag("--aggregates-topic", topic)
            .flag("--now", NOW)
            .run()
    };
    let (code, svg, err) = chart(&t.aggregates);
    assert_eq!(code, 0, "{err}");
    assert!(err.lines().count() < 5, "{err}");
    assert!(
        svg.contains("10 of 3000 key combinations drawn"),
        "{}",
        &svg[..2000]
    );
    assert_eq!(svg.matches("\nA000").count(), 10, "ten keys in the legend");
    let (code, _, err) = chart(&t.records);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.lines().count() < 5 && err.contains("not aggregates"),
        "{err}"
    );
}

/// Status tells the truth about the aggregates topic: behind the records
/// (runs that published records only), and a value of ours that is not an
/// aggregate (counted as invalid, never as a complete window).
#[test]
fn status_says_when_the_aggregates_fall_behind_or_are_not_aggregates() {
    let Some(brokers) = test_broker() else {
        return;
    };
    let (stub, t) = first_publish(&brokers, "read-behind");
    let forged = Forger::new(&brokers);
    let key = "2026-11-28T11:58:00Z";
    let ts = Some(utc(key).timestamp_millis());
    forged.send(
        &t.aggregates,
        key.as_bytes(),
        b"{garbage",
        Some("PowerSystemRightNow"),
        ts,
    );
    let report = |now: &str| {
        let (_, out, _) = Args::new("status")
            .brokers(&brokers)
            .flag("--records-topic", &t.records)
            .flag("--aggregates-topic", &t.aggregates)
            .flag("--now", now)
            .extra(&["--format", "json"])
            .run();
        serde_json::from_str::<Value>(&out).unwrap()
    };
    let r = report(NOW);
    assert_eq!(r["healthy"], false);
    assert_eq!(r["keys"][0]["windows"], 1, "{r}");
    assert!(
        r["reasons"][0]
            .as_str()
            .unwrap()
            .contains("not valid aggregates")
            && r["reasons"][0].as_str().unwrap().contains("offset 1"),
        "{r}"
    );
    for minute in 1..=5 {
        stub.set_now(utc(&at(minute)));
        let (code, _, err) = Args::publish(&stub.url, &at(minute))
            .brokers(&brokers)
            .flag("--records-topic", &t.records)
            .flag("--aggregates-topic", "")
            .run();
        assert_eq!(code, 0, "{err}");
    }
    let r = report(&at(5));
    let reasons = r["reasons"].to_string();
    assert!(
        reasons.contains(
            "the aggregates are behind the records: newest window ends 2026-11-28T12:00:00Z"
        ),
        "{reasons}"
    );
}
