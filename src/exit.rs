//! Exit codes: the one enum every failure maps to and its `--help` text,
//! the error type that carries a code through `anyhow` chains up to `main`
//! (keeping the error it was made from as its source), and how `main`
//! reports an error.

use std::fmt;
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
  0   success
  1   unexpected error (a bug); a stdout closed by its reader is success
  2   usage or configuration error: bad flag, duration, stat or dataset, a --fields name
      no row has (retrying will not help)
  3   permanent API or data error: chart: no aggregates within --since; 4xx other than 429, a body that is not the expected JSON,
      a missing time or key column, a row time off the dataset's grid,
      a Danish time column that is not a time, key values differing only in JSON type (1 and \"1\"),
      a non-numeric selected field (a known value field becomes null instead), a body
      over --max-body; a message of ours whose key is not ours or lies in the future (the
      message names topic, partition, offset); a message larger than Kafka takes (an
      aggregate over a long --window with many rows missing)
  4   Kafka error: every bootstrap broker refusing the connection (said at once), brokers
      unreachable within --kafka-timeout, a password or TLS certificate refused (said at
      once), a missing ACL (named), a topic or partition missing, a delivery failed
  5   status: unhealthy (a key's newest record older than --max-lag or none within --since,
      a hole between records longer than --max-gap, a message of ours that stops publish,
      a duplicate key, more than --max-incomplete incomplete windows)
  75  temporary: 429, 5xx, HTTP timeout, connection refused, stale data, lock held
      (the next run retries)";

impl Exit {
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// An error with the exit code it must end the process with. Its message is
/// what the user reads; `source`, when kept, is the error it was made from
/// (shown by `main` with `-v`).
#[derive(Debug)]
pub struct Coded {
    pub exit: Exit,
    pub message: String,
    source: Option<anyhow::Error>,
}

impl fmt::Display for Coded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Coded {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e.as_ref() as &(dyn std::error::Error + 'static))
    }
}

/// Builds an error that ends the process with `exit`.
pub fn fail(exit: Exit, message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Coded {
        exit,
        message: message.into(),
        source: None,
    })
}

/// Like [`fail`], keeping `source` (the error that caused it) in the chain.
pub fn fail_with(
    exit: Exit,
    message: impl Into<String>,
    source: impl Into<anyhow::Error>,
) -> anyhow::Error {
    anyhow::Error::new(Coded {
        exit,
        message: message.into(),
        source: Some(source.into()),
    })
}

/// A stage's typed error (API, ...): each variant knows its exit code.
pub trait Staged: std::error::Error + Send + Sync + 'static {
    fn exit(&self) -> Exit;
}

/// A typed error that ends the process with its exit code. The typed error
/// stays in the chain, below the [`Coded`] that carries its code and message,
/// so a caller can match its variant (`err.chain().find_map(|e|
/// e.downcast_ref::<ApiError>())`); `main`'s report shows its message once.
pub fn staged(err: impl Staged) -> anyhow::Error {
    anyhow::Error::new(Coded {
        exit: err.exit(),
        message: err.to_string(),
        source: Some(anyhow::Error::new(err)),
    })
}

/// `err` unchanged when it already has a code, else coded `exit` (keeping
/// `err` as the source; the message is its text).
pub fn or_code(err: anyhow::Error, exit: Exit) -> anyhow::Error {
    if err.chain().any(|e| e.is::<Coded>()) {
        err
    } else {
        fail_with(exit, message(&err), err)
    }
}

/// The error's text for a message or a log line: its contexts and its coded
/// message, without the causes below (use this, not `{err:#}`, which repeats
/// the causes that a message already quotes).
pub fn message(err: &anyhow::Error) -> String {
    report(err, false, str::to_string)
}

/// `result.or_exit(Exit::Kafka, |e| format!("subscribing: {e}"))`: the error
/// becomes a [`Coded`] with that message and stays in the chain as its source.
pub trait OrExit<T, E> {
    fn or_exit(self, exit: Exit, message: impl FnOnce(&E) -> String) -> anyhow::Result<T>;
}

impl<T, E: std::error::Error + Send + Sync + 'static> OrExit<T, E> for Result<T, E> {
    fn or_exit(self, exit: Exit, message: impl FnOnce(&E) -> String) -> anyhow::Result<T> {
        self.map_err(|e| {
            let text = message(&e);
            fail_with(exit, text, e)
        })
    }
}

static OUTPUT_CLOSED: AtomicBool = AtomicBool::new(false);

