//! `eds-kafka status`: reads the records and aggregates topics over the last
//! `--since` ([`crate::scan`]: no group, nothing committed, within
//! `--kafka-timeout`) and reports their health ([`crate::health`]): a table
//! or JSON on stdout, exit 5 when unhealthy.

use std::io::Write as _;
use std::time::Instant;

use anyhow::{Context as _, Result};

use crate::config::StatusConfig;
use crate::contract::aggregate::missing_of;
use crate::exit::{fail, Exit};
use crate::health::Health;
use crate::scan::Scan;

pub fn run(config: &StatusConfig) -> Result<()> {
    let started = Instant::now();
    let mut health = Health::new(config.now, config.since, config.dataset.resolution);
    health.records_read = !config.records_topic.is_empty();
    // An empty topic name: not published, not read.
    let topics: Vec<&str> = [&config.records_topic, &config.aggregates_topic]
        .into_iter()
        .map(String::as_str)
        .filter(|t| !t.is_empty())
        .collect();
    let scan = Scan {
        settings: &config.settings,
        dataset: &config.dataset,
        topics: &topics,
        partition: config.partition,
        from: config.now - config.since,
    };
    let refused = scan.run(|topic, key, payload| {
        if topics[topic] == config.records_topic {
            return health.record(key);
        }
        let missing = missing_of(payload).unwrap_or_else(|e| {
            log::warn!(
                "{}: an aggregate value that is not ours ({e}); counted as complete",
                config.aggregates_topic
            );
            Vec::new()
        });
        health.aggregate(key, missing);
    })?;
    health.blocking.absorb(refused);
    log::debug!(
        "read the topics in {}",
        crate::logging::elapsed(started.elapsed())
    );
    let mut out = std::io::stdout().lock();
    if config.json {
        serde_json::to_writer(&mut out, &health.json(&config.limits))?;
        out.write_all(b"\n")?;
    } else {
        out.write_all(health.table(&config.limits).as_bytes())?;
    }
    out.flush().context("writing stdout")?;
    let verdict = health.verdict(&config.limits);
    if verdict.healthy() {
        return Ok(());
    }
    Err(fail(
        Exit::Unhealthy,
        format!("unhealthy: {}", verdict.reasons.join("; ")),
    ))
}
