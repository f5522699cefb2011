//! `status`'s report, computed from the message keys (and revisions) read
//! from both topics (no Kafka here): per key combination ([`key`]) the
//! newest record and its lag, the records and windows in the period, the
//! latest windows that are incomplete and their missing row times, record
//! times missing between records, corrections and duplicate keys, the
//! longest hole; then the verdict against the [`Limits`], printed as a
//! table or as JSON.

mod key;

use std::collections::BTreeMap;
use std::fmt::Write as _;

use chrono::{DateTime, TimeDelta, Utc};
use serde_json::{json, Value};

use crate::contract::MessageKey;
use crate::time::{format_span, format_utc};

/// What makes a topic unhealthy.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limits {
    /// A key whose newest record is older than this behind `now` is lagging.
    pub max_lag: TimeDelta,
    /// More incomplete windows than this (all keys together) is unhealthy.
    pub max_incomplete: u64,
    /// A key with a longer hole between two records is unhealthy.
    pub max_gap: TimeDelta,
    /// More record times missing between records (all keys together) than
    /// this is unhealthy.
    pub max_missing: u64,
}

pub use key::{KeyHealth, MissingRecords};

/// The verdict: healthy, or the reasons it is not, worst first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Verdict {
    pub reasons: Vec<String>,
}

/// How many reasons the verdict's line names; the rest are counted.
const NAMED: usize = 5;
/// The longest one reason is on the verdict's line.
const REASON_MAX: usize = 300;

impl Verdict {
    pub fn healthy(&self) -> bool {
        self.reasons.is_empty()
    }

    /// The reasons on one line of bounded length: the worst few, each cut,
    /// and how many more (`--format json` lists them all).
    pub fn line(&self) -> String {
        let mut out: Vec<String> = (self.reasons.iter().take(NAMED))
            .map(|r| cut(r, REASON_MAX))
            .collect();
        if self.reasons.len() > NAMED {
            out.push(format!(
                "and {} more (status --format json lists them all)",
                self.reasons.len() - NAMED
            ));
        }
        out.join("; ")
    }
}

/// `text` cut after `max` characters, `...` marking the cut.
fn cut(text: &str, max: usize) -> String {
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}...", &text[..at]),
        None => text.to_string(),
    }
}

/// Everything read in the period `(now - since, now]`.
#[derive(Debug, Clone)]
pub struct Health {
    pub now: DateTime<Utc>,
    pub since: TimeDelta,
    pub resolution: TimeDelta,
    pub keys: BTreeMap<Vec<String>, KeyHealth>,
    /// Whether the records topic is read (`status --records-topic ''`: only
    /// the aggregates are; a key's newest row is then its newest window's).
    pub records_read: bool,
    /// Whether the aggregates topic is read (`--aggregates-topic ''`: not).
    pub aggregates_read: bool,
    /// Messages of ours in the aggregates topic whose value is not a valid
    /// aggregate of their key: never counted as windows. The first few named.
    pub invalid: crate::logging::Tally,
    /// Messages of ours that stop every `publish` (exit 3): a key not of the
    /// dataset's shape, or later than `now` plus one resolution. Counted;
    /// the first few named.
    pub blocking: crate::logging::Tally,
}

impl Health {
    pub fn new(now: DateTime<Utc>, since: TimeDelta, resolution: TimeDelta) -> Health {
        Health {
            now,
            since,
            resolution,
            keys: BTreeMap::new(),
            records_read: true,
            aggregates_read: true,
            invalid: Default::default(),
            blocking: Default::default(),
        }
    }

    /// A message whose key time is later than `now` plus one resolution: a
    /// cursor in the future, which `publish` refuses.
    fn is_future(&mut self, topic: &str, key: &MessageKey) -> bool {
        if !crate::cursor::rule::is_future(key.time, self.now, self.resolution) {
            return false;
        }
        self.blocking.add(format!(
            "the {topic} topic: key '{}' is later than --now plus one resolution",
            crate::text::visible_cut(&key.to_string(), 120)
        ));
        true
    }

