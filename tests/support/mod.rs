//! Shared by every integration test binary (tests/*/main.rs): the stub API,
//! helpers to run the binary, temporary directories, values shared by a
//! binary's tests, and (`broker`, `kafka`, `mock`) those of the Kafka suites.

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

use std::sync::{Arc, Mutex, Once, PoisonError};

use assert_cmd::Command;
use chrono::{DateTime, TimeDelta, Utc};

/// The time of most runs (`--now`, the stub's clock): its window is
/// 11:55-12:00.
pub const NOW: &str = "2026-11-28T12:00:30Z";

pub fn utc(text: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(text)
        .unwrap()
        .with_timezone(&Utc)
}

/// `2026-11-28T12:00:30Z`, as `--now` takes it.
pub fn rfc3339(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%SZ").to_string()
}

/// Times from `from` to `to_inclusive`, `step` apart, as `--now` takes them.
pub fn times(from: DateTime<Utc>, to_inclusive: DateTime<Utc>, step: TimeDelta) -> Vec<String> {
    let mut out = Vec::new();
    let mut t = from;
    while t <= to_inclusive {
        out.push(rfc3339(t));
        t += step;
    }
    out
}

/// Every minute from `from` to `to_inclusive`.
pub fn minutes(from: DateTime<Utc>, to_inclusive: DateTime<Utc>) -> Vec<String> {
    times(from, to_inclusive, TimeDelta::minutes(1))
}

/// The words of `text`, for argument lists (no argument holds a space).
pub fn words(text: &str) -> Vec<&str> {
    text.split_whitespace().collect()
}

/// Asserts that `text` (a run's stderr) says each of `parts`.
pub fn assert_says(text: &str, parts: &[&str]) {
    for part in parts {
        assert!(text.contains(part), "{part} not in: {text}");
    }
}

/// The string `field` of each JSON line of `out` (`consume --format json`).
pub fn json_field(out: &str, field: &str) -> Vec<String> {
    out.lines()
        .map(|l| {
            serde_json::from_str::<serde_json::Value>(l).unwrap()[field]
                .as_str()
                .unwrap()
                .to_string()
        })
        .collect()
}

/// Spawns `cmd` with its stdin, stdout and stderr piped.
pub fn spawn_piped(cmd: &mut std::process::Command) -> std::io::Result<std::process::Child> {
    use std::process::Stdio;
    cmd.stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
}

/// Writes `input` to the stdin of `child` (spawned with piped stdin), then
/// waits for it: its output.
pub fn feed(mut child: std::process::Child, input: &[u8]) -> std::process::Output {
    use std::io::Write;
    child.stdin.take().unwrap().write_all(input).unwrap();
    child.wait_with_output().unwrap()
}

/// Everything `child` (spawned with piped stderr) writes to stderr, to its end.
pub fn read_stderr(child: &mut std::process::Child) -> String {
    use std::io::Read;
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    err
}

/// The stub API with its clock at `now`.
pub fn stub_at(now: &str) -> stub::StubApi {
    let stub = stub::StubApi::start();
    stub.set_now(utc(now));
    stub
}

/// A directory for one test's files (configuration files, keys, locks,
/// metrics files, charts), removed with everything in it when the guard is
/// dropped: at the end of the test, also when it panics. Keep the guard
/// alive (`let dir = temp_dir();`) as long as the files are used.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::Builder::new()
        .prefix("eds-kafka-test.")
        .tempdir()
        .unwrap()
}

/// A value made once for all the tests of a binary that ask for it (a
/// cluster of their own, its certificates): made by the first, kept while
/// the test process runs, and dropped when it exits, after the last test,
/// passed or failed, so that its clusters stop and its directories go.
pub struct Shared<T> {
    value: Mutex<Option<Arc<T>>>,
}

impl<T: Send + Sync + 'static> Shared<T> {
    pub const fn new() -> Shared<T> {
        Shared {
            value: Mutex::new(None),
        }
    }

    /// The value, made by `make` on the first call.
    pub fn get(&'static self, make: impl FnOnce() -> T) -> Arc<T> {
        let mut value = self.value.lock().unwrap_or_else(PoisonError::into_inner);
        if value.is_none() {
            *value = Some(Arc::new(make()));
            at_exit(Box::new(move || {
                let value = self
                    .value
                    .lock()
                    .unwrap_or_else(PoisonError::into_inner)
                    .take();
                drop(value);
            }));
        }
        Arc::clone(value.as_ref().unwrap())
    }
}

/// Runs `hook` when the test process exits (libtest returns from `main` or
/// calls `exit`; the hooks run from `atexit`).
fn at_exit(hook: Box<dyn FnOnce() + Send>) {
    type Hooks = Mutex<Vec<Box<dyn FnOnce() + Send>>>;
    static HOOKS: Hooks = Mutex::new(Vec::new());
    static REGISTERED: Once = Once::new();
    extern "C" fn run_hooks() {
        let hooks = std::mem::take(&mut *HOOKS.lock().unwrap_or_else(PoisonError::into_inner));
        for hook in hooks.into_iter().rev() {
            // A panic must not unwind into libc.
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(hook));
        }
    }
    REGISTERED.call_once(|| {
        // SAFETY: registers a function without arguments that never unwinds.
        let registered = unsafe { libc::atexit(run_hooks) };
        assert_eq!(registered, 0, "atexit");
    });
    HOOKS
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .push(hook);
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

/// `consume` of `topic` on `brokers` (add the other arguments).
pub fn consume_of(brokers: &str, topic: &str) -> Command {
    let mut cmd = eds();
    cmd.args(["consume", "--brokers", brokers, "--topic", topic]);
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

/// [`dry_run`] that must exit 0: its stdout.
pub fn dry_run_ok(stub: &stub::StubApi, now: &str, extra: &[&str]) -> String {
    let (code, out, err) = dry_run(stub, now, extra);
    assert_eq!(code, 0, "{err}");
    out
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
