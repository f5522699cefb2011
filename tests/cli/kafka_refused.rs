//! A bootstrap address nobody listens on: publish, backfill and consume fail
//! at once (exit 4) with a message that names the address and where it is
//! configured, instead of waiting for the default 30 s `--kafka-timeout`.

use crate::support;

use std::time::{Duration, Instant};

use support::stub::StubApi;
use support::{eds, free_port, outcome, stub_at, NOW};

/// Runs `args` against brokers at a port nobody listens on: the code, the
/// stderr, how long it took, and the address.
fn refused(stub: &StubApi, args: &[&str]) -> (i32, String, Duration, String) {
    let brokers = format!("127.0.0.1:{}", free_port());
    let started = Instant::now();
    let (code, out, err) = outcome(
        eds()
            .args(args)
            .args(["--brokers", &brokers])
            .args(["--api-url", &stub.url]),
    );
    assert_eq!(out, "", "nothing on stdout");
    (code, err, started.elapsed(), brokers)
}

fn check(what: &str, (code, err, took, brokers): (i32, String, Duration, String)) {
    assert_eq!(code, 4, "{what}: {err}");
    let expected = format!(
        "cannot connect to {brokers} (connection refused); check --brokers / KAFKA_BROKERS"
    );
    assert!(err.contains(&expected), "{what}: {err}");
    assert!(took < Duration::from_secs(5), "{what} took {took:?}");
}

#[test]
fn publish_fails_at_once_when_nothing_listens() {
    let stub = stub_at(NOW);
    check("publish", refused(&stub, &["publish", "--now", NOW]));
    assert!(stub.requests().is_empty(), "no API request spent");
}

#[test]
fn backfill_fails_at_once_when_nothing_listens() {
    let stub = stub_at(NOW);
    let args = ["backfill", "--from", "2026-11-27", "--to", "2026-11-28"];
    check("backfill", refused(&stub, &args));
    assert!(stub.requests().is_empty(), "no API request spent");
}

#[test]
fn consume_fails_at_once_when_nothing_listens() {
    let port = free_port();
    let brokers = format!("127.0.0.1:{port}");
    let started = Instant::now();
    let (code, out, err) = outcome(eds().args(["consume", "--brokers", &brokers]));
    assert_eq!(out, "");
    check("consume", (code, err, started.elapsed(), brokers));
}
