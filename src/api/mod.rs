//! The Energi Data Service HTTP API: the query for a UTC time range (written
//! in Danish local time, which is how the API reads `start` and `end`), one
//! GET with at most one wait-and-retry on 429, the response's status and size
//! checks, and a streaming parse of its `records` array into [`Row`]s.
//!
//! `--http-timeout` bounds each request from connecting to the body's last
//! byte, whatever the server does: reqwest's per-request timeout covers the
//! body as a whole, and the body reader also checks the deadline itself.
//! URLs in messages have their user-info hidden ([`crate::redact`]).

use std::time::{Duration, Instant};

use anyhow::Result;
use chrono::{DateTime, Utc};
use reqwest::blocking::{Client, Response};
use reqwest::header::CONTENT_TYPE;
use reqwest::redirect;

use crate::dataset::{Dataset, Row};
use crate::records::{self, SplitError};
use crate::time::{dk_at_or_after, dk_at_or_before, format_api_local, format_utc};

mod error;
mod held;
mod http;
mod pipe;
mod record;

pub use error::{ApiError, Failure};
pub use held::{Held, NoText, TooLong};
pub use pipe::{Batches, Gone, NoThread, Reader, BATCH, BOUND};

pub use http::parse_retry_after;
use http::{check_status, error_chain, header_int, is_timeout, quote, retry_after, Capped};
pub use record::parse_record;

/// The public API, `--api-url`'s default.
pub const DEFAULT_URL: &str = "https://api.energidataservice.dk";

/// The longest `Retry-After` a run waits for before giving up (exit 75).
pub const MAX_RETRY_WAIT: Duration = Duration::from_secs(20);
/// How much of an unexpected body an error message quotes.
const QUOTE_BYTES: usize = 200;

/// How to reach the API.
#[derive(Debug, Clone)]
pub struct ApiConfig {
    pub base_url: String,
    pub http_timeout: Duration,
    /// Larger bodies are refused (exit 3) instead of read to the end.
    pub max_body: u64,
}

/// What a fetch saw besides its rows.
#[derive(Debug, Clone, Default)]
pub struct FetchInfo {
    pub rows: u64,
    pub bytes: u64,
    pub remaining_calls: Option<i64>,
}

/// How much of each record to keep. The default keeps every field; a
/// backfill keeps only what it aggregates (and the object's text, when it
/// publishes records), which parses a large response several times faster.
#[derive(Debug, Clone, Default)]
pub struct RowShape {
    /// Fields to keep besides the time, DK time and key columns; `None`: all.
    pub keep: Option<Vec<String>>,
    /// Keep each object's text in [`Row::raw`].
    pub raw: bool,
}

/// A blocking API client; one per run (a clone shares its connections).
#[derive(Clone)]
pub struct Api {
    http: Client,
    config: ApiConfig,
    shape: RowShape,
}

/// The query parameters covering `[start, end)` in UTC, sorted oldest first.
pub fn range_query(
    dataset: &Dataset,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
) -> Vec<(&'static str, String)> {
    vec![
        ("start", format_api_local(dk_at_or_before(start))),
        ("end", format_api_local(dk_at_or_after(end))),
        ("sort", format!("{} asc", dataset.time_column)),
        ("limit", "0".to_string()),
    ]
}

/// The fields a row keeps when it keeps `fields`: its time, DK time and
/// key columns, and those.
pub fn wanted<'d>(dataset: &'d Dataset, fields: &'d [String]) -> Vec<&'d str> {
    let index = [Some(&dataset.time_column), dataset.dk_column.as_ref()];
    (index.into_iter().flatten())
        .chain(dataset.key_columns.iter())
        .chain(fields.iter())
        .map(String::as_str)
        .collect()
}

/// Ends the split of a body when the caller refused a row (its error is
/// kept and returned instead).
#[derive(Debug, thiserror::Error)]
#[error("stopped: the caller refused a row")]
struct Halted;

impl Api {
    pub fn new(config: ApiConfig) -> Result<Api> {
        let http = Client::builder()
            .timeout(config.http_timeout)
            .user_agent(concat!("eds-kafka/", env!("CARGO_PKG_VERSION")))
            .redirect(redirect::Policy::custom(|attempt| {
                let same_host = attempt.previous().first().map(|u| u.host_str())
                    == Some(attempt.url().host_str());
                if !same_host {
                    attempt.stop()
                } else if attempt.previous().len() > 5 {
                    attempt.error("too many redirects")
                } else {
                    attempt.follow()
                }
            }))
            .build()
            .map_err(|source| ApiError::Client { source })?;
        Ok(Api {
            http,
            config,
            shape: RowShape::default(),
        })
    }

