//! The cursor stage's errors, typed: each variant carries its exit code and
//! the error it came from. The message is the one the user reads.

use crate::contract::KeyError;
use crate::exit::{Exit, Staged};

#[derive(Debug, thiserror::Error)]
pub enum CursorError {
    /// A message of ours whose key is not of the dataset's shape (exit 3):
    /// not written by eds-kafka for this description of the dataset.
    #[error(
        "cannot read the cursor: {topic} partition {partition} offset {offset} has a {source}: \
         not written by eds-kafka for {dataset} (key columns: {}); publish into new topics \
         (--records-topic / EDS_RECORDS_TOPIC, --aggregates-topic / EDS_AGGREGATES_TOPIC)",
        if columns.is_empty() { "none".to_string() } else { columns.join(",") }
    )]
    Key {
        topic: String,
        partition: i32,
        offset: i64,
        dataset: String,
        columns: Vec<String>,
        #[source]
        source: KeyError,
    },
    /// A cursor later than `--now` plus one resolution (exit 3): every run
    /// would publish nothing.
    #[error(
        "the cursor is in the future: {topic} partition {partition} offset {offset} has key \
         '{}', later than --now {} plus one resolution; every run would publish nothing. Check \
         the system clock (or --now); if the message is wrong, publish into new topics or delete \
         the topic's messages from that offset on",
        crate::text::visible_cut(key, 200),
        crate::time::format_utc(*now)
    )]
    Future {
        topic: String,
        partition: i32,
        offset: i64,
        key: String,
        now: chrono::DateTime<chrono::Utc>,
    },
}

impl Staged for CursorError {
    fn exit(&self) -> Exit {
        match self {
            CursorError::Key { .. } | CursorError::Future { .. } => Exit::Data,
        }
    }
}
