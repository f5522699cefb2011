//! eds-kafka: fetch Energi Data Service real-time data, aggregate the trailing
//! window, publish records and aggregates to Kafka (or print CSV).
//!
//! The data's path: [`cli`] -> [`config`] -> [`cmd`], which call [`api`]
//! (query, HTTP, parsing) -> [`window`] -> [`aggregate`] -> [`sink`].

pub mod aggregate;
pub mod api;
pub mod cli;
pub mod cmd;
pub mod config;
pub mod cursor;
pub mod dataset;
pub mod exit;
pub mod kafka;
pub mod logging;
pub mod sink;
pub mod time;
pub mod window;

use anyhow::Result;
use chrono::Utc;

use cli::{Cli, Command};

/// Runs a parsed command line. The system clock is read here, once.
pub fn run(cli: Cli) -> Result<()> {
    let clock = Utc::now();
    match cli.command {
        Command::Publish(args) => {
            let config = config::PublishConfig::from_args(&args, clock)?;
            cmd::publish::run(&config, &mut cmd::publish::Summary::default())
        }
        Command::Consume(args) => cmd::consume::run(&config::ConsumeConfig::from_args(&args)?),
    }
}
