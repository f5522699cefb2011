//! What we know about each Energi Data Service dataset: its UTC and Danish
//! time columns, its key columns (zero or more, in order) and its resolution,
//! from the table of known datasets or described on the command line.
//! Everything else (the value fields) is discovered from the rows; only the
//! fields known for certain to be numbers ([`known_fields`], and those asked
//! for) are named here, and a row holding anything else in one of them has
//! it replaced by the number its text holds or by null ([`number`],
//! [`Row::fixed`]). Also the [`Row`]: one API record, its time and key values.

mod number;

use std::borrow::Cow;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{Map, Value};

use crate::exit::{Exit, Staged};
use crate::time::{self, format_span, format_utc};

/// A row the run refuses (exit 3): its facts as fields. Retrying will not
/// help; the message says which row and why.
#[derive(Debug, thiserror::Error)]
pub enum RowError {
    #[error("a record is not a JSON object: {0}")]
    NotObject(String),
    #[error("a row of {dataset} has no time column {column}")]
    NoTime { dataset: String, column: String },
    #[error("{dataset} {column} is not a timestamp: {value}")]
    BadTime {
        dataset: String,
        column: String,
        value: String,
    },
    #[error(
        "the row of {dataset} at {} has no key column {column} (found {found}); the key columns \
         are {}",
        format_utc(*time), columns.join(",")
    )]
    NoKey {
        dataset: String,
        time: DateTime<Utc>,
        column: String,
        found: String,
        columns: Vec<String>,
    },
    #[error(
        "the row of {dataset} at {} has {column} {}, not a Danish local time such as \
         2026-11-28T12:55:00 (the records' schema requires one)",
        format_utc(*time), crate::text::visible_cut(value, 60)
    )]
    BadDanishTime {
        dataset: String,
        time: DateTime<Utc>,
        column: String,
        value: String,
    },
    #[error(
        "the row of {dataset} at {} (key {}) is not on the dataset's {} grid: rows off the grid \
         cannot be published exactly once (check --resolution for a dataset described by flags)",
        time.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true),
        crate::text::key(key),
        format_span(*resolution)
    )]
    OffGrid {
        dataset: String,
        time: DateTime<Utc>,
        key: Vec<String>,
        resolution: TimeDelta,
    },
    #[error("rows are not in time order: {later} after {earlier}")]
    OutOfOrder {
        later: DateTime<Utc>,
        earlier: DateTime<Utc>,
    },
    /// Values of one key column that print the same with other JSON types.
    #[error(
        "key column {column} of {dataset} has {first} (row {}) and {second} (row {}): one \
         message key, so one row would hide the other; refused (a key value must keep its JSON \
         type)",
        format_utc(*first_time), format_utc(*second_time)
    )]
    KeyTypes {
        dataset: String,
        column: String,
        first: String,
        first_time: DateTime<Utc>,
        second: String,
        second_time: DateTime<Utc>,
    },
}

impl Staged for RowError {
    fn exit(&self) -> Exit {
        Exit::Data
    }
}

/// How to read one dataset's rows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Dataset {
    pub name: String,
    /// The row's time in UTC, e.g. `Minutes1UTC`; every window uses this column.
    pub time_column: String,
    /// The same time in Danish local time, e.g. `Minutes1DK`, if the dataset has it.
    pub dk_column: Option<String>,
    /// Rows with the same time are told apart by these columns, in this order
    /// (e.g. `PriceArea`, `ForecastType`); empty for one row per time.
    pub key_columns: Vec<String>,
    /// The step between row times.
    pub resolution: TimeDelta,
    /// Value fields asked for (`--fields`): numbers, as the known ones.
    pub numbers: Vec<String>,
}

pub use number::{number_in, Fixed};

/// Value fields known for certain of a dataset (others may appear any time):
/// numbers or null, as its records schema says ([`crate::catalogue`]).
pub fn known_fields(dataset: &str) -> &'static [crate::catalogue::Field] {
    crate::catalogue::find(dataset).map_or(&[], |e| e.fields)
}

/// What the command line says about a dataset: its name and any of the
/// descriptive columns, each overriding the known table's value.
#[derive(Debug, Clone, Default)]
pub struct Description {
    pub name: String,
    pub time_column: Option<String>,
    /// `Some("")` removes a known dataset's DK column.
    pub dk_column: Option<String>,
    /// `Some(vec![])` removes a known dataset's key columns.
    pub key_columns: Option<Vec<String>>,
    pub resolution: Option<TimeDelta>,
}

/// The largest resolution accepted: windows are cut on a UTC grid, and only
/// divisors of an hour fall on the same grid in Danish local time.
pub const MAX_RESOLUTION: TimeDelta = TimeDelta::hours(1);

