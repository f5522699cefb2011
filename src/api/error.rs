//! The API stage's errors, typed: each variant carries its exit code and
//! the error it came from, so that a caller asks what happened by matching a
//! variant, never by reading the message. The message (already redacted) is
//! the one the user reads.

use crate::exit::{Exit, Staged};

/// Why a request got no response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    Timeout,
    /// DNS, connection refused: the host cannot be reached at all.
    Connect,
    Redirect,
    Other,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// No response (exit 75).
    #[error("{message}")]
    Request {
        message: String,
        failure: Failure,
        #[source]
        source: reqwest::Error,
    },
    /// A status other than 200: 429 and 5xx exit 75, the others 3.
    #[error("{message}")]
    Status { message: String, status: u16 },
    /// The body is larger than `--max-body` (exit 3).
    #[error("{message}")]
    TooLarge { message: String },
    /// Reading the body failed, or timed out (exit 75).
    #[error("{message}")]
    Body {
        message: String,
        timeout: bool,
        #[source]
        source: std::io::Error,
    },
    /// The body is not the JSON expected, or has no `records` (exit 3).
    #[error("{message}")]
    NotJson {
        message: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
}

impl Staged for ApiError {
    fn exit(&self) -> Exit {
        match self {
            ApiError::Request { .. } | ApiError::Body { .. } => Exit::Temporary,
            ApiError::Status { status, .. } if *status == 429 || (500..600).contains(status) => {
                Exit::Temporary
            }
            ApiError::Status { .. } | ApiError::TooLarge { .. } | ApiError::NotJson { .. } => {
                Exit::Data
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::{exit_of, report, staged};

    #[test]
    fn each_variant_carries_its_exit_code_and_its_source() {
        let status = |status| {
            let message = format!("u: HTTP {status}");
            exit_of(&staged(ApiError::Status { message, status }))
        };
        assert_eq!(status(429), Exit::Temporary);
        assert_eq!(status(503), Exit::Temporary);
        assert_eq!(status(404), Exit::Data);
        assert_eq!(status(301), Exit::Data);
        let e = staged(ApiError::Body {
            message: "u: timed out reading the body".into(),
            timeout: true,
            source: std::io::Error::new(std::io::ErrorKind::TimedOut, "slow"),
        });
        assert_eq!(exit_of(&e), Exit::Temporary);
        // -v: the message once, then the cause.
        assert_eq!(
            report(&e, true, str::to_string),
            "u: timed out reading the body\n  caused by: slow"
        );
        let typed = e.chain().find_map(|c| c.downcast_ref::<ApiError>());
        assert!(matches!(typed, Some(ApiError::Body { timeout: true, .. })));
    }
}