/// Called by the stdout writers when the reader went away (`| head`): the
/// run then ends with exit 0 and no message, as `grep` and `ripgrep` do.
pub fn note_output_closed() {
    OUTPUT_CLOSED.store(true, Ordering::SeqCst);
}

/// The exit code for an error: 0 when stdout was closed by its reader, else
/// the first [`Coded`] in its chain, else [`Exit::Internal`].
pub fn exit_of(err: &anyhow::Error) -> Exit {
    if OUTPUT_CLOSED.load(Ordering::SeqCst) || is_broken_pipe(err) {
        return Exit::Success;
    }
    err.chain()
        .find_map(|e| e.downcast_ref::<Coded>().map(|c| c.exit))
        .unwrap_or(Exit::Internal)
}

/// Whether the chain has an uncoded `BrokenPipe` from our own output (an
/// error below a [`Coded`] is a connection's, not stdout's).
fn is_broken_pipe(err: &anyhow::Error) -> bool {
    for e in err.chain() {
        if e.is::<Coded>() {
            return false;
        }
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            return io.kind() == std::io::ErrorKind::BrokenPipe;
        }
    }
    false
}

/// The error as `main` prints it: the contexts and the coded message, then,
/// when `causes` is set, each error below it on a `caused by:` line.
/// `redact` scrubs secrets out of every part.
pub fn report(err: &anyhow::Error, causes: bool, redact: impl Fn(&str) -> String) -> String {
    let mut out = String::new();
    let mut chain = err.chain();
    for e in chain.by_ref() {
        if !out.is_empty() {
            out.push_str(": ");
        }
        out.push_str(&redact(&e.to_string()));
        if e.is::<Coded>() {
            break;
        }
    }
    if causes {
        let mut last = err.chain().find(|e| e.is::<Coded>()).map(|e| e.to_string());
        for e in chain {
            // A typed error below its Coded (see [`staged`]) says the same.
            let text = e.to_string();
            if last.as_ref() != Some(&text) {
                out.push_str("\n  caused by: ");
                out.push_str(&redact(&text));
            }
            last = Some(text);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

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
    }

    #[test]
    fn code_survives_context() {
        let err: anyhow::Result<()> = Err(fail(Exit::Temporary, "HTTP 503"));
        let err = err.context("fetching x").unwrap_err();
        assert_eq!(exit_of(&err), Exit::Temporary);
        assert_eq!(format!("{err:#}"), "fetching x: HTTP 503");
        assert_eq!(report(&err, true, str::to_string), "fetching x: HTTP 503");
    }

    #[test]
    fn uncoded_is_internal() {
        assert_eq!(exit_of(&anyhow::anyhow!("boom")), Exit::Internal);
        assert_eq!(Exit::Temporary.code(), 75);
    }

    #[test]
    fn the_source_stays_in_the_chain_below_the_message() {
        let io = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        let r: Result<(), std::io::Error> = Err(io);
        let err = r
            .or_exit(Exit::Temporary, |e| format!("GET x: {}", e.kind()))
            .context("fetching")
            .unwrap_err();
        assert_eq!(exit_of(&err), Exit::Temporary);
        assert!(err.chain().any(|e| e.is::<std::io::Error>()));
        assert_eq!(
            report(&err, false, str::to_string),
            "fetching: GET x: connection reset"
        );
        assert_eq!(
            report(&err, true, |s| s.replace("peer", "[redacted]")),
            "fetching: GET x: connection reset\n  caused by: reset by [redacted]"
        );
    }

    #[test]
    fn or_code_keeps_an_existing_code() {
        let kafka = fail_with(Exit::Kafka, "delivery failed", std::io::Error::other("x"));
        assert_eq!(exit_of(&or_code(kafka, Exit::Data)), Exit::Kafka);
        let plain = anyhow::anyhow!("rows out of order").context("window");
        let coded = or_code(plain, Exit::Data);
        assert_eq!(exit_of(&coded), Exit::Data);
        assert_eq!(message(&coded), "window: rows out of order");
    }

    #[test]
    fn broken_pipe_of_our_output_is_success_but_not_a_connections() {
        let pipe = || std::io::Error::from(std::io::ErrorKind::BrokenPipe);
        let ours = anyhow::Error::new(pipe()).context("writing CSV");
        assert_eq!(exit_of(&ours), Exit::Success);
        let theirs = fail_with(Exit::Temporary, "GET x: connection lost", pipe());
        assert_eq!(exit_of(&theirs), Exit::Temporary);
    }
}
