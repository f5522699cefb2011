//! Apache Kafka clusters of a test's own, started by `scripts/kafka` from
//! Maven Central's jars: one KRaft node, or three brokers with a controller.
//! A cluster lives in a temporary directory (its nodes' data, logs and the
//! JVMs' temporary files): on drop it is stopped and the directory removed;
//! `scripts/kafka`'s watchdog stops it when the test process ends otherwise
//! (a killed test binary). Also an
//! independent reader: a plain librdkafka consumer, written here and sharing
//! no code with the binary's `consume` or cursor read, that returns every
//! message of a partition with its key.

#![allow(dead_code)]

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::{ClientConfig, Message, Offset, TopicPartitionList};

/// `scripts/kafka` of this checkout.
pub fn script() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/kafka")
}

/// `scripts/kafka COMMAND DIR` whose JVMs keep their temporary files (the
/// native libraries they unpack) in `dir`, not in /tmp, and write no
/// hsperfdata file there: a killed broker leaves nothing behind.
pub fn script_in(command: &str, dir: &Path) -> Command {
    let mut cmd = Command::new(script());
    cmd.arg(command).arg(dir).env(
        "JAVA_TOOL_OPTIONS",
        format!("-Djava.io.tmpdir={} -XX:-UsePerfData", dir.display()),
    );
    cmd
}

/// Asserts that a `scripts/kafka` run succeeded; its stdout.
pub fn succeeded(what: &str, out: std::process::Output) -> String {
    assert!(
        out.status.success(),
        "{what}: {}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout).unwrap()
}

/// What to start: `scripts/kafka start` options.
#[derive(Default)]
pub struct Spec<'a> {
    /// 1 or 3 brokers.
    pub nodes: u8,
    /// Client listeners besides PLAINTEXT (SASL_PLAINTEXT, SSL, SASL_SSL).
    pub listeners: &'a [&'a str],
    /// server.properties lines for every node.
    pub config: &'a str,
    /// `--scram` specs.
    pub scram: &'a [&'a str],
}

pub struct Cluster {
    /// Removed after the cluster stopped (fields drop after `Drop::drop`).
    dir: tempfile::TempDir,
    /// Bootstrap list per listener name (PLAINTEXT, SSL, ...).
    bootstrap: HashMap<String, String>,
    pub nodes: u8,
}

impl Cluster {
    pub fn start(spec: &Spec) -> Cluster {
        let dir = super::temp_dir();
        let mut cmd = script_in("start", dir.path());
        cmd.args(["--nodes", &spec.nodes.max(1).to_string()])
            .args(["--owner", &std::process::id().to_string()]);
        if !spec.listeners.is_empty() {
            cmd.args(["--listeners", &spec.listeners.join(",")]);
        }
        if !spec.config.is_empty() {
            let file = dir.path().join("extra.properties");
            std::fs::write(&file, spec.config).unwrap();
            cmd.arg("--config").arg(file);
        }
        for s in spec.scram {
            cmd.args(["--scram", s]);
        }
        let out = cmd.output().expect("scripts/kafka runs");
        let bootstrap = succeeded("scripts/kafka start", out)
            .lines()
            .filter_map(|l| l.split_once(' '))
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect();
        Cluster {
            dir,
            bootstrap,
            nodes: spec.nodes.max(1),
        }
    }

    /// One combined broker+controller node, plaintext only.
    pub fn single() -> Cluster {
        Cluster::start(&Spec {
            nodes: 1,
            ..Spec::default()
        })
    }

    pub fn plaintext(&self) -> &str {
        self.listener("PLAINTEXT")
    }

    pub fn listener(&self, name: &str) -> &str {
        &self.bootstrap[name]
    }

    pub fn dir(&self) -> &Path {
        self.dir.path()
    }

    fn script(&self, args: &[&str]) {
        let out = script_in(args[0], self.dir())
            .args(&args[1..])
            .output()
            .unwrap();
        succeeded(&format!("scripts/kafka {args:?}"), out);
    }

    /// SIGKILL broker `node` (1-based).
    pub fn kill(&self, node: i32) {
        self.script(&["kill", &node.to_string()]);
    }

    /// Stops broker `node` cleanly.
    pub fn term(&self, node: i32) {
        self.script(&["term", &node.to_string()]);
    }

    /// Starts broker `node` again and waits until every running broker
    /// answers and lists the others.
    pub fn restart(&self, node: i32) {
        self.script(&["restart", &node.to_string()]);
    }

    /// Starts every stopped broker and waits for all.
    pub fn up(&self) {
        self.script(&["up"]);
    }

    /// Runs a Kafka tool class (e.g. `org.apache.kafka.tools.AclCommand`).
    pub fn tool(&self, class: &str, args: &[&str]) {
        let out = script_in("tool", self.dir())
            .arg(class)
            .args(args)
            .output()
            .unwrap();
        succeeded(&format!("{class} {args:?}"), out);
    }

