//! TLS end to end: the real binary publishes to and consumes from a real
//! broker over TLS, with a CA and a server certificate for 127.0.0.1 made at
//! test time with the `openssl` CLI (in a temporary directory, removed after).
//! Checks: with `-X security.protocol=ssl -X ssl.ca.location=CA` publish exits
//! 0 and consume returns the aggregate (equal to `--dry-run`); the same
//! settings from a `--kafka-config` file work too; without the CA, with a name
//! the certificate does not cover, or in plaintext, publish exits 4 and the TLS
//! server saw the handshake fail for that reason.
//!
//! The broker is tansu 0.6.0 (as in the broker suite) behind a TLS terminator,
//! because tansu 0.6.0 cannot serve TLS itself: its CLI declares `--cert` and
//! `--key` in one clap group, so giving both is refused ("the argument '--cert
//! <CERT>' cannot be used with '--key <KEY>'"), and with one of them alone no
//! TLS config is built; its broker also never uses the `TlsAcceptor` it makes
//! (tansu-broker 0.6.0, broker.rs: `let _acceptor = ...`). The terminator is
//! Python's `ssl` module (OpenSSL), on every machine of this project: it
//! accepts TLS on the port tansu advertises and relays the bytes to tansu's
//! plaintext listener, as a TLS-terminating load balancer in front of Kafka
//! does.

mod support;

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use support::broker::{spawn_tansu, stub_at, test_broker, wait_for_listener, Topics};
use support::stub::StubApi;
use support::{dry_run, free_port, unique_topic};

const NOW: &str = "2026-11-28T12:00:30Z";

/// The TLS terminator: `python3 -c PROXY LISTEN_PORT TARGET_PORT CERT KEY`.
/// Prints "ready" once listening; each failed handshake is a line on stderr.
const PROXY: &str = r#"
import select, socket, ssl, sys, threading
listen_port, target_port, cert, key = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3], sys.argv[4]
ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
ctx.load_cert_chain(cert, key)
srv = socket.create_server(("127.0.0.1", listen_port))
print("ready", flush=True)

def relay(conn):
    try:
        tls = ctx.wrap_socket(conn, server_side=True)
    except (ssl.SSLError, OSError) as e:
        print("handshake failed:", e, file=sys.stderr, flush=True)
        conn.close()
        return
    up = socket.create_connection(("127.0.0.1", target_port))
    try:
        while True:
            ready = [tls] if tls.pending() else select.select([tls, up], [], [])[0]
            for s in ready:
                data = s.recv(65536)
                if not data:
                    return
                (up if s is tls else tls).sendall(data)
    except (ssl.SSLError, OSError):
        pass
    finally:
        up.close()
        tls.close()

while True:
    conn, _ = srv.accept()
    threading.Thread(target=relay, args=(conn,), daemon=True).start()
"#;

/// A CA and a server certificate for IP 127.0.0.1 signed by it, made with the
/// openssl CLI in a temporary directory that is removed on drop.
struct Pki {
    dir: PathBuf,
}

impl Pki {
    fn new() -> Pki {
        let dir = std::env::temp_dir().join(unique_topic("eds-tls"));
        std::fs::create_dir_all(&dir).unwrap();
        let pki = Pki { dir };
        std::fs::write(
            pki.path("server.ext"),
            "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n\
             keyUsage=digitalSignature,keyEncipherment\nextendedKeyUsage=serverAuth\n",
        )
        .unwrap();
        // Relative names: openssl runs in the directory.
        pki.openssl(
            "req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=eds-kafka-test-CA \
             -keyout ca.key -out ca.pem",
        );
        pki.openssl(
            "req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server.key -out server.csr",
        );
        pki.openssl(
            "x509 -req -days 2 -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
             -extfile server.ext -out server.pem",
        );
        pki
    }

    fn openssl(&self, args: &str) {
        let out = Command::new("openssl")
            .args(args.split_whitespace())
            .current_dir(&self.dir)
            .output()
            .expect("the openssl CLI must be on PATH");
        assert!(
            out.status.success(),
            "openssl {args}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
    }

    fn path(&self, name: &str) -> PathBuf {
        self.dir.join(name)
    }

    fn s(&self, name: &str) -> String {
        self.path(name).to_str().unwrap().to_string()
    }
}

impl Drop for Pki {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// tansu on a plaintext loopback port, advertising the TLS terminator's port;
/// the terminator in front of it. Both stopped on drop.
struct TlsBroker {
    /// host:port of the TLS listener, the one clients use.
    address: String,
    tansu: Child,
    proxy: Child,
    proxy_log: PathBuf,
}

impl TlsBroker {
    fn start(pki: &Pki) -> TlsBroker {
        let (plain, tls) = (free_port(), free_port());
        let address = format!("127.0.0.1:{tls}");
        let tansu = spawn_tansu(&format!("127.0.0.1:{plain}"), &address);
        let proxy_log = pki.path(&format!("proxy-{tls}.log"));
        let mut proxy = Command::new("python3")
            .args(["-c", PROXY, &tls.to_string(), &plain.to_string()])
            .args([pki.s("server.pem"), pki.s("server.key")])
            .stdout(Stdio::piped())
            .stderr(std::fs::File::create(&proxy_log).unwrap())
            .spawn()
            .expect("python3 must be on PATH");
        let mut line = String::new();
        BufReader::new(proxy.stdout.take().unwrap())
            .read_line(&mut line)
            .unwrap();
        let broker = TlsBroker {
            address,
            tansu,
            proxy,
            proxy_log,
        };
        assert_eq!(line, "ready\n", "the TLS terminator did not start");
        wait_for_listener(&format!("127.0.0.1:{plain}"));
        broker
    }

