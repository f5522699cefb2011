//! Validates message values against the committed JSON Schemas in `schemas/`.

#![allow(dead_code)]

use std::collections::HashMap;
use std::sync::{Mutex, OnceLock};

use serde_json::Value;

/// The committed schema of `dataset`'s `kind` (records or aggregates) messages.
pub fn committed(dataset: &str, kind: &str) -> Value {
    let path = format!(
        "{}/schemas/{dataset}.{kind}.schema.json",
        env!("CARGO_MANIFEST_DIR")
    );
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path}: {e}"));
    serde_json::from_str(&text).unwrap()
}

/// The reasons `value` breaks the schema; empty when it is valid.
pub fn errors(dataset: &str, kind: &str, value: &Value) -> Vec<String> {
    static CACHE: OnceLock<Mutex<HashMap<String, jsonschema::Validator>>> = OnceLock::new();
    let mut cache = CACHE.get_or_init(Default::default).lock().unwrap();
    let validator = cache.entry(format!("{dataset}.{kind}")).or_insert_with(|| {
        jsonschema::options()
            .should_validate_formats(true)
            .build(&committed(dataset, kind))
            .unwrap()
    });
    validator
        .iter_errors(value)
        .map(|e| format!("{} at {}", e, e.instance_path()))
        .collect()
}

/// Panics unless `value` is a valid `kind` message of `dataset`.
pub fn assert_valid(dataset: &str, kind: &str, value: &Value) {
    let errors = errors(dataset, kind, value);
    assert!(
        errors.is_empty(),
        "{dataset} {kind} message breaks its schema: {errors:?}\n{value}"
    );
}

/// Validates one message value of `dataset` against the records or the
/// aggregates schema, whichever it claims to be.
pub fn assert_valid_message(dataset: &str, value: &Value) {
    let kind = if value.get("window_end").is_some() && value.get("fields").is_some() {
        "aggregates"
    } else {
        "records"
    };
    assert_valid(dataset, kind, value);
}
