//! Servers that trickle, stall, loop or announce absurd bodies; numbers
//! at the ends of the f64 range.

use super::*;

/// `publish --dry-run` against `url` with `--http-timeout timeout`: (code, stderr, seconds).
fn dry_run_against(url: &str, timeout: &str) -> (i32, String, f64) {
    let started = Instant::now();
    let (code, _, err) = outcome(
        eds()
            .args(["publish", "--dry-run", "--api-url", url, "--now", NOW])
            .args(["--http-timeout", timeout]),
    );
    (code, err, started.elapsed().as_secs_f64())
}

#[test]
fn http_timeout_bounds_the_whole_request_whatever_the_server_does() {
    let cases: [(&str, Serve); 6] = [
        ("trickling body", trickling_body),
        ("trickling error body", trickling_error_body),
        ("trickling chunked body", trickling_chunked_body),
        ("trickling headers", trickling_headers),
        ("stalled body", stalled_body),
        ("silent server", silent),
    ];
    for (name, serve) in cases {
        let url = server(serve);
        let (code, err, secs) = dry_run_against(&url, "2s");
        assert_eq!(code, 75, "{name}: {err}");
        assert!(secs < 4.0, "{name}: took {secs:.1}s with --http-timeout 2s");
        // An error status is reported as such, with what came of its body.
        let expected = if name.contains("error body") {
            "HTTP 503"
        } else {
            "timed out"
        };
        assert!(err.contains(expected), "{name}: {err}");
    }
}

#[test]
fn slow_tls_is_bounded_too() {
    let url = server(silent).replace("http://", "https://");
    let (code, err, secs) = dry_run_against(&url, "2s");
    assert_eq!(code, 75, "{err}");
    assert!(secs < 4.0, "took {secs:.1}s with --http-timeout 2s");
}

/// Backfill tries a failed chunk 5 times, `--min-request-interval` apart:
/// with a trickling server it gives up after at most 5 x `--http-timeout`
/// plus 4 intervals.
#[test]
fn backfill_gives_up_on_a_trickling_server_within_its_bound() {
    let url = server(trickling_body);
    let started = Instant::now();
    let (code, _, err) = Args::new("backfill")
        .extra(&["--dry-run"])
        .flag("--api-url", &url)
        .flag("--fields", "CO2Emission")
        .flag("--from", "2026-11-28T00:00:00Z")
        .flag("--to", "2026-11-28T01:00:00Z")
        .flag("--http-timeout", "1s")
        .flag("--min-request-interval", "100ms")
        .run();
    let secs = started.elapsed().as_secs_f64();
    assert_eq!(code, 75, "{err}");
    assert!(secs < 5.0 * 1.0 + 4.0 * 0.1 + 2.0, "took {secs:.1}s");
    assert_eq!(err.matches("trying again").count(), 4, "{err}");
}

#[test]
fn an_announced_body_over_max_body_is_refused_before_reading() {
    let url = server(huge_content_length);
    let (code, err, secs) = dry_run_against(&url, "20s");
    assert_eq!(code, 3, "{err}");
    assert!(secs < 3.0, "took {secs:.1}s: the body was waited for");
    assert_says(&err, &["--max-body", "1000000000000"]);
}

fn out_of_range_number(s: &mut TcpStream) {
    let body = r#"{"records":[{"Minutes1UTC":"2026-11-28T11:59:00","Minutes1DK":"2026-11-28T12:59:00","CO2Emission":1e400}]}"#;
    let _ = write!(s, "{JSON_HEAD}Content-Length: {}\r\n\r\n{body}", body.len());
}

#[test]
fn the_mean_of_huge_values_is_finite_in_the_csv() {
    let url = server(huge_values);
    let (code, out, err) = Args::dry_run(&url, NOW)
        .flag("--fields", "CO2Emission")
        .flag("--stats", "count,mean,max")
        .run();
    assert_eq!(code, 0, "{err}");
    let line: Vec<&str> = out.lines().nth(1).unwrap().split(',').collect();
    assert_eq!(line[3], "5");
    assert_eq!(
        line[4].parse::<f64>().unwrap(),
        1.7e308,
        "mean: {}",
        line[4]
    );
    assert_eq!(line[4], line[5], "mean and max are written alike");
}

#[test]
fn a_number_out_of_f64_range_is_a_data_error() {
    let url = server(out_of_range_number);
    let (code, out, err) =
        outcome(eds().args(["publish", "--dry-run", "--api-url", &url, "--now", NOW]));
    assert_eq!((code, out.as_str()), (3, ""), "{err}");
    assert!(err.contains("out of range"), "{err}");
}
