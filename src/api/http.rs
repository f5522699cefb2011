//! The HTTP details of one API response: its status turned into an error
//! (and exit code), `Retry-After`, a quoted body for messages, an error's
//! chain as one line, and the body reader bounded in size and time.

use std::io::{self, Read};
use std::time::{Duration, Instant};

use anyhow::Result;
use reqwest::blocking::Response;
use reqwest::header::{HeaderMap, RETRY_AFTER};

use super::ApiError;
use super::QUOTE_BYTES;

/// Turns a non-200 status into the error (and exit code) it means.
pub(super) fn check_status(url: &str, response: Response) -> Result<Response> {
    let status = response.status();
    if status == reqwest::StatusCode::OK {
        return Ok(response);
    }
    let retry = retry_after(response.headers());
    let location = response
        .headers()
        .get(reqwest::header::LOCATION)
        .and_then(|v| v.to_str().ok())
        .map(str::to_string);
    let mut head = Vec::new();
    let _ = response.take(QUOTE_BYTES as u64).read_to_end(&mut head);
    let hint = if status == reqwest::StatusCode::TOO_MANY_REQUESTS {
        let wait = retry.map_or("no Retry-After".to_string(), |d| {
            format!("Retry-After {}s", d.as_secs())
        });
        format!(" (rate limited, {wait}; the next run catches up)")
    } else if status.is_redirection() {
        let to = crate::redact::url(&location.unwrap_or_default());
        format!(" (redirect to {to} not followed: another host)")
    } else {
        String::new()
    };
    Err(ApiError::Status {
        url: url.to_string(),
        status,
        hint,
        head: quote(&head),
    }
    .into())
}

pub(super) fn retry_after(headers: &HeaderMap) -> Option<Duration> {
    parse_retry_after(headers.get(RETRY_AFTER)?.to_str().ok()?)
}

/// A `Retry-After` value in seconds (`120`); the HTTP-date form and anything
/// else is `None` (the run then does not wait).
pub fn parse_retry_after(value: &str) -> Option<Duration> {
    let digits = value.trim();
    // delay-seconds is 1*DIGIT (RFC 9110): no sign, no "-0".
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse::<u64>().ok().map(Duration::from_secs)
}

pub(super) fn header_int(headers: &HeaderMap, name: &str) -> Option<i64> {
    headers.get(name)?.to_str().ok()?.trim().parse().ok()
}

pub(super) fn quote(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(QUOTE_BYTES)];
    let text = String::from_utf8_lossy(cut).replace(['\n', '\r'], " ");
    if bytes.len() > QUOTE_BYTES {
        format!("{text:?}...")
    } else {
        format!("{text:?}")
    }
}

/// The error and its sources, `: `-separated; a source that says the same as
/// the one before (reqwest wraps its body errors in I/O errors) is left out.
pub(super) fn error_chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut last = out.clone();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if text != last {
            out.push_str(": ");
            out.push_str(&text);
        }
        last = text;
        source = s.source();
    }
    out
}

/// Whether reading a body failed by a timeout: our deadline's, reqwest's,
/// or an I/O timeout anywhere in the error's chain (by type, never by text).
pub(super) fn is_timeout(e: &io::Error) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        if let Some(io) = err.downcast_ref::<io::Error>() {
            if io.kind() == io::ErrorKind::TimedOut {
                return true;
            }
            if let Some(inner) = io.get_ref() {
                next = Some(inner);
                continue;
            }
        }
        if err
            .downcast_ref::<reqwest::Error>()
            .is_some_and(reqwest::Error::is_timeout)
        {
            return true;
        }
        next = err.source();
    }
    false
}

/// A reader that stops with an error past `cap` bytes or past its deadline
/// (a body trickling a byte a second never ends otherwise), and keeps the
/// first bytes for error messages.
pub(super) struct Capped<R> {
    inner: R,
    cap: u64,
    deadline: Option<Instant>,
    pub(super) read: u64,
    pub(super) exceeded: bool,
    pub(super) head: Vec<u8>,
}

impl<R: Read> Capped<R> {
    pub(super) fn new(inner: R, cap: u64) -> Self {
        Capped {
            inner,
            cap,
            deadline: None,
            read: 0,
            exceeded: false,
            head: Vec::new(),
        }
    }

