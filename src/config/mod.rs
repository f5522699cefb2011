//! Plain configuration structs, built once from the command line and checked
//! there (a bad value is a usage error, exit 2). The commands read only these.

use anyhow::Result;
use chrono::{DateTime, TimeDelta, Utc};

use crate::aggregate::Stat;
use crate::api::ApiConfig;
use crate::cli::{
    AggregateArgs, DatasetArgs, KafkaArgs, LogArgs, PublishArgs, SchemaArgs, SchemaFormat,
    SchemaKind, SourceArgs, TopicArgs, ValueArgs,
};
use crate::dataset::{Dataset, Description};
use crate::exit::{Exit, Staged};
use crate::kafka::KafkaSettings;
use crate::sink::kafka::{KafkaOutput, NewTopics, Topics};
use crate::sink::values::ValueFormat;
use crate::time::{format_span, format_utc};

mod backfill;
pub mod chart;
mod consume;
mod registry;
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
            .ok_or_else(|| ConfigError::TopicConfig(pair.clone()))?;
        if config.iter().any(|(k, _)| k == key) {
            return Err(ConfigError::TopicConfigTwice(key.to_string()).into());
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
    /// How far back rows are compared with the topics (zero: not at all).
    pub max_revision_age: TimeDelta,
    pub lock_file: Option<std::path::PathBuf>,
    pub output: Output,
    /// With `--dry-run`: the `--value-format` it does not use (a note).
    pub unused_value_format: Option<&'static str>,
}

/// `--max-key-lateness` for a dataset the catalogue does not know.
const DEFAULT_KEY_LATENESS: TimeDelta = TimeDelta::hours(1);

/// `--max-revision-age`'s default (or `--max-key-lateness`, when longer).
const DEFAULT_REVISION_AGE: TimeDelta = TimeDelta::hours(1);

/// Why the command line cannot be run: always a usage error (exit 2). Each
/// variant carries the flag and the values it is about.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// A span or count that must be positive.
    #[error("{0} must be more than 0")]
    NotPositive(&'static str),
    /// Flags that contradict each other, or one that says nothing.
    #[error("{0}")]
    Contradiction(&'static str),
    /// A span that must be a whole number of the dataset's resolutions.
    #[error(
        "{flag} {} must be a positive multiple of {dataset}'s resolution ({})",
        format_span(*value), format_span(*resolution)
    )]
    NotMultiple {
        flag: &'static str,
        value: TimeDelta,
        dataset: String,
        resolution: TimeDelta,
    },
    /// A span shorter than another one it must cover.
    #[error("{flag} {} must be at least {what} ({})", format_span(*value), format_span(*least))]
    TooShort {
        flag: &'static str,
        value: TimeDelta,
        what: String,
        least: TimeDelta,
    },
    #[error(
        "--topic-config / EDS_TOPIC_CONFIG '{0}': expected KEY=VALUE with a topic config key \
         such as min.insync.replicas"
    )]
    TopicConfig(String),
    #[error("--topic-config / EDS_TOPIC_CONFIG: {0} is given twice")]
    TopicConfigTwice(String),
    #[error("--resolution {0:?} is too large")]
    Resolution(std::time::Duration),
    /// The dataset's description (the sentence says what is wrong).
    #[error("{0}")]
    Dataset(String),
    #[error("--fields is empty: name fields or use 'all'")]
    NoFields,
    /// `--value-format avro` or `json-sr` without a registry.
    #[error(
        "--value-format {0} writes values in the schema registry's wire format: give \
         --schema-registry / EDS_SCHEMA_REGISTRY"
    )]
    NeedsRegistry(&'static str),
    #[error("--fields: {0} is a time or key column, not a value")]
    IndexField(String),
    #[error("--fields: at most {0} fields fit one chart")]
    TooManyPanels(usize),
    /// `--api-url` is no URL.
    #[error("invalid --api-url '{shown}': {source}")]
    BadUrl {
        shown: String,
        #[source]
        source: Box<dyn std::error::Error + Send + Sync>,
    },
    #[error("invalid --api-url '{0}': use http(s)://host[:port][/path], no query")]
    UrlForm(String),
    #[error(
        "backfill needs named --fields / EDS_FIELDS (the default for {0} is 'all'): older rows \
         lack newer fields, so 'all' would change along the way"
    )]
    BackfillAll(String),
    /// `--from`/`--to` off the grid, or in the wrong order.
    #[error(
        "{}{dataset}'s {} grid",
        match bound {
            Some((flag, t)) => format!("{flag} {} is not on ", format_utc(*t)),
            None => "--from must be before --to, both on ".to_string(),
        },
        format_span(*resolution)
    )]
    Range {
        /// The bound off the grid (`None`: they are in the wrong order).
        bound: Option<(&'static str, DateTime<Utc>)>,
        dataset: String,
        resolution: TimeDelta,
    },
    #[error(
        "--from {} is not before --now / EDS_NOW {} (floored to {dataset}'s {} grid): rows \
         from then on are publish's",
        format_utc(*from), format_utc(*now), format_span(*resolution)
    )]
    FromAfterNow {
        from: DateTime<Utc>,
        now: DateTime<Utc>,
        dataset: String,
        resolution: TimeDelta,
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
        return Err(ConfigError::Contradiction(
            "no Kafka brokers: give --brokers / KAFKA_BROKERS or bootstrap.servers in \
             --kafka-config / KAFKA_CONFIG_FILE",
        )
        .into());
    }
    Ok(())
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
        Some(d) => Some(TimeDelta::from_std(d).map_err(|_| ConfigError::Resolution(d))?),
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
    Ok(
        Dataset::describe(&description, &crate::contract::aggregate::MEMBERS)
            .map_err(ConfigError::Dataset)?,
    )
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
        return Err(ConfigError::NoFields.into());
    }
    if let Some(index) = names.iter().find(|f| dataset.is_index_column(f)) {
        return Err(ConfigError::IndexField(index.clone()).into());
    }
    Ok(Fields::Named(names))
}

