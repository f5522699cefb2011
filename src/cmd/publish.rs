//! `eds-kafka publish`: one run. With Kafka: read the cursor from the topics,
//! fetch everything since it (capped by `--max-catch-up`) in one request, and
//! publish every new record and one sliding-window aggregate per new row time.
//! With `--dry-run`: fetch the current window and print it as CSV.

use std::fs::{File, TryLockError};

use anyhow::Result;
use chrono::{DateTime, TimeDelta, Utc};

use crate::aggregate::{aggregate, resolve_fields, Aggregate, Stat};
use crate::api::Api;
use crate::config::{KafkaOutput, Output, PublishConfig};
use crate::cursor::{self, Cursors, Plan, Position, Spans};
use crate::dataset::{Dataset, Row};
use crate::exit::{fail, Exit};
use crate::sink::csv::{CsvSink, Table};
use crate::sink::kafka::KafkaSink;
use crate::sink::{Sink, Written};
use crate::time::{format_span, format_utc};
use crate::window::{ending_at, keep_between, newest_before, normalize};

/// What a run did, for logs and metrics.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub written: Written,
    /// The newest complete row time seen, if the fetch got that far.
    pub newest: Option<DateTime<Utc>>,
    /// `--now` minus `newest`.
    pub data_lag: Option<TimeDelta>,
}

pub fn run(config: &PublishConfig, summary: &mut Summary) -> Result<()> {
    let _lock = match &config.lock_file {
        Some(path) => Some(lock(path)?),
        None => None,
    };
    match &config.output {
        Output::Kafka(kafka) => publish(config, kafka, summary),
        Output::CsvAggregates | Output::CsvRecords => dry_run(config, summary),
    }
}

/// Takes the advisory lock; another run holding it is a temporary condition.
fn lock(path: &std::path::Path) -> Result<File> {
    let file = File::options()
        .create(true)
        .truncate(false)
        .write(true)
        .open(path)
        .map_err(|e| {
            fail(
                Exit::Usage,
                format!("cannot open --lock-file {}: {e}", path.display()),
            )
        })?;
    match file.try_lock() {
        Ok(()) => Ok(file),
        Err(TryLockError::WouldBlock) => Err(fail(
            Exit::Temporary,
            format!(
                "another run holds the lock {}; not running twice at once",
                path.display()
            ),
        )),
        Err(TryLockError::Error(e)) => Err(fail(
            Exit::Usage,
            format!("cannot lock {}: {e}", path.display()),
        )),
    }
}

fn spans(config: &PublishConfig) -> Spans {
    Spans {
        resolution: config.source.dataset.resolution,
        window: config.aggregate.window,
        max_lag: config.max_lag,
        max_catch_up: config.max_catch_up,
    }
}

/// The rows of `[from, limit)`, sorted and de-duplicated, their newest time
/// (checked against `--max-lag`) and the fields to aggregate.
struct Fetched {
    rows: Vec<Row>,
    newest: DateTime<Utc>,
    fields: Vec<String>,
}

fn fetch(
    config: &PublishConfig,
    from: DateTime<Utc>,
    limit: DateTime<Utc>,
    summary: &mut Summary,
) -> Result<Fetched> {
    let dataset = &config.source.dataset;
    let api = Api::new(config.source.api.clone())?;
    let mut rows: Vec<Row> = Vec::new();
    api.fetch(dataset, from, limit, &mut |row| {
        rows.push(row);
        Ok(())
    })?;
    let rows = keep_between(normalize(rows), from, limit);
    let newest = newest_before(&rows, limit).ok_or_else(|| {
        fail(
            Exit::Temporary,
            format!(
                "stale data: {} has no rows between {} and {} (--max-lag {})",
                dataset.name,
                format_utc(from),
                format_utc(limit),
                format_span(config.max_lag)
            ),
        )
    })?;
    summary.newest = Some(newest);
    let lag = config.now - newest;
    if lag > config.max_lag {
        return Err(fail(
            Exit::Temporary,
            format!(
                "stale data: the newest row of {} is {} ({} before --now {}), more than --max-lag {}",
                dataset.name,
                format_utc(newest),
                format_span(lag),
                format_utc(config.now),
                format_span(config.max_lag)
            ),
        ));
    }
    let fields = resolve_fields(dataset, config.aggregate.fields.named(), &rows)
        .map_err(|e| fail(Exit::Data, format!("{e:#}")))?;
    log::debug!(
        "newest row {} ({} old)",
        format_utc(newest),
        format_span(lag.max(TimeDelta::zero()))
    );
    Ok(Fetched {
        rows,
        newest,
        fields,
    })
}

