//! The command line of `examples/stub_api.rs` (the stub API as a server):
//! its options, parsed strictly (an unknown option is an error), and the
//! stub they start. Here, not in the example, so that the tests check it
//! (`tests/cli/stub_cli.rs`).

#![allow(dead_code)]

use std::sync::Arc;

use chrono::{DateTime, TimeDelta, Utc};

use super::keyed::{self, Shape};
use super::stub::StubApi;

pub const USAGE: &str = "\
usage: stub_api [--listen HOST:PORT] [--now RFC3339] [--dataset NAME] [--keys N] [--full-rows] [--cache]

A stand-in for the Energi Data Service API (docs/api.md) with synthetic rows,
for trying eds-kafka without the internet. Prints its base URL on stdout once
listening, then serves until killed.

  --listen HOST:PORT  where to listen (default: 127.0.0.1 and a free port)
  --now RFC3339       serve rows up to this time (default: the system clock,
                      read at each request)
  --dataset NAME      the dataset served (default: PowerSystemRightNow, one row
                      a minute); also ElectricityProdex5MinRealtime, CO2Emis,
                      CO2EmisProg (per PriceArea DK1/DK2), Forecasts_5Min (per
                      PriceArea and ForecastType), every 5 minutes, and
                      DayAheadPrices (per PriceArea, every 15 minutes, up to a
                      day ahead of the clock)
  --forecasts         the same as --dataset Forecasts_5Min
  --keys N            serve `Synthetic` instead: N key combinations (column Area),
                      every 5 minutes, one field (scale benchmarks; describe it with
                      --dataset Synthetic --time-column Minutes5UTC
                      --dk-time-column Minutes5DK --key-columns Area --resolution 5m)
  --full-rows         PowerSystemRightNow: all 24 fields of the real dataset
  --cache             keep each response and serve it again (benchmarks)
  -h, --help          print this and exit
";

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Options {
    pub listen: String,
    pub now: Option<DateTime<Utc>>,
    /// The dataset's name as the known table spells it.
    pub dataset: String,
    pub full_rows: bool,
    pub cache: bool,
    /// `--keys N`: the synthetic dataset with N key combinations.
    pub keys: Option<usize>,
}

#[derive(Debug, PartialEq, Eq)]
pub enum Parsed {
    Run(Options),
    Help,
}

/// Parses the arguments (without the program name). `Err` is the message
/// for a usage error (exit 2).
pub fn parse(args: &[String]) -> Result<Parsed, String> {
    let mut o = Options {
        listen: "127.0.0.1:0".to_string(),
        now: None,
        dataset: "PowerSystemRightNow".to_string(),
        full_rows: false,
        cache: false,
        keys: None,
    };
    let mut args = args.iter();
    while let Some(arg) = args.next() {
        let (flag, inline) = match arg.split_once('=') {
            Some((f, v)) if f.starts_with("--") => (f, Some(v.to_string())),
            _ => (arg.as_str(), None),
        };
        let mut value = || {
            inline
                .clone()
                .or_else(|| args.next().cloned())
                .ok_or(format!("{flag} needs a value"))
        };
        match flag {
            "-h" | "--help" => return Ok(Parsed::Help),
            "--listen" => o.listen = value()?,
            "--now" => {
                let text = value()?;
                let t = DateTime::parse_from_rfc3339(&text)
                    .map_err(|_| format!("--now '{text}': not an RFC 3339 time"))?;
                o.now = Some(t.with_timezone(&Utc));
            }
            "--dataset" => o.dataset = dataset(&value()?)?,
            "--forecasts" => o.dataset = "Forecasts_5Min".to_string(),
            "--full-rows" => o.full_rows = true,
            "--cache" => o.cache = true,
            "--keys" => {
                let text = value()?;
                let n = text
                    .parse::<usize>()
                    .ok()
                    .filter(|n| (1..=10_000_000).contains(n))
                    .ok_or(format!("--keys '{text}': a number from 1 to 10000000"))?;
                o.keys = Some(n);
                o.dataset = "Synthetic".to_string();
            }
            _ => return Err(format!("unknown option '{arg}'")),
        }
    }
    Ok(Parsed::Run(o))
}

