//! One record of the API's `records` array parsed into a [`Row`], keeping
//! only the fields wanted (a backfill aggregates a few of many).

use std::fmt;

use anyhow::Result;
use serde::de::{self, DeserializeSeed, IgnoredAny, MapAccess, Visitor};
use serde_json::{Map, Value};

use crate::dataset::{Dataset, Row};

/// Parses one record's text into a [`Row`], keeping the fields `wanted`
/// names (all of them for `None`) and, with `raw`, the text itself.
pub fn parse_record(
    dataset: &Dataset,
    wanted: Option<&[&str]>,
    raw: bool,
    text: &[u8],
) -> Result<Row> {
    let fields = match wanted {
        None => serde_json::from_slice::<Map<String, Value>>(text),
        Some(wanted) => Keep(wanted).deserialize(&mut serde_json::Deserializer::from_slice(text)),
    }
    .map_err(|e| anyhow::anyhow!("a record is not a JSON object: {e}"))?;
    let mut row = dataset.parse_row(fields)?;
    if raw {
        // Valid JSON: it was parsed just above.
        row.raw = Some(std::str::from_utf8(text)?.into());
    }
    Ok(row)
}

/// Reads one record object keeping only the `wanted` keys; the others are
/// skipped without building values or allocating their names.
struct Keep<'w>(&'w [&'w str]);

/// A key's place in the wanted list, if it is wanted.
struct KeyIndex<'w>(&'w [&'w str]);

impl<'de> DeserializeSeed<'de> for KeyIndex<'_> {
    type Value = Option<usize>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Option<usize>, D::Error> {
        d.deserialize_str(self)
    }
}

impl<'de> Visitor<'de> for KeyIndex<'_> {
    type Value = Option<usize>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a field name")
    }
    fn visit_str<E: de::Error>(self, key: &str) -> Result<Option<usize>, E> {
        Ok(self.0.iter().position(|w| *w == key))
    }
}

impl<'de> DeserializeSeed<'de> for Keep<'_> {
    type Value = Map<String, Value>;
    fn deserialize<D: de::Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de> Visitor<'de> for Keep<'_> {
    type Value = Map<String, Value>;
    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a record object")
    }
    fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Self::Value, A::Error> {
        let mut out = Map::with_capacity(self.0.len());
        while let Some(index) = map.next_key_seed(KeyIndex(self.0))? {
            match index {
                Some(i) => {
                    out.insert(self.0[i].to_string(), map.next_value::<Value>()?);
                }
                None => {
                    map.next_value::<IgnoredAny>()?;
                }
            }
        }
        Ok(out)
    }
}
