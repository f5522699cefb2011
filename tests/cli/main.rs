//! The binary against the stub API alone: dry runs, usage, logs, metrics,
//! hostile input, and Kafka addresses nobody listens on. No broker, no mock
//! cluster.

#[path = "../support/mod.rs"]
mod support;

mod api_unreachable;
mod help;
mod hostile;
mod kafka_refused;
mod keyed;
mod logs;
mod metrics_file;
mod publish_dry_run;
mod schemas;
mod stub_cli;
mod value_format;
