//! `eds-kafka status`: reads the records and aggregates topics over the last
//! `--since` and reports their health ([`crate::health`]): a table or JSON on
//! stdout, exit 5 when unhealthy. It assigns the partition (no group, never
//! commits) and reads within `--kafka-timeout`.
//!
//! Where to start: the offset of the first message whose Kafka timestamp is
//! at or after `--now - --since` (a message is produced after its record
//! time, so none of the period comes before it); to the high watermark.

use std::io::Write as _;
use std::time::{Duration, Instant};

use anyhow::{Context as _, Result};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::{BorrowedMessage, Headers};
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::config::StatusConfig;
use crate::contract::aggregate::missing_of;
use crate::contract::{MessageKey, DATASET_HEADER};
use crate::exit::{fail, Exit, OrExit};
use crate::health::Health;
use crate::kafka::Context;
use crate::topics;

/// What a missing topic's message tells a reader.
const READ_HINT: &str = "check --records-topic, --aggregates-topic and --dataset / EDS_DATASET";

pub fn run(config: &StatusConfig) -> Result<()> {
    crate::probe::check_bootstrap(&config.settings, || {
        config.settings.consumer(None).map(drop)
    })?;
    let consumer = config.settings.consumer(None)?;
    let started = Instant::now();
    let mut health = Health::new(config.now, config.since, config.dataset.resolution);
    let result = read(&consumer, config, &mut health);
    drop(consumer);
    result?;
    log::debug!(
        "read the topics in {}",
        crate::logging::elapsed(started.elapsed())
    );
    let mut out = std::io::stdout().lock();
    if config.json {
        serde_json::to_writer(&mut out, &health.json(&config.limits))?;
        out.write_all(b"\n")?;
    } else {
        out.write_all(health.table(&config.limits).as_bytes())?;
    }
    out.flush().context("writing stdout")?;
    let verdict = health.verdict(&config.limits);
    if verdict.healthy() {
        return Ok(());
    }
    Err(fail(
        Exit::Unhealthy,
        format!("unhealthy: {}", verdict.reasons.join("; ")),
    ))
}

/// One topic's partition being read: up to `end` (the offset before the
/// high watermark), `done` when it arrived or there is nothing to read.
struct Part<'c> {
    topic: &'c str,
    aggregates: bool,
    end: i64,
    done: bool,
}

/// Assigns both topics from the period's start and reads them to their ends.
fn read(
    consumer: &BaseConsumer<Context>,
    config: &StatusConfig,
    health: &mut Health,
) -> Result<()> {
    let deadline = Instant::now() + config.settings.timeout;
    let mut list = TopicPartitionList::new();
    let mut parts = Vec::new();
    for (topic, aggregates) in [
        (config.records_topic.as_str(), false),
        (config.aggregates_topic.as_str(), true),
    ] {
        let (from, high) = start(consumer, config, topic)?;
        log::debug!("{topic}: reading offsets {from}..{high}");
        list.add_partition_offset(topic, config.partition, Offset::Offset(from))
            .or_exit(Exit::Kafka, |e| format!("assigning {topic}: {e}"))?;
        parts.push(Part {
            topic,
            aggregates,
            end: high - 1,
            done: from >= high,
        });
    }
    consumer
        .assign(&list)
        .or_exit(Exit::Kafka, |e| format!("assigning the topics: {e}"))?;
    while parts.iter().any(|p| !p.done) {
        if Instant::now() >= deadline {
            let waiting: Vec<&str> = parts.iter().filter(|p| !p.done).map(|p| p.topic).collect();
            return Err(fail(
                Exit::Kafka,
                format!(
                    "reading {} from {}: the end did not arrive within {}s",
                    waiting.join(", "),
                    config.settings.brokers(),
                    config.settings.timeout.as_secs_f64()
                ),
            ));
        }
        match consumer.poll(Duration::from_millis(50)) {
            None => {}
            Some(Ok(m)) => take(config, &mut parts, &m, health),
            Some(Err(e)) if crate::kafka::is_transient(&e) => {
                log::debug!("reading the topics: {e} (retrying)");
            }
            Some(Err(e)) => {
                return Err(config
                    .settings
                    .unreachable("read the topics", &e, consumer.context()))
            }
        }
    }
    Ok(())
}

/// The offset the period starts at in `topic`, and its high watermark.
fn start(
    consumer: &BaseConsumer<Context>,
    config: &StatusConfig,
    topic: &str,
) -> Result<(i64, i64)> {
    let settings = &config.settings;
    let partition = config.partition;
    topics::require(consumer, settings, topic, Some(partition), READ_HINT)?;
    let what = format!("read the offsets of {topic}");
    let (low, high) = settings
        .wait(consumer, &what, |t| {
            consumer.fetch_watermarks(topic, partition, t)
        })?
        .map_err(|e| topics::offsets_error(settings, consumer, topic, partition, &e))?;
    let from_ms = (config.now - config.since).timestamp_millis().max(0);
    let mut times = TopicPartitionList::new();
    times
        .add_partition_offset(topic, partition, Offset::Offset(from_ms))
        .or_exit(Exit::Kafka, |e| format!("{what}: {e}"))?;
    let found = settings
        .wait(consumer, &what, |t| {
            consumer.offsets_for_times(times.clone(), t)
        })?
        .map_err(|e| settings.unreachable(&what, &e, consumer.context()))?;
    let from = match found.find_partition(topic, partition).map(|e| e.offset()) {
        Some(Offset::Offset(o)) => o.clamp(low, high),
        // No message at or after that time.
        Some(Offset::End) => high,
        _ => low,
    };
    Ok((from, high))
}

/// One message: counted when it is ours (header `eds-dataset`) with a key
/// of this dataset's shape; anything else is skipped with a warning.
fn take(config: &StatusConfig, parts: &mut [Part], m: &BorrowedMessage<'_>, health: &mut Health) {
    let Some(part) = parts.iter_mut().find(|p| p.topic == m.topic()) else {
        return;
    };
    if m.offset() >= part.end {
        part.done = true;
    }
    let ours = m
        .headers()
        .and_then(|h| h.iter().find(|h| h.key == DATASET_HEADER))
        .is_some_and(|h| h.value == Some(config.dataset.name.as_bytes()));
    if !ours {
        return;
    }
    let at = format!("{} offset {}", m.topic(), m.offset());
    let text = String::from_utf8_lossy(m.key().unwrap_or_default()).to_string();
    let key: MessageKey = match text.parse() {
        Ok(k) => k,
        Err(e) => {
            log::warn!("{at}: key '{text}': {e}; skipped");
            return;
        }
    };
    if key.key.len() != config.dataset.key_columns.len() {
        log::warn!("{at}: key '{text}' does not have this dataset's key columns; skipped");
        return;
    }
    if !part.aggregates {
        return health.record(key);
    }
    let missing = missing_of(m.payload().unwrap_or_default()).unwrap_or_else(|e| {
        log::warn!("{at}: not an aggregate value ({e}); counted as complete");
        Vec::new()
    });
    health.aggregate(key, missing);
}
