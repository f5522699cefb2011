//! One record of the API's `records` array parsed into a [`Row`], keeping
//! only the fields wanted (a backfill aggregates a few of many). A numeric
//! field that is not wanted is still looked at (its first byte, no number
//! parsed): one that is not a number or null is listed in [`Row::fixed`],
//! so that a record written from its text says what its place holds too.

use std::fmt;

use anyhow::Result;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::dataset::{Dataset, Fixed, Row, RowError};

/// Parses one record's text into a [`Row`], keeping the fields `wanted`
/// names (all of them for `None`) and, with `raw`, the text itself.
pub fn parse_record(
    dataset: &Dataset,
    wanted: Option<&[&str]>,
    raw: bool,
    text: &[u8],
) -> Result<Row> {
    let (fields, unwanted_fixed) = match wanted {
        None => serde_json::from_slice::<Map<String, Value>>(text).map(|f| (f, Vec::new())),
        Some(wanted) => {
            let keep = Keep { wanted, dataset };
            keep.deserialize(&mut serde_json::Deserializer::from_slice(text))
        }
    }
    .map_err(|e| RowError::NotObject(e.to_string()))?;
    let mut row = dataset.parse_row(fields)?;
    check_grid(dataset, &row)?;
    row.fixed.extend(unwanted_fixed);
    if raw {
        // Valid JSON: it was parsed just above.
        row.raw = Some(std::str::from_utf8(text)?.into());
    }
    Ok(row)
}

/// Refuses a row time off the dataset's grid (`11:53` or `11:55:00.5` in a
/// 5-minute dataset): its message key, its cursor and its window would not be
/// grid times, so it would be published again on every run, or get a window
/// of its own. The grid is the resolution's, up to an hour (a daily dataset's
/// days start at Danish midnight, 22:00 or 23:00 UTC).
fn check_grid(dataset: &Dataset, row: &Row) -> Result<()> {
    let step = dataset.resolution.min(chrono::TimeDelta::hours(1));
    let whole = row.time.timestamp_subsec_nanos() == 0;
    if whole && crate::time::floor(row.time, step) == row.time {
        return Ok(());
    }
    Err(RowError::OffGrid {
        dataset: dataset.name.clone(),
        time: row.time,
        key: row.key.clone(),
        resolution: dataset.resolution,
    }
    .into())
}

/// Reads one record object keeping only the `wanted` keys; the others are
/// skipped without building values or allocating their names, only their
/// first byte looked at: a numeric field's value that is not a number or
/// null is listed.
struct Keep<'w> {
    wanted: &'w [&'w str],
    dataset: &'w Dataset,
}

/// The numeric fields not wanted that held something else.
type Unwanted = Vec<Fixed>;

/// What a record's key is to [`Keep`].
enum Slot<'de> {
    /// A wanted field, by its place in the wanted list.
    Wanted(usize),
    /// Another field, by its name (borrowed from the record's text).
    Other(&'de str),
    /// Another field whose name had escapes: whether it is a numeric field.
    Escaped(Option<String>),
}

/// A key's [`Slot`].
struct KeyIndex<'k, 'w>(&'k Keep<'w>);

impl<'de> DeserializeSeed<'de> for KeyIndex<'_, '_> {
    type Value = Slot<'de>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Slot<'de>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyIndex<'_, '_> {
    type Value = Slot<'de>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_borrowed_str<E: de::Error>(self, key: &'de str) -> Result<Slot<'de>, E> {
        Ok(match self.0.wanted.iter().position(|w| *w == key) {
            Some(i) => Slot::Wanted(i),
            None => Slot::Other(key),
        })
    }
    fn visit_str<E: de::Error>(self, key: &str) -> Result<Slot<'de>, E> {
        Ok(match self.0.wanted.iter().position(|w| *w == key) {
            Some(i) => Slot::Wanted(i),
            None => Slot::Escaped(self.0.dataset.is_numeric(key).then(|| key.to_string())),
        })
    }
}

