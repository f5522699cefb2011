//! `eds-kafka status`: reads the records and aggregates topics over the last
//! `--since` ([`crate::scan`]: no group, nothing committed, within
//! `--kafka-timeout`) and reports their health ([`crate::health`]): a table
//! or JSON on stdout, exit 5 when unhealthy. Aggregates in the schema
//! registry's wire format are read with `--schema-registry` (without it:
//! exit 2, naming the flag); records are judged by their keys alone.

use std::io::Write as _;
use std::time::Instant;

use anyhow::{Context as _, Result};

use crate::config::StatusConfig;
use crate::health::Health;
use crate::registry::Values;
use crate::scan::Scan;

pub fn run(config: &StatusConfig) -> Result<()> {
    let started = Instant::now();
    let health = read(config)?;
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
    Err(super::CommandError::Unhealthy(verdict.line()).into())
}

/// Both topics over the period, into a [`Health`].
fn read(config: &StatusConfig) -> Result<Health> {
    let mut health = Health::new(config.now, config.since, config.dataset.resolution);
    health.records_read = !config.records_topic.is_empty();
    health.aggregates_read = !config.aggregates_topic.is_empty();
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
    let mut values = Values::connect(config.registry.as_ref())?;
    let refused = scan.run(|m| {
        if topics[m.topic] == config.records_topic {
            health.record(m.key, m.revision);
            return Ok(());
        }
        let read = values.aggregate(m.payload, &m.key, &config.dataset);
        match read.map_err(|e| at(topics[m.topic], m.offset, e))? {
            Ok(agg) => {
                let missing = agg.completeness.map(|c| c.missing).unwrap_or_default();
                health.aggregate(m.key, m.revision, missing);
            }
            Err(why) => health.invalid_aggregate(&m.key, m.offset, &why),
        }
        Ok(())
    })?;
    health.blocking.absorb(refused);
    Ok(health)
}

/// A value no reader could read (no registry, or the registry failed), with
/// where it was.
pub(super) fn at(topic: &str, offset: i64, e: crate::registry::ReadError) -> anyhow::Error {
    anyhow::Error::new(e).context(format!("reading {topic} offset {offset}"))
}
