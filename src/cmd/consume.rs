//! `eds-kafka consume`: read a topic back (one partition, assigned directly,
//! or through a consumer group that commits) and print it as CSV with the
//! columns `publish --dry-run` prints, or as JSON lines.
//!
//! It stops at the end of the log. The high watermark a broker reports can be
//! below the real end (tansu reports the last batch's base offset + 1), so
//! once the message before it arrived, reading goes on until [`SETTLE`] passes
//! without a message (for at most [`TAIL_MAX`]). With `--follow` it prints
//! what it read up to there and then every new message as it arrives, until
//! SIGINT or SIGTERM (exit 0, output flushed) or `--idle-timeout`.

use std::collections::VecDeque;
use std::io::{BufWriter, Stdout, Write};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::error::KafkaError;
use rdkafka::message::BorrowedMessage;
use rdkafka::{Message, Offset, TopicPartitionList};
use serde_json::Value;

use crate::aggregate::{resolve_fields, Aggregate};
use crate::config::{ConsumeConfig, ConsumeFormat, Start};
use crate::dataset::Row;
use crate::exit::{fail, fail_with, or_code, Exit, OrExit};
use crate::kafka::Context;
use crate::logging::count;
use crate::sink::csv::{CsvSink, Table};
use crate::sink::{Sink, Watched};
use crate::topics;

/// After the reported end arrived: a pause this long without a message is the end.
const SETTLE: Duration = Duration::from_millis(100);
/// After the reported end arrived: read at most this long (a producer may keep writing).
const TAIL_MAX: Duration = Duration::from_secs(2);
/// One poll while waiting for messages.
const POLL: Duration = Duration::from_millis(20);

/// What a missing topic's message tells a reader.
const READ_HINT: &str = "check --topic and --dataset / EDS_DATASET \
     (publish --create-topics / EDS_CREATE_TOPICS=true creates it)";

pub fn run(config: &ConsumeConfig) -> Result<()> {
    crate::probe::check_bootstrap(&config.settings, || {
        config.settings.consumer(config.group.as_deref()).map(drop)
    })?;
    let consumer = config.settings.consumer(config.group.as_deref())?;
    let ends = start(&consumer, config)?;
    let stop = interrupted()?;
    let mut reading = Reading::new(config, ends);
    let mut printer = Printer::new(config);
    reading.read(&consumer, &mut printer, &stop)?;
    // Interrupted, or at the end: print what is held.
    printer.print(std::mem::take(&mut reading.held).into())?;
    let topic = &config.topic;
    if config.group.is_some() && reading.read > 0 {
        consumer
            .commit_consumer_state(CommitMode::Sync)
            .or_exit(Exit::Kafka, |e| {
                format!("committing offsets of {topic}: {e}")
            })?;
    }
    log::debug!("read {} from {topic}", count(reading.read, "message"));
    log::info!("printed {} from {topic}", count(printer.printed, "message"));
    Ok(())
}

/// Assigns (or subscribes) where `config.start` says. Returns the offsets whose
/// arrival means the reported end was reached, per partition (`None`: not
/// known until a group assigns partitions).
fn start(consumer: &BaseConsumer<Context>, config: &ConsumeConfig) -> Result<Option<Ends>> {
    let settings = &config.settings;
    let topic = config.topic.as_str();
    // A missing topic is said plainly (and never created by this request).
    let partition = (config.start != Start::Committed).then_some(config.partition);
    topics::require(consumer, settings, topic, partition, READ_HINT)?;
    if config.start == Start::Committed {
        consumer
            .subscribe(&[topic])
            .or_exit(Exit::Kafka, |e| format!("subscribing to {topic}: {e}"))?;
        return Ok(None);
    }
    let what = format!("read the offsets of {topic}");
    let (low, high) = settings
        .wait(consumer, &what, |t| {
            consumer.fetch_watermarks(topic, config.partition, t)
        })?
        .map_err(|e| topics::offsets_error(settings, consumer, topic, config.partition, &e))?;
    // The high watermark can lag the log's end (tansu): start N before it,
    // read to the end, keep the last N.
    let from = match config.start {
        Start::Last(n) => (high - i64::try_from(n).unwrap_or(i64::MAX)).max(low),
        _ => low,
    };
    let mut list = TopicPartitionList::new();
    list.add_partition_offset(topic, config.partition, Offset::Offset(from))
        .and_then(|()| consumer.assign(&list))
        .map_err(|e| {
            fail_with(
                Exit::Kafka,
                format!("assigning {topic}/{}: {e}", config.partition),
                e,
            )
        })?;
    Ok(Some(Ends::from_range(config.partition, from, high)))
}

