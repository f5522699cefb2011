//! `eds-kafka backfill --from DATE --to DATE`: history in chunks, one paced
//! request per chunk, each response streamed row by row through a sliding
//! window (memory stays flat whatever the chunk size), with the same message
//! contract and the same Kafka-derived cursor as `publish`, so a stopped
//! backfill resumes where it stopped and never duplicates what `publish` wrote.

use std::io::IsTerminal;
use std::time::{Duration, Instant};

use anyhow::Result;
use chrono::{DateTime, Utc};
use indicatif::{ProgressBar, ProgressStyle};

use crate::api::{self, Api, Batches, Reader, RowShape};
use crate::config::ConfigError;
use crate::config::{BackfillConfig, Output};
use crate::cursor::Emitter;
use crate::cursor::{self, Cursors, Spans};
use crate::kafka::Batching;
use crate::logging::{count, elapsed};
use crate::sink::csv::{CsvSink, Table};
use crate::sink::Sink;
use crate::time::{format_span, format_utc};
use crate::window::Slider;

/// How often a failed chunk (5xx, 429, timeout) is tried before giving up.
const ATTEMPTS: u32 = 5;

pub fn run(config: &BackfillConfig) -> Result<()> {
    let _lock = match &config.lock_file {
        Some(path) => Some(crate::files::lock(path)?),
        None => None,
    };
    super::note_unused_value_format(config.unused_value_format);
    if let Some(asked) = config.requested_to {
        log::warn!(
            "--to {} is after --now: backfilling up to {} only; later rows are not final yet \
             (and Kafka refuses timestamps far ahead): publish takes them in their time",
            format_utc(asked),
            format_utc(config.to)
        );
    }
    run_with(config, &mut std::thread::sleep)
}

/// [`run`] with the pacing sleep given, so tests need not wait.
pub fn run_with(config: &BackfillConfig, sleep: &mut dyn FnMut(Duration)) -> Result<()> {
    let dataset = &config.source.dataset;
    let fields = config
        .aggregate
        .fields
        .named()
        .ok_or_else(|| ConfigError::BackfillAll(dataset.name.clone()))?
        .to_vec();
    let res = dataset.resolution;
    let spans = Spans::backfill(res, config.aggregate.window);
    let (mut sink, mut cursors) = open(config, &fields, spans)?;
    let review = review(config, spans, &mut cursors)?;
    let range = cursor::plan_range(&cursors, config.from, config.to, spans, review);
    let start = range.start;
    if range.first >= config.to {
        log::warn!(
            "nothing to backfill: the topics' cursors (records {}, aggregates {}) are at or past --to {}. \
             Backfill before starting the cron job, or into other topics.",
            cursor::describe(cursors.records.as_ref()),
            cursor::describe(cursors.aggregates.as_ref()),
            format_utc(config.to)
        );
        sink.finish()?;
        return Ok(());
    }
    if start > config.from && start < config.to {
        log::info!("resuming after the cursors: from {}", format_utc(start));
    }
    if range.first < start {
        log::info!(
            "comparing the rows from {} (--max-revision-age / EDS_MAX_REVISION_AGE {} before) \
             with what the topics hold",
            format_utc(range.first),
            format_span(config.max_revision_age)
        );
    }
    let stats = &config.aggregate.stats;
    let mut emitter = Emitter::new(dataset, &fields, stats, sink.as_mut(), range.rules);
    if !matches!(config.output, Output::Kafka(_)) {
        // CSV: nothing to compare with (empty cursors), no value written.
        emitter = emitter.without_values();
    }
    let mut run = Chunks::new(config, api(config, &fields)?, range.first, sleep)?;
    // The first chunk also fetches a window's worth of rows before `start`,
    // as context for the first aggregates.
    for span in chunks(range.context, range.first, config) {
        run.chunk(span, &mut emitter)?;
    }
    emitter.report(&run.slider);
    let revised = std::mem::take(&mut emitter.revised);
    let withdrawn = (emitter.records.as_ref()).map_or(0, |r| r.withdrawn(range.first));
    drop(emitter);
    let written = sink.finish()?;
    cursor::describe::warn_revised(chrono::TimeDelta::zero(), &revised, withdrawn);
    run.progress.finish(written.records, written.aggregates);
    Ok(())
}