impl Dataset {
    /// The description of a known dataset ([`crate::catalogue`]), matched
    /// case-insensitively.
    pub fn known(name: &str) -> Option<Dataset> {
        crate::catalogue::find(name).map(|e| Dataset {
            name: e.name.to_string(),
            time_column: e.time_column.to_string(),
            dk_column: Some(e.dk_column.to_string()),
            key_columns: e.key_columns.iter().map(|k| k.to_string()).collect(),
            resolution: e.resolution(),
            numbers: Vec::new(),
        })
    }

    /// Names of every dataset [`Dataset::known`] accepts.
    pub fn known_names() -> Vec<&'static str> {
        crate::catalogue::CATALOGUE.iter().map(|e| e.name).collect()
    }

    /// A known dataset with the description's overrides, or an unknown one
    /// described completely (time column and resolution at least); no key
    /// column may be named as one of `reserved` (the aggregate's members). The
    /// error is a sentence for the user.
    pub fn describe(d: &Description, reserved: &[&str]) -> Result<Dataset, String> {
        let name = d.name.trim();
        if name.is_empty()
            || !name
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
        {
            return Err(format!(
                "invalid dataset name '{name}': use letters, digits, '_' and '-'"
            ));
        }
        let base = match (Dataset::known(name), &d.time_column, d.resolution) {
            (Some(known), _, _) => known,
            (None, Some(time), Some(resolution)) => Dataset {
                name: name.to_string(),
                time_column: time.clone(),
                dk_column: None,
                key_columns: Vec::new(),
                resolution,
                numbers: Vec::new(),
            },
            (None, _, _) => {
                return Err(format!(
                    "unknown dataset '{name}': known datasets are {}; describe another one with \
                     --time-column / EDS_TIME_COLUMN and --resolution / EDS_RESOLUTION (and \
                     --key-columns / EDS_KEY_COLUMNS, --dk-time-column / EDS_DK_TIME_COLUMN)",
                    Dataset::known_names().join(", ")
                ))
            }
        };
        let dataset = Dataset {
            time_column: d.time_column.clone().unwrap_or(base.time_column),
            dk_column: match &d.dk_column {
                Some(c) if c.trim().is_empty() => None,
                Some(c) => Some(c.trim().to_string()),
                None => base.dk_column,
            },
            key_columns: d.key_columns.clone().unwrap_or(base.key_columns),
            resolution: d.resolution.unwrap_or(base.resolution),
            numbers: Vec::new(),
            name: base.name,
        };
        dataset.check(reserved)?;
        Ok(dataset)
    }

    /// Columns named once each, a resolution that divides an hour in whole minutes.
    fn check(&self, reserved: &[&str]) -> Result<(), String> {
        let mut columns: Vec<&str> = vec![&self.time_column];
        columns.extend(self.dk_column.as_deref());
        columns.extend(self.key_columns.iter().map(String::as_str));
        for (i, c) in columns.iter().enumerate() {
            if c.trim().is_empty() || c.contains(',') {
                return Err(format!(
                    "invalid column name '{c}' in the dataset description"
                ));
            }
            if columns[..i].contains(c) {
                return Err(format!(
                    "column {c} is named twice in the dataset description (time, DK time, key columns)"
                ));
            }
        }
        if let Some(k) = self
            .key_columns
            .iter()
            .find(|k| reserved.contains(&k.as_str()))
        {
            return Err(format!(
                "key column {k} has the name of a field of the aggregate message ({})",
                reserved.join(", ")
            ));
        }
        let r = self.resolution;
        let minute = TimeDelta::minutes(1);
        let whole_minutes = r.num_milliseconds() % minute.num_milliseconds() == 0;
        if r < minute || r > MAX_RESOLUTION || !whole_minutes || 60 % r.num_minutes() != 0 {
            return Err(format!(
                "--resolution {} is not supported: use whole minutes that divide an hour (1m .. 1h)",
                time::format_span(r)
            ));
        }
        Ok(())
    }

    /// Whether `column` is one of the dataset's time or key columns (never aggregated).
    pub fn is_index_column(&self, column: &str) -> bool {
        column == self.time_column
            || self.dk_column.as_deref() == Some(column)
            || self.key_columns.iter().any(|k| k == column)
    }

    /// Whether `field` is a value field that is a number or null: a known
    /// one, or one asked for.
    pub fn is_numeric(&self, field: &str) -> bool {
        self.is_known(field) || self.numbers.iter().any(|n| n == field)
    }

    /// Whether `field` is one of the dataset's known value fields.
    fn is_known(&self, field: &str) -> bool {
        known_fields(&self.name).iter().any(|k| k.name == field)
    }
}