/// The partitions whose reported end has not arrived yet: (partition, the
/// offset before its high watermark).
#[derive(Debug, Default)]
struct Ends(Vec<(i32, i64)>);

impl Ends {
    fn from_range(partition: i32, from: i64, high: i64) -> Ends {
        Ends(if from < high {
            vec![(partition, high - 1)]
        } else {
            Vec::new()
        })
    }

    /// A group's: from each assigned partition's committed offset (its low
    /// watermark without one) to its high watermark. `None` before the group
    /// assigned any partition.
    fn of_group(consumer: &BaseConsumer<Context>, config: &ConsumeConfig) -> Result<Option<Ends>> {
        let settings = &config.settings;
        let assignment = match consumer.assignment() {
            Ok(a) if a.count() > 0 => a,
            _ => return Ok(None),
        };
        let unreachable = |e| {
            settings.unreachable(
                &format!("read the offsets of {}", config.topic),
                &e,
                consumer.context(),
            )
        };
        let committed = consumer
            .committed_offsets(assignment, settings.timeout)
            .map_err(unreachable)?;
        let mut ends = Ends::default();
        for element in committed.elements() {
            let (low, high) = consumer
                .fetch_watermarks(element.topic(), element.partition(), settings.timeout)
                .map_err(unreachable)?;
            let from = match element.offset() {
                Offset::Offset(o) => o,
                _ => low,
            };
            ends.0
                .extend(Ends::from_range(element.partition(), from, high).0);
        }
        Ok(Some(ends))
    }

    /// Notes a message's arrival.
    fn arrived(&mut self, partition: i32, offset: i64) {
        self.0.retain(|(p, end)| *p != partition || offset < *end);
    }

    fn reached(&self) -> bool {
        self.0.is_empty()
    }
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

/// The read loop's state.
struct Reading<'c> {
    config: &'c ConsumeConfig,
    /// `None` until a group assigned partitions.
    ends: Option<Ends>,
    /// Read but not yet printed (up to the end of the log; the last N with --last N).
    held: VecDeque<Value>,
    read: u64,
    /// When the message before the reported high watermark arrived.
    tail_from: Option<Instant>,
    /// With --follow: the end of the log was reached and what was held printed;
    /// new messages are printed as they arrive.
    caught_up: bool,
    last_message: Instant,
}

impl<'c> Reading<'c> {
    fn new(config: &'c ConsumeConfig, ends: Option<Ends>) -> Self {
        Reading {
            config,
            ends,
            held: VecDeque::new(),
            read: 0,
            tail_from: None,
            caught_up: false,
            last_message: Instant::now(),
        }
    }

    /// Reads until the end of the log (with --follow: until interrupted or
    /// idle), --max-messages, or --idle-timeout.
    fn read(
        &mut self,
        consumer: &BaseConsumer<Context>,
        printer: &mut Printer,
        stop: &AtomicBool,
    ) -> Result<()> {
        let config = self.config;
        let started = Instant::now();
        while config.max_messages.is_none_or(|max| self.read < max) && !stop.load(Ordering::Relaxed)
        {
            let settling = self.ends.as_ref().is_some_and(Ends::reached) && !self.caught_up;
            if settling {
                self.tail_from.get_or_insert_with(Instant::now);
            }
            let polled = consumer.poll(if settling { SETTLE } else { POLL });
            if self.ends.is_none() {
                let error = match &polled {
                    Some(Err(e)) => Some(e),
                    _ => None,
                };
                if !self.assigned(consumer, error, started)? {
                    continue;
                }
            }
            match polled {
                Some(Ok(message)) => self.take(consumer, &message, printer)?,
                Some(Err(e)) if crate::kafka::is_transient(&e) => {
                    // A broker stopped or a leader moved: librdkafka recovers.
                    log::debug!("reading {}: {e} (retrying)", config.topic);
                }
                Some(Err(e)) => {
                    let what = format!("read {}", config.topic);
                    return Err(config.settings.unreachable(&what, &e, consumer.context()));
                }
                None if settling => {
                    // A pause after the reported end: the end of the log.
                    if !config.follow {
                        return Ok(());
                    }
                    self.catch_up(printer)?;
                }
                None => {}
            }
            if let Some(t) = config.idle_timeout {
                if self.last_message.elapsed() >= t {
                    return self.idle(t);
                }
            }
            if settling && self.tail_from.is_some_and(|t| t.elapsed() >= TAIL_MAX) {
                // Messages keep coming after the reported end: stop there.
                if !config.follow {
                    return Ok(());
                }
                self.catch_up(printer)?;
            }
        }
        Ok(())
    }

