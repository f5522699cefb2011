//! The command line (clap types only; the values read from text in
//! [`values`]). `config/` turns these into plain
//! structs once; nothing else sees clap.

use std::path::PathBuf;
use std::time::Duration;

use chrono::{DateTime, Utc};
use clap::{ArgAction, Args, Parser, Subcommand};
use log::LevelFilter;

use crate::aggregate::Stat;
use crate::exit::HELP as EXIT_CODES;
use crate::time::parse_duration;

mod values;

pub use values::parse_size;
use values::{
    parse_count, parse_date, parse_last, parse_now, parse_partition, parse_replication_factor,
    parse_timeout,
};

/// Parses the process's command line. `--help` and `--version` print and
/// end the process (exit 0), as does the help shown for a missing command
/// (exit 2); any other clap error is a usage error (exit 2) that `main`
/// reports like every other error (a timestamped log line).
pub fn parse() -> anyhow::Result<Cli> {
    Cli::try_parse().map_err(|e| {
        use clap::error::ErrorKind;
        if !e.use_stderr() || e.kind() == ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
            e.exit()
        }
        anyhow::Error::new(UsageError(e))
    })
}

/// A command line clap refuses (exit 2): clap's own message, without its
/// `error: ` prefix (the log line says ERROR).
#[derive(Debug, thiserror::Error)]
#[error("{}", {
    let text = .0.render().to_string();
    let text = text.trim_end().to_string();
    text.strip_prefix("error: ").map(str::to_string).unwrap_or(text)
})]
pub struct UsageError(#[source] pub clap::Error);

impl crate::exit::Staged for UsageError {
    fn exit(&self) -> crate::exit::Exit {
        crate::exit::Exit::Usage
    }
}

#[derive(Debug, Parser)]
#[command(
    name = "eds-kafka",
    version,
    about = "Fetch Energi Data Service real-time data, aggregate the trailing window, publish it to Kafka.",
    long_about = None,
    propagate_version = true,
    after_help = EXIT_CODES
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
    #[command(flatten)]
    pub log: LogArgs,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// One run: fetch the trailing window, aggregate it, publish (or print with --dry-run)
    #[command(after_help = EXIT_CODES)]
    Publish(PublishArgs),
    /// Backfill history in paced chunks, resuming from the topics' cursors
    #[command(after_help = EXIT_CODES)]
    Backfill(BackfillArgs),
    /// Read a topic back and print it as CSV (the columns publish prints in a dry run) or JSON
    #[command(after_help = EXIT_CODES)]
    Consume(ConsumeArgs),
    /// Report the topics' health over the last --since: lag, completeness, duplicates (exit 5 when unhealthy)
    #[command(after_help = EXIT_CODES)]
    Status(StatusArgs),
    /// Draw the aggregates of the last --since as an SVG: one panel per field, one line per key
    #[command(after_help = EXIT_CODES)]
    Chart(ChartArgs),
    /// Print the JSON Schema of a dataset's record or aggregate message value
    #[command(after_help = EXIT_CODES)]
    Schema(SchemaArgs),
    /// Print the shell completion script for SHELL (e.g. eds-kafka completions bash > ~/.local/share/bash-completion/completions/eds-kafka)
    Completions(CompletionsArgs),
    /// Print the manual page (roff), e.g. eds-kafka man > ~/.local/share/man/man1/eds-kafka.1
    Man,
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell the script is for
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

/// The command line's definition, for the completions and the man page.
pub fn command() -> clap::Command {
    <Cli as clap::CommandFactory>::command()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaKind {
    Records,
    Aggregates,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum SchemaFormat {
    Json,
    Avro,
}

#[derive(Debug, Args)]
pub struct SchemaArgs {
    #[command(flatten)]
    pub dataset: DatasetArgs,
    /// Which message value: records or aggregates
    #[arg(long, value_enum)]
    pub kind: SchemaKind,
    /// Which schema: json (the JSON Schema, draft 2020-12; json-sr registers it) or avro (the Avro schema --value-format avro registers)
    #[arg(long, value_enum, default_value = "json")]
    pub format: SchemaFormat,
}

/// How to reach a schema registry (its Confluent-compatible API).
#[derive(Debug, Args)]
pub struct RegistryArgs {
    /// Schema registry base URL (Confluent-compatible API: http://host:8081, Apicurio's .../apis/ccompat/v7); needed to write or read values in its wire format
    #[arg(
        long = "schema-registry",
        env = "EDS_SCHEMA_REGISTRY",
        value_name = "URL"
    )]
    pub url: Option<String>,
    /// File holding USER:PASSWORD for the registry's basic auth (or the variable EDS_SCHEMA_REGISTRY_USER_INFO; there is no flag: a command line is visible to other users)
    #[arg(
        long = "schema-registry-user-info-file",
        env = "EDS_SCHEMA_REGISTRY_USER_INFO_FILE",
        value_name = "FILE"
    )]
    pub user_info_file: Option<PathBuf>,
    /// USER:PASSWORD from the environment only (EDS_SCHEMA_REGISTRY_USER_INFO).
    #[arg(skip = std::env::var("EDS_SCHEMA_REGISTRY_USER_INFO").ok())]
    pub user_info: Option<String>,
    /// File holding a bearer token for the registry (one line)
    #[arg(
        long = "schema-registry-token-file",
        env = "EDS_SCHEMA_REGISTRY_TOKEN_FILE",
        value_name = "FILE"
    )]
    pub token_file: Option<PathBuf>,
    /// PEM file of CA certificates trusted for the registry, besides the built-in roots
    #[arg(
        long = "schema-registry-ca",
        env = "EDS_SCHEMA_REGISTRY_CA",
        value_name = "FILE"
    )]
    pub ca: Option<PathBuf>,
    /// Bound of each registry call, from connecting to the answer's last byte
    #[arg(long = "schema-registry-timeout", env = "EDS_SCHEMA_REGISTRY_TIMEOUT", default_value = "10s", value_parser = parse_timeout, value_name = "DURATION")]
    pub timeout: Duration,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum ValueFormat {
    Json,
    Avro,
    JsonSr,
}

