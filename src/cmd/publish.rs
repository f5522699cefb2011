//! `eds-kafka publish`: one run. With Kafka: read the per-key cursors from
//! the topics, fetch everything since them (capped by `--max-catch-up`) in
//! one request, and publish every new record and one sliding-window
//! aggregate per new (row time, key). With `--dry-run`: the same as for
//! empty topics (each key's current window), printed as CSV.

use anyhow::Result;
use chrono::{DateTime, TimeDelta, Utc};

use crate::aggregate::{FieldError, Survey};
use crate::api::{Api, Held, RowShape};
use crate::config::{Output, PublishConfig};
use crate::dataset::Dataset;
use std::collections::{BTreeMap, BTreeSet, HashMap};

use super::CommandError;
use crate::cursor::describe;
use crate::cursor::emit::{Revised, Skipped};
use crate::cursor::plan::note_newest;
use crate::cursor::plan::Reviews;
use crate::cursor::Emitter;
use crate::cursor::{self, Cursors, Spans};
use crate::sink::csv::{CsvSink, Table};
use crate::sink::kafka::KafkaSink;
use crate::sink::{Sink, Written};
use crate::time::{floor, format_span, format_utc};

/// What a run did, for logs and metrics.
#[derive(Debug, Clone, Default)]
pub struct Summary {
    pub written: Written,
    /// The newest complete row time seen, if the fetch got that far.
    pub newest: Option<DateTime<Utc>>,
    /// `--now` minus `newest`.
    pub data_lag: Option<TimeDelta>,
    /// Key combinations (in either topic) more than `--max-key-lateness` behind.
    pub keys_behind: Option<u64>,
    /// Values of known value fields that were not numbers, published as null.
    pub non_numeric: u64,
    /// Rows (and windows) behind their key's cursor published late: holes filled.
    pub late: u64,
    /// Rows and windows late or changed beyond the revision horizon (not published).
    pub beyond_horizon: u64,
    /// Records the topic has and the API no longer serves (left alone).
    pub withdrawn: u64,
}

pub fn run(config: &PublishConfig, summary: &mut Summary) -> Result<()> {
    let _lock = match &config.lock_file {
        Some(path) => Some(crate::files::lock(path)?),
        None => None,
    };
    super::note_unused_value_format(config.unused_value_format);
    publish(config, summary)
}

fn spans(config: &PublishConfig) -> Spans {
    Spans {
        resolution: config.source.dataset.resolution,
        window: config.aggregate.window,
        max_lag: config.max_lag,
        max_catch_up: config.max_catch_up,
        max_key_lateness: config.max_key_lateness,
        max_revision_age: config.max_revision_age,
    }
}

/// One warning per topic that leaves keys behind.
fn warn_behind(config: &PublishConfig, behind: &[cursor::plan::Behind]) {
    for chunk in behind.chunk_by(|a, b| a.topic == b.topic) {
        log::warn!(
            "{}",
            describe::describe_behind(config.max_key_lateness, chunk, 5)
        );
    }
}

/// The warning for rows of key combinations never published that came too
/// old for this run's range (a key later than `--max-catch-up` or
/// `--max-key-lateness` before it was ever published).
fn warn_skipped(topic: &str, plan: &cursor::Plan, skipped: &Skipped) {
    if !skipped.is_empty() {
        let from = plan.records.map_or(plan.publish_from, |b| b.unseen_from);
        log::warn!("{}", describe::describe_skipped(topic, from, skipped));
    }
}

/// The warning for key combinations published that the tail read did not
/// find (a keyed topic that was not read to its start).
fn warn_unseen(c: &cursor::TopicCursor, unseen: &Skipped) {
    let since = c.complete_since.filter(|t| *t != DateTime::<Utc>::MAX_UTC);
    if let Some(since) = since.filter(|_| !unseen.is_empty()) {
        log::warn!("{}", describe::describe_unseen(&c.topic, since, unseen));
    }
}

