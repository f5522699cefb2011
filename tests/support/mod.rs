//! Shared by the integration tests: the stub API and helpers to run the binary.

#![allow(dead_code)]

pub mod keyed;
pub mod keyed_runs;
pub mod schema;
pub mod stub;

use assert_cmd::Command;
use chrono::{DateTime, Utc};

pub fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// The binary with a clean environment (no EDS_* or KAFKA_* from the caller).
pub fn eds() -> Command {
    let mut cmd = Command::cargo_bin("eds-kafka").unwrap();
    for (k, _) in std::env::vars() {
        if k.starts_with("EDS_") || k.starts_with("KAFKA_") {
            cmd.env_remove(k);
        }
    }
    cmd.timeout(std::time::Duration::from_secs(120));
    cmd
}

/// Output of a finished command: (exit code, stdout, stderr).
pub fn outcome(cmd: &mut Command) -> (i32, String, String) {
    let out = cmd.output().unwrap();
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8(out.stdout).unwrap(),
        String::from_utf8(out.stderr).unwrap(),
    )
}

/// `publish --dry-run` against `stub` at `now`, plus `extra`: (code, stdout, stderr).
pub fn dry_run(stub: &stub::StubApi, now: &str, extra: &[&str]) -> (i32, String, String) {
    let mut cmd = eds();
    cmd.args(["publish", "--dry-run", "--api-url", &stub.url, "--now", now])
        .args(extra);
    outcome(&mut cmd)
}

/// The shared test broker (tansu) that scripts/test starts.
pub fn test_broker() -> String {
    std::env::var("EDS_TEST_BROKER").expect(
        "the broker suite needs a running tansu: run scripts/test, which starts one and sets EDS_TEST_BROKER=host:port",
    )
}

/// A topic name no other test (or earlier run against the same broker) uses.
pub fn unique_topic(prefix: &str) -> String {
    use std::sync::atomic::{AtomicU32, Ordering};
    static N: AtomicU32 = AtomicU32::new(0);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .subsec_nanos();
    format!(
        "{prefix}.{}.{nanos}.{}",
        std::process::id(),
        N.fetch_add(1, Ordering::SeqCst)
    )
}

/// A tansu broker of this test's own (stopped on drop), for tests that stop it.
pub struct OwnTansu {
    pub address: String,
    child: std::process::Child,
}

impl OwnTansu {
    pub fn start() -> OwnTansu {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let address = format!("127.0.0.1:{port}");
        let url = format!("tcp://{address}");
        let child = std::process::Command::new("tansu")
            .args([
                "broker",
                "--listener-url",
                &url,
                "--advertised-listener-url",
                &url,
            ])
            .args(["--storage-engine", "memory://tansu/"])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("tansu must be on PATH (scripts/test installs it)");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
        while std::net::TcpStream::connect(&address).is_err() {
            assert!(
                std::time::Instant::now() < deadline,
                "tansu did not start on {address}"
            );
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        OwnTansu { address, child }
    }

    pub fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for OwnTansu {
    fn drop(&mut self) {
        self.stop();
    }
}
