//! `eds-kafka consume`: read a topic back (one partition, assigned directly,
//! or through a consumer group that commits) and print it as CSV with the
//! columns `publish --dry-run` prints, or as JSON lines.

use std::collections::VecDeque;
use std::io::Write;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use rdkafka::consumer::{BaseConsumer, CommitMode, Consumer};
use rdkafka::{Message, Offset, TopicPartitionList};
use serde_json::Value;

use crate::aggregate::{resolve_fields, Aggregate};
use crate::cli::Format;
use crate::config::{ConsumeConfig, Start};
use crate::dataset::Row;
use crate::exit::{fail, fail_with, Exit, OrExit};
use crate::kafka::Context;
use crate::sink::csv::{CsvSink, Table};
use crate::sink::Sink;
use crate::topics;

/// What a missing topic's message tells a reader.
const READ_HINT: &str = "check --topic and --dataset (publish --create-topics creates it)";

pub fn run(config: &ConsumeConfig) -> Result<()> {
    let settings = &config.settings;
    let consumer = settings.consumer(config.group.as_deref())?;
    let topic = config.topic.as_str();
    // A missing topic is said plainly (and never created by this request).
    let partition = (config.start != Start::Committed).then_some(config.partition);
    topics::require(consumer.client(), settings, topic, partition, READ_HINT)?;
    match config.start {
        Start::Committed => consumer
            .subscribe(&[topic])
            .or_exit(Exit::Kafka, |e| format!("subscribing to {topic}: {e}"))?,
        Start::Beginning => assign(&consumer, topic, config.partition, Offset::Beginning)?,
        Start::Last(n) => {
            let (low, high) = consumer
                .fetch_watermarks(topic, config.partition, settings.timeout)
                .map_err(|e| {
                    settings.offsets_error(consumer.client(), topic, config.partition, &e)
                })?;
            // The high watermark can lag the log's end (tansu reports the last batch's
            // base offset + 1): start N before it, read to the end, keep the last N.
            let from = (high - n as i64).max(low);
            assign(&consumer, topic, config.partition, Offset::Offset(from))?;
        }
    }

    let keep = match config.start {
        Start::Last(n) => Some(n as usize),
        _ => None,
    };
    let mut values: VecDeque<Value> = VecDeque::new();
    let mut read = 0u64;
    let started = Instant::now();
    let mut last_message = started;
    // A group member has nothing to read until the group assigns it partitions:
    // the idle time counts from the assignment.
    let mut joined = config.group.is_none();
    while config.max_messages.is_none_or(|max| read < max) {
        match consumer.poll(Duration::from_millis(20)) {
            None if !joined => {
                joined = consumer.assignment().is_ok_and(|a| a.count() > 0);
                last_message = Instant::now();
                if !joined && started.elapsed() >= settings.timeout {
                    return Err(fail(
                        Exit::Kafka,
                        format!(
                            "group {} got no partition of {topic} within {}s",
                            config.group.as_deref().unwrap_or_default(),
                            settings.timeout.as_secs_f64()
                        ),
                    ));
                }
            }
            None if last_message.elapsed() >= config.idle_timeout => break,
            None => {}
            Some(Err(e)) => {
                return Err(settings.unreachable(&format!("read {topic}"), &e, consumer.context()));
            }
            Some(Ok(message)) => {
                joined = true;
                last_message = Instant::now();
                read += 1;
                if config.group.is_some() {
                    consumer
                        .store_offset_from_message(&message)
                        .or_exit(Exit::Kafka, |e| {
                            format!("storing the offset of {topic}: {e}")
                        })?;
                }
                let payload = message.payload().unwrap_or_default();
                match serde_json::from_slice::<Value>(payload) {
                    Ok(v) if v.is_object() => values.push_back(v),
                    _ => log::warn!(
                        "{topic} offset {}: not a JSON object; skipped",
                        message.offset()
                    ),
                }
                if keep.is_some_and(|n| values.len() > n) {
                    values.pop_front();
                }
            }
        }
    }
    if config.group.is_some() && read > 0 {
        consumer
            .commit_consumer_state(CommitMode::Sync)
            .or_exit(Exit::Kafka, |e| {
                format!("committing offsets of {topic}: {e}")
            })?;
    }
    log::info!("read {read} messages from {topic}");
    write(config, values.into())
}

fn assign(
    consumer: &BaseConsumer<Context>,
    topic: &str,
    partition: i32,
    offset: Offset,
) -> Result<()> {
    let mut list = TopicPartitionList::new();
    list.add_partition_offset(topic, partition, offset)
        .and_then(|()| consumer.assign(&list))
        .or_exit(Exit::Kafka, |e| {
            format!("assigning {topic}/{partition}: {e}")
        })
}

fn is_aggregate(v: &Value) -> bool {
    v.get("window_start").is_some() && v.get("fields").is_some()
}

fn write(config: &ConsumeConfig, values: Vec<Value>) -> Result<()> {
    let stdout = std::io::stdout().lock();
    if config.format == Format::Json {
        let mut out = std::io::BufWriter::new(crate::sink::Watched(stdout));
        for v in &values {
            serde_json::to_writer(&mut out, v)?;
            out.write_all(b"\n")?;
        }
        return out.flush().context("writing stdout");
    }
    let Some(first) = values.first() else {
        return Ok(());
    };
    if is_aggregate(first) {
        let mut aggregates = Vec::new();
        let mut layout = None;
        for v in values.iter().filter(|v| is_aggregate(v)) {
            // A message that looks like an aggregate but is not one of ours is
            // skipped, as a message that is not JSON is.
            let (agg, stats) = match Aggregate::from_json(v) {
                Ok(read) => read,
                Err(e) => {
                    log::warn!("{}: not an aggregate ({e:#}); skipped", config.topic);
                    continue;
                }
            };
            layout.get_or_insert_with(|| {
                (
                    agg.key.as_ref().map(|(col, _)| col.clone()),
                    agg.fields.iter().map(|(f, _)| f.clone()).collect(),
                    stats,
                )
            });
            aggregates.push(agg);
        }
        let Some((key_column, fields, stats)) = layout else {
            return Ok(());
        };
        let mut sink = CsvSink::new(
            stdout,
            Table::Aggregates {
                key_column,
                fields,
                stats,
            },
        );
        for agg in &aggregates {
            sink.aggregate(agg)?;
        }
        sink.finish()?;
    } else {
        let dataset = &config.dataset;
        let mut rows: Vec<Row> = Vec::new();
        for v in values {
            let Value::Object(map) = v else { continue };
            match dataset.parse_row(map) {
                Ok(row) => rows.push(row),
                Err(e) => log::warn!("{}: {e:#}; skipped", config.topic),
            }
        }
        let fields = resolve_fields(dataset, config.fields.named(), &rows)
            .map_err(|e| fail_with(Exit::Data, format!("{e:#}"), e))?;
        let mut sink = CsvSink::new(
            stdout,
            Table::Records {
                dataset: dataset.clone(),
                fields,
            },
        );
        for row in &rows {
            sink.record(row)?;
        }
        sink.finish()?;
    }
    Ok(())
}