/// The known dataset's name as the table spells it (case ignored).
fn dataset(name: &str) -> Result<String, String> {
    if name.eq_ignore_ascii_case("PowerSystemRightNow") {
        return Ok("PowerSystemRightNow".to_string());
    }
    keyed::by_name(name)
        .map(|s| s.name.to_string())
        .ok_or_else(|| {
            format!(
                "--dataset '{name}': the stub serves PowerSystemRightNow, ElectricityProdex5MinRealtime, \
                 CO2Emis, CO2EmisProg, Forecasts_5Min and DayAheadPrices"
            )
        })
}

/// Starts the stub `o` describes.
pub fn start(o: &Options) -> StubApi {
    let api = StubApi::start_on(&o.listen);
    match o.now {
        Some(t) => api.set_now(t),
        None => api.follow_system_clock(),
    }
    api.full_rows(o.full_rows);
    if o.cache {
        api.cache_bodies();
    }
    if let Some(shape) = o
        .keys
        .map(keyed::synthetic)
        .or_else(|| keyed::by_name(&o.dataset))
    {
        let name = shape.name;
        api.serve_generated(
            name,
            Arc::new(move |from, to, now| rows(&shape, from, to, now)),
        );
    }
    api
}

/// A keyed dataset's rows of `[from, to)`: every key combination at every
/// time on its grid up to the clock's slot (DayAheadPrices: a day ahead).
fn rows(
    shape: &Shape,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    now: DateTime<Utc>,
) -> Vec<serde_json::Value> {
    let ahead = if shape.name == "DayAheadPrices" {
        TimeDelta::days(1)
    } else {
        TimeDelta::zero()
    };
    let newest = keyed::floor(shape, now + ahead);
    let mut first = keyed::floor(shape, from);
    if first < from {
        first += shape.resolution;
    }
    keyed::rows(shape, first, to.min(newest + shape.resolution))
        .into_iter()
        .map(|(t, k)| keyed::row_with(shape, t, k, |f| Some(plausible(shape, t, k, f))))
        .collect()
}

/// A value in the field's usual range (MW, g/kWh, EUR or DKK per MWh),
/// following a daily wave shifted per key combination and field.
fn plausible(shape: &Shape, t: DateTime<Utc>, key: usize, field: usize) -> f64 {
    let name = shape.fields[field];
    let kind = shape.keys[key].last().copied().unwrap_or("");
    let (low, high) = match (name, kind) {
        ("CO2Emission", _) => (40.0, 220.0),
        ("DayAheadPriceEUR", _) => (20.0, 180.0),
        ("DayAheadPriceDKK", _) => (150.0, 1340.0),
        (_, "Solar") | ("SolarPower", _) => (0.0, 1200.0),
        ("ProductionLt100MW", _) => (300.0, 700.0),
        ("ProductionGe100MW", _) => (200.0, 1500.0),
        _ => (100.0, 2400.0),
    };
    let day = (t.timestamp().rem_euclid(86_400)) as f64 / 86_400.0;
    let phase = day * std::f64::consts::TAU + key as f64 * 1.3 + field as f64 * 0.7;
    let v = low + (high - low) * (0.5 + 0.5 * phase.sin());
    (v * 100.0).round() / 100.0
}

/// The line the server prints on stderr: what it serves, and where.
pub fn banner(o: &Options, url: &str) -> String {
    let clock = o
        .now
        .map_or("the system clock".to_string(), |t| t.to_rfc3339());
    let what = match o
        .keys
        .map(keyed::synthetic)
        .or_else(|| keyed::by_name(&o.dataset))
    {
        Some(s) => format!(
            "one row every {} min per {} ({} combinations)",
            s.resolution.num_minutes(),
            s.key_columns.join(" and "),
            s.keys.len()
        ),
        None => "one row per minute".to_string(),
    };
    format!(
        "stub_api: {}, {what}, up to {clock}, at {url}/dataset/{}",
        o.dataset, o.dataset
    )
}