impl<'de> DeserializeSeed<'de> for Keep<'_> {
    type Value = (Map<String, Value>, Unwanted);
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Keep<'_> {
    type Value = (Map<String, Value>, Unwanted);
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a record object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Map::with_capacity(self.wanted.len());
        let mut fixed = Vec::new();
        while let Some(slot) = map.next_key_seed(KeyIndex(&self))? {
            let field = match &slot {
                Slot::Wanted(i) => {
                    out.insert(self.wanted[*i].to_string(), map.next_value::<Value>()?);
                    continue;
                }
                Slot::Other(name) => *name,
                Slot::Escaped(Some(numeric)) => numeric.as_str(),
                Slot::Escaped(None) => {
                    map.next_value::<IgnoredAny>()?;
                    continue;
                }
            };
            // The value's text, not parsed: a number starts with a digit or
            // '-', null with 'n'; only another value's field is looked up.
            let raw = map.next_value::<&RawValue>()?.get();
            if raw.starts_with(|c: char| c.is_ascii_digit() || c == '-' || c == 'n') {
                continue;
            }
            if self.dataset.is_numeric(field) && !self.dataset.is_index_column(field) {
                let value = serde_json::from_str(raw).map_err(de::Error::custom)?;
                fixed.push(Fixed::of(field, value));
            }
        }
        Ok((out, fixed))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Off-grid times were published with a truncated key and republished
    /// on every run (a fraction of a second), or got windows of their own.
    #[test]
    fn a_row_off_the_grid_is_refused() {
        let d = Dataset::known("Forecasts_5Min").unwrap();
        let row = |t: &str| {
            let text = format!(
                r#"{{"Minutes5UTC":"{t}","Minutes5DK":"2026-11-28T12:55:00","PriceArea":"DK1","ForecastType":"Solar"}}"#
            );
            parse_record(&d, None, false, text.as_bytes()).map(|r| r.time)
        };
        assert!(row("2026-11-28T11:55:00").is_ok());
        assert!(row("2026-11-28T11:55:00.000").is_ok());
        for t in [
            "2026-11-28T11:55:00.5",
            "2026-11-28T11:55:00.000001",
            "2026-11-28T11:53:00",
        ] {
            let e = row(t).unwrap_err().to_string();
            assert!(
                e.contains("is not on the dataset's 5m grid") && e.contains("DK1/Solar"),
                "{t}: {e}"
            );
        }
        assert!(row("2026-11-28T11:55:00.5")
            .unwrap_err()
            .to_string()
            .contains("11:55:00.5"));
        // A daily dataset's rows start at Danish midnight: on the hour in UTC.
        let daily = Dataset {
            name: "Daily".into(),
            time_column: "DayUTC".into(),
            dk_column: Some("DayDK".into()),
            key_columns: Vec::new(),
            resolution: chrono::TimeDelta::days(1),
            numbers: Vec::new(),
        };
        let text = br#"{"DayUTC":"2026-11-27T23:00:00","DayDK":"2026-11-28T00:00:00"}"#;
        assert!(parse_record(&daily, None, false, text).is_ok());
    }

    #[test]
    fn known_fields_not_wanted_are_checked_without_being_kept() {
        let d = Dataset::known("PowerSystemRightNow").unwrap();
        let text = br#"{"Minutes1UTC":"2026-11-28T11:56:00","CO2Emission":"N/A","Exchange_DK1_DE":"N/A","SolarPower":true,"Exchange_DK1_NL":-1.5,"ImbalanceDK1":null,"New":"x","OffshoreWindPower":" 112.04"}"#;
        let row = parse_record(&d, Some(&["Minutes1UTC", "CO2Emission"]), true, text).unwrap();
        let fixed: Vec<&str> = row.fixed.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(
            fixed,
            [
                "CO2Emission",
                "Exchange_DK1_DE",
                "SolarPower",
                "OffshoreWindPower"
            ]
        );
        assert_eq!(row.fixed[2].served, Value::Bool(true));
        assert_eq!(row.fields.len(), 2, "{:?}", row.fields);
        assert!(row.fields["CO2Emission"].is_null());
        let mut out = Vec::new();
        row.write_json("Minutes1UTC", &mut out).unwrap();
        let written: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            written,
            serde_json::json!({"Minutes1UTC": "2026-11-28T11:56:00Z", "CO2Emission": null,
                "Exchange_DK1_DE": null, "SolarPower": null, "Exchange_DK1_NL": -1.5,
                "ImbalanceDK1": null, "New": "x", "OffshoreWindPower": 112.04})
        );
        // A name with an escape is matched too.
        let escaped =
            br#"{"Minutes1UTC":"2026-11-28T11:56:00","Solar\u0050ower":"x","A\u0042":"y"}"#;
        let other = parse_record(&d, Some(&["Minutes1UTC"]), true, escaped).unwrap();
        assert_eq!(other.fixed, [Fixed::of("SolarPower", Value::from("x"))]);
        // Every field parsed: the same row.
        let all = parse_record(&d, None, false, text).unwrap();
        let mut all_fixed = all.fixed.clone();
        all_fixed.sort_by(|a, b| a.field.cmp(&b.field));
        let mut row_fixed = row.fixed.clone();
        row_fixed.sort_by(|a, b| a.field.cmp(&b.field));
        assert_eq!(all_fixed, row_fixed);
        let mut parsed = Vec::new();
        all.write_json("Minutes1UTC", &mut parsed).unwrap();
        assert_eq!(serde_json::from_slice::<Value>(&parsed).unwrap(), written);
    }
}
