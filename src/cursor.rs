//! The cursor: where the topics stopped, read from Kafka itself (no local
//! state), and the arithmetic of what a run must fetch and publish so that
//! every row time and every window reaches its topic exactly once.
//!
//! A topic's cursor is the key of its partition's last message of ours. It is
//! found by reading forward from a little before the high watermark to the end
//! of the log, not by trusting `high - 1` (tansu reports the base offset of the
//! last batch + 1).

use std::time::{Duration, Instant};

use anyhow::Result;
use chrono::{DateTime, TimeDelta, Utc};
use rdkafka::consumer::{BaseConsumer, Consumer};
use rdkafka::message::Headers;
use rdkafka::{Message, Offset, TopicPartitionList};

use crate::dataset::Row;
use crate::exit::{fail, Exit};
use crate::kafka::{Context, KafkaSettings};
use crate::sink::kafka::DATASET_HEADER;
use crate::time::{floor, format_utc, parse_utc};

/// A message key: a time (row time or window end) and, for keyed datasets, the key.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Position {
    pub time: DateTime<Utc>,
    pub key: Option<String>,
}

impl Position {
    /// Reads `2026-11-28T11:59:00Z` or `2026-11-28T11:55:00Z/DK1`.
    pub fn parse(key: &str) -> Option<Position> {
        let (time, key) = match key.split_once('/') {
            Some((t, k)) if !k.is_empty() => (t, Some(k.to_string())),
            Some(_) => return None,
            None => (key, None),
        };
        if !time.ends_with('Z') {
            return None;
        }
        Some(Position {
            time: parse_utc(time)?,
            key,
        })
    }

    pub fn of_row(row: &Row) -> Position {
        Position {
            time: row.time,
            key: row.key.clone(),
        }
    }
}

/// The last position of each topic; `None` for an empty (or unpublished) topic.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Cursors {
    pub records: Option<Position>,
    pub aggregates: Option<Position>,
}

/// What one run fetches and from when it publishes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The fetch covers `[fetch_from, limit)`.
    pub fetch_from: DateTime<Utc>,
    /// Rows at or after this are incomplete: `--now` floored to the resolution.
    pub limit: DateTime<Utc>,
    /// The oldest row time (or window's newest row time) that may be published:
    /// `limit - max_catch_up`.
    pub publish_from: DateTime<Utc>,
    /// What a gap longer than `--max-catch-up` skips, per topic: the first and
    /// the last row time (records) or window end (aggregates) left out.
    pub skipped: Vec<(&'static str, DateTime<Utc>, DateTime<Utc>)>,
}

/// The spans a plan needs.
#[derive(Debug, Clone, Copy)]
pub struct Spans {
    pub resolution: TimeDelta,
    pub window: TimeDelta,
    pub max_lag: TimeDelta,
    pub max_catch_up: TimeDelta,
}

/// Plans a run at `now` from the cursors.
pub fn plan(cursors: &Cursors, now: DateTime<Utc>, s: Spans) -> Plan {
    let limit = floor(now, s.resolution);
    let publish_from = floor(limit - s.max_catch_up, s.resolution);
    // Without a cursor a topic gets the current window: find the newest row up
    // to --max-lag back, and its window.
    let fresh_start = limit - s.max_lag - s.window;
    // Records resume after the cursor (same time, later key included); the first new
    // aggregate's window reaches `window` back from the cursor.
    let records_from = cursors.records.as_ref().map_or(fresh_start, |c| c.time);
    let aggregates_from = cursors
        .aggregates
        .as_ref()
        .map_or(fresh_start, |c| c.time - s.window);
    let earliest_context = publish_from - s.window;
    let fetch_from = floor(
        records_from.min(aggregates_from).max(earliest_context),
        s.resolution,
    );

    let mut skipped = Vec::new();
    if let Some(c) = &cursors.records {
        if c.time + s.resolution < publish_from {
            skipped.push((
                "records",
                c.time + s.resolution,
                publish_from - s.resolution,
            ));
        }
    }
    if let Some(c) = &cursors.aggregates {
        // Published ends start at publish_from + resolution (the window after its first row).
        if c.time < publish_from {
            skipped.push(("aggregates", c.time + s.resolution, publish_from));
        }
    }
    Plan {
        fetch_from,
        limit,
        publish_from,
        skipped,
    }
}

