//! One file per subcommand; each takes its plain config and does the whole job.

pub mod backfill;
pub mod chart;
pub mod consume;
pub mod publish;
pub mod schema;
pub mod status;
