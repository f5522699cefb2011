//! The one translation of our Kafka settings into librdkafka configuration,
//! shared by the producer and the consumer: role defaults, then the
//! `--kafka-config` file (Java-style `client.properties`), then `--brokers`,
//! then `-X key=value`. Also the client context that collects librdkafka's
//! errors and delivery failures, and the redaction that keeps secrets out of
//! every log line and message. No client made here lets a broker
//! auto-create a topic; [`crate::topics`] checks that topics exist.

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use rdkafka::client::{Client, ClientContext};
use rdkafka::config::RDKafkaLogLevel;
use rdkafka::consumer::{BaseConsumer, Consumer, ConsumerContext};
use rdkafka::error::{KafkaError, KafkaResult, RDKafkaErrorCode};
use rdkafka::message::DeliveryResult;
use rdkafka::producer::{BaseProducer, Producer, ProducerContext};
use rdkafka::{ClientConfig, Message};

use crate::exit::{fail, fail_with, Exit};
use crate::redact::{self, is_secret, Secret};

/// Java client keys that mean nothing to librdkafka; skipped with a warning.
const JAVA_ONLY: &[&str] = &[
    "key.serializer",
    "value.serializer",
    "key.deserializer",
    "value.deserializer",
    "client.dns.lookup",
    "schema.registry.url",
    "basic.auth.credentials.source",
    "basic.auth.user.info",
    "schema.registry.basic.auth.user.info",
];

const AUTO_CREATE: &str = "allow.auto.create.topics";

/// Resolved Kafka settings: user properties in precedence order applied;
/// secret values (see [`is_secret`]) are held apart, as [`Secret`]s.
#[derive(Debug, Clone, PartialEq)]
pub struct KafkaSettings {
    user: BTreeMap<String, String>,
    secrets: BTreeMap<String, Secret>,
    /// How long to wait for the brokers (metadata, acknowledgements).
    pub timeout: Duration,
}

impl KafkaSettings {
    /// Layers `file`, then `brokers`, then the `-X key=value` overrides.
    pub fn new(
        brokers: Option<&str>,
        file: Option<&Path>,
        overrides: &[String],
        timeout: Duration,
    ) -> Result<Self> {
        let mut user = BTreeMap::new();
        if let Some(path) = file {
            let text = crate::files::read_config(path, "--kafka-config")?;
            let props = parse_properties(&text).map_err(|e| {
                let message = format!("--kafka-config {}: {e}", path.display());
                fail_with(Exit::Usage, message, e)
            })?;
            for (k, v) in props {
                user.insert(k, v);
            }
        }
        if let Some(b) = brokers.filter(|b| !b.trim().is_empty()) {
            user.insert("bootstrap.servers".to_string(), b.trim().to_string());
        }
        for item in overrides {
            let (k, v) = item
                .split_once('=')
                .filter(|(k, _)| !k.trim().is_empty())
                .ok_or_else(|| {
                    fail(
                        Exit::Usage,
                        format!("-X takes key=value, got '{}'", redact::pair(item)),
                    )
                })?;
            for (k, v) in translate(k.trim(), v.trim()) {
                user.insert(k, v);
            }
        }
        if !user.contains_key("bootstrap.servers") {
            return Err(fail(
                Exit::Usage,
                "no Kafka brokers: give --brokers / KAFKA_BROKERS, bootstrap.servers in --kafka-config / KAFKA_CONFIG_FILE, or use --dry-run",
            ));
        }
        if timeout.is_zero() {
            return Err(fail(Exit::Usage, "--kafka-timeout must be more than 0"));
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
        })
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
            ("linger.ms", "1".into()),
            // librdkafka buffers up to 1 GiB by default; a backfill produces faster
            // than a broker takes it, and memory must stay flat.
            ("queue.buffering.max.kbytes", "16384".into()),
            ("message.timeout.ms", self.timeout.as_millis().to_string()),
        ])
    }

    /// Consumer: offsets committed only when asked, short fetch waits.
    pub fn consumer_config(&self, group: Option<&str>) -> ClientConfig {
        let mut defaults = vec![
            ("enable.auto.commit", "false".to_string()),
            ("enable.auto.offset.store", "false".to_string()),
            ("fetch.wait.max.ms", "10".to_string()),
            ("enable.partition.eof", "false".to_string()),
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
    pub fn creation_error(&self, err: KafkaError) -> anyhow::Error {
        let message = format!(
            "invalid Kafka configuration: {}",
            redact::text(&err.to_string())
        );
        fail_with(Exit::Usage, message, err)
    }

    /// The error for brokers that did not answer in time.
    pub fn unreachable(&self, what: &str, err: &KafkaError, context: &Context) -> anyhow::Error {
        if is_denied(err) {
            // Not a timeout either: the brokers answered that this principal may not.
            let message = format!(
                "cannot {what} on Kafka brokers {}: {err}: this principal is not authorized; {ACL_HINT}",
                self.brokers()
            );
            return fail_with(Exit::Kafka, redact::text(&message), err.clone());
        }
        if is_missing(err) {
            // Not a timeout: the brokers answered that it does not exist.
            let message = format!(
                "cannot {what} on Kafka brokers {}: {err}: the topic or the partition does not exist; {}",
                self.brokers(),
                CREATE_HINT
            );
            return fail_with(Exit::Kafka, redact::text(&message), err.clone());
        }
        let detail = context
            .last_error()
            .map(|e| format!(" ({e})"))
            .unwrap_or_default();
        let message = redact::text(&format!(
            "cannot {what} on Kafka brokers {} within {}s: {err}{detail}",
            self.brokers(),
            self.timeout.as_secs_f64()
        ));
        fail_with(Exit::Kafka, message, err.clone())
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
        let deadline = Instant::now() + self.timeout;
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
        let hint = match code {
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
        };
        let message = format!(
            "cannot {what} on Kafka brokers {}: {hint} ({code}: {reason})",
            self.brokers()
        );
        fail(Exit::Kafka, redact::text(&message))
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
        // Error events come back as errors here (the context has them), log
        // lines as nothing: one event per poll.
        for _ in 0..SERVED {
            let _ = self.poll(Duration::ZERO);
        }
    }
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
    )
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
                | Code::NotLeaderForPartition
                | Code::LeaderNotAvailable
                | Code::RequestTimedOut
                | Code::OperationTimedOut
                | Code::NetworkException
                | Code::NotEnoughReplicas
                | Code::FencedLeaderEpoch
                | Code::UnknownLeaderEpoch
                | Code::OffsetNotAvailable
                | Code::PreferredLeaderNotAvailable
                | Code::NotCoordinator
                | Code::CoordinatorNotAvailable
        )
    )
}

