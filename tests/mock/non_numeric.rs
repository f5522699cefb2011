//! A known value field (a nullable number in `<Dataset>.records.schema.json`)
//! that the API sends as text or a boolean is published as null, with one
//! warning per field and a metric: every published record meets its schema,
//! selected for aggregation or not, parsed or written from the API's text
//! (backfill), and `--dry-run` prints the same empty cell.

use crate::support;

use serde_json::{json, Value};
use support::args::Args;
use support::keyed_runs::read_all;
use support::mock::{brokers, AGGREGATES, RECORDS};
use support::schema::assert_valid;
use support::stub::{psrn_row, StubApi};
use support::{dry_run, dry_run_ok, utc, NOW};

/// PowerSystemRightNow at 11:55 .. 11:59, Exchange_DK1_DE (not aggregated by
/// default) "N/A" at 11:56 and 11:58, SolarPower (aggregated) `true` at 11:57.
fn stub() -> StubApi {
    let mut rows: Vec<Value> = (55..60)
        .map(|m| psrn_row(utc(&format!("2026-11-28T11:{m:02}:00Z"))))
        .collect();
    rows[1]["Exchange_DK1_DE"] = json!("N/A");
    rows[3]["Exchange_DK1_DE"] = json!("N/A");
    rows[2]["SolarPower"] = json!(true);
    let stub = StubApi::start();
    stub.serve_sorted_rows(rows);
    stub
}

/// The records of the topic, each checked against the schema; the values of
/// Exchange_DK1_DE and SolarPower at 11:56, 11:57, 11:58.
fn checked_records(brokers: &str) -> Vec<(Value, Value)> {
    let records = read_all(brokers, RECORDS);
    assert_eq!(records.len(), 5);
    for r in &records {
        assert_valid("PowerSystemRightNow", "records", &r.value);
    }
    records[1..4]
        .iter()
        .map(|r| {
            (
                r.value["Exchange_DK1_DE"].clone(),
                r.value["SolarPower"].clone(),
            )
        })
        .collect()
}

fn assert_nulled(values: &[(Value, Value)]) {
    assert!(values[0].0.is_null() && values[2].0.is_null(), "{values:?}");
    assert!(values[1].0.is_number(), "{values:?}");
    assert!(
        values[1].1.is_null() && values[0].1.is_number(),
        "{values:?}"
    );
}

/// One warning per field, with its count and first row time.
fn assert_warned(err: &str) {
    let warnings: Vec<&str> = err.lines().filter(|l| l.contains("[WARN]")).collect();
    assert_eq!(warnings.len(), 2, "{err}");
    assert!(
        warnings.iter().any(|w| w.contains(
            "field Exchange_DK1_DE of PowerSystemRightNow was not a number in 2 rows \
             (first at 2026-11-28T11:56:00Z: \"N/A\"); published as null"
        )),
        "{err}"
    );
    assert!(
        warnings.iter().any(|w| w.contains(
            "field SolarPower of PowerSystemRightNow was not a number in 1 row \
             (first at 2026-11-28T11:57:00Z: true); published as null"
        )),
        "{err}"
    );
}

#[test]
fn publish_writes_null_for_a_known_field_that_is_not_a_number() {
    for fields in [None, Some("all")] {
        let (_mock, brokers) = brokers();
        let stub = stub();
        let dir = support::temp_dir();
        let metrics = dir.path().join("eds.prom");
        let mut args = Args::publish(&stub.url, NOW)
            .brokers(&brokers)
            .flag("--metrics-file", metrics.to_str().unwrap());
        if let Some(fields) = fields {
            args = args.flag("--fields", fields);
        }
        let (code, _, err) = args.run();
        assert_eq!(code, 0, "--fields {fields:?}: {err}");
        assert_nulled(&checked_records(&brokers));
        assert_warned(&err);
        let text = std::fs::read_to_string(&metrics).unwrap();
        assert!(
            text.contains("eds_kafka_non_numeric_values{dataset=\"PowerSystemRightNow\"} 3\n"),
            "{text}"
        );
        let aggregates = read_all(&brokers, AGGREGATES);
        let solar = &aggregates[0].value["fields"]["SolarPower"];
        assert_eq!(
            solar["count"], 3,
            "null at 11:57 and (as served) 11:58: {solar}"
        );
        if fields.is_some() {
            let exchange = &aggregates[0].value["fields"]["Exchange_DK1_DE"];
            assert_eq!(exchange["count"], 3, "still a numeric field: {exchange}");
        }
        // The next run reads the same rows again, publishes none of them: no warning.
        let (code, _, err) = args.run();
        assert_eq!(code, 0, "{err}");
        assert!(!err.contains("[WARN]"), "{err}");
        let text = std::fs::read_to_string(&metrics).unwrap();
        assert!(
            text.contains("eds_kafka_non_numeric_values{dataset=\"PowerSystemRightNow\"} 0\n"),
            "{text}"
        );
    }
}

#[test]
fn backfill_writes_null_into_the_records_it_writes_from_the_apis_text() {
    let (_mock, brokers) = brokers();
    let stub = stub();
    let (code, _, err) = Args::backfill(&stub.url)
        .brokers(&brokers)
        .flag("--fields", "CO2Emission")
        .flag("--from", "2026-11-28T11:55:00Z")
        .flag("--to", "2026-11-28T12:00:00Z")
        .run();
    assert_eq!(code, 0, "{err}");
    assert_nulled(&checked_records(&brokers));
    assert_warned(&err);
}

#[test]
fn the_dry_run_prints_the_same_empty_cell() {
    let stub = stub();
    let (code, out, err) = dry_run(
        &stub,
        NOW,
        &["--records", "--fields", "SolarPower,Exchange_DK1_DE"],
    );
    assert_eq!(code, 0, "{err}");
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "Minutes1UTC,Minutes1DK,SolarPower,Exchange_DK1_DE"
    );
    assert!(
        lines[2].ends_with(",2026-11-28T12:56:00,0.250001,"),
        "{out}"
    );
    assert!(lines[3].contains(",2026-11-28T12:57:00,,"), "{out}");
    assert_warned(&err);
    let out = dry_run_ok(&stub, NOW, &["--fields", "Exchange_DK1_DE"]);
    assert!(out.lines().nth(1).unwrap().contains(",5,3,"), "{out}");
}