/// How publish and backfill write message values.
#[derive(Debug, Args)]
pub struct ValueArgs {
    /// Message values: json (plain JSON), avro or json-sr (JSON Schema), the last two in the schema registry's wire format (need --schema-registry)
    #[arg(long, env = "EDS_VALUE_FORMAT", value_enum, default_value = "json")]
    pub value_format: ValueFormat,
    /// Only look the schemas up, never register them: a subject without the schema is exit 3
    #[arg(long, env = "EDS_NO_REGISTER")]
    pub no_register: bool,
    #[command(flatten)]
    pub registry: RegistryArgs,
}

#[derive(Debug, Args)]
pub struct LogArgs {
    /// More log output on stderr (-v debug, -vv trace)
    #[arg(short, long, action = ArgAction::Count, global = true, display_order = 100)]
    pub verbose: u8,
    /// Less log output on stderr (-q warnings and errors, -qq errors only)
    #[arg(short, long, action = ArgAction::Count, global = true, conflicts_with = "verbose", display_order = 100)]
    pub quiet: u8,
    /// Base log level before -v/-q: off, error, warn, info, debug, trace
    #[arg(
        long,
        env = "EDS_LOG",
        default_value = "info",
        global = true,
        value_name = "LEVEL",
        display_order = 100
    )]
    pub log_level: LevelFilter,
}

/// Where the data comes from.
#[derive(Debug, Args)]
pub struct SourceArgs {
    /// Energi Data Service base URL
    #[arg(
        long,
        env = "EDS_API_URL",
        default_value = crate::api::DEFAULT_URL,
        value_name = "URL"
    )]
    pub api_url: String,
    #[command(flatten)]
    pub dataset: DatasetArgs,
    /// Timeout of the HTTP request, body included
    #[arg(long, env = "EDS_HTTP_TIMEOUT", default_value = "20s", value_parser = parse_timeout, value_name = "DURATION")]
    pub http_timeout: Duration,
    /// Largest response body accepted (bytes, or with a KiB/MiB/GiB suffix)
    #[arg(long, env = "EDS_MAX_BODY", default_value = "64MiB", value_parser = parse_size, value_name = "SIZE")]
    pub max_body: u64,
}

