//! The test suite's stub of the Energi Data Service API as a standalone
//! server, for trying the binary without the internet (README "Try it
//! locally") and for benchmarks:
//!
//! `cargo run --release --example stub_api -- [--listen HOST:PORT] [--now RFC3339] [--full-rows] [--cache]`
//!
//! It serves `/dataset/PowerSystemRightNow` (synthetic rows, one per minute,
//! values derived from the minute; see `docs/api.md` for the API it stands in
//! for) with every minute up to its clock: the system clock, read at each
//! request, or the fixed `--now`. So `eds-kafka publish --api-url URL` works
//! with or without `--now` (any time up to the stub's clock). Listens on
//! `--listen` (default: 127.0.0.1 and a free port), prints its base URL on
//! stdout once listening, then serves until killed. `--forecasts` serves
//! Forecasts_5Min rows instead (every area and forecast type, from 12 hours
//! before `--now` to 12 hours after; needs `--now`), for the benchmarks.

#[path = "../tests/support/keyed.rs"]
mod keyed;
#[path = "../tests/support/stub.rs"]
mod stub;

use chrono::{DateTime, Utc};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let value = |flag: &str| {
        args.iter()
            .position(|a| a == flag)
            .map(|i| args.get(i + 1).unwrap_or_else(|| usage(flag)))
    };
    let api = stub::StubApi::start_on(value("--listen").map_or("127.0.0.1:0", |v| v.as_str()));
    match value("--now") {
        Some(t) => api.set_now(
            DateTime::parse_from_rfc3339(t)
                .unwrap_or_else(|_| usage("--now"))
                .with_timezone(&Utc),
        ),
        None => api.follow_system_clock(),
    }
    api.full_rows(args.iter().any(|a| a == "--full-rows"));
    if args.iter().any(|a| a == "--cache") {
        api.cache_bodies();
    }
    if args.iter().any(|a| a == "--forecasts") {
        let now = value("--now").unwrap_or_else(|| usage("--now"));
        let now = DateTime::parse_from_rfc3339(now).unwrap_or_else(|_| usage("--now"));
        let shape = keyed::forecasts();
        let day = keyed::floor(&shape, now.with_timezone(&Utc)) - chrono::TimeDelta::hours(12);
        let rows = keyed::rows(&shape, day, day + chrono::TimeDelta::days(1))
            .into_iter()
            .map(|(t, k)| keyed::row(&shape, t, k))
            .collect();
        api.serve_sorted_rows(rows);
    }
    println!("{}", api.url);
    eprintln!(
        "stub_api: PowerSystemRightNow, one row per minute up to {}, at {}/dataset/PowerSystemRightNow",
        value("--now").map_or("the system clock", |v| v.as_str()),
        api.url
    );
    loop {
        std::thread::park();
    }
}

fn usage(flag: &str) -> ! {
    eprintln!(
        "stub_api: {flag} needs a value: [--listen HOST:PORT] [--now RFC3339] [--full-rows] [--cache]"
    );
    std::process::exit(2)
}
