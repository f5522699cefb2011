//! Waiting on the brokers and saying why they did not answer: the sliced
//! [`KafkaSettings::wait`] that ends at a definite refusal, the errors for a
//! broker that is down, denies or lacks a topic, and the classification of
//! librdkafka's error codes (denied, missing, transient).

use std::time::{Duration, Instant};

use anyhow::Result;
use rdkafka::client::{Client, ClientContext};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::error::{KafkaError, KafkaResult, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, Producer};

use super::BrokerError;
use super::{Context, KafkaSettings};

impl KafkaSettings {
    /// The error for brokers that did not answer in time.
    pub fn unreachable(&self, what: &str, err: &KafkaError, context: &Context) -> anyhow::Error {
        self.unreachable_because(what, err, context, "")
    }

    /// [`KafkaSettings::unreachable`] with `why` (e.g. a [`replica_shortage`])
    /// after the brokers' own reason. Not a timeout when the brokers answered
    /// that this principal may not, or that the topic does not exist.
    pub fn unreachable_because(
        &self,
        what: &str,
        err: &KafkaError,
        context: &Context,
        why: &str,
    ) -> anyhow::Error {
        let (what, brokers, source) = (what.to_string(), self.brokers().to_string(), err.clone());
        if is_denied(err) {
            return BrokerError::Denied {
                what,
                brokers,
                source,
            }
            .into();
        }
        if is_missing(err) {
            return BrokerError::Missing {
                what,
                brokers,
                source,
            }
            .into();
        }
        BrokerError::Unreachable {
            what,
            brokers,
            timeout: self.timeout,
            detail: context.last_error(),
            why: why.to_string(),
            source,
        }
        .into()
    }

    /// Runs `request` (a blocking librdkafka request, given how long it may
    /// take) until it answers, `--kafka-timeout` passes, or the brokers refused
    /// the client's credentials or TLS. librdkafka itself waits out the whole
    /// timeout when authentication fails (it retries, as for a broker down) and
    /// tells why only through error events, which a client gets when it is
    /// polled: so the request is made in slices of at most [`SLICE`], the
    /// client is polled between them, and a definite refusal (see
    /// [`Context::refusal`]) ends the wait at once with [`KafkaSettings::refused`].
    /// The outer error is that refusal; the inner result is the request's own.
    pub fn wait<C: Served, T>(
        &self,
        client: &C,
        what: &str,
        mut request: impl FnMut(Duration) -> KafkaResult<T>,
    ) -> Result<KafkaResult<T>> {
        let deadline = self.deadline();
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let result = request(left.min(SLICE).max(Duration::from_millis(1)));
            client.serve();
            if let Some(refusal) = client.client().context().refusal() {
                return Err(self.refused(what, refusal));
            }
            match result {
                Err(e) if is_waiting(&e) && Instant::now() < deadline => continue,
                other => return Ok(other),
            }
        }
    }

    /// The error for brokers that refused the client's credentials or its TLS
    /// handshake: what to check, librdkafka's reason (redacted), exit 4.
    pub fn refused(&self, what: &str, (code, reason): (RDKafkaErrorCode, String)) -> anyhow::Error {
        BrokerError::Refused {
            what: what.to_string(),
            brokers: self.brokers().to_string(),
            code,
            reason,
        }
        .into()
    }
}

/// How long one slice of [`KafkaSettings::wait`] waits for an answer.
const SLICE: Duration = Duration::from_millis(250);
/// How many queued events [`Served::serve`] handles at most (each poll takes one).
const SERVED: usize = 64;

/// What a missing topic's message tells the operator to do.
pub const CREATE_HINT: &str =
    "create it with 1 partition or pass --create-topics / EDS_CREATE_TOPICS=true";

/// What a missing ACL's message tells the operator to grant.
pub const ACL_HINT: &str = "grant it Describe on the topics (to see them), Read (to read \
     the cursor and consume), Write (to publish), Create (for --create-topics), and Read on \
     the consumer group (for consume --group)";

