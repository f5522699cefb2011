//! The Kafka sink's errors, typed: what was produced where, and what the
//! brokers said. A message Kafka refuses for its size is the same on every
//! run (the same rows make the same message): a data error (exit 3), not a
//! Kafka error the next run would retry forever (exit 4).

use std::time::Duration;

use rdkafka::error::{KafkaError, RDKafkaErrorCode};

use crate::exit::{Exit, Staged};
use crate::redact::text as redact;

#[derive(Debug, thiserror::Error)]
pub enum SinkError {
    /// librdkafka refused a message (exit 4); `why`: the producer's fatal
    /// error, and what to do about a missing ACL.
    #[error("{}", redact(&format!("producing to {topic} on {brokers}: {source}{why}")))]
    Produce {
        topic: String,
        brokers: String,
        why: String,
        #[source]
        source: KafkaError,
    },
    /// A message over the producer's `message.max.bytes` (exit 3).
    #[error(
        "{}",
        redact(&format!(
            "producing to {topic}: the message with key '{}' is {bytes} bytes, more than Kafka \
             takes ({source}): the producer's message.max.bytes (1000000 by default) or the \
             topic's max.message.bytes. {} -X message.max.bytes and the topic's \
             max.message.bytes together",
            crate::text::visible_cut(key, 120),
            if *aggregate { AGGREGATE_SIZE } else { RECORD_SIZE }
        ))
    )]
    TooLarge {
        topic: String,
        key: String,
        bytes: usize,
        aggregate: bool,
        #[source]
        source: KafkaError,
    },
    /// The brokers refused delivered messages over the topic's
    /// `max.message.bytes` (exit 3).
    #[error(
        "{}",
        redact(&format!(
            "{failed} of {total} messages were refused by {brokers} as larger than the topic \
             takes: {first}; raise the topic's max.message.bytes, or shorten --window / \
             EDS_WINDOW (an aggregate lists every row missing from its window)"
        ))
    )]
    RefusedTooLarge {
        failed: u64,
        total: u64,
        brokers: String,
        first: String,
    },
    /// Messages not delivered (exit 4); `why` and `shortage` say more.
    #[error(
        "{}",
        redact(&format!(
            "{failed} of {total} messages were not delivered to {brokers}: {first}{why}{shortage}"
        ))
    )]
    NotDelivered {
        failed: u64,
        total: u64,
        brokers: String,
        first: String,
        why: String,
        shortage: String,
    },
    /// Messages still in flight at the deadline (exit 4).
    #[error(
        "{}",
        redact(&format!(
            "{left} of {total} messages not acknowledged by {brokers} within {}s{}{shortage}",
            timeout.as_secs_f64(),
            detail.as_ref().map(|d| format!(" ({d})")).unwrap_or_default()
        ))
    )]
    NotAcknowledged {
        left: i32,
        total: u64,
        brokers: String,
        timeout: Duration,
        detail: Option<String>,
        shortage: String,
    },
    /// `--create-topics`: the request failed (exit 4).
    #[error("{}", redact(&format!("creating topic {topic} on {brokers}: {source}")))]
    Create {
        topic: String,
        brokers: String,
        #[source]
        source: KafkaError,
    },
    /// `--create-topics`: the brokers refused (exit 2 for a setting of ours,
    /// 4 otherwise), with what to do about it.
    #[error("creating topic {topic} on {brokers}: {code}; {}", creation_hint(*code).1)]
    CreateRefused {
        topic: String,
        brokers: String,
        code: RDKafkaErrorCode,
    },
}

const AGGREGATE_SIZE: &str = "An aggregate lists every row missing from its window \
     (\"missing\"), so a long --window / EDS_WINDOW over a dataset with few rows makes it \
     large: shorten --window, or raise";
const RECORD_SIZE: &str = "The API's row (or its key values) is this large: raise";

/// The exit code and the advice for a topic the brokers refused to create.
fn creation_hint(code: RDKafkaErrorCode) -> (Exit, &'static str) {
    match code {
        RDKafkaErrorCode::InvalidReplicationFactor => (
            Exit::Usage,
            "the cluster has fewer brokers than --replication-factor / EDS_REPLICATION_FACTOR",
        ),
        RDKafkaErrorCode::InvalidConfig | RDKafkaErrorCode::PolicyViolation => (
            Exit::Usage,
            "check --topic-config / EDS_TOPIC_CONFIG against the broker's topic configs",
        ),
        RDKafkaErrorCode::TopicAuthorizationFailed
        | RDKafkaErrorCode::ClusterAuthorizationFailed => (
            Exit::Kafka,
            "this principal may not create topics (no Create ACL): have an admin create it \
             with 1 partition, or grant Create on the topic",
        ),
        _ => (Exit::Kafka, "see the broker's log"),
    }
}

impl Staged for SinkError {
    fn exit(&self) -> Exit {
        match self {
            SinkError::TooLarge { .. } | SinkError::RefusedTooLarge { .. } => Exit::Data,
            SinkError::CreateRefused { code, .. } => creation_hint(*code).0,
            _ => Exit::Kafka,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A 1.2 MB key value made a 1.2 MB error line, with the aggregate's
    /// hint for a record.
    #[test]
    fn a_too_large_message_is_said_briefly_and_for_its_kind() {
        let err = || KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge);
        let too_large = |key: &str, bytes, aggregate| SinkError::TooLarge {
            topic: "r".into(),
            key: key.to_string(),
            bytes,
            aggregate,
            source: err(),
        };
        let key = format!("2026-11-28T12:00:00Z/{}", "x".repeat(1_200_000));
        let record = too_large(&key, 1_200_100, false).to_string();
        assert!(record.len() < 1000, "{} bytes", record.len());
        assert!(record.contains("xxx...' is 1200100 bytes"), "{record}");
        assert!(
            record.contains("The API's row") && !record.contains("--window"),
            "{record}"
        );
        assert_eq!(too_large("k", 9, false).exit(), Exit::Data);
        let aggregate = too_large("k", 2_000_000, true).to_string();
        assert!(aggregate.contains("shorten --window"), "{aggregate}");
    }
}
