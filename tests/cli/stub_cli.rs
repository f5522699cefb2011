//! `examples/stub_api.rs`, the stub API as a server: its command line
//! (`--help`, an unknown option, `--dataset`, the `--forecasts` alias) and
//! what it serves for each dataset of the known table, read by `publish
//! --dry-run` as from the real API.

use crate::support;

use support::stub_cli::{self, Options, Parsed};
use support::{dry_run, dry_run_ok, utc, words};

fn parse(args: &[&str]) -> Result<Parsed, String> {
    let args: Vec<String> = args.iter().map(|a| a.to_string()).collect();
    stub_cli::parse(&args)
}

fn options(args: &[&str]) -> Options {
    match parse(args) {
        Ok(Parsed::Run(o)) => o,
        other => panic!("{args:?}: {other:?}"),
    }
}

#[test]
fn help_and_bad_options() {
    assert_eq!(parse(&["--help"]), Ok(Parsed::Help));
    assert_eq!(parse(&["--listen", "127.0.0.1:0", "-h"]), Ok(Parsed::Help));
    assert!(stub_cli::USAGE.starts_with("usage: stub_api "));
    assert!(stub_cli::USAGE.contains("--dataset NAME"));
    assert_eq!(parse(&["--bogus"]), Err("unknown option '--bogus'".into()));
    assert_eq!(parse(&["stray"]), Err("unknown option 'stray'".into()));
    assert_eq!(parse(&["--listen"]), Err("--listen needs a value".into()));
    assert!(parse(&["--now", "noon"]).unwrap_err().contains("RFC 3339"));
    let e = parse(&["--dataset", "Elspotprices"]).unwrap_err();
    assert!(e.contains("DayAheadPrices"), "{e}");
}

#[test]
fn options_and_their_defaults() {
    let o = options(&[]);
    assert_eq!(
        (
            o.listen.as_str(),
            o.now,
            o.dataset.as_str(),
            o.full_rows,
            o.cache
        ),
        ("127.0.0.1:0", None, "PowerSystemRightNow", false, false)
    );
    let o = options(&[
        "--listen=127.0.0.1:8480",
        "--now",
        "2026-11-28T12:00:00Z",
        "--cache",
    ]);
    assert_eq!(o.listen, "127.0.0.1:8480");
    assert_eq!(o.now, Some(utc("2026-11-28T12:00:00Z")));
    assert!(o.cache && !o.full_rows);
    assert_eq!(options(&["--forecasts"]).dataset, "Forecasts_5Min");
    assert_eq!(options(&["--dataset", "co2emis"]).dataset, "CO2Emis");
}

#[test]
fn the_banner_names_what_is_served() {
    let o = options(&["--dataset", "Forecasts_5Min"]);
    let banner = stub_cli::banner(&o, "http://127.0.0.1:1");
    assert_eq!(
        banner,
        "stub_api: Forecasts_5Min, one row every 5 min per PriceArea and ForecastType \
         (6 combinations), up to the system clock, at http://127.0.0.1:1/dataset/Forecasts_5Min"
    );
    let banner = stub_cli::banner(&options(&[]), "http://h");
    assert!(
        banner.starts_with("stub_api: PowerSystemRightNow, one row per minute"),
        "{banner}"
    );
}

/// Every dataset of the known table: `publish --dry-run` reads the stub's
/// rows and prints one aggregate per key combination, with its key values.
#[test]
fn every_known_dataset_is_served_with_its_keys() {
    let now = "2026-11-28T12:02:30Z";
    let cases: [(&str, &[&str], usize); 6] = [
        ("PowerSystemRightNow", &[], 1),
        ("ElectricityProdex5MinRealtime", &["DK1", "DK2"], 2),
        ("CO2Emis", &["DK1", "DK2"], 2),
        ("CO2EmisProg", &["DK1", "DK2"], 2),
        ("Forecasts_5Min", &["DK1,Offshore Wind", "DK2,Solar"], 6),
        ("DayAheadPrices", &["DK1", "DK2"], 2),
    ];
    for (dataset, keys, lines) in cases {
        let o = options(&["--dataset", dataset, "--now", now]);
        let stub = stub_cli::start(&o);
        let window = if dataset == "DayAheadPrices" {
            "15m"
        } else {
            "5m"
        };
        let (code, out, err) = dry_run(&stub, now, &["--dataset", dataset, "--window", window]);
        assert_eq!(code, 0, "{dataset}: {err}");
        let rows: Vec<&str> = out.lines().skip(1).collect();
        assert_eq!(
            rows.len(),
            lines,
            "{dataset}: one aggregate per key:\n{out}"
        );
        // Plausible values: no negative power or price, CO2 in g/kWh.
        let top = if dataset.starts_with("CO2") {
            220.0
        } else {
            2400.0
        };
        let header: Vec<&str> = out.lines().next().unwrap().split(',').collect();
        for row in &rows {
            for (name, cell) in header.iter().zip(row.split(',')) {
                if name.ends_with("_mean") && dataset != "PowerSystemRightNow" {
                    let v: f64 = cell.parse().unwrap();
                    assert!((0.0..=top).contains(&v), "{dataset} {name} {v}");
                }
            }
        }
        for key in keys {
            assert!(
                rows.iter().any(|r| r.contains(&format!(",{key},"))),
                "{dataset} {key}:\n{out}"
            );
        }
        // Another dataset than the one served is not found.
        let (code, _, err) = dry_run(
            &stub,
            now,
            &[
                "--dataset",
                if dataset == "CO2Emis" {
                    "CO2EmisProg"
                } else {
                    "CO2Emis"
                },
            ],
        );
        assert_eq!(code, 3, "{dataset}: {err}");
    }
}

/// `--keys N` serves the synthetic dataset with N key combinations, which a
/// described dry run reads: one aggregate per combination.
#[test]
fn keys_serve_a_described_dataset_with_that_many_combinations() {
    let o = options(&["--keys", "250", "--now", "2026-11-28T12:00:30Z"]);
    assert_eq!((o.keys, o.dataset.as_str()), (Some(250), "Synthetic"));
    for bad in ["0", "x", "99999999999"] {
        assert!(
            parse(&["--keys", bad]).unwrap_err().contains("--keys"),
            "{bad}"
        );
    }
    let stub = stub_cli::start(&o);
    let out = dry_run_ok(
        &stub,
        "2026-11-28T12:00:30Z",
        &words("--dataset Synthetic --time-column Minutes5UTC --dk-time-column Minutes5DK --key-columns Area --resolution 5m"),
    );
    let lines: Vec<&str> = out.lines().skip(1).collect();
    assert_eq!(lines.len(), 250);
    assert!(
        lines[0].contains("A0000001") && lines[249].contains("A0000250"),
        "{out}"
    );
}
