//! The aggregate message: its key (window end, then the key values) and its
//! value, the JSON form written without building a `Value` first and read
//! back by `consume`; [`MEMBERS`] are the value's fixed members.

use anyhow::{anyhow, Result};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use super::MessageKey;
use crate::aggregate::{Aggregate, Completeness, FieldStats, Stat};

/// The members every aggregate message value has (besides its key columns).
pub const MEMBERS: [&str; 7] = [
    "dataset",
    "window_start",
    "window_end",
    "rows",
    "expected_rows",
    "missing",
    "fields",
];
use crate::dataset::{key_text, Dataset};
use crate::time::{format_utc, parse_utc};

/// `expected_rows` and `missing` of a message value, when it has them.
fn completeness(obj: &serde_json::Map<String, Value>) -> Result<Option<Completeness>> {
    let Some(expected) = obj.get("expected_rows") else {
        return Ok(None);
    };
    let expected_rows = expected
        .as_u64()
        .ok_or_else(|| anyhow!("expected_rows is not a count"))?;
    let missing = obj
        .get("missing")
        .and_then(Value::as_array)
        .ok_or_else(|| anyhow!("no array field missing"))?
        .iter()
        .map(|v| {
            v.as_str()
                .and_then(parse_utc)
                .ok_or_else(|| anyhow!("missing holds {v}, not a time"))
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Some(Completeness {
        expected_rows,
        missing,
    }))
}

/// The row times an aggregate message value says are missing from its
/// window (`status`). A value without `expected_rows` (written before
/// completeness was) has none; a value that is not such an object is an error.
pub fn missing_of(payload: &[u8]) -> Result<Vec<chrono::DateTime<chrono::Utc>>> {
    let value: Value = serde_json::from_slice(payload)?;
    let obj = value
        .as_object()
        .ok_or_else(|| anyhow!("not a JSON object"))?;
    Ok(completeness(obj)?.map(|c| c.missing).unwrap_or_default())
}

/// Each field's statistics, and the stats they carry, in order.
type FieldsAndStats = (Vec<(String, FieldStats)>, Vec<Stat>);

/// The `fields` member of a message value, and the stats it carries, in order.
fn fields(obj: &serde_json::Map<String, Value>) -> Result<FieldsAndStats> {
    let mut stats: Vec<Stat> = Vec::new();
    let mut fields = Vec::new();
    let field_map = obj
        .get("fields")
        .and_then(Value::as_object)
        .ok_or_else(|| anyhow!("no object field 'fields'"))?;
    for (name, entry) in field_map {
        let entry = entry
            .as_object()
            .ok_or_else(|| anyhow!("fields.{name} is not an object"))?;
        let mut s = FieldStats::default();
        for (stat_name, v) in entry {
            let stat: Stat = stat_name.parse().map_err(|e: String| anyhow!(e))?;
            if !stats.contains(&stat) {
                stats.push(stat);
            }
            let x = v.as_f64();
            match stat {
                Stat::Count => s.count = v.as_u64().unwrap_or(0),
                Stat::Mean => s.mean = x,
                Stat::Min => s.min = x,
                Stat::Max => s.max = x,
                Stat::Last => s.last = x,
            }
        }
        fields.push((name.clone(), s));
    }
    Ok((fields, stats))
}

/// See [`Aggregate::json`].
pub struct AggregateJson<'a> {
    agg: &'a Aggregate,
    stats: &'a [Stat],
}

struct StatsJson<'a>(&'a FieldStats, &'a [Stat]);

impl Serialize for StatsJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.1.len()))?;
        for &stat in self.1 {
            match stat {
                Stat::Count => map.serialize_entry(stat.name(), &self.0.count)?,
                other => map.serialize_entry(stat.name(), &self.0.get(other))?,
            }
        }
        map.end()
    }
}

struct FieldsJson<'a>(&'a [(String, FieldStats)], &'a [Stat]);

impl Serialize for FieldsJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, stats) in self.0 {
            map.serialize_entry(name, &StatsJson(stats, self.1))?;
        }
        map.end()
    }
}