    /// The terminator's lines about failed handshakes so far.
    fn handshake_failures(&self) -> String {
        std::fs::read_to_string(&self.proxy_log).unwrap()
    }
}

impl Drop for TlsBroker {
    fn drop(&mut self) {
        for child in [&mut self.proxy, &mut self.tansu] {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn topics() -> Topics {
    Topics::new("tls")
}

fn stub() -> StubApi {
    stub_at(NOW)
}

fn publish(stub: &StubApi, brokers: &str, t: &Topics, kafka: &[&str]) -> (i32, String, String) {
    t.publish(stub, brokers, NOW, kafka)
}

fn consume(brokers: &str, topic: &str, extra: &[&str]) -> String {
    support::broker::consume(brokers, topic, extra)
}

#[test]
fn publish_and_consume_over_tls() {
    if test_broker().is_none() {
        return;
    }
    let pki = Pki::new();
    let broker = TlsBroker::start(&pki);
    let stub = stub();
    let t = topics();
    let ca = format!("ssl.ca.location={}", pki.s("ca.pem"));
    let tls = ["-X", "security.protocol=ssl", "-X", &ca];

    let (code, out, err) = publish(&stub, &broker.address, &t, &tls);
    assert_eq!((code, out.as_str()), (0, ""), "{err}");
    let (_, dry, _) = dry_run(&stub, NOW, &[]);
    assert_eq!(dry.lines().count(), 2, "{dry}");
    assert_eq!(consume(&broker.address, &t.aggregates, &tls), dry);

    // The same settings from a client.properties file (as in production),
    // Java style: a second run finds nothing new and publishes nothing.
    let file = pki.path("client.properties");
    std::fs::write(
        &file,
        format!(
            "security.protocol=SSL\nssl.ca.location={}\n",
            pki.s("ca.pem")
        ),
    )
    .unwrap();
    let config = ["--kafka-config", file.to_str().unwrap()];
    let (code, _, err) = publish(&stub, &broker.address, &t, &config);
    assert_eq!(code, 0, "{err}");
    let (_, dry_records, _) = dry_run(&stub, NOW, &["--records"]);
    let records = consume(
        &broker.address,
        &t.records,
        &[&config[..], &["--from-beginning"][..]].concat(),
    );
    assert_eq!(
        records.lines().count(),
        1 + 5,
        "header and five rows: {records}"
    );
    assert_eq!(records, dry_records);
    assert_eq!(consume(&broker.address, &t.aggregates, &config), dry);
    // A client may close a connection mid-handshake (librdkafka drops its
    // bootstrap connection once it knows the real broker; a run exits): an
    // EOF is not a TLS failure. Certificate and protocol errors are.
    let failures: Vec<String> = broker
        .handshake_failures()
        .lines()
        .filter(|l| !l.contains("UNEXPECTED_EOF_WHILE_READING"))
        .map(str::to_string)
        .collect();
    assert!(
        failures.is_empty(),
        "every handshake succeeded: {failures:?}"
    );
}

/// Publish with these Kafka settings fails with exit 4 within the timeout,
/// and the TLS server saw the handshake fail with `alert`.
fn refused(broker: &TlsBroker, brokers: &str, kafka: &[&str], alert: &str) {
    let stub = stub();
    let t = topics();
    let started = Instant::now();
    let (code, out, err) = publish(
        &stub,
        brokers,
        &t,
        &[kafka, &["--kafka-timeout", "3s"][..]].concat(),
    );
    assert_eq!((code, out.as_str()), (4, ""), "{err}");
    assert!(err.contains(brokers), "{err}");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert!(
        stub.requests().is_empty(),
        "no API request before Kafka is reachable"
    );
    let failures = broker.handshake_failures();
    assert!(failures.contains(alert), "expected {alert} in: {failures}");
}

#[test]
fn unverifiable_server_or_plaintext_exits_4() {
    if test_broker().is_none() {
        return;
    }
    let pki = Pki::new();
    let broker = TlsBroker::start(&pki);
    // No CA: the system's CAs do not know ours.
    refused(
        &broker,
        &broker.address,
        &["-X", "security.protocol=ssl"],
        "TLSV1_ALERT_UNKNOWN_CA",
    );
    // Our CA, but a name the certificate does not cover (it is for 127.0.0.1):
    // librdkafka verifies the broker's name by default.
    let port = broker.address.rsplit(':').next().unwrap();
    let ca = format!("ssl.ca.location={}", pki.s("ca.pem"));
    refused(
        &broker,
        &format!("localhost:{port}"),
        &["-X", "security.protocol=ssl", "-X", &ca],
        "SSLV3_ALERT_BAD_CERTIFICATE",
    );
    // Plaintext to a TLS listener.
    refused(&broker, &broker.address, &[], "WRONG_VERSION_NUMBER");
}
