//! What we know about each Energi Data Service dataset: its UTC and Danish
//! time columns, its key columns (zero or more, in order) and its resolution,
//! from the table of known datasets or described on the command line.
//! Everything else (the value fields) is discovered from the rows; only the
//! fields known for certain to be numbers ([`known_fields`]) are named here,
//! and a row holding anything else in one of them has it replaced by null
//! ([`Row::nulled`]). Also the [`Row`]: one API record, its time and key values.

use std::borrow::Cow;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value};

use crate::exit::{Exit, Staged};
use crate::time::{self, format_span, format_utc};

/// A row the run refuses (exit 3): its facts as fields. Retrying will not
/// help; the message says which row and why.
#[derive(Debug, thiserror::Error)]
pub enum RowError {
    #[error("a record is not a JSON object: {0}")]
    NotObject(String),
    #[error("a row of {dataset} has no time column {column}")]
    NoTime { dataset: String, column: String },
    #[error("{dataset} {column} is not a timestamp: {value}")]
    BadTime {
        dataset: String,
        column: String,
        value: String,
    },
    #[error(
        "the row of {dataset} at {} has no key column {column} (found {found}); the key columns \
         are {}",
        format_utc(*time), columns.join(",")
    )]
    NoKey {
        dataset: String,
        time: DateTime<Utc>,
        column: String,
        found: String,
        columns: Vec<String>,
    },
    #[error(
        "the row of {dataset} at {} has {column} {}, not a Danish local time such as \
         2026-11-28T12:55:00 (the records' schema requires one)",
        format_utc(*time), crate::text::visible_cut(value, 60)
    )]
    BadDanishTime {
        dataset: String,
        time: DateTime<Utc>,
        column: String,
        value: String,
    },
    #[error(
        "the row of {dataset} at {} (key {}) is not on the dataset's {} grid: rows off the grid \
         cannot be published exactly once (check --resolution for a dataset described by flags)",
        time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        crate::text::key(key),
        format_span(*resolution)
    )]
    OffGrid {
        dataset: String,
        time: DateTime<Utc>,
        key: Vec<String>,
        resolution: TimeDelta,
    },
    #[error("rows are not in time order: {later} after {earlier}")]
    OutOfOrder {
        later: DateTime<Utc>,
        earlier: DateTime<Utc>,
    },
    /// Values of one key column that print the same with other JSON types.
    #[error(
        "key column {column} of {dataset} has {first} (row {}) and {second} (row {}): one \
         message key, so one row would hide the other; refused (a key value must keep its JSON \
         type)",
        format_utc(*first_time), format_utc(*second_time)
    )]
    KeyTypes {
        dataset: String,
        column: String,
        first: String,
        first_time: DateTime<Utc>,
        second: String,
        second_time: DateTime<Utc>,
    },
}

impl Staged for RowError {
    fn exit(&self) -> Exit {
        Exit::Data
    }
}

/// How to read one dataset's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    pub name: String,
    /// The row's time in UTC, e.g. `Minutes1UTC`; every window uses this column.
    pub time_column: String,
    /// The same time in Danish local time, e.g. `Minutes1DK`, if the dataset has it.
    pub dk_column: Option<String>,
    /// Rows with the same time are told apart by these columns, in this order
    /// (e.g. `PriceArea`, `ForecastType`); empty for one row per time.
    pub key_columns: Vec<String>,
    /// The step between row times.
    pub resolution: TimeDelta,
}

/// Value fields known for certain of a dataset (others may appear any time):
/// numbers or null, as its records schema says ([`crate::catalogue`]).
pub fn known_fields(dataset: &str) -> &'static [crate::catalogue::Field] {
    crate::catalogue::find(dataset).map_or(&[], |e| e.fields)
}

/// What the command line says about a dataset: its name and any of the
/// descriptive columns, each overriding the known table's value.
#[derive(Debug, Clone, Default)]
pub struct Description {
    pub name: String,
    pub time_column: Option<String>,
    /// `Some("")` removes a known dataset's DK column.
    pub dk_column: Option<String>,
    /// `Some(vec![])` removes a known dataset's key columns.
    pub key_columns: Option<Vec<String>>,
    pub resolution: Option<TimeDelta>,
}

/// The largest resolution accepted: windows are cut on a UTC grid, and only
/// divisors of an hour fall on the same grid in Danish local time.
pub const MAX_RESOLUTION: TimeDelta = TimeDelta::hours(1);

