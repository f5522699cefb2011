//! Keyed datasets through Kafka (librdkafka's mock cluster): cron runs with
//! late rows and a new key combination, and backfill resuming and handing
//! over to publish, each (time, key) exactly once.

use crate::support;

use support::keyed::{self, z};
use support::keyed_runs::{
    check, produce_ours, produce_ours_bytes, run_and_check, stub_serving, Expected,
};
use support::mock::brokers_for;
use support::stub::{Fault, StubApi};
use support::{assert_says, eds, outcome, utc};

const RECORDS: &str = "eds.Forecasts_5Min.records";
const AGGREGATES: &str = "eds.Forecasts_5Min.aggregates";

#[test]
fn cron_runs_with_late_keys_publish_each_time_and_key_once() {
    let (_mock, brokers) = brokers_for("Forecasts_5Min");
    run_and_check(&brokers, RECORDS, AGGREGATES, false);
}

#[test]
fn keyed_backfill_resumes_after_a_failure_and_hands_over_to_publish() {
    let (_mock, brokers) = brokers_for("Forecasts_5Min");
    let shape = keyed::forecasts();
    let stub = forecasts_stub("2026-11-28T11:30:00Z");
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
    let expected = Expected {
        data_from: utc("2026-11-28T10:45:00Z"),
        new_key_from: utc("2026-11-28T11:30:00Z"),
        limit: utc("2026-11-28T12:00:00Z"),
        first_end: utc("2026-11-28T10:50:00Z"),
    };
    check(&shape, &brokers, RECORDS, AGGREGATES, &expected);
}

fn publish_forecasts(stub: &StubApi, brokers: &str, now: &str) -> (i32, String, String) {
    outcome(
        eds()
            .args(["publish", "--api-url", &stub.url, "--brokers", brokers])
            .args([
                "--dataset",
                "Forecasts_5Min",
                "--window",
                "15m",
                "--now",
                now,
            ]),
    )
}

/// Forecasts_5Min rows from 10:45 to 12:15, key combination 5 only from `new_key_from`.
fn forecasts_stub(new_key_from: &str) -> StubApi {
    stub_serving(
        &keyed::forecasts(),
        "2026-11-28T10:45:00Z",
        "2026-11-28T12:15:00Z",
        |t, k| k != 5 || t >= utc(new_key_from),
    )
}

#[test]
fn a_cursor_in_the_future_stops_the_run_loudly() {
    let (_mock, brokers) = brokers_for("Forecasts_5Min");
    let stub = forecasts_stub("2026-11-28T10:45:00Z");
    let (code, _, err) = publish_forecasts(&stub, &brokers, "2026-11-28T12:00:30Z");
    assert_eq!(code, 0, "{err}");
    produce_ours(
        &brokers,
        RECORDS,
        "Forecasts_5Min",
        "2030-01-01T00:00:00Z/DK1/Solar",
    );
    let requests = stub.requests().len();
    let (code, _, err) = publish_forecasts(&stub, &brokers, "2026-11-28T12:05:30Z");
    assert_eq!(code, 3, "{err}");
    assert_says(
        &err,
        &[
            RECORDS,
            "partition 0",
            "offset ",
            "2030-01-01T00:00:00Z/DK1/Solar",
            "--now",
        ],
    );
    assert_eq!(stub.requests().len(), requests, "no API request spent");
}

#[test]
fn a_key_with_the_wrong_number_of_values_is_a_data_error() {
    let (_mock, brokers) = brokers_for("Forecasts_5Min");
    let stub = forecasts_stub("2026-11-28T10:45:00Z");
    // What an older eds-kafka wrote for Forecasts_5Min: the area only.
    produce_ours(
        &brokers,
        AGGREGATES,
        "Forecasts_5Min",
        "2026-11-28T11:55:00Z/DK1",
    );
    let (code, _, err) = publish_forecasts(&stub, &brokers, "2026-11-28T12:00:30Z");
    assert_eq!(code, 3, "{err}");
    assert_says(&err, &["PriceArea,ForecastType", "new topics"]);
}

#[test]
fn dry_run_equals_what_a_first_run_publishes() {
    let (_mock, brokers) = brokers_for("Forecasts_5Min");
    let stub = forecasts_stub("2026-11-28T10:45:00Z");
    let now = "2026-11-28T12:00:30Z";
    let (code, _, err) = publish_forecasts(&stub, &brokers, now);
    assert_eq!(code, 0, "{err}");
    let args = ["--dataset", "Forecasts_5Min", "--window", "15m"];
    let (_, expected, _) = support::dry_run(&stub, now, &args);
    let (code, consumed, err) = outcome(
        eds()
            .args([
                "consume",
                "--brokers",
                &brokers,
                "--dataset",
                "Forecasts_5Min",
            ])
            .args(["--from-beginning"]),
    );
    assert_eq!(code, 0, "{err}");
    assert_eq!(consumed, expected);
    assert_eq!(
        consumed.lines().count(),
        7,
        "a header and six key combinations"
    );
}

/// A key of ours that is not UTF-8 is never decoded lossily (FF would read
/// as U+FFFD, the cursor of a real key holding U+FFFD): exit 3, naming the
/// message, and no API request spent.
#[test]
fn a_key_of_ours_that_is_not_utf8_stops_the_run() {
    let (_mock, brokers) = brokers_for("Forecasts_5Min");
    let stub = forecasts_stub("2026-11-28T10:45:00Z");
    produce_ours_bytes(
        &brokers,
        RECORDS,
        "Forecasts_5Min",
        b"2026-11-28T11:55:00Z/DK1/\xff",
    );
    let (code, out, err) = publish_forecasts(&stub, &brokers, "2026-11-28T12:00:30Z");
    assert_eq!((code, out.as_str()), (3, ""), "{err}");
    assert_says(
        &err,
        &[
            RECORDS,
            "partition 0",
            "offset 0",
            "not UTF-8",
            "new topics",
        ],
    );
    assert!(stub.requests().is_empty(), "no API request spent");
}
