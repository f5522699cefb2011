//! Thin entry point: parse, run, map the error to an exit code.

use clap::Parser;
use eds_kafka::cli::Cli;
use eds_kafka::exit::{exit_of, report, Exit};

fn main() {
    let cli = Cli::parse();
    eds_kafka::logging::init(&cli.log);
    let code = match eds_kafka::run(cli) {
        Ok(()) => Exit::Success,
        Err(err) => {
            let code = exit_of(&err);
            // A closed stdout (`| head`) ends the run quietly, with exit 0.
            if code != Exit::Success {
                // -v and more: the errors that caused it, one per line.
                let causes = log::max_level() >= log::LevelFilter::Debug;
                let text = report(&err, causes, eds_kafka::redact::text);
                // Timestamped as the log lines; never panics on a closed stderr.
                eds_kafka::logging::error(&text);
            }
            code
        }
    };
    std::process::exit(code.code());
}
