//! What we know about each Energi Data Service dataset: its UTC and Danish
//! time columns, its optional key column and its resolution. Everything else
//! (the value fields) is discovered from the rows, never hard-coded.

use anyhow::{anyhow, Result};
use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value};

use crate::time;

/// How to read one dataset's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    pub name: String,
    /// The row's time in UTC, e.g. `Minutes1UTC`; every window uses this column.
    pub time_column: String,
    /// The same time in Danish local time, e.g. `Minutes1DK`, if the dataset has it.
    pub dk_column: Option<String>,
    /// Rows with the same time are told apart by this column (e.g. `PriceArea`).
    pub key_column: Option<String>,
    /// The step between row times.
    pub resolution: TimeDelta,
}

/// (name, UTC column, DK column, key column, resolution in minutes)
const KNOWN: &[(&str, &str, &str, Option<&str>, i64)] = &[
    ("PowerSystemRightNow", "Minutes1UTC", "Minutes1DK", None, 1),
    (
        "ElectricityProdex5MinRealtime",
        "Minutes5UTC",
        "Minutes5DK",
        Some("PriceArea"),
        5,
    ),
    ("CO2Emis", "Minutes5UTC", "Minutes5DK", Some("PriceArea"), 5),
    (
        "CO2EmisProg",
        "Minutes5UTC",
        "Minutes5DK",
        Some("PriceArea"),
        5,
    ),
    (
        "Forecasts_5Min",
        "Minutes5UTC",
        "Minutes5DK",
        Some("PriceArea"),
        5,
    ),
    ("DayAheadPrices", "TimeUTC", "TimeDK", Some("PriceArea"), 15),
];

impl Dataset {
    /// The description of a known dataset, matched case-insensitively.
    pub fn known(name: &str) -> Option<Dataset> {
        KNOWN.iter().find(|k| k.0.eq_ignore_ascii_case(name)).map(
            |&(name, time, dk, key, minutes)| Dataset {
                name: name.to_string(),
                time_column: time.to_string(),
                dk_column: Some(dk.to_string()),
                key_column: key.map(str::to_string),
                resolution: TimeDelta::minutes(minutes),
            },
        )
    }

    /// Names of every dataset [`Dataset::known`] accepts.
    pub fn known_names() -> Vec<&'static str> {
        KNOWN.iter().map(|k| k.0).collect()
    }

    /// Whether `column` is one of the dataset's time or key columns (never aggregated).
    pub fn is_index_column(&self, column: &str) -> bool {
        column == self.time_column
            || self.dk_column.as_deref() == Some(column)
            || self.key_column.as_deref() == Some(column)
    }
}

/// One API row: its UTC time, its key (for keyed datasets) and the object's
/// fields, with the UTC time column rewritten as `...Z`. A backfill keeps only
/// the fields it aggregates in `fields` and the object's text in `raw`.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub time: DateTime<Utc>,
    pub key: Option<String>,
    pub fields: Map<String, Value>,
    /// The whole object's JSON text as the API wrote it (already parsed once,
    /// so known to be valid), when `fields` holds only some fields.
    pub raw: Option<Box<str>>,
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

    /// The record message's value: the whole object, `time_column` as `...Z`.
    /// From `raw`, only the time's text is replaced (the API writes compact
    /// JSON); any other spelling is parsed and written again.
    pub fn write_json(&self, time_column: &str, out: &mut Vec<u8>) -> serde_json::Result<()> {
        let Some(raw) = &self.raw else {
            return serde_json::to_writer(out, &self.fields);
        };
        let text: &str = raw;
        let pattern = format!("\"{time_column}\":\"");
        if let Some(at) = text.find(&pattern) {
            let value_start = at + pattern.len();
            if let Some(len) = text[value_start..].find('"') {
                out.extend_from_slice(&text.as_bytes()[..value_start]);
                out.extend_from_slice(time::format_utc(self.time).as_bytes());
                out.extend_from_slice(&text.as_bytes()[value_start + len..]);
                return Ok(());
            }
        }
        let mut all: Map<String, Value> = serde_json::from_str(text)?;
        all.insert(
            time_column.to_string(),
            Value::String(time::format_utc(self.time)),
        );
        serde_json::to_writer(out, &all)
    }

    /// `2026-11-28T11:59:00Z`, or `2026-11-28T11:55:00Z/DK1` with a key: the
    /// record's Kafka key and the identity duplicates are found by.
    pub fn id(&self) -> String {
        match &self.key {
            Some(k) => format!("{}/{k}", time::format_utc(self.time)),
            None => time::format_utc(self.time),
        }
    }
}

impl Dataset {
    /// Reads one JSON object of the API's `records` array (or a value this
    /// program published) as a [`Row`].
    pub fn parse_row(&self, mut fields: Map<String, Value>) -> Result<Row> {
        let raw = fields.get(&self.time_column).ok_or_else(|| {
            anyhow!(
                "a row of {} has no time column {}",
                self.name,
                self.time_column
            )
        })?;
        let time = raw.as_str().and_then(time::parse_utc).ok_or_else(|| {
            anyhow!(
                "{} {} is not a timestamp: {raw}",
                self.name,
                self.time_column
            )
        })?;
        let key = match &self.key_column {
            None => None,
            Some(col) => Some(match fields.get(col) {
                Some(Value::String(s)) => s.clone(),
                Some(Value::Number(n)) => n.to_string(),
                _ => return Err(anyhow!("a row of {} has no key column {col}", self.name)),
            }),
        };
        fields.insert(
            self.time_column.clone(),
            Value::String(time::format_utc(time)),
        );
        Ok(Row {
            time,
            key,
            fields,
            raw: None,
        })
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
        assert_eq!(row.id(), "2026-04-08T21:30:00Z");
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
        assert_eq!(row.id(), "2026-04-08T21:30:00Z/DK1");
    }

    #[test]
    fn psrn_is_one_minute_without_key() {
        let d = Dataset::known("powersystemrightnow").unwrap();
        assert_eq!(d.name, "PowerSystemRightNow");
        assert_eq!(d.time_column, "Minutes1UTC");
        assert_eq!(d.key_column, None);
        assert_eq!(d.resolution, TimeDelta::minutes(1));
        assert!(d.is_index_column("Minutes1DK"));
        assert!(!d.is_index_column("CO2Emission"));
    }

    #[test]
    fn five_minute_datasets_have_a_key() {
        let d = Dataset::known("CO2Emis").unwrap();
        assert_eq!(d.key_column.as_deref(), Some("PriceArea"));
        assert_eq!(d.resolution, TimeDelta::minutes(5));
        assert!(Dataset::known("NoSuchDataset").is_none());
    }
}
