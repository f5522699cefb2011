//! Thin entry point: parse, run, map the error to an exit code.

use eds_kafka::exit::Exit;
use eds_kafka::failure::{exit_of, report};

fn main() {
    let code = match eds_kafka::cli::parse() {
        Ok(cli) => {
            eds_kafka::logging::init(eds_kafka::config::log_level(&cli.log));
            eds_kafka::run(cli).map_or_else(|err| failed(&err), |()| Exit::Success)
        }
        Err(err) => failed(&err),
    };
    std::process::exit(code.code());
}

/// Reports `err` on stderr and returns its exit code.
fn failed(err: &anyhow::Error) -> Exit {
    let code = exit_of(err);
    // A closed stdout (`| head`) ends the run quietly, with exit 0.
    if code != Exit::Success {
        // -v and more: the errors that caused it, one per line.
        let causes = log::max_level() >= log::LevelFilter::Debug;
        let text = report(err, causes, eds_kafka::redact::text);
        // Timestamped as the log lines; never panics on a closed stderr.
        eds_kafka::logging::error(&text);
    }
    code
}
