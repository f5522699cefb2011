//! The API stage's errors, typed: each variant carries its exit code and
//! the error it came from, so that a caller asks what happened by matching a
//! variant, never by reading the message. The message (already redacted) is
//! the one the user reads.

use crate::exit::{Exit, Staged};
use crate::redact;

/// Why a request got no response.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    Timeout,
    /// DNS, connection refused: the host cannot be reached at all.
    Connect,
    Redirect,
    Other,
}

/// What went wrong with a request, its facts as fields; every URL and
/// text is shown through [`crate::redact`].
#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    /// The HTTP client could not be built (exit 2).
    #[error("cannot build the HTTP client: {source}")]
    Client {
        #[source]
        source: reqwest::Error,
    },
    /// No response (exit 75). `what` is the failure in words, `chain` the
    /// client's errors, `hint` what to check.
    #[error("{}", redact::text(&format!("GET {url}: {what}: {chain}{hint}")))]
    Request {
        url: String,
        what: String,
        chain: String,
        hint: &'static str,
        failure: Failure,
        #[source]
        source: reqwest::Error,
    },
    /// A status other than 200: 429 and 5xx exit 75, the others 3.
    #[error("{}", redact::text(&format!("{url}: HTTP {status}{hint}; body: {head}")))]
    Status {
        url: String,
        status: reqwest::StatusCode,
        /// Rate limit or redirect, in words (empty otherwise).
        hint: String,
        /// The body's first bytes, quoted.
        head: String,
    },
    /// The body is larger than `--max-body` (exit 3).
    #[error(
        "{url}: response body is larger than the {cap} byte cap ({}--max-body / EDS_MAX_BODY){BODY_HINT}",
        content_length.map_or(String::new(), |n| format!("Content-Length: {n}; "))
    )]
    TooLarge {
        url: String,
        cap: u64,
        content_length: Option<u64>,
    },
    /// Reading the body failed, or timed out (exit 75).
    #[error("{}", redact::text(&format!("{url}: {what}: {chain}")))]
    Body {
        url: String,
        what: String,
        chain: String,
        timeout: bool,
        #[source]
        source: std::io::Error,
    },
    /// The body is not the JSON expected (exit 3).
    #[error(
        "{url}: response is not the expected JSON ({why}; Content-Type: {content_type}); body starts: {head}"
    )]
    NotJson {
        url: String,
        why: String,
        content_type: String,
        head: String,
        #[source]
        source: Option<anyhow::Error>,
    },
    /// The body has no `records` array (exit 3).
    #[error("{url}: response has no \"records\" array; body starts: {head}")]
    NoRecords { url: String, head: String },
}

/// What a body over `--max-body` asks of the operator: how much a request
/// spans, and so how to ask for less.
const BODY_HINT: &str = ": a publish run asks for --max-key-lateness (keyed datasets) or \
     --max-lag, plus a window, and after downtime up to --max-catch-up; a backfill asks for \
     --chunk. Ask for less, or raise --max-body (memory grows with it: docs/performance.md)";

impl Staged for ApiError {
    fn exit(&self) -> Exit {
        match self {
            ApiError::Client { .. } => Exit::Usage,
            ApiError::Request { .. } | ApiError::Body { .. } => Exit::Temporary,
            ApiError::Status { status, .. }
                if *status == reqwest::StatusCode::TOO_MANY_REQUESTS
                    || status.is_server_error() =>
            {
                Exit::Temporary
            }
            ApiError::Status { .. }
            | ApiError::TooLarge { .. }
            | ApiError::NotJson { .. }
            | ApiError::NoRecords { .. } => Exit::Data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::{exit_of, report};

    #[test]
    fn each_variant_carries_its_exit_code_and_its_source() {
        let status = |code: u16| {
            let status = reqwest::StatusCode::from_u16(code).unwrap();
            let e = ApiError::Status {
                url: "u".into(),
                status,
                hint: String::new(),
                head: "\"\"".into(),
            };
            (e.exit(), e.to_string())
        };
        assert_eq!(status(429).0, Exit::Temporary);
        assert_eq!(status(503).0, Exit::Temporary);
        assert_eq!(
            status(404),
            (Exit::Data, "u: HTTP 404 Not Found; body: \"\"".to_string())
        );
        assert_eq!(status(301).0, Exit::Data);
        let e = anyhow::Error::new(ApiError::Body {
            url: "u".into(),
            what: "timed out reading the body".into(),
            chain: "slow".into(),
            timeout: true,
            source: std::io::Error::new(std::io::ErrorKind::TimedOut, "slow"),
        });
        assert_eq!(exit_of(&e), Exit::Temporary);
        // -v: the message once; its cause says nothing more.
        assert_eq!(
            report(&e, true, str::to_string),
            "u: timed out reading the body: slow"
        );
        let typed = e.chain().find_map(|c| c.downcast_ref::<ApiError>());
        assert!(matches!(typed, Some(ApiError::Body { timeout: true, .. })));
    }
}
