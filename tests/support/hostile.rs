//! Misbehaving HTTP servers for the hostile-input tests (cli/hostile,
//! mock/hostile_topics): servers that trickle, stall, loop or announce
//! absurd bodies, secrets to look for in the output, and runs whose stdout
//! is a closed pipe.

#![allow(dead_code)]

use std::io::{BufRead, BufReader, Write};
use std::net::{TcpListener, TcpStream};
use std::process::Stdio;
use std::time::Duration;

/// A loopback HTTP server whose every connection is handed to `serve` once
/// the request head has been read. Returns its base URL.
pub type Serve = fn(&mut TcpStream);

pub fn server(serve: Serve) -> String {
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
pub fn trickle(stream: &mut TcpStream, bytes: impl IntoIterator<Item = u8>, gap: Duration) {
    for b in bytes {
        if stream.write_all(&[b]).is_err() {
            return;
        }
        std::thread::sleep(gap);
    }
}

pub const JSON_HEAD: &str = "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n";

pub fn trickling_body(s: &mut TcpStream) {
    let _ = write!(s, "{JSON_HEAD}Content-Length: 100000\r\n\r\n");
    trickle(s, std::iter::repeat(b' '), Duration::from_millis(300));
}

pub fn trickling_chunked_body(s: &mut TcpStream) {
    let _ = write!(s, "{JSON_HEAD}Transfer-Encoding: chunked\r\n\r\n");
    for _ in 0..1000 {
        if s.write_all(b"1\r\n \r\n").is_err() {
            return;
        }
        std::thread::sleep(Duration::from_millis(300));
    }
}

pub fn trickling_headers(s: &mut TcpStream) {
    let _ = write!(s, "HTTP/1.1 200 OK\r\n");
    trickle(
        s,
        b"X-Slow: ".iter().copied().chain(std::iter::repeat(b'a')),
        Duration::from_millis(300),
    );
}

pub fn stalled_body(s: &mut TcpStream) {
    let _ = write!(s, "{JSON_HEAD}Content-Length: 100\r\n\r\n{{\"records\":[");
    std::thread::sleep(Duration::from_secs(60));
}

pub fn huge_content_length(s: &mut TcpStream) {
    let _ = write!(
        s,
        "{JSON_HEAD}Content-Length: 1000000000000\r\n\r\n{{\"records\":["
    );
    std::thread::sleep(Duration::from_secs(60));
}

pub fn trickling_error_body(s: &mut TcpStream) {
    let _ = write!(
        s,
        "HTTP/1.1 503 Service Unavailable\r\nContent-Length: 100000\r\n\r\n"
    );
    trickle(s, std::iter::repeat(b'x'), Duration::from_millis(300));
}

pub fn redirect_loop(s: &mut TcpStream) {
    let _ = write!(
        s,
        "HTTP/1.1 302 Found\r\nLocation: /again?token={TOKEN}\r\nContent-Length: 0\r\n\r\n"
    );
}

pub fn silent(_: &mut TcpStream) {
    std::thread::sleep(Duration::from_secs(60));
}

pub const PASSWORD: &str = "Pa55w0rdXyz";
pub const TOKEN: &str = "tok3nSecretQ";

/// Runs the binary with its stdout a pipe whose read end is closed at once
/// (`| head -c0`): (code, stderr).
pub fn with_closed_stdout(args: &[&str]) -> (i32, String) {
    let mut child = std::process::Command::new(assert_cmd::cargo::cargo_bin("eds-kafka"))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    drop(child.stdout.take());
    let err = super::read_stderr(&mut child);
    (child.wait().unwrap().code().unwrap_or(-1), err)
}

/// Five rows whose CO2Emission is 1.7e308 (their mean must stay finite).
pub fn huge_values(s: &mut TcpStream) {
    let rows: Vec<String> = (55..60)
        .map(|m| format!(r#"{{"Minutes1UTC":"2026-11-28T11:{m}:00","Minutes1DK":"2026-11-28T12:{m}:00","CO2Emission":1.7e308}}"#))
        .collect();
    let body = format!(r#"{{"records":[{}]}}"#, rows.join(","));
    let _ = write!(s, "{JSON_HEAD}Content-Length: {}\r\n\r\n{body}", body.len());
}