/// Whether the brokers said that a topic or partition does not exist.
pub fn is_missing(err: &KafkaError) -> bool {
    use rdkafka::error::RDKafkaErrorCode as Code;
    matches!(
        err.rdkafka_error_code(),
        Some(Code::UnknownPartition | Code::UnknownTopic | Code::UnknownTopicOrPartition)
    )
}

/// Maps a Java client property to librdkafka's: `sasl.jaas.config` becomes
/// `sasl.username`/`sasl.password`, `sasl.mechanism` is `sasl.mechanisms`,
/// Java-only keys are dropped.
fn translate(key: &str, value: &str) -> Vec<(String, String)> {
    if JAVA_ONLY.contains(&key) {
        log::warn!("Kafka property {key} is for Java clients; ignored");
        return Vec::new();
    }
    match key {
        "sasl.jaas.config" => {
            let field = |name: &str| {
                let start = value.find(&format!("{name}="))? + name.len() + 1;
                let rest = &value[start..];
                let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
                let end = rest[1..].find(quote)? + 1;
                Some(rest[1..end].to_string())
            };
            let mut out = Vec::new();
            if let Some(u) = field("username") {
                out.push(("sasl.username".to_string(), u));
            }
            if let Some(p) = field("password") {
                out.push(("sasl.password".to_string(), p));
            }
            if out.is_empty() {
                log::warn!("sasl.jaas.config has no username/password; ignored");
            }
            out
        }
        "sasl.mechanism" => vec![("sasl.mechanisms".to_string(), value.to_string())],
        _ => vec![(key.to_string(), value.to_string())],
    }
}

/// Reads Java `.properties` text: `key=value`, `key: value` or `key value`,
/// `#`/`!` comments, `\` line continuations.
pub fn parse_properties(text: &str) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut pending = String::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim_start();
        if pending.is_empty() && (line.is_empty() || line.starts_with('#') || line.starts_with('!'))
        {
            continue;
        }
        if let Some(cont) = line.strip_suffix('\\') {
            pending.push_str(cont);
            continue;
        }
        pending.push_str(line);
        let entry = std::mem::take(&mut pending);
        let (key, value) =
            split_entry(&entry).with_context(|| format!("line {}: expected key=value", n + 1))?;
        out.extend(translate(key, value));
    }
    // A continuation on the last line ends the entry, as in Java.
    if !pending.is_empty() {
        let (key, value) = split_entry(&pending).context("last line: expected key=value")?;
        out.extend(translate(key, value));
    }
    Ok(out)
}

