//! `eds-kafka consume`: read a topic back (one partition, assigned directly,
//! or through a consumer group that commits) and print it as CSV with the
//! columns `publish --dry-run` prints, or as JSON lines.
//!
//! It reads to the end the partition had when it started, by position
//! ([`crate::kafka::read`]: transaction markers, aborted transactions and
//! compacted or deleted offsets do not hold it up), within
//! `--kafka-timeout`; `--last N` reads back from there until it has N
//! messages or the start of the log. With `--follow` it prints what it read
//! up to there and then every new message as it arrives, until SIGINT or
//! SIGTERM (exit 0, output flushed) or `--idle-timeout`. Messages it cannot
//! print are skipped and said once, with a count. Values in the schema
//! registry's wire format (Avro, JSON Schema) are decoded by their schema
//! id with `--schema-registry` (each id fetched once); without it the first
//! such value ends the run (exit 2, naming the flag).

use std::collections::VecDeque;
use std::io::{BufWriter, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::message::BorrowedMessage;
use rdkafka::{Message, Offset};
use serde_json::Value;

use super::CommandError;
use crate::aggregate::resolve_fields;
use crate::config::{ConsumeConfig, ConsumeFormat, Start};
use crate::contract::aggregate::{checked, NotAggregate};
use crate::contract::{is_ours, MessageKey, DATASET_HEADER};
use crate::dataset::Row;
use crate::kafka::read::{self as kread, Reader, Seek, Span};
use crate::kafka::{topics, Context};
use crate::logging::{count, Tally};
use crate::registry::Values;
use crate::sink::csv::{CsvSink, Table};
use crate::sink::Watched;

/// One poll while waiting for messages.
const POLL: Duration = Duration::from_millis(20);

/// What a missing topic's message tells a reader.
const READ_HINT: &str = "check --topic and --dataset / EDS_DATASET \
     (publish --create-topics / EDS_CREATE_TOPICS=true creates it)";

/// What a read that runs out of time tells the user.
const TIMEOUT_HINT: &str = "; raise --kafka-timeout / EDS_KAFKA_TIMEOUT, or check the brokers";

pub fn run(config: &ConsumeConfig) -> Result<()> {
    crate::probe::check_bootstrap(&config.settings, || {
        config.settings.consumer(config.group.as_deref()).map(drop)
    })?;
    let consumer = config.settings.consumer(config.group.as_deref())?;
    let result = consume(&consumer, config);
    kread::close(consumer);
    result
}

fn consume(consumer: &BaseConsumer<Context>, config: &ConsumeConfig) -> Result<()> {
    let settings = &config.settings;
    let topic = config.topic.as_str();
    // A missing topic is said plainly (and never created by this request).
    let partition = (config.start != Start::Committed).then_some(config.partition);
    topics::require(consumer, settings, topic, partition, READ_HINT)?;
    let stop = interrupted()?;
    let mut out = Out::new(config)?;
    let reader = match config.start {
        Start::Committed => joined(consumer, config, &stop)?,
        Start::Beginning => {
            let span = kread::span(settings, consumer, topic, config.partition, Seek::Start)?;
            Some((Reader::assign(consumer, settings, vec![span], topic)?, None))
        }
        Start::Last(n) => last(consumer, config, n, &mut out)?.map(|r| (r, None)),
    };
    let result = match reader {
        Some((mut reader, first)) => out.read(&mut reader, first, &stop),
        None => Ok(()),
    };
    // Interrupted, stopped or at the end: print what is held.
    out.release()?;
    result?;
    if config.group.is_some() && out.read > 0 {
        consumer
            .commit_consumer_state(CommitMode::Sync)
            .map_err(|source| group_error("committing offsets of", topic, source))?;
    }
    out.finish();
    Ok(())
}

/// `--last N`: reads back from the end in passes, each twice as long as
/// the last, until N messages are held or the start of the log was read;
/// with `--follow`, returns a reader from the end on.
fn last<'c>(
    consumer: &'c BaseConsumer<Context>,
    config: &'c ConsumeConfig,
    n: u64,
    out: &mut Out<'_>,
) -> Result<Option<Reader<'c>>> {
    let settings = &config.settings;
    let topic = config.topic.as_str();
    let (low, end) = kread::bounds(settings, consumer, topic, config.partition)?;
    let span = |from: i64, end: i64| Span {
        topic: topic.to_string(),
        partition: config.partition,
        low,
        from,
        end,
    };
    let (mut until, mut step) = (end, i64::try_from(n.max(1)).unwrap_or(i64::MAX));
    // The first pass ends at the end: its reader goes on from there (--follow).
    let mut at_end = None;
    while (out.held.len() as u64) < n && until > low {
        let from = until.saturating_sub(step).max(low);
        let mut reader = Reader::assign(consumer, settings, vec![span(from, until)], topic)?;
        let mut pass = VecDeque::new();
        reader.to_end(TIMEOUT_HINT, |_, m| {
            out.read += 1;
            pass.extend(out.value(m)?);
            Ok(())
        })?;
        // Older than everything held: in front of it.
        pass.append(&mut out.held);
        out.held = pass;
        while out.held.len() as u64 > n {
            out.held.pop_front();
        }
        at_end = (until == end).then_some(reader);
        (until, step) = (from, step.saturating_mul(2));
    }
    if let Some(max) = config.max_messages {
        out.held
            .truncate(usize::try_from(max).unwrap_or(usize::MAX));
    }
    if !config.follow {
        return Ok(None);
    }
    match at_end {
        Some(reader) => Ok(Some(reader)),
        None => Reader::assign(consumer, settings, vec![span(end, end)], topic).map(Some),
    }
}

