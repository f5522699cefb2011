use super::*;
use serde_json::json;

fn obj(v: Value) -> Map<String, Value> {
    v.as_object().unwrap().clone()
}

#[test]
fn parse_row_rewrites_utc_and_keeps_unknown_fields() {
    let d = Dataset::known("PowerSystemRightNow").unwrap();
    let row = d
        .parse_row(obj(json!({"Minutes1UTC": "2026-04-08T21:30:00",
            "Minutes1DK": "2026-04-08T23:30:00", "CO2Emission": 107.0,
            "SolarPower": null, "NewField": "x"})))
        .unwrap();
    assert_eq!(row.message_key().to_string(), "2026-04-08T21:30:00Z");
    assert_eq!(row.fields["Minutes1UTC"], json!("2026-04-08T21:30:00Z"));
    assert_eq!(row.fields["Minutes1DK"], json!("2026-04-08T23:30:00"));
    assert_eq!(row.fields["NewField"], json!("x"));
    assert_eq!(row.number("CO2Emission"), Ok(Some(107.0)));
    assert_eq!(row.number("SolarPower"), Ok(None));
    assert_eq!(row.number("Missing"), Ok(None));
    assert!(row.number("NewField").is_err());
    // The rewritten row parses to the same row again (what consume relies on).
    assert_eq!(d.parse_row(row.fields.clone()).unwrap(), row);
}

/// A Danish time column that is not a time was published as is, and
/// broke the records' schema.
#[test]
fn a_danish_time_that_is_not_a_time_is_refused() {
    let d = Dataset::known("PowerSystemRightNow").unwrap();
    let row = |dk: Value| {
        let mut o = obj(json!({"Minutes1UTC": "2026-04-08T21:30:00", "CO2Emission": 1.0}));
        if !dk.is_null() {
            o.insert("Minutes1DK".into(), dk);
        }
        d.parse_row(o)
    };
    assert!(row(json!("2026-04-08T23:30:00")).is_ok());
    assert!(row(json!("2026-04-08T23:30")).is_ok());
    assert!(row(Value::Null).is_ok(), "absent: optional in the schema");
    for bad in [
        json!(5),
        json!("garbage"),
        json!("2026-04-08T23:30:00Z"),
        json!(true),
    ] {
        let e = row(bad.clone()).unwrap_err().to_string();
        assert!(e.contains("not a Danish local time"), "{bad}: {e}");
    }
    let mut o = obj(json!({"Minutes1UTC": "2026-04-08T21:30:00", "Minutes1DK": null}));
    o.insert("CO2Emission".into(), json!(1.0));
    assert!(d.parse_row(o).is_err(), "null");
}