impl Output {
    /// CSV of the aggregates or the records with `--dry-run`, else Kafka
    /// written as `--value-format` says; and with `--dry-run`, the format it
    /// does not use (checked all the same), for a note.
    fn from_args(
        (dry_run, records): (bool, bool),
        kafka: &KafkaArgs,
        topics: &TopicArgs,
        values: &ValueArgs,
        dataset: &Dataset,
    ) -> Result<(Output, Option<&'static str>)> {
        let values = registry::value_format(values)?;
        let unused = (dry_run && values != ValueFormat::Json).then(|| values.name());
        let output = match (dry_run, records) {
            (true, true) => Output::CsvRecords,
            (true, false) => Output::CsvAggregates,
            (false, _) => Output::Kafka(kafka_output(kafka, topics, values, dataset)?),
        };
        Ok((output, unused))
    }
}

/// Where `--kafka-*` and the topic flags send a run's messages, written as `values`.
fn kafka_output(
    kafka: &KafkaArgs,
    topics: &TopicArgs,
    values: ValueFormat,
    dataset: &Dataset,
) -> Result<KafkaOutput> {
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
        return Err(ConfigError::Contradiction("both topics are empty: nothing to publish").into());
    }
    if topics.records.is_some() && topics.records == topics.aggregates {
        return Err(ConfigError::Contradiction(
            "--records-topic and --aggregates-topic must differ",
        )
        .into());
    }
    Ok(KafkaOutput {
        settings: kafka_settings(kafka)?,
        topics,
        create_topics: args_create,
        values,
    })
}