/// A reader, and a message polled before it existed (to be taken first).
type Started<'c> = (Reader<'c>, Option<BorrowedMessage<'c>>);

/// `--group`: subscribes, waits (within the run's Kafka deadline) until the
/// group assigns partitions, and reads each from its committed offset (its
/// start without one) to its end. The poll that serves the join may bring
/// the first message: it is returned with the reader. `None`: interrupted.
fn joined<'c>(
    consumer: &'c BaseConsumer<Context>,
    config: &'c ConsumeConfig,
    stop: &AtomicBool,
) -> Result<Option<Started<'c>>> {
    let settings = &config.settings;
    let topic = config.topic.as_str();
    consumer
        .subscribe(&[topic])
        .map_err(|source| group_error("subscribing to", topic, source))?;
    let group = config.group.as_deref().unwrap_or_default();
    let deadline = settings.deadline();
    loop {
        if stop.load(Ordering::Relaxed) {
            return Ok(None);
        }
        // A group this principal may not join (no Read ACL on the group)
        // never assigns any: said at once, not as a timeout.
        let (first, denied) = match consumer.poll(Duration::from_millis(10)) {
            Some(Ok(m)) => (Some(m), None),
            Some(Err(e)) if crate::kafka::is_denied(&e) => (None, Some(e)),
            _ => (None, consumer.context().denied()),
        };
        if let Some(e) = denied {
            let what = format!("join group {group} to read {topic}");
            return Err(settings.unreachable(&what, &e, consumer.context()));
        }
        let assignment = consumer.assignment().ok().filter(|a| a.count() > 0);
        if let Some(assignment) = assignment {
            let spans = group_spans(consumer, config, &assignment, first.as_ref())?;
            let reader = Reader::joined(consumer, settings, spans, topic);
            return Ok(Some((reader, first)));
        }
        if Instant::now() >= deadline {
            return Err(CommandError::NoPartition {
                group: group.to_string(),
                topic: topic.to_string(),
                timeout: settings.timeout,
            }
            .into());
        }
    }
}

