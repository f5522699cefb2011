//! The test suite's stub of the Energi Data Service API as a standalone
//! server, for benchmarks and manual runs: `cargo run --release --example
//! stub_api -- [--now RFC3339] [--full-rows] [--cache] [--forecasts]`
//! (`--forecasts`: Forecasts_5Min rows, every key combination, from 12 hours
//! before `--now` to 12 hours after). Prints its base URL
//! on stdout, then serves until killed.

#[path = "../tests/support/keyed.rs"]
mod keyed;
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
    // Forecasts_5Min rows (every area and forecast type) for the day of --now.
    if args.iter().any(|a| a == "--forecasts") {
        let shape = keyed::forecasts();
        let day = keyed::floor(&shape, now) - chrono::TimeDelta::hours(12);
        let rows = keyed::rows(&shape, day, day + chrono::TimeDelta::days(1))
            .into_iter()
            .map(|(t, k)| keyed::row(&shape, t, k))
            .collect();
        api.serve_sorted_rows(rows);
    }
    println!("{}", api.url);
    loop {
        std::thread::park();
    }
}
