//! `consume`'s configuration: the topic to read, where to start and stop,
//! how to print.

use anyhow::Result;

use super::{dataset, default_topic, fields, kafka_settings, require_brokers, Fields};
use crate::cli::{ConsumeArgs, Format};
use crate::dataset::Dataset;
use crate::kafka::KafkaSettings;

/// How `consume` prints what it reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConsumeFormat {
    Csv,
    Json,
}

/// Where `consume` starts reading.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Start {
    Beginning,
    /// The last N messages of the partition.
    Last(u64),
    /// The group's committed offset (the earliest without one).
    Committed,
}

#[derive(Debug, Clone)]
pub struct ConsumeConfig {
    pub settings: KafkaSettings,
    pub dataset: Dataset,
    pub topic: String,
    pub partition: i32,
    pub fields: Fields,
    pub start: Start,
    pub max_messages: Option<u64>,
    /// Stop when nothing arrived for this long (`None`: never).
    pub idle_timeout: Option<std::time::Duration>,
    /// Keep reading after the end of the log.
    pub follow: bool,
    pub format: ConsumeFormat,
    pub group: Option<String>,
    /// `expected_rows,missing` at the end of the aggregates CSV.
    pub completeness: bool,
    /// `--schema-registry`: reads values in its wire format.
    pub registry: Option<crate::registry::RegistryConfig>,
}

impl ConsumeConfig {
    pub fn from_args(args: &ConsumeArgs) -> Result<ConsumeConfig> {
        let dataset = dataset(&args.dataset)?;
        require_brokers(&args.kafka)?;
        let start = match (&args.group, args.from_beginning, args.last) {
            (Some(_), _, _) => Start::Committed,
            (None, true, _) => Start::Beginning,
            (None, false, n) => Start::Last(n.unwrap_or(10)),
        };
        let topic = args
            .topic
            .clone()
            .unwrap_or_else(|| default_topic(&dataset, "aggregates"));
        crate::kafka::topics::check_name("--topic", &topic)?;
        Ok(ConsumeConfig {
            settings: kafka_settings(&args.kafka)?,
            topic,
            fields: fields(args.fields.as_deref(), &dataset)?,
            dataset,
            partition: args.kafka.partition,
            start,
            max_messages: args.max_messages,
            idle_timeout: match (args.idle_timeout, args.follow) {
                (Some(t), _) => Some(t),
                (None, true) => None,
                (None, false) => Some(std::time::Duration::from_secs(5)),
            },
            follow: args.follow,
            format: match args.format {
                Format::Csv => ConsumeFormat::Csv,
                Format::Json => ConsumeFormat::Json,
            },
            group: args.group.clone(),
            completeness: args.completeness,
            registry: super::registry::registry(&args.registry)?,
        })
    }
}