/// `key=value`, `key: value` or `key value` (any Unicode space: the cut is
/// made after the separator's own bytes, which may be more than one).
fn split_entry(entry: &str) -> Option<(&str, &str)> {
    let (cut, sep) = entry
        .char_indices()
        .find(|(_, c)| *c == '=' || *c == ':')
        .or_else(|| entry.char_indices().find(|(_, c)| c.is_whitespace()))?;
    Some((entry[..cut].trim(), entry[cut + sep.len_utf8()..].trim()))
}

/// librdkafka callbacks: errors are kept (the last one explains a failure),
/// delivery failures counted, log lines redacted and sent to our log at debug.
#[derive(Default)]
pub struct Context {
    last_error: Mutex<Option<String>>,
    /// The first authentication or TLS failure librdkafka reported: definite,
    /// retrying with the same settings cannot help.
    refusal: Mutex<Option<(RDKafkaErrorCode, String)>>,
    failures: Mutex<(u64, Option<String>)>,
    /// The first failed delivery's topic and error code.
    failure_code: Mutex<Option<(String, Option<RDKafkaErrorCode>)>>,
}

impl Context {
    pub fn last_error(&self) -> Option<String> {
        self.last_error.lock().unwrap().clone()
    }

    /// The first authentication (SASL) or TLS failure librdkafka reported,
    /// with its reason (redacted).
    pub fn refusal(&self) -> Option<(RDKafkaErrorCode, String)> {
        self.refusal.lock().unwrap().clone()
    }

    /// The first failed delivery's topic and error code.
    pub fn failure_code(&self) -> Option<(String, Option<RDKafkaErrorCode>)> {
        self.failure_code.lock().unwrap().clone()
    }

    /// (failed deliveries, the first failure's description)
    pub fn failures(&self) -> (u64, Option<String>) {
        self.failures.lock().unwrap().clone()
    }
}

impl ClientContext for Context {
    fn log(&self, level: RDKafkaLogLevel, fac: &str, message: &str) {
        let message = redact::text(message);
        if (level as i32) <= (RDKafkaLogLevel::Error as i32) {
            // Connection and TLS failures are told here first ("Connect to ... failed",
            // "SSL handshake failed: certificate verify failed"): keep the latest.
            log::debug!("librdkafka {fac}: {message}");
            *self.last_error.lock().unwrap() = Some(message);
        } else if (level as i32) <= (RDKafkaLogLevel::Warning as i32) {
            log::debug!("librdkafka {fac}: {message}");
        } else {
            log::trace!("librdkafka {fac}: {message}");
        }
    }

    fn error(&self, error: KafkaError, reason: &str) {
        let text = redact::text(&format!("{error}: {reason}"));
        log::debug!("librdkafka error: {text}");
        let code = error.rdkafka_error_code();
        if let Some(code @ (RDKafkaErrorCode::Authentication | RDKafkaErrorCode::SSL)) = code {
            self.refusal
                .lock()
                .unwrap()
                .get_or_insert((code, redact::text(reason)));
        }
        let mut last = self.last_error.lock().unwrap();
        // "All broker connections are down" follows the failure that says why: keep that.
        if code != Some(RDKafkaErrorCode::AllBrokersDown) || last.is_none() {
            *last = Some(text);
        }
    }
}

impl ProducerContext for Context {
    type DeliveryOpaque = ();

    fn delivery(&self, result: &DeliveryResult<'_>, _: ()) {
        if let Err((err, message)) = result {
            let key = message
                .key()
                .map(String::from_utf8_lossy)
                .unwrap_or_default();
            let mut f = self.failures.lock().unwrap();
            f.0 += 1;
            if f.1.is_none() {
                *self.failure_code.lock().unwrap() =
                    Some((message.topic().to_string(), err.rdkafka_error_code()));
                f.1 = Some(redact::text(&format!(
                    "{} key {key}: {err}",
                    message.topic()
                )));
            }
        }
    }
}

impl ConsumerContext for Context {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_file_forms() {
        let text = "# comment\n! also\nbootstrap.servers=a:9092\nsecurity.protocol : SASL_SSL\n\
                    sasl.mechanism=PLAIN\nclient.dns.lookup=use_all_dns_ips\n\
                    sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \\\n  \
                    username='KEY' password='S3cr=t';\nsession.timeout.ms 45000\n";
        let props = parse_properties(text).unwrap();
        assert_eq!(
            props,
            vec![
                ("bootstrap.servers".to_string(), "a:9092".to_string()),
                ("security.protocol".to_string(), "SASL_SSL".to_string()),
                ("sasl.mechanisms".to_string(), "PLAIN".to_string()),
                ("sasl.username".to_string(), "KEY".to_string()),
                ("sasl.password".to_string(), "S3cr=t".to_string()),
                ("session.timeout.ms".to_string(), "45000".to_string()),
            ]
        );
    }