impl Dataset {
    /// The description of a known dataset ([`crate::catalogue`]), matched
    /// case-insensitively.
    pub fn known(name: &str) -> Option<Dataset> {
        crate::catalogue::find(name).map(|e| Dataset {
            name: e.name.to_string(),
            time_column: e.time_column.to_string(),
            dk_column: Some(e.dk_column.to_string()),
            key_columns: e.key_columns.iter().map(|k| k.to_string()).collect(),
            resolution: e.resolution(),
        })
    }

    /// Names of every dataset [`Dataset::known`] accepts.
    pub fn known_names() -> Vec<&'static str> {
        crate::catalogue::CATALOGUE.iter().map(|e| e.name).collect()
    }

    /// A known dataset with the description's overrides, or an unknown one
    /// described completely (time column and resolution at least); no key
    /// column may be named as one of `reserved` (the aggregate's members). The
    /// error is a sentence for the user.
    pub fn describe(d: &Description, reserved: &[&str]) -> Result<Dataset, String> {
        let name = d.name.trim();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(format!(
                "invalid dataset name '{name}': use letters, digits, '_' and '-'"
            ));
        }
        let base = match (Dataset::known(name), &d.time_column, d.resolution) {
            (Some(known), _, _) => known,
            (None, Some(time), Some(resolution)) => Dataset {
                name: name.to_string(),
                time_column: time.clone(),
                dk_column: None,
                key_columns: Vec::new(),
                resolution,
            },
            (None, _, _) => {
                return Err(format!(
                    "unknown dataset '{name}': known datasets are {}; describe another one with \
                     --time-column / EDS_TIME_COLUMN and --resolution / EDS_RESOLUTION (and \
                     --key-columns / EDS_KEY_COLUMNS, --dk-time-column / EDS_DK_TIME_COLUMN)",
                    Dataset::known_names().join(", ")
                ))
            }
        };
        let dataset = Dataset {
            time_column: d.time_column.clone().unwrap_or(base.time_column),
            dk_column: match &d.dk_column {
                Some(c) if c.trim().is_empty() => None,
                Some(c) => Some(c.trim().to_string()),
                None => base.dk_column,
            },
            key_columns: d.key_columns.clone().unwrap_or(base.key_columns),
            resolution: d.resolution.unwrap_or(base.resolution),
            name: base.name,
        };
        dataset.check(reserved)?;
        Ok(dataset)
    }

    /// Columns named once each, a resolution that divides an hour in whole minutes.
    fn check(&self, reserved: &[&str]) -> Result<(), String> {
        let mut columns: Vec<&str> = vec![&self.time_column];
        columns.extend(self.dk_column.as_deref());
        columns.extend(self.key_columns.iter().map(String::as_str));
        for (i, c) in columns.iter().enumerate() {
            if c.trim().is_empty() || c.contains(',') {
                return Err(format!(
                    "invalid column name '{c}' in the dataset description"
                ));
            }
            if columns[..i].contains(c) {
                return Err(format!(
                    "column {c} is named twice in the dataset description (time, DK time, key columns)"
                ));
            }
        }
        if let Some(k) = self
            .key_columns
            .iter()
            .find(|k| reserved.contains(&k.as_str()))
        {
            return Err(format!(
                "key column {k} has the name of a field of the aggregate message ({})",
                reserved.join(", ")
            ));
        }
        let r = self.resolution;
        let minute = TimeDelta::minutes(1);
        let whole_minutes = r.num_milliseconds() % minute.num_milliseconds() == 0;
        if r < minute || r > MAX_RESOLUTION || !whole_minutes || 60 % r.num_minutes() != 0 {
            return Err(format!(
                "--resolution {} is not supported: use whole minutes that divide an hour (1m .. 1h)",
                time::format_span(r)
            ));
        }
        Ok(())
    }

    /// Whether `column` is one of the dataset's time or key columns (never aggregated).
    pub fn is_index_column(&self, column: &str) -> bool {
        column == self.time_column
            || self.dk_column.as_deref() == Some(column)
            || self.key_columns.iter().any(|k| k == column)
    }
}

