//! `status`'s configuration: the two topics, the period read, the limits
//! that make the verdict.

use anyhow::Result;
use chrono::{DateTime, TimeDelta, Utc};

use super::{dataset, default_topic, kafka_settings, max_lag, require_brokers, span, ConfigError};
use crate::cli::{StatusArgs, StatusFormat};
use crate::dataset::Dataset;
use crate::health::Limits;
use crate::kafka::KafkaSettings;

#[derive(Debug, Clone)]
pub struct StatusConfig {
    pub settings: KafkaSettings,
    pub dataset: Dataset,
    pub records_topic: String,
    pub aggregates_topic: String,
    pub partition: i32,
    /// Messages whose key time is in `(now - since, now]` are read.
    pub since: TimeDelta,
    pub now: DateTime<Utc>,
    pub limits: Limits,
    /// `--format json`.
    pub json: bool,
    /// `--schema-registry`: reads values in its wire format.
    pub registry: Option<crate::registry::RegistryConfig>,
}

impl StatusConfig {
    /// `clock` is the system time, read once by the caller; `--now` overrides it.
    pub fn from_args(args: &StatusArgs, clock: DateTime<Utc>) -> Result<StatusConfig> {
        let dataset = dataset(&args.dataset)?;
        require_brokers(&args.kafka)?;
        let since = span(args.period.since);
        let max_gap = max_lag(args.max_gap, dataset.resolution);
        let max_lag = max_lag(args.max_lag, dataset.resolution);
        if since <= TimeDelta::zero()
            || max_lag <= TimeDelta::zero()
            || max_gap <= TimeDelta::zero()
        {
            return Err(ConfigError::NotPositive("--since, --max-lag and --max-gap").into());
        }
        // An empty name: that topic is not published (as for `publish`), not read.
        let topic = |given: &Option<String>, kind: &str| -> Result<String> {
            let name = given
                .clone()
                .unwrap_or_else(|| default_topic(&dataset, kind));
            if !name.is_empty() {
                crate::kafka::topics::check_name(&format!("--{kind}-topic"), &name)?;
            }
            Ok(name)
        };
        if [&args.records_topic, &args.aggregates_topic]
            .iter()
            .all(|t| t.as_deref() == Some(""))
        {
            return Err(ConfigError::Contradiction(
                "--records-topic and --aggregates-topic are both empty: nothing to read",
            )
            .into());
        }
        Ok(StatusConfig {
            settings: kafka_settings(&args.kafka)?,
            records_topic: topic(&args.records_topic, "records")?,
            aggregates_topic: topic(&args.aggregates_topic, "aggregates")?,
            dataset,
            partition: args.kafka.partition,
            since,
            now: args.period.now.unwrap_or(clock),
            limits: Limits {
                max_lag,
                max_incomplete: args.max_incomplete,
                max_gap,
                max_missing: args.max_missing,
            },
            json: args.format == StatusFormat::Json,
            registry: super::registry::registry(&args.registry)?,
        })
    }
}
