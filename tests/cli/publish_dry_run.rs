//! `publish --dry-run` end to end: the real binary against the stub API.

use crate::support;

use std::time::{Duration, Instant};

use serde_json::json;

use serde_json::Value;
use support::stub::{Fault, StubApi};
use support::{assert_says, dry_run, dry_run_ok, eds, outcome, stub_at, utc};

fn fixture_rows() -> Vec<Value> {
    let text = std::fs::read_to_string("tests/fixtures/psrn-sample.json").unwrap();
    let body: Value = serde_json::from_str(&text).unwrap();
    body["records"].as_array().unwrap().clone()
}

/// `publish --dry-run` against `stub` at `now`, plus extra args.
fn cells(csv: &str) -> Vec<Vec<String>> {
    csv.lines()
        .map(|l| l.split(',').map(str::to_string).collect())
        .collect()
}

/// (window_start, window_end, rows) of a one-line aggregate CSV.
fn window_of(csv: &str) -> (String, String, String) {
    let c = cells(csv);
    assert_eq!(c.len(), 2, "one header and one line: {csv}");
    (c[1][0].clone(), c[1][1].clone(), c[1][2].clone())
}

fn minutes_of_records(csv: &str) -> Vec<String> {
    cells(csv)
        .into_iter()
        .skip(1)
        .map(|l| l[0][11..16].to_string())
        .collect()
}

/// The sample's three real rows, aggregated: every value checked.
#[test]
fn fixture_aggregate_value_by_value() {
    let stub = StubApi::start();
    stub.serve_rows(fixture_rows());
    let out = dry_run_ok(
        &stub,
        "2026-04-08T21:31:10Z",
        &["--fields", "CO2Emission,mFRR_ActivatedDK1,SolarPower"],
    );
    assert_eq!(
        out,
        "window_start,window_end,rows,\
         CO2Emission_count,CO2Emission_mean,CO2Emission_min,CO2Emission_max,CO2Emission_last,\
         mFRR_ActivatedDK1_count,mFRR_ActivatedDK1_mean,mFRR_ActivatedDK1_min,mFRR_ActivatedDK1_max,mFRR_ActivatedDK1_last,\
         SolarPower_count,SolarPower_mean,SolarPower_min,SolarPower_max,SolarPower_last\r\n\
         2026-04-08T21:26:00Z,2026-04-08T21:31:00Z,3,\
         3,107.023333333,107,107.050003,107,\
         2,0,0,0,0,\
         3,0,0,0,0\r\n"
    );
}

#[test]
fn fixture_records_oldest_first() {
    let stub = StubApi::start();
    stub.serve_rows(fixture_rows());
    let out = dry_run_ok(
        &stub,
        "2026-04-08T21:31:10Z",
        &["--records", "--fields", "CO2Emission,mFRR_ActivatedDK1"],
    );
    assert_eq!(
        out,
        "Minutes1UTC,Minutes1DK,CO2Emission,mFRR_ActivatedDK1\r\n\
         2026-04-08T21:28:00Z,2026-04-08T23:28:00,107.050003,\r\n\
         2026-04-08T21:29:00Z,2026-04-08T23:29:00,107.019997,0\r\n\
         2026-04-08T21:30:00Z,2026-04-08T23:30:00,107,0\r\n"
    );
}

#[test]
fn now_exactly_on_a_minute_excludes_that_minute() {
    let stub = stub_at("2026-11-28T12:00:00Z");
    // The stub also serves the row of 12:00 (the current, incomplete minute).
    let out = dry_run_ok(&stub, "2026-11-28T12:00:00Z", &[]);
    assert_eq!(
        window_of(&out),
        (
            "2026-11-28T11:55:00Z".into(),
            "2026-11-28T12:00:00Z".into(),
            "5".into()
        )
    );
    let (_, records, _) = dry_run(&stub, "2026-11-28T12:00:00Z", &["--records"]);
    assert_eq!(
        minutes_of_records(&records),
        ["11:55", "11:56", "11:57", "11:58", "11:59"]
    );
}

