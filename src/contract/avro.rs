//! The message contract as Avro, for a schema registry: the schemas of both
//! message values, built from the same dataset description as the JSON
//! Schemas of [`super::schema`] (time column, DK column, key columns,
//! [`known_fields`]), the encoding of a record ([`Row`]) and of an
//! [`Aggregate`] into Avro binary (apache-avro's schema-aware serializer, no
//! intermediate value, the writer made once: [`encode`]), and the decoding of a payload back to the JSON form
//! ([`decode`], given the writer schema fetched by id).
//!
//! Decisions:
//! - Names: namespace [`NAMESPACE`], records `<Dataset>Record` and
//!   `<Dataset>Aggregate` (the dataset's name with `-` as `_`), the stats'
//!   record `FieldStats`. Column names are Avro field names as they are; a
//!   described dataset whose column is not an Avro name
//!   (`[A-Za-z_][A-Za-z0-9_]*`) has no Avro schema (an error naming it, exit
//!   2): a renamed column would break every query written against the JSON.
//! - Record, UTC time column: `long` with logicalType `timestamp-millis`
//!   (Flink's avro-confluent format reads it as TIMESTAMP(3); it has no
//!   TIMESTAMP_LTZ).
//! - Record, Danish time column: `["null","string"]`, default null: the local
//!   time's text as the API sent it (`2026-11-28T12:55:00`, seconds or not),
//!   null when the row has none. Not `local-timestamp-millis`: Flink's
//!   default (legacy) Avro time mapping does not read it, a string keeps the
//!   API's text exactly, and the October hour that occurs twice stays as
//!   ambiguous as the API has it, no more (the UTC column tells the two apart).
//! - Record, key columns: `string`, their text as the message key has it
//!   (a key the API sends as the number `1` is `"1"`).
//! - Record, known value fields: `["null","double"]`, default null, so a
//!   description that only adds a known field gives a BACKWARD compatible
//!   schema (tested). Doubles are never NaN or infinite: such a value is
//!   written as null, as the JSON form writes it.
//! - Record, every other field (unknown ones): in the one field `extra`,
//!   `["null",{"type":"map","values":"string"}]`, each field's JSON text
//!   (`"x"` with its quotes, `12`, `{"a":1}`) under its name, in the row's
//!   order; null when there is none. Nothing is lost; [`decode`] puts them
//!   back into the object.
//! - Aggregate: `dataset` string, `window_start` / `window_end`
//!   timestamp-millis, `rows` and `expected_rows` long, `missing` an array of
//!   timestamp-millis, the key columns as strings, `fields` a map of
//!   `FieldStats` `{count: long, mean/min/max/last: ["null","double"]}`: every
//!   stat present, null when not selected or without value (`count` is always
//!   the count). An aggregate without completeness (one read back from a
//!   message older than `expected_rows`) is not written.
//!
//! [`decode`] gives the JSON form of the contract for our schemas (times as
//! `...Z` strings, `extra` spread back, a null Danish time left out), so
//! [`Dataset::parse_row`] and [`Aggregate::from_json`] read it unchanged;
//! for any other writer schema it gives the plain JSON form of the datum.

use serde_json::{json, Value};

use super::aggregate::MEMBERS;
use super::schema::Kind;
use crate::aggregate::{Aggregate, Stat};
use crate::dataset::{known_fields, Dataset, Row};
use crate::exit::{Exit, Staged};

mod decode;
mod encode;
pub use decode::decode;

/// The namespace of every Avro schema of ours.
pub const NAMESPACE: &str = "dk.energidataservice.eds_kafka";

/// The record field holding a row's unknown fields.
pub const EXTRA: &str = "extra";

/// Why an Avro schema could not be built, a value encoded or a payload decoded.
#[derive(Debug, thiserror::Error)]
pub enum AvroError {
    /// A column the Avro schema cannot carry (exit 2: the dataset description).
    #[error("column '{column}' of {dataset} {why}: it has no Avro schema")]
    Column {
        dataset: String,
        column: String,
        why: &'static str,
    },
    /// Encoding failed: the schema and the value are both ours (exit 1, a bug).
    #[error("encoding {what} of {dataset} as Avro: {source}")]
    Encode {
        dataset: String,
        what: &'static str,
        #[source]
        source: Box<apache_avro::Error>,
    },
    /// A row's text that does not read as an object (exit 1: it was read once).
    #[error("encoding a record of {dataset} as Avro: its text does not read: {reason}")]
    Row { dataset: String, reason: String },
    /// An aggregate without `expected_rows` and `missing` (exit 1).
    #[error(
        "an aggregate of {dataset} without expected_rows and missing cannot be written as Avro"
    )]
    NoCompleteness { dataset: String },
    /// A schema text that is not an Avro schema (exit 3).
    #[error("not an Avro schema: {source}")]
    Schema {
        #[source]
        source: Box<apache_avro::Error>,
    },
    /// A payload that does not decode with its writer schema (exit 3).
    #[error("Avro payload does not decode with its writer schema: {why} (at byte {at})")]
    Decode { why: String, at: usize },
}

