//! `backfill`'s configuration: a named field list, a `--from`..`--to` range
//! on the dataset's grid, chunks of whole resolutions.

use anyhow::Result;
use chrono::{DateTime, TimeDelta, Utc};

use super::{span, AggregateConfig, ConfigError, Fields, Output, SourceConfig};
use crate::cli::BackfillArgs;
use crate::dataset::Dataset;

#[derive(Debug, Clone)]
pub struct BackfillConfig {
    pub source: SourceConfig,
    pub aggregate: AggregateConfig,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    pub chunk: TimeDelta,
    pub min_request_interval: std::time::Duration,
    pub output: Output,
    /// `--to` as given, when it was after `--now` (then `to` is `--now`
    /// floored to the resolution: later rows are `publish`'s).
    pub requested_to: Option<DateTime<Utc>>,
    pub lock_file: Option<std::path::PathBuf>,
    /// How far before where it resumes the range is compared with the
    /// topics (0: not at all).
    pub max_revision_age: TimeDelta,
    /// With `--dry-run`: the `--value-format` it does not use (a note).
    pub unused_value_format: Option<&'static str>,
}

impl BackfillConfig {
    /// `clock` is the system time, read once by the caller; `--now` overrides it.
    pub fn from_args(args: &BackfillArgs, clock: DateTime<Utc>) -> Result<BackfillConfig> {
        let mut source = SourceConfig::from_args(&args.source)?;
        let aggregate = AggregateConfig::from_args(&args.aggregate, &source.dataset)?;
        source.dataset.numbers = aggregate.numbers();
        if aggregate.fields == Fields::All {
            return Err(ConfigError::BackfillAll(source.dataset.name.clone()).into());
        }
        let dataset = &source.dataset;
        check_range(dataset, args.from, args.to)?;
        let chunk = chunk(dataset, span(args.chunk))?;
        let limit = limit(dataset, args.from, args.now.unwrap_or(clock))?;
        let (output, unused_value_format) = Output::from_args(
            (args.dry_run, args.records),
            &args.kafka,
            &args.topics,
            &args.values,
            dataset,
        )?;
        if let Some(path) = &args.lock_file {
            crate::files::check_writable(path, "--lock-file")?;
        }
        let age = args.max_revision_age;
        let max_revision_age = super::max_revision_age(age, TimeDelta::zero(), dataset)?;
        Ok(BackfillConfig {
            source,
            aggregate,
            from: args.from,
            to: args.to.min(limit),
            chunk,
            min_request_interval: args.min_request_interval,
            output,
            requested_to: (args.to > limit).then_some(args.to),
            lock_file: args.lock_file.clone(),
            max_revision_age,
            unused_value_format,
        })
    }
}

/// `--from` before `--to`, both on the dataset's grid (an error names the
/// bound off it).
fn check_range(dataset: &Dataset, from: DateTime<Utc>, to: DateTime<Utc>) -> Result<()> {
    let res = dataset.resolution;
    let off_grid = [("--from", from), ("--to", to)]
        .into_iter()
        .find(|(_, t)| crate::time::floor(*t, res) != *t);
    if from >= to || off_grid.is_some() {
        return Err(ConfigError::Range {
            bound: off_grid,
            dataset: dataset.name.clone(),
            resolution: res,
        }
        .into());
    }
    Ok(())
}

/// `--chunk`: a positive multiple of the resolution.
fn chunk(dataset: &Dataset, chunk: TimeDelta) -> Result<TimeDelta> {
    let res = dataset.resolution;
    if chunk < res || chunk.num_milliseconds() % res.num_milliseconds() != 0 {
        return Err(ConfigError::NotMultiple {
            flag: "--chunk",
            value: chunk,
            dataset: dataset.name.clone(),
            resolution: res,
        }
        .into());
    }
    Ok(chunk)
}

/// Where a backfill ends at the latest: `now` floored to the resolution. A
/// row at or after it is not final (DayAheadPrices has tomorrow's), and
/// Kafka refuses timestamps far ahead: those are publish's.
fn limit(dataset: &Dataset, from: DateTime<Utc>, now: DateTime<Utc>) -> Result<DateTime<Utc>> {
    let res = dataset.resolution;
    let limit = crate::time::floor(now, res);
    if from >= limit {
        return Err(ConfigError::FromAfterNow {
            from,
            now,
            dataset: dataset.name.clone(),
            resolution: res,
        }
        .into());
    }
    Ok(limit)
}
