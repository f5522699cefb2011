//! The record message: its key (the row's time, then its key values) and its
//! value, the API's object with the UTC time column written as `...Z`.

use serde_json::{Map, Value};

use super::MessageKey;
use crate::dataset::Row;
use crate::time;

impl Row {
    /// The record message's value: the whole object, `time_column` as `...Z`,
    /// the [`Row::fixed`] fields as published. From `raw`, only the time's
    /// text is replaced (the API writes compact JSON); any other spelling,
    /// or a row with fixed fields, is parsed and written again.
    pub fn write_json(&self, time_column: &str, out: &mut Vec<u8>) -> serde_json::Result<()> {
        let Some(raw) = &self.raw else {
            return serde_json::to_writer(out, &self.fields);
        };
        let text: &str = raw;
        let pattern = format!("\"{time_column}\":\"");
        if let (Some(at), true) = (text.find(&pattern), self.fixed.is_empty()) {
            let value_start = at + pattern.len();
            if let Some(len) = text[value_start..].find('"') {
                out.extend_from_slice(&text.as_bytes()[..value_start]);
                out.extend_from_slice(time::format_utc(self.time).as_bytes());
                out.extend_from_slice(&text.as_bytes()[value_start + len..]);
                return Ok(());
            }
        }
        let mut all: Map<String, Value> = serde_json::from_str(text)?;
        all.insert(
            time_column.to_string(),
            Value::String(time::format_utc(self.time)),
        );
        for f in &self.fixed {
            all.insert(f.field.clone(), f.published.clone());
        }
        serde_json::to_writer(out, &all)
    }

    /// The record's Kafka key, `2026-11-28T11:55:00Z/DK1/Solar`: its identity.
    pub fn message_key(&self) -> MessageKey {
        MessageKey {
            time: self.time,
            key: self.key.clone(),
        }
    }
}