/// One API row: its UTC time, its key values (one per key column, in order)
/// and the object's fields, with the UTC time column rewritten as `...Z`. A
/// backfill keeps only the fields it aggregates in `fields` and the object's
/// text in `raw`.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub time: DateTime<Utc>,
    pub key: Vec<String>,
    pub fields: Map<String, Value>,
    /// The whole object's JSON text as the API wrote it (already parsed once,
    /// so known to be valid), when `fields` holds only some fields.
    pub raw: Option<Box<str>>,
    /// The known value fields ([`known_fields`]) that held neither a number
    /// nor null, with what they held: null in `fields`, and written as null
    /// from `raw` too. Empty in the common case.
    pub nulled: Vec<(&'static str, Value)>,
}

/// A field value that should be a number but is not.
#[derive(Debug, Clone, PartialEq)]
pub struct NotNumeric(pub Value);

impl Row {
    /// The field as a number: `None` when missing or null, never 0.
    pub fn number(&self, field: &str) -> Result<Option<f64>, NotNumeric> {
        match self.fields.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(other) => Err(NotNumeric(other.clone())),
        }
    }
}

impl Dataset {
    /// Reads one JSON object of the API's `records` array (or a value this
    /// program published) as a [`Row`].
    pub fn parse_row(&self, mut fields: Map<String, Value>) -> Result<Row, RowError> {
        let raw = fields
            .get(&self.time_column)
            .ok_or_else(|| RowError::NoTime {
                dataset: self.name.clone(),
                column: self.time_column.clone(),
            })?;
        let time = (raw.as_str().and_then(time::parse_utc)).ok_or_else(|| RowError::BadTime {
            dataset: self.name.clone(),
            column: self.time_column.clone(),
            value: raw.to_string(),
        })?;
        let key = self
            .key_columns
            .iter()
            .map(|col| match fields.get(col).map(|v| (key_text(v), v)) {
                Some((Some(text), _)) => Ok(text.into_owned()),
                other => Err(RowError::NoKey {
                    dataset: self.name.clone(),
                    time,
                    column: col.clone(),
                    found: other.map_or("nothing".to_string(), |(_, v)| v.to_string()),
                    columns: self.key_columns.clone(),
                }),
            })
            .collect::<Result<Vec<String>, RowError>>()?;
        if let Some((dk, value)) = (self.dk_column.as_ref())
            .and_then(|dk| fields.get(dk).map(|v| (dk, v)))
            .filter(|(_, v)| !v.as_str().is_some_and(is_local_time))
        {
            return Err(RowError::BadDanishTime {
                dataset: self.name.clone(),
                time,
                column: dk.clone(),
                value: value.to_string(),
            });
        }
        fields.insert(
            self.time_column.clone(),
            Value::String(time::format_utc(time)),
        );
        let nulled = self.null_non_numeric(&mut fields);
        Ok(Row {
            time,
            key,
            fields,
            raw: None,
            nulled,
        })
    }

    /// Sets each known value field holding neither a number nor null to null;
    /// returns those fields with what they held. Only a value that is not a
    /// number is looked up among the known fields: no cost for numbers.
    fn null_non_numeric(&self, fields: &mut Map<String, Value>) -> Vec<(&'static str, Value)> {
        let known = known_fields(&self.name);
        let mut nulled = Vec::new();
        for (name, value) in fields.iter_mut() {
            if value.is_number() || value.is_null() || self.is_index_column(name) {
                continue;
            }
            if let Some(field) = known.iter().find(|k| k.name == name) {
                nulled.push((field.name, std::mem::take(value)));
            }
        }
        nulled
    }
}

/// Whether `text` has the form of the schemas' Danish local time
/// (`2026-11-28T12:55`, with seconds and a fraction or not, no offset).
fn is_local_time(text: &str) -> bool {
    !text.ends_with('Z') && time::parse_utc(text).is_some()
}

/// A key value's text, as message keys carry it: a string as it is, a number
/// as JSON writes it (`1`, `2.5`); `None` for any other value.
pub fn key_text(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
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
    fn known_value_fields_that_are_not_numbers_become_null() {
        let d = Dataset::known("PowerSystemRightNow").unwrap();
        let row = d
            .parse_row(obj(json!({"Minutes1UTC": "2026-04-08T21:30:00",
                "Minutes1DK": "2026-04-08T23:30:00", "CO2Emission": 107.0,
                "Exchange_DK1_DE": "N/A", "SolarPower": true, "ImbalanceDK1": null,
                "NewField": "x"})))
            .unwrap();
        assert_eq!(
            row.nulled,
            [
                ("Exchange_DK1_DE", json!("N/A")),
                ("SolarPower", json!(true))
            ]
        );
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
        assert!(row.nulled.is_empty() && row.key == ["DK1"]);
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
}
