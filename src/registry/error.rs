//! The schema registry's errors, typed: each variant carries its facts as
//! fields (the registry's URL with any user-info hidden, the subject, the
//! HTTP status, the registry's `error_code` and message) and knows its exit
//! code. No variant holds a password or a token: the auth is described by
//! its kind and user name or file, and every text is passed through
//! [`crate::redact`].
//!
//! Exit codes: a registry that cannot be reached, that times out, or that
//! answers 5xx is Kafka-side infrastructure, like a broker that cannot be
//! reached: exit 4, as are credentials it refuses (401/403) and a URL that
//! is not its Confluent-compatible API. A schema it refuses as incompatible
//! (409), a subject without the schema under `--no-register`, a schema id it
//! does not know and any other refusal of a request are about the data and
//! its contract, where retrying will not help: exit 3. A CA or token file
//! that cannot be used is configuration: exit 2.

use crate::exit::{Exit, Staged};

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum RegistryError {
    /// A CA certificate file, token file, URL or credentials that cannot be
    /// used (exit 2).
    #[error("schema registry: {what}: {reason}")]
    Config { what: String, reason: String },
    /// No connection: DNS, refused, TLS handshake, reset (exit 4).
    #[error("schema registry {url}: cannot connect: {reason}")]
    Unreachable { url: String, reason: String },
    /// No whole answer within the timeout, connecting included (exit 4).
    #[error("schema registry {url}: no answer within {timeout_secs}s (the whole call, connecting included)")]
    Timeout { url: String, timeout_secs: f64 },
    /// 401 or 403: the credentials (`auth` says which) were refused (exit 4).
    #[error("schema registry {url}: HTTP {status}: {auth} refused{}", said(*error_code, message))]
    Auth {
        url: String,
        status: u16,
        auth: String,
        error_code: Option<i64>,
        message: String,
    },
    /// 409: the schema is not compatible with the subject's latest version
    /// under its compatibility level (exit 3).
    #[error(
        "schema registry {url}: the schema is incompatible with subject {subject} (HTTP 409{}); \
         registering it would break its readers: change the schema compatibly, or the subject's \
         compatibility level", said(*error_code, message)
    )]
    Incompatible {
        url: String,
        subject: String,
        error_code: Option<i64>,
        message: String,
    },
    /// `--no-register`: the subject does not have the schema (exit 3).
    #[error(
        "schema registry {url}: subject {subject} does not have this schema, and --no-register \
         forbids registering it: register it first (a run without --no-register does)"
    )]
    NotRegistered { url: String, subject: String },
    /// The registry knows no schema with this id (exit 3).
    #[error("schema registry {url}: no schema with id {id}{}", said(*error_code, message))]
    NoSuchId {
        url: String,
        id: u32,
        error_code: Option<i64>,
        message: String,
    },
    /// 5xx (exit 4). Apicurio answers 500 for a JSON Schema under a subject
    /// holding Avro, where Confluent answers 409.
    #[error("schema registry {url}: HTTP {status}{}", said(*error_code, message))]
    Server {
        url: String,
        subject: Option<String>,
        status: u16,
        error_code: Option<i64>,
        message: String,
    },
    /// Any other refusal (422 invalid schema, ...) (exit 3).
    #[error("schema registry {url}: HTTP {status}{}{}", subject.as_ref().map(|s| format!(" for subject {s}")).unwrap_or_default(), said(*error_code, message))]
    Rejected {
        url: String,
        subject: Option<String>,
        status: u16,
        error_code: Option<i64>,
        message: String,
    },
    /// An answer that is not the Confluent API's (no JSON, no `error_code`
    /// on a 404, a redirect): the URL is not the API's base (exit 4).
    #[error(
        "schema registry {url}: HTTP {status} and not the Confluent-compatible API's answer \
         (body: {body}); is the URL its base (Apicurio: .../apis/ccompat/v7)?"
    )]
    NotTheApi {
        url: String,
        status: u16,
        body: String,
    },
}

/// ` (error_code 40401: Subject 'x' not found)`, or nothing.
fn said(error_code: Option<i64>, message: &str) -> String {
    match (error_code, message.is_empty()) {
        (Some(code), false) => format!(" (error_code {code}: {message})"),
        (Some(code), true) => format!(" (error_code {code})"),
        (None, false) => format!(": {message}"),
        (None, true) => String::new(),
    }
}

impl Staged for RegistryError {
    fn exit(&self) -> Exit {
        match self {
            RegistryError::Config { .. } => Exit::Usage,
            RegistryError::Unreachable { .. }
            | RegistryError::Timeout { .. }
            | RegistryError::Auth { .. }
            | RegistryError::Server { .. }
            | RegistryError::NotTheApi { .. } => Exit::Kafka,
            RegistryError::Incompatible { .. }
            | RegistryError::NotRegistered { .. }
            | RegistryError::NoSuchId { .. }
            | RegistryError::Rejected { .. } => Exit::Data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::failure::exit_of;

    #[test]
    fn each_variant_has_its_exit_code_and_says_its_facts() {
        let url = || "http://[redacted]@registry:8081".to_string();
        let e = RegistryError::Incompatible {
            url: url(),
            subject: "eds.records-value".into(),
            error_code: Some(409),
            message: "Incompatible schema: field x has no default".into(),
        };
        assert_eq!(e.exit(), Exit::Data);
        let text = e.to_string();
        assert!(text.contains("subject eds.records-value"), "{text}");
        assert!(
            text.contains(
                "(HTTP 409 (error_code 409: Incompatible schema: field x has no default))"
            ),
            "{text}"
        );
        let coded = anyhow::Error::new(e.clone());
        assert_eq!(exit_of(&coded), Exit::Data);
        let typed = coded
            .chain()
            .find_map(|c| c.downcast_ref::<RegistryError>());
        assert_eq!(typed, Some(&e));
        let auth = RegistryError::Auth {
            url: url(),
            status: 401,
            auth: "basic auth as user 'alice'".into(),
            error_code: None,
            message: String::new(),
        };
        assert_eq!(auth.exit(), Exit::Kafka);
        assert_eq!(
            auth.to_string(),
            "schema registry http://[redacted]@registry:8081: HTTP 401: basic auth as user 'alice' refused"
        );
        for (e, exit) in [
            (
                RegistryError::Timeout {
                    url: url(),
                    timeout_secs: 2.0,
                },
                Exit::Kafka,
            ),
            (
                RegistryError::Unreachable {
                    url: url(),
                    reason: "refused".into(),
                },
                Exit::Kafka,
            ),
            (
                RegistryError::NotRegistered {
                    url: url(),
                    subject: "t-value".into(),
                },
                Exit::Data,
            ),
            (
                RegistryError::Config {
                    what: "--ca".into(),
                    reason: "no file".into(),
                },
                Exit::Usage,
            ),
        ] {
            assert_eq!(e.exit(), exit, "{e}");
        }
    }
}
