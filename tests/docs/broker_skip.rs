//! The broker suite's rule for a missing broker: its tests are built only
//! with `--features broker-tests` (plain `cargo test` leaves them out, so
//! nothing untested is counted as passed), and a built one fails without
//! `EDS_TEST_BROKER`, in CI or not. Checked by running this test binary again
//! on its probe test, with the environment of each case.

use crate::support;

use std::process::Command;

/// Asks for the test broker; does nothing unless run as the probe.
#[test]
fn probe() {
    if std::env::var_os("EDS_BROKER_SKIP_PROBE").is_some() {
        let broker = support::broker::test_broker();
        println!("probe got {broker:?}");
    }
}

/// Runs the probe with `env`: (passed, stdout and stderr).
fn run_probe(env: &[(&str, &str)]) -> (bool, String) {
    // The probe's test name: its path in this binary (`broker_skip::probe`).
    let probe = format!("{}::probe", module_path!().split_once("::").unwrap().1);
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", &probe, "--nocapture", "--test-threads", "1"])
        .env_remove("EDS_TEST_BROKER")
        .env_remove("CI")
        .env("EDS_BROKER_SKIP_PROBE", "1")
        .envs(env.iter().copied());
    let out = cmd.output().unwrap();
    let text =
        String::from_utf8_lossy(&out.stdout).to_string() + &String::from_utf8_lossy(&out.stderr);
    (out.status.success(), text)
}

#[test]
fn a_missing_broker_fails_a_broker_test() {
    for env in [&[][..], &[("CI", "true")]] {
        let (passed, text) = run_probe(env);
        assert!(!passed, "without a broker the test fails ({env:?}): {text}");
        assert!(
            text.contains("set EDS_TEST_BROKER=host:port") && text.contains("scripts/test"),
            "the failure says what to do: {text}"
        );
    }
    let (passed, text) = run_probe(&[("EDS_TEST_BROKER", "127.0.0.1:9")]);
    assert!(passed, "{text}");
    assert!(text.contains("probe got Some(\"127.0.0.1:9\")"), "{text}");
}

/// The `.rs` files of the test binary at `path`: a file `tests/NAME.rs`, or
/// every file under a directory `tests/NAME/` (whose `main.rs` declares them).
fn sources(path: &std::path::Path) -> Vec<std::path::PathBuf> {
    if path.is_file() {
        return vec![path.to_path_buf()];
    }
    let mut files = Vec::new();
    for entry in std::fs::read_dir(path).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            files.extend(sources(&path));
        } else if path.extension().is_some_and(|e| e == "rs") {
            files.push(path);
        }
    }
    files
}

#[test]
fn the_broker_suite_is_built_only_with_its_feature() {
    let manifest =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    let script =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/test")).unwrap();
    let tests = std::path::Path::new(concat!(env!("CARGO_MANIFEST_DIR"), "/tests"));
    // Every test binary (tests/NAME.rs or tests/NAME/main.rs) with a file that
    // asks for the test broker, and those files.
    let mut suites: Vec<String> = Vec::new();
    let mut files: Vec<String> = Vec::new();
    for entry in std::fs::read_dir(tests).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_str().unwrap().to_string();
        let binary = match name.strip_suffix(".rs") {
            Some(stem) if path.is_file() => stem.to_string(),
            _ if path.join("main.rs").is_file() => name,
            _ => continue,
        };
        let broker: Vec<String> = sources(&path)
            .into_iter()
            .filter(|f| f.file_stem().unwrap() != "broker_skip")
            .filter(|f| {
                std::fs::read_to_string(f)
                    .unwrap()
                    .contains("test_broker()")
            })
            .map(|f| f.strip_prefix(tests).unwrap().display().to_string())
            .collect();
        if !broker.is_empty() {
            suites.push(binary);
            files.extend(broker);
        }
    }
    suites.sort();
    assert!(files.len() >= 6, "{files:?}");
    for suite in suites {
        let entry = format!("name = \"{suite}\"\nrequired-features = [\"broker-tests\"]");
        assert!(
            manifest.contains(&entry),
            "Cargo.toml gates {suite}: {files:?}"
        );
    }
    assert!(script.contains("cargo test --no-fail-fast --features broker-tests"));
    assert!(script.contains("cargo clippy --all-targets --features broker-tests"));
}