impl Serialize for AggregateJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let a = self.agg;
        let mut map = s.serialize_map(None)?;
        map.serialize_entry("dataset", &a.dataset)?;
        map.serialize_entry("window_start", &format_utc(a.window_start))?;
        map.serialize_entry("window_end", &format_utc(a.window_end))?;
        map.serialize_entry("rows", &a.rows)?;
        if let Some(c) = &a.completeness {
            map.serialize_entry("expected_rows", &c.expected_rows)?;
            let missing: Vec<String> = c.missing.iter().map(|t| format_utc(*t)).collect();
            map.serialize_entry("missing", &missing)?;
        }
        for (col, k) in &a.key {
            map.serialize_entry(col, k)?;
        }
        map.serialize_entry("fields", &FieldsJson(&a.fields, self.stats))?;
        map.end()
    }
}

impl Aggregate {
    /// The Kafka key: `window_end`, then each key value (`2026-11-28T12:00:00Z/DK1`).
    pub fn message_key(&self) -> MessageKey {
        MessageKey {
            time: self.window_end,
            key: self
                .key
                .iter()
                .map(|(_, v)| key_text(v).map_or_else(|| v.to_string(), |t| t.into_owned()))
                .collect(),
        }
    }

    /// The message value: dataset, window, key, rows and the selected stats.
    pub fn to_json(&self, stats: &[Stat]) -> Value {
        serde_json::to_value(self.json(stats)).expect("an aggregate serializes")
    }

    /// The message value as a serializable view, written without building a
    /// `Value` first (a backfill writes half a million of them).
    pub fn json<'a>(&'a self, stats: &'a [Stat]) -> AggregateJson<'a> {
        AggregateJson { agg: self, stats }
    }

    /// Reads a message value of `dataset` back; also returns the stats it
    /// carries, in order.
    pub fn from_json(value: &Value, dataset: &Dataset) -> Result<(Aggregate, Vec<Stat>)> {
        let obj = value
            .as_object()
            .ok_or_else(|| anyhow!("not a JSON object"))?;
        let text = |k: &str| {
            obj.get(k)
                .and_then(Value::as_str)
                .ok_or_else(|| anyhow!("no string field {k}"))
        };
        let time = |k: &str| parse_utc(text(k)?).ok_or_else(|| anyhow!("{k} is not a time"));
        let key = dataset
            .key_columns
            .iter()
            .map(|col| match obj.get(col) {
                Some(v) if key_text(v).is_some() => Ok((col.clone(), v.clone())),
                _ => Err(anyhow!("no key field {col} (a string or a number)")),
            })
            .collect::<Result<Vec<_>>>()?;
        let name = text("dataset")?;
        if name != dataset.name {
            return Err(anyhow!("an aggregate of {name}, not of {}", dataset.name));
        }
        let dataset = name.to_string();
        let (fields, stats) = fields(obj)?;
        let agg = Aggregate {
            dataset,
            window_start: time("window_start")?,
            window_end: time("window_end")?,
            key,
            rows: obj
                .get("rows")
                .and_then(Value::as_u64)
                .ok_or_else(|| anyhow!("no number field rows"))?,
            completeness: completeness(obj)?,
            fields,
        };
        Ok((agg, stats))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::aggregate;
    use crate::window::ending_at;
    use chrono::TimeDelta;
    use serde_json::json;

    #[test]
    fn a_numeric_key_stays_a_number() {
        let d = Dataset::known("CO2Emis").unwrap();
        let rows: Vec<_> = [(50, json!(1)), (55, json!(1)), (55, json!("DK1"))]
            .into_iter()
            .map(|(m, area)| {
                let obj = json!({"Minutes5UTC": format!("2026-11-28T11:{m:02}:00"),
                    "PriceArea": area, "CO2Emission": 2.0});
                d.parse_row(obj.as_object().unwrap().clone()).unwrap()
            })
            .collect();
        let end = parse_utc("2026-11-28T12:00:00").unwrap();
        let w = ending_at(&rows, end, TimeDelta::minutes(10));
        let fields = ["CO2Emission".to_string()];
        let number = aggregate(&d, &w, &["1".to_string()], &fields);
        assert_eq!(number.rows, 2);
        let v = number.to_json(&Stat::ALL);
        assert_eq!(v["PriceArea"], json!(1));
        assert_eq!(number.message_key().to_string(), "2026-11-28T12:00:00Z/1");
        assert_eq!(Aggregate::from_json(&v, &d).unwrap().0, number);
        let text = aggregate(&d, &w, &["DK1".to_string()], &fields);
        assert_eq!(text.to_json(&[Stat::Count])["PriceArea"], json!("DK1"));
        let mut not_a_key = v.clone();
        not_a_key["PriceArea"] = json!(true);
        assert!(Aggregate::from_json(&not_a_key, &d).is_err());
    }
}
