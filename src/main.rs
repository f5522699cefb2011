//! Thin entry point: parse, run, map the error to an exit code.

use clap::Parser;
use eds_kafka::cli::Cli;
use eds_kafka::exit::{exit_of, Exit};

fn main() {
    let cli = Cli::parse();
    eds_kafka::logging::init(&cli.log);
    let code = match eds_kafka::run(cli) {
        Ok(()) => Exit::Success,
        Err(err) => {
            eprintln!("eds-kafka: error: {err:#}");
            exit_of(&err)
        }
    };
    std::process::exit(code.code());
}