impl Staged for AvroError {
    fn exit(&self) -> Exit {
        match self {
            AvroError::Column { .. } => Exit::Usage,
            AvroError::Encode { .. } | AvroError::Row { .. } | AvroError::NoCompleteness { .. } => {
                Exit::Internal
            }
            AvroError::Schema { .. } | AvroError::Decode { .. } => Exit::Data,
        }
    }
}

/// Whether `name` is an Avro name: `[A-Za-z_][A-Za-z0-9_]*`.
pub fn is_avro_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// The record name for `dataset` and `kind`: `PowerSystemRightNowRecord`,
/// `Forecasts_5MinAggregate` (`-` becomes `_`; a leading digit gets a `_`).
pub fn record_name(dataset: &str, kind: Kind) -> String {
    let mut name: String = dataset
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if !name.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_') {
        name.insert(0, '_');
    }
    name.push_str(match kind {
        Kind::Records => "Record",
        Kind::Aggregates => "Aggregate",
    });
    name
}

fn timestamp() -> Value {
    json!({"type": "long", "logicalType": "timestamp-millis"})
}

/// The columns of `dataset` an Avro schema names, checked: Avro names, once
/// each, none of them `taken` (the schema's own fields).
fn check_columns<'a>(
    dataset: &Dataset,
    columns: impl IntoIterator<Item = &'a str>,
    taken: &[&str],
) -> Result<(), AvroError> {
    let mut seen: Vec<&str> = Vec::new();
    for column in columns {
        let why = if !is_avro_name(column) {
            Some("is not an Avro name (letters, digits and '_', not starting with a digit)")
        } else if taken.contains(&column) {
            Some("has the name of a field of the Avro message value")
        } else if seen.contains(&column) {
            Some("is named twice")
        } else {
            None
        };
        if let Some(why) = why {
            return Err(AvroError::Column {
                dataset: dataset.name.clone(),
                column: column.to_string(),
                why,
            });
        }
        seen.push(column);
    }
    Ok(())
}

/// The known value fields of a records schema: `known` less the dataset's
/// time and key columns (a column is written as one), in order.
fn value_fields<'k>(dataset: &Dataset, known: &[&'k str]) -> Vec<&'k str> {
    known
        .iter()
        .copied()
        .filter(|f| !dataset.is_index_column(f))
        .collect()
}

/// The Avro schema of `kind` messages of `dataset`, as JSON.
pub fn schema(dataset: &Dataset, kind: Kind) -> Result<Value, AvroError> {
    match kind {
        Kind::Records => records_schema(dataset, &known_names(dataset)),
        Kind::Aggregates => aggregates_schema(dataset),
    }
}

/// The records schema of `dataset` with `known` as its known value fields.
/// The names of the dataset's known value fields ([`known_fields`]).
fn known_names(dataset: &Dataset) -> Vec<&'static str> {
    known_fields(&dataset.name).iter().map(|f| f.name).collect()
}

pub fn records_schema(dataset: &Dataset, known: &[&str]) -> Result<Value, AvroError> {
    let values = value_fields(dataset, known);
    let index = std::iter::once(dataset.time_column.as_str())
        .chain(dataset.dk_column.as_deref())
        .chain(dataset.key_columns.iter().map(String::as_str));
    check_columns(dataset, index.chain(values.iter().copied()), &[EXTRA])?;
    let mut fields = vec![json!({"name": dataset.time_column, "type": timestamp(),
        "doc": "the row's time, UTC"})];
    if let Some(dk) = &dataset.dk_column {
        fields.push(
            json!({"name": dk, "type": ["null", "string"], "default": null,
            "doc": "the row's time in Danish local time as the API sent it, no offset"}),
        );
    }
    for key in &dataset.key_columns {
        fields.push(json!({"name": key, "type": "string"}));
    }
    for field in values {
        fields.push(json!({"name": field, "type": ["null", "double"], "default": null}));
    }
    fields.push(json!({"name": EXTRA,
        "type": ["null", {"type": "map", "values": "string"}], "default": null,
        "doc": "the row's other fields, each as its JSON text"}));
    Ok(json!({
        "type": "record",
        "name": record_name(&dataset.name, Kind::Records),
        "namespace": NAMESPACE,
        "doc": format!("One row of the Energi Data Service dataset {}", dataset.name),
        "fields": fields,
    }))
}