#[test]
fn seconds_into_the_minute_and_delayed_data() {
    let stub = stub_at("2026-11-28T12:00:59Z");
    stub.serve_current_minute(false);
    // The API has nothing after 11:58 yet (publication delay): the window ends after 11:58.
    stub.set_now(utc("2026-11-28T11:59:30Z"));
    let out = dry_run_ok(&stub, "2026-11-28T12:00:59Z", &[]);
    assert_eq!(
        window_of(&out),
        (
            "2026-11-28T11:54:00Z".into(),
            "2026-11-28T11:59:00Z".into(),
            "5".into()
        )
    );
}

#[test]
fn missing_minute_gives_four_rows() {
    let stub = stub_at("2026-11-28T12:00:30Z");
    stub.drop_minute(utc("2026-11-28T11:57:00Z"));
    let out = dry_run_ok(
        &stub,
        "2026-11-28T12:00:30Z",
        &["--fields", "CO2Emission", "--stats", "count"],
    );
    assert_eq!(
        cells(&out)[1],
        ["2026-11-28T11:55:00Z", "2026-11-28T12:00:00Z", "4", "4"]
    );
}

#[test]
fn one_request_in_danish_time() {
    let stub = stub_at("2026-11-28T12:00:30Z");
    let _ = dry_run_ok(&stub, "2026-11-28T12:00:30Z", &[]);
    let requests = stub.requests();
    assert_eq!(requests.len(), 1, "{requests:?}");
    // UTC 11:25 .. 12:00 (max lag 30m + window 5m) is 12:25 .. 13:00 in Copenhagen in November.
    assert!(
        requests[0].contains("start=2026-11-28T12%3A25"),
        "{}",
        requests[0]
    );
    assert!(
        requests[0].contains("end=2026-11-28T13%3A00"),
        "{}",
        requests[0]
    );
}

/// Both DST days, at the changes themselves: the Danish-time query must
/// still cover the UTC window, and the window is exact in UTC.
#[test]
fn dst_days() {
    for now in [
        "2026-03-29T01:02:10Z", // 03:02 CEST, just after the skipped hour
        "2026-03-29T00:58:10Z", // 01:58 CET, just before it
        "2026-10-25T00:32:10Z", // 02:32 CEST, first pass of the repeated hour
        "2026-10-25T01:32:10Z", // 02:32 CET, second pass
        "2026-10-25T01:02:10Z", // 02:02 CET, just after the change
    ] {
        let stub = stub_at(now);
        let (code, out, err) = dry_run(&stub, now, &["--records", "--fields", "CO2Emission"]);
        assert_eq!(code, 0, "{now}: {err}");
        let t = utc(now);
        let expected: Vec<String> = (1..=5)
            .rev()
            .map(|k| {
                (t - chrono::TimeDelta::minutes(k) - chrono::TimeDelta::seconds(10))
                    .format("%H:%M")
                    .to_string()
            })
            .collect();
        assert_eq!(minutes_of_records(&out), expected, "{now}");
    }
}

#[test]
fn duplicated_and_unsorted_rows() {
    let stub = StubApi::start();
    let mut rows = fixture_rows();
    rows.push(rows[0].clone());
    rows.swap(0, 2);
    rows.insert(1, rows[3].clone());
    stub.serve_rows(rows);
    let out = dry_run_ok(
        &stub,
        "2026-04-08T21:31:10Z",
        &["--records", "--fields", "CO2Emission"],
    );
    assert_eq!(minutes_of_records(&out), ["21:28", "21:29", "21:30"]);
    let (_, agg, _) = dry_run(
        &stub,
        "2026-04-08T21:31:10Z",
        &["--fields", "CO2Emission", "--stats", "count,last"],
    );
    assert_eq!(cells(&agg)[1][2..], ["3", "3", "107"]);
}

#[test]
fn nulls_and_missing_fields_are_no_value() {
    let stub = StubApi::start();
    let mut rows = fixture_rows();
    rows[0]["CO2Emission"] = Value::Null; // newest row
    rows[1].as_object_mut().unwrap().remove("CO2Emission");
    rows[2]
        .as_object_mut()
        .unwrap()
        .insert("NewField".into(), json!("unknown fields pass"));
    stub.serve_rows(rows);
    let out = dry_run_ok(&stub, "2026-04-08T21:31:10Z", &["--fields", "CO2Emission"]);
    // Only 21:28 has a value: count 1, and `last` is the newest row that has one.
    assert_eq!(
        cells(&out)[1][2..],
        [
            "3",
            "1",
            "107.050003",
            "107.050003",
            "107.050003",
            "107.050003"
        ]
    );
}

