//! Aggregation of a window's rows: which fields (named or `all` numeric ones),
//! which statistics, the result for one key combination and its completeness.
//! Its JSON form (the aggregates topic's message value) is in
//! [`crate::contract::aggregate`].

use std::fmt;
use std::str::FromStr;

use anyhow::Result;
use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::dataset::{Dataset, Row};
use crate::window::Window;

mod fields;
pub use fields::{resolve_fields, FieldError, Survey};

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

/// `x` to 12 significant digits: a sum's binary noise goes (the mean of
/// 112.03 and 112.05 is 112.04, not 112.04000000000001), the API's values
/// (six decimals at most) stay. Values of 1e12 and more, or below 1e-10,
/// are left as they are.
fn significant(x: f64) -> f64 {
    if x == 0.0 || !x.is_finite() {
        return x;
    }
    let digits = 11 - x.abs().log10().floor() as i32;
    if !(0..=22).contains(&digits) {
        return x;
    }
    let scale = 10f64.powi(digits);
    (x * scale).round() / scale
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
                significant(sum / n)
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
    #[inline]
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
    /// `(key column, key value)` for each key column, in order: a string, or
    /// a number when the rows have it as one.
    pub key: Vec<(String, Value)>,
    pub rows: u64,
    /// How many rows the window should have, and which are absent; `None`
    /// in a message written before eds-kafka said so.
    pub completeness: Option<Completeness>,
    pub fields: Vec<(String, FieldStats)>,
}

/// Whether a window had every row: `window / resolution` expected, and the
/// row times absent (of this key combination), oldest first.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Completeness {
    pub expected_rows: u64,
    pub missing: Vec<DateTime<Utc>>,
}

/// Aggregates the rows of one key combination in a window (all rows for a
/// dataset without key columns). Fields must have been checked by
/// [`resolve_fields`]; a non-number left in a row counts as no value.
pub fn aggregate(
    dataset: &Dataset,
    window: &Window<'_>,
    key: &[String],
    fields: &[String],
) -> Aggregate {
    let rows: Vec<&Row> = window.rows.iter().filter(|r| r.key == key).collect();
    aggregate_rows(dataset, window, key, &rows, fields)
}

/// [`aggregate`] given the rows of `key` in `window` (in time order), so
/// that a caller with many key combinations groups the window's rows once
/// instead of scanning the window once per combination.
pub fn aggregate_rows(
    dataset: &Dataset,
    window: &Window<'_>,
    key: &[String],
    rows: &[&Row],
    fields: &[String],
) -> Aggregate {
    let resolution = dataset.resolution;
    let expected_rows = ((window.end - window.start).num_milliseconds()
        / resolution.num_milliseconds().max(1))
    .max(0) as u64;
    Aggregate {
        dataset: dataset.name.clone(),
        window_start: window.start,
        window_end: window.end,
        key: dataset
            .key_columns
            .iter()
            .zip(key)
            .map(|(column, text)| (column.clone(), key_value(rows, column, text)))
            .collect(),
        rows: rows.len() as u64,
        completeness: Some(Completeness {
            expected_rows,
            missing: missing(window, rows, resolution),
        }),
        fields: fields
            .iter()
            .map(|f| {
                let values = rows.iter().filter_map(|r| r.number(f).ok().flatten());
                (f.clone(), FieldStats::of(values))
            })
            .collect(),
    }
}

/// A key column's value as the rows have it: a number stays a number (the
/// run refused a key column whose values differ only in type).
fn key_value(rows: &[&Row], column: &str, text: &str) -> Value {
    match rows.first().and_then(|r| r.fields.get(column)) {
        Some(number @ Value::Number(_)) => number.clone(),
        _ => Value::from(text),
    }
}

