//! The API reader's thread ([`eds_kafka::api::Reader`]): the rows and the
//! failure of a fetch are those of [`Api::fetch`], in the same order, and a
//! caller that stops early leaves the reader ready for the next fetch.

use crate::support;

use std::time::Duration;

use eds_kafka::api::{Api, ApiConfig};
use eds_kafka::dataset::{Dataset, Row};
use support::stub::Fault;
use support::{stub_at, utc};

fn api(url: &str) -> Api {
    Api::new(ApiConfig {
        base_url: url.to_string(),
        http_timeout: Duration::from_secs(10),
        max_body: 64 << 20,
    })
    .unwrap()
}

fn times(rows: &[Row]) -> Vec<String> {
    rows.iter().map(|r| r.time.to_rfc3339()).collect()
}

#[test]
fn a_cut_body_hands_over_the_rows_read_then_the_same_failure() {
    let stub = stub_at("2026-11-28T23:59:30Z");
    let d = Dataset::known("PowerSystemRightNow").unwrap();
    let (from, to) = (utc("2026-11-28T00:00:00Z"), utc("2026-11-28T12:00:00Z"));
    let api = api(&stub.url);

    stub.fault(Fault::Truncated);
    let mut direct = Vec::new();
    let direct_err = api
        .fetch(&d, from, to, &mut |row| {
            direct.push(row);
            Ok(())
        })
        .unwrap_err();

    stub.fault(Fault::Truncated);
    let reader = api.reader().unwrap();
    let mut batches = reader.fetch(&d, from, to);
    let threaded: Vec<Row> = batches.by_ref().flatten().collect();
    let threaded_err = batches.finish().unwrap_err();

    assert!(
        direct.len() > 256,
        "more than a batch before the cut: {}",
        direct.len()
    );
    assert_eq!(times(&threaded), times(&direct));
    assert_eq!(format!("{threaded_err:#}"), format!("{direct_err:#}"));
    let code = |e: &anyhow::Error| eds_kafka::failure::exit_of(e).code();
    assert_eq!(code(&threaded_err), code(&direct_err));
    assert_eq!(code(&threaded_err), 3, "a cut body: exit 3");
}

#[test]
fn a_caller_that_stops_early_leaves_the_reader_ready() {
    let stub = stub_at("2026-11-28T23:59:30Z");
    let d = Dataset::known("PowerSystemRightNow").unwrap();
    let api = api(&stub.url);
    let reader = api.reader().unwrap();
    let day = (utc("2026-11-27T00:00:00Z"), utc("2026-11-28T00:00:00Z"));
    let mut first = reader.fetch(&d, day.0, day.1);
    assert_eq!(first.next().map(|b| b.len()), Some(eds_kafka::api::BATCH));
    drop(first);
    let hour = (utc("2026-11-28T10:00:00Z"), utc("2026-11-28T11:00:00Z"));
    let mut second = reader.fetch(&d, hour.0, hour.1);
    let rows: Vec<Row> = second.by_ref().flatten().collect();
    let info = second.finish().unwrap();
    assert_eq!(info.rows, rows.len() as u64);
    assert!(rows.iter().any(|r| r.time == hour.0), "{:?}", times(&rows));
    assert_eq!(stub.requests().len(), 2, "one request a fetch");
}
