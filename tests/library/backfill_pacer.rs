//! The backfill pacer, through its injected sleep: one request per chunk, at
//! least `--min-request-interval` apart, and the test does not wait for it.

use crate::support;

use std::time::{Duration, Instant};

use clap::Parser;
use eds_kafka::cli::{Cli, Command};
use eds_kafka::config::BackfillConfig;
use support::stub_at;

#[test]
fn chunks_are_paced_through_the_injected_sleep() {
    let stub = stub_at("2026-11-28T23:59:30Z");
    let cli = Cli::try_parse_from([
        "eds-kafka",
        "backfill",
        "--dry-run",
        "--api-url",
        &stub.url,
        "--fields",
        "CO2Emission",
        "--from",
        "2026-11-28T10:00:00Z",
        "--to",
        "2026-11-28T10:03:00Z",
        "--chunk",
        "1m",
        "--min-request-interval",
        "60s",
    ])
    .unwrap();
    let Command::Backfill(args) = cli.command else {
        panic!("not a backfill: {:?}", cli.command)
    };
    let config = BackfillConfig::from_args(&args, chrono::Utc::now()).unwrap();
    let mut slept: Vec<Duration> = Vec::new();
    let started = Instant::now();
    eds_kafka::cmd::backfill::run_with(&config, &mut |d| slept.push(d)).unwrap();
    assert_eq!(stub.requests().len(), 3, "one request per chunk");
    assert_eq!(slept.len(), 2, "none before the first request: {slept:?}");
    assert!(
        slept.iter().all(|d| *d > Duration::from_secs(59)),
        "each wait makes up the interval: {slept:?}"
    );
    assert!(
        started.elapsed() < Duration::from_secs(30),
        "the sleeps were not slept"
    );
}