#[test]
fn all_fields_takes_every_numeric_one() {
    let stub = StubApi::start();
    stub.serve_rows(fixture_rows());
    let out = dry_run_ok(
        &stub,
        "2026-04-08T21:31:10Z",
        &["--fields", "all", "--stats", "count"],
    );
    let header = &cells(&out)[0];
    assert_eq!(header.len(), 3 + 22, "{header:?}");
    assert_eq!(header[3], "CO2Emission_count");
    assert_eq!(header[24], "ImbalanceDK2_count");
}

#[test]
fn options_read_the_environment() {
    let stub = stub_at("2026-11-28T12:00:30Z");
    let mut cmd = eds();
    cmd.args(["publish", "--dry-run"])
        .env("EDS_API_URL", &stub.url)
        .env("EDS_NOW", "2026-11-28T12:00:30Z")
        .env("EDS_WINDOW", "10m")
        .env("EDS_FIELDS", "OnshoreWindPower")
        .env("EDS_STATS", "max,count");
    let (code, out, err) = outcome(&mut cmd);
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        cells(&out)[0],
        [
            "window_start",
            "window_end",
            "rows",
            "OnshoreWindPower_max",
            "OnshoreWindPower_count"
        ]
    );
    assert_eq!(
        cells(&out)[1][..3],
        ["2026-11-28T11:50:00Z", "2026-11-28T12:00:00Z", "10"]
    );
}

/// Runs against a stub with `fault` queued; returns (code, stdout, stderr, requests).
fn with_fault(fault: Fault, extra: &[&str]) -> (i32, String, String, usize) {
    let stub = stub_at("2026-11-28T12:00:30Z");
    stub.fault(fault);
    let (code, out, err) = dry_run(&stub, "2026-11-28T12:00:30Z", extra);
    (code, out, err, stub.requests().len())
}

/// A run whose API answers with `fault`: a data error (exit 3, nothing on
/// stdout) whose message says each of `parts`.
fn assert_permanent(fault: Fault, parts: &[&str]) {
    let (code, out, err, _) = with_fault(fault, &[]);
    assert_eq!((code, out.as_str()), (3, ""), "{err}");
    assert_says(&err, parts);
}

#[test]
fn server_error_is_temporary() {
    let (code, out, err, n) = with_fault(Fault::Status(500, "Internal Server Error"), &[]);
    assert_eq!((code, out.as_str(), n), (75, "", 1), "{err}");
    assert!(
        err.contains("/dataset/PowerSystemRightNow: HTTP 500"),
        "{err}"
    );
    assert!(
        !err.contains("start="),
        "messages name the URL without the query: {err}"
    );
}

#[test]
fn rate_limit_with_short_retry_after_waits_once() {
    let started = Instant::now();
    let (code, out, err, n) = with_fault(Fault::RateLimited { retry_after: 1 }, &[]);
    assert_eq!((code, n), (0, 2), "{err}");
    assert!(started.elapsed() >= Duration::from_secs(1));
    assert_eq!(window_of(&out).2, "5");
}

#[test]
fn rate_limit_with_long_retry_after_gives_up() {
    let started = Instant::now();
    let (code, out, err, n) = with_fault(Fault::RateLimited { retry_after: 60 }, &[]);
    assert_eq!((code, out.as_str(), n), (75, "", 1), "{err}");
    assert!(started.elapsed() < Duration::from_secs(30));
    assert_says(&err, &["429", "Retry-After 60s"]);
}

#[test]
fn bad_request_is_permanent() {
    assert_permanent(
        Fault::Status(400, "Invalid period specified"),
        &["HTTP 400", "Invalid period specified"],
    );
}

#[test]
fn html_instead_of_json_is_permanent() {
    assert_permanent(Fault::Html, &["not the expected JSON", "<!DOCTYPE html>"]);
}

#[test]
fn truncated_json_is_permanent() {
    assert_permanent(Fault::Truncated, &["not the expected JSON"]);
}

#[test]
fn slow_response_times_out() {
    let started = Instant::now();
    let (code, out, err, _) = with_fault(
        Fault::Slow(Duration::from_secs(5)),
        &["--http-timeout", "1s"],
    );
    assert_eq!((code, out.as_str()), (75, ""), "{err}");
    assert!(started.elapsed() < Duration::from_secs(4));
    assert!(err.contains("timed out"), "{err}");
}

