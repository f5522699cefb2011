//! `--metrics-file`: written after every run, success or not, in a format
//! `promtool check metrics` accepts, keeping the last success across failures.

use crate::support;

use std::process::Command;

use support::stub::Fault;
use support::{eds, feed, outcome, spawn_piped, stub_at, temp_dir, utc, NOW};

fn gauge(text: &str, name: &str) -> Option<f64> {
    text.lines()
        .find(|l| l.starts_with(&format!("{name}{{dataset=\"PowerSystemRightNow\"}} ")))
        .map(|l| l.rsplit(' ').next().unwrap().parse().unwrap())
}

/// `promtool check metrics` must accept the text (Debian package `prometheus`; scripts/test installs it).
fn promtool_accepts(text: &str) {
    let child = spawn_piped(Command::new("promtool").args(["check", "metrics"]))
        .expect("promtool is needed (apt-get install prometheus; scripts/test does it)");
    let out = feed(child, text.as_bytes());
    let said = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        out.status.success() && said.trim().is_empty(),
        "promtool: {said}\n{text}"
    );
}

#[test]
fn metrics_after_success_and_failure() {
    let stub = stub_at(NOW);
    let dir = temp_dir();
    let path = dir.path().join("eds-metrics.prom");
    // A run that exits `expected`: the metrics file it wrote.
    let run = |expected: i32| {
        let mut cmd = eds();
        cmd.args(["publish", "--dry-run", "--api-url", &stub.url, "--now", NOW])
            .args(["--metrics-file", path.to_str().unwrap()]);
        let (code, _, err) = outcome(&mut cmd);
        assert_eq!(code, expected, "{err}");
        std::fs::read_to_string(&path).unwrap()
    };
    let ok = run(0);
    promtool_accepts(&ok);
    assert_eq!(gauge(&ok, "eds_kafka_exit_code"), Some(0.0));
    assert_eq!(
        gauge(&ok, "eds_kafka_data_lag_seconds"),
        Some(90.0),
        "12:00:30 minus 11:59"
    );
    assert_eq!(gauge(&ok, "eds_kafka_aggregates_published"), Some(1.0));
    assert_eq!(
        gauge(&ok, "eds_kafka_incomplete_windows_published"),
        Some(0.0)
    );
    let success = gauge(&ok, "eds_kafka_last_success_timestamp_seconds").unwrap();
    assert_eq!(
        gauge(&ok, "eds_kafka_last_run_timestamp_seconds"),
        Some(success)
    );
    assert!(gauge(&ok, "eds_kafka_run_duration_seconds").unwrap() > 0.0);

    // A minute missing from the window: the aggregate is counted as incomplete.
    stub.drop_minute(utc("2026-11-28T11:57:00Z"));
    let gap = run(0);
    assert_eq!(
        gauge(&gap, "eds_kafka_incomplete_windows_published"),
        Some(1.0)
    );
    let success = gauge(&gap, "eds_kafka_last_success_timestamp_seconds").unwrap();

    std::thread::sleep(std::time::Duration::from_millis(20));
    stub.fault(Fault::Status(503, "Service Unavailable"));
    let failed = run(75);
    promtool_accepts(&failed);
    assert_eq!(gauge(&failed, "eds_kafka_exit_code"), Some(75.0));
    assert_eq!(
        gauge(&failed, "eds_kafka_last_success_timestamp_seconds"),
        Some(success),
        "kept from the earlier file"
    );
    assert!(gauge(&failed, "eds_kafka_last_run_timestamp_seconds").unwrap() > success);
    assert_eq!(gauge(&failed, "eds_kafka_records_published"), Some(0.0));

    // A usage error is a run too.
    let (code, _, _) = outcome(eds().args([
        "publish",
        "--dry-run",
        "--window",
        "7s",
        "--metrics-file",
        path.to_str().unwrap(),
    ]));
    assert_eq!(code, 2);
    let usage = std::fs::read_to_string(&path).unwrap();
    assert_eq!(gauge(&usage, "eds_kafka_exit_code"), Some(2.0));
    let leftovers: Vec<_> = std::fs::read_dir(path.parent().unwrap())
        .unwrap()
        .filter_map(|e| e.ok())
        .filter(|e| {
            e.file_name()
                .to_string_lossy()
                .contains(&*path.file_name().unwrap().to_string_lossy())
                && e.path() != path
        })
        .collect();
    assert!(
        leftovers.is_empty(),
        "no temporary files left: {leftovers:?}"
    );
}
