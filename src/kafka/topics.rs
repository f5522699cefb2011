//! Topics: names checked as Kafka checks them, and whether a topic (and the
//! partition this program uses) exists. The metadata requests here never
//! create a topic: every client gets `allow.auto.create.topics=false` from
//! [`KafkaSettings`], so a missing topic is said plainly (exit 4) instead of
//! appearing with the broker's defaults.

use std::time::Duration;

use anyhow::Result;
use chrono::{DateTime, Utc};
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::{KafkaError, KafkaResult, RDKafkaErrorCode};
use rdkafka::{Offset, TopicPartitionList};

use crate::exit::{Exit, Staged};
use crate::kafka::{
    is_denied_code, is_leaderless, is_missing, replica_shortage, KafkaSettings, Served, CREATE_HINT,
};

/// What is wrong with a topic, its facts as fields.
#[derive(Debug, thiserror::Error)]
pub enum TopicError {
    /// A name Kafka refuses (exit 2).
    #[error(
        "{flag} '{}': a Kafka topic name has 1 to 249 characters from a-z, A-Z, 0-9, '.', '_' and '-'",
        crate::text::visible_cut(name, 60)
    )]
    BadName { flag: String, name: String },
    /// This principal may not describe it (exit 4): whether it exists is
    /// unknown, so nothing is created or published.
    #[error(
        "{}",
        crate::redact::text(&format!(
            "topic {topic} on {brokers}: {code}: this principal may not see it (no Describe ACL \
             on it; Read or Write imply Describe), so whether it exists and what it holds is \
             unknown; nothing is created or published; {}",
            crate::kafka::ACL_HINT
        ))
    )]
    NoDescribe {
        topic: String,
        brokers: String,
        code: RDKafkaErrorCode,
    },
    /// It does not exist (exit 4); `hint` says what to do.
    #[error("{}", crate::redact::text(&format!("topic {topic} does not exist on {brokers}; {hint}")))]
    Missing {
        topic: String,
        brokers: String,
        hint: String,
    },
    /// The partition this program uses does not exist (exit 4).
    #[error("topic {topic} has {partitions} partition(s); --partition {partition} does not exist")]
    NoPartition {
        topic: String,
        partitions: usize,
        partition: i32,
    },
}

impl Staged for TopicError {
    fn exit(&self) -> Exit {
        match self {
            TopicError::BadName { .. } => Exit::Usage,
            _ => Exit::Kafka,
        }
    }
}

/// Checks a topic name as Kafka does: 1 to 249 of `a-z A-Z 0-9 . _ -`, not `.` or `..`.
pub fn check_name(flag: &str, name: &str) -> Result<()> {
    let legal = name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b"._-".contains(&b));
    if legal && (1..=249).contains(&name.len()) && name != "." && name != ".." {
        return Ok(());
    }
    Err(TopicError::BadName {
        flag: flag.to_string(),
        name: name.to_string(),
    }
    .into())
}

/// The number of partitions of `topic`, `None` when it does not exist. The
/// metadata request never creates it (see [`KafkaSettings`]' configuration).
/// A topic this principal may not describe is an error (exit 4), never
/// `None`: Kafka answers TOPIC_AUTHORIZATION_FAILED whether it exists or not,
/// and taking it for missing would create it or publish everything again.
pub fn partitions(
    client: &impl Served,
    settings: &KafkaSettings,
    topic: &str,
) -> Result<Option<usize>> {
    let what = "fetch metadata";
    let metadata = settings
        .wait(client, what, |t| {
            client.client().fetch_metadata(Some(topic), t)
        })?
        .map_err(|e| settings.unreachable(what, &e, client.client().context()))?;
    let Some(found) = metadata.topics().iter().find(|t| t.name() == topic) else {
        return Ok(None);
    };
    if let Some(code) = found.error().map(RDKafkaErrorCode::from) {
        if is_denied_code(code) {
            return Err(TopicError::NoDescribe {
                topic: topic.to_string(),
                brokers: settings.brokers().to_string(),
                code,
            }
            .into());
        }
        return Ok(None);
    }
    Ok(Some(found.partitions().len()).filter(|n| *n > 0))
}

