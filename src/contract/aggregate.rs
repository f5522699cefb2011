//! The aggregate message: its key (window end, then the key values) and its
//! value, the JSON form written without building a `Value` first and read
//! back by `consume`; [`MEMBERS`] are the value's fixed members.

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
use crate::exit::{Exit, Staged};
use crate::time::{format_span, format_utc, parse_utc};

/// Why a message value is not an aggregate (of its key, of the dataset).
/// `status` counts such a message as invalid, `chart` and `consume` skip it.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum NotAggregate {
    #[error("not JSON ({0})")]
    NotJson(String),
    #[error("not a JSON object")]
    NotObject,
    /// A member missing, or not of its type (`kind`: "string", "number"...).
    #[error("no {kind} field {member}")]
    Missing { member: String, kind: &'static str },
    #[error("{member} is not {what}")]
    Wrong { member: String, what: &'static str },
    #[error("missing holds {0}, not a time")]
    MissingTime(String),
    #[error("{0}")]
    UnknownStat(String),
    #[error("fields.{field}.{stat} is {value}, not a number")]
    Stat {
        field: String,
        stat: String,
        value: String,
    },
    #[error("an aggregate of {found}, not of {expected}")]
    OtherDataset { found: String, expected: String },
    #[error("window_end {} is not the key's time", format_utc(*.0))]
    EndNotKey(chrono::DateTime<chrono::Utc>),
    #[error("its key values are not the message key's")]
    KeyValues,
    #[error("its message key is not one of ours")]
    KeyNotOurs,
    #[error(
        "window {} .. {} does not fit the dataset's {} grid",
        format_utc(*start), format_utc(*end), format_span(*resolution)
    )]
    OffGrid {
        start: chrono::DateTime<chrono::Utc>,
        end: chrono::DateTime<chrono::Utc>,
        resolution: chrono::TimeDelta,
    },
    #[error("rows {0} is more than the window holds")]
    TooManyRows(u64),
    #[error(
        "rows {rows}, expected_rows {expected} and {missing} missing do not add up for a \
         window of {steps}"
    )]
    DoNotAddUp {
        rows: u64,
        expected: u64,
        missing: usize,
        steps: u64,
    },
}

impl Staged for NotAggregate {
    fn exit(&self) -> Exit {
        Exit::Data
    }
}

type Read<T> = std::result::Result<T, NotAggregate>;

fn missing(member: &str, kind: &'static str) -> NotAggregate {
    NotAggregate::Missing {
        member: member.to_string(),
        kind,
    }
}

/// `expected_rows` and `missing` of a message value, when it has them.
fn completeness(obj: &serde_json::Map<String, Value>) -> Read<Option<Completeness>> {
    let Some(expected) = obj.get("expected_rows") else {
        return Ok(None);
    };
    let expected_rows = expected.as_u64().ok_or_else(|| NotAggregate::Wrong {
        member: "expected_rows".into(),
        what: "a count",
    })?;
    let missing = obj
        .get("missing")
        .and_then(Value::as_array)
        .ok_or_else(|| missing("missing", "array"))?
        .iter()
        .map(|v| {
            v.as_str()
                .and_then(parse_utc)
                .ok_or_else(|| NotAggregate::MissingTime(v.to_string()))
        })
        .collect::<Read<Vec<_>>>()?;
    Ok(Some(Completeness {
        expected_rows,
        missing,
    }))
}

/// Each field's statistics, and the stats they carry, in order.
type FieldsAndStats = (Vec<(String, FieldStats)>, Vec<Stat>);

/// The `fields` member of a message value, and the stats it carries, in order.
fn fields(obj: &serde_json::Map<String, Value>) -> Read<FieldsAndStats> {
    let mut stats: Vec<Stat> = Vec::new();
    let mut fields = Vec::new();
    let field_map = obj
        .get("fields")
        .and_then(Value::as_object)
        .ok_or_else(|| missing("'fields'", "object"))?;
    for (name, entry) in field_map {
        let entry = entry.as_object().ok_or_else(|| NotAggregate::Wrong {
            member: format!("fields.{name}"),
            what: "an object",
        })?;
        let mut s = FieldStats::default();
        for (stat_name, v) in entry {
            let stat: Stat = stat_name.parse().map_err(NotAggregate::UnknownStat)?;
            if !stats.contains(&stat) {
                stats.push(stat);
            }
            if !(v.is_null() || v.is_number()) || (stat == Stat::Count && v.as_u64().is_none()) {
                return Err(NotAggregate::Stat {
                    field: name.clone(),
                    stat: stat_name.clone(),
                    value: v.to_string(),
                });
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
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
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
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, stats) in self.0 {
            map.serialize_entry(name, &StatsJson(stats, self.1))?;
        }
        map.end()
    }
}

impl Serialize for AggregateJson<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
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
    pub fn from_json(value: &Value, dataset: &Dataset) -> Read<(Aggregate, Vec<Stat>)> {
        let obj = value.as_object().ok_or(NotAggregate::NotObject)?;
        let text = |k: &str| {
            obj.get(k)
                .and_then(Value::as_str)
                .ok_or_else(|| missing(k, "string"))
        };
        let time = |k: &str| {
            parse_utc(text(k)?).ok_or_else(|| NotAggregate::Wrong {
                member: k.to_string(),
                what: "a time",
            })
        };
        let key = dataset
            .key_columns
            .iter()
            .map(|col| match obj.get(col) {
                Some(v) if key_text(v).is_some() => Ok((col.clone(), v.clone())),
                _ => Err(missing(col, "key (a string or a number)")),
            })
            .collect::<Read<Vec<_>>>()?;
        let name = text("dataset")?;
        if name != dataset.name {
            return Err(NotAggregate::OtherDataset {
                found: name.to_string(),
                expected: dataset.name.clone(),
            });
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
                .ok_or_else(|| missing("rows", "number"))?,
            completeness: completeness(obj)?,
            fields,
        };
        Ok((agg, stats))
    }
}