/// Which dataset, and how to read one that the known table lacks.
#[derive(Debug, Args)]
pub struct DatasetArgs {
    /// Dataset name: a known one, or any other described with the flags below
    #[arg(
        id = "dataset",
        long = "dataset",
        env = "EDS_DATASET",
        default_value = "PowerSystemRightNow",
        value_name = "NAME"
    )]
    pub name: String,
    /// The dataset's UTC time column (overrides the known table)
    #[arg(long, env = "EDS_TIME_COLUMN", value_name = "COLUMN")]
    pub time_column: Option<String>,
    /// Its Danish local time column; empty for none
    #[arg(long, env = "EDS_DK_TIME_COLUMN", value_name = "COLUMN")]
    pub dk_time_column: Option<String>,
    /// Its key columns, in order, comma-separated; empty for none
    #[arg(long, env = "EDS_KEY_COLUMNS", value_name = "A,B,...")]
    pub key_columns: Option<String>,
    /// Step between its row times: whole minutes dividing an hour (1m .. 1h)
    #[arg(long, env = "EDS_RESOLUTION", value_parser = parse_duration, value_name = "DURATION")]
    pub resolution: Option<Duration>,
}

/// What to compute over the window.
#[derive(Debug, Args)]
pub struct AggregateArgs {
    /// Fields to aggregate, comma-separated; `all` = every numeric field [default: seven fields for PowerSystemRightNow, all for other datasets]
    #[arg(long, env = "EDS_FIELDS", value_name = "A,B,...")]
    pub fields: Option<String>,
    /// Statistics per field, comma-separated, from count,mean,min,max,last
    #[arg(
        long,
        env = "EDS_STATS",
        default_value = "count,mean,min,max,last",
        value_delimiter = ',',
        value_name = "LIST"
    )]
    pub stats: Vec<Stat>,
    /// Length of the trailing window, a multiple of the dataset's resolution [default: the smallest multiple that is at least 5m]
    #[arg(long, env = "EDS_WINDOW", value_parser = parse_duration, value_name = "DURATION")]
    pub window: Option<Duration>,
    /// Aggregates CSV: add `expected_rows,missing` (row times absent from the window) at the end
    #[arg(long, env = "EDS_COMPLETENESS")]
    pub completeness: bool,
}

/// How to reach Kafka (shared by publish and consume).
#[derive(Debug, Args)]
pub struct KafkaArgs {
    /// Kafka bootstrap brokers, host:port,... (required to reach Kafka, unless bootstrap.servers is in --kafka-config)
    #[arg(long, env = "KAFKA_BROKERS", value_name = "HOST:PORT,...")]
    pub brokers: Option<String>,
    /// Java-style client.properties (key=value, # comments), e.g. from Confluent Cloud
    #[arg(long, env = "KAFKA_CONFIG_FILE", value_name = "FILE")]
    pub kafka_config: Option<PathBuf>,
    /// librdkafka property key=value (repeatable); wins over --kafka-config
    #[arg(short = 'X', value_name = "KEY=VALUE", action = ArgAction::Append)]
    pub property: Vec<String>,
    /// How long to wait for the brokers (connection, metadata, acknowledgements)
    #[arg(long, env = "EDS_KAFKA_TIMEOUT", default_value = "30s", value_parser = parse_timeout, value_name = "DURATION")]
    pub kafka_timeout: Duration,
    /// Partition every message goes to (and is read from)
    #[arg(long, env = "EDS_PARTITION", default_value_t = 0, value_parser = parse_partition, value_name = "N")]
    pub partition: i32,
}

