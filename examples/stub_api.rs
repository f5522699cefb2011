//! The test suite's stub of the Energi Data Service API as a standalone
//! server, for benchmarks and manual runs: `cargo run --release --example
//! stub_api -- [--now RFC3339] [--full-rows] [--cache]`. Prints its base URL
//! on stdout, then serves until killed.

#[path = "../tests/support/stub.rs"]
mod stub;

use chrono::{DateTime, Utc};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let api = stub::StubApi::start();
    let now = args
        .iter()
        .position(|a| a == "--now")
        .and_then(|i| args.get(i + 1))
        .map(|t| {
            DateTime::parse_from_rfc3339(t)
                .expect("--now takes RFC 3339")
                .with_timezone(&Utc)
        })
        .unwrap_or_else(Utc::now);
    api.set_now(now);
    api.full_rows(args.iter().any(|a| a == "--full-rows"));
    if args.iter().any(|a| a == "--cache") {
        api.cache_bodies();
    }
    println!("{}", api.url);
    loop {
        std::thread::park();
    }
}