/// The records of `[from, limit)` held as text (see [`Held`]), their newest
/// time (checked against `--max-lag`), each key combination's newest time
/// (for an empty topic's rule) and the fields to aggregate: all found while
/// the body streams in, without holding parsed rows.
struct Fetched {
    held: Held,
    newest: DateTime<Utc>,
    newest_per_key: BTreeMap<Vec<String>, DateTime<Utc>>,
    fields: Vec<String>,
}

fn fetch(
    config: &PublishConfig,
    from: DateTime<Utc>,
    limit: DateTime<Utc>,
    summary: &mut Summary,
) -> Result<Fetched> {
    let dataset = &config.source.dataset;
    let named = config.aggregate.fields.named();
    // The fields asked for are all a row needs until it is emitted: the
    // others are skipped unparsed (and looked at again only for an error).
    let api = Api::new(config.source.api.clone())?.with_shape(RowShape {
        keep: named.map(<[String]>::to_vec),
        raw: true,
    });
    let (mut held, mut survey, mut per_key) = (Held::default(), Survey::default(), HashMap::new());
    api.fetch(dataset, from, limit, &mut |row| {
        if row.time < from || row.time >= limit {
            return Ok(());
        }
        survey.add(&row, named);
        note_newest(&mut per_key, &row.key, row.time);
        held.push(row)
    })?;
    let newest = (per_key.values().max().copied()).ok_or_else(|| CommandError::NoRows {
        dataset: dataset.name.clone(),
        from,
        until: limit,
        max_lag: config.max_lag,
    })?;
    summary.newest = Some(newest);
    let lag = config.now - newest;
    if lag > config.max_lag {
        return Err(CommandError::Stale {
            dataset: dataset.name.clone(),
            newest,
            now: config.now,
            max_lag: config.max_lag,
        }
        .into());
    }
    let fields = survey
        .fields(dataset, named)
        .or_else(|e| whole_survey(dataset, named, &held, e))?;
    log::debug!(
        "newest row {} ({} old), {} rows held",
        format_utc(newest),
        format_span(lag.max(TimeDelta::zero())),
        held.len()
    );
    Ok(Fetched {
        held,
        newest,
        newest_per_key: per_key.into_iter().collect(),
        fields,
    })
}

/// The fields' error again from rows parsed with all their fields, when
/// the rows were surveyed with the asked fields only: an absent field's
/// error lists the fields the rows do have.
fn whole_survey(
    dataset: &Dataset,
    named: Option<&[String]>,
    held: &Held,
    first: FieldError,
) -> Result<Vec<String>> {
    if !matches!(first, FieldError::Absent { .. }) {
        return Err(first.into());
    }
    let mut survey = Survey::default();
    held.each_whole(dataset, &mut |row| survey.add(row, named))?;
    Ok(survey.fields(dataset, named)?)
}

/// The Kafka sink (`None` for `--dry-run`) and the cursors of what the run
/// writes: Kafka's, or for `--dry-run` empty ones (it prints what a first
/// run would publish).
fn open(config: &PublishConfig) -> Result<(Option<KafkaSink>, Cursors)> {
    let dataset = &config.source.dataset;
    let Output::Kafka(kafka) = &config.output else {
        return Ok((None, Cursors::empty(config.output == Output::CsvRecords)));
    };
    let s = spans(config);
    let reviews = Reviews::publish(floor(config.now, s.resolution), s);
    let (sink, cursors) =
        cursor::connect(kafka, dataset, &config.aggregate.stats, s.tail(), reviews)?;
    for c in cursors.records.iter().chain(cursors.aggregates.iter()) {
        c.check_not_future(config.now, dataset.resolution)?;
    }
    Ok((Some(sink), cursors))
}

