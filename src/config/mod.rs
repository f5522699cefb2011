//! Plain configuration structs, built once from the command line and checked
//! there (a bad value is a usage error, exit 2). The commands read only these.

use anyhow::Result;
use chrono::{DateTime, TimeDelta, Utc};

use crate::aggregate::Stat;
use crate::api::ApiConfig;
use crate::cli::{
    AggregateArgs, DatasetArgs, KafkaArgs, LogArgs, PublishArgs, SchemaArgs, SchemaKind,
    SourceArgs, TopicArgs,
};
use crate::dataset::{Dataset, Description};
use crate::exit::{staged, Exit, Staged};
use crate::kafka::KafkaSettings;
use crate::sink::kafka::{KafkaOutput, NewTopics, Topics};
use crate::time::format_span;

mod backfill;
pub mod chart;
mod consume;
mod status;

pub use backfill::BackfillConfig;
pub use chart::ChartConfig;
pub use consume::{ConsumeConfig, ConsumeFormat, Start};
pub use status::StatusConfig;

/// The dataset and how to fetch it.
#[derive(Debug, Clone)]
pub struct SourceConfig {
    pub api: ApiConfig,
    pub dataset: Dataset,
}

/// Which fields to aggregate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Fields {
    /// Every numeric field the rows have.
    All,
    Named(Vec<String>),
}

impl Fields {
    pub fn named(&self) -> Option<&[String]> {
        match self {
            Fields::All => None,
            Fields::Named(v) => Some(v),
        }
    }
}

/// What to compute.
#[derive(Debug, Clone)]
pub struct AggregateConfig {
    pub fields: Fields,
    pub stats: Vec<Stat>,
    pub window: TimeDelta,
    /// `expected_rows,missing` at the end of the aggregates CSV.
    pub completeness: bool,
}

/// Where `publish` writes.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    /// CSV of the aggregate on stdout.
    CsvAggregates,
    /// CSV of the window's rows on stdout.
    CsvRecords,
    /// Records and aggregates to Kafka.
    Kafka(KafkaOutput),
}

/// `--create-topics` and how: `None` when topics are not to be created.
fn new_topics(args: &TopicArgs) -> Result<Option<NewTopics>> {
    if !args.create_topics {
        return Ok(None);
    }
    let mut config: Vec<(String, String)> = Vec::new();
    for pair in args.topic_config.iter().filter(|p| !p.trim().is_empty()) {
        let (key, value) = pair
            .split_once('=')
            .map(|(k, v)| (k.trim(), v.trim()))
            .filter(|(k, _)| {
                !k.is_empty() && k.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'.')
            })
            .ok_or_else(|| {
                usage(format!(
                    "--topic-config / EDS_TOPIC_CONFIG '{pair}': expected KEY=VALUE with a topic config key such as min.insync.replicas"
                ))
            })?;
        if config.iter().any(|(k, _)| k == key) {
            return Err(usage(format!(
                "--topic-config / EDS_TOPIC_CONFIG: {key} is given twice"
            )));
        }
        config.push((key.to_string(), value.to_string()));
    }
    Ok(Some(NewTopics {
        replication_factor: args.replication_factor,
        config,
    }))
}

/// The log level `-v`, `-q` and `--log-level` / EDS_LOG give.
pub fn log_level(args: &LogArgs) -> log::LevelFilter {
    crate::logging::level(args.log_level, args.verbose, args.quiet)
}

#[derive(Debug, Clone)]
pub struct PublishConfig {
    pub source: SourceConfig,
    pub aggregate: AggregateConfig,
    pub now: DateTime<Utc>,
    pub max_lag: TimeDelta,
    /// The longest gap a run catches up; older rows are skipped with a warning.
    pub max_catch_up: TimeDelta,
    /// How far a key combination may trail the newest one and still be fetched.
    pub max_key_lateness: TimeDelta,
    pub lock_file: Option<std::path::PathBuf>,
    pub output: Output,
}

/// `--max-key-lateness` for a dataset the catalogue does not know.
const DEFAULT_KEY_LATENESS: TimeDelta = TimeDelta::hours(1);

/// Why the command line cannot be run: always a usage error (exit 2).
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A value out of its range, or values that contradict each other.
    #[error("{message}")]
    Invalid { message: String },
    /// `--api-url` is no URL.
    #[error("{message}")]
    BadUrl {
        message: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
}

impl Staged for ConfigError {
    fn exit(&self) -> Exit {
        Exit::Usage
    }
}

/// For the commands that only read Kafka (consume, status, chart): brokers
/// must be given somewhere, else a usage error that says where.
fn require_brokers(k: &crate::cli::KafkaArgs) -> Result<()> {
    if k.brokers.is_none()
        && k.kafka_config.is_none()
        && !k.property.iter().any(|p| p.contains("bootstrap.servers"))
    {
        return Err(usage(
            "no Kafka brokers: give --brokers / KAFKA_BROKERS or bootstrap.servers in \
             --kafka-config / KAFKA_CONFIG_FILE"
                .into(),
        ));
    }
    Ok(())
}

