//! The keyed exactly-once scenario against Apache Kafka (the real
//! broker): thirteen cron runs five minutes apart on Forecasts_5Min, rows of
//! two key combinations arriving a run late, one combination appearing
//! midway; every (time, key) record and (window end, key) aggregate once.

use crate::support;

use support::broker::{test_broker, Topics};
use support::keyed_runs::{run_and_check, stub_serving};

#[test]
fn keyed_cron_runs_on_kafka_publish_each_time_and_key_once() {
    let Some(brokers) = test_broker() else {
        return;
    };
    let t = Topics::new("k");
    run_and_check(&brokers, &t.records, &t.aggregates, true);
}

/// A message of ours with an old time at the end of the log: Apache Kafka's
/// time index gives the offset the cursor read starts at, whatever is at the end.
#[test]
fn an_old_message_at_the_end_of_the_log_does_not_cause_duplicates() {
    let Some(brokers) = test_broker() else {
        return;
    };
    let t = Topics::new("ko");
    support::keyed_runs::old_message_at_the_end(&brokers, &t.records, &t.aggregates, true);
}

/// A backfill writes hundreds of messages in few large batches; tansu 0.6.0
/// starts a fetch at the batch after the requested offset, so the cursor read
/// must go back to a batch boundary. Then cron runs hand over, exactly once.
#[test]
fn keyed_backfill_then_cron_runs_on_kafka_continue_exactly_once() {
    use support::keyed::{self, z};
    use support::keyed_runs::{check, Expected};
    use support::{eds, outcome, utc};
    let Some(brokers) = test_broker() else {
        return;
    };
    let t = Topics::new("kb");
    let shape = keyed::forecasts();
    let stub = stub_serving(
        &shape,
        "2026-11-28T04:00:00Z",
        "2026-11-28T11:00:00Z",
        |_, _| true,
    );
    let common = |cmd: &mut assert_cmd::Command| {
        cmd.args(["--api-url", &stub.url, "--brokers", &brokers])
            .args(["--dataset", "Forecasts_5Min", "--window", "15m"])
            .args(["--fields", "ForecastCurrent,Forecast1Hour"])
            .args([
                "--records-topic",
                &t.records,
                "--aggregates-topic",
                &t.aggregates,
            ]);
    };
    let mut backfill = eds();
    backfill.arg("backfill");
    common(&mut backfill);
    backfill.args(["--create-topics", "--min-request-interval", "0s"]);
    backfill.args([
        "--from",
        "2026-11-28T04:00:00Z",
        "--to",
        "2026-11-28T10:00:00Z",
    ]);
    let (code, _, err) = outcome(&mut backfill);
    assert_eq!(code, 0, "{err}");
    for m in [0, 5, 10] {
        let now = utc("2026-11-28T10:00:30Z") + chrono::TimeDelta::minutes(m);
        let mut publish = eds();
        publish.arg("publish");
        common(&mut publish);
        publish.args(["--now", &z(now)]);
        let (code, _, err) = outcome(&mut publish);
        assert_eq!(code, 0, "{err}");
    }
    let expected = Expected {
        data_from: utc("2026-11-28T04:00:00Z"),
        new_key_from: utc("2026-11-28T04:00:00Z"),
        limit: utc("2026-11-28T10:10:00Z"),
        first_end: utc("2026-11-28T04:05:00Z"),
    };
    check(&shape, &brokers, &t.records, &t.aggregates, &expected);
}