impl SourceConfig {
    pub fn from_args(args: &SourceArgs) -> Result<SourceConfig> {
        let dataset = dataset(&args.dataset)?;
        // Its password and query never appear in a message or a log line.
        crate::redact::register_url(&args.api_url);
        let shown = crate::redact::url(&args.api_url);
        let url = reqwest::Url::parse(&args.api_url).map_err(|e| ConfigError::BadUrl {
            shown: shown.clone(),
            source: e.into(),
        })?;
        if !matches!(url.scheme(), "http" | "https") || url.query().is_some() {
            return Err(ConfigError::UrlForm(shown).into());
        }
        if args.http_timeout.is_zero() {
            return Err(ConfigError::NotPositive("--http-timeout").into());
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
    /// The fields asked for: numbers ([`Dataset::numbers`]).
    pub fn numbers(&self) -> Vec<String> {
        self.fields
            .named()
            .map(<[String]>::to_vec)
            .unwrap_or_default()
    }

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
            return Err(ConfigError::NotMultiple {
                flag: "--window",
                value: window,
                dataset: dataset.name.clone(),
                resolution: res,
            }
            .into());
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
        let mut source = SourceConfig::from_args(&args.source)?;
        let aggregate = AggregateConfig::from_args(&args.aggregate, &source.dataset)?;
        source.dataset.numbers = aggregate.numbers();
        let max_lag = max_lag(args.max_lag, source.dataset.resolution);
        if max_lag <= TimeDelta::zero() {
            return Err(ConfigError::NotPositive("--max-lag").into());
        }
        let max_catch_up = span(args.max_catch_up);
        if max_catch_up < aggregate.window {
            return Err(ConfigError::TooShort {
                flag: "--max-catch-up / EDS_MAX_CATCH_UP",
                value: max_catch_up,
                what: "--window".into(),
                least: aggregate.window,
            }
            .into());
        }
        let max_key_lateness = max_key_lateness(args.max_key_lateness, &source.dataset)?;
        let max_revision_age =
            max_revision_age(args.max_revision_age, max_key_lateness, &source.dataset)?;
        let (output, unused_value_format) = Output::from_args(
            (args.dry_run, args.records),
            &args.kafka,
            &args.topics,
            &args.values,
            &source.dataset,
        )?;
        if let Some(path) = &args.lock_file {
            crate::files::check_writable(path, "--lock-file")?;
        }
        Ok(PublishConfig {
            unused_value_format,
            source,
            aggregate,
            now: args.now.unwrap_or(clock),
            max_lag,
            max_catch_up,
            max_key_lateness,
            max_revision_age,
            lock_file: args.lock_file.clone(),
            output,
        })
    }
}

/// `--max-key-lateness`, or the dataset's ([`crate::catalogue`]): at least
/// one resolution.
fn max_key_lateness(given: Option<std::time::Duration>, dataset: &Dataset) -> Result<TimeDelta> {
    let lateness = given.map_or_else(
        || crate::catalogue::find(&dataset.name).map_or(DEFAULT_KEY_LATENESS, |e| e.key_lateness()),
        span,
    );
    if lateness < dataset.resolution {
        return Err(ConfigError::TooShort {
            flag: "--max-key-lateness / EDS_MAX_KEY_LATENESS",
            value: lateness,
            what: format!("{}'s resolution", dataset.name),
            least: dataset.resolution,
        }
        .into());
    }
    Ok(lateness)
}

/// `--max-revision-age`: as given (`0` turns the review off; otherwise at
/// least one resolution), or an hour, and never shorter than
/// `--max-key-lateness` (a key that late is fetched, so its rows are compared).
pub(super) fn max_revision_age(
    given: Option<std::time::Duration>,
    lateness: TimeDelta,
    dataset: &Dataset,
) -> Result<TimeDelta> {
    let Some(given) = given else {
        return Ok(DEFAULT_REVISION_AGE.max(lateness));
    };
    let age = span(given);
    if age > TimeDelta::zero() && age < dataset.resolution {
        return Err(ConfigError::TooShort {
            flag: "--max-revision-age / EDS_MAX_REVISION_AGE",
            value: age,
            what: format!("{}'s resolution (or 0, no review)", dataset.name),
            least: dataset.resolution,
        }
        .into());
    }
    Ok(age)
}

/// What `schema` prints.
#[derive(Debug, Clone)]
pub struct SchemaConfig {
    pub dataset: Dataset,
    pub kind: crate::contract::schema::Kind,
    /// `--format avro`: the Avro schema, else the JSON Schema.
    pub avro: bool,
}

impl SchemaConfig {
    pub fn from_args(args: &SchemaArgs) -> Result<SchemaConfig> {
        Ok(SchemaConfig {
            dataset: dataset(&args.dataset)?,
            kind: match args.kind {
                SchemaKind::Records => crate::contract::schema::Kind::Records,
                SchemaKind::Aggregates => crate::contract::schema::Kind::Aggregates,
            },
            avro: args.format == SchemaFormat::Avro,
        })
    }
}

#[cfg(test)]
mod tests;
