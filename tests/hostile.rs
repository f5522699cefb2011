//! Hostile input and faults, through the real binary: servers that trickle,
//! stall or announce absurd bodies, absurd flag values, secrets in URLs,
//! odd files, closed pipes, and topics that do not exist.

mod support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Stdio;
use std::time::{Duration, Instant};

use support::stub::StubApi;
use support::{dry_run, eds, outcome, utc};

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
    let cases: [(&str, Serve); 5] = [
        ("trickling body", trickling_body),
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
        assert!(err.contains("timed out"), "{name}: {err}");
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