/// Reads the value of the aggregate message whose key is `key` and checks
/// that it is one: its window ends at the key's time and fits the dataset
/// (on its grid, a whole number of resolutions long), its key values are
/// the key's, and its completeness adds up (`rows` = `expected_rows` minus
/// the missing row times, each inside the window and on the grid). What
/// `status`, `chart` and `consume` count as an aggregate.
pub fn read_checked(payload: &[u8], key: &MessageKey, dataset: &Dataset) -> Read<Aggregate> {
    let value: Value =
        serde_json::from_slice(payload).map_err(|e| NotAggregate::NotJson(e.to_string()))?;
    Ok(checked(&value, key, dataset)?.0)
}

/// [`read_checked`] for a value already parsed; also returns the stats it
/// carries, in order.
pub fn checked(value: &Value, key: &MessageKey, dataset: &Dataset) -> Read<(Aggregate, Vec<Stat>)> {
    let (agg, stats) = Aggregate::from_json(value, dataset)?;
    agg.check(key, dataset)?;
    Ok((agg, stats))
}

impl Aggregate {
    /// See [`read_checked`].
    fn check(&self, key: &MessageKey, dataset: &Dataset) -> Read<()> {
        let res = dataset.resolution;
        let (start, end) = (self.window_start, self.window_end);
        if end != key.time {
            return Err(NotAggregate::EndNotKey(end));
        }
        if self.message_key().key != key.key {
            return Err(NotAggregate::KeyValues);
        }
        let span = end - start;
        let on_grid = |t: chrono::DateTime<chrono::Utc>| crate::time::floor(t, res) == t;
        let steps = (span.num_milliseconds())
            .checked_div(res.num_milliseconds())
            .filter(|_| span > chrono::TimeDelta::zero() && on_grid(end) && on_grid(start));
        let Some(steps) = steps.and_then(|n| u64::try_from(n).ok()) else {
            return Err(NotAggregate::OffGrid {
                start,
                end,
                resolution: res,
            });
        };
        let Some(c) = &self.completeness else {
            return match self.rows <= steps {
                true => Ok(()),
                false => Err(NotAggregate::TooManyRows(self.rows)),
            };
        };
        let inside = |t: &chrono::DateTime<chrono::Utc>| *t >= start && *t < end && on_grid(*t);
        let sorted = c.missing.windows(2).all(|w| w[0] < w[1]);
        if c.expected_rows != steps
            || !sorted
            || !c.missing.iter().all(inside)
            || self.rows + c.missing.len() as u64 != steps
        {
            return Err(NotAggregate::DoNotAddUp {
                rows: self.rows,
                expected: c.expected_rows,
                missing: c.missing.len(),
                steps,
            });
        }
        Ok(())
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

    /// `status`, `chart` and `consume` count only what passes this check.
    #[test]
    fn an_aggregate_that_does_not_add_up_is_refused() {
        let d = Dataset::known("PowerSystemRightNow").unwrap();
        let key: MessageKey = "2026-11-28T12:00:00Z".parse().unwrap();
        let good = json!({"dataset": "PowerSystemRightNow", "window_start": "2026-11-28T11:55:00Z",
            "window_end": "2026-11-28T12:00:00Z", "rows": 4, "expected_rows": 5,
            "missing": ["2026-11-28T11:57:00Z"], "fields": {"CO2Emission": {"count": 4, "mean": 1.5}}});
        let read = |v: &Value| read_checked(v.to_string().as_bytes(), &key, &d);
        assert_eq!(read(&good).unwrap().rows, 4);
        let bad = |f: &dyn Fn(&mut Value)| {
            let mut v = good.clone();
            f(&mut v);
            read(&v).unwrap_err().to_string()
        };
        assert!(bad(&|v| v["rows"] = json!(5)).contains("do not add up"));
        assert!(bad(&|v| v["missing"] = json!(["2026-11-28T12:00:00Z"])).contains("do not add up"));
        assert!(bad(&|v| v["window_end"] = json!("2026-11-28T12:01:00Z")).contains("key's time"));
        assert!(bad(&|v| v["window_start"] = json!("2026-11-28T11:55:30Z")).contains("grid"));
        assert!(bad(&|v| v["window_start"] = json!("2026-11-28T12:05:00Z")).contains("grid"));
        assert!(
            bad(&|v| v["fields"]["CO2Emission"]["mean"] = json!("1.5")).contains("not a number")
        );
        assert!(bad(&|v| v["rows"] = json!("4")).contains("rows"));
        assert!(read_checked(b"{garbage", &key, &d)
            .unwrap_err()
            .to_string()
            .starts_with("not JSON"));
        let other: MessageKey = "2026-11-28T12:00:00Z/DK1".parse().unwrap();
        assert!(read_checked(good.to_string().as_bytes(), &other, &d).is_err());
    }
}
