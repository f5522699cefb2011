//! Aggregation of a window's rows: which fields (named or `all` numeric ones),
//! which statistics, the per-key results, and their JSON form (the aggregates
//! topic's message value, which `consume` reads back).

use std::collections::BTreeMap;
use std::fmt;
use std::str::FromStr;

use anyhow::{anyhow, bail, Result};
use chrono::{DateTime, Utc};
use serde::ser::{Serialize, SerializeMap, Serializer};
use serde_json::Value;

use crate::dataset::{Dataset, Row};
use crate::time::{format_utc, parse_utc};
use crate::window::Window;

/// A statistic of one field over a window; nulls and missing values are skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stat {
    Count,
    Mean,
    Min,
    Max,
    Last,
}

impl Stat {
    pub const ALL: [Stat; 5] = [Stat::Count, Stat::Mean, Stat::Min, Stat::Max, Stat::Last];

    pub fn name(self) -> &'static str {
        match self {
            Stat::Count => "count",
            Stat::Mean => "mean",
            Stat::Min => "min",
            Stat::Max => "max",
            Stat::Last => "last",
        }
    }
}

impl fmt::Display for Stat {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl FromStr for Stat {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        Stat::ALL
            .into_iter()
            .find(|st| st.name() == s.trim())
            .ok_or_else(|| format!("unknown stat '{s}': use count, mean, min, max or last"))
    }
}

/// The statistics of one field; `None` where the field had no value.
#[derive(Debug, Clone, Copy, PartialEq, Default)]
pub struct FieldStats {
    pub count: u64,
    pub mean: Option<f64>,
    pub min: Option<f64>,
    pub max: Option<f64>,
    pub last: Option<f64>,
}

impl FieldStats {
    /// Stats of values given oldest first. The mean never overflows: when
    /// the plain sum would (five values of 1.7e308), it is taken from a sum
    /// of the values scaled down by 2^64 (exact for these magnitudes), and
    /// it is kept within `[min, max]`.
    pub fn of(values: impl IntoIterator<Item = f64>) -> FieldStats {
        const SCALE: f64 = 18_446_744_073_709_551_616.0; // 2^64
        let mut s = FieldStats::default();
        let (mut sum, mut scaled) = (0.0, 0.0);
        for v in values {
            s.count += 1;
            sum += v;
            scaled += v / SCALE;
            s.min = Some(s.min.map_or(v, |m| m.min(v)));
            s.max = Some(s.max.map_or(v, |m| m.max(v)));
            s.last = Some(v);
        }
        if let (Some(min), Some(max)) = (s.min, s.max) {
            let n = s.count as f64;
            let mean = if sum.is_finite() {
                sum / n
            } else {
                scaled / n * SCALE
            };
            // `clamp` panics on a NaN bound; values from JSON are never NaN.
            s.mean = Some(if min <= max {
                mean.clamp(min, max)
            } else {
                mean
            });
        }
        s
    }

    /// One statistic as a number (count included), `None` for no value.
    pub fn get(&self, stat: Stat) -> Option<f64> {
        match stat {
            Stat::Count => Some(self.count as f64),
            Stat::Mean => self.mean,
            Stat::Min => self.min,
            Stat::Max => self.max,
            Stat::Last => self.last,
        }
    }
}

/// The result for one window (and one key value, for keyed datasets).
#[derive(Debug, Clone, PartialEq)]
pub struct Aggregate {
    pub dataset: String,
    pub window_start: DateTime<Utc>,
    pub window_end: DateTime<Utc>,
    /// `(key column, key value)` for keyed datasets.
    pub key: Option<(String, String)>,
    pub rows: u64,
    pub fields: Vec<(String, FieldStats)>,
}

/// The fields to aggregate: the ones named, or every numeric field found in
/// `rows` for `all`. A named field absent from every row or holding a
/// non-number is an error.
pub fn resolve_fields(
    dataset: &Dataset,
    named: Option<&[String]>,
    rows: &[Row],
) -> Result<Vec<String>> {
    match named {
        Some(names) => {
            for name in names {
                let mut present = false;
                for row in rows {
                    if row.fields.contains_key(name) {
                        present = true;
                    }
                    if let Err(bad) = row.number(name) {
                        bail!(
                            "field {name} of {} is not numeric at {}: {}",
                            dataset.name,
                            format_utc(row.time),
                            bad.0
                        );
                    }
                }
                if !present && !rows.is_empty() {
                    bail!(
                        "field {name} is absent from every row of {} (fields seen: {})",
                        dataset.name,
                        seen_fields(rows).join(",")
                    );
                }
            }
            Ok(names.to_vec())
        }
        None => Ok(seen_fields(rows)
            .into_iter()
            .filter(|f| !dataset.is_index_column(f))
            .filter(|f| rows.iter().all(|r| r.number(f).is_ok()))
            .collect()),
    }
}

