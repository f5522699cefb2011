//! The Kafka stage's errors, typed: each variant carries its exit code and
//! the librdkafka error it came from. The message (redacted) is the one the
//! user reads.

use rdkafka::error::{KafkaError, RDKafkaErrorCode};

use crate::exit::{Exit, Staged};

#[derive(Debug, thiserror::Error)]
pub enum BrokerError {
    /// The Kafka settings are unusable: a bad `-X`, no brokers, a property
    /// librdkafka refuses (exit 2).
    #[error("{message}")]
    Config {
        message: String,
        #[source]
        source: Option<Box<dyn std::error::Error + Send + Sync>>,
    },
    /// The brokers did not answer in time (exit 4).
    #[error("{message}")]
    Unreachable {
        message: String,
        #[source]
        source: KafkaError,
    },
    /// The brokers answered that this principal may not (exit 4).
    #[error("{message}")]
    Denied {
        message: String,
        #[source]
        source: KafkaError,
    },
    /// The brokers answered that the topic or partition does not exist (exit 4).
    #[error("{message}")]
    Missing {
        message: String,
        #[source]
        source: KafkaError,
    },
    /// The brokers refused the credentials or the TLS handshake (exit 4).
    #[error("{message}")]
    Refused {
        message: String,
        code: RDKafkaErrorCode,
    },
}

impl Staged for BrokerError {
    fn exit(&self) -> Exit {
        match self {
            BrokerError::Config { .. } => Exit::Usage,
            _ => Exit::Kafka,
        }
    }
}