    /// Whether a message whose key time is `t` belongs to the period.
    pub fn in_period(&self, t: DateTime<Utc>) -> bool {
        t <= self.now && self.now - t < self.since
    }

    /// A record message's key and revision (outside the period: ignored).
    pub fn record(&mut self, key: MessageKey, revision: u32) {
        if self.is_future("records", &key) || !self.in_period(key.time) {
            return;
        }
        (self.keys.entry(key.key).or_default()).record(key.time, revision);
    }

    /// An aggregate message's key (its window end), revision and the row
    /// times it names missing (outside the period: ignored).
    pub fn aggregate(&mut self, key: MessageKey, revision: u32, missing: Vec<DateTime<Utc>>) {
        if self.is_future("aggregates", &key) || !self.in_period(key.time) {
            return;
        }
        (self.keys.entry(key.key).or_default()).aggregate(key.time, revision, missing);
    }

    /// A key's newest record time; with the records topic not read, the
    /// row its newest window was due with (window end minus a resolution).
    pub fn newest(&self, k: &KeyHealth) -> Option<DateTime<Utc>> {
        if self.records_read {
            return k.newest_record();
        }
        let end = k.newest_window()?;
        Some(end.checked_sub_signed(self.resolution).unwrap_or(end))
    }

    /// A message of ours in the aggregates topic whose value is not a valid
    /// aggregate (`why`), at `offset`: counted as invalid, not as a window.
    pub fn invalid_aggregate(&mut self, key: &MessageKey, offset: i64, why: &str) {
        if self.in_period(key.time) {
            self.invalid.add(format!(
                "offset {offset} (key '{}'): {}",
                crate::text::visible_cut(&key.to_string(), 120),
                crate::text::visible_cut(why, 200)
            ));
        }
    }

    fn lag(&self, k: &KeyHealth) -> Option<TimeDelta> {
        self.newest(k).map(|n| self.now - n)
    }

    /// Healthy when there are records, no key lags beyond `max_lag` or has
    /// a hole longer than `max_gap`, the aggregates keep up with the
    /// records, no key repeats, every aggregate read is valid, and at most
    /// `max_incomplete` windows are incomplete. The reasons come worst first:
    /// the topics' own, then the keys' by how far each is off.
    pub fn verdict(&self, limits: &Limits) -> Verdict {
        let mut reasons = self.topic_reasons(limits);
        let mut by_key: Vec<(TimeDelta, String)> = Vec::new();
        for (key, k) in &self.keys {
            self.lag_reason(key, k, limits, &mut by_key);
            self.gap_reason(key, k, limits, &mut by_key);
            self.aggregates_reason(key, k, &mut by_key);
        }
        by_key.sort_by_key(|b| std::cmp::Reverse(b.0));
        reasons.extend(by_key.into_iter().map(|(_, r)| r));
        Verdict { reasons }
    }

    /// What is wrong with the topics as a whole.
    fn topic_reasons(&self, limits: &Limits) -> Vec<String> {
        let mut reasons = Vec::new();
        let since = format_span(self.since);
        let what = if self.records_read {
            "records"
        } else {
            "aggregates"
        };
        if !(self.keys.values()).any(|k| k.records() > 0 || (!self.records_read && k.windows() > 0))
        {
            reasons.push(format!("no {what} within the last {since}"));
        }
        if let Some(line) = self
            .blocking
            .summary("of ours that stop every publish run (exit 3)")
        {
            reasons.push(format!(
                "{line}; publish into new topics, or delete the topic's messages from there on"
            ));
        }
        if let Some(line) = self
            .invalid
            .summary("in the aggregates topic that are not valid aggregates (not counted)")
        {
            reasons.push(line);
        }
        self.count_reasons(limits, &mut reasons);
        reasons
    }

