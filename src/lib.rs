//! eds-kafka: fetch Energi Data Service real-time data, aggregate the trailing
//! window, publish records and aggregates to Kafka (or print CSV).
//!
//! The data's path: [`cli`] -> [`config`] -> [`cmd`], which call [`api`]
//! (query, HTTP, parsing) -> [`window`] -> [`aggregate`] -> [`sink`], in the
//! message format of [`contract`], under the exactly-once rule of [`cursor`].
//! docs/architecture.md gives the layers and who owns what.

pub mod aggregate;
pub mod api;
pub mod catalogue;
pub mod chart;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod contract;
pub mod cursor;
pub mod dataset;
pub mod exit;
pub mod failure;
pub mod files;
pub mod health;
pub mod kafka;
pub mod logging;
pub mod metrics;
pub mod probe;
pub mod quality;
pub mod records;
pub mod redact;
pub mod registry;
pub mod scan;
pub mod sink;
pub mod text;
pub mod time;
pub mod window;

use std::time::Instant;

use anyhow::Result;
use chrono::{TimeDelta, Utc};

use cli::{Cli, Command, PublishArgs};

/// Runs a parsed command line. The system clock is read here, once.
pub fn run(cli: Cli) -> Result<()> {
    let clock = Utc::now();
    match cli.command {
        Command::Publish(args) => publish(&args, clock),
        Command::Backfill(args) => {
            cmd::backfill::run(&config::BackfillConfig::from_args(&args, clock)?)
        }
        Command::Consume(args) => cmd::consume::run(&config::ConsumeConfig::from_args(&args)?),
        Command::Status(args) => cmd::status::run(&config::StatusConfig::from_args(&args, clock)?),
        Command::Chart(args) => cmd::chart::run(&config::ChartConfig::from_args(&args, clock)?),
        Command::Schema(args) => cmd::schema::run(&config::SchemaConfig::from_args(&args)?),
        Command::Completions(args) => cmd::manual::completions(args.shell),
        Command::Man => cmd::manual::man(),
    }
}

/// One publish run, then its metrics file (success or not) when asked for.
fn publish(args: &PublishArgs, clock: chrono::DateTime<Utc>) -> Result<()> {
    let started = Instant::now();
    let mut summary = cmd::publish::Summary::default();
    let result = config::PublishConfig::from_args(args, clock).and_then(|config| {
        let result = cmd::publish::run(&config, &mut summary);
        summary.data_lag = summary.newest.map(|n| config.now - n);
        result
    });
    if let Some(path) = &args.metrics_file {
        let duration = started.elapsed();
        let m = metrics::RunMetrics {
            dataset: &args.source.dataset.name,
            ended: clock + TimeDelta::from_std(duration).unwrap_or_default(),
            duration,
            exit: result
                .as_ref()
                .map_or_else(failure::exit_of, |()| exit::Exit::Success),
            records: summary.written.records,
            aggregates: summary.written.aggregates,
            incomplete: summary.written.incomplete,
            non_numeric: summary.non_numeric,
            data_lag: summary.data_lag,
            keys_behind: summary.keys_behind,
            corrections: summary.written.corrections,
            late: summary.late,
            beyond_horizon: summary.beyond_horizon,
            withdrawn: summary.withdrawn,
        };
        if let Err(e) = metrics::write(path, &m) {
            log::warn!("cannot write --metrics-file: {e:#}");
        }
    }
    result
}
