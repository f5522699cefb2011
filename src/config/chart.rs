//! `chart`'s configuration: the aggregates topic, the period, the fields,
//! where the SVG goes.

use std::path::PathBuf;

use anyhow::Result;
use chrono::{DateTime, TimeDelta, Utc};

use super::{
    dataset, default_topic, fields, kafka_settings, require_brokers, span, ConfigError, Fields,
};
use crate::cli::ChartArgs;
use crate::dataset::Dataset;
use crate::kafka::KafkaSettings;

/// The most panels (fields) one chart has.
pub const MAX_PANELS: usize = 8;

#[derive(Debug, Clone)]
pub struct ChartConfig {
    pub settings: KafkaSettings,
    pub dataset: Dataset,
    pub topic: String,
    pub partition: i32,
    /// `All`: the first [`MAX_PANELS`] fields the aggregates have.
    pub fields: Fields,
    /// Windows ending in `(now - since, now]` are drawn.
    pub since: TimeDelta,
    pub now: DateTime<Utc>,
    /// `None`: stdout (also for `-o -`).
    pub output: Option<PathBuf>,
    /// The most key combinations drawn.
    pub max_keys: usize,
    /// `--schema-registry`: reads values in its wire format.
    pub registry: Option<crate::registry::RegistryConfig>,
}

impl ChartConfig {
    /// `clock` is the system time, read once by the caller; `--now` overrides it.
    pub fn from_args(args: &ChartArgs, clock: DateTime<Utc>) -> Result<ChartConfig> {
        let dataset = dataset(&args.dataset)?;
        require_brokers(&args.kafka)?;
        let since = span(args.period.since);
        if since <= TimeDelta::zero() {
            return Err(ConfigError::NotPositive("--since").into());
        }
        let fields = fields(args.fields.as_deref(), &dataset)?;
        if fields.named().is_some_and(|f| f.len() > MAX_PANELS) {
            return Err(ConfigError::TooManyPanels(MAX_PANELS).into());
        }
        let topic = args
            .aggregates_topic
            .clone()
            .unwrap_or_else(|| default_topic(&dataset, "aggregates"));
        crate::kafka::topics::check_name("--aggregates-topic", &topic)?;
        Ok(ChartConfig {
            settings: kafka_settings(&args.kafka)?,
            dataset,
            topic,
            partition: args.kafka.partition,
            fields,
            since,
            now: args.period.now.unwrap_or(clock),
            output: args.output.clone().filter(|p| p.as_os_str() != "-"),
            max_keys: usize::from(args.max_keys),
            registry: super::registry::registry(&args.registry)?,
        })
    }
}
