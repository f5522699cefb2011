//! A Confluent-compatible Schema Registry client (Confluent's Schema
//! Registry, Apicurio's `/apis/ccompat/v7`, Karapace, Redpanda) over
//! reqwest's blocking client with rustls, as the API client uses:
//!
//! - [`Registry::lookup`]: `POST /subjects/{subject}` with the schema: its
//!   id when the subject has it, `None` when not;
//! - [`Registry::register`]: `POST /subjects/{subject}/versions`: its id;
//! - [`Registry::schema_by_id`]: `GET /schemas/ids/{id}`: a writer schema;
//! - [`Registry::versions`], [`Registry::set_compatibility`]: for operators
//!   and tests.
//!
//! Schemas are `AVRO` or `JSON` ([`SchemaType`]). Auth is basic
//! (`user:password`, or the URL's user-info) or a bearer token read from a
//! file; an extra CA certificate (PEM) is trusted besides the built-in
//! roots. Every call is bounded by one timeout from connecting to the last
//! byte of the answer, whatever the registry does; redirects are not
//! followed (credentials go to the configured host only). Errors are
//! [`RegistryError`]s; neither the password nor the token is ever in one.
//!
//! [`Registrar`] caches the ids of a run: one lookup (and at most one
//! registration) per subject and schema, none per message. [`Schemas`]
//! decodes framed values ([`crate::contract::wire`]) by their schema id.

use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use reqwest::blocking::{Client, RequestBuilder};
use reqwest::{Method, Url};
use serde_json::{json, Value};

use crate::redact::{self, Secret};

mod error;
mod reader;
mod registrar;

pub use error::RegistryError;
pub use reader::{ReadError, Schemas, Values, WriterSchema};
pub use registrar::{subject, Calls, Registrar};

/// The content type of the Confluent API's requests and answers.
const CONTENT_TYPE: &str = "application/vnd.schemaregistry.v1+json";
/// Answers larger than this are refused (a schema is a few kB).
const MAX_BODY: u64 = 8 << 20;
/// How much of an unexpected body a message quotes.
const QUOTE: usize = 200;

/// Which kind of schema: Confluent's `schemaType`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SchemaType {
    Avro,
    Json,
}

impl SchemaType {
    pub fn name(self) -> &'static str {
        match self {
            SchemaType::Avro => "AVRO",
            SchemaType::Json => "JSON",
        }
    }
}

/// How to authenticate.
#[derive(Debug, Clone, PartialEq)]
pub enum Auth {
    None,
    Basic {
        user: String,
        password: Secret,
    },
    /// A bearer token, and the file it was read from (named in messages).
    Bearer {
        token: Secret,
        file: PathBuf,
    },
}

impl Auth {
    /// Basic auth from `user:password` (split at the first `:`).
    pub fn basic(user_info: &str) -> Result<Auth, RegistryError> {
        match user_info.split_once(':') {
            Some((user, password)) if !user.is_empty() => Ok(Auth::Basic {
                user: user.to_string(),
                password: Secret::new(password),
            }),
            _ => Err(RegistryError::Config {
                what: "basic auth".into(),
                reason: "give it as USER:PASSWORD".into(),
            }),
        }
    }

    /// A bearer token read from `file` (surrounding whitespace trimmed).
    pub fn bearer_file(file: &Path) -> Result<Auth, RegistryError> {
        let text = std::fs::read_to_string(file).map_err(|e| RegistryError::Config {
            what: format!("token file {}", file.display()),
            reason: e.to_string(),
        })?;
        Auth::bearer(&text, file)
    }

    /// A bearer token, `text` as read from `file` (surrounding whitespace
    /// trimmed): one token on one line.
    pub fn bearer(text: &str, file: &Path) -> Result<Auth, RegistryError> {
        let token = text.trim();
        if token.is_empty() || token.contains(['\n', '\r']) {
            return Err(RegistryError::Config {
                what: format!("token file {}", file.display()),
                reason: "it must hold one token on one line".into(),
            });
        }
        Ok(Auth::Bearer {
            token: Secret::new(token),
            file: file.to_path_buf(),
        })
    }

    /// What messages call it: never the secret.
    pub fn describe(&self) -> String {
        match self {
            Auth::None => "the request without credentials".into(),
            Auth::Basic { user, .. } => format!("basic auth as user '{user}'"),
            Auth::Bearer { file, .. } => format!("the bearer token from {}", file.display()),
        }
    }
}

