//! Shared by the integration tests: the stub API and helpers to run the binary.

#![allow(dead_code)]

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
