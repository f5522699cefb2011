//! `scripts/kafka`, the test broker's launcher: a started node answers, a
//! stopped cluster leaves no JVM behind, and the `--owner` watchdog stops a
//! cluster whose owner died (a test binary killed mid-run). Part of the
//! broker suite: runs where the other broker tests run.

use crate::support;

use std::process::Command;
use std::time::{Duration, Instant};

use support::broker::test_broker;
use support::kafka::{script, script_in, succeeded};

/// The pids of the JVMs started for `dir` (from its node folders).
fn jvms(dir: &std::path::Path) -> Vec<u32> {
    (0..=3)
        .filter_map(|n| std::fs::read_to_string(dir.join(format!("node-{n}/pid"))).ok())
        .filter_map(|p| p.trim().parse().ok())
        .filter(|pid: &u32| std::path::Path::new(&format!("/proc/{pid}")).exists())
        .collect()
}

fn wait_gone(dir: &std::path::Path, within: Duration) -> bool {
    let deadline = Instant::now() + within;
    while Instant::now() < deadline {
        if jvms(dir).is_empty() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    false
}

/// A temporary folder for a cluster: on drop (also after a panic) the
/// cluster in it is stopped, if it still runs, and the folder removed.
struct Folder(tempfile::TempDir);

impl Folder {
    /// A folder for a test of the broker suite (its rule first: see [`test_broker`]).
    fn new() -> Folder {
        test_broker();
        Folder(support::temp_dir())
    }

    fn path(&self) -> &std::path::Path {
        self.0.path()
    }
}

impl Drop for Folder {
    fn drop(&mut self) {
        let _ = script_in("stop", self.0.path()).status();
    }
}

fn start(dir: &std::path::Path, owner: u32) -> String {
    let out = script_in("start", dir)
        .args(["--owner", &owner.to_string()])
        .output()
        .unwrap();
    succeeded("scripts/kafka start", out)
}

#[test]
fn start_answers_and_stop_leaves_no_jvm() {
    let folder = Folder::new();
    let dir = folder.path();
    let printed = start(dir, std::process::id());
    let address = printed
        .strip_prefix("PLAINTEXT ")
        .map(str::trim)
        .unwrap_or_else(|| panic!("prints the bootstrap list: {printed}"));
    assert_eq!(jvms(dir).len(), 1, "one combined node");
    // It answers a real client: publish-free check through librdkafka metadata.
    use rdkafka::consumer::{BaseConsumer, Consumer};
    let consumer: BaseConsumer = rdkafka::ClientConfig::new()
        .set("bootstrap.servers", address)
        .create()
        .unwrap();
    let metadata = consumer
        .fetch_metadata(None, Duration::from_secs(10))
        .unwrap();
    assert_eq!(metadata.brokers().len(), 1);
    drop(consumer);
    // A second start in the same folder is refused, not a second cluster.
    let again = script_in("start", dir).output().unwrap();
    assert!(!again.status.success());
    let status = script_in("stop", dir).status().unwrap();
    assert!(status.success());
    assert!(jvms(dir).is_empty(), "stop waits for the JVM to end");
}

#[test]
fn the_watchdog_stops_a_cluster_whose_owner_died() {
    let folder = Folder::new();
    let dir = folder.path();
    let mut owner = Command::new("sleep").arg("600").spawn().unwrap();
    start(dir, owner.id());
    assert_eq!(jvms(dir).len(), 1);
    owner.kill().unwrap(); // SIGKILL: nothing of the owner runs any cleanup
    owner.wait().unwrap();
    assert!(
        wait_gone(dir, Duration::from_secs(30)),
        "the JVM outlived its owner"
    );
}

#[test]
fn usage_and_bad_options_are_refused() {
    let out = Command::new(script()).output().unwrap();
    assert_eq!(out.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&out.stderr).contains("scripts/kafka start DIR"));
    let out = Command::new(script())
        .args(["start", "/nonexistent-eds-kafka-dir", "--nodes", "2"])
        .output()
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("--nodes must be 1 or 3"));
}
