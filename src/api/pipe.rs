//! Fetches on a thread of their own: a [`Reader`] reads each response's
//! body and parses its rows there, and hands them over in batches through a
//! bounded channel, while the caller's thread does what it does with them (a
//! backfill slides its windows and publishes). The two overlap; memory stays
//! bounded by the channels ([`BATCH`] rows times [`BOUND`] batches a fetch,
//! besides one batch being filled and one being used).
//!
//! Fetches are made one after the other, in the order asked, never two
//! requests at once: a fetch asked for while another is being read starts
//! when that one's body has been read. The rows arrive as [`Api::fetch`]
//! would hand them over, in the same order: every row parsed before a
//! failure first, then the failure itself, from [`Batches::finish`]. A caller
//! that stops early drops its [`Batches`]: the reader stops that fetch at its
//! next batch.

use std::sync::mpsc::{channel, sync_channel, Receiver, Sender, SyncSender};

use anyhow::Result;
use chrono::{DateTime, Utc};

use super::{Api, FetchInfo};
use crate::dataset::{Dataset, Row};

/// Rows a batch holds: a day of minutes is six batches.
pub const BATCH: usize = 256;
/// Batches of one fetch waiting in its channel at most.
pub const BOUND: usize = 4;

/// The reader stopped: the caller went away, or (for the caller) the
/// reader's thread ended before the fetch's outcome.
#[derive(Debug, thiserror::Error)]
#[error("the API reader's thread stopped before the fetch ended")]
pub struct Gone;

/// The system would not start the reader's thread.
#[derive(Debug, thiserror::Error)]
#[error("starting a thread to read the API's responses: {0}")]
pub struct NoThread(#[source] pub std::io::Error);

/// The thread that makes the fetches asked of it, one at a time.
pub struct Reader {
    jobs: Sender<Job>,
}

/// One fetch asked for, and where its rows go.
struct Job {
    dataset: Dataset,
    start: DateTime<Utc>,
    end: DateTime<Utc>,
    out: SyncSender<Piece>,
}

/// What a fetch hands over: batches of rows, then how it ended.
enum Piece {
    Rows(Vec<Row>),
    Done(Result<FetchInfo>),
}

/// The rows of one fetch as they are parsed, in batches (an iterator); then
/// its outcome ([`Batches::finish`]).
pub struct Batches {
    pieces: Receiver<Piece>,
    outcome: Option<Result<FetchInfo>>,
}

impl Api {
    /// A [`Reader`] of this API on a thread of its own, which ends when the
    /// reader is dropped (after the fetch it is making).
    pub fn reader(&self) -> Result<Reader, NoThread> {
        let (jobs, queue) = channel::<Job>();
        let api = self.clone();
        std::thread::Builder::new()
            .name("api reader".into())
            .spawn(move || {
                for job in queue {
                    let outcome = read(&api, &job);
                    // A caller gone by now does not want the outcome either.
                    let _ = job.out.send(Piece::Done(outcome));
                }
            })
            .map_err(NoThread)?;
        Ok(Reader { jobs })
    }
}

impl Reader {
    /// [`Api::fetch`] on the reader's thread, once the fetches asked for
    /// before it are read.
    pub fn fetch(&self, dataset: &Dataset, start: DateTime<Utc>, end: DateTime<Utc>) -> Batches {
        let (out, pieces) = sync_channel(BOUND);
        let job = Job {
            dataset: dataset.clone(),
            start,
            end,
            out,
        };
        // A reader whose thread has ended drops the job: `finish` says so.
        let _ = self.jobs.send(job);
        Batches {
            pieces,
            outcome: None,
        }
    }
}

/// The fetch, sending full batches as they fill and the last one at the end
/// (also when the fetch failed: the rows before the failure count).
fn read(api: &Api, job: &Job) -> Result<FetchInfo> {
    let mut batch = Vec::with_capacity(BATCH);
    let outcome = api.fetch(&job.dataset, job.start, job.end, &mut |row| {
        batch.push(row);
        if batch.len() == BATCH {
            let full = std::mem::replace(&mut batch, Vec::with_capacity(BATCH));
            job.out.send(Piece::Rows(full)).map_err(|_| Gone)?;
        }
        Ok(())
    });
    if !batch.is_empty() {
        let _ = job.out.send(Piece::Rows(batch));
    }
    outcome
}

impl Iterator for Batches {
    type Item = Vec<Row>;

    fn next(&mut self) -> Option<Vec<Row>> {
        if self.outcome.is_some() {
            return None;
        }
        match self.pieces.recv() {
            Ok(Piece::Rows(rows)) => Some(rows),
            Ok(Piece::Done(outcome)) => {
                self.outcome = Some(outcome);
                None
            }
            Err(_) => {
                self.outcome = Some(Err(Gone.into()));
                None
            }
        }
    }
}

impl Batches {
    /// How the fetch ended; rows not taken yet are dropped.
    pub fn finish(mut self) -> Result<FetchInfo> {
        while self.next().is_some() {}
        self.outcome.take().unwrap_or_else(|| Err(Gone.into()))
    }
}