/// How to reach a registry.
#[derive(Debug, Clone, PartialEq)]
pub struct RegistryConfig {
    /// The API's base URL: `http://host:8081`, `https://.../apis/ccompat/v7`.
    pub url: String,
    pub auth: Auth,
    /// A PEM file of CA certificates trusted besides the built-in roots.
    pub ca_file: Option<PathBuf>,
    /// Bounds every call, connecting to the answer's last byte.
    pub timeout: Duration,
}

/// A blocking registry client; one per run.
pub struct Registry {
    http: Client,
    base: Url,
    /// The base URL for messages: user-info and query hidden.
    shown: String,
    auth: Auth,
    timeout: Duration,
}

/// A non-2xx answer and what the request was about, for its error.
struct Refusal {
    status: u16,
    body: Value,
    head: String,
}

/// The registry's `error_code` and `message`, when the body has them.
fn confluent_error(body: &Value) -> (Option<i64>, String) {
    let code = body.get("error_code").and_then(Value::as_i64);
    let message = body.get("message").and_then(Value::as_str).unwrap_or("");
    (code, redact::text(message))
}

/// A body's start for a message, on one line.
fn quote(bytes: &[u8]) -> String {
    let cut = &bytes[..bytes.len().min(QUOTE)];
    let text = String::from_utf8_lossy(cut).replace(['\n', '\r'], " ");
    let more = if bytes.len() > QUOTE { "..." } else { "" };
    redact::text(&format!("{text:?}{more}"))
}

