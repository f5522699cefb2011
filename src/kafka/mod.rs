//! The one translation of our Kafka settings into librdkafka configuration,
//! shared by the producer and the consumer: role defaults, then the
//! `--kafka-config` file (Java-style `client.properties`), then `--brokers`,
//! then `-X key=value`. No client made here lets a broker auto-create a
//! topic; [`crate::kafka::topics`] checks that topics exist.
//!
//! - [`properties`]: the `client.properties` file;
//! - [`context`]: the client context that collects librdkafka's errors and
//!   delivery failures;
//! - [`wait`]: waiting on the brokers, and the errors that say why they did
//!   not answer.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use anyhow::Result;
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::BaseConsumer;
use rdkafka::error::KafkaError;
use rdkafka::ClientConfig;

use crate::redact::{is_secret, Secret};

mod context;
mod error;
mod properties;
pub mod read;
pub mod topics;
mod wait;

pub use context::Context;
pub use error::BrokerError;
use properties::translate;
pub use properties::{java_properties, parse_properties, PropertiesError};
pub use wait::{
    is_denied, is_denied_code, is_leaderless, is_missing, is_transient, replica_shortage, Served,
    ACL_HINT, CREATE_HINT,
};

const AUTO_CREATE: &str = "allow.auto.create.topics";

/// Resolved Kafka settings: user properties in precedence order applied;
/// secret values (see [`is_secret`]) are held apart, as [`Secret`]s.
#[derive(Debug, Clone, PartialEq)]
pub struct KafkaSettings {
    user: BTreeMap<String, String>,
    secrets: BTreeMap<String, Secret>,
    /// How long to wait for the brokers (metadata, acknowledgements).
    pub timeout: Duration,
    /// The run's one deadline for Kafka, shared by every clone.
    budget: Budget,
    /// How long the producer lets a batch fill.
    batching: Batching,
}

/// How long the producer lets a batch of messages fill before sending it
/// (`linger.ms`; `-X linger.ms=N` wins over both).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Batching {
    /// 1 ms: a cron run's few messages go at once.
    #[default]
    Prompt,
    /// [`BULK_LINGER_MS`]: a backfill produces more slowly than the
    /// producer's thread sends; at 1 ms it sent a request for every few
    /// dozen messages, and each cost that thread and the broker more than
    /// the messages in it. Larger batches cost a backfill one wait at its end.
    Bulk,
}

/// `linger.ms` of [`Batching::Bulk`].
pub const BULK_LINGER_MS: u32 = 20;

/// A run's Kafka work (connect, metadata, offsets, reading, delivery) ends
/// within `--kafka-timeout` of its start, whatever fails: the deadline is
/// set by the first wait and shared by every client of the run (every
/// clone of the settings). Time the run spends elsewhere (the HTTP fetch)
/// is not Kafka's: [`KafkaSettings::outside`] moves the deadline by it.
#[derive(Debug, Clone, Default)]
struct Budget(Arc<Mutex<Deadline>>);

#[derive(Debug, Clone, Copy, Default)]
enum Deadline {
    /// Not started: the first wait starts it.
    #[default]
    Unset,
    At(Instant),
    /// Each wait gets `--kafka-timeout` of its own (a backfill, which runs
    /// as long as its range takes, after connecting).
    PerWait,
}

/// Two settings are equal by what they configure, whatever their budgets.
impl PartialEq for Budget {
    fn eq(&self, _: &Budget) -> bool {
        true
    }
}

impl KafkaSettings {
    /// Layers `file`, then `brokers`, then the `-X key=value` overrides.
    pub fn new(
        brokers: Option<&str>,
        file: Option<&Path>,
        overrides: &[String],
        timeout: Duration,
    ) -> Result<Self> {
        let mut user = match file {
            Some(path) => read_file(path)?,
            None => BTreeMap::new(),
        };
        if let Some(b) = brokers.filter(|b| !b.trim().is_empty()) {
            user.insert("bootstrap.servers".to_string(), b.trim().to_string());
        }
        for item in overrides {
            let (k, v) = item
                .split_once('=')
                .filter(|(k, _)| !k.trim().is_empty())
                .ok_or_else(|| BrokerError::NotAPair(item.clone()))?;
            for (k, v) in translate(k.trim(), v.trim()) {
                user.insert(k, v);
            }
        }
        if !user.contains_key("bootstrap.servers") {
            return Err(BrokerError::NoBrokers.into());
        }
        if timeout.is_zero() {
            return Err(BrokerError::ZeroTimeout.into());
        }
        // Files librdkafka will read: a FIFO or a device there would hang it.
        for (k, v) in &user {
            if (k.ends_with(".location") || k.ends_with(".keytab")) && v != "probe" {
                crate::files::check_readable_path(Path::new(v), k)?;
            }
        }
        let (secrets, user): (BTreeMap<_, _>, BTreeMap<_, _>) =
            user.into_iter().partition(|(k, _)| is_secret(k));
        let secrets = secrets
            .into_iter()
            .filter(|(_, v)| !v.is_empty())
            .map(|(k, v)| (k, Secret::new(v)))
            .collect();
        Ok(KafkaSettings {
            user,
            secrets,
            timeout,
            budget: Budget::default(),
            batching: Batching::Prompt,
        })
    }