/// The sink and the cursors: Kafka's, or empty ones for `--dry-run`.
fn open(
    config: &BackfillConfig,
    fields: &[String],
    spans: Spans,
) -> Result<(Box<dyn Sink>, Cursors)> {
    let dataset = &config.source.dataset;
    let stats = &config.aggregate.stats;
    if let Output::Kafka(kafka) = &config.output {
        let reviews = cursor::plan::Reviews::default();
        // Shares the run's Kafka deadline with `kafka` (the settings' clones do).
        let mut bulk = kafka.clone();
        bulk.settings = bulk.settings.batching(Batching::Bulk);
        let (sink, cursors) =
            cursor::connect(&bulk, dataset, stats, spans.backfill_tail(), reviews)?;
        // Connected within one deadline; the range then takes as long as it
        // takes, each wait on the brokers bounded by --kafka-timeout.
        kafka.settings.per_wait();
        return Ok((Box::new(sink), cursors));
    }
    let records = config.output == Output::CsvRecords;
    let table =
        Table::of(records, dataset, fields, stats).with_completeness(config.aggregate.completeness);
    Ok((Box::new(CsvSink::stdout(table)), Cursors::empty(records)))
}

/// Where the range is compared with what the topics hold (a row they lack
/// or hold with another value is published, once): `--max-revision-age`
/// before the point the backfill resumes at, never before `--from`, read
/// back from the topics into `cursors`; `None` without Kafka or with 0.
fn review(
    config: &BackfillConfig,
    spans: Spans,
    cursors: &mut Cursors,
) -> Result<Option<DateTime<Utc>>> {
    let Output::Kafka(kafka) = &config.output else {
        return Ok(None);
    };
    if config.max_revision_age <= chrono::TimeDelta::zero() {
        return Ok(None);
    }
    let start = cursor::plan_range(cursors, config.from, config.to, spans, None).start;
    let back = start.checked_sub_signed(config.max_revision_age);
    let since = crate::time::floor(back.unwrap_or(config.from), spans.resolution).max(config.from);
    cursor::review(
        kafka,
        &config.source.dataset,
        spans.backfill_tail(),
        cursors,
        since,
    )?;
    Ok(Some(since))
}

/// The API, keeping only the aggregated fields of each row (and the row's
/// text when records are published): a year of rows parses several times faster.
fn api(config: &BackfillConfig, fields: &[String]) -> Result<Api> {
    let publishes_records =
        matches!(&config.output, Output::Kafka(k) if k.topics.records.is_some());
    Ok(Api::new(config.source.api.clone())?.with_shape(RowShape {
        keep: Some(fields.to_vec()),
        raw: publishes_records,
    }))
}

/// The chunks `[from, to)`: `--chunk` long from `start` up to `--to`, the
/// first beginning at `context` instead.
fn chunks(
    context: DateTime<Utc>,
    start: DateTime<Utc>,
    config: &BackfillConfig,
) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_ {
    let mut from = context;
    let mut boundary = start;
    std::iter::from_fn(move || {
        if from >= config.to {
            return None;
        }
        boundary = boundary
            .checked_add_signed(config.chunk)
            .unwrap_or(config.to);
        let to = boundary.min(config.to);
        let chunk = (from, to);
        from = to;
        Some(chunk)
    })
}

/// At least `interval` between two requests, slept through `sleep`.
struct Pacer<'a> {
    interval: Duration,
    last: Option<Instant>,
    sleep: &'a mut dyn FnMut(Duration),
}

