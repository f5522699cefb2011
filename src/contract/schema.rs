//! The message contract as JSON Schema (draft 2020-12): the record value of
//! a dataset (its time columns, key columns, known value fields as nullable
//! numbers, unknown extra fields allowed) and the aggregate value (generic
//! over fields, with the dataset's key columns). `eds-kafka schema` prints
//! them; `schemas/` holds them for the known datasets.

use serde_json::{json, Map, Value};

use super::aggregate::MEMBERS;
use crate::aggregate::Stat;
use crate::dataset::{known_fields, Dataset};

/// Which message value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Records,
    Aggregates,
}

impl Kind {
    pub fn name(self) -> &'static str {
        match self {
            Kind::Records => "records",
            Kind::Aggregates => "aggregates",
        }
    }
}

/// A UTC time as this program writes it: `2026-11-28T12:00:00Z`.
fn utc_time() -> Value {
    json!({
        "type": "string",
        "format": "date-time",
        "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$"
    })
}

/// The schema of `kind` messages of `dataset`.
pub fn schema(dataset: &Dataset, kind: Kind) -> Value {
    let mut s = match kind {
        Kind::Records => records(dataset),
        Kind::Aggregates => aggregates(dataset),
    };
    let head = json!({
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": format!("urn:eds-kafka:schema:{}:{}", dataset.name, kind.name()),
        "title": format!("eds-kafka {} message value of {}", kind.name(), dataset.name),
    });
    let mut out = head.as_object().cloned().unwrap_or_default();
    out.append(s.as_object_mut().expect("an object"));
    Value::Object(out)
}

fn records(d: &Dataset) -> Value {
    let mut properties = Map::new();
    properties.insert(d.time_column.clone(), utc_time());
    if let Some(dk) = &d.dk_column {
        properties.insert(
            dk.clone(),
            json!({
                "description": "Danish local time, no offset (ambiguous in the October DST hour)",
                "type": "string",
                "pattern": "^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}(:[0-9]{2}(\\.[0-9]+)?)?$"
            }),
        );
    }
    for key in &d.key_columns {
        properties.insert(key.clone(), json!({"type": ["string", "number"]}));
    }
    for field in known_fields(&d.name) {
        properties.insert(field.name.to_string(), json!({"type": ["number", "null"]}));
    }
    let mut required = vec![d.time_column.clone()];
    required.extend(d.key_columns.iter().cloned());
    json!({
        "description": format!(
            "One row of {} as the API gave it, the UTC time column written with a Z; \
             value fields are numbers or null, unknown extra fields are allowed. {CHANGELOG}",
            d.name
        ),
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": true
    })
}

fn aggregates(d: &Dataset) -> Value {
    let mut properties = Map::new();
    properties.insert("dataset".into(), json!({"const": d.name}));
    properties.insert("window_start".into(), utc_time());
    properties.insert("window_end".into(), utc_time());
    properties.insert("rows".into(), json!({"type": "integer", "minimum": 0}));
    properties.insert(
        "expected_rows".into(),
        json!({"description": "window / resolution", "type": "integer", "minimum": 1}),
    );
    properties.insert(
        "missing".into(),
        json!({
            "description": "row times of this key combination absent from the window, oldest first",
            "type": "array",
            "items": utc_time()
        }),
    );
    for key in &d.key_columns {
        properties.insert(key.clone(), json!({"type": ["string", "number"]}));
    }
    let stats: Map<String, Value> = Stat::ALL
        .iter()
        .map(|s| {
            let t = match s {
                Stat::Count => json!({"type": "integer", "minimum": 0}),
                _ => json!({"type": ["number", "null"]}),
            };
            (s.name().to_string(), t)
        })
        .collect();
    properties.insert(
        "fields".into(),
        json!({
            "description": "per aggregated field, the selected statistics (null: no value)",
            "type": "object",
            "additionalProperties": {
                "type": "object",
                "properties": stats,
                "additionalProperties": false
            }
        }),
    );
    let mut required: Vec<String> = MEMBERS.iter().map(|s| s.to_string()).collect();
    required.extend(d.key_columns.iter().cloned());
    json!({
        "description": format!(
            "One window of one key combination of {}: its rows, completeness and statistics. \
             {CHANGELOG}",
            d.name
        ),
        "type": "object",
        "required": required,
        "properties": properties,
        "additionalProperties": false
    })
}

/// What every value's schema says of the topic it is in: a changelog.
const CHANGELOG: &str = "The topic is a changelog keyed by the Kafka message key (the row's \
     UTC time, or the window end, then the key values, joined by '/'): a later message with \
     the same key supersedes the earlier one, and the latest is what the API serves now. \
     Headers: eds-dataset (the dataset), eds-digest (FNV-1a 64 of the value, 16 hex digits), \
     eds-revision (on a message that corrects its key: 1, 2, ...; absent on the first).";

/// The schema as committed: pretty JSON and a final newline.
pub fn text(dataset: &Dataset, kind: Kind) -> String {
    let mut out =
        serde_json::to_string_pretty(&schema(dataset, kind)).expect("a schema serializes");
    out.push('\n');
    out
}
