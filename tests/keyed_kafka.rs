//! Keyed datasets through Kafka (librdkafka's mock cluster): cron runs with
//! late rows and a new key combination, and backfill resuming and handing
//! over to publish, each (time, key) exactly once.

mod support;

use rdkafka::mocking::MockCluster;
use support::keyed::{self, z};
use support::keyed_runs::{check, run_and_check};
use support::stub::{Fault, StubApi};
use support::{eds, outcome, utc};

const RECORDS: &str = "eds.Forecasts_5Min.records";
const AGGREGATES: &str = "eds.Forecasts_5Min.aggregates";

fn cluster() -> MockCluster<'static, rdkafka::producer::DefaultProducerContext> {
    let mock = MockCluster::new(1).unwrap();
    mock.create_topic(RECORDS, 1, 1).unwrap();
    mock.create_topic(AGGREGATES, 1, 1).unwrap();
    mock
}

#[test]
fn cron_runs_with_late_keys_publish_each_time_and_key_once() {
    let mock = cluster();
    run_and_check(&mock.bootstrap_servers(), RECORDS, AGGREGATES, false);
}

#[test]
fn keyed_backfill_resumes_after_a_failure_and_hands_over_to_publish() {
    let mock = cluster();
    let brokers = mock.bootstrap_servers();
    let shape = keyed::forecasts();
    let stub = StubApi::start();
    let rows = keyed::rows(
        &shape,
        utc("2026-11-28T10:45:00Z"),
        utc("2026-11-28T12:15:00Z"),
    )
    .into_iter()
    .filter(|(t, k)| *k != 5 || *t >= utc("2026-11-28T11:30:00Z"))
    .map(|(t, k)| keyed::row(&shape, t, k))
    .collect();
    stub.serve_sorted_rows(rows);
    let backfill = |to: &str| {
        outcome(
            eds()
                .args(["backfill", "--api-url", &stub.url, "--brokers", &brokers])
                .args(["--dataset", "Forecasts_5Min", "--window", "15m"])
                .args(["--fields", "ForecastCurrent,Forecast1Hour"])
                .args(["--from", "2026-11-28T10:45:00Z", "--to", to])
                .args(["--chunk", "20m", "--min-request-interval", "0s"]),
        )
    };
    let (code, _, err) = backfill("2026-11-28T11:05:00Z");
    assert_eq!(code, 0, "{err}");
    // A body cut off mid-chunk: exit 3; what was read before may be published.
    stub.fault(Fault::Truncated);
    let (code, _, err) = backfill("2026-11-28T11:45:00Z");
    assert_eq!(code, 3, "{err}");
    // Every attempt fails: exit 75 after the retries, nothing lost.
    for _ in 0..5 {
        stub.fault(Fault::Status(503, "busy"));
    }
    let (code, _, err) = backfill("2026-11-28T11:45:00Z");
    assert_eq!(code, 75, "{err}");
    let (code, _, err) = backfill("2026-11-28T11:45:00Z");
    assert_eq!(code, 0, "{err}");
    // Key combination 5 was never published and the whole partition was
    // read, so its rows may start at --from: the chunks are fetched again,
    // and only what is new is published (checked below: no duplicates).
    assert!(err.contains("backfill done"), "{err}");
    // publish takes over where the backfill stopped.
    let (code, _, err) = outcome(
        eds()
            .args(["publish", "--api-url", &stub.url, "--brokers", &brokers])
            .args(["--dataset", "Forecasts_5Min", "--window", "15m"])
            .args(["--fields", "ForecastCurrent,Forecast1Hour"])
            .args(["--now", &z(utc("2026-11-28T12:00:30Z"))]),
    );
    assert_eq!(code, 0, "{err}");
    // A backfill publishes one aggregate for every row from --from on.
    let (limit, first_end) = (utc("2026-11-28T12:00:00Z"), utc("2026-11-28T10:50:00Z"));
    check(&shape, &brokers, RECORDS, AGGREGATES, limit, first_end);
}
