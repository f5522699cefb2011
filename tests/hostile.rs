//! Hostile input and faults, through the real binary: servers that trickle,
//! stall or announce absurd bodies, absurd flag values, secrets in URLs,
//! odd files, closed pipes, and topics that do not exist.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Stdio;
use std::time::{Duration, Instant};

use support::stub::StubApi;
use support::{eds, outcome, utc};

const NOW: &str = "2026-11-28T12:00:30Z";

/// A loopback HTTP server whose every connection is handed to `serve` once
/// the request head has been read. Returns its base URL.
type Serve = fn(&mut TcpStream);

fn server(serve: Serve) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut reader = BufReader::new(stream.try_clone().unwrap());
                let mut line = String::new();
                while reader.read_line(&mut line).is_ok_and(|n| n > 0) && line != "\r\n" {
                    line.clear();
                }
                serve(&mut stream);
            });
        }
    });
    url
}

/// Writes `bytes` one at a time, `gap` apart, until the client goes away.
fn trickle(stream: &mut TcpStream, bytes: impl IntoIterator<Item = u8>, gap: Duration) {
    for b in bytes {
        if stream.write_all(&[b]).is_err() {
            return;
        }
        std::thread::sleep(gap);
    }
}

const JSON_HEAD: &str = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n";

fn trickling_body(s: &mut TcpStream) {
    let _ = write!(s, "{JSON_HEAD}Content-Length: 100000\r\n\r\n");
    trickle(s, std::iter::repeat(b' '), Duration::from_millis(300));
}

