//! Security against Apache Kafka itself (issue #15, items 5 and 6): one
//! KRaft node with SASL_PLAINTEXT (PLAIN and SCRAM-SHA-512), SSL with client
//! certificates required (mTLS) and SASL_SSL listeners, and ACLs
//! (StandardAuthorizer). Certificates are made at test time with the openssl
//! CLI: a CA, a server certificate for IP 127.0.0.1, a client certificate,
//! and a second CA (with a client certificate of its own) that the broker
//! does not trust.
//!
//! With the right credentials, given as a Java-style `client.properties`
//! (`--kafka-config`) or as `-X` librdkafka properties, publish, consume and
//! backfill succeed, and the independent reader (plaintext listener, the
//! super user ANONYMOUS) finds what was published. A wrong password, an
//! untrusted certificate or a missing ACL ends the run with exit 4 within
//! `--kafka-timeout`, a message that says what is wrong, no secret in the
//! output (also with `-vv`), and nothing published. A principal that may not
//! read a topic holding data never takes it for an empty one.
//!
//! The tests share one cluster and its certificates, made once for the test
//! binary and stopped and removed when the test process exits.

use crate::support;

use std::path::PathBuf;
use std::process::Command;
use std::sync::Arc;
use std::time::{Duration, Instant};

use support::broker::{test_broker, Topics};
use support::kafka::{read_all, topic_exists, Cluster, Spec};
use support::stub::StubApi;
use support::{eds, outcome, stub_at, temp_dir, unique_topic, Shared, NOW};

const LATER: &str = "2026-11-28T12:10:30Z";
/// The stub's clock for the backfills (from 2026-11-10).
const BACKFILL_NOW: &str = "2026-11-20T00:00:30Z";
/// `--kafka-timeout` of the runs that must fail.
const TIMEOUT_S: u64 = 10;

const PLAIN: &str = "org.apache.kafka.common.security.plain.PlainLoginModule";
const SCRAM: &str = "org.apache.kafka.common.security.scram.ScramLoginModule";

/// PLAIN users (name, password); alice is also a SCRAM-SHA-512 user.
const USERS: [(&str, &str); 5] = [
    ("alice", "alice-secret"),
    ("nocreate", "nocreate-secret"),
    ("nowrite", "nowrite-secret"),
    ("noread", "noread-secret"),
    ("nobody", "nobody-secret"),
];
/// A wrong password: must never be shown.
const WRONG: &str = "wrong-pass-Xyzzy42";
/// The subject of the trusted client certificate: its principal.
const CLIENT_DN: &str = "CN=eds-client";

/// The test certificates (and private keys, and client.properties files), in
/// a temporary directory removed with them.
struct Pki {
    dir: tempfile::TempDir,
}

