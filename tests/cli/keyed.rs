//! Keyed datasets through `publish --dry-run`: one aggregate line per key
//! combination, each over its own key's rows only, values equal to an
//! independent computation; composite keys; datasets described by flags.

use crate::support;

use std::collections::HashSet;

use chrono::{DateTime, TimeDelta, Utc};
use support::keyed::{self, same_number, z, Shape};
use support::keyed_runs::stub_serving;
use support::stub::StubApi;
use support::{assert_says, dry_run, dry_run_ok, utc, words};

/// Serves `shape`'s rows in `[from, to)` except `missing` (time, key index).
fn serve(shape: &Shape, from: &str, to: &str, missing: &[(&str, usize)]) -> StubApi {
    let missing: HashSet<(DateTime<Utc>, usize)> =
        missing.iter().map(|(t, k)| (utc(t), *k)).collect();
    stub_serving(shape, from, to, |t, k| !missing.contains(&(t, k)))
}

/// Checks an aggregates CSV: one line per key combination (sorted), each
/// window ending at `ends[k]` over that key's served rows, every stat of
/// every field as computed here.
fn check_aggregates(
    shape: &Shape,
    csv: &str,
    window: TimeDelta,
    ends: &[DateTime<Utc>],
    missing: &[(&str, usize)],
) {
    let mut lines = csv.lines();
    let mut expected_header = vec!["window_start", "window_end", "rows"];
    expected_header.extend(&shape.key_columns);
    let stat_names = ["count", "mean", "min", "max", "last"];
    let columns: Vec<String> = shape
        .fields
        .iter()
        .flat_map(|f| stat_names.iter().map(move |s| format!("{f}_{s}")))
        .collect();
    let header = lines.next().unwrap();
    assert_eq!(
        header,
        format!("{},{}", expected_header.join(","), columns.join(","))
    );
    let mut order: Vec<usize> = (0..shape.keys.len()).collect();
    order.sort_by_key(|&k| (ends[k], shape.keys[k].clone()));
    let body: Vec<&str> = lines.collect();
    assert_eq!(body.len(), shape.keys.len(), "{csv}");
    for (line, &k) in body.iter().zip(&order) {
        let cells: Vec<&str> = line.split(',').collect();
        let (start, end) = (ends[k] - window, ends[k]);
        let times: Vec<DateTime<Utc>> =
            std::iter::successors(Some(start), |t| Some(*t + shape.resolution))
                .take_while(|t| *t < end)
                .filter(|t| !missing.iter().any(|(m, mk)| utc(m) == *t && *mk == k))
                .collect();
        assert_eq!(cells[0..2], [z(start), z(end)], "{line}");
        assert_eq!(cells[2], times.len().to_string(), "{line}");
        let keys = shape.key_columns.len();
        assert_eq!(cells[3..3 + keys], shape.keys[k][..], "{line}");
        for (f, _) in shape.fields.iter().enumerate() {
            let values: Vec<Option<f64>> = times
                .iter()
                .map(|t| keyed::value(shape, *t, k, f))
                .collect();
            let (count, mean, min, max, last) = keyed::stats(&values);
            let at = 3 + keys + f * 5;
            assert_eq!(cells[at], count.to_string(), "{line}");
            for (i, x) in [mean, min, max, last].into_iter().enumerate() {
                assert!(
                    same_number(cells[at + 1 + i], x),
                    "{} in {line}",
                    columns[f * 5 + 1 + i]
                );
            }
        }
    }
}

#[test]
fn forecasts_aggregate_each_area_and_forecast_type() {
    let shape = keyed::forecasts();
    let stub = serve(&shape, "2026-11-28T11:00:00Z", "2026-11-28T12:15:00Z", &[]);
    // No --fields: every numeric field of a dataset other than PowerSystemRightNow.
    let out = dry_run_ok(
        &stub,
        "2026-11-28T12:10:30Z",
        &["--dataset", "Forecasts_5Min", "--window", "15m"],
    );
    let end = utc("2026-11-28T12:10:00Z");
    check_aggregates(&shape, &out, TimeDelta::minutes(15), &[end; 6], &[]);
    assert!(out.contains(",DK1,Offshore Wind,"), "{out}");
}

#[test]
fn a_late_area_keeps_its_own_window() {
    let shape = keyed::prodex();
    // DK1's 12:05 row has not arrived yet; DK2's has.
    let missing = [("2026-11-28T12:05:00Z", 0)];
    let stub = serve(
        &shape,
        "2026-11-28T11:00:00Z",
        "2026-11-28T12:10:00Z",
        &missing,
    );
    let out = dry_run_ok(
        &stub,
        "2026-11-28T12:10:30Z",
        &[
            "--dataset",
            "ElectricityProdex5MinRealtime",
            "--window",
            "10m",
        ],
    );
    let ends = [utc("2026-11-28T12:05:00Z"), utc("2026-11-28T12:10:00Z")];
    check_aggregates(&shape, &out, TimeDelta::minutes(10), &ends, &missing);
}