    /// The node id leading partition 0 of `topic`, as the cluster says now.
    pub fn leader(&self, topic: &str) -> i32 {
        let consumer = plain_consumer(self.plaintext());
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if let Ok(m) = consumer.fetch_metadata(Some(topic), Duration::from_secs(5)) {
                if let Some(p) = m
                    .topics()
                    .first()
                    .and_then(|t| t.partitions().first())
                    .filter(|p| p.leader() >= 0)
                {
                    return p.leader();
                }
            }
            assert!(Instant::now() < deadline, "{topic} has no leader");
            std::thread::sleep(Duration::from_millis(100));
        }
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let _ = script_in("stop", self.dir()).status();
    }
}

fn plain_consumer(brokers: &str) -> BaseConsumer {
    ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("group.id", "eds-kafka-tests-reader")
        .set("enable.auto.commit", "false")
        .set("allow.auto.create.topics", "false")
        .create()
        .unwrap()
}

/// One message as the independent reader saw it.
#[derive(Debug, Clone)]
pub struct Read {
    pub key: String,
    pub value: serde_json::Value,
    /// Its `eds-revision` header (0 without one).
    pub revision: u32,
}

/// Every message of partition 0 of `topic`, in order, read with a plain
/// librdkafka consumer (plaintext `brokers`), up to the high watermark.
pub fn read_all(brokers: &str, topic: &str) -> Vec<Read> {
    let consumer = plain_consumer(brokers);
    // While a leader is being elected (the fault tests) the offsets may not
    // answer at once: ask again, for at most a minute.
    let deadline = Instant::now() + Duration::from_secs(60);
    let (low, high) = loop {
        match consumer.fetch_watermarks(topic, 0, Duration::from_secs(10)) {
            Ok(marks) => break marks,
            Err(e) if Instant::now() > deadline => panic!("watermarks of {topic}: {e}"),
            Err(_) => std::thread::sleep(Duration::from_millis(200)),
        }
    };
    let mut out = Vec::new();
    if high <= low {
        return out;
    }
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset(topic, 0, Offset::Offset(low))
        .unwrap();
    consumer.assign(&tpl).unwrap();
    let deadline = Instant::now() + Duration::from_secs(60);
    while (out.len() as i64) + low < high {
        assert!(Instant::now() < deadline, "reading {topic} timed out");
        let Some(message) = consumer.poll(Duration::from_millis(500)) else {
            continue;
        };
        // A broker that is down (the fault tests) is a passing error: the
        // consumer goes on with the partition's new leader.
        let Ok(message) = message else {
            continue;
        };
        let key = String::from_utf8(message.key().unwrap().to_vec()).unwrap();
        let value = serde_json::from_slice(message.payload().unwrap()).unwrap();
        let revision = header(&message, "eds-revision").map_or(0, |v| v.parse().unwrap());
        out.push(Read {
            key,
            value,
            revision,
        });
        if message.offset() + 1 >= high {
            break;
        }
    }
    out
}

/// A header's value as text.
fn header(message: &rdkafka::message::BorrowedMessage<'_>, name: &str) -> Option<String> {
    use rdkafka::message::Headers;
    let headers = message.headers()?;
    (headers.iter())
        .find(|h| h.key == name)
        .and_then(|h| h.value)
        .map(|v| String::from_utf8(v.to_vec()).unwrap())
}

/// The latest message of each key (a changelog), in key order.
pub fn latest(messages: &[Read]) -> std::collections::BTreeMap<String, Read> {
    let by_key = messages.iter().map(|m| (m.key.clone(), m.clone()));
    by_key.collect()
}

/// Asserts that no (key, value) was published twice.
pub fn once_per_value(topic: &str, messages: &[Read]) {
    let mut seen = std::collections::HashSet::new();
    for m in messages {
        let pair = (m.key.clone(), m.value.to_string());
        assert!(
            seen.insert(pair),
            "{topic}: key {} twice with one value",
            m.key
        );
    }
}

/// The string `field` of every message of `topic` (see [`read_all`]),
/// asserting that no key repeats.
pub fn read_field_once(brokers: &str, topic: &str, field: &str) -> Vec<String> {
    let messages = read_all(brokers, topic);
    unique_keys(topic, &messages);
    messages
        .iter()
        .map(|m| m.value[field].as_str().unwrap().to_string())
        .collect()
}

/// Whether `topic` exists, asked without allowing its creation.
pub fn topic_exists(brokers: &str, topic: &str, timeout: Duration) -> bool {
    let consumer: BaseConsumer = ClientConfig::new()
        .set("bootstrap.servers", brokers)
        .set("allow.auto.create.topics", "false")
        .create()
        .unwrap();
    let metadata = consumer.fetch_metadata(Some(topic), timeout).unwrap();
    metadata
        .topics()
        .iter()
        .any(|t| t.name() == topic && t.error().is_none() && !t.partitions().is_empty())
}

/// The keys of `messages`, asserting that none repeats.
pub fn unique_keys(topic: &str, messages: &[Read]) -> Vec<String> {
    let mut seen = std::collections::HashSet::new();
    for m in messages {
        assert!(seen.insert(m.key.clone()), "{topic}: key {} twice", m.key);
    }
    messages.iter().map(|m| m.key.clone()).collect()
}
