//! Log setup: everything goes to stderr (stdout carries data only), at the
//! level EDS_LOG / --log-level gives, raised by -v and lowered by -q. Every
//! line starts with a fixed-width UTC timestamp (`2026-12-01T08:44:02.123Z`),
//! the error `main` reports too, and passes through [`crate::redact`] on its
//! way out. While a progress bar is shown ([`show_progress`]), lines are
//! written above it, not onto its line.

use std::io::{self, Write};
use std::sync::Mutex;

use chrono::{DateTime, Utc};
use indicatif::ProgressBar;
use log::{Level, LevelFilter, Log, Metadata, Record};

const LEVELS: [LevelFilter; 6] = [
    LevelFilter::Off,
    LevelFilter::Error,
    LevelFilter::Warn,
    LevelFilter::Info,
    LevelFilter::Debug,
    LevelFilter::Trace,
];

/// The progress bar log lines are written above, while one is shown.
static BAR: Mutex<Option<ProgressBar>> = Mutex::new(None);

/// The `base` level moved up by `verbose` steps and down by `quiet` steps.
pub fn level(base: LevelFilter, verbose: u8, quiet: u8) -> LevelFilter {
    let base = LEVELS.iter().position(|l| *l == base).unwrap_or(3) as i32;
    let index = (base + verbose as i32 - quiet as i32).clamp(0, LEVELS.len() as i32 - 1);
    LEVELS[index as usize]
}

/// Installs the stderr logger at `level` (see [`level`]).
pub fn init(level: LevelFilter) {
    // Only fails when a logger is already set, which is harmless.
    if log::set_logger(&LOGGER).is_ok() {
        log::set_max_level(level);
    }
}

/// `2026-12-01T08:44:02.123Z`: always milliseconds, so every line's message
/// starts in the same column.
pub fn timestamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
}

/// One log line: `2026-12-01T08:44:02.123Z [INFO] text`, newline included.
/// Control characters in `text` are escaped ([`crate::text::visible_lines`]):
/// nothing in a log line drives the terminal it is read on.
pub fn line(t: DateTime<Utc>, level: Level, text: &str) -> String {
    format!(
        "{} [{level}] {}\n",
        timestamp(t),
        crate::text::visible_lines(text)
    )
}

/// Writes the error `main` reports, as an `ERROR` line of the log (whatever
/// the log level). Never panics, also when stderr is closed (`2>&-`).
pub fn error(text: &str) {
    write_line(&line(Utc::now(), Level::Error, text));
}

/// Shows log lines above `bar` (`None`: the bar is gone).
pub fn show_progress(bar: Option<ProgressBar>) {
    *BAR.lock().unwrap_or_else(|e| e.into_inner()) = bar;
}

/// `1 message`, `0 messages`, `5 messages`.
pub fn count(n: u64, noun: &str) -> String {
    match n {
        1 => format!("1 {noun}"),
        _ => format!("{n} {noun}s"),
    }
}

/// Elapsed time as every log line gives it: seconds with milliseconds (`0.331s`).
pub fn elapsed(d: std::time::Duration) -> String {
    format!("{:.3}s", d.as_secs_f64())
}

/// How many examples a [`Tally`] keeps.
const EXAMPLES: usize = 3;

/// Things of one kind (messages skipped, warnings) counted, the first few
/// named: said once, never a line each.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Tally {
    pub count: u64,
    pub first: Vec<String>,
}

impl Tally {
    /// Counts one message skipped; `what` names it.
    pub fn add(&mut self, what: String) {
        self.count += 1;
        if self.first.len() < EXAMPLES {
            self.first.push(what);
        }
    }

    /// Takes in another's count and names (the first few kept).
    pub fn absorb(&mut self, other: Tally) {
        self.count += other.count;
        let room = EXAMPLES.saturating_sub(self.first.len());
        self.first.extend(other.first.into_iter().take(room));
    }

    /// `N message(s) ...: first, second, third, and N more`; `None` for none.
    pub fn summary(&self, what: &str) -> Option<String> {
        self.summary_of("message(s)", what)
    }