    /// Nothing arrived for `--idle-timeout`: the end with `--follow` (or
    /// before any partition was assigned), else a stall before the end of
    /// the log that the brokers reported, which is not a success.
    fn idle(&self, timeout: Duration) -> Result<()> {
        let config = self.config;
        match self.ends.as_ref().and_then(|e| e.0.first()) {
            Some((partition, last)) if !config.follow => Err(fail(
                Exit::Kafka,
                format!(
                    "reading {} from {}: nothing arrived for --idle-timeout {timeout:?} before \
                     the end of the log (partition {partition}, offset {last}) after {}; raise \
                     --idle-timeout, or check the brokers",
                    config.topic,
                    config.settings.brokers(),
                    crate::logging::count(self.read, "message")
                ),
            )),
            _ => Ok(()),
        }
    }

    /// Before the group assigned partitions: whether it has now. A group
    /// this principal may not join (no Read ACL on the group) never assigns
    /// any: said at once, not as a timeout.
    fn assigned(
        &mut self,
        consumer: &BaseConsumer<Context>,
        polled: Option<&KafkaError>,
        started: Instant,
    ) -> Result<bool> {
        let config = self.config;
        // It comes as a poll's error or as an error event.
        let denied = match polled {
            Some(e) if crate::kafka::is_denied(e) => Some(e.clone()),
            _ => consumer.context().denied(),
        };
        if let Some(e) = denied {
            let group = config.group.as_deref().unwrap_or_default();
            let what = format!("join group {group} to read {}", config.topic);
            return Err(config.settings.unreachable(&what, &e, consumer.context()));
        }
        // A group member has nothing to read until the group assigns it
        // partitions: the idle time counts from the assignment.
        self.ends = Ends::of_group(consumer, config)?;
        self.last_message = Instant::now();
        if self.ends.is_none() {
            self.check_join(started)?;
            return Ok(false);
        }
        Ok(true)
    }

    /// With --follow, at the end of the log: print what was held; from now on
    /// messages are printed as they arrive, and the idle time counts from here.
    fn catch_up(&mut self, printer: &mut Printer) -> Result<()> {
        printer.print(std::mem::take(&mut self.held).into())?;
        self.caught_up = true;
        self.last_message = Instant::now();
        Ok(())
    }

    /// Fails when the group assigned no partition within the Kafka timeout.
    fn check_join(&self, started: Instant) -> Result<()> {
        let config = self.config;
        if started.elapsed() < config.settings.timeout {
            return Ok(());
        }
        Err(fail(
            Exit::Kafka,
            format!(
                "group {} got no partition of {} within {}s",
                config.group.as_deref().unwrap_or_default(),
                config.topic,
                config.settings.timeout.as_secs_f64()
            ),
        ))
    }

    /// One message: held until the end of the log, printed at once after it (--follow).
    fn take(
        &mut self,
        consumer: &BaseConsumer<Context>,
        message: &BorrowedMessage<'_>,
        printer: &mut Printer,
    ) -> Result<()> {
        let topic = &self.config.topic;
        self.last_message = Instant::now();
        self.read += 1;
        if let Some(ends) = self.ends.as_mut() {
            ends.arrived(message.partition(), message.offset());
        }
        if self.config.group.is_some() {
            consumer.store_offset_from_message(message).map_err(|e| {
                fail_with(
                    Exit::Kafka,
                    format!("storing the offset of {topic}: {e}"),
                    e,
                )
            })?;
        }
        let payload = message.payload().unwrap_or_default();
        let value = match serde_json::from_slice::<Value>(payload) {
            Ok(v) if v.is_object() => v,
            _ => {
                log::warn!(
                    "{topic} offset {}: not a JSON object; skipped",
                    message.offset()
                );
                return Ok(());
            }
        };
        if self.caught_up {
            return printer.print(vec![value]);
        }
        self.held.push_back(value);
        if let Start::Last(n) = self.config.start {
            while self.held.len() as u64 > n {
                self.held.pop_front();
            }
        }
        Ok(())
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
}

impl<'c> Printer<'c> {
    fn new(config: &'c ConsumeConfig) -> Self {
        Printer {
            config,
            json: None,
            csv: None,
            printed: 0,
        }
    }