fn publish(config: &PublishConfig, summary: &mut Summary) -> Result<()> {
    // Connect first: a broker that is down should not cost the minute's one API request.
    let (kafka, cursors) = open(config)?;
    let s = spans(config);
    let plan = cursor::plan(&cursors, config.now, s);
    announce(config, &plan, &cursors, kafka.is_some());
    // The HTTP fetch is not Kafka's time: the run's Kafka deadline moves by it.
    let f = match &config.output {
        Output::Kafka(k) => k
            .settings
            .outside(|| fetch(config, plan.fetch_from, plan.limit, summary)),
        _ => fetch(config, plan.fetch_from, plan.limit, summary),
    }?;
    let mut sink = sink(config, kafka, &f.fields);
    let rules = plan.rules(&cursors, &f.newest_per_key, s);
    let dataset = &config.source.dataset;
    let stats = &config.aggregate.stats;
    let mut emitter = Emitter::new(dataset, &f.fields, stats, sink.as_mut(), rules);
    // A record's CSV line shows all its fields; a message is its text.
    let parsed = (config.output != Output::CsvRecords).then_some(f.fields.as_slice());
    let rows = f.held.rows(dataset, parsed);
    summary.non_numeric = (emitter.each(rows, config.aggregate.window)?).non_numeric;
    let emitted = Emitted::take(emitter, plan.fetch_from);
    summary.written = sink.finish()?;
    report(config, &plan, &cursors, &emitted, summary);
    if summary.written == Written::default() {
        log::info!(
            "nothing new to publish (newest row {})",
            format_utc(f.newest)
        );
    }
    Ok(())
}

/// What the run will do, and what its plan leaves out (before the fetch).
fn announce(config: &PublishConfig, plan: &cursor::Plan, cursors: &Cursors, kafka: bool) {
    if kafka {
        log::info!(
            "cursor: records {}, aggregates {}; fetching {} .. {}",
            cursor::describe(cursors.records.as_ref()),
            cursor::describe(cursors.aggregates.as_ref()),
            format_utc(plan.fetch_from),
            format_utc(plan.limit)
        );
    }
    for gap in &plan.skipped {
        log::warn!("{}", describe::describe_gap(config.max_catch_up, gap));
    }
    warn_behind(config, &plan.behind);
}

/// Where the messages go: Kafka, or CSV on stdout for `--dry-run`.
fn sink(config: &PublishConfig, kafka: Option<KafkaSink>, fields: &[String]) -> Box<dyn Sink> {
    match kafka {
        Some(sink) => Box::new(sink),
        None => Box::new(CsvSink::stdout(
            Table::of(
                config.output == Output::CsvRecords,
                &config.source.dataset,
                fields,
                &config.aggregate.stats,
            )
            .with_completeness(config.aggregate.completeness),
        )),
    }
}

/// What the emitter found beyond what it published, kept for the report.
struct Emitted {
    skipped: Skipped,
    unseen: [Skipped; 2],
    revised: [Revised; 2],
    /// Records the topic has and the API no longer serves.
    withdrawn: u64,
}

impl Emitted {
    fn take(emitter: Emitter<'_>, fetched: DateTime<Utc>) -> Emitted {
        let withdrawn = (emitter.records.as_ref()).map_or(0, |r| r.withdrawn(fetched));
        Emitted {
            skipped: emitter.skipped,
            unseen: emitter.unseen,
            revised: emitter.revised,
            withdrawn,
        }
    }
}

/// The warnings after the run (once each, with counts) and the summary's
/// counts for the metrics.
fn report(
    config: &PublishConfig,
    plan: &cursor::Plan,
    cursors: &Cursors,
    emitted: &Emitted,
    summary: &mut Summary,
) {
    let records_topic = cursors.records.as_ref().map(|c| c.topic.as_str());
    warn_skipped(records_topic.unwrap_or_default(), plan, &emitted.skipped);
    for (c, unseen) in [&cursors.records, &cursors.aggregates]
        .into_iter()
        .zip(&emitted.unseen)
    {
        if let Some(c) = c.as_ref().filter(|c| !c.is_empty()) {
            warn_unseen(c, unseen);
        }
    }
    describe::warn_revised(config.max_revision_age, &emitted.revised, emitted.withdrawn);
    let behind: BTreeSet<&[String]> = (plan.behind.iter().map(|b| b.key.as_slice()))
        .chain(emitted.skipped.keys().map(Vec::as_slice))
        .collect();
    summary.keys_behind = Some(behind.len() as u64);
    summary.late = emitted.revised.iter().map(|r| r.late).sum();
    summary.beyond_horizon = emitted.revised.iter().map(Revised::beyond).sum();
    summary.withdrawn = emitted.withdrawn;
}