fn trickling_chunked_body(s: &mut TcpStream) {
    let _ = write!(s, "{JSON_HEAD}Transfer-Encoding: chunked\r\n\r\n");
    for _ in 0..1000 {
        if s.write_all(b"1\r\n \r\n").is_err() {
            return;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

fn trickling_headers(s: &mut TcpStream) {
    let _ = write!(s, "HTTP/1.1 200 OK\r\n");
    trickle(
        s,
        b"X-Slow: ".iter().copied().chain(std::iter::repeat(b'a')),
        Duration::from_millis(300),
    );
}

fn stalled_body(s: &mut TcpStream) {
    let _ = write!(s, "{JSON_HEAD}Content-Length: 100\r\n\r\n{{\"records\":[");
    std::thread::sleep(Duration::from_secs(60));
}

fn huge_content_length(s: &mut TcpStream) {
    let _ = write!(
        s,
        "{JSON_HEAD}Content-Length: 1000000000000\r\n\r\n{{\"records\":["
    );
    std::thread::sleep(Duration::from_secs(60));
}

fn trickling_error_body(s: &mut TcpStream) {
    let _ = write!(
        s,
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 100000\r\n\r\n"
    );
    trickle(s, std::iter::repeat(b'x'), Duration::from_millis(300));
}

fn redirect_loop(s: &mut TcpStream) {
    let _ = write!(
        s,
        "HTTP/1.1 302 Found\r\nLocation: /again?token={TOKEN}\r\nContent-Length: 0\r\n\r\n"
    );
}

fn silent(_: &mut TcpStream) {
    std::thread::sleep(Duration::from_secs(60));
}

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
    let (code, _, err) = outcome(eds().args([
        "backfill",
        "--dry-run",
        "--api-url",
        &url,
        "--fields",
        "CO2Emission",
        "--from",
        "2026-11-28T00:00:00Z",
        "--to",
        "2026-11-28T01:00:00Z",
        "--http-timeout",
        "1s",
        "--min-request-interval",
        "100ms",
    ]));
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
    assert!(
        err.contains("--max-body") && err.contains("1000000000000"),
        "{err}"
    );
}

// ---- absurd values --------------------------------------------------------

/// Every duration, time, size and count a user can type: absurd values exit
/// 2 with a message naming the flag and the largest (or allowed) value.
#[test]
fn absurd_values_are_usage_errors_naming_the_flag_and_the_limit() {
    let publish = ["publish", "--dry-run", "--api-url", "http://127.0.0.1:1"];
    let kafka = [
        "publish",
        "--brokers",
        "127.0.0.1:1",
        "--api-url",
        "http://127.0.0.1:1",
    ];
    let backfill = [
        "backfill",
        "--dry-run",
        "--api-url",
        "http://127.0.0.1:1",
        "--fields",
        "CO2Emission",
    ];
    let consume = ["consume", "--brokers", "127.0.0.1:1"];
    let cases: &[(&[&str], &str, &str, &str)] = &[
        (&publish, "--window", "1000000000d", "3650d"),
        (&publish, "--window", "99999999999999999999999m", "3650d"),
        (&publish, "--max-lag", "100000000d", "3650d"),
        (&publish, "--max-catch-up", "100000000d", "3650d"),
        (&kafka, "--max-catch-up", "100000000d", "3650d"),
        (&kafka, "--window", "1000000000d", "3650d"),
        (&publish, "--http-timeout", "100000000d", "1d"),
        (&publish, "--http-timeout", "18446744073709551615ms", "1d"),
        (&kafka, "--kafka-timeout", "25d", "1d"),
        (
            &publish,
            "--now",
            "9999-12-31T23:59:59Z",
            "2100-01-01T00:00:00Z",
        ),
        (
            &publish,
            "--now",
            "0001-01-01T00:00:00Z",
            "2000-01-01T00:00:00Z",
        ),
        (&publish, "--max-body", "99999999999999999999", "16GiB"),
        (&publish, "--max-body", "17179869184GiB", "16GiB"),
        (&kafka, "--partition", "99999999999", "2147483647"),
        (&kafka, "--partition=-1", "", "2147483647"),
        (&backfill, "--window", "100000000d", "3650d"),
        (&backfill, "--chunk", "100000000d", "3650d"),
        (&backfill, "--min-request-interval", "100000000d", "3650d"),
        (&backfill, "--http-timeout", "2d", "1d"),
        (&backfill, "--from", "0001-01-01", "2000-01-01T00:00:00Z"),
        (&backfill, "--to", "9999-01-01", "2100-01-01T00:00:00Z"),
        (&backfill, "--to", "2100-01-02", "2100-01-01T00:00:00Z"),
        (&consume, "--idle-timeout", "100000000d", "1d"),
        (&consume, "--kafka-timeout", "100000000d", "1d"),
        (&consume, "--last", "99999999999999999999", "1000000000"),
        (
            &consume,
            "--max-messages",
            "18446744073709551615",
            "1000000000",
        ),
    ];
    for (base, flag, value, limit) in cases {
        let mut cmd = eds();
        cmd.args(*base)
            .arg(flag)
            .args((!value.is_empty()).then_some(value));
        if base[0] == "backfill" {
            for (bound, date) in [("--from", "2026-01-01"), ("--to", "2026-01-02")] {
                if *flag != bound {
                    cmd.args([bound, date]);
                }
            }
        }
        let (code, out, err) = outcome(&mut cmd);
        let flag_name = flag.split('=').next().unwrap();
        assert_eq!(code, 2, "{flag} {value}: {err}");
        assert!(out.is_empty(), "{flag} {value}: {out}");
        assert!(
            err.contains(flag_name),
            "{flag} {value}: the flag is named: {err}"
        );
        assert!(
            err.contains(limit),
            "{flag} {value}: the limit {limit} is named: {err}"
        );
        assert!(!err.contains("panicked"), "{flag} {value}: {err}");
    }
}

#[test]
fn absurd_values_from_the_environment_are_usage_errors_too() {
    for (var, value) in [
        ("EDS_WINDOW", "1000000000d"),
        ("EDS_MAX_CATCH_UP", "100000000d"),
        ("EDS_NOW", "9999-01-01T00:00:00Z"),
    ] {
        let (code, _, err) = outcome(eds().args(["publish", "--dry-run"]).env(var, value));
        assert_eq!(code, 2, "{var}={value}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// The largest values accepted run without a panic or an overflow (the API
/// is not there: exit 75).
#[test]
fn the_largest_accepted_values_do_not_panic() {
    let api = ["--api-url", "http://127.0.0.1:1"];
    let runs: &[&[&str]] = &[
        &[
            "publish",
            "--dry-run",
            "--window",
            "3650d",
            "--max-catch-up",
            "3650d",
            "--max-lag",
            "3650d",
            "--now",
            "2000-01-01T00:00:00Z",
        ],
        &[
            "publish",
            "--dry-run",
            "--window",
            "3650d",
            "--max-catch-up",
            "3650d",
            "--max-lag",
            "3650d",
            "--now",
            "2100-01-01T00:00:00Z",
            "--http-timeout",
            "1d",
            "--max-body",
            "16GiB",
        ],
        &[
            "backfill",
            "--dry-run",
            "--fields",
            "A",
            "--from",
            "2000-01-01",
            "--to",
            "2100-01-01",
            "--chunk",
            "3650d",
            "--window",
            "3650d",
            "--min-request-interval",
            "0s",
        ],
        &[
            "backfill",
            "--dry-run",
            "--fields",
            "A",
            "--from",
            "2099-12-31",
            "--to",
            "2100-01-01",
            "--chunk",
            "3650d",
            "--window",
            "3650d",
            "--min-request-interval",
            "0s",
        ],
    ];
    for args in runs {
        let (code, _, err) = outcome(eds().args(*args).args(api));
        assert_eq!(code, 75, "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

// ---- the mean of huge values ----------------------------------------------

fn huge_values(s: &mut TcpStream) {
    let rows: Vec<String> = (55..60)
        .map(|m| format!(r#"{{"Minutes1UTC":"2026-11-28T11:{m}:00","Minutes1DK":"2026-11-28T12:{m}:00","CO2Emission":1.7e308}}"#))
        .collect();
    let body = format!(r#"{{"records":[{}]}}"#, rows.join(","));
    let _ = write!(s, "{JSON_HEAD}Content-Length: {}\r\n\r\n{body}", body.len());
}

fn out_of_range_number(s: &mut TcpStream) {
    let body = r#"{"records":[{"Minutes1UTC":"2026-11-28T11:59:00","Minutes1DK":"2026-11-28T12:59:00","CO2Emission":1e400}]}"#;
    let _ = write!(s, "{JSON_HEAD}Content-Length: {}\r\n\r\n{body}", body.len());
}

#[test]
fn the_mean_of_huge_values_is_finite_in_the_csv() {
    let url = server(huge_values);
    let (code, out, err) = outcome(eds().args([
        "publish",
        "--dry-run",
        "--api-url",
        &url,
        "--now",
        NOW,
        "--fields",
        "CO2Emission",
        "--stats",
        "count,mean,max",
    ]));
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

// ---- secrets in --api-url ---------------------------------------------------

const PASSWORD: &str = "Pa55w0rdXyz";
const TOKEN: &str = "tok3nSecretQ";

/// `stub`'s URL with a user and [`PASSWORD`] in it.
fn with_password(url: &str) -> String {
    url.replace("http://", &format!("http://eds:{PASSWORD}@"))
}

fn assert_no_secret(what: &str, text: &str) {
    assert!(
        !text.contains(PASSWORD),
        "{what}: the password is shown: {text}"
    );
    assert!(!text.contains(TOKEN), "{what}: the token is shown: {text}");
}

#[test]
fn a_query_in_api_url_is_a_usage_error_that_hides_it() {
    let url = format!("http://127.0.0.1:1/?token={TOKEN}");
    let (code, _, err) = outcome(eds().args(["-vv", "publish", "--dry-run", "--api-url", &url]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--api-url"), "{err}");
    assert_no_secret("usage error", &err);
    let bad = format!("http://eds:{PASSWORD}@[::1/?token={TOKEN}");
    let (code, _, err) = outcome(eds().args(["-vv", "publish", "--dry-run", "--api-url", &bad]));
    assert_eq!(code, 2, "{err}");
    assert_no_secret("unparsable URL", &err);
}

/// Every error path of the HTTP request, with -vv (debug logs and the causes).
#[test]
fn the_password_in_api_url_appears_on_no_error_path() {
    use support::stub::Fault;
    let stub = StubApi::start();
    stub.set_now(utc(NOW));
    let url = with_password(&stub.url);
    let faults = [
        ("5xx", Some(Fault::Status(503, "down")), 75),
        ("4xx", Some(Fault::Status(404, "no such dataset")), 3),
        ("not JSON", Some(Fault::Html), 3),
        ("truncated", Some(Fault::Truncated), 3),
        (
            "redirect elsewhere",
            Some(Fault::Redirect(format!(
                "http://elsewhere.invalid/?token={TOKEN}"
            ))),
            3,
        ),
        ("ok", None, 0),
    ];
    for (name, fault, expected) in faults {
        if let Some(f) = fault {
            stub.fault(f);
        }
        let (code, out, err) = outcome(eds().args([
            "-vv",
            "publish",
            "--dry-run",
            "--api-url",
            &url,
            "--now",
            NOW,
        ]));
        assert_eq!(code, expected, "{name}: {err}");
        assert_no_secret(name, &err);
        assert_no_secret(name, &out);
    }
    let refused = format!("http://eds:{PASSWORD}@127.0.0.1:1/");
    let timeout = with_password(&server(silent));
    let stalled = with_password(&server(stalled_body));
    let huge = with_password(&server(huge_content_length));
    let looping = with_password(&server(redirect_loop));
    for (name, url, expected) in [
        ("refused", refused, 75),
        ("timeout", timeout, 75),
        ("stalled body", stalled, 75),
        ("huge body", huge, 3),
        ("redirect loop", looping, 75),
    ] {
        let (code, _, err) = outcome(eds().args([
            "-vv",
            "publish",
            "--dry-run",
            "--api-url",
            &url,
            "--http-timeout",
            "1s",
            "--now",
            NOW,
        ]));
        assert_eq!(code, expected, "{name}: {err}");
        assert_no_secret(name, &err);
        assert!(
            err.contains("caused by") || expected == 3,
            "{name}: -vv shows the causes: {err}"
        );
    }
}

// ---- files that are not regular files ------------------------------------

fn fifo(name: &str) -> std::path::PathBuf {
    let path = std::env::temp_dir().join(format!("eds-hostile-{}-{name}", std::process::id()));
    let _ = std::fs::remove_file(&path);
    let ok = std::process::Command::new("mkfifo")
        .arg(&path)
        .status()
        .unwrap()
        .success();
    assert!(ok, "mkfifo {path:?}");
    path
}

#[test]
fn kafka_config_must_be_a_small_regular_file() {
    let fifo = fifo("client.properties");
    let big =
        std::env::temp_dir().join(format!("eds-hostile-{}-big.properties", std::process::id()));
    std::fs::write(&big, "# padding\n".repeat(200_000)).unwrap();
    let dir = std::env::temp_dir();
    for (name, path) in [
        ("FIFO", fifo.as_path()),
        ("directory", dir.as_path()),
        ("/dev/zero", std::path::Path::new("/dev/zero")),
        ("2 MB file", big.as_path()),
    ] {
        for command in [
            &["publish", "--brokers", "127.0.0.1:1"][..],
            &["consume", "--brokers", "127.0.0.1:1"][..],
        ] {
            let started = Instant::now();
            let (code, _, err) = outcome(
                eds()
                    .args(command)
                    .arg("--kafka-config")
                    .arg(path)
                    .timeout(Duration::from_secs(20)),
            );
            assert_eq!(code, 2, "{name}: {err}");
            assert!(err.contains("--kafka-config"), "{name}: {err}");
            assert!(started.elapsed() < Duration::from_secs(5), "{name}");
        }
    }
    std::fs::remove_file(&fifo).unwrap();
    std::fs::remove_file(&big).unwrap();
}

#[test]
fn a_fifo_named_by_a_librdkafka_location_property_is_refused() {
    let fifo = fifo("ca.pem");
    let started = Instant::now();
    let (code, _, err) = outcome(
        eds()
            .args(["publish", "--brokers", "127.0.0.1:1", "-X"])
            .arg(format!("ssl.ca.location={}", fifo.display()))
            .timeout(Duration::from_secs(20)),
    );
    assert_eq!(code, 2, "{err}");
    assert!(
        err.contains("ssl.ca.location") && err.contains("FIFO"),
        "{err}"
    );
    assert!(started.elapsed() < Duration::from_secs(5));
    std::fs::remove_file(&fifo).unwrap();
}

#[test]
fn lock_and_metrics_files_that_are_fifos_do_not_hang_the_run() {
    let stub = StubApi::start();
    stub.set_now(utc(NOW));
    let lock = fifo("lock");
    let (code, _, err) = outcome(
        eds()
            .args(["publish", "--dry-run", "--api-url", &stub.url, "--now", NOW])
            .arg("--lock-file")
            .arg(&lock)
            .timeout(Duration::from_secs(20)),
    );
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("--lock-file"), "{err}");
    std::fs::remove_file(&lock).unwrap();
    let metrics = fifo("metrics");
    let (code, _, err) = outcome(
        eds()
            .args(["publish", "--dry-run", "--api-url", &stub.url, "--now", NOW])
            .arg("--metrics-file")
            .arg(&metrics)
            .timeout(Duration::from_secs(20)),
    );
    assert_eq!(code, 0, "{err}");
    let _ = std::fs::remove_file(&metrics);
}

// ---- a closed stdout -----------------------------------------------------

/// Runs the binary with its stdout a pipe whose read end is closed at once
/// (`| head -c0`): (code, stderr).
fn with_closed_stdout(args: &[&str]) -> (i32, String) {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("eds-kafka"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let mut err = String::new();
    child
        .stderr
        .take()
        .unwrap()
        .read_to_string(&mut err)
        .unwrap();
    (child.wait().unwrap().code().unwrap_or(-1), err)
}

#[test]
fn a_closed_stdout_ends_dry_runs_with_exit_0() {
    let stub = StubApi::start();
    stub.set_now(utc(NOW));
    let url = stub.url.clone();
    let runs: [&[&str]; 3] = [
        &["publish", "--dry-run", "--api-url", &url, "--now", NOW],
        &[
            "publish",
            "--dry-run",
            "--records",
            "--api-url",
            &url,
            "--now",
            NOW,
        ],
        &[
            "backfill",
            "--dry-run",
            "--api-url",
            &url,
            "--fields",
            "CO2Emission",
            "--from",
            "2026-11-27",
            "--to",
            "2026-11-28T12:00:00Z",
            "--chunk",
            "6h",
            "--min-request-interval",
            "0s",
        ],
    ];
    for args in runs {
        let (code, err) = with_closed_stdout(args);
        assert_eq!(code, 0, "{args:?}: {err}");
        assert!(!err.contains("error"), "{args:?}: {err}");
    }
}

/// A run whose stderr is a pipe nobody reads any more (`2>&1 | head -c0`)
/// still ends with its exit code, not a panic from printing the error.
#[test]
fn a_closed_stderr_pipe_does_not_turn_an_error_into_a_panic() {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("eds-kafka"))
        .args([
            "-vv",
            "publish",
            "--dry-run",
            "--api-url",
            "http://127.0.0.1:1",
            "--now",
            NOW,
        ])
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stderr.take());
    assert_eq!(child.wait().unwrap().code(), Some(75));
}

// ---- topics nobody asked for --------------------------------------------------

mod topics {
    use super::*;
    use rdkafka::consumer::{BaseConsumer, Consumer};
    use rdkafka::mocking::MockCluster;
    use rdkafka::ClientConfig;

    /// Whether `topic` exists, asked without allowing auto-creation.
    fn exists(brokers: &str, topic: &str) -> bool {
        let consumer: BaseConsumer = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .set("allow.auto.create.topics", "false")
            .create()
            .unwrap();
        let metadata = consumer
            .fetch_metadata(Some(topic), Duration::from_secs(5))
            .unwrap();
        metadata
            .topics()
            .iter()
            .any(|t| t.name() == topic && t.error().is_none() && !t.partitions().is_empty())
    }

    fn publish(stub: &StubApi, brokers: &str, extra: &[&str]) -> (i32, String, String) {
        outcome(
            eds()
                .args([
                    "publish",
                    "--api-url",
                    &stub.url,
                    "--now",
                    NOW,
                    "--brokers",
                    brokers,
                ])
                .args(["--kafka-timeout", "5s"])
                .args(extra),
        )
    }

    /// librdkafka's mock cluster creates any topic a metadata request allows
    /// it to, as a broker with `auto.create.topics.enable=true` does.
    #[test]
    fn a_missing_topic_is_named_and_not_created() {
        let mock = MockCluster::new(1).unwrap();
        let brokers = mock.bootstrap_servers();
        let stub = StubApi::start();
        stub.set_now(utc(NOW));
        let topics = [
            "--records-topic",
            "fresh.records",
            "--aggregates-topic",
            "fresh.aggs",
        ];
        let (code, _, err) = publish(&stub, &brokers, &topics);
        assert_eq!(code, 4, "{err}");
        assert!(err.contains("topic fresh.records does not exist"), "{err}");
        assert!(
            err.contains("create it with 1 partition or pass --create-topics"),
            "{err}"
        );
        // Even a user's -X asking for it does not make this program create topics.
        let (code, _, err) = publish(
            &stub,
            &brokers,
            &[&topics[..], &["-X", "allow.auto.create.topics=true"]].concat(),
        );
        assert_eq!(code, 4, "{err}");
        assert!(stub.requests().is_empty(), "no API request is spent");
        for topic in ["fresh.records", "fresh.aggs"] {
            assert!(!exists(&brokers, topic), "{topic} was created");
        }
    }

    #[test]
    fn consume_of_a_missing_topic_says_so_and_creates_nothing() {
        let mock = MockCluster::new(1).unwrap();
        let brokers = mock.bootstrap_servers();
        for start in [
            &["--last", "1"][..],
            &["--from-beginning"][..],
            &["--group", "g1"][..],
        ] {
            let started = Instant::now();
            let (code, _, err) = outcome(
                eds()
                    .args([
                        "consume",
                        "--brokers",
                        &brokers,
                        "--topic",
                        "nobody.wrote.this",
                    ])
                    .args(["--kafka-timeout", "5s", "--idle-timeout", "1s"])
                    .args(start),
            );
            assert_eq!(code, 4, "{start:?}: {err}");
            assert!(
                err.contains("topic nobody.wrote.this does not exist"),
                "{start:?}: {err}"
            );
            assert!(started.elapsed() < Duration::from_secs(5), "{start:?}");
        }
        assert!(!exists(&brokers, "nobody.wrote.this"));
    }

    #[test]
    fn a_topic_with_more_partitions_is_written_on_one_with_a_warning() {
        let mock = MockCluster::new(1).unwrap();
        mock.create_topic("eds.PowerSystemRightNow.records", 3, 1)
            .unwrap();
        mock.create_topic("eds.PowerSystemRightNow.aggregates", 1, 1)
            .unwrap();
        let brokers = mock.bootstrap_servers();
        let stub = StubApi::start();
        stub.set_now(utc(NOW));
        let (code, _, err) = publish(&stub, &brokers, &[]);
        assert_eq!(code, 0, "{err}");
        assert!(
            err.contains("eds.PowerSystemRightNow.records has 3 partitions; only partition 0"),
            "{err}"
        );
        assert!(!err.contains("aggregates has"), "{err}");
    }

    /// The aggregate's JSON has the same finite mean as the CSV.
    #[test]
    fn the_mean_of_huge_values_is_the_same_number_in_kafka() {
        let mock = MockCluster::new(1).unwrap();
        mock.create_topic("eds.PowerSystemRightNow.aggregates", 1, 1)
            .unwrap();
        let brokers = mock.bootstrap_servers();
        let url = server(huge_values);
        let (code, _, err) = outcome(eds().args([
            "publish",
            "--api-url",
            &url,
            "--now",
            NOW,
            "--brokers",
            &brokers,
            "--records-topic",
            "",
            "--fields",
            "CO2Emission",
        ]));
        assert_eq!(code, 0, "{err}");
        let (code, out, err) = outcome(eds().args([
            "consume",
            "--brokers",
            &brokers,
            "--format",
            "json",
            "--idle-timeout",
            "1s",
        ]));
        assert_eq!(code, 0, "{err}");
        let value: serde_json::Value = serde_json::from_str(out.lines().next().unwrap()).unwrap();
        assert_eq!(
            value["fields"]["CO2Emission"]["mean"].as_f64(),
            Some(1.7e308),
            "{out}"
        );
        let (code, csv, err) =
            outcome(eds().args(["consume", "--brokers", &brokers, "--idle-timeout", "1s"]));
        assert_eq!(code, 0, "{err}");
        let mean = csv
            .lines()
            .nth(1)
            .unwrap()
            .split(',')
            .nth(4)
            .unwrap()
            .to_string();
        assert_eq!(mean.parse::<f64>().unwrap(), 1.7e308, "{csv}");
    }

    #[test]
    fn illegal_topic_names_are_usage_errors() {
        let long = "x".repeat(250);
        for (flag, name) in [
            ("--records-topic", "a b"),
            ("--aggregates-topic", ".."),
            ("--records-topic", long.as_str()),
        ] {
            let (code, _, err) =
                outcome(eds().args(["publish", "--brokers", "127.0.0.1:1", flag, name]));
            assert_eq!(code, 2, "{flag} {name}: {err}");
            assert!(
                err.contains(flag) && err.contains("249 characters"),
                "{err}"
            );
        }
        let (code, _, err) = outcome(eds().args([
            "consume",
            "--brokers",
            "127.0.0.1:1",
            "--topic",
            "no/slashes",
        ]));
        assert_eq!(code, 2, "{err}");
    }

    fn produce(brokers: &str, topic: &str, payload: &str) {
        use rdkafka::producer::{BaseProducer, BaseRecord, Producer};
        let producer: BaseProducer = ClientConfig::new()
            .set("bootstrap.servers", brokers)
            .create()
            .unwrap();
        producer
            .send(BaseRecord::to(topic).key("k").payload(payload))
            .unwrap();
        producer.flush(Duration::from_secs(5)).unwrap();
    }

    /// Messages that look like aggregates but are not are skipped with a
    /// warning; a closed stdout ends consume with exit 0.
    #[test]
    fn consume_skips_bogus_aggregates_and_takes_a_closed_stdout() {
        let mock = MockCluster::new(1).unwrap();
        mock.create_topic("eds.PowerSystemRightNow.aggregates", 1, 1)
            .unwrap();
        mock.create_topic("eds.PowerSystemRightNow.records", 1, 1)
            .unwrap();
        let brokers = mock.bootstrap_servers();
        let stub = StubApi::start();
        stub.set_now(utc(NOW));
        let (code, _, err) = publish(&stub, &brokers, &[]);
        assert_eq!(code, 0, "{err}");
        let topic = "eds.PowerSystemRightNow.aggregates";
        produce(
            &brokers,
            topic,
            r#"{"window_start":"never","fields":{"A":{"median":1}}}"#,
        );
        let (code, out, err) =
            outcome(eds().args(["consume", "--brokers", &brokers, "--idle-timeout", "1s"]));
        assert_eq!(code, 0, "{err}");
        assert_eq!(
            out.lines().count(),
            2,
            "header and the one good aggregate: {out}"
        );
        assert!(err.contains("not an aggregate"), "{err}");
        for format in ["csv", "json"] {
            let (code, err) = with_closed_stdout(&[
                "consume",
                "--brokers",
                &brokers,
                "--idle-timeout",
                "1s",
                "--format",
                format,
            ]);
            assert_eq!(code, 0, "{format}: {err}");
            assert!(!err.contains("error"), "{format}: {err}");
        }
    }
}