impl<'a> Pacer<'a> {
    fn new(interval: Duration, sleep: &'a mut dyn FnMut(Duration)) -> Pacer<'a> {
        Pacer {
            interval,
            last: None,
            sleep,
        }
    }

    /// How long until the next request is allowed.
    fn due(&self) -> Duration {
        self.last.map_or(Duration::ZERO, |at| {
            self.interval.saturating_sub(at.elapsed())
        })
    }

    /// Waits until the next request is allowed; returns how long it waited.
    fn wait(&mut self) -> Duration {
        let wait = self.due();
        if !wait.is_zero() {
            (self.sleep)(wait);
        }
        self.last = Some(Instant::now());
        wait
    }
}

/// What a wait of about a second or more is logged as: the run is not stuck.
fn wait_note(wait: Duration) -> Option<String> {
    (wait >= Duration::from_millis(500)).then(|| {
        format!(
            "waiting {}s (API limit, --min-request-interval / EDS_MIN_REQUEST_INTERVAL)",
            wait.as_secs_f64().round()
        )
    })
}

/// The chunk loop's state: what was handed to the sliding window so far.
struct Chunks<'a, 'p> {
    config: &'a BackfillConfig,
    api: Api,
    /// Reads and parses the responses on a thread of its own.
    reader: Reader,
    slider: Slider,
    pacer: Pacer<'p>,
    progress: Progress,
    /// The newest row time handed to the slider: a retried chunk skips older rows.
    pushed: Option<DateTime<Utc>>,
    rows: u64,
    any_succeeded: bool,
}

/// A chunk `[from, to)`.
type Span = (DateTime<Utc>, DateTime<Utc>);

impl<'a, 'p> Chunks<'a, 'p> {
    /// The loop's state before the first chunk, `first` the first row time
    /// fetched (for the progress), its reader thread started.
    fn new(
        config: &'a BackfillConfig,
        api: Api,
        first: DateTime<Utc>,
        sleep: &'p mut dyn FnMut(Duration),
    ) -> Result<Chunks<'a, 'p>> {
        Ok(Chunks {
            config,
            reader: api.reader()?,
            api,
            slider: Slider::new(&config.source.dataset, config.aggregate.window),
            pacer: Pacer::new(config.min_request_interval, sleep),
            progress: Progress::new(config, first),
            pushed: None,
            rows: 0,
            any_succeeded: false,
        })
    }

    /// Fetches one chunk and streams it through the window, trying again
    /// after the pacing interval when it fails temporarily.
    fn chunk(&mut self, span: Span, emitter: &mut Emitter<'_>) -> Result<()> {
        let (from, to) = span;
        for attempt in 1..=ATTEMPTS {
            // Said before the wait, so that a minute's silence is explained.
            self.progress.waiting(self.pacer.due());
            self.pacer.wait();
            let batches = self.reader.fetch(&self.config.source.dataset, from, to);
            let err = match self.fetch(span, batches, emitter) {
                Ok(()) => {
                    self.slider.finish(&mut |new, w| emitter.group(new, w))?;
                    self.any_succeeded = true;
                    self.progress.chunk_done(to, self.rows);
                    return Ok(());
                }
                Err(e) => e,
            };
            let context = format!("backfilling {} .. {}", format_utc(from), format_utc(to));
            if !self.any_succeeded && api::is_connect_failure(&err) {
                return Err(err.context(format!(
                    "{context}: the API cannot be reached at all before any data arrived \
                     (not retried)"
                )));
            }
            if !api::is_temporary(&err) || attempt == ATTEMPTS {
                return Err(err.context(context));
            }
            log::warn!(
                "{context} failed ({}); trying again ({attempt} of {ATTEMPTS} failed)",
                crate::text::visible(&format!("{err}"))
            );
        }
        unreachable!("the last attempt returns")
    }

