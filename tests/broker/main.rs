//! The broker suite: the binary against Apache Kafka itself, the shared test
//! broker (`EDS_TEST_BROKER`, started by scripts/test) and clusters of a
//! test's own started by `scripts/kafka` (SASL, TLS, ACLs). The three-broker
//! fault matrix is tests/cluster/, a binary of its own. `registry` starts a
//! schema registry of its own (scripts/registry). Both binaries are built only
//! with `--features broker-tests` (see Cargo.toml).

#[path = "../support/mod.rs"]
mod support;

mod chart;
mod cursor;
mod kafka;
mod keyed;
mod read;
mod read_hostile;
mod registry;
mod revisions;
mod script;
mod security;
mod status;
