//! The keyed exactly-once scenario against tansu (a real Kafka-protocol
//! broker): thirteen cron runs five minutes apart on Forecasts_5Min, rows of
//! two key combinations arriving a run late, one combination appearing
//! midway; every (time, key) record and (window end, key) aggregate once.

mod support;

use support::broker::{test_broker, Topics};
use support::keyed_runs::run_and_check;

#[test]
fn keyed_cron_runs_on_tansu_publish_each_time_and_key_once() {
    let Some(brokers) = test_broker() else {
        return;
    };
    let t = Topics::new("k");
    run_and_check(&brokers, &t.records, &t.aggregates, true);
}
