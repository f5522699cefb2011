use super::*;
use crate::aggregate::{Completeness, FieldStats};
use crate::time::parse_utc;
use apache_avro::schema_compatibility::SchemaCompatibility;
use chrono::{DateTime, Utc};
use serde_json::json;

fn t(s: &str) -> DateTime<Utc> {
    parse_utc(s).unwrap()
}

fn row(d: &Dataset, v: Value) -> Row {
    d.parse_row(v.as_object().unwrap().clone()).unwrap()
}

fn encode_row(enc: &Encoder, r: &Row) -> Vec<u8> {
    let mut out = Vec::new();
    enc.record(r, &mut out).unwrap();
    out
}

fn encode_agg(enc: &Encoder, a: &Aggregate, stats: &[Stat]) -> Vec<u8> {
    let mut out = Vec::new();
    enc.aggregate(a, stats, &mut out).unwrap();
    out
}

fn psrn() -> Dataset {
    Dataset::known("PowerSystemRightNow").unwrap()
}

fn forecasts() -> Dataset {
    Dataset::known("Forecasts_5Min").unwrap()
}

#[test]
fn every_known_dataset_has_both_schemas() {
    for name in Dataset::known_names() {
        let d = Dataset::known(name).unwrap();
        for kind in [Kind::Records, Kind::Aggregates] {
            let enc = Encoder::new(&d, kind).unwrap();
            let json: Value = serde_json::from_str(enc.schema_text()).unwrap();
            assert_eq!(json["namespace"], NAMESPACE);
            assert_eq!(json["name"], record_name(name, kind));
            assert_eq!(json, schema(&d, kind).unwrap());
        }
    }
}

#[test]
fn the_records_schema_has_the_contracts_columns() {
    let s = schema(&forecasts(), Kind::Records).unwrap();
    assert_eq!(s["name"], "Forecasts_5MinRecord");
    let fields = s["fields"].as_array().unwrap();
    let names: Vec<&str> = fields.iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "Minutes5UTC",
            "Minutes5DK",
            "PriceArea",
            "ForecastType",
            "ForecastDayAhead",
            "ForecastIntraday",
            "Forecast5Hour",
            "Forecast1Hour",
            "ForecastCurrent",
            "extra"
        ]
    );
    assert_eq!(
        fields[0]["type"],
        json!({"type": "long", "logicalType": "timestamp-millis"})
    );
    assert_eq!(fields[1]["type"], json!(["null", "string"]));
    assert_eq!(fields[2]["type"], "string");
    assert_eq!(fields[4]["type"], json!(["null", "double"]));
    assert_eq!(fields[4]["default"], Value::Null);
    assert_eq!(
        fields[9]["type"],
        json!(["null", {"type": "map", "values": "string"}])
    );
    // A known field that is a key column is written once, as the key.
    let keyed = Dataset {
        key_columns: vec!["CO2Emission".into()],
        ..Dataset::known("CO2Emis").unwrap()
    };
    let s = schema(&keyed, Kind::Records).unwrap();
    assert_eq!(s["fields"].as_array().unwrap().len(), 4);
}

#[test]
fn the_aggregates_schema_has_the_contracts_members() {
    let s = schema(&forecasts(), Kind::Aggregates).unwrap();
    let fields = s["fields"].as_array().unwrap();
    let names: Vec<&str> = fields.iter().map(|f| f["name"].as_str().unwrap()).collect();
    assert_eq!(
        names,
        [
            "dataset",
            "window_start",
            "window_end",
            "rows",
            "expected_rows",
            "missing",
            "PriceArea",
            "ForecastType",
            "fields"
        ]
    );
    assert_eq!(
        fields[5]["type"]["items"]["logicalType"],
        "timestamp-millis"
    );
    let stats = &fields[8]["type"]["values"];
    assert_eq!(stats["name"], "FieldStats");
    let stat_names: Vec<&str> = (stats["fields"].as_array().unwrap().iter())
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert_eq!(stat_names, Stat::ALL.map(Stat::name));
    assert_eq!(stats["fields"][0]["type"], "long");
    assert_eq!(stats["fields"][1]["type"], json!(["null", "double"]));
}