/// Field names in the order they first appear.
fn seen_fields(rows: &[Row]) -> Vec<String> {
    let mut seen: Vec<String> = Vec::new();
    for row in rows {
        for name in row.fields.keys() {
            if !seen.iter().any(|s| s == name) {
                seen.push(name.clone());
            }
        }
    }
    seen
}

/// Aggregates a window's rows, one result per key value (sorted by key), or a
/// single one for an unkeyed dataset. Fields must have been checked by
/// [`resolve_fields`]; a non-number left in a row counts as no value.
pub fn aggregate(dataset: &Dataset, window: &Window<'_>, fields: &[String]) -> Vec<Aggregate> {
    let one = |key: Option<(String, String)>, rows: &[&Row]| Aggregate {
        dataset: dataset.name.clone(),
        window_start: window.start,
        window_end: window.end,
        key,
        rows: rows.len() as u64,
        fields: fields
            .iter()
            .map(|f| {
                let values = rows.iter().filter_map(|r| r.number(f).ok().flatten());
                (f.clone(), FieldStats::of(values))
            })
            .collect(),
    };
    match &dataset.key_column {
        None => vec![one(None, &window.rows.iter().collect::<Vec<_>>())],
        Some(col) => {
            let mut groups: BTreeMap<&str, Vec<&Row>> = BTreeMap::new();
            for row in window.rows {
                groups
                    .entry(row.key.as_deref().unwrap_or(""))
                    .or_default()
                    .push(row);
            }
            groups
                .into_iter()
                .map(|(k, rows)| one(Some((col.clone(), k.to_string())), &rows))
                .collect()
        }
    }
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
        if let Some((col, k)) = &a.key {
            map.serialize_entry(col, k)?;
        }
        map.serialize_entry("fields", &FieldsJson(&a.fields, self.stats))?;
        map.end()
    }
}