    /// Duplicates, and more incomplete windows or missing record times
    /// (all keys together) than the limits allow.
    fn count_reasons(&self, limits: &Limits, reasons: &mut Vec<String>) {
        let duplicates: u64 = self.keys.values().map(|k| k.duplicates).sum();
        if duplicates > 0 {
            reasons.push(format!("{duplicates} duplicate key(s)"));
        }
        let incomplete = self.incomplete();
        if incomplete > limits.max_incomplete {
            reasons.push(format!(
                "{incomplete} incomplete window(s) (more than --max-incomplete {})",
                limits.max_incomplete
            ));
        }
        let (missing, named) = self.missing_records();
        if missing > limits.max_missing {
            reasons.push(format!(
                "{missing} record time(s) missing between records of the same key \
                 (more than --max-missing {}): {}{}",
                limits.max_missing,
                named.join(", "),
                if missing > named.len() as u64 {
                    ", ..."
                } else {
                    ""
                }
            ));
        }
    }

    /// Windows whose latest aggregate is incomplete, all keys together.
    fn incomplete(&self) -> u64 {
        self.keys.values().map(KeyHealth::incomplete).sum()
    }

    /// Record times missing between records, all keys together, and the
    /// first few named with their key.
    fn missing_records(&self) -> (u64, Vec<String>) {
        let mut count = 0u64;
        let mut named = Vec::new();
        for (key, k) in &self.keys {
            let missing = k.missing_records(self.resolution);
            count = count.saturating_add(missing.count);
            for t in missing.first {
                if named.len() < key::NAMED_MISSING {
                    named.push(format!("{} {}", crate::text::key(key), format_utc(t)));
                }
            }
        }
        (count, named)
    }

    /// A key whose newest record (or window's row) is older than `--max-lag`.
    fn lag_reason(
        &self,
        key: &[String],
        k: &KeyHealth,
        limits: &Limits,
        out: &mut Vec<(TimeDelta, String)>,
    ) {
        let since = format_span(self.since);
        let newest = if self.records_read {
            "record"
        } else {
            "window's row"
        };
        match self.lag(k) {
            Some(lag) if lag > limits.max_lag => out.push((
                lag,
                format!(
                    "{}: newest {newest} {} is {} old (more than --max-lag {})",
                    crate::text::key(key),
                    format_utc(self.newest(k).unwrap_or(self.now)),
                    format_span(lag),
                    format_span(limits.max_lag)
                ),
            )),
            None => out.push((
                self.since,
                format!(
                    "{}: aggregates but no record within the last {since}",
                    crate::text::key(key)
                ),
            )),
            _ => {}
        }
    }

    /// A key with a hole between two records longer than `--max-gap`.
    fn gap_reason(
        &self,
        key: &[String],
        k: &KeyHealth,
        limits: &Limits,
        out: &mut Vec<(TimeDelta, String)>,
    ) {
        if let Some(gap) = k
            .largest_gap(self.resolution)
            .filter(|g| *g > limits.max_gap)
        {
            out.push((
                gap,
                format!(
                    "{}: a hole of {} between two records (more than --max-gap {})",
                    crate::text::key(key),
                    format_span(gap),
                    format_span(limits.max_gap)
                ),
            ));
        }
    }

    /// A key whose aggregates do not keep up with its records: none in the
    /// period, or the newest window's row more than one resolution (a run
    /// in progress) behind the newest record.
    fn aggregates_reason(&self, key: &[String], k: &KeyHealth, out: &mut Vec<(TimeDelta, String)>) {
        let (Some(record), true, true) =
            (k.newest_record(), self.records_read, self.aggregates_read)
        else {
            return;
        };
        let due = record.checked_add_signed(self.resolution).unwrap_or(record);
        let shown = crate::text::key(key);
        match k.newest_window() {
            None => out.push((
                self.since,
                format!(
                    "{shown}: records up to {} but no aggregate within the last {}",
                    format_utc(record),
                    format_span(self.since)
                ),
            )),
            Some(end) if due - end > self.resolution => out.push((
                due - end,
                format!(
                    "{shown}: the aggregates are behind the records: newest window ends {}, \
                     the newest record ({}) is due in the window ending {} ({} behind)",
                    format_utc(end),
                    format_utc(record),
                    format_utc(due),
                    format_span(due - end)
                ),
            )),
            _ => {}
        }
    }