    /// Found by the properties fuzzer: a separator of two bytes (U+0085, a
    /// Unicode space) made the value's slice start inside it, a panic.
    #[test]
    fn multibyte_separators_and_a_last_continuation() {
        let props = parse_properties("acks\u{85}all\nlinger.ms\u{3000}5\n").unwrap();
        assert_eq!(
            props,
            vec![
                ("acks".to_string(), "all".to_string()),
                ("linger.ms".to_string(), "5".to_string())
            ]
        );
        let props = parse_properties("a=1\nb=2\\").unwrap();
        assert_eq!(props.last(), Some(&("b".to_string(), "2".to_string())));
    }

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
            redact::text("bad password hunter2"),
            "bad password [redacted]"
        );
    }

    /// What the cursor read reported for a missing topic: "cannot read the
    /// offsets ... within 30s: Meta data fetch error: UnknownPartition".
    #[test]
    fn a_missing_topic_is_not_called_a_timeout() {
        use rdkafka::error::RDKafkaErrorCode;
        let s = KafkaSettings::new(Some("b:1"), None, &[], Duration::from_secs(30)).unwrap();
        let err = KafkaError::MetadataFetch(RDKafkaErrorCode::UnknownPartition);
        let e = s.unreachable("read the offsets of t", &err, &Context::default());
        let text = e.to_string();
        assert_eq!(crate::exit::exit_of(&e), Exit::Kafka);
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

    /// What librdkafka's error events leave in the context: an authentication
    /// or TLS failure is a refusal (the first one kept, its reason redacted);
    /// "all brokers down" does not hide the failure that explains it.
    #[test]
    fn refusals_are_kept_and_explained() {
        use rdkafka::error::RDKafkaErrorCode as Code;
        let s = KafkaSettings::new(
            Some("b:1"),
            None,
            &["sasl.password=Hunter2Secret".into()],
            Duration::from_secs(30),
        )
        .unwrap();
        let context = Context::default();
        context.error(
            KafkaError::Global(Code::BrokerTransportFailure),
            "ssl://b:1/bootstrap: alert bad certificate",
        );
        context.error(
            KafkaError::Global(Code::AllBrokersDown),
            "1/1 brokers are down",
        );
        assert!(
            context.refusal().is_none(),
            "a transport failure is not definite"
        );
        assert!(
            context.last_error().unwrap().contains("bad certificate"),
            "{:?}",
            context.last_error()
        );
        context.error(
            KafkaError::Global(Code::Authentication),
            "SASL authentication error: bad password Hunter2Secret",
        );
        context.error(KafkaError::Global(Code::SSL), "handshake failed");
        let refusal = context.refusal().unwrap();
        assert_eq!(refusal.0, Code::Authentication, "the first refusal is kept");
        assert!(!refusal.1.contains("Hunter2Secret"), "{}", refusal.1);
        let e = s.refused("fetch metadata", refusal);
        assert_eq!(crate::exit::exit_of(&e), Exit::Kafka);
        let text = e.to_string();
        assert!(text.contains("refused the credentials") && text.contains("sasl.password"));
        assert!(
            !text.contains("Hunter2Secret") && !text.contains("within"),
            "{text}"
        );
        let tls = s.refused("x", (Code::SSL, "certificate verify failed".into()));
        assert!(tls.to_string().contains("ssl.ca.location"), "{tls}");
    }

    /// A missing ACL is neither a timeout nor a missing topic.
    #[test]
    fn a_missing_acl_is_said_plainly() {
        use rdkafka::error::RDKafkaErrorCode as Code;
        let s = KafkaSettings::new(Some("b:1"), None, &[], Duration::from_secs(30)).unwrap();
        let err = KafkaError::MessageConsumption(Code::TopicAuthorizationFailed);
        let e = s.unreachable("read t", &err, &Context::default());
        let text = e.to_string();
        assert_eq!(crate::exit::exit_of(&e), Exit::Kafka);
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
        assert_eq!(crate::exit::exit_of(&e), Exit::Usage);
        let e = KafkaSettings::new(Some("a:1"), None, &["sasl.password".into()], t).unwrap_err();
        assert_eq!(crate::exit::exit_of(&e), Exit::Usage);
        assert!(!format!("{e}").is_empty());
        assert!(
            is_secret("ssl.key.password")
                && is_secret("sasl.password")
                && !is_secret("sasl.username")
        );
    }
}