fn dry_run(config: &PublishConfig, summary: &mut Summary) -> Result<()> {
    let dataset = &config.source.dataset;
    let plan = cursor::plan(&Cursors::default(), config.now, spans(config));
    let f = fetch(config, plan.fetch_from, plan.limit, summary)?;
    let window = ending_at(
        &f.rows,
        f.newest + dataset.resolution,
        config.aggregate.window,
    );
    log::info!(
        "window {} .. {}: {} rows",
        format_utc(window.start),
        format_utc(window.end),
        window.rows.len()
    );
    let out = std::io::stdout().lock();
    let mut sink = if config.output == Output::CsvRecords {
        CsvSink::new(
            out,
            Table::Records {
                dataset: dataset.clone(),
                fields: f.fields.clone(),
            },
        )
    } else {
        CsvSink::new(
            out,
            Table::Aggregates {
                key_column: dataset.key_column.clone(),
                fields: f.fields.clone(),
                stats: config.aggregate.stats.clone(),
            },
        )
    };
    for row in window.rows {
        sink.record(row)?;
    }
    for agg in aggregate(dataset, &window, &f.fields) {
        sink.aggregate(&agg)?;
    }
    summary.written = sink.finish()?;
    Ok(())
}

fn publish(config: &PublishConfig, kafka: &KafkaOutput, summary: &mut Summary) -> Result<()> {
    let dataset = &config.source.dataset;
    // Connect first: a broker that is down should not cost the minute's one API request.
    let (mut sink, cursors) = connect(kafka, dataset, &config.aggregate.stats)?;
    let plan = cursor::plan(&cursors, config.now, spans(config));
    log::info!(
        "cursor: records {}, aggregates {}; fetching {} .. {}",
        cursor::describe(cursors.records.as_ref()),
        cursor::describe(cursors.aggregates.as_ref()),
        format_utc(plan.fetch_from),
        format_utc(plan.limit)
    );
    for (topic, first, last) in &plan.skipped {
        log::warn!(
            "gap longer than --max-catch-up {}: {topic} from {} to {} (inclusive) are skipped",
            format_span(config.max_catch_up),
            format_utc(*first),
            format_utc(*last)
        );
    }
    let f = fetch(config, plan.fetch_from, plan.limit, summary)?;
    let (records, aggregates) = new_messages(config, &cursors, &plan, &f);
    if records.is_empty() && aggregates.is_empty() {
        log::info!(
            "nothing new since the cursor (newest row {}); published nothing",
            format_utc(f.newest)
        );
    }
    if kafka.topics.records.is_some() {
        for row in &records {
            sink.record(row)?;
        }
    }
    for agg in &aggregates {
        sink.aggregate(agg)?;
    }
    summary.written = sink.finish()?;
    Ok(())
}

/// Connects the Kafka sink (topics checked or created) and reads both cursors.
pub fn connect(
    kafka: &KafkaOutput,
    dataset: &Dataset,
    stats: &[Stat],
) -> Result<(KafkaSink, Cursors)> {
    let topics: Vec<&str> = kafka.topics.names().collect();
    let read = || {
        cursor::read(
            &kafka.settings,
            &topics,
            kafka.topics.partition,
            &dataset.name,
        )
    };
    // The producer's start (metadata, producer id) and the cursor read each wait
    // for new connections: side by side they take the time of the longer one.
    let (sink, early) = std::thread::scope(|scope| {
        let reader = scope.spawn(read);
        let sink = KafkaSink::connect(
            &kafka.settings,
            kafka.topics.clone(),
            kafka.create_topics,
            dataset,
            stats.to_vec(),
        );
        (
            sink,
            reader.join().expect("the cursor reader does not panic"),
        )
    });
    let sink = sink?;
    let found = match early {
        Ok(found) => found,
        // A topic the sink has just created could not be read before it existed.
        Err(_) if kafka.create_topics => read()?,
        Err(e) => return Err(e),
    };
    let mut found = found.into_iter();
    let cursors = Cursors {
        records: kafka
            .topics
            .records
            .as_ref()
            .and_then(|_| found.next().flatten()),
        aggregates: kafka
            .topics
            .aggregates
            .as_ref()
            .and_then(|_| found.next().flatten()),
    };
    Ok((sink, cursors))
}

/// The records and aggregates newer than the cursors, oldest first.
fn new_messages<'r>(
    config: &PublishConfig,
    cursors: &Cursors,
    plan: &Plan,
    f: &'r Fetched,
) -> (Vec<&'r Row>, Vec<Aggregate>) {
    let dataset = &config.source.dataset;
    let s = spans(config);
    let records = cursor::new_records(&f.rows, cursors.records.as_ref(), plan, f.newest, s);
    let mut aggregates = Vec::new();
    for end in cursor::new_window_ends(&f.rows, cursors.aggregates.as_ref(), plan, f.newest, s) {
        let window = ending_at(&f.rows, end, config.aggregate.window);
        for agg in aggregate(dataset, &window, &f.fields) {
            let position = Position {
                time: agg.window_end,
                key: agg.key.as_ref().map(|(_, k)| k.clone()),
            };
            if cursors.aggregates.as_ref().is_none_or(|c| position > *c) {
                aggregates.push(agg);
            }
        }
    }
    (records, aggregates)
}
