//! Files that are not regular files, and closed stdout/stderr pipes.

use super::*;

/// A FIFO named `name` in `dir`.
fn fifo(dir: &tempfile::TempDir, name: &str) -> std::path::PathBuf {
    let path = dir.path().join(name);
    let ok = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "mkfifo {path:?}");
    path
}

#[test]
fn kafka_config_must_be_a_small_regular_file() {
    let dir = temp_dir();
    let fifo = fifo(&dir, "client.properties");
    let big = dir.path().join("big.properties");
    std::fs::write(&big, "# padding\n".repeat(200_000)).unwrap();
    for (name, path) in [
        ("FIFO", fifo.as_path()),
        ("directory", dir.path()),
        ("/dev/zero", std::path::Path::new("/dev/zero")),
        ("2 MB file", big.as_path()),
    ] {
        for command in [
            &["publish", "--brokers", "127.0.0.1:1"][..],
            &["consume", "--brokers", "127.0.0.1:1"][..],
        ] {
            let started = Instant::now();
            let (code, _, err) = outcome(
                eds()
                    .args(command)
                    .arg("--kafka-config")
                    .arg(path)
                    .timeout(Duration::from_secs(20)),
            );
            assert_eq!(code, 2, "{name}: {err}");
            assert!(err.contains("--kafka-config"), "{name}: {err}");
            assert!(started.elapsed() < Duration::from_secs(5), "{name}");
        }
    }
}

#[test]
fn a_fifo_named_by_a_librdkafka_location_property_is_refused() {
    let dir = temp_dir();
    let fifo = fifo(&dir, "ca.pem");
    let started = Instant::now();
    let (code, _, err) = outcome(
        eds()
            .args(["publish", "--brokers", "127.0.0.1:1", "-X"])
            .arg(format!("ssl.ca.location={}", fifo.display()))
            .timeout(Duration::from_secs(20)),
    );
    assert_eq!(code, 2, "{err}");
    assert_says(&err, &["ssl.ca.location", "FIFO"]);
    assert!(started.elapsed() < Duration::from_secs(5));
}

#[test]
fn lock_and_metrics_files_that_are_fifos_do_not_hang_the_run() {
    let stub = stub_at(NOW);
    let dir = temp_dir();
    // A dry run with `flag` naming a FIFO: (code, stderr).
    let run = |flag: &str, name: &str| {
        let (code, _, err) = outcome(
            eds()
                .args(["publish", "--dry-run", "--api-url", &stub.url, "--now", NOW])
                .arg(flag)
                .arg(fifo(&dir, name))
                .timeout(Duration::from_secs(20)),
        );
        (code, err)
    };
    let (code, err) = run("--lock-file", "lock");
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--lock-file"), "{err}");
    let (code, err) = run("--metrics-file", "metrics");
    assert_eq!(code, 0, "{err}");
}

// ---- a closed stdout -----------------------------------------------------

#[test]
fn a_closed_stdout_ends_dry_runs_with_exit_0() {
    let stub = stub_at(NOW);
    let url = stub.url.clone();
    let runs: [&[&str]; 3] = [
        &["publish", "--dry-run", "--api-url", &url, "--now", NOW],
        &[
            "publish",
            "--dry-run",
            "--records",
            "--api-url",
            &url,
            "--now",
            NOW,
        ],
        &[
            "backfill",
            "--dry-run",
            "--api-url",
            &url,
            "--fields",
            "CO2Emission",
            "--from",
            "2026-11-27",
            "--to",
            "2026-11-28T12:00:00Z",
            "--chunk",
            "6h",
            "--min-request-interval",
            "0s",
        ],
    ];
    for args in runs {
        let (code, err) = with_closed_stdout(args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(!err.contains("error"), "{args:?}: {err}");
    }
}

/// A run whose stderr is a pipe nobody reads any more (`2>&1 | head -c0`)
/// still ends with its exit code, not a panic from printing the error.
#[test]
fn a_closed_stderr_pipe_does_not_turn_an_error_into_a_panic() {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("eds-kafka"))
        .args([
            "-vv",
            "publish",
            "--dry-run",
            "--api-url",
            "http://127.0.0.1:1",
            "--now",
            NOW,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    assert_eq!(child.wait().unwrap().code(), Some(75));
}

/// A `--kafka-config` whose separator is a two-byte Unicode space (found by
/// the properties fuzzer) used to panic the reader.
#[test]
fn a_kafka_config_with_unicode_spaces_is_read_without_a_panic() {
    let dir = temp_dir();
    let path = dir.path().join("nel.properties");
    std::fs::write(&path, "acks\u{85}all\nlinger.ms\u{3000}5\n").unwrap();
    // An unknown -X property fails right after the file is read: exit 2.
    let (code, _, err) = outcome(
        eds()
            .args([
                "publish",
                "--brokers",
                "127.0.0.1:1",
                "-X",
                "no.such.property=1",
            ])
            .arg("--kafka-config")
            .arg(&path),
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("no.such.property") && !err.contains("panicked"),
        "{err}"
    );
}