impl Aggregate {
    /// `2026-11-28T12:00:00Z`, or `2026-11-28T12:00:00Z/DK1` with a key.
    pub fn id(&self) -> String {
        match &self.key {
            Some((_, k)) => format!("{}/{k}", format_utc(self.window_end)),
            None => format_utc(self.window_end),
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

    /// Reads a message value back; also returns the stats it carries, in order.
    pub fn from_json(value: &Value) -> Result<(Aggregate, Vec<Stat>)> {
        let obj = value
            .as_object()
            .ok_or_else(|| anyhow!("not a JSON object"))?;
        let text = |k: &str| {
            obj.get(k)
                .and_then(Value::as_str)
                .ok_or_else(|| anyhow!("no string field {k}"))
        };
        let time = |k: &str| parse_utc(text(k)?).ok_or_else(|| anyhow!("{k} is not a time"));
        let dataset = text("dataset")?.to_string();
        let key = Dataset::known(&dataset)
            .and_then(|d| d.key_column)
            .and_then(|col| Some((col.clone(), obj.get(&col)?.as_str()?.to_string())));
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
        let agg = Aggregate {
            dataset,
            window_start: time("window_start")?,
            window_end: time("window_end")?,
            key,
            rows: obj
                .get("rows")
                .and_then(Value::as_u64)
                .ok_or_else(|| anyhow!("no number field rows"))?,
            fields,
        };
        Ok((agg, stats))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::window::ending_at;
    use chrono::TimeDelta;

    #[test]
    fn the_mean_does_not_overflow() {
        let big = FieldStats::of([1.7e308; 5]);
        assert_eq!(big.mean, Some(1.7e308));
        let max = FieldStats::of([f64::MAX, f64::MAX, f64::MAX]);
        assert_eq!(max.mean, Some(f64::MAX));
        let mixed = FieldStats::of([f64::MAX, f64::MAX, -f64::MAX]);
        let mean = mixed.mean.unwrap();
        assert!(
            mean.is_finite() && (mean - f64::MAX / 3.0).abs() <= f64::MAX * 1e-15,
            "{mean:e}"
        );
        let low = FieldStats::of([-1.7e308; 4]);
        assert_eq!(low.mean, Some(-1.7e308));
        // Ordinary values keep the plain sum's result exactly.
        assert_eq!(
            FieldStats::of([107.0, 107.02, 107.05]).mean,
            Some((107.0 + 107.02 + 107.05) / 3.0)
        );
        assert_eq!(FieldStats::of([f64::NAN]).mean.map(f64::is_nan), Some(true));
    }
    use serde_json::json;

    fn psrn() -> Dataset {
        Dataset::known("PowerSystemRightNow").unwrap()
    }

    fn rows(values: &[(u32, Value)]) -> Vec<Row> {
        values
            .iter()
            .map(|(m, v)| {
                let obj = json!({"Minutes1UTC": format!("2026-11-28T11:{m:02}:00"),
                    "Minutes1DK": format!("2026-11-28T12:{m:02}:00"), "A": v, "S": "text"});
                psrn().parse_row(obj.as_object().unwrap().clone()).unwrap()
            })
            .collect()
    }

    fn end() -> DateTime<Utc> {
        parse_utc("2026-11-28T12:00:00").unwrap()
    }

    #[test]
    fn stats_skip_nulls_and_missing() {
        let mut rs = rows(&[
            (55, json!(1.5)),
            (56, Value::Null),
            (57, json!(4.0)),
            (58, json!(-2.0)),
            (59, Value::Null),
        ]);
        rs[3].fields.remove("A");
        let w = ending_at(&rs, end(), TimeDelta::minutes(5));
        let agg = aggregate(&psrn(), &w, &["A".to_string()]);
        assert_eq!(agg.len(), 1);
        assert_eq!(agg[0].rows, 5);
        let s = agg[0].fields[0].1;
        assert_eq!(
            (s.count, s.min, s.max, s.last),
            (2, Some(1.5), Some(4.0), Some(4.0))
        );
        assert_eq!(s.mean, Some(2.75));
    }

    #[test]
    fn all_null_gives_empty_stats() {
        let rs = rows(&[(58, Value::Null), (59, Value::Null)]);
        let w = ending_at(&rs, end(), TimeDelta::minutes(5));
        let s = aggregate(&psrn(), &w, &["A".to_string()])[0].fields[0].1;
        assert_eq!(s, FieldStats::default());
        let v = aggregate(&psrn(), &w, &["A".to_string()])[0].to_json(&Stat::ALL);
        assert_eq!(
            v["fields"]["A"],
            json!({"count": 0, "mean": null, "min": null, "max": null, "last": null})
        );
    }

    #[test]
    fn field_selection() {
        let rs = rows(&[(58, json!(1.0)), (59, Value::Null)]);
        let all = resolve_fields(&psrn(), None, &rs).unwrap();
        assert_eq!(
            all,
            vec!["A"],
            "index columns and text fields are not numeric fields"
        );
        assert!(resolve_fields(&psrn(), Some(&["Nope".to_string()]), &rs).is_err());
        let err = resolve_fields(&psrn(), Some(&["S".to_string()]), &rs).unwrap_err();
        assert!(err.to_string().contains("not numeric"), "{err}");
        assert!(resolve_fields(&psrn(), Some(&["A".to_string()]), &rs).is_ok());
    }

    #[test]
    fn keyed_datasets_aggregate_per_key() {
        let d = Dataset::known("CO2Emis").unwrap();
        let rs: Vec<Row> = [("DK2", 3.0), ("DK1", 1.0), ("DK2", 5.0)]
            .iter()
            .enumerate()
            .map(|(i, (k, v))| {
                let obj = json!({"Minutes5UTC": format!("2026-11-28T11:{:02}:00", 50 + 5 * (i / 2)),
                    "PriceArea": k, "CO2Emission": v});
                d.parse_row(obj.as_object().unwrap().clone()).unwrap()
            })
            .collect();
        let rs = crate::window::normalize(rs);
        let w = ending_at(&rs, end(), TimeDelta::minutes(10));
        let aggs = aggregate(&d, &w, &["CO2Emission".to_string()]);
        assert_eq!(aggs.len(), 2);
        assert_eq!(aggs[0].key, Some(("PriceArea".into(), "DK1".into())));
        assert_eq!(aggs[1].rows, 2);
        assert_eq!(aggs[1].fields[0].1.mean, Some(4.0));
        assert_eq!(aggs[1].id(), "2026-11-28T12:00:00Z/DK2");
        let (back, _) = Aggregate::from_json(&aggs[1].to_json(&Stat::ALL)).unwrap();
        assert_eq!(back, aggs[1]);
    }

    #[test]
    fn json_round_trip_keeps_selected_stats() {
        let rs = rows(&[(58, json!(1.0)), (59, json!(2.0))]);
        let w = ending_at(&rs, end(), TimeDelta::minutes(5));
        let agg = aggregate(&psrn(), &w, &["A".to_string()]).remove(0);
        let v = agg.to_json(&[Stat::Max, Stat::Count]);
        assert_eq!(v["fields"]["A"], json!({"max": 2.0, "count": 2}));
        assert_eq!(v["window_start"], json!("2026-11-28T11:55:00Z"));
        let (back, stats) = Aggregate::from_json(&v).unwrap();
        assert_eq!(stats, vec![Stat::Max, Stat::Count]);
        assert_eq!(back.fields[0].1.max, Some(2.0));
        assert_eq!(back.fields[0].1.mean, None);
        assert_eq!("mean".parse::<Stat>(), Ok(Stat::Mean));
        assert!("median".parse::<Stat>().is_err());
    }
}