/// The aggregates schema of `dataset`.
pub fn aggregates_schema(dataset: &Dataset) -> Result<Value, AvroError> {
    let keys = dataset.key_columns.iter().map(String::as_str);
    check_columns(dataset, keys, &MEMBERS)?;
    let nullable = |name: &str| json!({"name": name, "type": ["null", "double"], "default": null});
    let stats = json!({
        "type": "record",
        "name": "FieldStats",
        "fields": [{"name": "count", "type": "long"}, nullable("mean"), nullable("min"),
            nullable("max"), nullable("last")],
    });
    let mut fields = vec![
        json!({"name": "dataset", "type": "string"}),
        json!({"name": "window_start", "type": timestamp()}),
        json!({"name": "window_end", "type": timestamp()}),
        json!({"name": "rows", "type": "long"}),
        json!({"name": "expected_rows", "type": "long"}),
        json!({"name": "missing", "type": {"type": "array", "items": timestamp()},
            "doc": "row times of this key combination absent from the window, oldest first"}),
    ];
    for key in &dataset.key_columns {
        fields.push(json!({"name": key, "type": "string"}));
    }
    fields.push(
        json!({"name": "fields", "type": {"type": "map", "values": stats},
        "doc": "per aggregated field its statistics; null when not selected or without value"}),
    );
    Ok(json!({
        "type": "record",
        "name": record_name(&dataset.name, Kind::Aggregates),
        "namespace": NAMESPACE,
        "doc": format!(
            "One window of one key combination of the Energi Data Service dataset {}",
            dataset.name
        ),
        "fields": fields,
    }))
}

/// Parses an Avro schema's JSON text (a writer schema fetched by id).
pub fn parse_schema(text: &str) -> Result<apache_avro::Schema, AvroError> {
    apache_avro::Schema::parse_str(text).map_err(|e| AvroError::Schema {
        source: Box::new(e),
    })
}

/// Writes the messages of one dataset and kind as Avro binary: the schema
/// (its text is what a registry is given) and the encoding ([`encode`]).
#[derive(Debug)]
pub struct Encoder {
    dataset: Dataset,
    kind: Kind,
    /// The records' known value fields (not the time or key columns).
    values: Vec<String>,
    /// Where each column of a row goes (records).
    slots: encode::Slots,
    writer: encode::Writer,
    text: String,
}

impl Encoder {
    /// The encoder of `kind` messages of `dataset`.
    pub fn new(dataset: &Dataset, kind: Kind) -> Result<Encoder, AvroError> {
        Encoder::with_known(dataset, kind, &known_names(dataset))
    }

    /// The encoder with `known` as the records' known value fields.
    pub fn with_known(dataset: &Dataset, kind: Kind, known: &[&str]) -> Result<Encoder, AvroError> {
        let json = match kind {
            Kind::Records => records_schema(dataset, known)?,
            Kind::Aggregates => aggregates_schema(dataset)?,
        };
        let text = json.to_string();
        let writer = encode::Writer::of(parse_schema(&text)?).map_err(|e| AvroError::Schema {
            source: Box::new(e),
        })?;
        let values: Vec<String> = match kind {
            Kind::Records => value_fields(dataset, known),
            Kind::Aggregates => Vec::new(),
        }
        .into_iter()
        .map(str::to_string)
        .collect();
        Ok(Encoder {
            dataset: dataset.clone(),
            kind,
            slots: encode::Slots::of(dataset, &values),
            values,
            writer,
            text,
        })
    }

    /// The schema's JSON text, compact: what is registered.
    pub fn schema_text(&self) -> &str {
        &self.text
    }

    pub fn schema(&self) -> &apache_avro::Schema {
        self.writer.schema()
    }

    pub fn kind(&self) -> Kind {
        self.kind
    }

    /// Appends the record message value of `row` to `out`.
    pub fn record(&self, row: &Row, out: &mut Vec<u8>) -> Result<(), AvroError> {
        debug_assert_eq!(self.kind, Kind::Records);
        let record = encode::Record::of(row, &self.dataset, &self.slots, self.values.len())
            .map_err(|e| AvroError::Row {
                dataset: self.dataset.name.clone(),
                reason: e.to_string(),
            })?;
        self.write("a record", out, &record)
    }

    /// Appends the aggregate message value of `agg` to `out`, with the
    /// statistics `stats` (the others null).
    pub fn aggregate(
        &self,
        agg: &Aggregate,
        stats: &[Stat],
        out: &mut Vec<u8>,
    ) -> Result<(), AvroError> {
        debug_assert_eq!(self.kind, Kind::Aggregates);
        if agg.completeness.is_none() {
            return Err(AvroError::NoCompleteness {
                dataset: agg.dataset.clone(),
            });
        }
        self.write("an aggregate", out, &encode::AggregateDatum { agg, stats })
    }

    fn write(
        &self,
        what: &'static str,
        out: &mut Vec<u8>,
        value: &impl serde::Serialize,
    ) -> Result<(), AvroError> {
        let start = out.len();
        self.writer.write(out, value).map_err(|e| {
            out.truncate(start);
            AvroError::Encode {
                dataset: self.dataset.name.clone(),
                what,
                source: Box::new(e),
            }
        })
    }
}

#[cfg(test)]
mod tests;
