//! Connecting a run to Kafka: the sink (its topics checked or created),
//! both topics' cursors and, for a schema registry's value format, the
//! topics' schemas (registered or looked up), side by side. `publish` and
//! `backfill` both start here.

use anyhow::Result;

use super::plan::{Reviews, TailSpan};
use super::Cursors;
use crate::aggregate::Stat;
use crate::dataset::Dataset;
use crate::sink::kafka::{KafkaOutput, KafkaSink};
use crate::sink::values::Values;

/// Connects the Kafka sink (topics checked or created, values written in
/// `--value-format` with `stats`) and reads both cursors, reading each
/// topic's tail back from its newest message.
pub fn connect(
    kafka: &KafkaOutput,
    dataset: &Dataset,
    stats: &[Stat],
    tail: TailSpan,
    reviews: Reviews,
) -> Result<(KafkaSink, Cursors)> {
    check_bootstrap(kafka)?;
    // Each topic with the time its reviewed span starts at.
    let topics: Vec<(&str, Option<chrono::DateTime<chrono::Utc>>)> = [
        (kafka.topics.records.as_deref(), reviews.records),
        (kafka.topics.aggregates.as_deref(), reviews.aggregates),
    ]
    .into_iter()
    .filter_map(|(topic, span)| Some((topic?, span.map(|s| s.since))))
    .collect();
    let read = || {
        super::read(
            &kafka.settings,
            &topics,
            kafka.topics.partition,
            dataset,
            tail,
        )
    };
    // The producer's start (metadata, producer id), the cursor read and the
    // registry's answers each wait for new connections: side by side they
    // take the time of the longest.
    let (sink, early, values) = std::thread::scope(|scope| {
        let reader = scope.spawn(read);
        let values = scope.spawn(|| Values::prepare(&kafka.values, &kafka.topics, dataset, stats));
        let sink = KafkaSink::connect(
            &kafka.settings,
            kafka.topics.clone(),
            kafka.create_topics.as_ref(),
            dataset,
        );
        (
            sink,
            reader.join().expect("the cursor reader does not panic"),
            values.join().expect("the registry's client does not panic"),
        )
    });
    let sink = sink?.with_values(values?);
    let found = match early {
        Ok(found) => found,
        // A topic the sink has just created could not be read before it
        // existed, and every broker learns of it a little later.
        Err(_) if kafka.create_topics.is_some() => read_when_created(kafka, read)?,
        Err(e) => return Err(e),
    };
    let mut found = found.into_iter();
    let cursors = Cursors {
        records: kafka.topics.records.as_ref().and_then(|_| found.next()),
        aggregates: kafka.topics.aggregates.as_ref().and_then(|_| found.next()),
    };
    Ok((sink, cursors))
}

/// Nothing listening at any bootstrap address: said now, not after
/// `--kafka-timeout`.
fn check_bootstrap(kafka: &KafkaOutput) -> Result<()> {
    crate::probe::check_bootstrap(&kafka.settings, || {
        let settings = &kafka.settings;
        let producer: rdkafka::producer::BaseProducer = settings
            .producer_config()
            .create()
            .map_err(|e| settings.creation_error(e))?;
        drop(producer);
        Ok(())
    })
}

/// Reads the cursors again until the topics just created can be read, or
/// `--kafka-timeout` passes.
fn read_when_created<T>(kafka: &KafkaOutput, read: impl Fn() -> Result<T>) -> Result<T> {
    let deadline = kafka.settings.deadline();
    loop {
        match read() {
            Err(e)
                if crate::kafka::topics::is_missing_topic(&e)
                    && std::time::Instant::now() < deadline =>
            {
                std::thread::sleep(std::time::Duration::from_millis(50));
            }
            done => return done,
        }
    }
}

/// Reads what the topics hold from `since` on (records; aggregates a
/// resolution later: the window ending then is due with the row at `since`)
/// into the cursors' reviews: a backfill's reviewed span, known only once
/// its cursors are.
pub fn review(
    kafka: &KafkaOutput,
    dataset: &Dataset,
    tail: TailSpan,
    cursors: &mut Cursors,
    since: chrono::DateTime<chrono::Utc>,
) -> Result<()> {
    let later = since
        .checked_add_signed(dataset.resolution)
        .unwrap_or(since);
    let topics: Vec<(&str, Option<chrono::DateTime<chrono::Utc>>)> = [
        (kafka.topics.records.as_deref(), since),
        (kafka.topics.aggregates.as_deref(), later),
    ]
    .into_iter()
    .filter_map(|(topic, at)| Some((topic?, Some(at))))
    .collect();
    let read = super::read(
        &kafka.settings,
        &topics,
        kafka.topics.partition,
        dataset,
        tail,
    )?;
    let mut read = read.into_iter();
    for cursor in [&mut cursors.records, &mut cursors.aggregates]
        .into_iter()
        .flatten()
    {
        if let Some(found) = read.next() {
            cursor.review = found.review;
        }
    }
    Ok(())
}
