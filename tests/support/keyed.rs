//! Keyed datasets for the stub API: rows generated for every key combination
//! of Forecasts_5Min, ElectricityProdex5MinRealtime, DayAheadPrices (or any
//! description), and the expected statistics computed here, independently of
//! the program's code.

#![allow(dead_code)]

use chrono::{DateTime, TimeDelta, Timelike, Utc};
use chrono_tz::Europe::Copenhagen;
use serde_json::{json, Map, Value};

/// How a test dataset looks.
#[derive(Debug, Clone)]
pub struct Shape {
    pub name: &'static str,
    pub time_column: &'static str,
    pub dk_column: &'static str,
    pub key_columns: Vec<&'static str>,
    /// Every key combination, each value in key column order.
    pub keys: Vec<Vec<&'static str>>,
    pub resolution: TimeDelta,
    pub fields: Vec<&'static str>,
}

pub fn forecasts() -> Shape {
    let mut keys = Vec::new();
    for area in ["DK1", "DK2"] {
        for kind in ["Offshore Wind", "Onshore Wind", "Solar"] {
            keys.push(vec![area, kind]);
        }
    }
    Shape {
        name: "Forecasts_5Min",
        time_column: "Minutes5UTC",
        dk_column: "Minutes5DK",
        key_columns: vec!["PriceArea", "ForecastType"],
        keys,
        resolution: TimeDelta::minutes(5),
        fields: vec![
            "ForecastDayAhead",
            "ForecastIntraday",
            "Forecast5Hour",
            "Forecast1Hour",
            "ForecastCurrent",
        ],
    }
}

pub fn prodex() -> Shape {
    Shape {
        name: "ElectricityProdex5MinRealtime",
        time_column: "Minutes5UTC",
        dk_column: "Minutes5DK",
        key_columns: vec!["PriceArea"],
        keys: vec![vec!["DK1"], vec!["DK2"]],
        resolution: TimeDelta::minutes(5),
        fields: vec![
            "ProductionLt100MW",
            "ProductionGe100MW",
            "OffshoreWindPower",
            "SolarPower",
        ],
    }
}

pub fn day_ahead() -> Shape {
    Shape {
        name: "DayAheadPrices",
        time_column: "TimeUTC",
        dk_column: "TimeDK",
        key_columns: vec!["PriceArea"],
        keys: vec![vec!["DK1"], vec!["DK2"]],
        resolution: TimeDelta::minutes(15),
        fields: vec!["DayAheadPriceEUR", "DayAheadPriceDKK"],
    }
}

/// CO2Emis (realised) or CO2EmisProg (forecast), by `name`: one field, per
/// price area.
pub fn co2(name: &'static str) -> Shape {
    Shape {
        name,
        time_column: "Minutes5UTC",
        dk_column: "Minutes5DK",
        key_columns: vec!["PriceArea"],
        keys: vec![vec!["DK1"], vec!["DK2"]],
        resolution: TimeDelta::minutes(5),
        fields: vec!["CO2Emission"],
    }
}

/// The keyed datasets of the known table, by name (case ignored).
/// A described dataset `Synthetic` with `n` key combinations (column `Area`,
/// values `A0000001`...), every 5 minutes, one field: for scale benchmarks.
/// Describe it with `--dataset Synthetic --time-column Minutes5UTC
/// --dk-time-column Minutes5DK --key-columns Area --resolution 5m`.
pub fn synthetic(n: usize) -> Shape {
    let keys = (1..=n)
        .map(|k| vec![&*Box::leak(format!("A{k:07}").into_boxed_str())])
        .collect();
    Shape {
        name: "Synthetic",
        time_column: "Minutes5UTC",
        dk_column: "Minutes5DK",
        key_columns: vec!["Area"],
        keys,
        resolution: TimeDelta::minutes(5),
        fields: vec!["Value"],
    }
}

