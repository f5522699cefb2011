//! The broker suite: the binary against Apache Kafka itself, the shared test
//! broker (`EDS_TEST_BROKER`, started by scripts/test) and clusters of a
//! test's own started by `scripts/kafka` (three brokers, SASL, TLS, ACLs).
//! Built only with `--features broker-tests` (see Cargo.toml).

#[path = "../support/mod.rs"]
mod support;

mod chart;
mod cluster;
mod cursor;
mod kafka;
mod keyed;
mod read;
mod script;
mod security;
mod status;
