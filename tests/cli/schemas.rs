//! The JSON Schemas: `schema` prints exactly the committed files, they accept
//! what the program writes and refuse what it must not; completeness in the
//! aggregates (`expected_rows`, `missing`, `--completeness`).

use crate::support;

use serde_json::{json, Value};
use support::schema::{assert_valid, committed, errors};
use support::{dry_run, dry_run_ok, eds, outcome, stub_at, utc, words};

const KNOWN: [&str; 6] = [
    "PowerSystemRightNow",
    "ElectricityProdex5MinRealtime",
    "CO2Emis",
    "CO2EmisProg",
    "Forecasts_5Min",
    "DayAheadPrices",
];

#[test]
fn schema_prints_the_committed_files() {
    for dataset in KNOWN {
        for kind in ["records", "aggregates"] {
            let (code, out, err) =
                outcome(eds().args(["schema", "--dataset", dataset, "--kind", kind]));
            assert_eq!(code, 0, "{err}");
            let path = format!(
                "{}/schemas/{dataset}.{kind}.schema.json",
                env!("CARGO_MANIFEST_DIR")
            );
            let file = std::fs::read_to_string(&path).unwrap();
            assert_eq!(
                out, file,
                "{path} drifted: regenerate with eds-kafka schema --dataset {dataset} --kind {kind}"
            );
        }
    }
    // A described dataset gets its own columns.
    let (code, out, err) = outcome(eds().args(words("schema --dataset Elspotprices --time-column HourUTC --key-columns PriceArea --resolution 1h --kind aggregates")));
    assert_eq!(code, 0, "{err}");
    let s: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(s["properties"]["dataset"]["const"], "Elspotprices");
    assert!(s["required"]
        .as_array()
        .unwrap()
        .contains(&json!("PriceArea")));
    let (code, _, err) = outcome(eds().args(["schema", "--dataset", "Nope", "--kind", "records"]));
    assert_eq!(code, 2, "{err}");
}

fn good_aggregate() -> Value {
    json!({"dataset": "Forecasts_5Min", "window_start": "2026-11-28T11:55:00Z",
        "window_end": "2026-11-28T12:10:00Z", "rows": 2, "expected_rows": 3,
        "missing": ["2026-11-28T12:00:00Z"], "PriceArea": "DK1", "ForecastType": "Solar",
        "fields": {"ForecastCurrent": {"count": 2, "mean": 1.5, "min": null, "max": 2.0, "last": 2.0}}})
}

#[test]
fn wrong_messages_fail_validation() {
    assert_valid("Forecasts_5Min", "aggregates", &good_aggregate());
    type Edit = fn(&mut Value);
    let broken: [(&str, Edit); 7] = [
        ("no key column", |v| {
            v.as_object_mut().unwrap().remove("ForecastType");
        }),
        ("count as text", |v| {
            v["fields"]["ForecastCurrent"]["count"] = json!("2")
        }),
        ("unknown stat", |v| {
            v["fields"]["ForecastCurrent"]["median"] = json!(1.0)
        }),
        ("time without zone", |v| {
            v["window_end"] = json!("2026-11-28T12:10:00")
        }),
        ("other dataset", |v| v["dataset"] = json!("CO2Emis")),
        ("unknown top-level field", |v| v["extra"] = json!(1)),
        ("missing not a list", |v| {
            v["missing"] = json!("2026-11-28T12:00:00Z")
        }),
    ];
    for (what, edit) in broken {
        let mut v = good_aggregate();
        edit(&mut v);
        assert!(
            !errors("Forecasts_5Min", "aggregates", &v).is_empty(),
            "{what} passed"
        );
    }
    let record = json!({"Minutes5UTC": "2026-11-28T12:05:00Z", "Minutes5DK": "2026-11-28T13:05:00",
        "PriceArea": "DK1", "ForecastType": "Solar", "ForecastCurrent": null, "NewField": "x"});
    assert_valid("Forecasts_5Min", "records", &record);
    let mut bad = record.clone();
    bad["ForecastCurrent"] = json!("12.5");
    assert!(
        !errors("Forecasts_5Min", "records", &bad).is_empty(),
        "a number as text passed"
    );
    let mut bad = record;
    bad.as_object_mut().unwrap().remove("PriceArea");
    assert!(
        !errors("Forecasts_5Min", "records", &bad).is_empty(),
        "no key passed"
    );
    assert!(committed("PowerSystemRightNow", "records")["required"] == json!(["Minutes1UTC"]));
}

#[test]
fn a_gap_in_the_window_is_named_in_missing() {
    let stub = stub_at("2026-11-28T12:00:30Z");
    stub.drop_minute(utc("2026-11-28T11:57:00Z"));
    let out = dry_run_ok(
        &stub,
        "2026-11-28T12:00:30Z",
        &["--completeness", "--stats", "count"],
    );
    let lines: Vec<&str> = out.lines().collect();
    assert!(
        lines[0].ends_with(",Exchange_Sum_count,expected_rows,missing"),
        "{}",
        lines[0]
    );
    assert!(
        lines[1].starts_with("2026-11-28T11:55:00Z,2026-11-28T12:00:00Z,4,"),
        "{}",
        lines[1]
    );
    assert!(
        lines[1].ends_with(",5,2026-11-28T11:57:00Z"),
        "{}",
        lines[1]
    );
    // Without the flag the columns stay as they were.
    let (_, out, _) = dry_run(&stub, "2026-11-28T12:00:30Z", &["--stats", "count"]);
    assert!(
        out.lines().next().unwrap().ends_with(",Exchange_Sum_count"),
        "{out}"
    );
}