pub(crate) fn usage(message: String) -> anyhow::Error {
    staged(ConfigError::Invalid { message })
}

/// `--max-lag`, or its default: 30 minutes, or two resolutions when longer
/// (an hourly row is an hour and a half old half an hour later).
fn max_lag(given: Option<std::time::Duration>, resolution: TimeDelta) -> TimeDelta {
    given.map_or_else(
        || {
            TimeDelta::minutes(30).max(
                resolution
                    .checked_mul(2)
                    .map_or(TimeDelta::MAX, |d| d.min(TimeDelta::MAX)),
            )
        },
        span,
    )
}

fn span(d: std::time::Duration) -> TimeDelta {
    TimeDelta::from_std(d).unwrap_or(TimeDelta::MAX)
}

fn dataset(args: &DatasetArgs) -> Result<Dataset> {
    let resolution = match args.resolution {
        None => None,
        Some(d) => Some(
            TimeDelta::from_std(d)
                .map_err(|_| usage(format!("--resolution {d:?} is too large")))?,
        ),
    };
    let description = Description {
        name: args.name.clone(),
        time_column: args.time_column.as_ref().map(|c| c.trim().to_string()),
        dk_column: args.dk_time_column.clone(),
        key_columns: args.key_columns.as_ref().map(|list| {
            list.split(',')
                .map(|c| c.trim().to_string())
                .filter(|c| !c.is_empty())
                .collect()
        }),
        resolution,
    };
    Dataset::describe(&description, &crate::contract::aggregate::MEMBERS).map_err(usage)
}

/// `eds.<dataset>.records` / `eds.<dataset>.aggregates`.
pub fn default_topic(dataset: &Dataset, kind: &str) -> String {
    format!("eds.{}.{kind}", dataset.name)
}

fn kafka_settings(args: &KafkaArgs) -> Result<KafkaSettings> {
    KafkaSettings::new(
        args.brokers.as_deref(),
        args.kafka_config.as_deref(),
        &args.property,
        args.kafka_timeout,
    )
}

fn fields(given: Option<&str>, dataset: &Dataset) -> Result<Fields> {
    let defaults = crate::catalogue::find(&dataset.name)
        .and_then(|e| e.default_fields)
        .map(|f| f.join(","));
    let text = match (given, &defaults) {
        (Some(text), _) => text,
        (None, Some(defaults)) => defaults,
        (None, None) => "all",
    };
    if text.trim() == "all" {
        return Ok(Fields::All);
    }
    // A field named twice is aggregated once (as --stats does), so that an
    // aggregate never has the same member twice.
    let mut names: Vec<String> = Vec::new();
    for f in text.split(',').map(str::trim).filter(|f| !f.is_empty()) {
        if !names.iter().any(|n| n == f) {
            names.push(f.to_string());
        }
    }
    if names.is_empty() {
        return Err(usage("--fields is empty: name fields or use 'all'".into()));
    }
    if let Some(index) = names.iter().find(|f| dataset.is_index_column(f)) {
        return Err(usage(format!(
            "--fields: {index} is a time or key column, not a value"
        )));
    }
    Ok(Fields::Named(names))
}

impl Output {
    /// CSV of the aggregates or the records with `--dry-run`, else Kafka.
    fn from_args(
        dry_run: bool,
        records: bool,
        kafka: &KafkaArgs,
        topics: &TopicArgs,
        dataset: &Dataset,
    ) -> Result<Output> {
        Ok(match (dry_run, records) {
            (true, true) => Output::CsvRecords,
            (true, false) => Output::CsvAggregates,
            (false, _) => Output::Kafka(kafka_output(kafka, topics, dataset)?),
        })
    }
}

/// Where `--kafka-*` and the topic flags send a run's messages.
fn kafka_output(kafka: &KafkaArgs, topics: &TopicArgs, dataset: &Dataset) -> Result<KafkaOutput> {
    let args_create = new_topics(topics)?;
    let topic = |given: &Option<String>, kind: &str| match given {
        None => Some(default_topic(dataset, kind)),
        Some(t) if t.trim().is_empty() => None,
        Some(t) => Some(t.trim().to_string()),
    };
    let topics = Topics {
        records: topic(&topics.records_topic, "records"),
        aggregates: topic(&topics.aggregates_topic, "aggregates"),
        partition: kafka.partition,
    };
    for (flag, name) in [
        ("--records-topic", &topics.records),
        ("--aggregates-topic", &topics.aggregates),
    ] {
        if let Some(name) = name {
            crate::kafka::topics::check_name(flag, name)?;
        }
    }
    if topics.records.is_none() && topics.aggregates.is_none() {
        return Err(usage("both topics are empty: nothing to publish".into()));
    }
    if topics.records.is_some() && topics.records == topics.aggregates {
        return Err(usage(
            "--records-topic and --aggregates-topic must differ".into(),
        ));
    }
    Ok(KafkaOutput {
        settings: kafka_settings(kafka)?,
        topics,
        create_topics: args_create,
    })
}

