//! Where a run's results go: CSV on stdout (`--dry-run`, and `consume`) or
//! Kafka topics, their values plain JSON or framed for a schema registry
//! ([`values`]). Both take records oldest first, then aggregates.

mod create;
pub mod csv;
mod error;
pub mod kafka;
pub mod values;

pub use error::SinkError;

use std::io::{self, Write};

use anyhow::Result;

use crate::aggregate::Aggregate;
use crate::dataset::Row;

/// How many messages a sink wrote.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Written {
    pub records: u64,
    pub aggregates: u64,
    /// Aggregates whose window missed rows.
    pub incomplete: u64,
    /// Messages (of both kinds) that correct an earlier one of their key.
    pub corrections: u64,
}

impl Written {
    /// Counts one record (`revision`: see [`Message`]).
    pub fn record(&mut self, revision: u32) {
        self.records += 1;
        self.corrections += u64::from(revision > 0);
    }

    /// Counts one aggregate (`revision`: see [`Message`]).
    pub fn aggregate(&mut self, agg: &Aggregate, revision: u32) {
        self.aggregates += 1;
        self.corrections += u64::from(revision > 0);
        if agg
            .completeness
            .as_ref()
            .is_some_and(|c| !c.missing.is_empty())
        {
            self.incomplete += 1;
        }
    }
}

/// One message as the emitter made it: its value as JSON (what a JSON
/// topic gets, and what the digest is of), that digest, and its revision (0
/// for a first publication, else which correction it is).
#[derive(Debug, Clone, Copy)]
pub struct Message<'a> {
    pub json: &'a [u8],
    pub digest: u64,
    pub revision: u32,
}

/// A destination for one run's records and aggregates.
pub trait Sink {
    fn record(&mut self, row: &Row, message: Message<'_>) -> Result<()>;
    fn aggregate(&mut self, aggregate: &Aggregate, message: Message<'_>) -> Result<()>;
    /// Flushes everything; returns only when all of it is written (or acknowledged).
    fn finish(&mut self) -> Result<Written>;
}

/// A writer (stdout) that notes when its reader went away (`| head`), so the
/// run ends with exit 0 however the error is wrapped on its way up.
pub struct Watched<W>(pub W);

impl<W> Watched<W> {
    fn note<T>(result: io::Result<T>) -> io::Result<T> {
        if let Err(e) = &result {
            if e.kind() == io::ErrorKind::BrokenPipe {
                crate::exit::note_output_closed();
            }
        }
        result
    }
}

impl<W: Write> Write for Watched<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        Self::note(self.0.write(buf))
    }

    fn flush(&mut self) -> io::Result<()> {
        Self::note(self.0.flush())
    }
}
