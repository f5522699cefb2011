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

/// The header of a correction: how many times the message's key (its time
/// and key values) was published with another value before, `1`, `2`, ...
/// A first publication has none. The latest message of a key is the one
/// that counts (a compacted topic, Flink's upsert-kafka and ClickHouse's
/// ReplacingMergeTree keep it); its revision says how many it replaced.
pub const REVISION_HEADER: &str = "eds-revision";

/// The header with the fingerprint of the message's value as JSON
/// ([`digest`], 16 hex digits), whatever format the value is written in: a
/// run compares it with what the API serves now to find a changed value.
pub const DIGEST_HEADER: &str = "eds-digest";

/// A value's fingerprint: FNV-1a (64 bits) of its JSON text. Stable across
/// versions and machines (it is stored in [`DIGEST_HEADER`]); not a
/// cryptographic hash (the values are the API's, not an adversary's).
pub fn digest(json: &[u8]) -> u64 {
    const OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
    const PRIME: u64 = 0x0000_0100_0000_01b3;
    json.iter()
        .fold(OFFSET, |h, b| (h ^ u64::from(*b)).wrapping_mul(PRIME))
}

/// [`digest`] as its header writes it: 16 lower-case hex digits.
pub fn digest_text(digest: u64) -> String {
    format!("{digest:016x}")
}

/// A [`DIGEST_HEADER`] value read back; `None` when it is not one of ours.
pub fn parse_digest(text: &[u8]) -> Option<u64> {
    let text = std::str::from_utf8(text).ok().filter(|t| t.len() == 16)?;
    u64::from_str_radix(text, 16).ok()
}

/// A [`REVISION_HEADER`] value read back; `None` when it is not a count.
pub fn parse_revision(text: &[u8]) -> Option<u32> {
    std::str::from_utf8(text).ok()?.parse().ok()
}

/// Whether a message is ours for `dataset`: its [`DATASET_HEADER`] names it.
pub fn is_ours(header: Option<&[u8]>, dataset: &str) -> bool {
    header == Some(dataset.as_bytes())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn digests_are_stable_and_read_back() {
        // FNV-1a 64's published test vectors.
        assert_eq!(digest(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(digest(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(digest(b"foobar"), 0x8594_4171_f739_67e8);
        let d = digest(br#"{"Minutes1UTC":"2026-11-28T12:00:00Z"}"#);
        assert_eq!(parse_digest(digest_text(d).as_bytes()), Some(d));
        assert_eq!(parse_digest(b"xyz"), None);
        assert_eq!(parse_revision(b"2"), Some(2));
        assert_eq!(parse_revision(b"-1"), None);
    }
}