    /// Streams the chunk's rows through the window as the reader hands them
    /// over; the rows and the errors are those of [`Api::fetch`] (a row
    /// refused here ends the fetch).
    fn fetch(
        &mut self,
        (from, to): Span,
        mut batches: Batches,
        emitter: &mut Emitter<'_>,
    ) -> Result<()> {
        for batch in &mut batches {
            for row in batch {
                if row.time < from || row.time >= to || self.pushed.is_some_and(|p| row.time < p) {
                    continue;
                }
                self.pushed = Some(row.time);
                self.rows += 1;
                let pushed = self.slider.push(row, &mut |new, w| emitter.group(new, w));
                pushed.map_err(|e| {
                    let url = self.api.dataset_url(&self.config.source.dataset);
                    e.context(format!("processing the rows from {url}"))
                })?;
            }
        }
        batches.finish()?;
        Ok(())
    }
}

/// A progress bar on a terminal, periodic log lines otherwise.
struct Progress {
    bar: Option<ProgressBar>,
    started: Instant,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
}

impl Progress {
    fn new(config: &BackfillConfig, from: DateTime<Utc>) -> Progress {
        let bar = std::io::stderr().is_terminal().then(|| {
            let total = (config.to - from).num_minutes().max(1) as u64;
            let bar = ProgressBar::new(total);
            bar.set_style(
                ProgressStyle::with_template("{bar:30} {percent:>3}% {msg}")
                    .expect("a valid template"),
            );
            bar
        });
        // Log lines (a retry's warning, a wait) go above the bar, not onto it.
        crate::logging::show_progress(bar.clone());
        Progress {
            bar,
            started: Instant::now(),
            from,
            to: config.to,
        }
    }

    fn rate(&self, rows: u64) -> f64 {
        rows as f64 / self.started.elapsed().as_secs_f64().max(1e-3)
    }

    /// Before a wait for the next allowed request: a log line (above the
    /// bar on a terminal) when it is noticeable, and the bar's message.
    fn waiting(&self, wait: Duration) {
        if let Some(note) = wait_note(wait) {
            log::info!("{note}");
        }
        if let (Some(bar), false) = (&self.bar, wait.is_zero()) {
            bar.set_message(format!("next request in {}s", wait.as_secs_f64().round()));
        }
    }

    fn chunk_done(&self, done_until: DateTime<Utc>, rows: u64) {
        let line = format!(
            "up to {}: {}, {:.0} rows/s, {} of data left",
            format_utc(done_until),
            count(rows, "row"),
            self.rate(rows),
            format_span(self.to - done_until)
        );
        match &self.bar {
            Some(bar) => {
                bar.set_position((done_until - self.from).num_minutes().max(0) as u64);
                bar.set_message(line);
            }
            None => log::info!("{line}"),
        }
    }

    fn finish(&self, records: u64, aggregates: u64) {
        self.clear();
        log::info!(
            "backfill done: {} and {} in {}",
            count(records, "record"),
            count(aggregates, "aggregate"),
            elapsed(self.started.elapsed())
        );
    }

    /// Removes the bar (before the last log line, or the error `main` reports).
    fn clear(&self) {
        crate::logging::show_progress(None);
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_pacer_waits_and_the_wait_is_explained() {
        let mut slept = Vec::new();
        let mut sleep = |d: Duration| slept.push(d);
        let mut pacer = Pacer::new(Duration::from_secs(60), &mut sleep);
        assert_eq!(pacer.wait(), Duration::ZERO, "the first request at once");
        let due = pacer.due();
        assert!(due > Duration::from_secs(59), "{due:?}");
        let second = pacer.wait();
        assert!(second > Duration::from_secs(59), "{second:?}");
        assert_eq!(slept, vec![second]);
        assert_eq!(
            wait_note(second).as_deref(),
            Some("waiting 60s (API limit, --min-request-interval / EDS_MIN_REQUEST_INTERVAL)")
        );
        assert_eq!(
            wait_note(Duration::from_millis(200)),
            None,
            "too short to say"
        );
    }
}