/// Where publish writes.
#[derive(Debug, Args)]
pub struct TopicArgs {
    /// Topic for the records, one message per row (empty: do not publish records) [default: eds.<dataset>.records]
    #[arg(long, env = "EDS_RECORDS_TOPIC", value_name = "NAME")]
    pub records_topic: Option<String>,
    /// Topic for the aggregates, one message per window (empty: do not publish them) [default: eds.<dataset>.aggregates]
    #[arg(long, env = "EDS_AGGREGATES_TOPIC", value_name = "NAME")]
    pub aggregates_topic: Option<String>,
    /// Create missing topics (1 partition) with the admin API
    #[arg(long, env = "EDS_CREATE_TOPICS")]
    pub create_topics: bool,
    /// With --create-topics: replicas of each new topic [default: the broker's default.replication.factor]
    #[arg(long, env = "EDS_REPLICATION_FACTOR", requires = "create_topics", value_parser = parse_replication_factor, value_name = "N")]
    pub replication_factor: Option<i16>,
    /// With --create-topics: topic config of new topics, e.g. min.insync.replicas=2 (repeatable; ';' between pairs in the variable)
    #[arg(long, env = "EDS_TOPIC_CONFIG", requires = "create_topics", value_delimiter = ';', action = ArgAction::Append, value_name = "KEY=VALUE")]
    pub topic_config: Vec<String>,
}

/// `--dry-run` and `--records` (display order 0) come first in the help.
#[derive(Debug, Args)]
#[command(next_display_order = 1)]
pub struct PublishArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,
    #[command(flatten)]
    pub topics: TopicArgs,
    #[command(flatten)]
    pub values: ValueArgs,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub aggregate: AggregateArgs,
    /// Reference clock (RFC 3339), for replays and tests; default: the system clock
    #[arg(long, env = "EDS_NOW", value_parser = parse_now, value_name = "RFC3339")]
    pub now: Option<DateTime<Utc>>,
    /// Fail (exit 75) when the newest row is older than this [default: 30m, or two resolutions when longer]
    #[arg(long, env = "EDS_MAX_LAG", value_parser = parse_duration, value_name = "DURATION")]
    pub max_lag: Option<Duration>,
    /// Longest gap a run catches up after downtime; older rows are skipped with a warning
    #[arg(long, env = "EDS_MAX_CATCH_UP", default_value = crate::cursor::plan::DEFAULT_MAX_CATCH_UP, value_parser = parse_duration, value_name = "DURATION")]
    pub max_catch_up: Duration,
    /// How far a key combination (also one not yet published) may trail the newest one and still be fetched; rows further behind are skipped with a warning [default: the dataset's: 1h for every known one and for a described one]
    #[arg(long, env = "EDS_MAX_KEY_LATENESS", value_parser = parse_duration, value_name = "DURATION")]
    pub max_key_lateness: Option<Duration>,
    /// How far back rows and windows are compared with the topics: a row the topic lacks (a hole filled late) or whose value the API changed is published again (a correction, header eds-revision); as far again before that it is only reported; 0 turns this off [default: 1h, or --max-key-lateness when longer]
    #[arg(long, env = "EDS_MAX_REVISION_AGE", value_parser = parse_duration, value_name = "DURATION")]
    pub max_revision_age: Option<Duration>,
    /// Advisory lock file: a run finding it held by another exits 75
    #[arg(long, env = "EDS_LOCK_FILE", value_name = "PATH")]
    pub lock_file: Option<PathBuf>,
    /// After every run, write Prometheus metrics here (textfile collector), atomically
    #[arg(long, env = "EDS_METRICS_FILE", value_name = "PATH")]
    pub metrics_file: Option<PathBuf>,
    /// Print CSV to stdout instead of publishing (no Kafka options needed)
    #[arg(long, display_order = 0)]
    pub dry_run: bool,
    /// With --dry-run: print the window's rows instead of the aggregate
    #[arg(long, requires = "dry_run", display_order = 0)]
    pub records: bool,
}

