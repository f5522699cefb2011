//! The broker suite's rule for a missing broker: without `EDS_TEST_BROKER` a
//! broker test is skipped with one line on stderr, unless `CI` is set, where it
//! fails. Checked by running this test binary again on its probe test, with
//! the environment of each case.

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
fn missing_broker_skips_outside_ci_and_fails_in_ci() {
    let (passed, text) = run_probe(&[]);
    assert!(passed, "{text}");
    let skipped: Vec<&str> = text.lines().filter(|l| l.starts_with("skipped ")).collect();
    assert_eq!(skipped.len(), 1, "one line says so: {text}");
    assert!(
        skipped[0].contains("probe") && skipped[0].contains("EDS_TEST_BROKER"),
        "{text}"
    );
    assert!(text.contains("probe got None"), "{text}");

    let (passed, text) = run_probe(&[("CI", "true")]);
    assert!(!passed, "in CI a missing broker fails: {text}");
    assert!(
        text.contains("CI is set but EDS_TEST_BROKER is not"),
        "{text}"
    );

    let (passed, text) = run_probe(&[("CI", "true"), ("EDS_TEST_BROKER", "127.0.0.1:9")]);
    assert!(passed, "{text}");
    assert!(text.contains("probe got Some(\"127.0.0.1:9\")"), "{text}");
}
