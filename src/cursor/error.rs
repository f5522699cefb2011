//! The cursor stage's errors, typed: each variant carries its exit code and
//! the error it came from. The message is the one the user reads.

use rdkafka::error::KafkaError;

use crate::contract::key::BadKey;
use crate::exit::{Exit, Staged};

#[derive(Debug, thiserror::Error)]
pub enum CursorError {
    /// The partitions to read could not be assigned (exit 4).
    #[error("{message}")]
    Assign {
        message: String,
        #[source]
        source: KafkaError,
    },
    /// The ends of the tails did not arrive within `--kafka-timeout` (exit 4).
    #[error("{message}")]
    Timeout { message: String },
    /// Reading a tail failed; `denied`: no Read ACL (exit 4).
    #[error("{message}")]
    Read {
        message: String,
        denied: bool,
        #[source]
        source: KafkaError,
    },
    /// A message of ours whose key is not ours (exit 3).
    #[error("{message}")]
    BadKey {
        message: String,
        #[source]
        source: BadKey,
    },
    /// A key of ours that is not UTF-8 (exit 3): never read lossily.
    #[error("{message}")]
    NotUtf8 {
        message: String,
        #[source]
        source: std::str::Utf8Error,
    },
    /// A key with another number of key values than the dataset's (exit 3).
    #[error("{message}")]
    KeyColumns { message: String },
    /// A cursor later than `--now` plus one resolution (exit 3).
    #[error("{message}")]
    Future { message: String },
}

impl Staged for CursorError {
    fn exit(&self) -> Exit {
        match self {
            CursorError::Assign { .. } | CursorError::Timeout { .. } | CursorError::Read { .. } => {
                Exit::Kafka
            }
            CursorError::BadKey { .. }
            | CursorError::NotUtf8 { .. }
            | CursorError::KeyColumns { .. }
            | CursorError::Future { .. } => Exit::Data,
        }
    }
}
