//! Key values and their JSON type, through the real binary against the stub
//! API: a key column whose values differ only in type (the number 1 and the
//! string "1") is refused, a numeric key stays a number in the aggregate,
//! and a (time, key) sent twice with other values is not dropped silently.

use crate::support;

use serde_json::{json, Value};
use support::args::Args;
use support::keyed_runs::read_all;
use support::schema::assert_valid;
use support::stub::StubApi;
use support::{assert_says, dry_run, NOW};

const RECORDS: &str = "eds.CO2Emis.records";
const AGGREGATES: &str = "eds.CO2Emis.aggregates";

/// A CO2Emis row at `11:MM` UTC.
fn row(minute: u32, area: Value, co2: f64) -> Value {
    json!({
        "Minutes5UTC": format!("2026-11-28T11:{minute:02}:00"),
        "Minutes5DK": format!("2026-11-28T12:{minute:02}:00"),
        "PriceArea": area,
        "CO2Emission": co2,
    })
}

fn stub(rows: Vec<Value>) -> StubApi {
    let stub = StubApi::start();
    stub.serve_sorted_rows(rows);
    stub
}

fn co2_dry_run(stub: &StubApi) -> (i32, String, String) {
    dry_run(stub, NOW, &["--dataset", "CO2Emis"])
}

#[test]
fn a_key_value_sent_as_a_number_and_as_a_string_is_refused() {
    // The same time: one row would have hidden the other under one message key.
    let same_time = stub(vec![row(55, json!(1), 10.0), row(55, json!("1"), 20.0)]);
    let (code, out, err) = co2_dry_run(&same_time);
    assert_eq!((code, out.as_str()), (3, ""), "{err}");
    assert_says(
        &err,
        &[
            "key column PriceArea of CO2Emis",
            "the number 1",
            "the string \"1\"",
            "2026-11-28T11:55:00Z",
        ],
    );
    // Other times: one key's cursor and window would have mixed the two.
    let other_times = stub(vec![
        row(45, json!("1"), 5.0),
        row(50, json!(1), 10.0),
        row(55, json!("DK1"), 20.0),
    ]);
    let (code, _, err) = co2_dry_run(&other_times);
    assert_eq!(code, 3, "{err}");
    assert_says(
        &err,
        &[
            "the string \"1\" (row 2026-11-28T11:45:00Z)",
            "the number 1 (row 2026-11-28T11:50:00Z)",
        ],
    );
    // Numbers and strings that print differently are different keys.
    let distinct = stub(vec![row(55, json!(1), 10.0), row(55, json!("DK1"), 20.0)]);
    let (code, out, err) = co2_dry_run(&distinct);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 3, "{out}");
}

#[test]
fn a_numeric_key_stays_a_number_in_the_aggregate() {
    let mock = support::mock::cluster();
    mock.create_topic(RECORDS, 1, 1).unwrap();
    mock.create_topic(AGGREGATES, 1, 1).unwrap();
    let brokers = mock.bootstrap_servers();
    let stub = stub(vec![
        row(50, json!(1), 10.0),
        row(50, json!(2), 30.0),
        row(55, json!(2), 40.0),
        row(55, json!(1), 20.0),
    ]);
    let (code, _, err) = Args::publish(&stub.url, NOW)
        .brokers(&brokers)
        .extra(&["--dataset", "CO2Emis", "--window", "10m"])
        .run();
    assert_eq!(code, 0, "{err}");
    let records = read_all(&brokers, RECORDS);
    assert_eq!(records.len(), 4);
    for r in &records {
        assert_valid("CO2Emis", "records", &r.value);
    }
    let aggregates = read_all(&brokers, AGGREGATES);
    let keys: Vec<&str> = aggregates.iter().map(|a| a.key.as_str()).collect();
    assert_eq!(keys, ["2026-11-28T12:00:00Z/1", "2026-11-28T12:00:00Z/2"]);
    for (a, area) in aggregates.iter().zip([1, 2]) {
        assert_eq!(a.value["PriceArea"], json!(area), "{}", a.value);
        assert_valid("CO2Emis", "aggregates", &a.value);
    }
    assert_eq!(aggregates[0].value["fields"]["CO2Emission"]["mean"], 15.0);
    // consume reads the numeric key back, as the dry run prints it.
    let (code, out, err) = Args::new("consume")
        .brokers(&brokers)
        .extra(&["--dataset", "CO2Emis", "--from-beginning"])
        .flag("--idle-timeout", "1s")
        .run();
    assert_eq!(code, 0, "{err}");
    let (_, dry, _) = dry_run(&stub, NOW, &["--dataset", "CO2Emis", "--window", "10m"]);
    assert_eq!(out, dry);
    assert!(out.contains(",2,1,"), "{out}");
}

#[test]
fn a_time_and_key_sent_twice_with_other_values_is_warned() {
    let twice = stub(vec![
        row(55, json!("DK1"), 10.0),
        row(55, json!("DK2"), 30.0),
        row(55, json!("DK1"), 99.0),
    ]);
    let (code, out, err) = co2_dry_run(&twice);
    assert_eq!(code, 0, "{err}");
    let dk1 = out.lines().find(|l| l.contains(",DK1,")).unwrap();
    assert!(
        dk1.contains(",10,10,10,10"),
        "the first received is kept: {dk1}"
    );
    let warnings: Vec<&str> = err.lines().filter(|l| l.contains("[WARN]")).collect();
    assert_eq!(warnings.len(), 1, "{err}");
    assert!(
        warnings[0].contains("1 row of CO2Emis repeated the time and key of an earlier row")
            && warnings[0].contains("2026-11-28T11:55:00Z/DK1")
            && warnings[0].contains("the first received was kept"),
        "{err}"
    );
    // The same row twice (as the API may send it) is not worth a warning.
    let same = stub(vec![
        row(55, json!("DK1"), 10.0),
        row(55, json!("DK1"), 10.0),
    ]);
    let (code, out, err) = co2_dry_run(&same);
    assert_eq!(code, 0, "{err}");
    assert_eq!(out.lines().count(), 2, "{out}");
    assert!(!err.contains("[WARN]"), "{err}");
}