#[test]
fn known_value_fields_that_are_not_numbers_become_null_or_the_number_of_their_text() {
    let d = Dataset::known("PowerSystemRightNow").unwrap();
    let row = d
        .parse_row(obj(json!({"Minutes1UTC": "2026-04-08T21:30:00",
            "Minutes1DK": "2026-04-08T23:30:00", "CO2Emission": 107.0,
            "Exchange_DK1_DE": "N/A", "SolarPower": true, "ImbalanceDK1": null,
            "OffshoreWindPower": "112.04", "NewField": "x", "Other": "5"})))
        .unwrap();
    let fixed: Vec<_> = (row.fixed.iter())
        .map(|f| (f.field.as_str(), f.served.clone(), f.published.clone()))
        .collect();
    assert_eq!(
        fixed,
        [
            ("Exchange_DK1_DE", json!("N/A"), Value::Null),
            ("SolarPower", json!(true), Value::Null),
            ("OffshoreWindPower", json!("112.04"), json!(112.04)),
        ]
    );
    assert_eq!(row.number("OffshoreWindPower"), Ok(Some(112.04)));
    assert_eq!(row.fields["Other"], json!("5"), "an unknown field is text");
    assert_eq!(row.fields["Exchange_DK1_DE"], Value::Null);
    assert_eq!(row.number("SolarPower"), Ok(None));
    assert_eq!(
        row.fields["NewField"],
        json!("x"),
        "unknown fields are kept"
    );
    let mut out = Vec::new();
    row.write_json("Minutes1UTC", &mut out).unwrap();
    let written: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(written["SolarPower"], Value::Null);
    // A key column is never nulled, even one named as a known field.
    let keyed = Dataset {
        key_columns: vec!["CO2Emission".into()],
        ..Dataset::known("CO2Emis").unwrap()
    };
    let row = keyed
        .parse_row(obj(
            json!({"Minutes5UTC": "2026-04-08T21:30:00", "CO2Emission": "DK1"}),
        ))
        .unwrap();
    assert!(row.fixed.is_empty() && row.key == ["DK1"]);
    // A field asked for is a number too.
    let asked = Dataset {
        numbers: vec!["Other".into()],
        ..d
    };
    let row = asked
        .parse_row(obj(
            json!({"Minutes1UTC": "2026-04-08T21:30:00", "Other": " 5 "}),
        ))
        .unwrap();
    assert_eq!(row.fields["Other"], json!(5));
    // ... and one that is no number at all stays as it is (the aggregation
    // refuses it), where a known field's becomes null.
    let row = asked
        .parse_row(obj(
            json!({"Minutes1UTC": "2026-04-08T21:30:00", "Other": "n/a"}),
        ))
        .unwrap();
    assert_eq!(
        (row.fields["Other"].clone(), row.fixed.len()),
        (json!("n/a"), 0)
    );
}

#[test]
fn record_json_from_raw_text_rewrites_only_the_time() {
    let d = Dataset::known("PowerSystemRightNow").unwrap();
    let text = r#"{"Minutes1UTC":"2026-04-08T21:30:00","Minutes1DK":"2026-04-08T23:30:00","CO2Emission":33.000000,"X":null}"#;
    let mut row = d
        .parse_row(obj(json!({"Minutes1UTC": "2026-04-08T21:30:00"})))
        .unwrap();
    row.raw = Some(text.into());
    let mut out = Vec::new();
    row.write_json("Minutes1UTC", &mut out).unwrap();
    assert_eq!(
        String::from_utf8(out).unwrap(),
        text.replace("21:30:00\",\"Minutes1DK", "21:30:00Z\",\"Minutes1DK")
    );
    // Spaced JSON is parsed and written again, with the same content.
    let spaced = r#"{ "Minutes1UTC" : "2026-04-08T21:30:00", "CO2Emission": 33.000000 }"#;
    row.raw = Some(spaced.into());
    let mut out = Vec::new();
    row.write_json("Minutes1UTC", &mut out).unwrap();
    let back: Value = serde_json::from_slice(&out).unwrap();
    assert_eq!(
        back,
        json!({"Minutes1UTC": "2026-04-08T21:30:00Z", "CO2Emission": 33.0})
    );
}

#[test]
fn parse_row_refuses_rows_without_time_or_key() {
    let d = Dataset::known("PowerSystemRightNow").unwrap();
    assert!(d.parse_row(obj(json!({"CO2Emission": 1.0}))).is_err());
    assert!(d.parse_row(obj(json!({"Minutes1UTC": "soon"}))).is_err());
    let keyed = Dataset::known("CO2Emis").unwrap();
    let no_key = obj(json!({"Minutes5UTC": "2026-04-08T21:30:00"}));
    assert!(keyed.parse_row(no_key).is_err());
    let row = keyed
        .parse_row(obj(
            json!({"Minutes5UTC": "2026-04-08T21:30:00", "PriceArea": "DK1"}),
        ))
        .unwrap();
    assert_eq!(row.message_key().to_string(), "2026-04-08T21:30:00Z/DK1");
}