pub fn by_name(name: &str) -> Option<Shape> {
    let shapes = [
        forecasts(),
        prodex(),
        day_ahead(),
        co2("CO2Emis"),
        co2("CO2EmisProg"),
    ];
    shapes
        .into_iter()
        .find(|s| s.name.eq_ignore_ascii_case(name))
}

/// A field's value at `t` for key combination `key_index`: varied, some null
/// (never the last field, so every window has values somewhere).
pub fn value(shape: &Shape, t: DateTime<Utc>, key_index: usize, field: usize) -> Option<f64> {
    let slot = t.timestamp() / shape.resolution.num_seconds();
    let n = slot * 7 + key_index as i64 * 13 + field as i64 * 29;
    if field == 0 && n % 11 == 0 {
        return None;
    }
    Some((n % 997) as f64 * 0.25 - 40.5 + key_index as f64 * 1000.0)
}

/// The API's row of key combination `key_index` at `t`.
pub fn row(shape: &Shape, t: DateTime<Utc>, key_index: usize) -> Value {
    row_with(shape, t, key_index, |f| value(shape, t, key_index, f))
}

/// [`row`] with the value of each field (by index) from `value`.
pub fn row_with(
    shape: &Shape,
    t: DateTime<Utc>,
    key_index: usize,
    value: impl Fn(usize) -> Option<f64>,
) -> Value {
    let mut r = Map::new();
    r.insert(
        shape.time_column.into(),
        json!(t.format("%Y-%m-%dT%H:%M:%S").to_string()),
    );
    r.insert(
        shape.dk_column.into(),
        json!(t
            .with_timezone(&Copenhagen)
            .format("%Y-%m-%dT%H:%M:%S")
            .to_string()),
    );
    for (col, v) in shape.key_columns.iter().zip(&shape.keys[key_index]) {
        r.insert((*col).into(), json!(v));
    }
    for (i, f) in shape.fields.iter().enumerate() {
        r.insert((*f).into(), value(i).map_or(Value::Null, |v| json!(v)));
    }
    Value::Object(r)
}

/// Rows of every key combination at every time in `[from, to)`, time order,
/// the keys of one time in an order that is not sorted (last key first).
pub fn rows(shape: &Shape, from: DateTime<Utc>, to: DateTime<Utc>) -> Vec<(DateTime<Utc>, usize)> {
    let mut out = Vec::new();
    let mut t = from;
    while t < to {
        for k in (0..shape.keys.len()).rev() {
            out.push((t, k));
        }
        t += shape.resolution;
    }
    out
}

/// count, mean, min, max, last of `values` (oldest first, `None` skipped).
pub fn stats(values: &[Option<f64>]) -> (u64, Option<f64>, Option<f64>, Option<f64>, Option<f64>) {
    let present: Vec<f64> = values.iter().flatten().copied().collect();
    if present.is_empty() {
        return (0, None, None, None, None);
    }
    let sum: f64 = present.iter().sum();
    (
        present.len() as u64,
        Some(sum / present.len() as f64),
        present.iter().copied().reduce(f64::min),
        present.iter().copied().reduce(f64::max),
        present.last().copied(),
    )
}

/// Whether two CSV cells hold the same number (or are both empty).
pub fn same_number(cell: &str, expected: Option<f64>) -> bool {
    match (cell, expected) {
        ("", None) => true,
        (text, Some(x)) => text
            .parse::<f64>()
            .is_ok_and(|v| (v - x).abs() <= 1e-9 * x.abs().max(1.0)),
        _ => false,
    }
}

/// `2026-11-28T12:00:00Z`.
pub fn z(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// `t` floored to the shape's resolution.
pub fn floor(shape: &Shape, t: DateTime<Utc>) -> DateTime<Utc> {
    let step = shape.resolution.num_seconds();
    let s = t.timestamp();
    let floored = DateTime::from_timestamp(s - s.rem_euclid(step), 0).unwrap();
    floored.with_nanosecond(0).unwrap()
}