/// Each partition the group assigned: from its committed offset (its start
/// without one; `first`'s offset when it came from there) to its end.
fn group_spans(
    consumer: &BaseConsumer<Context>,
    config: &ConsumeConfig,
    assignment: &rdkafka::TopicPartitionList,
    first: Option<&BorrowedMessage<'_>>,
) -> Result<Vec<Span>> {
    let settings = &config.settings;
    let what = format!("read the committed offsets of {}", config.topic);
    let committed = settings
        .wait(consumer, &what, |t| {
            consumer.committed_offsets(assignment.clone(), t)
        })?
        .map_err(|e| settings.unreachable(&what, &e, consumer.context()))?;
    let mut spans = Vec::new();
    for element in committed.elements() {
        let (topic, partition) = (element.topic(), element.partition());
        let seek = match element.offset() {
            Offset::Offset(o) => Seek::Offset(o),
            _ => Seek::Start,
        };
        let mut span = kread::span(settings, consumer, topic, partition, seek)?;
        if let Some(m) = first.filter(|m| m.topic() == topic && m.partition() == partition) {
            span.from = span.from.min(m.offset());
        }
        spans.push(span);
    }
    Ok(spans)
}

/// A Kafka request of consume's group that failed (exit 4).
fn group_error(
    what: &'static str,
    topic: &str,
    source: rdkafka::error::KafkaError,
) -> anyhow::Error {
    CommandError::Group {
        what,
        topic: topic.to_string(),
        source,
    }
    .into()
}

/// SIGINT and SIGTERM set the returned flag (reading stops, output is
/// flushed, exit 0); a second one ends the process at once.
fn interrupted() -> Result<Arc<AtomicBool>> {
    use signal_hook::consts::{SIGINT, SIGTERM};
    let flag = Arc::new(AtomicBool::new(false));
    for signal in [SIGINT, SIGTERM] {
        signal_hook::flag::register_conditional_shutdown(signal, 128 + signal, flag.clone())
            .and_then(|_| signal_hook::flag::register(signal, flag.clone()))
            .context("installing signal handlers")?;
    }
    Ok(flag)
}

/// A message value held for printing, with its key when the key is ours.
struct Held {
    key: Option<MessageKey>,
    value: Value,
}

/// What is read and printed.
struct Out<'c> {
    config: &'c ConsumeConfig,
    printer: Printer<'c>,
    /// Read but not yet printed (up to the end of the log; the last N with --last N).
    held: VecDeque<Held>,
    /// Messages read.
    read: u64,
    /// Messages that are not JSON objects (or framed values that do not decode).
    not_json: Tally,
    /// Reads each value, plain or framed.
    values: Values,
    /// Messages without our header for this dataset (another producer's).
    not_ours: Tally,
}

impl<'c> Out<'c> {
    fn new(config: &'c ConsumeConfig) -> Result<Self> {
        Ok(Out {
            config,
            printer: Printer::new(config),
            held: VecDeque::new(),
            read: 0,
            not_json: Tally::default(),
            not_ours: Tally::default(),
            values: Values::connect(config.registry.as_ref())?,
        })
    }