#[test]
fn day_ahead_prices_ignore_tomorrows_rows() {
    let shape = keyed::day_ahead();
    let stub = serve(&shape, "2026-11-28T00:00:00Z", "2026-11-30T00:00:00Z", &[]);
    let out = dry_run_ok(
        &stub,
        "2026-11-28T12:20:00Z",
        &["--dataset", "DayAheadPrices", "--window", "1h"],
    );
    let end = utc("2026-11-28T12:15:00Z");
    check_aggregates(&shape, &out, TimeDelta::hours(1), &[end; 2], &[]);
}

#[test]
fn records_have_every_key_column_after_the_time_columns() {
    let shape = keyed::forecasts();
    let stub = serve(&shape, "2026-11-28T11:00:00Z", "2026-11-28T12:15:00Z", &[]);
    let out = dry_run_ok(
        &stub,
        "2026-11-28T12:10:30Z",
        &[
            "--dataset",
            "Forecasts_5Min",
            "--records",
            "--fields",
            "ForecastCurrent",
        ],
    );
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(
        lines[0],
        "Minutes5UTC,Minutes5DK,PriceArea,ForecastType,ForecastCurrent"
    );
    // The default 5-minute window holds one time: six rows, sorted by key.
    assert_eq!(lines.len(), 7, "{out}");
    assert!(lines[1].starts_with("2026-11-28T12:05:00Z,2026-11-28T13:05:00,DK1,Offshore Wind,"));
    assert!(lines[6].starts_with("2026-11-28T12:05:00Z,2026-11-28T13:05:00,DK2,Solar,"));
}

/// The hourly Elspotprices, shaped like ElectricityProdex5MinRealtime.
fn elspotprices() -> Shape {
    let mut shape = keyed::prodex();
    shape.name = "Elspotprices";
    shape.time_column = "HourUTC";
    shape.dk_column = "HourDK";
    shape.resolution = TimeDelta::hours(1);
    shape
}

#[test]
fn any_dataset_can_be_described_by_flags() {
    let shape = elspotprices();
    let stub = serve(&shape, "2026-11-28T00:00:00Z", "2026-11-28T14:00:00Z", &[]);
    let describe = [
        "--dataset",
        "Elspotprices",
        "--time-column",
        "HourUTC",
        "--dk-time-column",
        "HourDK",
        "--key-columns",
        "PriceArea",
        "--resolution",
        "1h",
        "--window",
        "3h",
        "--max-lag",
        "2h",
    ];
    let out = dry_run_ok(&stub, "2026-11-28T12:30:00Z", &describe);
    let end = utc("2026-11-28T12:00:00Z");
    check_aggregates(&shape, &out, TimeDelta::hours(3), &[end; 2], &[]);
    assert!(stub
        .requests()
        .iter()
        .all(|r| r.starts_with("/dataset/Elspotprices?")));

    // Without a description an unknown dataset is a usage error that says what to do.
    let (code, _, err) = dry_run(
        &stub,
        "2026-11-28T12:30:00Z",
        &["--dataset", "Elspotprices"],
    );
    assert_eq!(code, 2, "{err}");
    assert_says(&err, &["Forecasts_5Min", "--time-column"]);
    // The description is checked: an odd resolution, a key column named twice.
    for bad in [
        &["--resolution", "7m"][..],
        &["--key-columns", "PriceArea,PriceArea"],
        &["--key-columns", "HourUTC"],
    ] {
        let mut args = describe.to_vec();
        args.extend_from_slice(bad);
        let (code, _, err) = dry_run(&stub, "2026-11-28T12:30:00Z", &args);
        assert_eq!(code, 2, "{bad:?}: {err}");
    }
}

#[test]
fn backfill_without_named_fields_says_why() {
    let (code, _, err) = support::outcome(support::eds().args(words(
        "backfill --dry-run --dataset Forecasts_5Min --from 2026-11-01 --to 2026-11-02",
    )));
    assert_eq!(code, 2, "{err}");
    assert_says(&err, &["named --fields", "'all'"]);
}

/// The Elspotprices description of docs/reference.md, exactly as written there, works
/// with the default window and --max-lag (an hourly row is 1.5 h old at :30).
#[test]
fn the_documented_elspotprices_example_runs_as_written() {
    let page =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/docs/reference.md")).unwrap();
    let start = page.find("`Elspotprices`: `").expect("the example") + "`Elspotprices`: `".len();
    let flags: Vec<&str> = page[start..][..page[start..].find('`').unwrap()]
        .split_whitespace()
        .collect();
    assert!(
        flags.contains(&"--resolution") && !flags.contains(&"--window"),
        "{flags:?}"
    );
    let shape = elspotprices();
    let stub = serve(&shape, "2026-11-28T00:00:00Z", "2026-11-28T14:00:00Z", &[]);
    let out = dry_run_ok(&stub, "2026-11-28T12:30:00Z", &flags);
    // The default window is one hour: each area's 11:00 row alone.
    let end = utc("2026-11-28T12:00:00Z");
    check_aggregates(&shape, &out, TimeDelta::hours(1), &[end; 2], &[]);
}
