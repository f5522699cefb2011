//! One file per subcommand; each takes its plain config and does the whole
//! job. [`CommandError`] holds what a subcommand itself concludes (stale
//! data, nothing to draw, unhealthy topics, a consumer group that never
//! assigned a partition); the stages below raise their own errors.

pub mod backfill;
pub mod chart;
pub mod consume;
pub mod manual;
pub mod publish;
pub mod schema;
pub mod status;

use std::time::Duration;

use chrono::{DateTime, TimeDelta, Utc};
use rdkafka::error::KafkaError;

use crate::exit::{Exit, Staged};
use crate::time::{format_span, format_utc};

/// `--dry-run` with `--value-format avro` or `json-sr`: it prints CSV, so
/// the format is not used and the registry is not asked; said, not refused
/// (an environment file may set the format for the cron job's runs).
fn note_unused_value_format(format: Option<&str>) {
    if let Some(format) = format {
        log::info!(
            "--dry-run prints CSV: --value-format {format} is not used, and the schema registry \
             is not contacted (nothing is registered or looked up)"
        );
    }
}

#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// `publish`: no row in the range fetched (exit 75).
    #[error(
        "stale data: {dataset} has no rows between {} and {} (--max-lag / EDS_MAX_LAG {})",
        format_utc(*from), format_utc(*until), format_span(*max_lag)
    )]
    NoRows {
        dataset: String,
        from: DateTime<Utc>,
        until: DateTime<Utc>,
        max_lag: TimeDelta,
    },
    /// `publish`: the newest row is older than `--max-lag` (exit 75).
    #[error(
        "stale data: the newest row of {dataset} is {} ({} before --now {}), more than \
         --max-lag / EDS_MAX_LAG {}",
        format_utc(*newest), format_span(*now - *newest), format_utc(*now), format_span(*max_lag)
    )]
    Stale {
        dataset: String,
        newest: DateTime<Utc>,
        now: DateTime<Utc>,
        max_lag: TimeDelta,
    },
    /// `chart`: no aggregate in the period (exit 3).
    #[error(
        "no aggregates of {dataset} in {topic} within the last {} before {}: nothing to draw \
         (check --aggregates-topic, --dataset and --since){}",
        format_span(*since), format_utc(*now),
        match skipped {
            0 => String::new(),
            n => format!("; {} that are not aggregates of it were skipped (is it a records topic?)", crate::logging::count(*n, "message")),
        }
    )]
    NothingToDraw {
        dataset: String,
        topic: String,
        since: TimeDelta,
        now: DateTime<Utc>,
        skipped: u64,
    },
    /// `status`: the topics are unhealthy (exit 5); the verdict's line.
    #[error("unhealthy: {0}")]
    Unhealthy(String),
    /// `consume --group`: the group assigned no partition in time (exit 4).
    #[error("group {group} got no partition of {topic} within {}s", timeout.as_secs_f64())]
    NoPartition {
        group: String,
        topic: String,
        timeout: Duration,
    },
    /// `consume`: a Kafka request of the group failed (exit 4).
    #[error("{what} {topic}: {source}")]
    Group {
        what: &'static str,
        topic: String,
        #[source]
        source: KafkaError,
    },
    /// `consume`: nothing arrived for `--idle-timeout` before the end (exit 4).
    #[error(
        "reading {topic} from {brokers}: nothing arrived for --idle-timeout {timeout:?} before \
         the end of the log ({at}) after {}; raise --idle-timeout, or check the brokers",
        crate::logging::count(*read, "message")
    )]
    Idle {
        topic: String,
        brokers: String,
        timeout: Duration,
        /// Where each partition's read was.
        at: String,
        read: u64,
    },
}

impl Staged for CommandError {
    fn exit(&self) -> Exit {
        match self {
            CommandError::NoRows { .. } | CommandError::Stale { .. } => Exit::Temporary,
            CommandError::NothingToDraw { .. } => Exit::Data,
            CommandError::Unhealthy(_) => Exit::Unhealthy,
            CommandError::NoPartition { .. }
            | CommandError::Group { .. }
            | CommandError::Idle { .. } => Exit::Kafka,
        }
    }
}