/// Whether `err` says that a topic does not exist (our check, or the
/// brokers' answer to a request).
pub fn is_missing_topic(err: &anyhow::Error) -> bool {
    err.chain().any(|e| {
        matches!(
            e.downcast_ref::<TopicError>(),
            Some(TopicError::Missing { .. })
        ) || e
            .downcast_ref::<rdkafka::error::KafkaError>()
            .is_some_and(crate::kafka::is_missing)
    })
}

/// The error for a topic that does not exist (exit 4); `hint` says what to do.
pub fn missing_topic(settings: &KafkaSettings, topic: &str, hint: &str) -> anyhow::Error {
    TopicError::Missing {
        topic: topic.to_string(),
        brokers: settings.brokers().to_string(),
        hint: hint.to_string(),
    }
    .into()
}

/// Checks that `topic` has `count` partitions including `partition` (any
/// partition for `None`): exit 4 otherwise. Warns when the topic has more
/// partitions than the one this program uses.
pub fn check_partitions(
    settings: &KafkaSettings,
    topic: &str,
    count: Option<usize>,
    partition: Option<i32>,
    hint: &str,
) -> Result<usize> {
    let Some(n) = count else {
        return Err(missing_topic(settings, topic, hint));
    };
    if let Some(p) = partition {
        if p < 0 || p as usize >= n {
            return Err(TopicError::NoPartition {
                topic: topic.to_string(),
                partitions: n,
                partition: p,
            }
            .into());
        }
        if n > 1 {
            log::warn!(
                "topic {topic} has {n} partitions; only partition {p} is written and read \
                 (order and the cursor hold per partition)"
            );
        }
    }
    Ok(n)
}

/// [`partitions`] then [`check_partitions`]: the topic exists (and has `partition`).
pub fn require(
    client: &impl Served,
    settings: &KafkaSettings,
    topic: &str,
    partition: Option<i32>,
    hint: &str,
) -> Result<usize> {
    let count = partitions(client, settings, topic)?;
    check_partitions(settings, topic, count, partition, hint)
}

/// The error for `fetch_watermarks(topic, partition)` failing: a missing
/// topic or partition is said plainly (checked with a metadata request),
/// anything else is [`KafkaSettings::unreachable`], with the in-sync replicas
/// a leaderless partition lacks. For the cursor read and
/// `consume`.
pub fn offsets_error(
    settings: &KafkaSettings,
    client: &impl Served,
    topic: &str,
    partition: i32,
    err: &KafkaError,
) -> anyhow::Error {
    if is_missing(err) {
        if let Err(e) = require(client, settings, topic, Some(partition), CREATE_HINT) {
            return e;
        }
    }
    let why = if is_leaderless(err) {
        replica_shortage(client.client(), &[topic], partition, settings.timeout)
    } else {
        String::new()
    };
    settings.unreachable_because(
        &format!("read the offsets of {topic}"),
        err,
        client.client().context(),
        &why,
    )
}

/// The first offset of `topic`/`partition` whose Kafka timestamp is `t` or
/// later, from the broker's time index (our messages carry their key's time):
/// `Offset::Offset`, `Offset::End` when there is none, anything else when the
/// broker could not say for the partition.
pub fn offset_for_time<C: ConsumerContext>(
    consumer: &BaseConsumer<C>,
    topic: &str,
    partition: i32,
    t: DateTime<Utc>,
    timeout: Duration,
) -> KafkaResult<Offset> {
    let mut times = TopicPartitionList::new();
    times.add_partition_offset(
        topic,
        partition,
        Offset::Offset(t.timestamp_millis().max(0)),
    )?;
    let found = consumer.offsets_for_times(times, timeout)?;
    Ok(found
        .find_partition(topic, partition)
        .map_or(Offset::Invalid, |e| e.offset()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn topic_names_are_checked_as_kafka_does() {
        for good in [
            "eds.PowerSystemRightNow.records",
            "a",
            "A_b-c.9",
            &"x".repeat(249),
        ] {
            assert!(check_name("--topic", good).is_ok(), "{good}");
        }
        for bad in ["", ".", "..", "a b", "a/b", "ø", &"x".repeat(250)] {
            let e = check_name("--topic", bad).unwrap_err();
            assert_eq!(crate::failure::exit_of(&e), Exit::Usage);
            assert!(e.to_string().starts_with("--topic"), "{e}");
        }
    }
}
