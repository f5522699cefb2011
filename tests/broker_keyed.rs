//! The keyed exactly-once scenario against tansu (a real Kafka-protocol
//! broker): thirteen cron runs five minutes apart on Forecasts_5Min, rows of
//! two key combinations arriving a run late, one combination appearing
//! midway; every (time, key) record and (window end, key) aggregate once.

mod support;

use support::keyed_runs::run_and_check;
use support::{test_broker, unique_topic};

#[test]
fn keyed_cron_runs_on_tansu_publish_each_time_and_key_once() {
    let brokers = test_broker();
    let records = unique_topic("k.records");
    let aggregates = unique_topic("k.aggs");
    run_and_check(&brokers, &records, &aggregates, true);
}