/// The records to publish (rows sorted, all before the limit, newest `newest`):
/// with a cursor, every row after it and not before `publish_from`; without,
/// the current window `[newest + resolution - window, newest + resolution)`.
pub fn new_records<'r>(
    rows: &'r [Row],
    cursor: Option<&Position>,
    plan: &Plan,
    newest: DateTime<Utc>,
    s: Spans,
) -> Vec<&'r Row> {
    let current_start = newest + s.resolution - s.window;
    rows.iter()
        .filter(|r| r.time < plan.limit && r.time >= plan.publish_from)
        .filter(|r| match cursor {
            Some(c) => Position::of_row(r) > *c,
            None => r.time >= current_start,
        })
        .collect()
}

/// The window ends to publish aggregates for: one per distinct row time N
/// (`end = N + resolution`) with N not before `publish_from`, after the
/// cursor; without a cursor only the current one. A keyed cursor's own end is
/// included: callers skip its keys up to the cursor's.
pub fn new_window_ends(
    rows: &[Row],
    cursor: Option<&Position>,
    plan: &Plan,
    newest: DateTime<Utc>,
    s: Spans,
) -> Vec<DateTime<Utc>> {
    let mut ends: Vec<DateTime<Utc>> = Vec::new();
    for row in rows
        .iter()
        .filter(|r| r.time < plan.limit && r.time >= plan.publish_from)
    {
        let end = row.time + s.resolution;
        let wanted = match cursor {
            Some(c) if c.key.is_some() => end >= c.time,
            Some(c) => end > c.time,
            None => row.time == newest,
        };
        if wanted && ends.last() != Some(&end) {
            ends.push(end);
        }
    }
    ends
}

/// Reads the cursors of `topics` (partition `partition` of each) with one
/// consumer: the key of each partition's last message carrying our
/// `eds-dataset` header for `dataset`; `None` for a topic with no such message.
pub fn read(
    settings: &KafkaSettings,
    topics: &[&str],
    partition: i32,
    dataset: &str,
) -> Result<Vec<Option<Position>>> {
    let started = Instant::now();
    let consumer = settings.consumer(None)?;
    let mut tails: Vec<Tail> = Vec::new();
    for topic in topics {
        let (low, high) = consumer
            .fetch_watermarks(topic, partition, settings.timeout)
            .map_err(|e| {
                settings.unreachable(
                    &format!("read the offsets of {topic}"),
                    &e,
                    consumer.context(),
                )
            })?;
        tails.push(Tail {
            topic,
            low,
            high,
            from: (high - 16).max(low),
            until: None,
            last: None,
            done: high <= low,
        });
    }
    let result = read_tails(&consumer, settings, &mut tails, partition, dataset);
    close(consumer);
    result?;
    for t in &tails {
        log::debug!(
            "cursor of {}: {} (offsets {}..{})",
            t.topic,
            describe(t.last.as_ref().map(|(_, p)| p)),
            t.low,
            t.high
        );
    }
    log::debug!("cursors read in {} ms", started.elapsed().as_millis());
    Ok(tails.into_iter().map(|t| t.last.map(|(_, p)| p)).collect())
}

/// One partition's search for its last message of ours.
struct Tail<'a> {
    topic: &'a str,
    low: i64,
    high: i64,
    /// This pass reads `[from, until)`; the first pass reads to the end of the log.
    from: i64,
    until: Option<i64>,
    last: Option<(i64, Position)>,
    /// Found one of ours, or searched everything there is.
    done: bool,
}

impl Tail<'_> {
    /// The offset whose arrival ends this pass.
    fn end(&self) -> i64 {
        self.until.unwrap_or(self.high) - 1
    }

    /// The next pass: sixteen times as far back, up to where this one began.
    fn go_back(&mut self) {
        let span = self.until.unwrap_or(self.high) - self.from;
        self.until = Some(self.from);
        self.from = (self.from - span * 16).max(self.low);
    }
}

