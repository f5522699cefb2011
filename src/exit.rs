//! Exit codes: the one enum every failure maps to, its `--help` text, and
//! [`Staged`], the trait by which each stage's typed error (its facts as
//! fields) says its exit code. Which errors are staged, and the code of a
//! whole error chain, is decided once, at the top ([`crate::failure`]).

use std::sync::atomic::{AtomicBool, Ordering};

/// Process exit codes, documented in the README and docs/operations.md ("Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The run did what was asked (or stdout was closed by its reader).
    Success = 0,
    /// An unexpected error (a bug, or an I/O error other than a closed stdout).
    Internal = 1,
    /// Usage or configuration error: bad flag, bad duration, unknown stat.
    Usage = 2,
    /// Permanent API or data error: retrying will not help.
    Data = 3,
    /// Kafka error: broker unreachable, credentials or TLS refused, an ACL
    /// missing, or a delivery failed.
    Kafka = 4,
    /// `status` read the topics and found them unhealthy: the newest record
    /// of a key older than `--max-lag` (or none in `--since`), a duplicate
    /// key, or more than `--max-incomplete` incomplete windows.
    Unhealthy = 5,
    /// Temporary condition (rate limit, 5xx, timeout, stale data, lock held):
    /// the next run may succeed.
    Temporary = 75,
}

/// The exit codes, shown after the options of every `--help` (`cli.rs`).
pub const HELP: &str = "\
Exit codes:
  0   success (also when the reader of stdout went away, as with | head)
  1   unexpected error: a bug
  2   usage or configuration error: a bad flag, duration, stat or dataset, a
      --fields name no row (or no aggregate) has, an unreadable --kafka-config,
      a --value-format without --schema-registry, a value in the registry's
      wire format read without --schema-registry (retrying will not help)
  3   permanent API or data error: an HTTP 4xx other than 429, a body that is
      not the expected JSON or is over --max-body, a missing time or key
      column, a row off the dataset's grid, a Danish time that is not one,
      key values differing only in JSON type (1 and \"1\"), a selected field
      that is not numeric; a message of ours whose key is not ours or lies in
      the future; a message larger than Kafka takes; the schema registry
      refused the schema (409, incompatible) or lacks it (--no-register);
      chart: no aggregates within --since
  4   Kafka error: no bootstrap broker listening (said at once), brokers
      unreachable within --kafka-timeout, a password or TLS certificate
      refused (said at once), a missing ACL (named), a topic or partition
      missing, a delivery failed; the schema registry unreachable, failing
      (5xx) or refusing the credentials
  5   status: unhealthy (a key's newest record older than --max-lag or none
      within --since, a hole longer than --max-gap, aggregates behind the
      records, an invalid aggregate, a message of ours that stops publish, a
      duplicate key, more than --max-incomplete incomplete windows)
  75  temporary: HTTP 429 or 5xx, an HTTP timeout, connection refused, stale
      data, the lock held (the next run retries)";

impl Exit {
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// A stage's typed error (API, Kafka, cursor, ...): its variants carry
/// their facts as fields and each knows its exit code.
pub trait Staged: std::error::Error + Send + Sync + 'static {
    fn exit(&self) -> Exit;
}

static OUTPUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Called by the stdout writers when the reader went away (`| head`): the
/// run then ends with exit 0 and no message, as `grep` and `ripgrep` do.
pub fn note_output_closed() {
    OUTPUT_CLOSED.store(true, Ordering::SeqCst);
}

/// Whether stdout was closed by its reader, or `err`'s chain has an
/// uncoded `BrokenPipe` of our own output (`staged`: whether an error is a
/// stage's, whose I/O errors are a connection's, not stdout's): then the
/// run ends with exit 0.
pub fn output_closed(
    err: &anyhow::Error,
    staged: impl Fn(&(dyn std::error::Error + 'static)) -> bool,
) -> bool {
    if OUTPUT_CLOSED.load(Ordering::SeqCst) {
        return true;
    }
    for e in err.chain() {
        if staged(e) {
            return false;
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return io.kind() == std::io::ErrorKind::BrokenPipe;
        }
    }
    false
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exit_codes_text_lists_every_code() {
        let all = [
            Exit::Success,
            Exit::Internal,
            Exit::Usage,
            Exit::Data,
            Exit::Kafka,
            Exit::Unhealthy,
            Exit::Temporary,
        ];
        let listed: Vec<i32> = HELP
            .lines()
            .filter_map(|l| l.split_whitespace().next()?.parse().ok())
            .collect();
        assert_eq!(listed, all.map(Exit::code));
        assert_eq!(Exit::Temporary.code(), 75);
        // --help shows it as it is: no line wider than 80 columns.
        assert!(HELP.lines().all(|l| l.chars().count() <= 80), "{HELP}");
    }
}
