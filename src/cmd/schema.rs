//! `eds-kafka schema --dataset NAME --kind records|aggregates`: prints the
//! JSON Schema of that message value (also for a dataset described by
//! flags), or with `--format avro` its Avro schema (what `--value-format
//! avro` registers; a column that is no Avro name is exit 2).

use std::io::Write;

use anyhow::{Context, Result};

use crate::config::SchemaConfig;
use crate::contract::{avro, schema};

pub fn run(config: &SchemaConfig) -> Result<()> {
    let text = if config.avro {
        let value = avro::schema(&config.dataset, config.kind)?;
        let mut text = serde_json::to_string_pretty(&value)?;
        text.push('\n');
        text
    } else {
        schema::text(&config.dataset, config.kind)
    };
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("writing stdout")
}