impl Pki {
    fn new() -> Pki {
        let pki = Pki { dir: temp_dir() };
        std::fs::write(
            pki.path("server.ext"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
             keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        std::fs::write(
            pki.path("client.ext"),
            "basicConstraints=CA:FALSE\nkeyUsage=digitalSignature,keyEncipherment\n\
             extendedKeyUsage=clientAuth\n",
        )
        .unwrap();
        for ca in ["ca", "rogue-ca"] {
            pki.openssl(&format!(
                "req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=eds-kafka-test-{ca} \
                 -keyout {ca}.key -out {ca}.pem"
            ));
        }
        // (name, subject, signing CA, extensions)
        for (name, subject, ca, ext) in [
            ("server", "/CN=127.0.0.1", "ca", "server.ext"),
            ("client", "/CN=eds-client", "ca", "client.ext"),
            ("rogue-client", "/CN=eds-client", "rogue-ca", "client.ext"),
        ] {
            // PKCS#8 keys (openssl 3's default), as Kafka's PEM key store wants.
            pki.openssl(&format!(
                "req -newkey rsa:2048 -nodes -subj {subject} -keyout {name}.key -out {name}.csr"
            ));
            pki.openssl(&format!(
                "x509 -req -days 2 -in {name}.csr -CA {ca}.pem -CAkey {ca}.key -CAcreateserial \
                 -extfile {ext} -out {name}.pem"
            ));
        }
        let key = std::fs::read_to_string(pki.path("server.key")).unwrap();
        assert!(key.contains("BEGIN PRIVATE KEY"), "a PKCS#8 key: {key:.40}");
        let cert = std::fs::read_to_string(pki.path("server.pem")).unwrap();
        std::fs::write(pki.path("server.keystore.pem"), key + &cert).unwrap();
        pki
    }

    fn openssl(&self, args: &str) {
        let out = Command::new("openssl")
            .args(args.split_whitespace())
            .current_dir(self.dir.path())
            .output()
            .expect("the openssl CLI must be on PATH");
        assert!(
            out.status.success(),
            "openssl {args}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    fn s(&self, name: &str) -> String {
        self.path(name).to_str().unwrap().to_string()
    }
}

struct Secured {
    cluster: Cluster,
    pki: Pki,
}

/// The shared cluster (the broker suite's rule first: see [`test_broker`]).
fn secured() -> Arc<Secured> {
    test_broker();
    static SECURED: Shared<Secured> = Shared::new();
    SECURED.get(start)
}

fn jaas_users() -> String {
    USERS
        .iter()
        .map(|(u, p)| format!("user_{u}=\"{p}\""))
        .collect::<Vec<_>>()
        .join(" ")
}

fn start() -> Secured {
    let pki = Pki::new();
    let users = jaas_users();
    let mut config = format!(
        "sasl.enabled.mechanisms=PLAIN,SCRAM-SHA-512\n\
         ssl.keystore.type=PEM\n\
         ssl.keystore.location={}\n\
         ssl.truststore.type=PEM\n\
         ssl.truststore.location={}\n\
         listener.name.ssl.ssl.client.auth=required\n\
         authorizer.class.name=org.apache.kafka.metadata.authorizer.StandardAuthorizer\n\
         super.users=User:ANONYMOUS\n",
        pki.s("server.keystore.pem"),
        pki.s("ca.pem"),
    );
    for listener in ["sasl_plaintext", "sasl_ssl"] {
        config.push_str(&format!(
            "listener.name.{listener}.plain.sasl.jaas.config={PLAIN} required {users};\n\
             listener.name.{listener}.scram-sha-512.sasl.jaas.config={SCRAM} required;\n"
        ));
    }
    let spec = Spec {
        nodes: 1,
        listeners: &["SASL_PLAINTEXT", "SSL", "SASL_SSL"],
        config: &config,
        scram: &["SCRAM-SHA-512=[name=alice,password=alice-secret]"],
    };
    // scripts/kafka's random cluster id starts with '-' once in 64 starts,
    // which kafka-storage takes for an option: a second start gets another.
    let cluster = std::panic::catch_unwind(|| Cluster::start(&spec))
        .unwrap_or_else(|_| Cluster::start(&spec));
    // Prefixed ACLs: topics named sec.*, consumer groups named eds*.
    let acl = |principals: &[&str], operations: &[&str], resource: [&str; 2]| {
        let mut args = vec!["--bootstrap-server", cluster.plaintext(), "--add"];
        for p in principals {
            args.extend(["--allow-principal", p]);
        }
        for o in operations {
            args.extend(["--operation", o]);
        }
        args.extend(["--resource-pattern-type", "prefixed"]);
        args.extend(resource);
        cluster.tool("org.apache.kafka.tools.AclCommand", &args);
    };
    let client = format!("User:{CLIENT_DN}");
    let topics = ["--topic", "sec."];
    acl(&["User:alice", &client], &["All"], topics);
    acl(&["User:nocreate"], &["Read", "Write", "Describe"], topics);
    acl(&["User:nowrite"], &["Read", "Describe", "Create"], topics);
    acl(&["User:noread"], &["Write", "Describe", "Create"], topics);
    let users = [
        "User:alice",
        &client,
        "User:nocreate",
        "User:nowrite",
        "User:noread",
    ];
    acl(&users, &["Read"], ["--group", "eds"]);
    // User:nobody has no ACL at all.
    Secured { cluster, pki }
}

fn password(user: &str) -> &'static str {
    USERS.iter().find(|(u, _)| *u == user).unwrap().1
}

/// How a run authenticates: its `--brokers` and its other flags.
struct Auth {
    brokers: String,
    args: Vec<String>,
    /// The password given, if any (must never be shown).
    secret: Option<String>,
}

impl Secured {
    fn listener(&self, name: &str) -> String {
        self.cluster.listener(name).to_string()
    }

    /// SASL/PLAIN or SCRAM on SASL_PLAINTEXT as `-X` librdkafka properties.
    fn sasl_x(&self, mechanism: &str, user: &str, password: &str) -> Auth {
        Auth {
            brokers: self.listener("SASL_PLAINTEXT"),
            args: [
                "-X=security.protocol=sasl_plaintext".to_string(),
                format!("-X=sasl.mechanisms={mechanism}"),
                format!("-X=sasl.username={user}"),
                format!("-X=sasl.password={password}"),
            ]
            .to_vec(),
            secret: Some(password.to_string()),
        }
    }

    /// SASL as a Java client.properties (as Confluent Cloud or MSK give it),
    /// on SASL_PLAINTEXT or, with the CA, SASL_SSL.
    fn sasl_file(&self, protocol: &str, mechanism: &str, user: &str, password: &str) -> Auth {
        let module = if mechanism == "PLAIN" { PLAIN } else { SCRAM };
        let mut text = format!(
            "# client.properties\nbootstrap.servers={}\nsecurity.protocol={protocol}\n\
             sasl.mechanism={mechanism}\n\
             sasl.jaas.config={module} required username=\"{user}\" password=\"{password}\";\n\
             client.dns.lookup=use_all_dns_ips\nacks=all\n",
            self.listener(protocol),
        );
        if protocol == "SASL_SSL" {
            text.push_str(&format!("ssl.ca.location={}\n", self.pki.s("ca.pem")));
        }
        let file = self.pki.path(&unique_topic("client.properties"));
        std::fs::write(&file, text).unwrap();
        Auth {
            brokers: self.listener(protocol),
            args: vec!["--kafka-config".into(), file.to_str().unwrap().into()],
            secret: Some(password.to_string()),
        }
    }

    /// mTLS on the SSL listener: trusting `ca`, presenting `client`'s certificate.
    fn tls(&self, ca: &str, client: &str) -> Auth {
        Auth {
            brokers: self.listener("SSL"),
            args: vec![
                "-X=security.protocol=ssl".into(),
                format!("-X=ssl.ca.location={}", self.pki.s(&format!("{ca}.pem"))),
                format!(
                    "-X=ssl.certificate.location={}",
                    self.pki.s(&format!("{client}.pem"))
                ),
                format!(
                    "-X=ssl.key.location={}",
                    self.pki.s(&format!("{client}.key"))
                ),
            ],
            secret: None,
        }
    }

    /// alice, SCRAM-SHA-512 over SASL_SSL, from a client.properties file.
    fn alice_over_sasl_ssl(&self) -> Auth {
        self.sasl_file("SASL_SSL", "SCRAM-SHA-512", "alice", "alice-secret")
    }

    /// `user` with their password over SASL/PLAIN (`-X`).
    fn user(&self, user: &str) -> Auth {
        self.sasl_x("PLAIN", user, password(user))
    }

    /// Whether `topic` exists (asked on the plaintext listener, as the super user).
    fn exists(&self, topic: &str) -> bool {
        topic_exists(self.cluster.plaintext(), topic, Duration::from_secs(30))
    }

    fn count(&self, topic: &str) -> usize {
        read_all(self.cluster.plaintext(), topic).len()
    }
}

/// A finished run: (code, stdout, stderr, how long it took).
struct Run {
    code: i32,
    out: String,
    err: String,
    took: Duration,
}

fn run(auth: &Auth, args: &[String]) -> Run {
    let started = Instant::now();
    let (code, out, err) = outcome(
        eds()
            .args(args)
            .args(["--brokers", &auth.brokers])
            .args(&auth.args),
    );
    let took = started.elapsed();
    if let Some(secret) = &auth.secret {
        assert!(
            !out.contains(secret.as_str()) && !err.contains(secret.as_str()),
            "the password is shown:\n{out}\n{err}"
        );
    }
    Run {
        code,
        out,
        err,
        took,
    }
}

fn strings(args: &[&str]) -> Vec<String> {
    args.iter().map(|s| s.to_string()).collect()
}

/// `backfill` of the stub from 2026-11-10T00:00:00Z to `to` into `topics`,
/// unpaced, plus `extra`.
fn backfill_args(stub: &StubApi, topics: &Topics, to: &str, extra: &[&str]) -> Vec<String> {
    let mut args = strings(&[
        "backfill",
        "--api-url",
        &stub.url,
        "--records-topic",
        &topics.records,
        "--aggregates-topic",
        &topics.aggregates,
        "--min-request-interval",
        "0s",
        "--from",
        "2026-11-10T00:00:00Z",
        "--to",
        to,
    ]);
    args.extend(strings(extra));
    args
}

/// `publish` at `now` to `topics` (created when missing) plus `extra`.
fn publish(auth: &Auth, stub: &StubApi, topics: &Topics, now: &str, extra: &[&str]) -> Run {
    stub.set_now(support::utc(now));
    let mut args = strings(&[
        "publish",
        "--api-url",
        &stub.url,
        "--now",
        now,
        "--create-topics",
        "--records-topic",
        &topics.records,
        "--aggregates-topic",
        &topics.aggregates,
    ]);
    args.extend(strings(extra));
    run(auth, &args)
}

/// [`publish`] with `-vv` and the `--kafka-timeout` of the runs that must fail.
fn publish_vv(auth: &Auth, stub: &StubApi, topics: &Topics, now: &str) -> Run {
    let timeout = format!("{TIMEOUT_S}s");
    publish(
        auth,
        stub,
        topics,
        now,
        &["-vv", "--kafka-timeout", &timeout],
    )
}

/// `consume` of `topic` plus `extra`, with the `--kafka-timeout` of the
/// runs that must fail.
fn consume_vv(auth: &Auth, topic: &str, extra: &[&str]) -> Run {
    let timeout = format!("{TIMEOUT_S}s");
    let args = [
        &["consume", "--topic", topic],
        extra,
        &["--kafka-timeout", &timeout],
    ]
    .concat();
    run(auth, &strings(&args))
}

/// What a backfill as alice over SASL_SSL needs: her authentication, the
/// stub at [`BACKFILL_NOW`], new topics named after `prefix`.
fn alice_backfilling(s: &Secured, prefix: &str) -> (Auth, StubApi, Topics) {
    (
        s.alice_over_sasl_ssl(),
        stub_at(BACKFILL_NOW),
        Topics::new(prefix),
    )
}

/// A failure the brokers state (a refused password or certificate, a
/// missing ACL): told well before `--kafka-timeout`.
const FAST: Duration = Duration::from_secs(TIMEOUT_S / 2);
/// A failure only a timeout tells: within it, plus the process's start.
const SLOW: Duration = Duration::from_secs(TIMEOUT_S + 5);

/// A run that must fail: exit 4 within `limit`, an error line that
/// contains each of `words`.
fn assert_refused(r: &Run, limit: Duration, words: &[&str]) {
    assert_eq!(r.code, 4, "exit code; stderr:\n{}", r.err);
    assert!(
        r.took < limit,
        "failed after {:?}, expected within {limit:?} (--kafka-timeout {TIMEOUT_S}s):\n{}",
        r.took,
        r.err
    );
    let error = r
        .err
        .lines()
        .rfind(|l| l.contains("[ERROR]"))
        .unwrap_or_else(|| panic!("no error line:\n{}", r.err));
    for w in words {
        assert!(error.contains(w), "the message does not say '{w}': {error}");
    }
    eprintln!("refused in {:?}: {error}", r.took);
}

/// Publish three times (the later runs read their cursor back through the same
/// authentication), consume, and check with the independent reader.
fn round_trip(s: &Secured, auth: &Auth, extra: &[&str]) {
    let stub = stub_at(NOW);
    let topics = Topics::new("sec.ok");
    let first = publish(auth, &stub, &topics, NOW, extra);
    assert_eq!(first.code, 0, "{}", first.err);
    let records = read_all(s.cluster.plaintext(), &topics.records);
    let aggregates = read_all(s.cluster.plaintext(), &topics.aggregates);
    assert!(!records.is_empty() && !aggregates.is_empty());
    // The cursor is read back: nothing again at the same time, one minute more later.
    let again = publish(auth, &stub, &topics, NOW, extra);
    assert_eq!(again.code, 0, "{}", again.err);
    assert_eq!(s.count(&topics.records), records.len(), "republished");
    let later = publish(auth, &stub, &topics, "2026-11-28T12:01:30Z", extra);
    assert_eq!(later.code, 0, "{}", later.err);
    assert_eq!(s.count(&topics.records), records.len() + 1);
    // consume through the secured listener sees what the reader sees.
    let consumed = run(
        auth,
        &strings(&[
            "consume",
            "--topic",
            &topics.aggregates,
            "--from-beginning",
            "--format",
            "json",
        ]),
    );
    assert_eq!(consumed.code, 0, "{}", consumed.err);
    let reader = read_all(s.cluster.plaintext(), &topics.aggregates);
    let lines: Vec<serde_json::Value> = consumed
        .out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    let values: Vec<serde_json::Value> = reader.into_iter().map(|r| r.value).collect();
    assert_eq!(lines, values);
}

#[test]
fn sasl_plain_from_a_java_client_properties_file() {
    let s = &secured();
    round_trip(
        s,
        &s.sasl_file("SASL_PLAINTEXT", "PLAIN", "alice", "alice-secret"),
        &["-vv"],
    );
}

#[test]
fn sasl_scram_sha_512_as_x_properties() {
    let s = &secured();
    round_trip(
        s,
        &s.sasl_x("SCRAM-SHA-512", "alice", "alice-secret"),
        &["-vv"],
    );
}

#[test]
fn sasl_ssl_scram_from_a_java_client_properties_file() {
    let s = &secured();
    round_trip(s, &s.alice_over_sasl_ssl(), &[]);
}

#[test]
fn mtls_with_a_client_certificate() {
    let s = &secured();
    round_trip(s, &s.tls("ca", "client"), &[]);
}

#[test]
fn backfill_over_sasl_ssl() {
    let s = &secured();
    let (auth, stub, topics) = alice_backfilling(s, "sec.bf");
    let args = backfill_args(
        &stub,
        &topics,
        "2026-11-10T03:00:00Z",
        &["--create-topics", "--chunk", "1h"],
    );
    let backfill = || run(&auth, &args);
    let first = backfill();
    assert_eq!(first.code, 0, "{}", first.err);
    let records = read_all(s.cluster.plaintext(), &topics.records);
    assert_eq!(records.len(), 180, "three hours of minutes");
    assert_eq!(s.count(&topics.aggregates), 180);
    // Resumed from the cursor read over SASL_SSL: nothing twice.
    let again = backfill();
    assert_eq!(again.code, 0, "{}", again.err);
    assert_eq!(s.count(&topics.records), 180);
}

/// Publish with `auth` to fresh topics: refused within `limit` with
/// `words`, and no topic created.
fn refused_publish(s: &Secured, auth: &Auth, limit: Duration, words: &[&str]) {
    let stub = stub_at(NOW);
    let topics = Topics::new("sec.no");
    let r = publish_vv(auth, &stub, &topics, NOW);
    assert_refused(&r, limit, words);
    for topic in [&topics.records, &topics.aggregates] {
        assert!(!s.exists(topic), "{topic} was created");
    }
}

/// Topics holding data, published by alice (full rights).
fn existing_topics(s: &Secured) -> (Topics, StubApi, usize, usize) {
    let stub = stub_at(NOW);
    let topics = Topics::new("sec.acl");
    let r = publish(&s.user("alice"), &stub, &topics, NOW, &[]);
    assert_eq!(r.code, 0, "{}", r.err);
    let (records, aggregates) = (s.count(&topics.records), s.count(&topics.aggregates));
    assert!(records > 0 && aggregates > 0);
    (topics, stub, records, aggregates)
}

/// Wrong credentials and untrusted certificates.
mod refused;

/// Missing ACLs.
mod acls;
