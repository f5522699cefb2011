//! The cursor: what was already published, read from the topics themselves
//! (no local state), and the one rule that decides what is new, so that every
//! (time, key) row and every (window end, key) aggregate reaches its topic
//! exactly once.
//!
//! - [`rule`]: the rule, [`Published::judge`], and the cursors it starts from;
//! - [`review`]: what a topic holds within the reviewed span (digests, revisions);
//! - [`plan`]: a run's plan (publish's or backfill's), pure arithmetic;
//! - [`emit`]: the one path from sorted rows to a sink that applies the rule
//!   (which records are new, which aggregates are due);
//! - [`read`]: reading each topic's tail from Kafka;
//! - [`connect`]: the Kafka sink and both cursors, for `publish` and `backfill`.

pub mod connect;
pub mod describe;
pub mod emit;
mod error;
pub mod plan;
pub mod read;
pub mod review;
pub mod rule;
#[cfg(test)]
mod simulation;
mod tail;

pub use connect::{connect, review};
pub use describe::describe;
pub use emit::Emitter;
pub use error::CursorError;
pub use plan::{plan, plan_range, Cursors, Plan, Published, Range, Rules, Spans, TopicCursor};
pub use read::read;