    /// The summary line: `healthy: ...` or `UNHEALTHY: reason; reason`.
    pub fn summary(&self, limits: &Limits) -> String {
        let verdict = self.verdict(limits);
        if !verdict.healthy() {
            return format!("UNHEALTHY: {}", verdict.line());
        }
        let worst = self.keys.values().filter_map(|k| self.lag(k)).max();
        let windows: u64 = self.keys.values().map(KeyHealth::windows).sum();
        let corrections: u64 = self.keys.values().map(|k| k.corrections).sum();
        let gap = (self.keys.values())
            .filter_map(|k| k.largest_gap(self.resolution))
            .max();
        format!(
            "healthy: {} key combination(s), largest lag {} (max {}), largest gap {} (max {}), \
             {} record time(s) missing (max {}), no duplicates, {corrections} correction(s), \
             {} of {windows} window(s) incomplete (max {})",
            self.keys.len(),
            worst.map_or("-".to_string(), format_span),
            format_span(limits.max_lag),
            gap.map_or("-".to_string(), format_span),
            format_span(limits.max_gap),
            self.missing_records().0,
            limits.max_missing,
            self.incomplete(),
            limits.max_incomplete
        )
    }

    /// The human table: one line per key combination, then the summary.
    pub fn table(&self, limits: &Limits) -> String {
        let mut out = format!(
            "{:<24} {:<20} {:>8} {:>7} {:>7} {:>11} {:>7} {:>10} {:>10} {:>8}\n",
            "key",
            "newest",
            "lag",
            "records",
            "missing",
            "corrections",
            "windows",
            "incomplete",
            "duplicates",
            "gap"
        );
        for (key, k) in &self.keys {
            let _ = writeln!(
                out,
                "{:<24} {:<20} {:>8} {:>7} {:>7} {:>11} {:>7} {:>10} {:>10} {:>8}",
                crate::text::key(key),
                self.newest(k).map_or("-".to_string(), format_utc),
                self.lag(k).map_or("-".to_string(), format_span),
                k.records(),
                k.missing_records(self.resolution).count,
                k.corrections,
                k.windows(),
                k.incomplete(),
                k.duplicates,
                k.largest_gap(self.resolution)
                    .map_or("-".to_string(), format_span)
            );
        }
        out.push_str(&self.summary(limits));
        out.push('\n');
        out
    }

    /// The report as one JSON object (spans in seconds).
    pub fn json(&self, limits: &Limits) -> Value {
        let verdict = self.verdict(limits);
        let keys: Vec<Value> = (self.keys.iter())
            .map(|(key, k)| self.key_json(key, k))
            .collect();
        json!({
            "healthy": verdict.healthy(),
            "reasons": verdict.reasons,
            "summary": self.summary(limits),
            "now": format_utc(self.now),
            "since_seconds": self.since.num_seconds(),
            "max_lag_seconds": limits.max_lag.num_seconds(),
            "max_incomplete": limits.max_incomplete,
            "max_gap_seconds": limits.max_gap.num_seconds(),
            "max_missing": limits.max_missing,
            "keys": keys,
        })
    }

    /// One key combination's figures: `missing` are the row times its
    /// latest windows name, `missing_record_times` the first few record
    /// times missing between its records (`missing_records` of them).
    fn key_json(&self, key: &[String], k: &KeyHealth) -> Value {
        let times = |t: &mut dyn Iterator<Item = DateTime<Utc>>| -> Vec<String> {
            t.map(format_utc).collect()
        };
        let missing = k.missing_records(self.resolution);
        json!({
            "key": key,
            "newest": self.newest(k).map(format_utc),
            "lag_seconds": self.lag(k).map(|l| l.num_seconds()),
            "records": k.records(),
            "missing_records": missing.count,
            "missing_record_times": times(&mut missing.first.into_iter()),
            "corrections": k.corrections,
            "windows": k.windows(),
            "incomplete_windows": k.incomplete(),
            "missing": times(&mut k.missing_in_windows().into_iter()),
            "duplicates": k.duplicates,
            "largest_gap_seconds": k.largest_gap(self.resolution).map(|g| g.num_seconds()),
        })
    }
}

#[cfg(test)]
mod tests;
