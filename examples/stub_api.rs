//! The test suite's stub of the Energi Data Service API as a standalone
//! server, for trying the binary without the internet (README "Try it
//! locally") and for benchmarks:
//!
//! `cargo run --release --example stub_api -- [--listen HOST:PORT] [--now RFC3339] [--dataset NAME] [--full-rows] [--cache]`
//!
//! It serves one dataset with synthetic rows (see `docs/api.md` for the API
//! it stands in for): `PowerSystemRightNow` by default, one row per minute,
//! or with `--dataset` any keyed dataset of the known table, every key
//! combination (`--forecasts` is `--dataset Forecasts_5Min`). Rows go up to
//! its clock: the system clock, read at each request, or the fixed `--now`.
//! So `eds-kafka publish --api-url URL` works with or without `--now` (any
//! time up to the stub's clock). Listens on `--listen` (default: 127.0.0.1
//! and a free port), prints its base URL on stdout once listening, then
//! serves until killed. `--help` prints the options; an unknown option is a
//! usage error (exit 2). The options are parsed in `tests/support/stub_cli.rs`.

#[path = "../tests/support/keyed.rs"]
mod keyed;
#[path = "../tests/support/stub.rs"]
mod stub;
#[path = "../tests/support/stub_cli.rs"]
mod stub_cli;

use stub_cli::{Parsed, USAGE};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let options = match stub_cli::parse(&args) {
        Ok(Parsed::Run(options)) => options,
        Ok(Parsed::Help) => {
            print!("{USAGE}");
            return;
        }
        Err(message) => {
            eprintln!("stub_api: {message}\n\n{USAGE}");
            std::process::exit(2)
        }
    };
    let api = stub_cli::start(&options);
    println!("{}", api.url);
    eprintln!("{}", stub_cli::banner(&options, &api.url));
    loop {
        std::thread::park();
    }
}