    /// Reads to the end (held, then printed); with --follow, then prints
    /// each new message as it arrives. Stops at --max-messages, a signal,
    /// or --idle-timeout (before the end without --follow: exit 4).
    fn read<'m>(
        &mut self,
        reader: &mut Reader<'m>,
        first: Option<BorrowedMessage<'m>>,
        stop: &AtomicBool,
    ) -> Result<()> {
        let config = self.config;
        let deadline = config.settings.deadline();
        let mut last_message = Instant::now();
        let mut following = false;
        if let Some((_, m)) = first.and_then(|m| reader.accept(m)) {
            self.take(reader, &m, following)?;
        }
        while config.max_messages.is_none_or(|max| self.read < max) && !stop.load(Ordering::Relaxed)
        {
            if !following && reader.done() {
                self.release()?;
                if !config.follow {
                    return Ok(());
                }
                (following, last_message) = (true, Instant::now());
                reader.follow();
            }
            if !following && Instant::now() >= deadline {
                return Err(reader.timeout(TIMEOUT_HINT).into());
            }
            if let Some(t) = config.idle_timeout.filter(|t| last_message.elapsed() >= *t) {
                return if following {
                    Ok(())
                } else {
                    Err(self.idle(reader, t))
                };
            }
            if let Some((_, m)) = reader.poll(POLL)? {
                last_message = Instant::now();
                self.take(reader, &m, following)?;
            }
        }
        Ok(())
    }

    /// One message: held until the end of the log, printed at once after it.
    fn take(
        &mut self,
        reader: &Reader<'_>,
        m: &BorrowedMessage<'_>,
        following: bool,
    ) -> Result<()> {
        self.read += 1;
        if self.config.group.is_some() {
            reader
                .consumer()
                .store_offset_from_message(m)
                .map_err(|e| group_error("storing the offset of", &self.config.topic, e))?;
        }
        let Some(held) = self.value(m)? else {
            return Ok(());
        };
        if following {
            return self.printer.print(vec![held]);
        }
        self.held.push_back(held);
        Ok(())
    }

    /// A message's value when it is a JSON object, plain or decoded (else
    /// counted, skipped); a framed value without a registry, or a registry
    /// that fails, is the run's error.
    fn value(&mut self, m: &BorrowedMessage<'_>) -> Result<Option<Held>> {
        let dataset = &self.config.dataset.name;
        if !is_ours(kread::header(m, DATASET_HEADER), dataset) {
            self.not_ours.add(format!("offset {}", m.offset()));
            return Ok(None);
        }
        let why = match self.values.json(m.payload().unwrap_or_default()) {
            Ok(value) if value.is_object() => {
                return Ok(Some(Held {
                    key: (m.key())
                        .and_then(|k| std::str::from_utf8(k).ok())
                        .and_then(|k| k.parse().ok()),
                    value,
                }))
            }
            Ok(_) => "not an object".to_string(),
            Err(e) if e.is_fatal() => return Err(super::status::at(m.topic(), m.offset(), e)),
            Err(e) => e.to_string(),
        };
        self.not_json.add(format!("offset {}: {why}", m.offset()));
        Ok(None)
    }

    /// Prints what is held.
    fn release(&mut self) -> Result<()> {
        let held: Vec<Held> = std::mem::take(&mut self.held).into();
        self.printer.print(held)
    }

    /// Nothing arrived for `--idle-timeout` before the end of the log.
    fn idle(&self, reader: &Reader<'_>, timeout: Duration) -> anyhow::Error {
        let config = self.config;
        CommandError::Idle {
            topic: config.topic.clone(),
            brokers: config.settings.brokers().to_string(),
            timeout,
            at: (reader.waiting().iter())
                .map(|w| format!("partition {}, offset {} of {}", w.partition, w.at, w.end))
                .collect::<Vec<_>>()
                .join(", "),
            read: self.read,
        }
        .into()
    }

    /// Says what was skipped and printed.
    fn finish(&self) {
        let topic = &self.config.topic;
        let what = format!(
            "in {topic} that are not JSON objects (nor values that decode to one), skipped"
        );
        for line in [
            self.not_json.summary(&what),
            self.printer.skipped.summary(&format!("in {topic} skipped")),
        ]
        .into_iter()
        .flatten()
        {
            log::warn!("{line}");
        }
        let what = format!(
            "in {topic} without the {DATASET_HEADER} header of {} (another producer's), skipped",
            self.config.dataset.name
        );
        if let Some(line) = self.not_ours.summary(&what) {
            log::info!("{line}");
        }
        log::debug!("read {} from {topic}", count(self.read, "message"));
        log::info!(
            "printed {} from {topic}",
            count(self.printer.printed, "message")
        );
    }
}