    /// The same settings with the producer batching as `batching` says.
    pub fn batching(mut self, batching: Batching) -> Self {
        self.batching = batching;
        self
    }

    /// The run's deadline for Kafka: `--kafka-timeout` after the first call
    /// (after [`KafkaSettings::per_wait`]: after this call).
    pub fn deadline(&self) -> Instant {
        let mut at = self.budget.0.lock().unwrap_or_else(|e| e.into_inner());
        match *at {
            Deadline::At(deadline) => deadline,
            Deadline::PerWait => Instant::now() + self.timeout,
            Deadline::Unset => {
                let deadline = Instant::now() + self.timeout;
                *at = Deadline::At(deadline);
                deadline
            }
        }
    }

    /// From now on each wait has `--kafka-timeout` of its own: for a run
    /// that lasts as long as its work (a backfill), once it is connected.
    pub fn per_wait(&self) {
        *self.budget.0.lock().unwrap_or_else(|e| e.into_inner()) = Deadline::PerWait;
    }

    /// What is left of the run's Kafka time (zero once it passed).
    pub fn remaining(&self) -> Duration {
        self.deadline().saturating_duration_since(Instant::now())
    }

    /// Runs `work` (not Kafka's: the HTTP fetch between the cursor read and
    /// the delivery) without spending the run's Kafka time on it.
    pub fn outside<T>(&self, work: impl FnOnce() -> T) -> T {
        let started = Instant::now();
        let out = work();
        let mut at = self.budget.0.lock().unwrap_or_else(|e| e.into_inner());
        if let Deadline::At(deadline) = &mut *at {
            *deadline += started.elapsed();
        }
        out
    }

    pub fn brokers(&self) -> &str {
        &self.user["bootstrap.servers"]
    }

    /// The user's properties for a log line, secrets hidden.
    pub fn describe(&self) -> String {
        let mut all: Vec<String> = self.user.iter().map(|(k, v)| format!("{k}={v}")).collect();
        all.extend(self.secrets.iter().map(|(k, v)| format!("{k}={v}")));
        all.sort();
        all.join(" ")
    }

    fn config(&self, defaults: &[(&str, String)]) -> ClientConfig {
        let mut config = ClientConfig::new();
        config.set_log_level(RDKafkaLogLevel::Warning);
        // librdkafka opens one new connection per reconnect.backoff.ms / 2 (the
        // "sparse connections" interval, 50 ms by default). A run that lasts
        // milliseconds pays it once per client, going from the bootstrap
        // connection to the real broker: 20 ms makes it the 11 ms minimum.
        config.set("reconnect.backoff.ms", "20");
        for (k, v) in defaults {
            config.set(*k, v);
        }
        for (k, v) in &self.user {
            config.set(k, v);
        }
        for (k, v) in &self.secrets {
            config.set(k, v.expose());
        }
        // A metadata request for a missing topic must never create it with the
        // broker's defaults (librdkafka's producer asks for that by default).
        if self.user.get(AUTO_CREATE).is_some_and(|v| v != "false") {
            log::warn!(
                "{AUTO_CREATE} is always false here; create topics with --create-topics / EDS_CREATE_TOPICS=true"
            );
        }
        config.set(AUTO_CREATE, "false");
        config
    }

    /// Producer: idempotent, acks=all, lz4, gapless; messages time out with `timeout`.
    pub fn producer_config(&self) -> ClientConfig {
        self.config(&[
            ("enable.idempotence", "true".into()),
            ("acks", "all".into()),
            ("compression.type", "lz4".into()),
            ("enable.gapless.guarantee", "true".into()),
            ("linger.ms", self.linger_ms().to_string()),
            // librdkafka buffers up to 1 GiB by default; a backfill produces faster
            // than a broker takes it, and memory must stay flat.
            ("queue.buffering.max.kbytes", "16384".into()),
            ("message.timeout.ms", self.timeout.as_millis().to_string()),
        ])
    }

    fn linger_ms(&self) -> u32 {
        match self.batching {
            Batching::Prompt => 1,
            Batching::Bulk => BULK_LINGER_MS,
        }
    }

