//! The repository's documents, scripts and manifests: the README's and the
//! docs' commands and links, the Kubernetes manifests, the cron wrapper, and
//! the broker suite's gating.

#[path = "../support/mod.rs"]
mod support;

mod architecture;
mod broker_skip;
mod cron_wrapper;
mod manifests;
mod readme;
mod readme_commands;
mod sql;