    pub(super) fn until(mut self, deadline: Instant) -> Self {
        self.deadline = Some(deadline);
        self
    }
}

impl<R: Read> Read for Capped<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        if self.deadline.is_some_and(|d| Instant::now() >= d) {
            return Err(io::Error::new(io::ErrorKind::TimedOut, "deadline passed"));
        }
        let n = self.inner.read(buf)?;
        if self.head.len() < QUOTE_BYTES + 1 {
            let take = n.min(QUOTE_BYTES + 1 - self.head.len());
            self.head.extend_from_slice(&buf[..take]);
        }
        self.read += n as u64;
        if self.read > self.cap {
            self.exceeded = true;
            return Err(io::Error::other("response body over the size cap"));
        }
        Ok(n)
    }
}

#[cfg(test)]
mod tests {
    use std::fmt;

    use super::*;

    #[test]
    fn error_chain_skips_repeats() {
        let timed_out = Link("operation timed out", None);
        let inner = Link("body error", Some(Box::new(timed_out)));
        let outer = Link("body error", Some(Box::new(inner)));
        assert_eq!(error_chain(&outer), "body error: operation timed out");
    }

    #[derive(Debug)]
    struct Link(&'static str, Option<Box<Link>>);

    impl fmt::Display for Link {
        fn fmt(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str(self.0)
        }
    }

    impl std::error::Error for Link {
        fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
            self.1
                .as_deref()
                .map(|l| l as &(dyn std::error::Error + 'static))
        }
    }

    /// "-0" was found by the retry_after fuzzer (read as 0 by an i64 parse).
    #[test]
    fn retry_after_is_digits_only() {
        assert_eq!(parse_retry_after(" 20 "), Some(Duration::from_secs(20)));
        assert_eq!(parse_retry_after("0"), Some(Duration::ZERO));
        for bad in [
            "-0",
            "+5",
            "-1",
            "",
            "1.5",
            "Wed, 21 Oct 2015 07:28:00 GMT",
            "99999999999999999999999",
        ] {
            assert_eq!(parse_retry_after(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn quote_cuts_and_escapes() {
        assert_eq!(quote(b"<html>\n</html>"), "\"<html> </html>\"");
        let long = vec![b'x'; 300];
        assert!(quote(&long).ends_with("\"..."));
        assert_eq!(quote(&long).len(), 200 + 2 + 3);
    }

    #[test]
    fn capped_reader_stops_past_the_cap() {
        let mut r = Capped::new(&b"0123456789"[..], 4);
        let mut out = Vec::new();
        assert!(r.read_to_end(&mut out).is_err());
        assert!(r.exceeded);
        let mut ok = Capped::new(&b"0123"[..], 4);
        assert!(ok.read_to_end(&mut out).is_ok());
        assert!(!ok.exceeded);
    }

    /// A source that never ends, a byte per read, stands for a trickling body.
    #[test]
    fn capped_reader_stops_at_its_deadline() {
        let endless = std::io::repeat(b' ');
        let mut r =
            Capped::new(endless, u64::MAX).until(Instant::now() + Duration::from_millis(50));
        let mut byte = [0u8; 1];
        let started = Instant::now();
        let err = loop {
            if let Err(e) = r.read(&mut byte) {
                break e;
            }
        };
        assert_eq!(err.kind(), io::ErrorKind::TimedOut);
        assert!(started.elapsed() < Duration::from_secs(2));
    }

    /// A timeout is told by its type however deep it is wrapped, never by
    /// the words of its message.
    #[test]
    fn timeouts_are_known_by_type() {
        let ours = io::Error::new(io::ErrorKind::TimedOut, "deadline passed");
        assert!(is_timeout(&ours));
        let wrapped = io::Error::other(io::Error::new(io::ErrorKind::TimedOut, "x"));
        assert!(is_timeout(&wrapped));
        let words = io::Error::other("operation timed out");
        assert!(!is_timeout(&words), "the words alone are no timeout");
        let linked = io::Error::other(Link("body error", Some(Box::new(Link("inner", None)))));
        assert!(!is_timeout(&linked));
    }
}