    /// Keeps only part of each record (see [`RowShape`]).
    pub fn with_shape(mut self, shape: RowShape) -> Api {
        self.shape = shape;
        self
    }

    /// The dataset's URL, without query, user-info hidden: what messages name.
    pub fn dataset_url(&self, dataset: &Dataset) -> String {
        crate::redact::url(&self.request_url(dataset))
    }

    /// The dataset's URL as requested.
    fn request_url(&self, dataset: &Dataset) -> String {
        format!(
            "{}/dataset/{}",
            self.config.base_url.trim_end_matches('/'),
            dataset.name
        )
    }

    /// Fetches the rows with `start <= time < end` (and, since the API's
    /// bounds are local time, possibly some around them) and hands each to
    /// `on_row` as it is parsed. One request, two when a 429 asks for a short wait.
    pub fn fetch(
        &self,
        dataset: &Dataset,
        start: DateTime<Utc>,
        end: DateTime<Utc>,
        on_row: &mut dyn FnMut(Row) -> Result<()>,
    ) -> Result<FetchInfo> {
        let url = self.dataset_url(dataset);
        let target = self.request_url(dataset);
        let query = range_query(dataset, start, end);
        log::debug!(
            "GET {url} with {} (UTC {} .. {})",
            query
                .iter()
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join(" "),
            format_utc(start),
            format_utc(end)
        );
        let started = Instant::now();
        let (mut response, mut deadline) = self.get(&target, &url, &query)?;
        if response.status() == reqwest::StatusCode::TOO_MANY_REQUESTS {
            match retry_after(response.headers()) {
                Some(wait) if wait <= MAX_RETRY_WAIT => {
                    log::warn!(
                        "{url}: 429 Too Many Requests; waiting {}s as Retry-After asks",
                        wait.as_secs()
                    );
                    std::thread::sleep(wait);
                    (response, deadline) = self.get(&target, &url, &query)?;
                }
                _ => {}
            }
        }
        let remaining_calls = header_int(response.headers(), "RemainingCalls");
        match remaining_calls {
            Some(0) => log::warn!("{url}: the API says no calls remain (RemainingCalls: 0)"),
            Some(n) => log::debug!("{url}: RemainingCalls: {n}"),
            None => {}
        }
        check_status(&url, response)
            .and_then(|response| self.check_length(&url, response))
            .and_then(|response| self.parse(dataset, &url, response, deadline, on_row))
            .map(|(rows, bytes)| {
                log::info!(
                    "fetched {} ({bytes} bytes) from {url} in {}",
                    crate::logging::count(rows, "row"),
                    crate::logging::elapsed(started.elapsed())
                );
                FetchInfo {
                    rows,
                    bytes,
                    remaining_calls,
                }
            })
    }

    /// One GET of `target` (`url` is its name in messages); the response and
    /// the deadline its body must be read by.
    fn get(
        &self,
        target: &str,
        url: &str,
        query: &[(&str, String)],
    ) -> Result<(Response, Instant)> {
        let timeout = self.config.http_timeout;
        let deadline = Instant::now() + timeout;
        let response = self
            .http
            .get(target)
            .query(query)
            .timeout(timeout)
            .send()
            .map_err(|e| {
                let e = e.without_url();
                let (what, hint, failure) = if e.is_timeout() {
                    let what = format!("timed out after {}s", timeout.as_secs_f64());
                    (what, "", Failure::Timeout)
                } else if e.is_connect() {
                    let hint = connect_hint(&self.config.base_url);
                    ("cannot connect".to_string(), hint, Failure::Connect)
                } else if e.is_redirect() {
                    ("redirect failed".to_string(), "", Failure::Redirect)
                } else {
                    ("request failed".to_string(), "", Failure::Other)
                };
                ApiError::Request {
                    url: url.to_string(),
                    what,
                    chain: error_chain(&e),
                    hint,
                    failure,
                    source: e,
                }
            })?;
        Ok((response, deadline))
    }

    /// Refuses a body whose announced length is over `--max-body` before
    /// reading any of it (exit 3, as for a body that grows past the cap).
    fn check_length(&self, url: &str, response: Response) -> Result<Response> {
        match response.content_length() {
            Some(n) if n > self.config.max_body => Err(ApiError::TooLarge {
                url: url.to_string(),
                cap: self.config.max_body,
                content_length: Some(n),
            }
            .into()),
            _ => Ok(response),
        }
    }

