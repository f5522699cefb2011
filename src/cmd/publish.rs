//! `eds-kafka publish`: one run. Fetch the rows that can hold the newest
//! complete minute (back to `--max-lag`), cut the trailing window ending just
//! after it, aggregate, and write the result.

use anyhow::Result;
use chrono::TimeDelta;

use crate::aggregate::{aggregate, resolve_fields};
use crate::api::Api;
use crate::config::{Output, PublishConfig};
use crate::dataset::Row;
use crate::exit::{fail, Exit};
use crate::sink::csv::{CsvSink, Table};
use crate::sink::kafka::KafkaSink;
use crate::sink::Sink;
use crate::time::{floor, format_span, format_utc};
use crate::window::{ending_at, keep_between, newest_before, normalize};

pub fn run(config: &PublishConfig) -> Result<()> {
    let dataset = &config.source.dataset;
    // Connect first: a broker that is down should not cost the minute's one API request.
    let kafka = match &config.output {
        Output::Kafka(k) => Some(KafkaSink::connect(
            &k.settings,
            k.topics.clone(),
            k.create_topics,
            &dataset.name,
            config.aggregate.stats.clone(),
        )?),
        _ => None,
    };
    let api = Api::new(config.source.api.clone())?;
    // Rows at or after `limit` may still be incomplete: the newest usable row is before it.
    let limit = floor(config.now, dataset.resolution);
    let from = floor(
        limit - config.max_lag - config.aggregate.window,
        dataset.resolution,
    );
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
    let window = ending_at(&rows, newest + dataset.resolution, config.aggregate.window);
    log::info!(
        "window {} .. {}: {} rows, newest row {} old",
        format_utc(window.start),
        format_utc(window.end),
        window.rows.len(),
        format_span(lag.max(TimeDelta::zero()))
    );
    let aggregates = aggregate(dataset, &window, &fields);

    let mut sink: Box<dyn Sink> = match (kafka, &config.output) {
        (Some(kafka), _) => Box::new(kafka),
        (None, Output::CsvRecords) => Box::new(CsvSink::new(
            std::io::stdout().lock(),
            Table::Records {
                dataset: dataset.clone(),
                fields,
            },
        )),
        (None, _) => Box::new(CsvSink::new(
            std::io::stdout().lock(),
            Table::Aggregates {
                key_column: dataset.key_column.clone(),
                fields,
                stats: config.aggregate.stats.clone(),
            },
        )),
    };
    for row in window.rows {
        sink.record(row)?;
    }
    for agg in &aggregates {
        sink.aggregate(agg)?;
    }
    sink.finish()?;
    Ok(())
}