#[test]
fn psrn_is_one_minute_without_key() {
    let d = Dataset::known("powersystemrightnow").unwrap();
    assert_eq!(d.name, "PowerSystemRightNow");
    assert_eq!(d.time_column, "Minutes1UTC");
    assert!(d.key_columns.is_empty());
    assert_eq!(d.resolution, TimeDelta::minutes(1));
    assert!(d.is_index_column("Minutes1DK"));
    assert!(!d.is_index_column("CO2Emission"));
}

#[test]
fn five_minute_datasets_have_a_key() {
    let d = Dataset::known("CO2Emis").unwrap();
    assert_eq!(d.key_columns, ["PriceArea"]);
    assert_eq!(d.resolution, TimeDelta::minutes(5));
    assert!(Dataset::known("NoSuchDataset").is_none());
    let f = Dataset::known("Forecasts_5Min").unwrap();
    assert_eq!(f.key_columns, ["PriceArea", "ForecastType"]);
    let prices = Dataset::known("DayAheadPrices").unwrap();
    assert_eq!(prices.resolution, TimeDelta::minutes(15));
}

#[test]
fn composite_keys_are_read_in_column_order() {
    let d = Dataset::known("Forecasts_5Min").unwrap();
    let row = d
        .parse_row(obj(json!({"Minutes5UTC": "2026-11-28T11:55:00",
            "ForecastType": "Offshore Wind", "PriceArea": "DK1", "ForecastCurrent": 1.0})))
        .unwrap();
    assert_eq!(row.key, ["DK1", "Offshore Wind"]);
    assert_eq!(
        row.message_key().to_string(),
        "2026-11-28T11:55:00Z/DK1/Offshore Wind"
    );
    let missing = obj(json!({"Minutes5UTC": "2026-11-28T11:55:00", "PriceArea": "DK1"}));
    let err = d.parse_row(missing).unwrap_err().to_string();
    assert!(err.contains("ForecastType"), "{err}");
    let null = obj(
        json!({"Minutes5UTC": "2026-11-28T11:55:00", "PriceArea": "DK1",
        "ForecastType": null}),
    );
    assert!(d.parse_row(null).is_err());
}

fn describe(name: &str, edit: impl FnOnce(&mut Description)) -> Result<Dataset, String> {
    let mut d = Description {
        name: name.into(),
        ..Description::default()
    };
    edit(&mut d);
    Dataset::describe(&d, &crate::contract::aggregate::MEMBERS)
}

#[test]
fn any_dataset_can_be_described() {
    let err = describe("Elspotprices", |_| {}).unwrap_err();
    assert!(
        err.contains("PowerSystemRightNow") && err.contains("--time-column"),
        "{err}"
    );
    let d = describe("Elspotprices", |d| {
        d.time_column = Some("HourUTC".into());
        d.dk_column = Some("HourDK".into());
        d.key_columns = Some(vec!["PriceArea".into()]);
        d.resolution = Some(TimeDelta::hours(1));
    })
    .unwrap();
    assert_eq!(
        (
            d.time_column.as_str(),
            d.dk_column.as_deref(),
            d.key_columns.len()
        ),
        ("HourUTC", Some("HourDK"), 1)
    );
    // Overrides of a known dataset, and removing its keys and DK column.
    let d = describe("co2emis", |d| {
        d.key_columns = Some(vec![]);
        d.dk_column = Some(String::new());
    })
    .unwrap();
    assert_eq!(d.name, "CO2Emis");
    assert!(d.key_columns.is_empty() && d.dk_column.is_none());
    for bad in [
        TimeDelta::seconds(30),
        TimeDelta::minutes(7),
        TimeDelta::hours(2),
    ] {
        assert!(describe("CO2Emis", |d| d.resolution = Some(bad)).is_err());
    }
    assert!(describe("CO2Emis", |d| d.key_columns =
        Some(vec!["Minutes5UTC".into()]))
    .is_err());
    assert!(describe("../x", |_| {}).is_err());
}