/// A client that [`KafkaSettings::wait`] can poll between slices, so that
/// librdkafka's error events reach its [`Context`]. Polled only before any
/// partition is assigned or message sent: no message is taken by it.
pub trait Served {
    fn client(&self) -> &Client<Context>;
    fn serve(&self);
}

impl Served for BaseProducer<Context> {
    fn client(&self) -> &Client<Context> {
        Producer::client(self)
    }

    fn serve(&self) {
        // One event per poll: log lines come first, then the error events.
        for _ in 0..SERVED {
            self.poll(Duration::ZERO);
        }
    }
}

impl Served for BaseConsumer<Context> {
    fn client(&self) -> &Client<Context> {
        Consumer::client(self)
    }

    fn serve(&self) {
        // Once a partition is assigned (by us or a group) a poll could take
        // a message or an end-of-partition event from its reader: not served.
        if self.assignment().is_ok_and(|a| a.count() > 0) {
            return;
        }
        // Error events come back as errors here (the context has them), log
        // lines as nothing: one event per poll.
        for _ in 0..SERVED {
            let _ = self.poll(Duration::ZERO);
        }
    }
}

/// Why the brokers may not answer for `partition` of `topics`: "; the
/// cluster lacks in-sync replicas: ..." when one of them has fewer in-sync
/// replicas than replicas (writes with acks=all wait for min.insync.replicas
/// of them, and a new leader cannot give offsets until its followers catch
/// up), else empty. Asks the cluster once, for at most 2 s (and `timeout`).
pub fn replica_shortage<C: ClientContext>(
    client: &Client<C>,
    topics: &[&str],
    partition: i32,
    timeout: Duration,
) -> String {
    let wait = timeout.min(Duration::from_secs(2));
    let Ok(metadata) = client.fetch_metadata(None, wait) else {
        return String::new();
    };
    let short: Vec<String> = metadata
        .topics()
        .iter()
        .filter(|t| topics.contains(&t.name()))
        .flat_map(|t| t.partitions().iter().map(move |p| (t.name(), p)))
        .filter(|(_, p)| p.id() == partition && p.isr().len() < p.replicas().len())
        .map(|(topic, p)| {
            format!(
                "partition {} of {topic} has {} of {} replicas in sync (brokers {:?} of {:?})",
                p.id(),
                p.isr().len(),
                p.replicas().len(),
                p.isr(),
                p.replicas()
            )
        })
        .collect();
    if short.is_empty() {
        return String::new();
    }
    format!(
        "; the cluster lacks in-sync replicas: {}; writes need min.insync.replicas of them \
         (acks=all) and a new leader gives no offsets before they catch up: bring the \
         brokers back and the next run catches up",
        short.join(", ")
    )
}

/// Whether an error says that a partition's leader is missing or not yet
/// caught up (a broker down or a leader just elected): worth waiting for, and
/// worth a [`replica_shortage`] in the message when the wait runs out.
pub fn is_leaderless(err: &KafkaError) -> bool {
    use rdkafka::error::RDKafkaErrorCode as Code;
    matches!(
        err.rdkafka_error_code(),
        Some(
            Code::OffsetNotAvailable
                | Code::LeaderNotAvailable
                | Code::NotLeaderForPartition
                | Code::NotEnoughReplicas
                | Code::FencedLeaderEpoch
                | Code::UnknownLeaderEpoch
        )
    )
}

/// Whether a request's error is one librdkafka gives after waiting in vain
/// (worth another slice of [`KafkaSettings::wait`]).
fn is_waiting(err: &KafkaError) -> bool {
    use rdkafka::error::RDKafkaErrorCode as Code;
    matches!(
        err.rdkafka_error_code(),
        Some(
            Code::OperationTimedOut
                | Code::RequestTimedOut
                | Code::BrokerTransportFailure
                | Code::AllBrokersDown
        )
    ) || is_leaderless(err)
}