    /// The fields a row keeps ([`wanted`] of the shape's); `None` for all.
    fn wanted<'d>(&'d self, dataset: &'d Dataset) -> Option<Vec<&'d str>> {
        (self.shape.keep.as_ref()).map(|keep| wanted(dataset, keep))
    }

    /// The error (and exit code) for a body that could not be split into records.
    fn body_error(
        &self,
        url: &str,
        content_type: &str,
        body: &Capped<Response>,
        err: SplitError,
    ) -> anyhow::Error {
        let not_json = |why: String, source: Option<anyhow::Error>| ApiError::NotJson {
            url: url.to_string(),
            why,
            content_type: content_type.to_string(),
            head: quote(&body.head),
            source,
        };
        let err = match err {
            SplitError::Io(_) if body.exceeded => ApiError::TooLarge {
                url: url.to_string(),
                cap: self.config.max_body,
                content_length: None,
            },
            SplitError::Io(e) => {
                let timeout = is_timeout(&e);
                let what = if timeout {
                    format!(
                        "timed out reading the body (--http-timeout / EDS_HTTP_TIMEOUT {}s, body included)",
                        self.config.http_timeout.as_secs_f64()
                    )
                } else {
                    "reading the body failed".to_string()
                };
                ApiError::Body {
                    url: url.to_string(),
                    what,
                    chain: error_chain(&e),
                    timeout,
                    source: e,
                }
            }
            SplitError::Syntax(why) => not_json(why, None),
            SplitError::Stopped(e) => not_json(format!("{e:#}"), Some(e)),
        };
        err.into()
    }

    fn parse(
        &self,
        dataset: &Dataset,
        url: &str,
        response: Response,
        deadline: Instant,
        on_row: &mut dyn FnMut(Row) -> Result<()>,
    ) -> Result<(u64, u64)> {
        let content_type = response
            .headers()
            .get(CONTENT_TYPE)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("none")
            .to_string();
        let mut body = Capped::new(response, self.config.max_body).until(deadline);
        let wanted = self.wanted(dataset);
        let mut rows = 0u64;
        let mut failed: Option<anyhow::Error> = None;
        let result = records::split(&mut body, &mut |text| {
            let step =
                parse_record(dataset, wanted.as_deref(), self.shape.raw, text).and_then(|row| {
                    on_row(row).map_err(|e| {
                        failed = Some(e);
                        anyhow::Error::new(Halted)
                    })
                });
            rows += 1;
            step
        });
        if let Some(err) = failed.take() {
            return Err(err.context(format!("processing the rows from {url}")));
        }
        let has_records = match result {
            Ok(has) => has,
            Err(e) => return Err(self.body_error(url, &content_type, &body, e)),
        };
        if !has_records {
            return Err(ApiError::NoRecords {
                url: url.to_string(),
                head: quote(&body.head),
            }
            .into());
        }
        Ok((rows, body.read))
    }
}

/// What a connection failure (DNS, refused) adds to its message: the public
/// API unreachable usually means no internet access, and there is a way to
/// try the program without it.
fn connect_hint(base_url: &str) -> &'static str {
    if base_url.trim_end_matches('/') == DEFAULT_URL {
        "; no internet access? To try eds-kafka without it, point --api-url / EDS_API_URL \
         at the local stub API (README, \"Try it locally\")"
    } else {
        "; check --api-url / EDS_API_URL"
    }
}

/// Whether a fetch failed for a reason the next attempt may not meet (rate
/// limit, 5xx, timeout, a connection lost): the API's own error says.
pub fn is_temporary(err: &anyhow::Error) -> bool {
    use crate::exit::Staged;
    err.chain()
        .filter_map(|e| e.downcast_ref::<ApiError>())
        .any(|e| e.exit() == crate::exit::Exit::Temporary)
}

/// Whether a fetch failed because the host could not be reached at all (DNS,
/// connection refused): before any data flowed, that is configuration.
pub fn is_connect_failure(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        matches!(
            e.downcast_ref::<ApiError>(),
            Some(ApiError::Request {
                failure: Failure::Connect,
                ..
            })
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_utc;

    #[test]
    fn query_is_in_danish_time_and_sorted() {
        let d = Dataset::known("PowerSystemRightNow").unwrap();
        let q = range_query(
            &d,
            parse_utc("2026-11-28T11:25:00").unwrap(),
            parse_utc("2026-11-28T12:00:00").unwrap(),
        );
        assert_eq!(
            q,
            vec![
                ("start", "2026-11-28T12:25".to_string()),
                ("end", "2026-11-28T13:00".to_string()),
                ("sort", "Minutes1UTC asc".to_string()),
                ("limit", "0".to_string()),
            ]
        );
    }
}
