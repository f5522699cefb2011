//! The Kafka stage's errors, typed: each variant carries its facts (what
//! was asked, of which brokers, librdkafka's error) and its exit code. Every
//! message goes through [`crate::redact`]: a broker list or a librdkafka
//! error can hold a password.

use std::path::PathBuf;
use std::time::Duration;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};

use super::wait::{ACL_HINT, CREATE_HINT};
use crate::exit::{Exit, Staged};
use crate::redact::text as redact;

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// `-X` without `=` (exit 2).
    #[error("-X takes key=value, got '{}'", crate::redact::pair(.0))]
    NotAPair(String),
    /// No bootstrap servers anywhere (exit 2).
    #[error(
        "no Kafka brokers: give --brokers / KAFKA_BROKERS, bootstrap.servers in --kafka-config \
         / KAFKA_CONFIG_FILE, or use --dry-run"
    )]
    NoBrokers,
    /// `--kafka-timeout 0` (exit 2).
    #[error("--kafka-timeout must be more than 0")]
    ZeroTimeout,
    /// A `--kafka-config` file that is not Java properties (exit 2).
    #[error("--kafka-config {}: {source}", path.display())]
    File {
        path: PathBuf,
        #[source]
        source: super::properties::PropertiesError,
    },
    /// librdkafka refused to create a client: a bad property (exit 2).
    #[error("invalid Kafka configuration: {}", redact(&source.to_string()))]
    Invalid {
        #[source]
        source: KafkaError,
    },
    /// Nothing listens at any bootstrap address (exit 4, said at once).
    #[error(
        "{}",
        redact(&format!(
            "cannot connect to {} (connection refused); check --brokers / KAFKA_BROKERS",
            servers.join(", ")
        ))
    )]
    NothingListens { servers: Vec<String> },
    /// The brokers did not answer `what` in time (exit 4); `detail`: the
    /// client's last error, `why`: what the cluster lacks.
    #[error(
        "{}",
        redact(&format!(
            "cannot {what} on Kafka brokers {brokers} within {}s: {source}{}{why}",
            timeout.as_secs_f64(),
            detail.as_ref().map(|d| format!(" ({d})")).unwrap_or_default()
        ))
    )]
    Unreachable {
        what: String,
        brokers: String,
        timeout: Duration,
        detail: Option<String>,
        why: String,
        #[source]
        source: KafkaError,
    },
    /// The brokers answered that this principal may not (exit 4).
    #[error(
        "{}",
        redact(&format!(
            "cannot {what} on Kafka brokers {brokers}: {source}: this principal is not \
             authorized; {ACL_HINT}"
        ))
    )]
    Denied {
        what: String,
        brokers: String,
        #[source]
        source: KafkaError,
    },
    /// A read refused for want of a Read ACL, after the offsets were read:
    /// where the topics end is unknown, so nothing is done (exit 4).
    #[error(
        "{}",
        redact(&format!(
            "cannot read {what} from {brokers}: {source}: this principal is not authorized to \
             read them (no Read ACL on the topics), so where they end is unknown and nothing \
             is done; {ACL_HINT}"
        ))
    )]
    ReadDenied {
        what: String,
        brokers: String,
        #[source]
        source: KafkaError,
    },
    /// The brokers answered that the topic or partition does not exist (exit 4).
    #[error(
        "{}",
        redact(&format!(
            "cannot {what} on Kafka brokers {brokers}: {source}: the topic or the partition \
             does not exist; {CREATE_HINT}"
        ))
    )]
    Missing {
        what: String,
        brokers: String,
        #[source]
        source: KafkaError,
    },
    /// The brokers refused the credentials or the TLS handshake (exit 4).
    #[error(
        "{}",
        redact(&format!("cannot {what} on Kafka brokers {brokers}: {} ({code}: {reason})", refusal_hint(*code)))
    )]
    Refused {
        what: String,
        brokers: String,
        code: RDKafkaErrorCode,
        reason: String,
    },
}

/// What to check when the brokers refused a client.
fn refusal_hint(code: RDKafkaErrorCode) -> &'static str {
    match code {
        RDKafkaErrorCode::SSL => {
            "the TLS handshake failed: check ssl.ca.location (the CA that signed the \
             brokers' certificates) and, when the brokers require client certificates, \
             ssl.certificate.location and ssl.key.location"
        }
        _ => {
            "the brokers refused the credentials (SASL authentication failed): check \
             sasl.mechanism, sasl.username and sasl.password (or sasl.jaas.config) in \
             --kafka-config or -X"
        }
    }
}

impl Staged for BrokerError {
    fn exit(&self) -> Exit {
        match self {
            BrokerError::NotAPair(_)
            | BrokerError::NoBrokers
            | BrokerError::ZeroTimeout
            | BrokerError::File { .. }
            | BrokerError::Invalid { .. } => Exit::Usage,
            _ => Exit::Kafka,
        }
    }
}
