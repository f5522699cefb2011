//! `--value-format` and the schema registry's flags on the command line:
//! what is a usage error (exit 2, said plainly, before anything is asked of
//! Kafka or a registry), `--dry-run` with a registry's format (a note; the
//! registry is not contacted), and `schema --format avro`. The runs against
//! a registry are in tests/broker/registry/.

use std::time::{Duration, Instant};

use crate::support;

use serde_json::Value;
use support::args::Args;
use support::{assert_says, eds, free_port, outcome, stub_at, temp_dir, words, NOW};

/// A registry URL nobody listens on.
fn nobody() -> String {
    format!("http://127.0.0.1:{}", free_port())
}

/// Runs `args` (with a broker nobody listens on) and asserts a usage error
/// saying `says`, within seconds.
fn usage_error(args: &[&str], says: &[&str]) {
    let started = Instant::now();
    let (code, _, err) = outcome(eds().args(args).timeout(Duration::from_secs(20)));
    assert_eq!(code, 2, "{args:?}: {err}");
    assert_says(&err, says);
    assert!(started.elapsed() < Duration::from_secs(5), "{args:?}");
}

#[test]
fn a_registry_format_needs_a_registry_and_no_register_needs_one_of_them() {
    for command in ["publish", "backfill"] {
        let range = "--from 2026-11-28 --to 2026-11-29 --fields CO2Emission";
        let base = match command {
            "backfill" => format!("backfill --brokers 127.0.0.1:1 {range}"),
            _ => "publish --brokers 127.0.0.1:1".to_string(),
        };
        let with = |extra: &str| format!("{base} {extra}");
        let cases: [(&str, &[&str]); 5] = [
            (
                "--value-format avro",
                &[
                    "--value-format avro",
                    "--schema-registry / EDS_SCHEMA_REGISTRY",
                ],
            ),
            ("--value-format json-sr", &["--value-format json-sr"]),
            ("--no-register", &["--no-register", "avro or json-sr"]),
            ("--value-format protobuf", &["protobuf"]),
            (
                "--value-format avro --schema-registry ftp://registry",
                &["schema registry", "http:// or https://"],
            ),
        ];
        for (extra, says) in cases {
            usage_error(&words(&with(extra)), says);
        }
    }
}

#[test]
fn registry_credentials_need_a_registry_and_one_way() {
    let dir = temp_dir();
    let token = dir.path().join("token");
    std::fs::write(&token, "t0ken\n").unwrap();
    let token = token.to_str().unwrap();
    let flags = |command: &str, url: &str| {
        format!("{command} --brokers 127.0.0.1:1 --schema-registry {url} --schema-registry-token-file {token}")
    };
    usage_error(
        &words(&format!(
            "consume --brokers 127.0.0.1:1 --schema-registry-token-file {token}"
        )),
        &["go with --schema-registry"],
    );
    let with_user = format!("http://alice:pw@127.0.0.1:{}", free_port());
    usage_error(
        &words(&flags("status", &with_user)),
        &["one way to authenticate"],
    );
    let timeout = format!(
        "chart --brokers 127.0.0.1:1 --schema-registry {} --schema-registry-timeout 0s",
        nobody()
    );
    usage_error(&words(&timeout), &["--schema-registry-timeout"]);
}

/// `consume` with the registry at `url` and `flag FILE`: a usage error saying `says`.
fn file_refused(url: &str, flag: &str, file: &std::path::Path, says: &[&str]) {
    let file = file.to_str().unwrap();
    let args = [
        "consume",
        "--brokers",
        "127.0.0.1:1",
        "--schema-registry",
        url,
        flag,
        file,
    ];
    usage_error(&args, says);
}

#[test]
fn credential_files_must_be_small_regular_files() {
    let dir = temp_dir();
    let fifo = dir.path().join("user-info");
    assert!(std::process::Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let url = nobody();
    let (user_info, token) = (
        "--schema-registry-user-info-file",
        "--schema-registry-token-file",
    );
    for flag in [user_info, token] {
        file_refused(&url, flag, &fifo, &[flag, "FIFO"]);
    }
    let file = dir.path().join("file");
    std::fs::write(&file, "\n").unwrap();
    file_refused(&url, token, &file, &["one token on one line"]);
    std::fs::write(&file, "no-colon\n").unwrap();
    file_refused(&url, user_info, &file, &["USER:PASSWORD"]);
}

#[test]
fn a_dry_run_prints_csv_notes_the_format_and_asks_no_registry() {
    let stub = stub_at(NOW);
    let plain = support::dry_run_ok(&stub, NOW, &[]);
    let (code, out, err) = Args::dry_run(&stub.url, NOW)
        .flag("--value-format", "avro")
        .flag("--schema-registry", &nobody())
        .run();
    assert_eq!(code, 0, "{err}");
    assert_eq!(out, plain);
    assert_says(
        &err,
        &[
            "--dry-run prints CSV",
            "--value-format avro is not used",
            "not contacted",
        ],
    );
    // Still a usage error without the registry it would need.
    let (code, _, err) = Args::dry_run(&stub.url, NOW)
        .flag("--value-format", "avro")
        .run();
    assert_eq!(code, 2, "{err}");
}

#[test]
fn schema_prints_the_avro_schema_that_is_registered() {
    let (code, out, err) = outcome(eds().args(words("schema --kind records --format avro")));
    assert_eq!(code, 0, "{err}");
    let s: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(s["type"], "record");
    assert_eq!(s["name"], "PowerSystemRightNowRecord");
    assert_eq!(s["namespace"], "dk.energidataservice.eds_kafka");
    let time = &s["fields"][0];
    assert_eq!(time["name"], "Minutes1UTC");
    assert_eq!(time["type"]["logicalType"], "timestamp-millis");
    let (code, out, err) = outcome(eds().args(words(
        "schema --dataset Forecasts_5Min --kind aggregates --format avro",
    )));
    assert_eq!(code, 0, "{err}");
    let s: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(s["name"], "Forecasts_5MinAggregate");
    let names: Vec<&str> = (s["fields"].as_array().unwrap().iter())
        .map(|f| f["name"].as_str().unwrap())
        .collect();
    assert!(
        names.contains(&"PriceArea") && names.contains(&"ForecastType"),
        "{names:?}"
    );
    // The JSON Schema stays the default; a column that is no Avro name has no Avro schema.
    let (_, json, _) = outcome(eds().args(words("schema --kind records")));
    assert!(json.contains("json-schema.org"), "{json}");
    let (code, _, err) = outcome(eds().args([
        "schema",
        "--dataset",
        "Elspot",
        "--time-column",
        "Hour UTC",
        "--resolution",
        "1h",
        "--kind",
        "records",
        "--format",
        "avro",
    ]));
    assert_eq!(code, 2, "{err}");
    assert_says(&err, &["Hour UTC", "Avro name"]);
}