/// One API row: its UTC time, its key values (one per key column, in order)
/// and the object's fields, with the UTC time column rewritten as `...Z`. A
/// backfill keeps only the fields it aggregates in `fields` and the object's
/// text in `raw`.
#[derive(Debug, Clone, PartialEq)]
pub struct Row {
    pub time: DateTime<Utc>,
    pub key: Vec<String>,
    pub fields: Map<String, Value>,
    /// The whole object's JSON text as the API wrote it (already parsed once,
    /// so known to be valid), when `fields` holds only some fields.
    pub raw: Option<Box<str>>,
    /// The numeric fields ([`Dataset::is_numeric`]) that held neither a
    /// number nor null: what they held and what replaced it in `fields`, and
    /// in the record written from `raw` too. Empty in the common case.
    pub fixed: Vec<Fixed>,
}

/// A field value that should be a number but is not.
#[derive(Debug, Clone, PartialEq)]
pub struct NotNumeric(pub Value);

impl Row {
    /// The field as a number: `None` when missing or null, never 0.
    pub fn number(&self, field: &str) -> Result<Option<f64>, NotNumeric> {
        match self.fields.get(field) {
            None | Some(Value::Null) => Ok(None),
            Some(Value::Number(n)) => Ok(n.as_f64()),
            Some(other) => Err(NotNumeric(other.clone())),
        }
    }
}

impl Dataset {
    /// Reads one JSON object of the API's `records` array (or a value this
    /// program published) as a [`Row`].
    pub fn parse_row(&self, mut fields: Map<String, Value>) -> Result<Row, RowError> {
        let raw = fields
            .get(&self.time_column)
            .ok_or_else(|| RowError::NoTime {
                dataset: self.name.clone(),
                column: self.time_column.clone(),
            })?;
        let time = (raw.as_str().and_then(time::parse_utc)).ok_or_else(|| RowError::BadTime {
            dataset: self.name.clone(),
            column: self.time_column.clone(),
            value: raw.to_string(),
        })?;
        let key = self
            .key_columns
            .iter()
            .map(|col| match fields.get(col).map(|v| (key_text(v), v)) {
                Some((Some(text), _)) => Ok(text.into_owned()),
                other => Err(RowError::NoKey {
                    dataset: self.name.clone(),
                    time,
                    column: col.clone(),
                    found: other.map_or("nothing".to_string(), |(_, v)| v.to_string()),
                    columns: self.key_columns.clone(),
                }),
            })
            .collect::<Result<Vec<String>, RowError>>()?;
        if let Some((dk, value)) = (self.dk_column.as_ref())
            .and_then(|dk| fields.get(dk).map(|v| (dk, v)))
            .filter(|(_, v)| !v.as_str().is_some_and(is_local_time))
        {
            return Err(RowError::BadDanishTime {
                dataset: self.name.clone(),
                time,
                column: dk.clone(),
                value: value.to_string(),
            });
        }
        fields.insert(
            self.time_column.clone(),
            Value::String(time::format_utc(time)),
        );
        let fixed = self.fix_numbers(&mut fields);
        Ok(Row {
            time,
            key,
            fields,
            raw: None,
            fixed,
        })
    }

    /// Replaces each numeric field's value that is neither a number nor
    /// null ([`Fixed`]); returns what was replaced. A field only asked for
    /// (not a known one) keeps a value that is no number at all: the
    /// aggregation refuses it (exit 3), never a silent null. Only a value
    /// that is not a number is looked up: no cost for numbers.
    fn fix_numbers(&self, fields: &mut Map<String, Value>) -> Vec<Fixed> {
        let mut fixed = Vec::new();
        for (name, value) in fields.iter_mut() {
            if value.is_number()
                || value.is_null()
                || self.is_index_column(name)
                || !self.is_numeric(name)
            {
                continue;
            }
            if !self.is_known(name) && number_in(value).is_none() {
                continue;
            }
            let f = Fixed::of(name, std::mem::take(value));
            *value = f.published.clone();
            fixed.push(f);
        }
        fixed
    }
}

/// Whether `text` has the form of the schemas' Danish local time
/// (`2026-11-28T12:55`, with seconds and a fraction or not, no offset).
fn is_local_time(text: &str) -> bool {
    !text.ends_with('Z') && time::parse_utc(text).is_some()
}

/// A key value's text, as message keys carry it: a string as it is, a number
/// as JSON writes it (`1`, `2.5`); `None` for any other value.
pub fn key_text(value: &Value) -> Option<Cow<'_, str>> {
    match value {
        Value::String(s) => Some(Cow::Borrowed(s)),
        Value::Number(n) => Some(Cow::Owned(n.to_string())),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
