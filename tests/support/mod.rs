//! Shared by the integration tests: the stub API, helpers to run the binary,
//! and (`broker`) those of the broker suite.

#![allow(dead_code)]

pub mod args;
pub mod broker;
pub mod forge;
pub mod hostile;
pub mod kafka;
pub mod keyed;
pub mod keyed_runs;
pub mod mock;
pub mod schema;
pub mod stub;
pub mod stub_cli;

use assert_cmd::Command;
use chrono::{DateTime, Utc};

pub fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// `2026-11-28T12:00:30Z`, as `--now` takes it.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// A loopback port nothing listens on (bound once, then released).
pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
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
    args::Args::dry_run(&stub.url, now).extra(extra).run()
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
