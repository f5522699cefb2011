//! `eds-kafka schema --dataset NAME --kind records|aggregates`: prints the
//! JSON Schema of that message value (also for a dataset described by flags).

use std::io::Write;

use anyhow::{Context, Result};

use crate::config::SchemaConfig;
use crate::contract::schema;

pub fn run(config: &SchemaConfig) -> Result<()> {
    let text = schema::text(&config.dataset, config.kind);
    let mut out = std::io::stdout().lock();
    out.write_all(text.as_bytes())
        .and_then(|()| out.flush())
        .context("writing stdout")
}
