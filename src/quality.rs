//! What a run's rows say about the data. [`Quality`] checks them as they
//! pass through the sliding window ([`crate::window::Slider`]), the one path
//! every row takes to a sink in `publish` and `backfill`: a key column whose
//! values differ only in JSON type (the number `1` and the string `"1"`: one
//! message key) is refused; a (time, key) sent again with other values is
//! dropped (the first received is kept) and warned once per run. The cost is
//! one map look-up per key column and row; the maps hold each distinct key
//! value once. [`NonNumeric`] counts the numeric fields that were not
//! numbers ([`Row::fixed`]: a number read from text, else null) in what a
//! run publishes, and warns once per field.

use std::collections::{HashMap, HashSet};

use chrono::{DateTime, Utc};
use serde_json::Value;

use crate::dataset::{Dataset, Row, RowError};
use crate::logging::count;
use crate::time::format_utc;

/// What a run's rows said, for the metrics (the log has the details).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Report {
    /// Values of known value fields that were not numbers, published as null.
    pub non_numeric: u64,
    /// Rows dropped as a repeat of an earlier row's time and key, with other values.
    pub conflicting_repeats: u64,
}

/// The first row a key value was seen in: whether it was a number, and its time.
#[derive(Debug, Clone, Copy)]
struct FirstSeen {
    number: bool,
    time: DateTime<Utc>,
}

/// A numeric field that was not a number, and whether its text was read as
/// a number (else: null): in how many rows, the first such row's time and
/// the value it had.
#[derive(Debug, Clone)]
struct Nulled {
    field: String,
    converted: bool,
    rows: u64,
    first: DateTime<Utc>,
    value: Value,
}

/// The known value fields that were not numbers in the rows a run
/// published (or printed), each row counted once.
#[derive(Debug, Clone, Default)]
pub struct NonNumeric {
    fields: Vec<Nulled>,
    /// The rows counted (only rows with nulled fields).
    counted: HashSet<(DateTime<Utc>, Vec<String>)>,
}

impl NonNumeric {
    /// Counts the fixed fields of `row`, published or printed, unless it
    /// was counted before (no cost for a row without any).
    pub fn count(&mut self, row: &Row) {
        if row.fixed.is_empty() || !self.counted.insert((row.time, row.key.clone())) {
            return;
        }
        for f in &row.fixed {
            let converted = f.converted();
            let same = |n: &&mut Nulled| n.field == f.field && n.converted == converted;
            match self.fields.iter_mut().find(same) {
                Some(n) => n.rows += 1,
                None => self.fields.push(Nulled {
                    field: f.field.clone(),
                    converted,
                    rows: 1,
                    first: row.time,
                    value: f.served.clone(),
                }),
            }
        }
    }

    /// Logs one warning per field and kind (once, at the end of a run);
    /// returns the number of values published as null.
    pub fn report(&self, dataset: &str) -> u64 {
        for n in &self.fields {
            let (what, published) = match n.converted {
                true => ("a number written as text", "the number it holds"),
                false => ("not a number", "null"),
            };
            log::warn!(
                "field {} of {dataset} was {what} in {} (first at {}: {}); published as \
                 {published} (a numeric field is a number or null, as its records schema says)",
                crate::text::visible(&n.field),
                count(n.rows, "row"),
                format_utc(n.first),
                shown(&n.value)
            );
        }
        (self.fields.iter())
            .filter(|n| !n.converted)
            .map(|n| n.rows)
            .sum()
    }
}

/// The checks of one run's rows.
#[derive(Debug, Clone)]
pub struct Quality {
    dataset: String,
    key_columns: Vec<String>,
    /// Per key column, each value's text and where it was first seen.
    keys: Vec<HashMap<String, FirstSeen>>,
    /// Repeats with the same values (dropped without a warning).
    same_repeats: u64,
    conflicting_repeats: u64,
    /// The first conflicting repeat's time and key, as in message keys.
    first_conflict: Option<String>,
}

impl Quality {
    pub fn new(dataset: &Dataset) -> Quality {
        Quality {
            dataset: dataset.name.clone(),
            key_columns: dataset.key_columns.clone(),
            keys: vec![HashMap::new(); dataset.key_columns.len()],
            same_repeats: 0,
            conflicting_repeats: 0,
            first_conflict: None,
        }
    }

    /// Refuses a row whose key value was seen before with another JSON type.
    pub fn key_types(&mut self, row: &Row) -> Result<(), RowError> {
        let columns = self.key_columns.iter().zip(&mut self.keys);
        for ((column, seen_values), text) in columns.zip(&row.key) {
            let number = row.fields.get(column).is_some_and(Value::is_number);
            match seen_values.get(text.as_str()) {
                Some(seen) if seen.number != number => {
                    return Err(RowError::KeyTypes {
                        dataset: self.dataset.clone(),
                        column: column.clone(),
                        first: typed(seen.number, text),
                        first_time: seen.time,
                        second: typed(number, text),
                        second_time: row.time,
                    });
                }
                Some(_) => {}
                None => {
                    let seen = FirstSeen {
                        number,
                        time: row.time,
                    };
                    seen_values.insert(text.clone(), seen);
                }
            }
        }
        Ok(())
    }