    /// Consumer: offsets committed only when asked, short fetch waits.
    pub fn consumer_config(&self, group: Option<&str>) -> ClientConfig {
        let mut defaults = vec![
            ("enable.auto.commit", "false".to_string()),
            ("enable.auto.offset.store", "false".to_string()),
            ("fetch.wait.max.ms", "10".to_string()),
            // librdkafka prefetches up to 64 MiB a partition by default: a
            // cursor read of a keyed topic's tail would hold that much. A
            // small queue, refilled without librdkafka's 1 s back-off, reads
            // as fast (2,000 keys' 2 h tail: 0.2 s, 40 instead of 63 MiB).
            ("queued.max.messages.kbytes", "2048".to_string()),
            ("fetch.max.bytes", "1048576".to_string()),
            ("fetch.queue.backoff.ms", "1".to_string()),
            // The end of a partition is found by position (see [`read`]):
            // librdkafka says when its fetch position reached the end,
            // past control records and holes that no message is read for.
            ("enable.partition.eof", "true".to_string()),
            ("isolation.level", "read_committed".to_string()),
            ("auto.offset.reset", "earliest".to_string()),
        ];
        // librdkafka wants a group.id even for a consumer that only assigns.
        defaults.push(("group.id", group.unwrap_or("eds-kafka-reader").to_string()));
        let mut config = self.config(&defaults);
        if let Some(g) = group {
            config.set("group.id", g);
        }
        config
    }

    /// A consumer (joining `group` if given; else it only assigns partitions).
    pub fn consumer(&self, group: Option<&str>) -> Result<BaseConsumer<Context>> {
        self.consumer_config(group)
            .create_with_context(Context::default())
            .map_err(|e| self.creation_error(e))
    }

    /// The error for a client librdkafka refused to create (a bad property).
    pub fn creation_error(&self, source: KafkaError) -> anyhow::Error {
        BrokerError::Invalid { source }.into()
    }
}

/// The properties of a `--kafka-config` file.
fn read_file(path: &Path) -> Result<BTreeMap<String, String>> {
    let text = crate::files::read_config(path, "--kafka-config")?;
    let props = parse_properties(&text).map_err(|source| BrokerError::File {
        path: path.to_path_buf(),
        source,
    })?;
    Ok(props.into_iter().collect())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::Exit;

    #[test]
    fn precedence_x_over_brokers_over_file() {
        let dir = std::env::temp_dir().join(format!("eds-kafka-props-{}", std::process::id()));
        std::fs::write(
            &dir,
            "bootstrap.servers=file:1\nacks=1\nsasl.password=hunter2\n",
        )
        .unwrap();
        let s = KafkaSettings::new(
            Some("flag:2"),
            Some(&dir),
            &["acks=0".into()],
            Duration::from_secs(1),
        )
        .unwrap();
        std::fs::remove_file(&dir).unwrap();
        assert_eq!(s.brokers(), "flag:2");
        let config = s.producer_config();
        assert_eq!(
            config.get("acks"),
            Some("0"),
            "-X wins over the file and the defaults"
        );
        assert_eq!(config.get("enable.idempotence"), Some("true"));
        assert_eq!(config.get("compression.type"), Some("lz4"));
        assert!(!s.describe().contains("hunter2"));
        assert_eq!(
            crate::redact::text("bad password hunter2"),
            "bad password [redacted]"
        );
    }

    #[test]
    fn secrets_are_hidden_from_debug_and_display() {
        let s = KafkaSettings::new(
            Some("a:1"),
            None,
            &[
                "sasl.password=Hunter2Secret".into(),
                "ssl.key.password=KeyPass99".into(),
                "sasl.username=alice".into(),
            ],
            Duration::from_secs(1),
        )
        .unwrap();
        for shown in [format!("{s:?}"), format!("{s:#?}"), s.describe()] {
            assert!(
                !shown.contains("Hunter2Secret") && !shown.contains("KeyPass99"),
                "{shown}"
            );
            assert!(
                shown.contains("alice"),
                "plain values stay visible: {shown}"
            );
        }
        let secret = Secret::new("xyzzy-secret");
        assert_eq!(format!("{secret} {secret:?}"), "[redacted] [redacted]");
        assert_eq!(secret.expose(), "xyzzy-secret");
        // librdkafka still gets the value.
        assert_eq!(
            s.producer_config().get("sasl.password"),
            Some("Hunter2Secret")
        );
        assert_eq!(
            s.producer_config().get("allow.auto.create.topics"),
            Some("false")
        );
        assert_eq!(
            s.consumer_config(None).get("allow.auto.create.topics"),
            Some("false")
        );
    }

    #[test]
    fn missing_brokers_and_bad_x_are_usage_errors() {
        let t = Duration::from_secs(1);
        let e = KafkaSettings::new(None, None, &[], t).unwrap_err();
        assert_eq!(crate::failure::exit_of(&e), Exit::Usage);
        let e = KafkaSettings::new(Some("a:1"), None, &["sasl.password".into()], t).unwrap_err();
        assert_eq!(crate::failure::exit_of(&e), Exit::Usage);
        assert!(!format!("{e}").is_empty());
        assert!(
            is_secret("ssl.key.password")
                && is_secret("sasl.password")
                && !is_secret("sasl.username")
        );
    }
}