/// Reads every partition not done from `from` to the end of its log; goes
/// further back (16x) for those that had no message of ours, until the start.
fn read_tails(
    consumer: &BaseConsumer<Context>,
    settings: &KafkaSettings,
    tails: &mut [Tail<'_>],
    partition: i32,
    dataset: &str,
) -> Result<()> {
    loop {
        let mut list = TopicPartitionList::new();
        for t in tails.iter().filter(|t| !t.done) {
            list.add_partition_offset(t.topic, partition, Offset::Offset(t.from))
                .map_err(|e| {
                    fail(
                        Exit::Kafka,
                        format!("assigning {}/{partition}: {e}", t.topic),
                    )
                })?;
        }
        if list.count() == 0 {
            return Ok(());
        }
        consumer.assign(&list).map_err(|e| {
            fail(
                Exit::Kafka,
                format!("assigning partitions to read the cursors: {e}"),
            )
        })?;
        let mut pending: Vec<bool> = tails.iter().map(|t| !t.done).collect();
        let deadline = Instant::now() + settings.timeout;
        // Until the message before each high watermark arrived, wait for it; after
        // that, only drain what its fetch brought (the rest of the last batch).
        while pending.iter().any(|p| *p)
            || drain(
                consumer,
                tails,
                dataset,
                &mut pending,
                Duration::from_millis(5),
            )?
        {
            if Instant::now() >= deadline {
                let waiting: Vec<&str> = tails
                    .iter()
                    .zip(&pending)
                    .filter(|(_, p)| **p)
                    .map(|(t, _)| t.topic)
                    .collect();
                return Err(fail(
                    Exit::Kafka,
                    format!(
                        "reading the cursors: the ends of {} did not arrive from {} within {}s",
                        waiting.join(", "),
                        settings.brokers(),
                        settings.timeout.as_secs_f64()
                    ),
                ));
            }
            drain(
                consumer,
                tails,
                dataset,
                &mut pending,
                Duration::from_millis(50),
            )?;
        }
        for t in tails.iter_mut().filter(|t| !t.done) {
            if t.last.is_some() || t.from <= t.low {
                t.done = true;
            } else {
                t.go_back();
            }
        }
    }
}

/// Polls once; returns whether a message arrived.
fn drain(
    consumer: &BaseConsumer<Context>,
    tails: &mut [Tail<'_>],
    dataset: &str,
    pending: &mut [bool],
    wait: Duration,
) -> Result<bool> {
    let Some(message) = consumer.poll(wait) else {
        return Ok(false);
    };
    let m = message.map_err(|e| fail(Exit::Kafka, format!("reading the cursors: {e}")))?;
    let Some(i) = tails.iter().position(|t| t.topic == m.topic()) else {
        return Ok(true);
    };
    let tail = &mut tails[i];
    if tail.until.is_some_and(|u| m.offset() >= u) || m.offset() < tail.from {
        return Ok(true);
    }
    if m.offset() >= tail.end() {
        pending[i] = false;
    }
    let ours = m
        .headers()
        .and_then(|h| h.iter().find(|h| h.key == DATASET_HEADER))
        .is_some_and(|h| h.value == Some(dataset.as_bytes()));
    if ours {
        let key = String::from_utf8_lossy(m.key().unwrap_or_default()).to_string();
        let position = Position::parse(&key).ok_or_else(|| {
            fail(
                Exit::Data,
                format!(
                    "cannot read the cursor: {}/{} offset {} has key '{key}', not a UTC time",
                    m.topic(),
                    m.partition(),
                    m.offset()
                ),
            )
        })?;
        tail.last = Some((m.offset(), position));
    }
    Ok(true)
}

/// Closes the consumer in 1 ms steps. Its `Drop` would close it again,
/// polling in 100 ms steps (most of a run's time) and logging an error for
/// the second close, so the closed handle is left to the process exit.
fn close(consumer: BaseConsumer<Context>) {
    let deadline = Instant::now() + Duration::from_secs(2);
    if consumer.close_queue().is_ok() {
        while !consumer.closed() && Instant::now() < deadline {
            consumer.poll(Duration::from_millis(1));
        }
    }
    std::mem::forget(consumer);
}

/// A position for log lines.
pub fn describe(p: Option<&Position>) -> String {
    match p {
        None => "none (empty topic)".to_string(),
        Some(Position { time, key: None }) => format_utc(*time),
        Some(Position { time, key: Some(k) }) => format!("{}/{k}", format_utc(*time)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::Map;

    fn t(hm: &str) -> DateTime<Utc> {
        parse_utc(&format!("2026-11-28T{hm}:00")).unwrap()
    }

    fn spans() -> Spans {
        Spans {
            resolution: TimeDelta::minutes(1),
            window: TimeDelta::minutes(5),
            max_lag: TimeDelta::minutes(30),
            max_catch_up: TimeDelta::hours(6),
        }
    }

    fn at(hm: &str) -> Option<Position> {
        Some(Position {
            time: t(hm),
            key: None,
        })
    }

    /// Rows every minute from `from` to `to` inclusive.
    fn rows(from: &str, to: &str) -> Vec<Row> {
        let mut out = Vec::new();
        let mut time = t(from);
        while time <= t(to) {
            out.push(Row {
                time,
                key: None,
                fields: Map::new(),
                raw: None,
            });
            time += TimeDelta::minutes(1);
        }
        out
    }

    fn times(rs: &[&Row]) -> Vec<DateTime<Utc>> {
        rs.iter().map(|r| r.time).collect()
    }

    #[test]
    fn keys_parse() {
        assert_eq!(Position::parse("2026-11-28T11:59:00Z"), at("11:59"));
        let keyed = Position::parse("2026-11-28T11:55:00Z/DK1").unwrap();
        assert_eq!(keyed.key.as_deref(), Some("DK1"));
        assert!(
            keyed
                > Position {
                    time: t("11:55"),
                    key: None
                }
        );
        for bad in ["", "hello", "2026-11-28T11:59:00", "2026-11-28T11:59:00Z/"] {
            assert_eq!(Position::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn no_cursor_publishes_the_current_window() {
        let now = t("12:00") + TimeDelta::seconds(30);
        let p = plan(&Cursors::default(), now, spans());
        assert_eq!((p.fetch_from, p.limit), (t("11:25"), t("12:00")));
        let rs = rows("11:25", "11:59");
        let newest = t("11:59");
        assert_eq!(
            times(&new_records(&rs, None, &p, newest, spans())),
            rows("11:55", "11:59")
                .iter()
                .map(|r| r.time)
                .collect::<Vec<_>>()
        );
        assert_eq!(
            new_window_ends(&rs, None, &p, newest, spans()),
            vec![t("12:00")]
        );
        assert!(p.skipped.is_empty());
    }

    #[test]
    fn cursor_inside_the_window() {
        let now = t("12:00") + TimeDelta::seconds(30);
        let cursors = Cursors {
            records: at("11:57"),
            aggregates: at("11:58"),
        };
        let p = plan(&cursors, now, spans());
        // The new aggregate ending 11:59 needs rows from 11:54 on.
        assert_eq!(p.fetch_from, t("11:53"));
        let rs = rows("11:53", "11:59");
        let recs = new_records(&rs, cursors.records.as_ref(), &p, t("11:59"), spans());
        assert_eq!(times(&recs), vec![t("11:58"), t("11:59")]);
        let ends = new_window_ends(&rs, cursors.aggregates.as_ref(), &p, t("11:59"), spans());
        assert_eq!(ends, vec![t("11:59"), t("12:00")]);
    }

    #[test]
    fn cursor_far_behind_catches_up_every_minute() {
        let now = t("12:00") + TimeDelta::seconds(30);
        let cursors = Cursors {
            records: at("09:00"),
            aggregates: at("09:01"),
        };
        let p = plan(&cursors, now, spans());
        assert_eq!(p.fetch_from, t("08:56"));
        let rs = rows("08:56", "11:59");
        let recs = new_records(&rs, cursors.records.as_ref(), &p, t("11:59"), spans());
        assert_eq!(recs.len(), 179, "09:01 .. 11:59");
        assert_eq!(recs[0].time, t("09:01"));
        let ends = new_window_ends(&rs, cursors.aggregates.as_ref(), &p, t("11:59"), spans());
        assert_eq!(ends.len(), 179, "ends 09:02 .. 12:00");
        assert_eq!((ends[0], ends[178]), (t("09:02"), t("12:00")));
        assert!(p.skipped.is_empty());
    }

    #[test]
    fn cursor_beyond_the_cap_skips_and_says_what() {
        let now = t("12:00") + TimeDelta::seconds(30);
        let s = Spans {
            max_catch_up: TimeDelta::hours(1),
            ..spans()
        };
        let cursors = Cursors {
            records: at("09:00"),
            aggregates: at("09:01"),
        };
        let p = plan(&cursors, now, s);
        assert_eq!(p.publish_from, t("11:00"));
        assert_eq!(
            p.fetch_from,
            t("10:55"),
            "only the cap and the first window's context are fetched"
        );
        assert_eq!(
            p.skipped,
            vec![
                ("records", t("09:01"), t("10:59")),
                ("aggregates", t("09:02"), t("11:00"))
            ]
        );
        let rs = rows("10:55", "11:59");
        let recs = new_records(&rs, cursors.records.as_ref(), &p, t("11:59"), s);
        assert_eq!((recs.len(), recs[0].time), (60, t("11:00")));
        let ends = new_window_ends(&rs, cursors.aggregates.as_ref(), &p, t("11:59"), s);
        assert_eq!((ends.len(), ends[0]), (60, t("11:01")));
    }

    #[test]
    fn cursor_at_the_newest_row_publishes_nothing() {
        let now = t("12:00") + TimeDelta::seconds(30);
        let cursors = Cursors {
            records: at("11:59"),
            aggregates: at("12:00"),
        };
        let p = plan(&cursors, now, spans());
        let rs = rows("11:54", "11:59");
        assert!(new_records(&rs, cursors.records.as_ref(), &p, t("11:59"), spans()).is_empty());
        assert!(
            new_window_ends(&rs, cursors.aggregates.as_ref(), &p, t("11:59"), spans()).is_empty()
        );
    }

    #[test]
    fn keyed_cursor_resumes_within_a_time() {
        let now = t("12:00") + TimeDelta::seconds(30);
        let s = Spans {
            resolution: TimeDelta::minutes(5),
            ..spans()
        };
        let cursor = Position {
            time: t("11:50"),
            key: Some("DK1".into()),
        };
        let cursors = Cursors {
            records: Some(cursor.clone()),
            aggregates: None,
        };
        let p = plan(&cursors, now, s);
        let mk = |hm: &str, k: &str| Row {
            time: t(hm),
            key: Some(k.into()),
            fields: Map::new(),
            raw: None,
        };
        let rs = vec![
            mk("11:50", "DK1"),
            mk("11:50", "DK2"),
            mk("11:55", "DK1"),
            mk("11:55", "DK2"),
        ];
        let recs = new_records(&rs, Some(&cursor), &p, t("11:55"), s);
        let ids: Vec<String> = recs.iter().map(|r| r.id()).collect();
        assert_eq!(
            ids,
            [
                "2026-11-28T11:50:00Z/DK2",
                "2026-11-28T11:55:00Z/DK1",
                "2026-11-28T11:55:00Z/DK2"
            ]
        );
        let agg_cursor = Position {
            time: t("11:55"),
            key: Some("DK1".into()),
        };
        let ends = new_window_ends(&rs, Some(&agg_cursor), &p, t("11:55"), s);
        assert_eq!(
            ends,
            vec![t("11:55"), t("12:00")],
            "a keyed cursor's own end may have keys left"
        );
    }
}