    /// `dropped` repeats the time and key of `kept`, which stays.
    pub fn repeated(&mut self, kept: &Row, dropped: &Row) {
        if kept.fields == dropped.fields && kept.raw == dropped.raw {
            self.same_repeats += 1;
            return;
        }
        self.conflicting_repeats += 1;
        if self.first_conflict.is_none() {
            let mut key = format_utc(dropped.time);
            for value in &dropped.key {
                key.push('/');
                key.push_str(value);
            }
            self.first_conflict = Some(key);
        }
    }

    /// Logs the repeats (once, at the end of a run); returns how many rows
    /// repeated an earlier one with other values.
    pub fn report(&self) -> u64 {
        if let Some(first) = &self.first_conflict {
            log::warn!(
                "{} of {} repeated the time and key of an earlier row with other values \
                 (first: {first}); the first received was kept",
                count(self.conflicting_repeats, "row"),
                self.dataset
            );
        }
        if self.same_repeats > 0 {
            log::debug!(
                "{} of {} repeated an earlier row exactly (dropped)",
                count(self.same_repeats, "row"),
                self.dataset
            );
        }
        self.conflicting_repeats
    }
}

/// `the number 1`, `the string "1"`.
fn typed(number: bool, text: &str) -> String {
    if number {
        format!("the number {text}")
    } else {
        format!("the string {}", Value::from(text))
    }
}

/// A value as JSON, cut after 40 characters.
fn shown(value: &Value) -> String {
    let text = value.to_string();
    match text.char_indices().nth(40) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::exit_of;
    use serde_json::json;

    fn row(d: &Dataset, minute: u32, area: Value, co2: Value) -> Row {
        let obj = json!({"Minutes5UTC": format!("2026-11-28T11:{minute:02}:00"),
            "PriceArea": area, "CO2Emission": co2});
        d.parse_row(obj.as_object().unwrap().clone()).unwrap()
    }

    #[test]
    fn a_key_value_keeps_its_json_type() {
        let d = Dataset::known("CO2Emis").unwrap();
        let mut q = Quality::new(&d);
        for r in [
            row(&d, 50, json!(1), json!(1.0)),
            row(&d, 50, json!("DK1"), json!(1.0)),
            row(&d, 55, json!(1), json!(2.0)),
        ] {
            q.key_types(&r).unwrap();
        }
        let err = q
            .key_types(&row(&d, 55, json!("1"), json!(2.0)))
            .unwrap_err();
        assert!(matches!(err, RowError::KeyTypes { .. }));
        let err = anyhow::Error::new(err);
        assert_eq!(exit_of(&err), crate::exit::Exit::Data);
        assert_eq!(
            err.to_string(),
            "key column PriceArea of CO2Emis has the number 1 (row 2026-11-28T11:50:00Z) and \
             the string \"1\" (row 2026-11-28T11:55:00Z): one message key, so one row would \
             hide the other; refused (a key value must keep its JSON type)"
        );
        assert!(err.chain().any(|e| e.is::<RowError>()));
    }

    #[test]
    fn repeats_with_other_values_are_counted() {
        let d = Dataset::known("CO2Emis").unwrap();
        let mut q = Quality::new(&d);
        let first = row(&d, 55, json!("DK1"), json!(1.0));
        q.repeated(&first, &first.clone());
        assert_eq!(q.report(), 0, "the same row again");
        q.repeated(&first, &row(&d, 55, json!("DK1"), json!(2.0)));
        q.repeated(&first, &row(&d, 55, json!("DK1"), json!(3.0)));
        assert_eq!(
            q.first_conflict.as_deref(),
            Some("2026-11-28T11:55:00Z/DK1")
        );
        assert_eq!(q.report(), 2);
    }

    #[test]
    fn nulled_fields_are_counted_once_per_row() {
        let d = Dataset::known("CO2Emis").unwrap();
        let mut n = NonNumeric::default();
        let text = row(&d, 50, json!("DK1"), json!("N/A"));
        n.count(&text);
        n.count(&text);
        n.count(&row(&d, 55, json!("DK2"), json!(true)));
        n.count(&row(&d, 55, json!("DK1"), json!(2.0)));
        let converted = row(&d, 45, json!("DK1"), json!("2.5"));
        assert_eq!(converted.fields["CO2Emission"], json!(2.5));
        n.count(&converted);
        assert_eq!(n.report("CO2Emis"), 2, "published as null");
        assert_eq!(
            (n.fields.len(), n.fields[0].first, &n.fields[0].value),
            (2, text.time, &json!("N/A"))
        );
        assert!(n.fields[1].converted && n.fields[1].rows == 1);
        assert_eq!(shown(&json!("x".repeat(50))).len(), 43);
    }
}