/// `--dry-run` and `--records` (display order 0) come first in the help.
#[derive(Debug, Args)]
#[command(next_display_order = 1)]
pub struct BackfillArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,
    #[command(flatten)]
    pub topics: TopicArgs,
    #[command(flatten)]
    pub values: ValueArgs,
    #[command(flatten)]
    pub source: SourceArgs,
    #[command(flatten)]
    pub aggregate: AggregateArgs,
    /// First row time (inclusive), UTC: 2026-01-01 or RFC 3339
    #[arg(long, value_parser = parse_date, value_name = "DATE")]
    pub from: DateTime<Utc>,
    /// End (exclusive), UTC: 2026-02-01 or RFC 3339
    #[arg(long, value_parser = parse_date, value_name = "DATE")]
    pub to: DateTime<Utc>,
    /// Time span of one request
    #[arg(long, env = "EDS_CHUNK", default_value = "1d", value_parser = parse_duration, value_name = "DURATION")]
    pub chunk: Duration,
    /// Least time between two requests (the API allows one per dataset per minute)
    #[arg(long, env = "EDS_MIN_REQUEST_INTERVAL", default_value = "60s", value_parser = parse_duration, value_name = "DURATION")]
    pub min_request_interval: Duration,
    /// Print CSV to stdout instead of publishing (no Kafka options needed)
    #[arg(long, display_order = 0)]
    pub dry_run: bool,
    /// With --dry-run: print the rows instead of the aggregates
    #[arg(long, requires = "dry_run", display_order = 0)]
    pub records: bool,
    /// Reference clock (RFC 3339): rows at or after it (floored to the resolution) are left to publish; default: the system clock
    #[arg(long, env = "EDS_NOW", value_parser = parse_now, value_name = "RFC3339")]
    pub now: Option<DateTime<Utc>>,
    /// How far before the point it resumes at (never before --from) the range is compared with the topics: a row they lack or hold with another value is published, once (header eds-revision on a correction); 0 turns this off [default: 1h]
    #[arg(long, env = "EDS_MAX_REVISION_AGE", value_parser = parse_duration, value_name = "DURATION")]
    pub max_revision_age: Option<Duration>,
    /// Advisory lock file, the one publish takes: a backfill finding it held exits 75
    #[arg(long, env = "EDS_LOCK_FILE", value_name = "PATH")]
    pub lock_file: Option<PathBuf>,
}

/// The period `status` and `chart` read.
#[derive(Debug, Args)]
pub struct PeriodArgs {
    /// The period: messages whose key time (row time, window end) is within this span before --now
    #[arg(long, default_value = "24h", value_parser = parse_duration, value_name = "DURATION")]
    pub since: Duration,
    /// The period's end, the lag's reference (default: the system clock)
    #[arg(long, env = "EDS_NOW", value_parser = parse_now, value_name = "RFC3339")]
    pub now: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum StatusFormat {
    Table,
    Json,
}

#[derive(Debug, Args)]
pub struct StatusArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// The dataset whose topics are read (names the default topics, reads the key columns)
    #[command(flatten)]
    pub dataset: DatasetArgs,
    /// Records topic (default eds.<dataset>.records)
    #[arg(long, env = "EDS_RECORDS_TOPIC", value_name = "NAME")]
    pub records_topic: Option<String>,
    /// Aggregates topic (default eds.<dataset>.aggregates)
    #[arg(long, env = "EDS_AGGREGATES_TOPIC", value_name = "NAME")]
    pub aggregates_topic: Option<String>,
    #[command(flatten)]
    pub period: PeriodArgs,
    /// A key whose newest record is older than this is lagging (exit 5) [default: 30m, or two resolutions when longer]
    #[arg(long, env = "EDS_MAX_LAG", value_parser = parse_duration, value_name = "DURATION")]
    pub max_lag: Option<Duration>,
    /// More incomplete windows (aggregates with missing rows) than this is unhealthy (exit 5)
    #[arg(long, default_value_t = 0, value_parser = parse_count, value_name = "N")]
    pub max_incomplete: u64,
    /// A key with a longer hole between two records (e.g. a gap a run skipped after downtime) is unhealthy (exit 5) [default: 30m, or two resolutions when longer]
    #[arg(long, value_parser = parse_duration, value_name = "DURATION")]
    pub max_gap: Option<Duration>,
    /// More record times missing between records of the same key (all keys together) than this is unhealthy (exit 5)
    #[arg(long, default_value_t = 0, value_parser = parse_count, value_name = "N")]
    pub max_missing: u64,
    /// Output format: table, or json (one object)
    #[arg(long, value_enum, default_value = "table")]
    pub format: StatusFormat,
}

