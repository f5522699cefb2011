//! Exit codes: the one enum every failure maps to, and the error type that
//! carries a code through `anyhow` chains up to `main`.

use std::fmt;

/// Process exit codes, documented in the README ("Exit codes").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Exit {
    /// The run did what was asked.
    Success = 0,
    /// An unexpected error (a bug, or an I/O error such as a closed stdout).
    Internal = 1,
    /// Usage or configuration error: bad flag, bad duration, unknown stat.
    Usage = 2,
    /// Permanent API or data error: retrying will not help.
    Data = 3,
    /// Kafka error: broker unreachable or a delivery failed.
    Kafka = 4,
    /// Temporary condition (rate limit, 5xx, timeout, stale data, lock held):
    /// the next run may succeed.
    Temporary = 75,
}

impl Exit {
    pub fn code(self) -> i32 {
        self as i32
    }
}

/// An error with the exit code it must end the process with.
#[derive(Debug)]
pub struct Coded {
    pub exit: Exit,
    pub message: String,
}

impl fmt::Display for Coded {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for Coded {}

/// Builds an error that ends the process with `exit`.
pub fn fail(exit: Exit, message: impl Into<String>) -> anyhow::Error {
    anyhow::Error::new(Coded {
        exit,
        message: message.into(),
    })
}

/// The exit code for an error: the first [`Coded`] in its chain, else
/// [`Exit::Internal`].
pub fn exit_of(err: &anyhow::Error) -> Exit {
    err.chain()
        .find_map(|e| e.downcast_ref::<Coded>().map(|c| c.exit))
        .unwrap_or(Exit::Internal)
}

#[cfg(test)]
mod tests {
    use super::*;
    use anyhow::Context;

    #[test]
    fn code_survives_context() {
        let err: anyhow::Result<()> = Err(fail(Exit::Temporary, "HTTP 503"));
        let err = err.context("fetching x").unwrap_err();
        assert_eq!(exit_of(&err), Exit::Temporary);
        assert_eq!(format!("{err:#}"), "fetching x: HTTP 503");
    }

    #[test]
    fn uncoded_is_internal() {
        assert_eq!(exit_of(&anyhow::anyhow!("boom")), Exit::Internal);
        assert_eq!(Exit::Temporary.code(), 75);
    }
}