#[test]
fn names_are_avro_names() {
    assert_eq!(
        record_name("Forecasts_5Min", Kind::Records),
        "Forecasts_5MinRecord"
    );
    assert_eq!(record_name("my-set", Kind::Aggregates), "my_setAggregate");
    assert_eq!(record_name("5min", Kind::Records), "_5minRecord");
    assert!(is_avro_name("aFRR_ActivatedDK1") && is_avro_name("_x"));
    for bad in ["", "1a", "Price-Area", "Pris område", "Æ"] {
        assert!(!is_avro_name(bad), "{bad}");
    }
    let described = |keys: &[&str]| Dataset {
        key_columns: keys.iter().map(|k| k.to_string()).collect(),
        ..Dataset::known("CO2Emis").unwrap()
    };
    let e = schema(&described(&["Price-Area"]), Kind::Records).unwrap_err();
    assert_eq!(e.exit(), Exit::Usage);
    assert!(
        e.to_string()
            .starts_with("column 'Price-Area' of CO2Emis is not an Avro name"),
        "{e}"
    );
    let e = schema(&described(&["extra"]), Kind::Records).unwrap_err();
    assert!(e.to_string().contains("has the name of a field"), "{e}");
    let e = schema(&described(&["rows"]), Kind::Aggregates).unwrap_err();
    assert!(matches!(e, AvroError::Column { ref column, .. } if column == "rows"));
}

#[test]
fn a_record_round_trips_with_nulls_and_unknown_fields() {
    let d = psrn();
    let enc = Encoder::new(&d, Kind::Records).unwrap();
    let r = row(
        &d,
        json!({"Minutes1UTC": "2026-04-08T21:30:00", "Minutes1DK": "2026-04-08T23:30:00",
            "CO2Emission": 107.5, "SolarPower": null, "Exchange_DK1_DE": "N/A",
            "NewField": "x", "Nested": {"a": [1, 2.5, null]}, "Count": 12345678901234_i64,
            "Nothing": null}),
    );
    let bytes = encode_row(&enc, &r);
    assert_eq!(bytes, encode_row(&enc, &r), "deterministic");
    let back = decode(enc.schema(), &bytes).unwrap();
    let obj = back.as_object().unwrap();
    assert_eq!(back["Minutes1UTC"], "2026-04-08T21:30:00Z");
    assert_eq!(back["Minutes1DK"], "2026-04-08T23:30:00");
    assert_eq!(back["CO2Emission"], 107.5);
    assert_eq!(back["SolarPower"], Value::Null);
    assert_eq!(back["Exchange_DK1_DE"], Value::Null, "nulled as in JSON");
    assert_eq!(back["OnshoreWindPower"], Value::Null, "absent: null");
    assert_eq!(back["NewField"], "x");
    assert_eq!(back["Nested"], json!({"a": [1, 2.5, null]}));
    assert_eq!(back["Count"], 12345678901234_i64);
    assert_eq!(back["Nothing"], Value::Null);
    assert!(!obj.contains_key(EXTRA));
    // Every field of the row comes back as the JSON form has it.
    for (name, value) in &r.fields {
        assert_eq!(&back[name], value, "{name}");
    }
    // And reads back as the same row.
    let again = d.parse_row(obj.clone()).unwrap();
    assert_eq!((again.time, &again.key), (r.time, &r.key));
    assert_eq!(again.number("CO2Emission"), Ok(Some(107.5)));
}

#[test]
fn a_row_without_danish_time_or_extra_fields() {
    let d = psrn();
    let enc = Encoder::new(&d, Kind::Records).unwrap();
    let r = row(
        &d,
        json!({"Minutes1UTC": "2026-04-08T21:30:00", "CO2Emission": 1}),
    );
    let back = decode(enc.schema(), &encode_row(&enc, &r)).unwrap();
    assert!(back.get("Minutes1DK").is_none(), "{back}");
    assert_eq!(back["CO2Emission"], 1.0);
    assert!(d.parse_row(back.as_object().unwrap().clone()).is_ok());
}

#[test]
fn keys_with_non_ascii_text_round_trip() {
    let d = forecasts();
    let enc = Encoder::new(&d, Kind::Records).unwrap();
    let r = row(
        &d,
        json!({"Minutes5UTC": "2026-11-28T11:55:00", "Minutes5DK": "2026-11-28T12:55:00",
            "PriceArea": "DK1", "ForecastType": "Vindkraft på havet ✓ Ærø/100%",
            "ForecastCurrent": -0.0, "ForecastDayAhead": 1e300}),
    );
    let back = decode(enc.schema(), &encode_row(&enc, &r)).unwrap();
    assert_eq!(back["ForecastType"], "Vindkraft på havet ✓ Ærø/100%");
    assert_eq!(back["ForecastDayAhead"], 1e300);
    let again = d.parse_row(back.as_object().unwrap().clone()).unwrap();
    assert_eq!(again.message_key(), r.message_key());
    // A numeric key is carried as its text.
    let co2 = Dataset::known("CO2Emis").unwrap();
    let enc = Encoder::new(&co2, Kind::Records).unwrap();
    let r = row(
        &co2,
        json!({"Minutes5UTC": "2026-11-28T11:55:00", "PriceArea": 1}),
    );
    let back = decode(enc.schema(), &encode_row(&enc, &r)).unwrap();
    assert_eq!(back["PriceArea"], "1");
}

