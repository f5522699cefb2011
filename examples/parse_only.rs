//! Benchmark baseline: the speed limit of the parse stage. Fetches the same
//! daily chunks `backfill` would fetch from an API (the stub) and times
//! serde_json merely parsing them as they stream in (`IgnoredAny` over the HTTP
//! body, as backfill reads it); then, with the bodies in memory, merely
//! parsing (`IgnoredAny`) and parsing each record into a map (what any
//! row-wise consumer must do).
//! `cargo run --release --example parse_only -- API_URL FROM_DAY DAYS`

use std::time::Instant;

use chrono::{NaiveDate, TimeDelta};
use eds_kafka::api::range_query;
use eds_kafka::dataset::Dataset;
use serde::de::IgnoredAny;
use serde_json::{Map, Value};

#[derive(serde::Deserialize)]
struct Body {
    records: Vec<Map<String, Value>>,
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (url, from, days) = (&args[0], &args[1], args[2].parse::<i64>().unwrap());
    let dataset = Dataset::known("PowerSystemRightNow").unwrap();
    let from = NaiveDate::parse_from_str(from, "%Y-%m-%d")
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap()
        .and_utc();
    let http = reqwest::blocking::Client::new();
    let get = |d: i64| {
        let start = from + TimeDelta::days(d);
        let query = range_query(&dataset, start, start + TimeDelta::days(1));
        http.get(format!("{url}/dataset/{}", dataset.name))
            .query(&query)
            .send()
            .unwrap()
    };
    // Once to fill the stub's cache, then timed: HTTP + streaming parse, nothing kept.
    for d in 0..days {
        get(d).bytes().unwrap();
    }
    let t = Instant::now();
    for d in 0..days {
        serde_json::from_reader::<_, IgnoredAny>(std::io::BufReader::with_capacity(
            64 * 1024,
            get(d),
        ))
        .unwrap();
    }
    let streamed = t.elapsed().as_secs_f64();
    let mut bodies = Vec::new();
    for d in 0..days {
        let start = from + TimeDelta::days(d);
        let query = range_query(&dataset, start, start + TimeDelta::days(1));
        let body = http
            .get(format!("{url}/dataset/{}", dataset.name))
            .query(&query)
            .send()
            .and_then(|r| r.bytes())
            .unwrap();
        bodies.push(body.to_vec());
    }
    let bytes: usize = bodies.iter().map(Vec::len).sum();

    let t = Instant::now();
    for b in &bodies {
        serde_json::from_slice::<IgnoredAny>(b).unwrap();
    }
    let ignored = t.elapsed().as_secs_f64();

    let t = Instant::now();
    let mut rows = 0;
    for b in &bodies {
        rows += serde_json::from_slice::<Body>(b).unwrap().records.len();
    }
    let maps = t.elapsed().as_secs_f64();
    let mb = bytes as f64 / 1e6;
    println!("bytes {bytes} rows {rows}");
    println!(
        "stream IgnoredAny: {:.2}s {:.0} MB/s {:.0} rows/s",
        streamed,
        mb / streamed,
        rows as f64 / streamed
    );
    println!(
        "parse IgnoredAny: {:.2}s {:.0} MB/s {:.0} rows/s",
        ignored,
        mb / ignored,
        rows as f64 / ignored
    );
    println!(
        "parse into maps:  {:.2}s {:.0} MB/s {:.0} rows/s",
        maps,
        mb / maps,
        rows as f64 / maps
    );
}
