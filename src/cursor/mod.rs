//! The cursor: what was already published, read from the topics themselves
//! (no local state), and the one rule that decides what is new, so that every
//! (time, key) row and every (window end, key) aggregate reaches its topic
//! exactly once.
//!
//! - [`plan`]: the rule and a run's plan, pure arithmetic;
//! - [`emit`]: the one path from sorted rows to a sink that applies the rule
//!   (which records are new, which aggregates are due);
//! - [`read`]: reading each topic's tail from Kafka;
//! - [`connect`]: the Kafka sink and both cursors, for `publish` and `backfill`.

pub mod connect;
pub mod emit;
pub mod plan;
pub mod read;
#[cfg(test)]
mod simulation;

pub use connect::connect;
pub use emit::Emitter;
pub use plan::{describe, plan, Cursors, Plan, Published, Spans, TopicCursor};
pub use read::read;