/// Whether the brokers said that this principal is not authorized (an ACL is missing).
pub fn is_denied(err: &KafkaError) -> bool {
    err.rdkafka_error_code().is_some_and(is_denied_code)
}

/// [`is_denied`] for an error code.
pub fn is_denied_code(code: RDKafkaErrorCode) -> bool {
    use rdkafka::error::RDKafkaErrorCode as Code;
    matches!(
        code,
        Code::TopicAuthorizationFailed
            | Code::GroupAuthorizationFailed
            | Code::ClusterAuthorizationFailed
            | Code::TransactionalIdAuthorizationFailed
    )
}

/// Whether a consumer's error is one librdkafka recovers from by itself: a
/// connection lost (a broker stopped), a leader moving to another broker. A
/// reader keeps polling past these, bounded by its deadline; every other
/// error (authorization, a missing topic, a corrupt batch) stops it.
pub fn is_transient(err: &KafkaError) -> bool {
    use rdkafka::error::RDKafkaErrorCode as Code;
    matches!(
        err.rdkafka_error_code(),
        Some(
            Code::BrokerTransportFailure
                | Code::AllBrokersDown
                | Code::RequestTimedOut
                | Code::OperationTimedOut
                | Code::NetworkException
                | Code::PreferredLeaderNotAvailable
                | Code::NotCoordinator
                | Code::CoordinatorNotAvailable
        )
    ) || is_leaderless(err)
}

/// Whether the brokers said that a topic or partition does not exist.
pub fn is_missing(err: &KafkaError) -> bool {
    use rdkafka::error::RDKafkaErrorCode as Code;
    matches!(
        err.rdkafka_error_code(),
        Some(Code::UnknownPartition | Code::UnknownTopic | Code::UnknownTopicOrPartition)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::Exit;

    /// What the cursor read reported for a missing topic: "cannot read the
    /// offsets ... within 30s: Meta data fetch error: UnknownPartition".
    #[test]
    fn a_missing_topic_is_not_called_a_timeout() {
        use rdkafka::error::RDKafkaErrorCode;
        let s = KafkaSettings::new(Some("b:1"), None, &[], Duration::from_secs(30)).unwrap();
        let err = KafkaError::MetadataFetch(RDKafkaErrorCode::UnknownPartition);
        let e = s.unreachable("read the offsets of t", &err, &Context::default());
        let typed = e.chain().find_map(|c| c.downcast_ref::<BrokerError>());
        assert!(matches!(typed, Some(BrokerError::Missing { .. })), "{e}");
        let text = e.to_string();
        assert_eq!(crate::failure::exit_of(&e), Exit::Kafka);
        assert!(
            text.contains("does not exist") && text.contains("--create-topics"),
            "{text}"
        );
        assert!(!text.contains("within"), "{text}");
        let slow = KafkaError::MetadataFetch(RDKafkaErrorCode::OperationTimedOut);
        let text = s
            .unreachable("read x", &slow, &Context::default())
            .to_string();
        assert!(text.contains("within 30s"), "{text}");
    }

    /// A missing ACL is neither a timeout nor a missing topic.
    #[test]
    fn a_missing_acl_is_said_plainly() {
        use rdkafka::error::RDKafkaErrorCode as Code;
        let s = KafkaSettings::new(Some("b:1"), None, &[], Duration::from_secs(30)).unwrap();
        let err = KafkaError::MessageConsumption(Code::TopicAuthorizationFailed);
        let e = s.unreachable("read t", &err, &Context::default());
        let text = e.to_string();
        assert_eq!(crate::failure::exit_of(&e), Exit::Kafka);
        assert!(
            text.contains("not authorized") && text.contains("Read"),
            "{text}"
        );
        assert!(
            !text.contains("within") && !text.contains("does not exist"),
            "{text}"
        );
        assert!(is_denied_code(Code::ClusterAuthorizationFailed));
        assert!(!is_denied_code(Code::UnknownTopicOrPartition));
    }
}
