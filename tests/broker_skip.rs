//! The broker suite's rule for a missing broker: its tests are built only
//! with `--features broker-tests` (plain `cargo test` leaves them out, so
//! nothing untested is counted as passed), and a built one fails without
//! `EDS_TEST_BROKER`, in CI or not. Checked by running this test binary again
//! on its probe test, with the environment of each case.

mod support;

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
    let mut cmd = Command::new(std::env::current_exe().unwrap());
    cmd.args(["--exact", "probe", "--nocapture", "--test-threads", "1"])
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

#[test]
fn the_broker_suite_is_built_only_with_its_feature() {
    let manifest =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/Cargo.toml")).unwrap();
    let script =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/scripts/test")).unwrap();
    let dir = std::fs::read_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/tests")).unwrap();
    let mut suites: Vec<String> = dir
        .filter_map(|e| e.ok()?.file_name().into_string().ok())
        .filter_map(|n| n.strip_suffix(".rs").map(str::to_string))
        .filter(|n| {
            let text =
                std::fs::read_to_string(format!("{}/tests/{n}.rs", env!("CARGO_MANIFEST_DIR")))
                    .unwrap();
            n != "broker_skip" && text.contains("test_broker()")
        })
        .collect();
    suites.sort();
    assert!(suites.len() >= 6, "{suites:?}");
    for suite in suites {
        let entry = format!("name = \"{suite}\"\nrequired-features = [\"broker-tests\"]");
        assert!(manifest.contains(&entry), "Cargo.toml gates {suite}");
    }
    assert!(script.contains("cargo test --no-fail-fast --features broker-tests"));
    assert!(script.contains("cargo clippy --all-targets --features broker-tests"));
}
