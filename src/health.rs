//! `status`'s report, computed from the message keys read from both topics
//! (no Kafka here): per key combination the newest record and its lag, the
//! records and windows in the period, incomplete windows and their missing
//! row times, duplicate keys and the longest hole between records; then the
//! verdict against the [`Limits`], printed as a table or as JSON.

use std::collections::{BTreeMap, BTreeSet};
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
}

/// One key combination's figures over the period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyHealth {
    /// The newest record time (`None`: aggregates only).
    pub newest: Option<DateTime<Utc>>,
    pub records: u64,
    pub windows: u64,
    /// Windows whose aggregate names missing rows.
    pub incomplete: u64,
    /// The row times those windows name (each once).
    pub missing: BTreeSet<DateTime<Utc>>,
    /// Messages whose key (time and key values) was read before in the same topic.
    pub duplicates: u64,
    /// The newest window end read (`None`: no aggregate).
    pub newest_window: Option<DateTime<Utc>>,
    record_times: BTreeSet<DateTime<Utc>>,
    window_ends: BTreeSet<DateTime<Utc>>,
}

impl KeyHealth {
    /// The longest span between two consecutive records beyond one
    /// `resolution` (a hole in the data); `None` without one.
    pub fn largest_gap(&self, resolution: TimeDelta) -> Option<TimeDelta> {
        let times: Vec<_> = self.record_times.iter().collect();
        times
            .windows(2)
            .map(|w| *w[1] - *w[0] - resolution)
            .filter(|g| *g > TimeDelta::zero())
            .max()
    }
}

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

    /// A record message's key (outside the period: ignored).
    pub fn record(&mut self, key: MessageKey) {
        if self.is_future("records", &key) || !self.in_period(key.time) {
            return;
        }
        let k = self.keys.entry(key.key).or_default();
        if !k.record_times.insert(key.time) {
            k.duplicates += 1;
            return;
        }
        k.records += 1;
        k.newest = k.newest.max(Some(key.time));
    }

    /// An aggregate message's key (its window end) and the row times it
    /// names missing (outside the period: ignored).
    pub fn aggregate(&mut self, key: MessageKey, missing: Vec<DateTime<Utc>>) {
        if self.is_future("aggregates", &key) || !self.in_period(key.time) {
            return;
        }
        let k = self.keys.entry(key.key).or_default();
        if !k.window_ends.insert(key.time) {
            k.duplicates += 1;
            return;
        }
        k.windows += 1;
        k.newest_window = k.newest_window.max(Some(key.time));
        if !self.records_read {
            // The window ending at `t` is due with the row at `t - resolution`.
            let row = key
                .time
                .checked_sub_signed(self.resolution)
                .unwrap_or(key.time);
            k.newest = k.newest.max(Some(row));
        }
        if !missing.is_empty() {
            k.incomplete += 1;
            k.missing.extend(missing);
        }
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
        k.newest.map(|n| self.now - n)
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
        if !(self.keys.values()).any(|k| k.records > 0 || (!self.records_read && k.windows > 0)) {
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
        let duplicates: u64 = self.keys.values().map(|k| k.duplicates).sum();
        if duplicates > 0 {
            reasons.push(format!("{duplicates} duplicate key(s)"));
        }
        let incomplete: u64 = self.keys.values().map(|k| k.incomplete).sum();
        if incomplete > limits.max_incomplete {
            reasons.push(format!(
                "{incomplete} incomplete window(s) (more than --max-incomplete {})",
                limits.max_incomplete
            ));
        }
        reasons
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
                    format_utc(k.newest.unwrap_or(self.now)),
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
        let (Some(record), true, true) = (k.newest, self.records_read, self.aggregates_read) else {
            return;
        };
        let due = record.checked_add_signed(self.resolution).unwrap_or(record);
        let shown = crate::text::key(key);
        match k.newest_window {
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
        let windows: u64 = self.keys.values().map(|k| k.windows).sum();
        let incomplete: u64 = self.keys.values().map(|k| k.incomplete).sum();
        let gap = (self.keys.values())
            .filter_map(|k| k.largest_gap(self.resolution))
            .max();
        format!(
            "healthy: {} key combination(s), largest lag {} (max {}), largest gap {} (max {}), \
             no duplicates, {incomplete} of {windows} window(s) incomplete (max {})",
            self.keys.len(),
            worst.map_or("-".to_string(), format_span),
            format_span(limits.max_lag),
            gap.map_or("-".to_string(), format_span),
            format_span(limits.max_gap),
            limits.max_incomplete
        )
    }

    /// The human table: one line per key combination, then the summary.
    pub fn table(&self, limits: &Limits) -> String {
        let mut out = format!(
            "{:<24} {:<20} {:>8} {:>7} {:>7} {:>10} {:>7} {:>10} {:>8}\n",
            "key",
            "newest",
            "lag",
            "records",
            "windows",
            "incomplete",
            "missing",
            "duplicates",
            "gap"
        );
        for (key, k) in &self.keys {
            let _ = writeln!(
                out,
                "{:<24} {:<20} {:>8} {:>7} {:>7} {:>10} {:>7} {:>10} {:>8}",
                crate::text::key(key),
                k.newest.map_or("-".to_string(), format_utc),
                self.lag(k).map_or("-".to_string(), format_span),
                k.records,
                k.windows,
                k.incomplete,
                k.missing.len(),
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
        let keys: Vec<Value> = self
            .keys
            .iter()
            .map(|(key, k)| {
                json!({
                    "key": key,
                    "newest": k.newest.map(format_utc),
                    "lag_seconds": self.lag(k).map(|l| l.num_seconds()),
                    "records": k.records,
                    "windows": k.windows,
                    "incomplete_windows": k.incomplete,
                    "missing": k.missing.iter().map(|t| format_utc(*t)).collect::<Vec<_>>(),
                    "duplicates": k.duplicates,
                    "largest_gap_seconds": k.largest_gap(self.resolution).map(|g| g.num_seconds()),
                })
            })
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
            "keys": keys,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_utc;

    fn t(text: &str) -> DateTime<Utc> {
        parse_utc(text).unwrap()
    }

    fn key(time: &str, k: &str) -> MessageKey {
        MessageKey::new(t(time), &[k.to_string()])
    }

    const LIMITS: Limits = Limits {
        max_lag: TimeDelta::minutes(30),
        max_incomplete: 0,
        max_gap: TimeDelta::minutes(30),
    };

    /// Records alone (the aggregates topic not read), unless a test says so.
    fn health() -> Health {
        let mut h = Health::new(
            t("2026-11-28T12:00:30"),
            TimeDelta::hours(24),
            TimeDelta::minutes(1),
        );
        h.aggregates_read = false;
        h
    }

    /// The aggregates must keep up with the records: none in the period,
    /// or more than one resolution behind, is unhealthy with its own reason.
    #[test]
    fn aggregates_behind_or_missing_while_records_are_current_are_unhealthy() {
        let mut h = health();
        h.aggregates_read = true;
        for m in ["11:57", "11:58", "11:59"] {
            h.record(key(&format!("2026-11-28T{m}:00"), "DK1"));
            h.record(key(&format!("2026-11-28T{m}:00"), "DK2"));
        }
        // DK1: one run in progress (its 12:00 window not yet written).
        h.aggregate(key("2026-11-28T11:59:00", "DK1"), vec![]);
        assert_eq!(
            h.verdict(&LIMITS).reasons,
            ["DK2: records up to 2026-11-28T11:59:00Z but no aggregate within the last 1d"]
        );
        h.aggregate(key("2026-11-28T11:40:00", "DK2"), vec![]);
        let v = h.verdict(&LIMITS);
        assert_eq!(v.reasons.len(), 1, "{v:?}");
        assert!(v.reasons[0].starts_with("DK2: the aggregates are behind the records: newest window ends 2026-11-28T11:40:00Z"), "{v:?}");
        assert!(v.reasons[0].ends_with("(20m behind)"), "{v:?}");
        h.aggregate(key("2026-11-28T12:00:00", "DK2"), vec![]);
        assert!(h.verdict(&LIMITS).healthy());
    }

    /// A value that is not a valid aggregate is counted as invalid, named,
    /// and never as a (complete) window.
    #[test]
    fn invalid_aggregates_are_named_and_not_counted() {
        let mut h = health();
        h.record(key("2026-11-28T11:59:00", "DK1"));
        h.aggregate(key("2026-11-28T12:00:00", "DK1"), vec![]);
        h.invalid_aggregate(&key("2026-11-28T11:59:00", "DK1"), 7, "not JSON");
        let k = &h.keys[&vec!["DK1".to_string()]];
        assert_eq!(k.windows, 1);
        assert_eq!(
            h.verdict(&LIMITS).reasons,
            ["1 message(s) in the aggregates topic that are not valid aggregates (not counted): \
              offset 7 (key '2026-11-28T11:59:00Z/DK1'): not JSON"]
        );
    }

    /// 3,000 lagging keys made one 246 KB line: the line names the worst
    /// five and counts the rest; JSON keeps every reason.
    #[test]
    fn a_verdict_with_thousands_of_reasons_is_one_bounded_line() {
        let mut h = health();
        for i in 0..3000 {
            let minute = format!("2026-11-28T{:02}:{:02}:00", 1 + i % 10, i % 60);
            h.record(key(&minute, &format!("K{i}\x1b[2J")));
        }
        let line = h.summary(&LIMITS);
        assert!(line.len() < 2000, "{} bytes", line.len());
        assert!(
            line.contains("and 2995 more (status --format json lists them all)"),
            "{line}"
        );
        assert!(
            !line.contains('\x1b') && line.contains("\\x1b[2J"),
            "{line}"
        );
        // The worst first: the oldest newest record (01:00 and 01:01 keys).
        assert!(
            line.starts_with("UNHEALTHY: K0\\x1b[2J: newest record 2026-11-28T01:00:00Z"),
            "{line}"
        );
        assert_eq!(h.json(&LIMITS)["reasons"].as_array().unwrap().len(), 3000);
        assert!(!h.table(&LIMITS).contains('\x1b'));
    }

    #[test]
    fn a_complete_recent_key_is_healthy() {
        let mut h = health();
        for m in ["11:57", "11:58", "11:59"] {
            h.record(key(&format!("2026-11-28T{m}:00"), "DK1"));
        }
        h.aggregate(key("2026-11-28T12:00:00", "DK1"), vec![]);
        let k = &h.keys[&vec!["DK1".to_string()]];
        assert_eq!(
            (k.records, k.windows, k.incomplete, k.duplicates),
            (3, 1, 0, 0)
        );
        assert_eq!(k.newest, Some(t("2026-11-28T11:59:00")));
        assert_eq!(k.largest_gap(h.resolution), None);
        assert!(h.verdict(&LIMITS).healthy(), "{:?}", h.verdict(&LIMITS));
        assert!(h
            .summary(&LIMITS)
            .starts_with("healthy: 1 key combination(s), largest lag 1m30s"));
        assert_eq!(h.json(&LIMITS)["keys"][0]["lag_seconds"], 90);
    }

    #[test]
    fn lag_duplicates_and_incomplete_windows_each_make_it_unhealthy() {
        let mut h = health();
        h.record(key("2026-11-28T11:00:00", "DK1"));
        h.record(key("2026-11-28T11:20:00", "DK1"));
        let v = h.verdict(&LIMITS);
        assert_eq!(v.reasons.len(), 1, "{v:?}");
        assert!(v.reasons[0].contains("40m30s old"), "{v:?}");
        assert_eq!(
            h.keys[&vec!["DK1".to_string()]].largest_gap(h.resolution),
            Some(TimeDelta::minutes(19))
        );

        let mut h = health();
        h.record(key("2026-11-28T11:59:00", "DK1"));
        h.record(key("2026-11-28T11:59:00", "DK1"));
        h.aggregate(
            key("2026-11-28T12:00:00", "DK1"),
            vec![t("2026-11-28T11:57:00")],
        );
        let k = &h.keys[&vec!["DK1".to_string()]];
        assert_eq!(
            (k.records, k.duplicates, k.incomplete, k.missing.len()),
            (1, 1, 1, 1)
        );
        let v = h.verdict(&LIMITS);
        assert_eq!(v.reasons.len(), 2, "{v:?}");
        let lenient = Limits {
            max_incomplete: 1,
            ..LIMITS
        };
        assert_eq!(h.verdict(&lenient).reasons, ["1 duplicate key(s)"]);
        assert!(h.summary(&lenient).starts_with("UNHEALTHY: 1 duplicate"));
    }

    /// A hole a run skipped (downtime longer than --max-catch-up) was only in
    /// the table's gap column: the verdict said healthy.
    #[test]
    fn a_hole_longer_than_max_gap_is_unhealthy() {
        let mut h = health();
        for m in ["10:00", "10:01", "11:32", "11:58", "11:59"] {
            h.record(key(&format!("2026-11-28T{m}:00"), "DK1"));
        }
        let v = h.verdict(&LIMITS);
        assert_eq!(
            v.reasons,
            ["DK1: a hole of 1h30m between two records (more than --max-gap 30m)"]
        );
        assert_eq!(h.json(&LIMITS)["max_gap_seconds"], 1800);
        let lenient = Limits {
            max_gap: TimeDelta::hours(2),
            ..LIMITS
        };
        assert!(h.verdict(&lenient).healthy());
        assert!(
            h.summary(&lenient).contains("largest gap 1h30m (max 2h)"),
            "{}",
            h.summary(&lenient)
        );
    }

    /// A message of ours from the future stops every publish run (exit 3):
    /// status said healthy until the lag passed --max-lag.
    #[test]
    fn a_message_publish_refuses_is_unhealthy_at_once() {
        let mut h = health();
        h.record(key("2026-11-28T11:59:00", "DK1"));
        h.record(key("2026-11-28T12:01:00", "DK1"));
        assert!(h.verdict(&LIMITS).healthy(), "within one resolution");
        h.record(key("2026-11-29T12:00:00", "DK1"));
        let v = h.verdict(&LIMITS);
        assert_eq!(v.reasons.len(), 1, "{v:?}");
        assert!(
            v.reasons[0].starts_with("1 message(s) of ours that stop every publish run (exit 3): the records topic: key '2026-11-29T12:00:00Z/DK1' is later than --now"),
            "{v:?}"
        );
    }

    /// `status --records-topic ''` (a deployment that publishes only
    /// aggregates): was refused; a key's newest row is its newest window's.
    #[test]
    fn aggregates_alone_are_judged_by_their_windows() {
        let mut h = health();
        h.records_read = false;
        h.aggregate(key("2026-11-28T12:00:00", "DK1"), vec![]);
        assert!(h.verdict(&LIMITS).healthy(), "{:?}", h.verdict(&LIMITS));
        assert_eq!(h.json(&LIMITS)["keys"][0]["lag_seconds"], 90);
        let mut old = health();
        old.records_read = false;
        old.aggregate(key("2026-11-28T11:00:00", "DK1"), vec![]);
        assert_eq!(
            old.verdict(&LIMITS).reasons,
            ["DK1: newest window's row 2026-11-28T10:59:00Z is 1h1m30s old (more than --max-lag 30m)"]
        );
        let mut none = health();
        none.records_read = false;
        assert_eq!(
            none.verdict(&LIMITS).reasons,
            ["no aggregates within the last 1d"]
        );
    }

    #[test]
    fn nothing_in_the_period_is_unhealthy_and_old_messages_are_ignored() {
        let mut h = health();
        h.record(key("2026-11-27T12:00:00", "DK1"));
        h.record(key("2026-11-28T12:01:00", "DK1"));
        assert!(h.keys.is_empty());
        assert_eq!(
            h.verdict(&LIMITS).reasons,
            ["no records within the last 1d"]
        );
        h.aggregate(key("2026-11-28T12:00:00", "DK2"), vec![]);
        assert_eq!(h.verdict(&LIMITS).reasons.len(), 2);
        assert!(h.table(&LIMITS).contains("DK2"));
    }
}