#[test]
fn a_backfill_row_is_written_whole_from_its_text() {
    let d = psrn();
    let enc = Encoder::new(&d, Kind::Records).unwrap();
    let text = r#"{"Minutes1UTC":"2026-04-08T21:30:00","Minutes1DK":"2026-04-08T23:30:00","CO2Emission":33.0,"SolarPower":"bad","X":"y"}"#;
    let mut r = row(
        &d,
        json!({"Minutes1UTC": "2026-04-08T21:30:00", "CO2Emission": 33.0}),
    );
    r.raw = Some(text.into());
    r.fixed = vec![crate::dataset::Fixed::of("SolarPower", json!("bad"))];
    let back = decode(enc.schema(), &encode_row(&enc, &r)).unwrap();
    assert_eq!(back["Minutes1UTC"], "2026-04-08T21:30:00Z");
    assert_eq!(back["Minutes1DK"], "2026-04-08T23:30:00");
    assert_eq!(back["SolarPower"], Value::Null);
    assert_eq!(back["X"], "y");
}

/// A row kept as its text (escapes, unknown fields, a number written as
/// text that was fixed) is the same datum as the row parsed, and
/// apache-avro's own reader reads it as the schema says.
#[test]
fn a_row_from_its_text_is_the_same_datum_and_apache_avro_reads_it() {
    let d = forecasts();
    let enc = Encoder::new(&d, Kind::Records).unwrap();
    let text = r#"{"Minutes5UTC":"2026-04-08T21:30:00","Minutes5DK":"2026-04-08T23:30:00","PriceArea":"DK1","ForecastType":"Vind\u00e6rk \"x\"","ForecastCurrent":"12.5","Forecast1Hour":null,"ForecastDayAhead":1e3,"New":{"a":[1,2.50]}}"#;
    let parsed = row(&d, serde_json::from_str(text).unwrap());
    assert!(
        !parsed.fixed.is_empty(),
        "the text holding a number was fixed"
    );
    let mut kept = parsed.clone();
    kept.raw = Some(text.into());
    kept.fields.retain(|name, _| name == "ForecastCurrent");
    let bytes = encode_row(&enc, &kept);
    assert_eq!(bytes, encode_row(&enc, &parsed));
    let reader = apache_avro::reader::datum::GenericDatumReader::builder(enc.schema())
        .build()
        .unwrap();
    let apache_avro::types::Value::Record(fields) = reader.read_value(&mut &bytes[..]).unwrap()
    else {
        panic!("not a record");
    };
    use apache_avro::types::Value as A;
    let field = |n: &str| fields.iter().find(|(name, _)| name == n).unwrap().1.clone();
    assert_eq!(field("Minutes5UTC"), A::TimestampMillis(1775683800000));
    assert_eq!(field("ForecastType"), A::String("Vindærk \"x\"".into()));
    assert_eq!(
        field("ForecastCurrent"),
        A::Union(1, Box::new(A::Double(12.5)))
    );
    assert_eq!(field("Forecast1Hour"), A::Union(0, Box::new(A::Null)));
    assert_eq!(
        field("ForecastDayAhead"),
        A::Union(1, Box::new(A::Double(1000.0)))
    );
    let extra = A::Map([("New".to_string(), A::String(r#"{"a":[1,2.5]}"#.into()))].into());
    assert_eq!(field(EXTRA), A::Union(1, Box::new(extra)));
}

fn aggregate_of(d: &Dataset, key: &[(&str, Value)]) -> Aggregate {
    Aggregate {
        dataset: d.name.clone(),
        window_start: t("2026-11-28T11:55:00"),
        window_end: t("2026-11-28T12:00:00"),
        key: key
            .iter()
            .map(|(c, v)| (c.to_string(), v.clone()))
            .collect(),
        rows: 4,
        completeness: Some(Completeness {
            expected_rows: 5,
            missing: vec![t("2026-11-28T11:57:00")],
        }),
        fields: vec![
            ("CO2Emission".into(), FieldStats::of([3.0, 1.0, 2.0, 4.0])),
            ("SolarPower".into(), FieldStats::default()),
            ("ImbalanceDK1".into(), FieldStats::of([-1.5])),
        ],
    }
}

#[test]
fn an_aggregate_round_trips_in_field_order() {
    let d = psrn();
    let enc = Encoder::new(&d, Kind::Aggregates).unwrap();
    let agg = aggregate_of(&d, &[]);
    let bytes = encode_agg(&enc, &agg, &Stat::ALL);
    let back = decode(enc.schema(), &bytes).unwrap();
    assert_eq!(back, {
        let mut v = agg.to_json(&Stat::ALL);
        v["fields"]["SolarPower"] =
            json!({"count": 0, "mean": null, "min": null, "max": null, "last": null});
        v
    });
    let names: Vec<&String> = back["fields"].as_object().unwrap().keys().collect();
    assert_eq!(names, ["CO2Emission", "SolarPower", "ImbalanceDK1"]);
    let (read, stats) = Aggregate::from_json(&back, &d).unwrap();
    assert_eq!(read, agg);
    assert_eq!(stats, Stat::ALL);
    // Stats not selected are null; the count is always there.
    let back = decode(enc.schema(), &encode_agg(&enc, &agg, &[Stat::Max])).unwrap();
    assert_eq!(
        back["fields"]["CO2Emission"],
        json!({"count": 4, "mean": null, "min": null, "max": 4.0, "last": null})
    );
}

#[test]
fn aggregate_keys_and_doubles() {
    let d = forecasts();
    let enc = Encoder::new(&d, Kind::Aggregates).unwrap();
    let mut agg = aggregate_of(
        &d,
        &[("PriceArea", json!(1)), ("ForecastType", json!("Sol ☀ ø"))],
    );
    agg.fields[0].1.mean = Some(f64::NAN);
    agg.fields[0].1.max = Some(f64::INFINITY);
    agg.fields[0].1.min = Some(f64::MIN_POSITIVE);
    let back = decode(enc.schema(), &encode_agg(&enc, &agg, &Stat::ALL)).unwrap();
    assert_eq!(back["PriceArea"], "1");
    assert_eq!(back["ForecastType"], "Sol ☀ ø");
    let stats = &back["fields"]["CO2Emission"];
    assert_eq!(
        (stats["mean"].clone(), stats["max"].clone()),
        (Value::Null, Value::Null)
    );
    assert_eq!(stats["min"], f64::MIN_POSITIVE);
    assert_eq!(back["missing"], json!(["2026-11-28T11:57:00Z"]));
    // An aggregate without completeness is refused, and nothing is written.
    agg.completeness = None;
    let mut out = b"head".to_vec();
    let e = enc.aggregate(&agg, &Stat::ALL, &mut out).unwrap_err();
    assert!(matches!(e, AvroError::NoCompleteness { .. }));
    assert_eq!(out, b"head");
}

/// The registry's BACKWARD check, done here: a consumer on the new schema
/// reads what the old one wrote.
#[test]
fn a_new_known_field_is_a_backward_compatible_change() {
    let d = psrn();
    let known: Vec<&str> = known_fields(&d.name).iter().map(|f| f.name).collect();
    let mut more = known.clone();
    more.insert(3, "BrandNewPower");
    let old = Encoder::with_known(&d, Kind::Records, &known).unwrap();
    let new = Encoder::with_known(&d, Kind::Records, &more).unwrap();
    assert_ne!(old.schema_text(), new.schema_text());
    let full = apache_avro::schema_compatibility::Compatibility::Full;
    assert_eq!(
        SchemaCompatibility::can_read(old.schema(), new.schema()).unwrap(),
        full
    );
    assert_eq!(
        SchemaCompatibility::can_read(new.schema(), old.schema()).unwrap(),
        full
    );
    // Old data read with the new schema: the new field is null.
    let r = row(
        &d,
        json!({"Minutes1UTC": "2026-04-08T21:30:00", "CO2Emission": 5, "BrandNewPower": 7}),
    );
    let bytes = encode_row(&old, &r);
    let reader = apache_avro::reader::datum::GenericDatumReader::builder(old.schema())
        .reader_schema(new.schema())
        .build()
        .unwrap();
    let value = reader.read_value(&mut &bytes[..]).unwrap();
    let apache_avro::types::Value::Record(fields) = value else {
        panic!("{value:?}");
    };
    let field = |n: &str| fields.iter().find(|(name, _)| name == n).unwrap().1.clone();
    use apache_avro::types::Value as A;
    assert_eq!(field("BrandNewPower"), A::Union(0, Box::new(A::Null)));
    assert_eq!(field("CO2Emission"), A::Union(1, Box::new(A::Double(5.0))));
    // A field that became known left `extra`: the old writer had it there.
    let extra = field(EXTRA);
    assert!(format!("{extra:?}").contains("BrandNewPower"), "{extra:?}");
    // Removing the default would not be compatible (the checker does see it).
    let strict = new.schema_text().replace(
        r#"{"name":"BrandNewPower","type":["null","double"],"default":null}"#,
        r#"{"name":"BrandNewPower","type":"double"}"#,
    );
    assert_ne!(strict, new.schema_text());
    let strict = parse_schema(&strict).unwrap();
    assert!(SchemaCompatibility::can_read(old.schema(), &strict).is_err());
}

#[test]
fn decoding_refuses_payloads_that_are_not_the_schemas() {
    let d = psrn();
    let enc = Encoder::new(&d, Kind::Aggregates).unwrap();
    let bytes = encode_agg(&enc, &aggregate_of(&d, &[]), &Stat::ALL);
    for cut in [0, 1, bytes.len() / 2, bytes.len() - 1] {
        let e = decode(enc.schema(), &bytes[..cut]).unwrap_err();
        assert_eq!(e.exit(), Exit::Data);
        assert!(e.to_string().contains("left"), "{cut}: {e}");
    }
    let mut longer = bytes.clone();
    longer.push(0);
    let e = decode(enc.schema(), &longer).unwrap_err().to_string();
    assert!(e.contains("1 byte(s) left after the value"), "{e}");
    // A string length far past the payload: refused before allocating.
    let e = decode(enc.schema(), b"\xfe\xff\xff\xff\xff\xff\xff\xff\x7f").unwrap_err();
    assert!(e.to_string().contains("string length"), "{e}");
    // A union branch that does not exist.
    let rec = Encoder::new(&d, Kind::Records).unwrap();
    let e = decode(rec.schema(), b"\x02\x06").unwrap_err();
    assert!(e.to_string().contains("union branch 3 of 2"), "{e}");
    // Arbitrary bytes never panic.
    let mut x: u32 = 1;
    for len in 0..400 {
        let junk: Vec<u8> = (0..len % 60)
            .map(|_| {
                x = x.wrapping_mul(1_103_515_245).wrapping_add(12_345);
                (x >> 16) as u8
            })
            .collect();
        let _ = decode(enc.schema(), &junk);
        let _ = decode(rec.schema(), &junk);
    }
}

#[test]
fn any_writer_schema_decodes_to_plain_json() {
    let schema = parse_schema(
        r#"{"type":"record","name":"T","namespace":"other","fields":[
            {"name":"e","type":{"type":"enum","name":"E","symbols":["A","B"]}},
            {"name":"m","type":{"type":"map","values":"int"}},
            {"name":"extra","type":["null","string"]},
            {"name":"d","type":{"type":"int","logicalType":"date"}},
            {"name":"ts","type":{"type":"long","logicalType":"timestamp-micros"}},
            {"name":"local","type":{"type":"long","logicalType":"local-timestamp-millis"}},
            {"name":"again","type":"E"},
            {"name":"f","type":"float"},
            {"name":"b","type":"boolean"}]}"#,
    )
    .unwrap();
    let mut bytes = vec![2]; // e = B
    bytes.extend([2, 2, b'z', 4, 0]); // m = {"z": 2}
    bytes.push(0); // extra = null
    bytes.push(2); // d = 1970-01-02
    bytes.extend([0x82, 0x01]); // ts = 65 us
    bytes.extend([0xd0, 0x0f]); // local = 1000 ms
    bytes.push(0); // again = A
    bytes.extend(1.5f32.to_le_bytes());
    bytes.push(1);
    let v = decode(&schema, &bytes).unwrap();
    assert_eq!(
        v,
        json!({"e": "B", "m": {"z": 2}, "extra": null, "d": "1970-01-02",
            "ts": "1970-01-01T00:00:00.000065Z", "local": "1970-01-01T00:00:01",
            "again": "A", "f": 1.5, "b": true})
    );
    assert_eq!(
        parse_schema("{\"type\":\"nope\"}").unwrap_err().exit(),
        Exit::Data
    );
}