#[test]
fn body_over_the_cap_is_refused() {
    let (code, out, err, _) = with_fault(Fault::Slow(Duration::ZERO), &["--max-body", "2KiB"]);
    assert_eq!((code, out.as_str()), (3, ""), "{err}");
    assert!(err.contains("larger than the 2048 byte cap"), "{err}");
    assert!(
        err.contains("a publish run asks for --max-key-lateness (keyed datasets)"),
        "says what makes a fetch large: {err}"
    );
}

#[test]
fn connection_refused_is_temporary() {
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let mut cmd = eds();
    cmd.args(["publish", "--dry-run", "--now", "2026-11-28T12:00:30Z"])
        .args(["--api-url", &format!("http://127.0.0.1:{port}")]);
    let (code, out, err) = outcome(&mut cmd);
    assert_eq!((code, out.as_str()), (75, ""), "{err}");
    assert!(err.contains("cannot connect"), "{err}");
}

#[test]
fn stale_data_is_temporary_and_says_how_stale() {
    let stub = stub_at("2026-11-28T11:20:00Z");
    let (code, out, err) = dry_run(&stub, "2026-11-28T12:00:30Z", &[]);
    assert_eq!((code, out.as_str()), (75, ""), "{err}");
    assert_says(&err, &["stale data", "no rows"]);
    let stub = stub_at("2026-11-28T11:30:00Z");
    stub.serve_current_minute(false);
    let (code, _, err) = dry_run(&stub, "2026-11-28T12:00:30Z", &["--max-lag", "31m"]);
    assert_eq!(code, 75, "{err}");
    assert!(
        err.contains(
            "the newest row of PowerSystemRightNow is 2026-11-28T11:29:00Z (31m30s before"
        ),
        "{err}"
    );
}

#[test]
fn unknown_field_is_a_usage_error_and_a_non_numeric_one_a_data_error() {
    let stub = stub_at("2026-11-28T12:00:30Z");
    let (code, out, err) = dry_run(
        &stub,
        "2026-11-28T12:00:30Z",
        &["--fields", "CO2Emission,NoSuchField"],
    );
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(
        err.contains("--fields / EDS_FIELDS: field NoSuchField is absent from every row")
            && err.contains("fields seen: CO2Emission,")
            && !err.contains("did you mean"),
        "{err}"
    );
    let (code, _, err) = dry_run(&stub, "2026-11-28T12:00:30Z", &["--fields", "SolarPowr"]);
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("; did you mean SolarPower?"), "{err}");
    let (code, _, err) = dry_run(&stub, "2026-11-28T12:00:30Z", &["--fields", "Minutes1DK"]);
    assert_eq!(code, 2, "an index column is a usage error: {err}");
    // A field outside the dataset's known value fields holding text is a
    // data error; a known one (a number or null by its schema) becomes null.
    let stub = StubApi::start();
    let mut rows = fixture_rows();
    for (i, row) in rows.iter_mut().enumerate() {
        row["NewField"] = json!(i);
    }
    rows[1]["NewField"] = json!("n/a");
    rows[1]["SolarPower"] = json!("n/a");
    stub.serve_rows(rows);
    let (code, _, err) = dry_run(&stub, "2026-04-08T21:31:10Z", &["--fields", "NewField"]);
    assert_eq!(code, 3, "{err}");
    assert!(
        err.contains("field NewField of PowerSystemRightNow is not numeric"),
        "{err}"
    );
    let (code, _, err) = dry_run(&stub, "2026-04-08T21:31:10Z", &["--fields", "SolarPower"]);
    assert_eq!(code, 0, "{err}");
    assert!(
        err.contains("field SolarPower of PowerSystemRightNow was not a number in 1 row"),
        "{err}"
    );
}

#[test]
fn missing_time_column_is_a_data_error() {
    let stub = StubApi::start();
    let mut rows = fixture_rows();
    rows[2].as_object_mut().unwrap().remove("Minutes1UTC");
    stub.serve_rows(rows);
    let (code, out, err) = dry_run(&stub, "2026-04-08T21:31:10Z", &[]);
    assert_eq!((code, out.as_str()), (3, ""), "{err}");
    assert!(err.contains("no time column Minutes1UTC"), "{err}");
}

