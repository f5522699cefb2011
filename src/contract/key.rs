//! The message key: a time (row time for records, window end for
//! aggregates) followed by the row's key values, `/`-separated:
//! `2026-11-28T11:55:00Z/DK1/Offshore Wind`. It is the identity of a message
//! and what the cursor is read from, so [`Display`] and [`FromStr`]
//! round-trip for every key value: `%` and `/` inside a value are written as
//! `%25` and `%2F` (no real key value has them, so real keys read as plain text).

use std::fmt::{self, Display};
use std::str::FromStr;

use chrono::{DateTime, Utc};

use crate::time::{format_utc, parse_utc};

/// A message's key: its time and its key values, one per key column.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct MessageKey {
    pub time: DateTime<Utc>,
    pub key: Vec<String>,
}

/// Why a message key could not be read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BadKey(pub String);

impl Display for BadKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for BadKey {}

impl Display for MessageKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&format_utc(self.time))?;
        for value in &self.key {
            f.write_str("/")?;
            for c in value.chars() {
                match c {
                    '%' => f.write_str("%25")?,
                    '/' => f.write_str("%2F")?,
                    c => fmt::Write::write_char(f, c)?,
                }
            }
        }
        Ok(())
    }
}

impl FromStr for MessageKey {
    type Err = BadKey;

    fn from_str(text: &str) -> Result<MessageKey, BadKey> {
        let mut parts = text.split('/');
        let time_text = parts.next().unwrap_or_default();
        let time = time_text
            .strip_suffix('Z')
            .filter(|t| !t.ends_with('Z'))
            .and_then(|_| parse_utc(time_text))
            .ok_or_else(|| {
                BadKey(format!(
                    "'{}' is not a UTC time like 2026-11-28T12:00:00Z",
                    crate::text::visible_cut(time_text, 120)
                ))
            })?;
        let key = parts
            .map(unescape)
            .collect::<Result<Vec<String>, BadKey>>()?;
        let parsed = MessageKey { time, key };
        // Only the canonical spelling is ours: another spelling of the same
        // time (seconds fractions, lower-case escapes) would be a second identity.
        if parsed.to_string() != text {
            return Err(BadKey(format!(
                "'{}' is not in canonical form",
                crate::text::visible_cut(text, 120)
            )));
        }
        Ok(parsed)
    }
}

fn unescape(value: &str) -> Result<String, BadKey> {
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    while let Some(at) = rest.find('%') {
        out.push_str(&rest[..at]);
        let code = rest.get(at + 1..at + 3);
        out.push(match code {
            Some("25") => '%',
            Some("2F") => '/',
            _ => {
                return Err(BadKey(format!(
                    "bad escape in key value '{}'",
                    crate::text::visible_cut(value, 120)
                )))
            }
        });
        rest = &rest[at + 3..];
    }
    out.push_str(rest);
    Ok(out)
}

/// Why a message of ours has no key of its dataset's shape.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum KeyError {
    /// Never read lossily: a key that is not UTF-8 would read as the key
    /// of a real key combination holding U+FFFD.
    #[error("key '{shown}' is not UTF-8")]
    NotUtf8 { shown: String },
    #[error("key: {0}")]
    Bad(#[source] BadKey),
    #[error("key '{shown}' has {found} key value(s), the dataset {expected} key column(s)")]
    Columns {
        shown: String,
        found: usize,
        expected: usize,
    },
}

/// The key of a message of ours, for a dataset with `columns` key columns.
pub fn parse_key(bytes: &[u8], columns: usize) -> Result<MessageKey, KeyError> {
    let text = std::str::from_utf8(bytes).map_err(|_| KeyError::NotUtf8 {
        shown: crate::text::visible_cut(&String::from_utf8_lossy(bytes), 120),
    })?;
    let key: MessageKey = text.parse().map_err(KeyError::Bad)?;
    if key.key.len() != columns {
        return Err(KeyError::Columns {
            shown: crate::text::visible_cut(text, 120),
            found: key.key.len(),
            expected: columns,
        });
    }
    Ok(key)
}

impl MessageKey {
    pub fn new(time: DateTime<Utc>, key: &[String]) -> MessageKey {
        MessageKey {
            time,
            key: key.to_vec(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        parse_utc(s).unwrap()
    }

    #[test]
    fn formats_time_then_each_key_value() {
        let k = MessageKey::new(
            t("2026-11-28T11:55:00"),
            &["DK1".into(), "Offshore Wind".into()],
        );
        assert_eq!(k.to_string(), "2026-11-28T11:55:00Z/DK1/Offshore Wind");
        assert_eq!(
            MessageKey::new(t("2026-11-28T11:59:00"), &[]).to_string(),
            "2026-11-28T11:59:00Z"
        );
    }

    #[test]
    fn round_trips_awkward_values() {
        let values: [&[&str]; 6] = [
            &[],
            &["DK1"],
            &["DK1", "Offshore Wind"],
            &["a/b", "100%", "%2F"],
            &[""],
            &["", "", "ÆØÅ ✓"],
        ];
        for v in values {
            let key = MessageKey::new(
                t("2026-03-29T01:00:00"),
                &v.iter().map(|s| s.to_string()).collect::<Vec<_>>(),
            );
            let text = key.to_string();
            assert_eq!(text.parse::<MessageKey>(), Ok(key.clone()), "{text}");
        }
    }

    #[test]
    fn refuses_what_we_never_write() {
        for bad in [
            "",
            "hello",
            "2026-11-28T11:59:00",
            "2026-11-28T11:59:00ZZ",
            "2026-11-28T11:59:00.5Z",
            "2026-11-28 11:59:00Z",
            "2026-11-28T11:59:00Z/50%",
            "2026-11-28T11:59:00Z/a%2fb",
            "/DK1",
        ] {
            assert!(bad.parse::<MessageKey>().is_err(), "{bad}");
        }
    }

    #[test]
    fn a_key_of_ours_has_the_datasets_shape() {
        let k = parse_key(b"2026-11-28T11:55:00Z/DK1", 1).unwrap();
        assert_eq!(k.key, ["DK1"]);
        assert!(matches!(
            parse_key(b"2026-11-28T11:55:00Z/DK1", 2),
            Err(KeyError::Columns {
                found: 1,
                expected: 2,
                ..
            })
        ));
        let e = parse_key(b"2026-11-28T11:55:00Z/\xff\x1b", 1).unwrap_err();
        assert_eq!(
            e.to_string(),
            "key '2026-11-28T11:55:00Z/\u{fffd}\\x1b' is not UTF-8"
        );
        let e = parse_key(b"x\ny", 0).unwrap_err();
        assert_eq!(
            e.to_string(),
            "key: 'x\\ny' is not a UTC time like 2026-11-28T12:00:00Z"
        );
    }

    #[test]
    fn orders_by_time_then_key() {
        let a: MessageKey = "2026-11-28T11:55:00Z/DK2".parse().unwrap();
        let b: MessageKey = "2026-11-28T12:00:00Z/DK1".parse().unwrap();
        assert!(a < b);
    }
}