impl SourceConfig {
    pub fn from_args(args: &SourceArgs) -> Result<SourceConfig> {
        let dataset = dataset(&args.dataset)?;
        // Its password and query never appear in a message or a log line.
        crate::redact::register_url(&args.api_url);
        let shown = crate::redact::url(&args.api_url);
        let url = reqwest::Url::parse(&args.api_url).map_err(|e| {
            let message = format!("invalid --api-url '{shown}': {e}");
            staged(ConfigError::BadUrl {
                message,
                source: e.into(),
            })
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.query().is_some() {
            return Err(usage(format!(
                "invalid --api-url '{shown}': use http(s)://host[:port][/path], no query"
            )));
        }
        if args.http_timeout.is_zero() {
            return Err(usage("--http-timeout must be more than 0".into()));
        }
        Ok(SourceConfig {
            api: ApiConfig {
                base_url: args.api_url.clone(),
                http_timeout: args.http_timeout,
                max_body: args.max_body,
            },
            dataset,
        })
    }
}

/// The default `--window`: the smallest multiple of the dataset's resolution
/// that is at least five minutes (5m for 1- and 5-minute data, 15m for
/// 15-minute data, 1h for hourly data).
fn default_window(resolution: TimeDelta) -> TimeDelta {
    let five = TimeDelta::minutes(5);
    let res = resolution.num_milliseconds().max(1);
    let n = (five.num_milliseconds() + res - 1) / res;
    TimeDelta::milliseconds(n * res)
}

impl AggregateConfig {
    pub fn from_args(args: &AggregateArgs, dataset: &Dataset) -> Result<AggregateConfig> {
        let fields = fields(args.fields.as_deref(), dataset)?;
        let mut stats: Vec<Stat> = Vec::new();
        for s in &args.stats {
            if !stats.contains(s) {
                stats.push(*s);
            }
        }
        let res = dataset.resolution;
        let window = args.window.map_or_else(|| default_window(res), span);
        if window <= TimeDelta::zero() || window.num_milliseconds() % res.num_milliseconds() != 0 {
            return Err(usage(format!(
                "--window {} must be a positive multiple of {}'s resolution ({})",
                format_span(window),
                dataset.name,
                format_span(res)
            )));
        }
        Ok(AggregateConfig {
            fields,
            stats,
            window,
            completeness: args.completeness,
        })
    }
}

impl PublishConfig {
    /// `clock` is the system time, read once by the caller; `--now` overrides it.
    pub fn from_args(args: &PublishArgs, clock: DateTime<Utc>) -> Result<PublishConfig> {
        let source = SourceConfig::from_args(&args.source)?;
        let aggregate = AggregateConfig::from_args(&args.aggregate, &source.dataset)?;
        let max_lag = max_lag(args.max_lag, source.dataset.resolution);
        if max_lag <= TimeDelta::zero() {
            return Err(usage("--max-lag must be more than 0".into()));
        }
        let max_catch_up = span(args.max_catch_up);
        if max_catch_up < aggregate.window {
            return Err(usage(format!(
                "--max-catch-up / EDS_MAX_CATCH_UP {} must be at least --window ({})",
                format_span(max_catch_up),
                format_span(aggregate.window)
            )));
        }
        let max_key_lateness = args.max_key_lateness.map_or_else(
            || {
                crate::catalogue::find(&source.dataset.name)
                    .map_or(DEFAULT_KEY_LATENESS, |e| e.key_lateness())
            },
            span,
        );
        if max_key_lateness < source.dataset.resolution {
            return Err(usage(format!(
                "--max-key-lateness / EDS_MAX_KEY_LATENESS {} must be at least {}'s resolution ({})",
                format_span(max_key_lateness),
                source.dataset.name,
                format_span(source.dataset.resolution)
            )));
        }
        let output = Output::from_args(
            args.dry_run,
            args.records,
            &args.kafka,
            &args.topics,
            &source.dataset,
        )?;
        if let Some(path) = &args.lock_file {
            crate::files::check_writable(path, "--lock-file")?;
        }
        Ok(PublishConfig {
            source,
            aggregate,
            now: args.now.unwrap_or(clock),
            max_lag,
            max_catch_up,
            max_key_lateness,
            lock_file: args.lock_file.clone(),
            output,
        })
    }
}

/// What `schema` prints.
#[derive(Debug, Clone)]
pub struct SchemaConfig {
    pub dataset: Dataset,
    pub kind: crate::contract::schema::Kind,
}

impl SchemaConfig {
    pub fn from_args(args: &SchemaArgs) -> Result<SchemaConfig> {
        Ok(SchemaConfig {
            dataset: dataset(&args.dataset)?,
            kind: match args.kind {
                SchemaKind::Records => crate::contract::schema::Kind::Records,
                SchemaKind::Aggregates => crate::contract::schema::Kind::Aggregates,
            },
        })
    }
}

#[cfg(test)]
mod tests;
