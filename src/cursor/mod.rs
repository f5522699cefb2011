//! The cursor: what was already published, read from the topics themselves
//! (no local state), and the one rule that decides what is new, so that every
//! (time, key) row and every (window end, key) aggregate reaches its topic
//! exactly once.
//!
//! - [`plan`]: the rule and a run's plan, pure arithmetic;
//! - [`read`]: reading each topic's tail from Kafka.

pub mod plan;
pub mod read;
#[cfg(test)]
mod simulation;

pub use plan::{describe, plan, Cursors, Plan, Published, Spans, TopicCursor};
pub use read::read;