/// The row times absent from a window, on the resolution's grid, given the
/// rows of one key combination in time order.
fn missing(
    window: &Window<'_>,
    rows: &[&Row],
    resolution: chrono::TimeDelta,
) -> Vec<DateTime<Utc>> {
    let mut present = rows.iter().map(|r| r.time).peekable();
    let mut out = Vec::new();
    let mut t = crate::time::floor(window.start, resolution);
    if t < window.start {
        t += resolution;
    }
    while t < window.end {
        while present.next_if(|p| *p < t).is_some() {}
        if present.next_if_eq(&t).is_none() {
            out.push(t);
        }
        t += resolution;
    }
    out
}

#[cfg(test)]
mod tests {
    #[test]
    fn means_carry_no_binary_noise() {
        let mean = |v: &[f64]| super::FieldStats::of(v.iter().copied()).mean.unwrap();
        assert_eq!(mean(&[112.03, 112.05]).to_string(), "112.04");
        assert_eq!(mean(&[0.1, 0.2]).to_string(), "0.15");
        assert_eq!(mean(&[1.0, 2.0, 2.0]), 1.66666666667);
        assert_eq!(mean(&[-3.3, -3.3, -3.3]), -3.3);
        assert_eq!(mean(&[1.7e308, 1.7e308]), 1.7e308);
        assert_eq!(mean(&[5e-324]), 5e-324);
        assert_eq!(
            mean(&[123456789012345.6, 123456789012345.6]),
            123456789012345.6
        );
    }

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
        // Ordinary values: the plain sum's result, to 12 significant digits.
        assert_eq!(
            FieldStats::of([107.0, 107.02, 107.05]).mean,
            Some(107.023333333)
        );
        assert_eq!(FieldStats::of([f64::NAN]).mean.map(f64::is_nan), Some(true));
    }
    use crate::time::parse_utc;
    use serde_json::{json, Value};

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
        let agg = aggregate(&psrn(), &w, &[], &["A".to_string()]);
        assert_eq!(agg.rows, 5);
        let complete = Completeness {
            expected_rows: 5,
            missing: vec![],
        };
        assert_eq!(agg.completeness, Some(complete));
        let s = agg.fields[0].1;
        assert_eq!(
            (s.count, s.min, s.max, s.last),
            (2, Some(1.5), Some(4.0), Some(4.0))
        );
        assert_eq!(s.mean, Some(2.75));
    }

    #[test]
    fn completeness_names_the_absent_row_times_of_the_key() {
        let rs = rows(&[(55, json!(1.0)), (57, json!(2.0)), (59, json!(3.0))]);
        let w = ending_at(&rs, end(), TimeDelta::minutes(5));
        let agg = aggregate(&psrn(), &w, &[], &["A".to_string()]);
        let c = agg.completeness.clone().unwrap();
        assert_eq!(c.expected_rows, 5);
        let t = |m: u32| parse_utc(&format!("2026-11-28T11:{m:02}:00")).unwrap();
        assert_eq!(c.missing, vec![t(56), t(58)]);
        let v = agg.to_json(&[Stat::Count]);
        assert_eq!(v["expected_rows"], json!(5));
        assert_eq!(
            v["missing"],
            json!(["2026-11-28T11:56:00Z", "2026-11-28T11:58:00Z"])
        );
        let (back, _) = Aggregate::from_json(&v, &psrn()).unwrap();
        assert_eq!(back.completeness, Some(c));
        // A message from before completeness was written reads back without it.
        let mut old = v.clone();
        old.as_object_mut().unwrap().remove("expected_rows");
        old.as_object_mut().unwrap().remove("missing");
        assert_eq!(
            Aggregate::from_json(&old, &psrn()).unwrap().0.completeness,
            None
        );
        // No row at all in the window: every time is missing.
        let none = aggregate(
            &psrn(),
            &ending_at(&[], end(), TimeDelta::minutes(5)),
            &[],
            &[],
        );
        assert_eq!(none.completeness.unwrap().missing.len(), 5);
    }

    #[test]
    fn all_null_gives_empty_stats() {
        let rs = rows(&[(58, Value::Null), (59, Value::Null)]);
        let w = ending_at(&rs, end(), TimeDelta::minutes(5));
        let s = aggregate(&psrn(), &w, &[], &["A".to_string()]).fields[0].1;
        assert_eq!(s, FieldStats::default());
        let v = aggregate(&psrn(), &w, &[], &["A".to_string()]).to_json(&Stat::ALL);
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
        let typo = resolve_fields(&psrn(), Some(&["Nope".to_string()]), &rs).unwrap_err();
        assert_eq!(crate::exit::Staged::exit(&typo), crate::exit::Exit::Usage);
        let err = resolve_fields(&psrn(), Some(&["S".to_string()]), &rs).unwrap_err();
        assert!(err.to_string().contains("not numeric"), "{err}");
        assert!(resolve_fields(&psrn(), Some(&["A".to_string()]), &rs).is_ok());
    }

    #[test]
    fn keyed_datasets_aggregate_one_key_combination() {
        let d = Dataset::known("Forecasts_5Min").unwrap();
        let row = |m: u32, area: &str, kind: &str, v: f64| {
            let obj = json!({"Minutes5UTC": format!("2026-11-28T11:{m:02}:00"),
                "PriceArea": area, "ForecastType": kind, "ForecastCurrent": v});
            d.parse_row(obj.as_object().unwrap().clone()).unwrap()
        };
        let rs = crate::window::normalize(vec![
            row(50, "DK2", "Solar", 3.0),
            row(50, "DK1", "Solar", 1.0),
            row(55, "DK2", "Solar", 5.0),
            row(55, "DK2", "Offshore Wind", 100.0),
        ]);
        let w = ending_at(&rs, end(), TimeDelta::minutes(10));
        let key = ["DK2".to_string(), "Solar".to_string()];
        let fields = ["ForecastCurrent".to_string()];
        let agg = aggregate(&d, &w, &key, &fields);
        assert_eq!(agg.rows, 2, "other key combinations are not mixed in");
        assert_eq!(agg.fields[0].1.mean, Some(4.0));
        assert_eq!(
            agg.key,
            [
                ("PriceArea".into(), "DK2".into()),
                ("ForecastType".into(), "Solar".into())
            ]
        );
        assert_eq!(
            agg.message_key().to_string(),
            "2026-11-28T12:00:00Z/DK2/Solar"
        );
        let v = agg.to_json(&Stat::ALL);
        assert_eq!(
            (v["PriceArea"].as_str(), v["ForecastType"].as_str()),
            (Some("DK2"), Some("Solar"))
        );
        let (back, _) = Aggregate::from_json(&v, &d).unwrap();
        assert_eq!(back, agg);
        let other = Dataset::known("CO2Emis").unwrap();
        assert!(
            Aggregate::from_json(&v, &other).is_err(),
            "another dataset's"
        );
        let mut no_type = v.clone();
        no_type.as_object_mut().unwrap().remove("ForecastType");
        assert!(Aggregate::from_json(&no_type, &d).is_err());
    }

    #[test]
    fn json_round_trip_keeps_selected_stats() {
        let rs = rows(&[(58, json!(1.0)), (59, json!(2.0))]);
        let w = ending_at(&rs, end(), TimeDelta::minutes(5));
        let agg = aggregate(&psrn(), &w, &[], &["A".to_string()]);
        let v = agg.to_json(&[Stat::Max, Stat::Count]);
        assert_eq!(v["fields"]["A"], json!({"max": 2.0, "count": 2}));
        assert_eq!(v["window_start"], json!("2026-11-28T11:55:00Z"));
        let (back, stats) = Aggregate::from_json(&v, &psrn()).unwrap();
        assert_eq!(stats, vec![Stat::Max, Stat::Count]);
        assert_eq!(back.fields[0].1.max, Some(2.0));
        assert_eq!(back.fields[0].1.mean, None);
        assert_eq!("mean".parse::<Stat>(), Ok(Stat::Mean));
        assert!("median".parse::<Stat>().is_err());
    }
}