#[derive(Debug, Args)]
pub struct ChartArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// The dataset whose aggregates are drawn (names the default topic, reads the key columns)
    #[command(flatten)]
    pub dataset: DatasetArgs,
    /// Aggregates topic (default eds.<dataset>.aggregates)
    #[arg(long, env = "EDS_AGGREGATES_TOPIC", value_name = "NAME")]
    pub aggregates_topic: Option<String>,
    /// Fields to draw, one panel each (at most 8; default: the dataset's defaults, or all)
    #[arg(long, env = "EDS_FIELDS", value_name = "A,B,...")]
    pub fields: Option<String>,
    #[command(flatten)]
    pub period: PeriodArgs,
    /// Write the SVG to FILE instead of stdout (`-`: stdout)
    #[arg(long, short, value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Draw at most N key combinations: those with the most windows in the period (ties by name); the title says how many were left out
    #[arg(long, default_value_t = 10, value_parser = clap::value_parser!(u16).range(1..=99), value_name = "N")]
    pub max_keys: u16,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    Csv,
    Json,
}

#[derive(Debug, Args)]
pub struct ConsumeArgs {
    #[command(flatten)]
    pub kafka: KafkaArgs,
    #[command(flatten)]
    pub registry: RegistryArgs,
    /// The dataset whose messages are read (names the default topic, reads the key columns)
    #[command(flatten)]
    pub dataset: DatasetArgs,
    /// Topic to read [default: eds.<dataset>.aggregates]
    #[arg(long, value_name = "NAME")]
    pub topic: Option<String>,
    /// Record columns of the CSV (records topics), as publish --fields [default: as publish]
    #[arg(long, env = "EDS_FIELDS", value_name = "A,B,...")]
    pub fields: Option<String>,
    /// Read the whole partition
    #[arg(long, conflicts_with = "last")]
    pub from_beginning: bool,
    /// Read the last N messages [default: 10]
    #[arg(long, value_name = "N", value_parser = parse_last)]
    pub last: Option<u64>,
    /// Stop after this many messages
    #[arg(long, value_name = "N", value_parser = parse_count)]
    pub max_messages: Option<u64>,
    /// Stop when nothing arrives for this long [default: 5s; with --follow: never]
    #[arg(long, value_parser = parse_timeout, value_name = "DURATION")]
    pub idle_timeout: Option<Duration>,
    /// At the end of the log, keep reading and print new messages as they come,
    /// until SIGINT/SIGTERM (exit 0) or --idle-timeout; without it, stop at the end
    #[arg(long)]
    pub follow: bool,
    /// Output format: csv, or json (one message value per line)
    #[arg(long, value_enum, default_value = "csv")]
    pub format: Format,
    /// Join this consumer group and commit what was read (default: assign the partition, commit nothing)
    #[arg(long, value_name = "ID", conflicts_with_all = ["last", "from_beginning"])]
    pub group: Option<String>,
    /// Aggregates CSV: add `expected_rows,missing` at the end, as publish --completeness
    #[arg(long)]
    pub completeness: bool,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cli_is_consistent() {
        use clap::CommandFactory;
        Cli::command().debug_assert();
    }

    #[test]
    fn stats_split_on_commas() {
        let cli =
            Cli::try_parse_from(["eds-kafka", "publish", "--dry-run", "--stats", "max,count"])
                .unwrap();
        let Command::Publish(p) = cli.command else {
            panic!()
        };
        assert_eq!(p.aggregate.stats, vec![Stat::Max, Stat::Count]);
        assert!(Cli::try_parse_from(["eds-kafka", "publish", "--stats", "median"]).is_err());
        assert!(Cli::try_parse_from(["eds-kafka", "publish", "--records"]).is_err());
    }
}
