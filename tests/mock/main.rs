//! The binary against librdkafka's in-process mock cluster (and the stub
//! API): publish, consume, backfill, keyed datasets and cursors, fast and
//! with nothing to install.

#[path = "../support/mod.rs"]
mod support;

mod backfill;
mod consume;
mod hostile_topics;
mod kafka;
mod key_types;
mod keyed_kafka;
mod keyed_late;
mod non_numeric;
