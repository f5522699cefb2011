//! One builder for the argument lists of test runs, so that a test reads as
//! the feature it runs: `Args::publish(&stub, NOW).brokers(&b).flag("--lock-file", &lock)`.

use super::{eds, outcome};

/// The arguments of one run of the binary, subcommand first.
#[derive(Debug, Clone)]
pub struct Args(Vec<String>);

impl Args {
    pub fn new(command: &str) -> Args {
        Args(vec![command.to_string()])
    }

    /// `publish` against the API at `url` (a stub's), at `now`.
    pub fn publish(url: &str, now: &str) -> Args {
        Args::new("publish")
            .flag("--api-url", url)
            .flag("--now", now)
    }

    /// `publish --dry-run` against the API at `url`, at `now`.
    pub fn dry_run(url: &str, now: &str) -> Args {
        Args::publish(url, now).extra(&["--dry-run"])
    }

    /// `backfill` against the API at `url`, unpaced.
    pub fn backfill(url: &str) -> Args {
        Args::new("backfill")
            .flag("--api-url", url)
            .flag("--min-request-interval", "0s")
    }

    /// `--name value`.
    pub fn flag(mut self, name: &str, value: &str) -> Args {
        self.0.extend([name.to_string(), value.to_string()]);
        self
    }

    pub fn brokers(self, brokers: &str) -> Args {
        self.flag("--brokers", brokers)
    }

    /// Arguments as given.
    pub fn extra(mut self, extra: &[&str]) -> Args {
        self.0.extend(extra.iter().map(|s| s.to_string()));
        self
    }

    pub fn list(&self) -> &[String] {
        &self.0
    }

    /// Runs the binary (clean environment): (exit code, stdout, stderr).
    pub fn run(&self) -> (i32, String, String) {
        outcome(eds().args(&self.0))
    }
}
