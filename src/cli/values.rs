//! The command line's values read from text (clap's value parsers): counts,
//! partitions, sizes, timeouts and times, each bounded, each error a
//! sentence that names the limit.

use std::time::Duration;

use chrono::{DateTime, Utc};

use crate::time::{check_time_range, parse_duration_upto};

/// The largest `--partition`: Kafka's partition ids are 32-bit.
const MAX_PARTITION: i32 = i32::MAX;
/// The largest `--last` and `--max-messages`.
const MAX_MESSAGES: u64 = 1_000_000_000;
/// The longest `--http-timeout`, `--kafka-timeout` and `--idle-timeout`
/// (librdkafka takes its timeouts as 32-bit milliseconds).
const MAX_TIMEOUT: Duration = Duration::from_secs(86_400);
/// The largest `--max-body`.
const MAX_BODY: u64 = 16 << 30;

/// A topic's replication factor: 1 to 32767 (Kafka's is 16-bit).
pub(super) fn parse_replication_factor(text: &str) -> Result<i16, String> {
    match text.trim().parse::<i64>() {
        Ok(n) if (1..=i64::from(i16::MAX)).contains(&n) => Ok(n as i16),
        Ok(_) => Err(format!(
            "replication factor '{text}' out of range: use 1 to {} (leave it out for the broker's default)",
            i16::MAX
        )),
        Err(_) => Err(format!(
            "invalid replication factor '{text}': use a number from 1 to {}",
            i16::MAX
        )),
    }
}

/// A partition number, 0 to [`MAX_PARTITION`].
pub(super) fn parse_partition(text: &str) -> Result<i32, String> {
    let t = text.trim();
    match t.parse::<i64>() {
        Ok(n) if (0..=MAX_PARTITION as i64).contains(&n) => Ok(n as i32),
        _ if t.bytes().all(|b| b.is_ascii_digit() || b == b'-') && !t.is_empty() => Err(format!(
            "partition '{text}' out of range: use 0 to {MAX_PARTITION}"
        )),
        _ => Err(format!(
            "invalid partition '{text}': use a number from 0 to {MAX_PARTITION}"
        )),
    }
}

/// The largest `--last`: those messages are held in memory until printed.
const MAX_LAST: u64 = 1_000_000;

/// `--max-messages`: a count from 0 to [`MAX_MESSAGES`].
pub(super) fn parse_count(text: &str) -> Result<u64, String> {
    count_upto(text, MAX_MESSAGES)
}

/// `--last`: a count from 0 to [`MAX_LAST`].
pub(super) fn parse_last(text: &str) -> Result<u64, String> {
    count_upto(text, MAX_LAST)
}

fn count_upto(text: &str, max: u64) -> Result<u64, String> {
    let t = text.trim();
    match t.parse::<u64>() {
        Ok(n) if n <= max => Ok(n),
        _ if !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()) => {
            Err(format!("count '{text}' is too large: at most {max}"))
        }
        _ => Err(format!(
            "invalid count '{text}': use a number from 0 to {max}"
        )),
    }
}

/// A timeout: a duration of at most [`MAX_TIMEOUT`] (1d).
pub(super) fn parse_timeout(text: &str) -> Result<Duration, String> {
    parse_duration_upto(text, MAX_TIMEOUT)
}

/// `2026-01-01` (midnight UTC) or RFC 3339, from 2000 to 2100.
pub(super) fn parse_date(text: &str) -> Result<DateTime<Utc>, String> {
    match chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d") {
        Ok(d) => match d.and_hms_opt(0, 0, 0) {
            Some(t) => check_time_range(t.and_utc(), text),
            None => Err(format!("invalid date '{text}'")),
        },
        // An RFC 3339 time out of range says so; anything else is not a date.
        Err(_) => match DateTime::parse_from_rfc3339(text) {
            Ok(t) => check_time_range(t.with_timezone(&Utc), text),
            Err(_) => Err(format!("invalid date '{text}': use 2026-01-01 or RFC 3339")),
        },
    }
}

/// RFC 3339, from 2000 to 2100.
pub(super) fn parse_now(text: &str) -> Result<DateTime<Utc>, String> {
    DateTime::parse_from_rfc3339(text)
        .map(|t| t.with_timezone(&Utc))
        .map_err(|e| {
            format!("invalid time '{text}' ({e}): use RFC 3339, e.g. 2026-11-28T12:00:30Z")
        })
        .and_then(|t| check_time_range(t, text))
}

/// `1048576`, `512KiB`, `64MiB`, `1GiB`; at most 16GiB.
pub fn parse_size(text: &str) -> Result<u64, String> {
    let t = text.trim();
    let (digits, unit) = t.split_at(t.find(|c: char| !c.is_ascii_digit()).unwrap_or(t.len()));
    let scale: u64 = match unit {
        "" | "B" => 1,
        "KiB" => 1 << 10,
        "MiB" => 1 << 20,
        "GiB" => 1 << 30,
        _ => return Err(format!("invalid size '{text}': use bytes or KiB, MiB, GiB")),
    };
    let too_large = || format!("size '{text}' is too large: at most 16GiB");
    let n = match digits.parse::<u64>() {
        Ok(n) if n > 0 => n,
        // All digits but no u64: too many of them.
        Err(_) if !digits.is_empty() => return Err(too_large()),
        _ => return Err(format!("invalid size '{text}': use bytes or KiB, MiB, GiB")),
    };
    match n.checked_mul(scale) {
        Some(n) if n <= MAX_BODY => Ok(n),
        _ => Err(too_large()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("64MiB"), Ok(64 << 20));
        assert_eq!(parse_size("1000"), Ok(1000));
        assert!(parse_size("64MB").is_err());
        assert!(parse_size("0").is_err());
        assert_eq!(parse_size("16GiB"), Ok(16 << 30));
        for absurd in ["17GiB", "99999999999999999999", "18446744073709551615GiB"] {
            assert!(
                parse_size(absurd).unwrap_err().contains("at most 16GiB"),
                "{absurd}"
            );
        }
    }

    #[test]
    fn bounded_numbers_and_times() {
        assert_eq!(parse_partition("7"), Ok(7));
        assert!(parse_partition("-1").unwrap_err().contains("2147483647"));
        assert!(parse_partition("99999999999999999999999")
            .unwrap_err()
            .contains("2147483647"));
        assert_eq!(parse_count("1000000000"), Ok(1_000_000_000));
        assert_eq!(parse_last("1000000"), Ok(1_000_000));
        assert!(parse_last("1000001")
            .unwrap_err()
            .contains("at most 1000000"));
        assert!(parse_count("1000000001")
            .unwrap_err()
            .contains("at most 1000000000"));
        assert!(parse_count("99999999999999999999999")
            .unwrap_err()
            .contains("at most"));
        assert!(parse_timeout("1d").is_ok());
        assert!(parse_timeout("1d1ms").unwrap_err().contains("at most 1d"));
        assert!(parse_now("2100-01-01T00:00:00Z").is_ok());
        assert!(parse_now("2100-01-01T00:00:01Z")
            .unwrap_err()
            .contains("2100-01-01T00:00:00Z"));
        assert!(parse_date("1999-12-31")
            .unwrap_err()
            .contains("2000-01-01T00:00:00Z"));
        assert!(parse_date("2000-01-01").is_ok());
    }
}
