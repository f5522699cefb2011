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
use crate::dataset::Dataset;
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
            key: self.key.iter().map(|(_, v)| v.clone()).collect(),
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
            .map(|col| Ok((col.clone(), text(col)?.to_string())))
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
