//! One record of the API's `records` array parsed into a [`Row`], keeping
//! only the fields wanted (a backfill aggregates a few of many). A known
//! value field that is not wanted is still looked at (its first byte, no
//! number parsed): one that is not a number or null is listed in
//! [`Row::nulled`], so that a record written from its text says null too.

use std::fmt;

use anyhow::Result;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::dataset::{known_fields, Dataset, Row};

/// Parses one record's text into a [`Row`], keeping the fields `wanted`
/// names (all of them for `None`) and, with `raw`, the text itself.
pub fn parse_record(
    dataset: &Dataset,
    wanted: Option<&[&str]>,
    raw: bool,
    text: &[u8],
) -> Result<Row> {
    let (fields, unwanted_nulled) = match wanted {
        None => serde_json::from_slice::<Map<String, Value>>(text).map(|f| (f, Vec::new())),
        Some(wanted) => {
            let keep = Keep {
                wanted,
                known: known_fields(&dataset.name),
            };
            keep.deserialize(&mut serde_json::Deserializer::from_slice(text))
        }
    }
    .map_err(|e| anyhow::anyhow!("a record is not a JSON object: {e}"))?;
    let mut row = dataset.parse_row(fields)?;
    row.nulled.extend(unwanted_nulled);
    if raw {
        // Valid JSON: it was parsed just above.
        row.raw = Some(std::str::from_utf8(text)?.into());
    }
    Ok(row)
}

/// Reads one record object keeping only the `wanted` keys; the others are
/// skipped without building values or allocating their names, only their
/// first byte looked at: a `known` value field's value that is not a number
/// or null is listed.
struct Keep<'w> {
    wanted: &'w [&'w str],
    known: &'static [&'static str],
}

/// The known value fields not wanted that held something else, and what.
type Nulled = Vec<(&'static str, Value)>;

/// What a record's key is to [`Keep`].
enum Slot<'de> {
    /// A wanted field, by its place in the wanted list.
    Wanted(usize),
    /// Another field, by its name (borrowed from the record's text).
    Other(&'de str),
    /// Another field whose name had escapes: the known field it is, if any.
    Escaped(Option<&'static str>),
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
            None => Slot::Escaped(self.0.known_field(key)),
        })
    }
}

impl Keep<'_> {
    fn known_field(&self, name: &str) -> Option<&'static str> {
        self.known.iter().find(|k| **k == name).copied()
    }
}

impl<'de> DeserializeSeed<'de> for Keep<'_> {
    type Value = (Map<String, Value>, Nulled);
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Keep<'_> {
    type Value = (Map<String, Value>, Nulled);
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a record object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Map::with_capacity(self.wanted.len());
        let mut nulled = Vec::new();
        while let Some(slot) = map.next_key_seed(KeyIndex(&self))? {
            let field = match slot {
                Slot::Wanted(i) => {
                    out.insert(self.wanted[i].to_string(), map.next_value::<Value>()?);
                    continue;
                }
                Slot::Other(name) => name,
                Slot::Escaped(Some(known)) => known,
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
            if let Some(known) = self.known_field(field) {
                let value = serde_json::from_str(raw).map_err(de::Error::custom)?;
                nulled.push((known, value));
            }
        }
        Ok((out, nulled))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn known_fields_not_wanted_are_checked_without_being_kept() {
        let d = Dataset::known("PowerSystemRightNow").unwrap();
        let text = br#"{"Minutes1UTC":"2026-11-28T11:56:00","CO2Emission":"N/A","Exchange_DK1_DE":"N/A","SolarPower":true,"Exchange_DK1_NL":-1.5,"ImbalanceDK1":null,"New":"x"}"#;
        let row = parse_record(&d, Some(&["Minutes1UTC", "CO2Emission"]), true, text).unwrap();
        let nulled: Vec<&str> = row.nulled.iter().map(|(f, _)| *f).collect();
        assert_eq!(nulled, ["CO2Emission", "Exchange_DK1_DE", "SolarPower"]);
        assert_eq!(row.nulled[2].1, Value::Bool(true));
        assert_eq!(row.fields.len(), 2, "{:?}", row.fields);
        assert!(row.fields["CO2Emission"].is_null());
        let mut out = Vec::new();
        row.write_json("Minutes1UTC", &mut out).unwrap();
        let written: Value = serde_json::from_slice(&out).unwrap();
        assert_eq!(
            written,
            serde_json::json!({"Minutes1UTC": "2026-11-28T11:56:00Z", "CO2Emission": null,
                "Exchange_DK1_DE": null, "SolarPower": null, "Exchange_DK1_NL": -1.5,
                "ImbalanceDK1": null, "New": "x"})
        );
        // A name with an escape is matched too.
        let escaped =
            br#"{"Minutes1UTC":"2026-11-28T11:56:00","Solar\u0050ower":"x","A\u0042":"y"}"#;
        let other = parse_record(&d, Some(&["Minutes1UTC"]), true, escaped).unwrap();
        assert_eq!(other.nulled, [("SolarPower", Value::from("x"))]);
        // Every field parsed: the same row.
        let all = parse_record(&d, None, false, text).unwrap();
        assert_eq!(all.nulled, row.nulled);
        let mut parsed = Vec::new();
        all.write_json("Minutes1UTC", &mut parsed).unwrap();
        assert_eq!(serde_json::from_slice::<Value>(&parsed).unwrap(), written);
    }
}
