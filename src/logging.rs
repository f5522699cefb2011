//! Log setup: everything goes to stderr (stdout carries data only), at the
//! level EDS_LOG / --log-level gives, raised by -v and lowered by -q. Every
//! line passes through [`crate::redact`] on its way out.

use std::io::{self, Write};

use log::LevelFilter;
use simplelog::{ConfigBuilder, WriteLogger};

use crate::cli::LogArgs;

const LEVELS: [LevelFilter; 6] = [
    LevelFilter::Off,
    LevelFilter::Error,
    LevelFilter::Warn,
    LevelFilter::Info,
    LevelFilter::Debug,
    LevelFilter::Trace,
];

/// The base level moved up by `verbose` steps and down by `quiet` steps.
pub fn level(args: &LogArgs) -> LevelFilter {
    let base = LEVELS
        .iter()
        .position(|l| *l == args.log_level)
        .unwrap_or(3) as i32;
    let index = (base + args.verbose as i32 - args.quiet as i32).clamp(0, LEVELS.len() as i32 - 1);
    LEVELS[index as usize]
}

pub fn init(args: &LogArgs) {
    let config = ConfigBuilder::new()
        .set_time_format_rfc3339()
        .set_thread_level(LevelFilter::Off)
        .set_target_level(LevelFilter::Off)
        .set_location_level(LevelFilter::Off)
        .build();
    // Only fails when a logger is already set, which is harmless.
    let _ = WriteLogger::init(level(args), config, Redacting::new(std::io::stderr()));
}

/// Writes whole lines, each with its secrets hidden ([`crate::redact::text`]).
pub struct Redacting<W: Write> {
    inner: W,
    line: Vec<u8>,
}

impl<W: Write> Redacting<W> {
    pub fn new(inner: W) -> Self {
        Redacting {
            inner,
            line: Vec::new(),
        }
    }

    fn emit(&mut self, upto: usize) -> io::Result<()> {
        let line: Vec<u8> = self.line.drain(..upto).collect();
        let text = crate::redact::text(&String::from_utf8_lossy(&line));
        self.inner.write_all(text.as_bytes())
    }
}

impl<W: Write> Write for Redacting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        self.line.extend_from_slice(buf);
        while let Some(n) = self.line.iter().position(|b| *b == b'\n') {
            self.emit(n + 1)?;
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        if !self.line.is_empty() {
            self.emit(self.line.len())?;
        }
        self.inner.flush()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn verbosity_moves_the_level() {
        let args = |verbose, quiet, log_level| LogArgs {
            verbose,
            quiet,
            log_level,
        };
        assert_eq!(level(&args(0, 0, LevelFilter::Info)), LevelFilter::Info);
        assert_eq!(level(&args(2, 0, LevelFilter::Info)), LevelFilter::Trace);
        assert_eq!(level(&args(5, 0, LevelFilter::Info)), LevelFilter::Trace);
        assert_eq!(level(&args(0, 1, LevelFilter::Info)), LevelFilter::Warn);
        assert_eq!(level(&args(0, 9, LevelFilter::Debug)), LevelFilter::Off);
    }

    #[test]
    fn log_lines_are_redacted_whole() {
        let mut out = Vec::new();
        let mut w = Redacting::new(&mut out);
        write!(w, "GET http://user:").unwrap();
        write!(w, "hunter2@host/ failed\nnext").unwrap();
        w.flush().unwrap();
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "GET http://[redacted]@host/ failed\nnext"
        );
    }
}