#[test]
fn usage_errors_exit_2() {
    for args in [
        vec!["publish", "--window", "5 minutes"],
        vec!["publish", "--stats", "median"],
        vec!["publish", "--now", "yesterday"],
        vec!["publish", "--no-such-flag"],
        vec!["publish", "--dry-run", "--dataset", "NoSuchDataset"],
    ] {
        let (code, out, err) = outcome(eds().args(&args));
        assert_eq!((code, out.as_str()), (2, ""), "{args:?}: {err}");
        assert!(!err.is_empty());
    }
    // Spans that contradict the dataset or each other name both values.
    for (args, says) in [
        (
            vec!["publish", "--dry-run", "--dataset", "Forecasts_5Min", "--max-key-lateness", "1m"],
            "--max-key-lateness / EDS_MAX_KEY_LATENESS 1m must be at least Forecasts_5Min's resolution (5m)",
        ),
        (
            vec!["publish", "--dry-run", "--max-catch-up", "1m"],
            "--max-catch-up / EDS_MAX_CATCH_UP 1m must be at least --window (5m)",
        ),
        (
            vec!["backfill", "--dry-run", "--from", "2026-01-01", "--to", "2026-01-02", "--chunk", "90s"],
            "--chunk 1m30s must be a positive multiple of PowerSystemRightNow's resolution (1m)",
        ),
    ] {
        let (code, out, err) = outcome(eds().args(&args));
        assert_eq!((code, out.as_str()), (2, ""), "{args:?}: {err}");
        assert!(err.contains(says), "{args:?}: {err}");
    }
}

#[test]
fn redirects_to_another_host_are_not_followed() {
    let other = stub_at("2026-11-28T12:00:30Z");
    // 127.0.0.2 is another host name for the same loopback stub.
    let elsewhere = other.url.replace("127.0.0.1", "127.0.0.2");
    let (code, out, err, _) = with_fault(
        Fault::Redirect(format!("{elsewhere}/dataset/PowerSystemRightNow")),
        &[],
    );
    assert_eq!((code, out.as_str()), (3, ""), "{err}");
    assert_says(&err, &["302", "not followed"]);
    assert!(
        other.requests().is_empty(),
        "the other host was never asked"
    );
    // The same host is followed.
    let stub = stub_at("2026-11-28T12:00:30Z");
    stub.fault(Fault::Redirect(format!("{}/dataset/PowerSystemRightNow?start=2026-11-28T12:25&end=2026-11-28T13:00&sort=Minutes1UTC%20asc&limit=0", stub.url)));
    let out = dry_run_ok(&stub, "2026-11-28T12:00:30Z", &[]);
    assert_eq!(window_of(&out).2, "5");
    assert_eq!(stub.requests().len(), 2);
}

/// The stub's Exchange_Sum is `-(m % 19) * 10.5`: minute 0 of the cycle is
/// -0.0 ("-0.000000" in the body), the largest value of its window and the
/// last one here. The CSV writes it `0`, never `-0`.
#[test]
fn negative_zero_is_written_as_zero() {
    let mut t = utc("2026-11-28T12:00:00Z");
    while (t.timestamp() / 60) % 19 != 0 {
        t += chrono::TimeDelta::minutes(1);
    }
    // The current minute is incomplete: t is the newest row a minute later.
    let now = support::rfc3339(t + chrono::TimeDelta::seconds(90));
    let stub = stub_at(&now);
    assert_eq!(
        support::stub::psrn_row(t)["Exchange_Sum"]
            .as_f64()
            .map(f64::is_sign_negative),
        Some(true),
        "the stub serves -0.0 at {t}"
    );
    let stats = ["--fields", "Exchange_Sum", "--stats", "max,last"];
    let out = dry_run_ok(&stub, &now, &stats);
    assert_eq!(cells(&out)[1][3..], ["0", "0"], "{out}");
    let out = dry_run_ok(&stub, &now, &["--records", "--fields", "Exchange_Sum"]);
    assert_eq!(cells(&out).last().unwrap()[2], "0", "{out}");
    assert!(!out.contains("-0\r\n") && !out.contains("-0,"), "{out}");
}