/// The error and its sources, `: `-separated, each said once.
fn chain(e: &dyn std::error::Error) -> String {
    let mut out = e.to_string();
    let mut source = e.source();
    while let Some(s) = source {
        let text = s.to_string();
        if !out.ends_with(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        source = s.source();
    }
    redact::text(&out)
}

/// The base URL, checked; user-info moves into `auth` (when it has none).
fn base_url(url: &str, auth: Auth) -> Result<(Url, Auth), RegistryError> {
    redact::register_url(url);
    let config = |reason: &str| RegistryError::Config {
        what: format!("URL {}", redact::url(url)),
        reason: reason.to_string(),
    };
    let mut base = Url::parse(url.trim()).map_err(|e| config(&e.to_string()))?;
    if !matches!(base.scheme(), "http" | "https") || base.cannot_be_a_base() {
        return Err(config("use http:// or https://"));
    }
    if base.query().is_some() || base.fragment().is_some() {
        return Err(config("a base URL has no query or fragment"));
    }
    let mut auth = auth;
    if !base.username().is_empty() {
        if matches!(auth, Auth::None) {
            let user = percent_decode(base.username());
            let password = percent_decode(base.password().unwrap_or_default());
            auth = Auth::basic(&format!("{user}:{password}"))?;
        }
        let _ = base.set_username("");
        let _ = base.set_password(None);
    }
    Ok((base, auth))
}

/// `%40` as `@`: a URL's user-info is percent-encoded.
fn percent_decode(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |at: usize| b.get(at).and_then(|&c| (c as char).to_digit(16));
        match (b[i], hex(i + 1), hex(i + 2)) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The client with the extra CA certificates, if any.
fn client(config: &RegistryConfig) -> Result<Client, RegistryError> {
    let mut builder = Client::builder()
        .timeout(config.timeout)
        .connect_timeout(config.timeout)
        .user_agent(concat!("eds-kafka/", env!("CARGO_PKG_VERSION")))
        .redirect(reqwest::redirect::Policy::none());
    if let Some(file) = &config.ca_file {
        let failed = |reason: String| RegistryError::Config {
            what: format!("CA certificate file {}", file.display()),
            reason,
        };
        let pem = std::fs::read(file).map_err(|e| failed(e.to_string()))?;
        let certs = reqwest::Certificate::from_pem_bundle(&pem).map_err(|e| failed(chain(&e)))?;
        if certs.is_empty() {
            return Err(failed("no PEM certificate in it".into()));
        }
        for cert in certs {
            builder = builder.add_root_certificate(cert);
        }
    }
    builder.build().map_err(|e| RegistryError::Config {
        what: "the HTTP client".into(),
        reason: chain(&e),
    })
}

impl RegistryConfig {
    /// Whether the URL can be a base URL (http or https, no query or
    /// fragment), before any call: a usage error (exit 2) otherwise.
    pub fn check_url(&self) -> Result<(), RegistryError> {
        base_url(&self.url, Auth::None).map(drop)
    }
}

impl Registry {
    pub fn new(config: RegistryConfig) -> Result<Registry, RegistryError> {
        let (base, auth) = base_url(&config.url, config.auth.clone())?;
        let http = client(&config)?;
        Ok(Registry {
            http,
            shown: redact::url(base.as_str().trim_end_matches('/')),
            base,
            auth,
            timeout: config.timeout,
        })
    }

    /// The base URL as messages show it.
    pub fn url(&self) -> &str {
        &self.shown
    }

    /// The id of `schema` under `subject`, `None` when the subject (or the
    /// subject's schema) is not there.
    pub fn lookup(
        &self,
        subject: &str,
        schema: &str,
        kind: SchemaType,
    ) -> Result<Option<u32>, RegistryError> {
        let body = json!({"schema": schema, "schemaType": kind.name()});
        match self.call(Method::POST, &["subjects", subject], Some(&body))? {
            Ok(answer) => self.id_of(&answer).map(Some),
            // 40401 subject not found, 40403 schema not found.
            Err(r) if r.status == 404 && confluent_error(&r.body).0.is_some() => Ok(None),
            Err(r) => Err(self.refused(r, Some(subject))),
        }
    }

    /// Registers `schema` under `subject` (the same schema again: its id).
    pub fn register(
        &self,
        subject: &str,
        schema: &str,
        kind: SchemaType,
    ) -> Result<u32, RegistryError> {
        let body = json!({"schema": schema, "schemaType": kind.name()});
        let path = ["subjects", subject, "versions"];
        match self.call(Method::POST, &path, Some(&body))? {
            Ok(answer) => self.id_of(&answer),
            Err(r) => Err(self.refused(r, Some(subject))),
        }
    }

    /// The schema registered with `id`: its type and text.
    pub fn schema_by_id(&self, id: u32) -> Result<(SchemaType, String), RegistryError> {
        let path = ["schemas", "ids", &id.to_string()];
        let answer = match self.call(Method::GET, &path, None)? {
            Ok(answer) => answer,
            Err(r) if r.status == 404 && confluent_error(&r.body).0.is_some() => {
                let (error_code, message) = confluent_error(&r.body);
                return Err(RegistryError::NoSuchId {
                    url: self.shown.clone(),
                    id,
                    error_code,
                    message,
                });
            }
            Err(r) => return Err(self.refused(r, None)),
        };
        let text = answer.get("schema").and_then(Value::as_str);
        let kind = match answer.get("schemaType").and_then(Value::as_str) {
            None | Some("AVRO") => Some(SchemaType::Avro),
            Some("JSON") => Some(SchemaType::Json),
            Some(_) => None,
        };
        match (text, kind) {
            (Some(text), Some(kind)) => Ok((kind, text.to_string())),
            _ => Err(self.not_the_api(200, &answer.to_string())),
        }
    }

    /// The versions registered under `subject` (none: empty).
    pub fn versions(&self, subject: &str) -> Result<Vec<u32>, RegistryError> {
        match self.call(Method::GET, &["subjects", subject, "versions"], None)? {
            Ok(Value::Array(items)) => items
                .iter()
                .map(|v| v.as_u64().and_then(|v| u32::try_from(v).ok()))
                .collect::<Option<Vec<u32>>>()
                .ok_or_else(|| self.not_the_api(200, &Value::Array(items.clone()).to_string())),
            Ok(other) => Err(self.not_the_api(200, &other.to_string())),
            Err(r) if r.status == 404 && confluent_error(&r.body).0.is_some() => Ok(Vec::new()),
            Err(r) => Err(self.refused(r, Some(subject))),
        }
    }

    /// Sets the compatibility level of `subject` (`BACKWARD`, `NONE`, ...).
    pub fn set_compatibility(&self, subject: &str, level: &str) -> Result<(), RegistryError> {
        let body = json!({"compatibility": level});
        match self.call(Method::PUT, &["config", subject], Some(&body))? {
            Ok(_) => Ok(()),
            Err(r) => Err(self.refused(r, Some(subject))),
        }
    }

    /// The `id` of an answer.
    fn id_of(&self, answer: &Value) -> Result<u32, RegistryError> {
        (answer.get("id").and_then(Value::as_u64))
            .and_then(|id| u32::try_from(id).ok())
            .ok_or_else(|| self.not_the_api(200, &answer.to_string()))
    }

    fn not_the_api(&self, status: u16, body: &str) -> RegistryError {
        RegistryError::NotTheApi {
            url: self.shown.clone(),
            status,
            body: quote(body.as_bytes()),
        }
    }

    /// The error for a non-2xx answer to a request about `subject`.
    fn refused(&self, r: Refusal, subject: Option<&str>) -> RegistryError {
        let (error_code, message) = confluent_error(&r.body);
        let url = self.shown.clone();
        let subject = subject.map(str::to_string);
        match (r.status, subject) {
            (401 | 403, _) => RegistryError::Auth {
                url,
                status: r.status,
                auth: self.auth.describe(),
                error_code,
                message,
            },
            (409, Some(subject)) => RegistryError::Incompatible {
                url,
                subject,
                error_code,
                message,
            },
            (500..=599, subject) => RegistryError::Server {
                url,
                subject,
                status: r.status,
                error_code,
                message,
            },
            (status, subject) if error_code.is_some() && (400..500).contains(&status) => {
                RegistryError::Rejected {
                    url,
                    subject,
                    status,
                    error_code,
                    message,
                }
            }
            (status, _) => self.not_the_api(status, &r.head),
        }
    }

    /// One call: the JSON of a 2xx answer, or the refusal; transport
    /// failures and bodies that are not JSON are errors.
    fn call(
        &self,
        method: Method,
        path: &[&str],
        body: Option<&Value>,
    ) -> Result<Result<Value, Refusal>, RegistryError> {
        let mut url = self.base.clone();
        url.path_segments_mut()
            .expect("checked: a base URL")
            .pop_if_empty()
            .extend(path);
        let deadline = Instant::now() + self.timeout;
        let mut request = self
            .http
            .request(method, url)
            .header(reqwest::header::ACCEPT, CONTENT_TYPE)
            .timeout(self.timeout);
        if let Some(body) = body {
            request = request
                .header(reqwest::header::CONTENT_TYPE, CONTENT_TYPE)
                .body(body.to_string());
        }
        let response = self.authed(request).send().map_err(|e| self.transport(e))?;
        let status = response.status().as_u16();
        let bytes = self.read_body(response, deadline)?;
        let parsed: Option<Value> = serde_json::from_slice(&bytes).ok();
        match (status, parsed) {
            (200..=299, Some(value)) => Ok(Ok(value)),
            (200..=299, None) => Err(self.not_the_api(status, &String::from_utf8_lossy(&bytes))),
            (_, parsed) => Ok(Err(Refusal {
                status,
                body: parsed.unwrap_or(Value::Null),
                head: String::from_utf8_lossy(&bytes[..bytes.len().min(QUOTE * 2)]).into_owned(),
            })),
        }
    }

    fn authed(&self, request: RequestBuilder) -> RequestBuilder {
        match &self.auth {
            Auth::None => request,
            Auth::Basic { user, password } => request.basic_auth(user, Some(password.expose())),
            Auth::Bearer { token, .. } => request.bearer_auth(token.expose()),
        }
    }

    /// The error for a request that got no answer.
    fn transport(&self, e: reqwest::Error) -> RegistryError {
        if e.is_timeout() {
            return self.timed_out();
        }
        RegistryError::Unreachable {
            url: self.shown.clone(),
            reason: chain(&e.without_url()),
        }
    }

    fn timed_out(&self) -> RegistryError {
        RegistryError::Timeout {
            url: self.shown.clone(),
            timeout_secs: self.timeout.as_secs_f64(),
        }
    }

    /// The answer's body, at most [`MAX_BODY`] bytes, read by the deadline.
    fn read_body(
        &self,
        response: reqwest::blocking::Response,
        deadline: Instant,
    ) -> Result<Vec<u8>, RegistryError> {
        let mut body = response.take(MAX_BODY + 1);
        let mut out = Vec::new();
        let mut buf = [0u8; 8192];
        loop {
            if Instant::now() >= deadline {
                return Err(self.timed_out());
            }
            match body.read(&mut buf) {
                Ok(0) => break,
                Ok(n) => out.extend_from_slice(&buf[..n]),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
                Err(e) if is_timeout(&e) => return Err(self.timed_out()),
                Err(e) => {
                    return Err(RegistryError::Unreachable {
                        url: self.shown.clone(),
                        reason: format!("reading the answer: {}", chain(&e)),
                    })
                }
            }
        }
        if out.len() as u64 > MAX_BODY {
            return Err(self.not_the_api(0, &format!("an answer over {MAX_BODY} bytes")));
        }
        Ok(out)
    }
}

/// A timeout anywhere in an I/O error's chain, known by type.
fn is_timeout(e: &std::io::Error) -> bool {
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            if io.kind() == std::io::ErrorKind::TimedOut {
                return true;
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

#[cfg(test)]
mod tests;
