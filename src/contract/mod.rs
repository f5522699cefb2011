//! The message contract, defined once: what the Kafka sink writes, what
//! `consume` and the cursor read read back, and what `schema` describes.
//!
//! - [`key`]: the message key, `time/key value/...`, with its escaping;
//! - [`DATASET_HEADER`]: the header every message carries;
//! - [`record`]: the record message (key and value);
//! - [`aggregate`]: the aggregate message (key, value, its members);
//! - [`schema`]: the JSON Schemas of both values, from the same definitions.

pub mod aggregate;
pub mod avro;
pub mod key;
pub mod record;
pub mod schema;
pub mod wire;

pub use key::{parse_key, KeyError, MessageKey};

/// The header every message carries: the dataset's name. The cursor read
/// skips messages without it (or of another dataset).
pub const DATASET_HEADER: &str = "eds-dataset";

/// Whether a message is ours for `dataset`: its [`DATASET_HEADER`] names it.
pub fn is_ours(header: Option<&[u8]>, dataset: &str) -> bool {
    header == Some(dataset.as_bytes())
}