    /// Prints `values` and flushes stdout.
    fn print(&mut self, values: Vec<Value>) -> Result<()> {
        let Some(first) = values.first() else {
            return Ok(());
        };
        if self.config.format == ConsumeFormat::Json {
            let out = self
                .json
                .get_or_insert_with(|| BufWriter::new(Watched(std::io::stdout())));
            for v in &values {
                serde_json::to_writer(&mut *out, v)?;
                out.write_all(b"\n")?;
                self.printed += 1;
            }
            return out.flush().context("writing stdout");
        }
        let aggregates = self.csv.as_ref().map_or(is_aggregate(first), |(a, _)| *a);
        if aggregates {
            self.aggregates(&values)
        } else {
            self.records(values)
        }
    }

    fn aggregates(&mut self, values: &[Value]) -> Result<()> {
        let mut aggregates = Vec::new();
        let mut layout = None;
        for v in values.iter().filter(|v| is_aggregate(v)) {
            // A message that looks like an aggregate but is not one of ours
            // (for this dataset) is skipped, as a message that is not JSON is.
            let (agg, stats) = match Aggregate::from_json(v, &self.config.dataset) {
                Ok(read) => read,
                Err(e) => {
                    log::warn!(
                        "{}: not an aggregate of {} ({e:#}); skipped",
                        self.config.topic,
                        self.config.dataset.name
                    );
                    continue;
                }
            };
            layout.get_or_insert_with(|| Table::Aggregates {
                key_columns: self.config.dataset.key_columns.clone(),
                fields: agg.fields.iter().map(|(f, _)| f.clone()).collect(),
                stats,
                completeness: self.config.completeness,
            });
            aggregates.push(agg);
        }
        let Some(layout) = layout else {
            return Ok(());
        };
        let (_, sink) = self
            .csv
            .get_or_insert_with(|| (true, CsvSink::new(std::io::stdout(), layout)));
        for agg in &aggregates {
            sink.aggregate(agg)?;
        }
        self.printed += aggregates.len() as u64;
        sink.finish().map(|_| ())
    }

    fn records(&mut self, values: Vec<Value>) -> Result<()> {
        let dataset = &self.config.dataset;
        let mut rows: Vec<Row> = Vec::new();
        for v in values {
            let Value::Object(map) = v else { continue };
            match dataset.parse_row(map) {
                Ok(row) => rows.push(row),
                Err(e) => log::warn!("{}: {e:#}; skipped", self.config.topic),
            }
        }
        if self.csv.is_none() {
            let fields = resolve_fields(dataset, self.config.fields.named(), &rows)
                .map_err(|e| or_code(e, Exit::Data))?;
            let table = Table::Records {
                dataset: dataset.clone(),
                fields,
            };
            self.csv = Some((false, CsvSink::new(std::io::stdout(), table)));
        }
        let (_, sink) = self.csv.as_mut().expect("set above");
        for row in &rows {
            sink.record(row)?;
        }
        self.printed += rows.len() as u64;
        sink.finish().map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ends_are_reached_when_the_message_before_the_high_watermark_arrives() {
        let mut ends = Ends::from_range(0, 3, 8);
        assert!(!ends.reached());
        ends.arrived(0, 6);
        ends.arrived(1, 7); // another partition
        assert!(!ends.reached());
        ends.arrived(0, 7);
        assert!(ends.reached());
        // Past the reported end (tansu's high watermark is below the log's end).
        let mut ends = Ends::from_range(0, 0, 1);
        ends.arrived(0, 4);
        assert!(ends.reached());
    }

    #[test]
    fn nothing_to_read_is_reached_at_once() {
        assert!(Ends::from_range(0, 5, 5).reached());
        assert!(Ends::from_range(0, 0, 0).reached());
    }
}