    /// [`Tally::summary`] counting `things` instead of messages.
    pub fn summary_of(&self, things: &str, what: &str) -> Option<String> {
        if self.count == 0 {
            return None;
        }
        let more = self.count - self.first.len() as u64;
        let and_more = if more > 0 {
            format!(", and {more} more")
        } else {
            String::new()
        };
        Some(format!(
            "{} {things} {what}: {}{and_more}",
            self.count,
            self.first.join("; ")
        ))
    }
}

fn write_line(line: &str) {
    let write = || {
        let mut out = Redacting::new(io::stderr().lock());
        let _ = out.write_all(line.as_bytes()).and_then(|()| out.flush());
    };
    let bar = BAR.lock().unwrap_or_else(|e| e.into_inner()).clone();
    match bar {
        Some(bar) if !bar.is_hidden() => bar.suspend(write),
        _ => write(),
    }
}

struct Logger;

static LOGGER: Logger = Logger;

/// The level a record is shown at: rust-rdkafka's own records (its wrapper's
/// bookkeeping, e.g. the second close of a consumer already closed in
/// [`crate::cursor`]) at most at debug; librdkafka's messages reach the log
/// through [`crate::kafka::Context`] instead. apache-avro's notes on each
/// schema it parses ("Going to parse record schema") at trace.
fn shown_level(metadata: &Metadata) -> Level {
    let target = metadata.target();
    if target.starts_with("rdkafka::") {
        metadata.level().max(Level::Debug)
    } else if target.starts_with("apache_avro") {
        metadata.level().max(Level::Trace)
    } else {
        metadata.level()
    }
}

impl Log for Logger {
    fn enabled(&self, metadata: &Metadata) -> bool {
        shown_level(metadata) <= log::max_level()
    }

    fn log(&self, record: &Record) {
        if self.enabled(record.metadata()) {
            write_line(&line(
                Utc::now(),
                shown_level(record.metadata()),
                &record.args().to_string(),
            ));
        }
    }

    fn flush(&self) {}
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
    fn a_tally_counts_and_names_the_first_few_once() {
        let mut r = Tally::default();
        assert_eq!(r.summary("x"), None);
        for i in 0..5 {
            r.add(format!("t offset {i}"));
        }
        assert_eq!(
            r.summary("skipped").unwrap(),
            "5 message(s) skipped: t offset 0; t offset 1; t offset 2, and 2 more"
        );
        let mut one = Tally::default();
        one.add("a".into());
        one.absorb(r);
        assert_eq!((one.count, one.first.len()), (6, 3));
    }

    #[test]
    fn verbosity_moves_the_level() {
        assert_eq!(level(LevelFilter::Info, 0, 0), LevelFilter::Info);
        assert_eq!(level(LevelFilter::Info, 2, 0), LevelFilter::Trace);
        assert_eq!(level(LevelFilter::Info, 5, 0), LevelFilter::Trace);
        assert_eq!(level(LevelFilter::Info, 0, 1), LevelFilter::Warn);
        assert_eq!(level(LevelFilter::Debug, 0, 9), LevelFilter::Off);
    }

    #[test]
    fn lines_have_a_fixed_width_timestamp() {
        use chrono::TimeZone;
        let t = Utc.with_ymd_and_hms(2026, 12, 1, 8, 44, 2).unwrap();
        assert_eq!(
            line(t, Level::Error, "boom"),
            "2026-12-01T08:44:02.000Z [ERROR] boom\n"
        );
        assert_eq!(
            line(t, Level::Warn, "key 'a\x1b[31m\u{7}b'"),
            "2026-12-01T08:44:02.000Z [WARN] key 'a\\x1b[31m\\x07b'\n"
        );
        let t = t + chrono::TimeDelta::microseconds(123_456);
        assert_eq!(timestamp(t), "2026-12-01T08:44:02.123Z");
    }

    #[test]
    fn counts_are_singular_or_plural() {
        assert_eq!(count(1, "message"), "1 message");
        assert_eq!(count(0, "message"), "0 messages");
        assert_eq!(count(5, "aggregate"), "5 aggregates");
        assert_eq!(elapsed(std::time::Duration::from_millis(331)), "0.331s");
        assert_eq!(elapsed(std::time::Duration::from_secs(12)), "12.000s");
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
