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

use crate::aggregate::aggregate;
use crate::api::{Api, RowShape};
use crate::config::{BackfillConfig, Output};
use crate::cursor::{self, Cursors, Position};
use crate::dataset::Row;
use crate::exit::{exit_of, message, or_code, Exit};
use crate::sink::csv::{CsvSink, Table};
use crate::sink::Sink;
use crate::time::{format_span, format_utc};
use crate::window::{Slider, Window};

/// How often a failed chunk (5xx, 429, timeout) is tried before giving up.
const ATTEMPTS: u32 = 5;

pub fn run(config: &BackfillConfig) -> Result<()> {
    let dataset = &config.source.dataset;
    let fields = config
        .aggregate
        .fields
        .named()
        .expect("config refuses --fields all for backfill")
        .to_vec();
    let (mut sink, cursors): (Box<dyn Sink>, Cursors) = match &config.output {
        Output::Kafka(kafka) => {
            let (sink, cursors) = super::publish::connect(kafka, dataset, &config.aggregate.stats)?;
            (Box::new(sink), cursors)
        }
        Output::CsvRecords => (
            Box::new(CsvSink::new(
                std::io::stdout().lock(),
                Table::Records {
                    dataset: dataset.clone(),
                    fields: fields.clone(),
                },
            )),
            Cursors::default(),
        ),
        Output::CsvAggregates => (
            Box::new(CsvSink::new(
                std::io::stdout().lock(),
                Table::Aggregates {
                    key_column: dataset.key_column.clone(),
                    fields: fields.clone(),
                    stats: config.aggregate.stats.clone(),
                },
            )),
            Cursors::default(),
        ),
    };

    // Resume from the cursors: the earliest row time some topic still needs.
    let res = dataset.resolution;
    let needs_from =
        |c: &Option<Position>, next: fn(DateTime<Utc>, chrono::TimeDelta) -> DateTime<Utc>| {
            c.as_ref()
                .map_or(config.from, |c| next(c.time, res).max(config.from))
        };
    let records_from = needs_from(&cursors.records, |t, res| t + res);
    // The aggregate ending at `t` was published: the next is for the row at `t`.
    let aggregates_from = needs_from(&cursors.aggregates, |t, _| t);
    let start = records_from.min(aggregates_from);
    if start >= config.to {
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
    if start > config.from {
        log::info!("resuming after the cursors: from {}", format_utc(start));
    }

    // Keep only the aggregated fields of each row, and the row's text when the
    // records are published: a year of rows parses several times faster.
    let publishes_records =
        matches!(&config.output, Output::Kafka(k) if k.topics.records.is_some());
    let api = Api::new(config.source.api.clone())?.with_shape(RowShape {
        keep: Some(fields.clone()),
        raw: publishes_records,
    });
    let progress = Progress::new(config, start);
    let mut slider = Slider::new(config.aggregate.window, res);
    let mut emitted = Cursors {
        records: cursors.records.clone(),
        aggregates: cursors.aggregates.clone(),
    };
    let mut last_request: Option<Instant> = None;
    // Chunks are `--chunk` long from `start`; the first also fetches a window's
    // worth of rows before it, as context for the first aggregates.
    let mut chunk_start = start - config.aggregate.window + res;
    let mut boundary = start;
    let mut rows_total = 0u64;
    // The last row handed to the slider: a retried chunk skips what it already took.
    let mut pushed: Option<Position> = None;
    while chunk_start < config.to {
        boundary += config.chunk;
        let chunk_end = boundary.min(config.to);
        let mut attempt = 1;
        loop {
            if let Some(at) = last_request {
                let wait = config.min_request_interval.saturating_sub(at.elapsed());
                progress.waiting(wait);
                std::thread::sleep(wait);
            }
            last_request = Some(Instant::now());
            let mut emit = |new: &[Row], window: Window<'_>| -> Result<()> {
                for row in new.iter().filter(|r| r.time >= start && r.time < config.to) {
                    let p = Position::of_row(row);
                    if emitted.records.as_ref().is_none_or(|c| p > *c) {
                        sink.record(row)?;
                        emitted.records = Some(p);
                    }
                }
                if new
                    .first()
                    .is_some_and(|r| r.time >= start && r.time < config.to)
                {
                    for agg in aggregate(dataset, &window, &fields) {
                        let p = Position {
                            time: agg.window_end,
                            key: agg.key.as_ref().map(|(_, k)| k.clone()),
                        };
                        if emitted.aggregates.as_ref().is_none_or(|c| p > *c) {
                            sink.aggregate(&agg)?;
                            emitted.aggregates = Some(p);
                        }
                    }
                }
                Ok(())
            };
            let mut rows = 0u64;
            let result = api.fetch(dataset, chunk_start, chunk_end, &mut |row| {
                let p = Position::of_row(&row);
                if row.time < chunk_start
                    || row.time >= chunk_end
                    || pushed.as_ref().is_some_and(|q| p <= *q)
                {
                    return Ok(());
                }
                pushed = Some(p);
                rows += 1;
                slider
                    .push(row, &mut emit)
                    .map_err(|e| or_code(e, Exit::Data))
            });
            match result {
                Ok(_) => {
                    slider.finish(&mut emit)?;
                    rows_total += rows;
                    progress.chunk_done(chunk_end, rows_total);
                    break;
                }
                Err(e) if exit_of(&e) == Exit::Temporary && attempt < ATTEMPTS => {
                    log::warn!(
                        "chunk {} .. {} failed ({}); trying again",
                        format_utc(chunk_start),
                        format_utc(chunk_end),
                        message(&e)
                    );
                    attempt += 1;
                }
                Err(e) => {
                    return Err(e.context(format!(
                        "backfilling {} .. {}",
                        format_utc(chunk_start),
                        format_utc(chunk_end)
                    )))
                }
            }
        }
        chunk_start = chunk_end;
    }
    let written = sink.finish()?;
    progress.finish(written.records, written.aggregates);
    Ok(())
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

    fn waiting(&self, wait: Duration) {
        if let (Some(bar), false) = (&self.bar, wait.is_zero()) {
            bar.set_message(format!("next request in {}s", wait.as_secs()));
        }
    }

    fn chunk_done(&self, done_until: DateTime<Utc>, rows: u64) {
        let line = format!(
            "up to {}: {rows} rows, {:.0} rows/s, {} left",
            format_utc(done_until),
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
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
        log::info!(
            "backfill done: {records} records and {aggregates} aggregates in {:.1}s",
            self.started.elapsed().as_secs_f64()
        );
    }
}