fn is_aggregate(v: &Value) -> bool {
    v.get("window_start").is_some() && v.get("fields").is_some()
}

/// Prints message values as they are released: JSON lines, or one CSV table
/// whose kind (aggregates or records) and columns the first values decide.
struct Printer<'c> {
    config: &'c ConsumeConfig,
    json: Option<BufWriter<Watched<Stdout>>>,
    csv: Option<(bool, CsvSink<Stdout>)>,
    printed: u64,
    /// Values the CSV table cannot show: not an aggregate or a record of
    /// this dataset.
    skipped: Tally,
}

impl<'c> Printer<'c> {
    fn new(config: &'c ConsumeConfig) -> Self {
        Printer {
            config,
            json: None,
            csv: None,
            printed: 0,
            skipped: Tally::default(),
        }
    }

    /// Prints `values` and flushes stdout.
    fn print(&mut self, values: Vec<Held>) -> Result<()> {
        let Some(first) = values.first() else {
            return Ok(());
        };
        if self.config.format == ConsumeFormat::Json {
            let out = self
                .json
                .get_or_insert_with(|| BufWriter::new(Watched(std::io::stdout())));
            for v in &values {
                serde_json::to_writer(&mut *out, &v.value)?;
                out.write_all(b"\n")?;
                self.printed += 1;
            }
            return out.flush().context("writing stdout");
        }
        let aggregates = (self.csv.as_ref()).map_or(is_aggregate(&first.value), |(a, _)| *a);
        if aggregates {
            self.aggregates(&values)
        } else {
            self.records(values)
        }
    }

    /// The aggregates of this dataset among `values`, each checked against
    /// its message key; the others are counted as skipped.
    fn aggregates(&mut self, values: &[Held]) -> Result<()> {
        let dataset = &self.config.dataset;
        let mut aggregates = Vec::new();
        let mut layout = None;
        for held in values {
            let read = match &held.key {
                Some(key) => checked(&held.value, key, dataset),
                None => Err(NotAggregate::KeyNotOurs),
            };
            let (agg, stats) = match read {
                Ok(read) => read,
                Err(e) => {
                    self.skipped
                        .add(format!("not an aggregate of {} ({e:#})", dataset.name));
                    continue;
                }
            };
            layout.get_or_insert_with(|| Table::Aggregates {
                key_columns: dataset.key_columns.clone(),
                fields: agg.fields.iter().map(|(f, _)| f.clone()).collect(),
                stats,
                completeness: self.config.completeness,
            });
            aggregates.push(agg);
        }
        if self.csv.is_none() {
            let Some(layout) = layout else {
                return Ok(());
            };
            self.csv = Some((true, CsvSink::new(std::io::stdout(), layout)));
        }
        let (_, sink) = self.csv.as_mut().expect("set above");
        for agg in &aggregates {
            sink.write_aggregate(agg)?;
        }
        self.printed += aggregates.len() as u64;
        sink.flush().map(|_| ())
    }

    fn records(&mut self, values: Vec<Held>) -> Result<()> {
        let dataset = &self.config.dataset;
        let mut rows: Vec<Row> = Vec::new();
        for held in values {
            let Value::Object(map) = held.value else {
                continue;
            };
            match dataset.parse_row(map) {
                Ok(row) => rows.push(row),
                Err(e) => self.skipped.add(format!("{e:#}")),
            }
        }
        if self.csv.is_none() {
            let fields = resolve_fields(dataset, self.config.fields.named(), &rows)?;
            let table = Table::Records {
                dataset: dataset.clone(),
                fields,
            };
            self.csv = Some((false, CsvSink::new(std::io::stdout(), table)));
        }
        let (_, sink) = self.csv.as_mut().expect("set above");
        for row in &rows {
            sink.write_record(row)?;
        }
        self.printed += rows.len() as u64;
        sink.flush().map(|_| ())
    }
}

#[cfg(test)]
mod tests {}
