//! A run's plan, pure arithmetic over the cursors and the run's spans: what
//! `publish` fetches (the trailing `--max-catch-up`) and what `backfill`
//! fetches (`--from` .. `--to`), both ending in the same [`Rules`], one
//! [`Published`] per topic (see [`super::rule`]). No `± resolution` or
//! `--max-catch-up` arithmetic lives anywhere else.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, Utc};

pub use super::rule::{Cursors, Published, Seen, TailSpan, TopicCursor};
use crate::contract::MessageKey;
use crate::time::{floor, format_span, format_utc};

/// `--max-catch-up`'s default; a backfill reads the topics' tails as far back
/// as `publish` does with it.
pub const DEFAULT_MAX_CATCH_UP: &str = "6h";

/// [`DEFAULT_MAX_CATCH_UP`] as a span.
pub fn default_max_catch_up() -> TimeDelta {
    crate::time::parse_duration(DEFAULT_MAX_CATCH_UP)
        .ok()
        .and_then(|d| TimeDelta::from_std(d).ok())
        .expect("the default --max-catch-up is a valid span")
}

/// The spans a plan needs.
#[derive(Debug, Clone, Copy)]
pub struct Spans {
    pub resolution: TimeDelta,
    pub window: TimeDelta,
    pub max_lag: TimeDelta,
    pub max_catch_up: TimeDelta,
    /// How far a key combination may trail the topic's newest one and still
    /// be fetched (`--max-key-lateness`).
    pub max_key_lateness: TimeDelta,
}

impl Spans {
    /// A backfill's spans: it has no `--max-lag`, and reads the tails as far
    /// back as `publish` with the default `--max-catch-up`.
    pub fn backfill(resolution: TimeDelta, window: TimeDelta) -> Spans {
        Spans {
            resolution,
            window,
            max_lag: TimeDelta::zero(),
            max_catch_up: default_max_catch_up(),
            max_key_lateness: default_max_catch_up(),
        }
    }

    /// How far back from a topic's newest message `publish` reads its tail:
    /// every key combination published within `--max-key-lateness` (or
    /// `--max-catch-up`, the shorter) and a window is found; keys further
    /// behind could not be published anyway. Each run publishes nothing
    /// older than its horizon (see [`plan`]), which bounds the slack.
    pub fn tail(&self) -> TailSpan {
        let reach = self.max_catch_up.min(self.max_key_lateness);
        TailSpan {
            complete: reach + self.window + self.resolution,
            slack: reach + self.resolution,
        }
    }

    /// A backfill's tail: as far back as `publish` with the default
    /// `--max-catch-up` (no slack: a backfill runs before `publish` does).
    pub fn backfill_tail(&self) -> TailSpan {
        TailSpan {
            complete: self.max_catch_up + self.window + self.resolution,
            slack: TimeDelta::zero(),
        }
    }
}

/// One topic's bounds in a `publish` run (times are row times for records,
/// window ends for aggregates).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bounds {
    /// Nothing before this is new: the newest key's time minus
    /// `--max-key-lateness`, but not before the `--max-catch-up` range.
    pub horizon: DateTime<Utc>,
    /// The first time this run needs: the oldest key's next time, at or after
    /// `horizon`.
    pub first: DateTime<Utc>,
    /// A key combination not in the cursor is new from here on.
    pub unseen_from: DateTime<Utc>,
}

/// A key combination the fetch leaves behind: its next time is before the
/// topic's horizon, so `first ..= last` are skipped (warned and counted).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Behind {
    pub topic: String,
    pub key: Vec<String>,
    pub first: DateTime<Utc>,
    pub last: DateTime<Utc>,
}

/// What one `publish` run fetches and may publish.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Plan {
    /// The fetch covers `[fetch_from, limit)`.
    pub fetch_from: DateTime<Utc>,
    /// Rows at or after this are incomplete: `--now` floored to the resolution.
    pub limit: DateTime<Utc>,
    /// The oldest row time (or window's newest row time) that may be
    /// published: `limit - max_catch_up`.
    pub publish_from: DateTime<Utc>,
    /// What a gap longer than `--max-catch-up` skips, per topic: the first and
    /// the last row time (records) or window end (aggregates) left out.
    pub skipped: Vec<(String, DateTime<Utc>, DateTime<Utc>)>,
    /// Key combinations more than `--max-key-lateness` behind their topic's
    /// newest (when the topic itself is inside the catch-up range).
    pub behind: Vec<Behind>,
    /// Each non-empty topic's bounds.
    pub records: Option<Bounds>,
    pub aggregates: Option<Bounds>,
}

fn minus(t: DateTime<Utc>, d: TimeDelta) -> DateTime<Utc> {
    t.checked_sub_signed(d).unwrap_or(DateTime::<Utc>::MIN_UTC)
}

fn plus(t: DateTime<Utc>, d: TimeDelta) -> DateTime<Utc> {
    t.checked_add_signed(d).unwrap_or(DateTime::<Utc>::MAX_UTC)
}

/// One topic's part of the plan: its bounds (`None` for an empty topic),
/// the whole-topic gap beyond `earliest` (the catch-up range's first time),
/// and the keys behind the horizon.
struct TopicPlan {
    bounds: Option<Bounds>,
    skipped: Option<(String, DateTime<Utc>, DateTime<Utc>)>,
    behind: Vec<Behind>,
}

fn topic_plan(c: &TopicCursor, earliest: DateTime<Utc>, s: Spans) -> TopicPlan {
    let res = s.resolution;
    let (Some(newest), Some(oldest)) = (c.newest(), c.oldest()) else {
        return TopicPlan {
            bounds: None,
            skipped: None,
            behind: Vec::new(),
        };
    };
    let by_lateness = floor(minus(plus(newest, res), s.max_key_lateness), res);
    let horizon = by_lateness.max(earliest);
    let first = plus(oldest, res).max(horizon);
    // Where a key not in the cursor may start is known once the fetch is
    // planned (see `plan`); until then, where the read stopped.
    let bounds = Some(Bounds {
        horizon,
        first,
        unseen_from: c.complete_since.map_or(horizon, |t| t.max(horizon)),
    });
    if plus(newest, res) < earliest {
        // The whole topic is behind the catch-up range: one gap, from its oldest key.
        let gap = (c.topic.clone(), plus(oldest, res), minus(earliest, res));
        return TopicPlan {
            bounds,
            skipped: Some(gap),
            behind: Vec::new(),
        };
    }
    let behind = (c.last.iter())
        .filter(|(_, seen)| plus(seen.time, res) < horizon)
        .map(|(key, seen)| Behind {
            topic: c.topic.clone(),
            key: key.clone(),
            first: plus(seen.time, res),
            last: minus(horizon, res),
        })
        .collect();
    TopicPlan {
        bounds,
        skipped: None,
        behind,
    }
}

/// Plans a run at `now` from the cursors: each topic is fetched from its
/// oldest key's next time, but not from before the newest key's time minus
/// `--max-key-lateness` (keys further behind are listed in `behind`) nor
/// from before the `--max-catch-up` range (a whole topic behind it is
/// listed in `skipped`).
pub fn plan(cursors: &Cursors, now: DateTime<Utc>, s: Spans) -> Plan {
    let res = s.resolution;
    let limit = floor(now, res);
    let publish_from = floor(minus(limit, s.max_catch_up), res);
    // An empty topic gets each key's current window: rows up to --max-lag back.
    let fresh_start = minus(minus(limit, s.max_lag), s.window);
    let records = cursors
        .records
        .as_ref()
        .map(|c| topic_plan(c, publish_from, s));
    // The aggregate ending at `t` is due with the row at `t - resolution`.
    let aggregates = (cursors.aggregates.as_ref()).map(|c| topic_plan(c, publish_from + res, s));
    let records_from = records
        .as_ref()
        .map_or(limit, |p| p.bounds.map_or(fresh_start, |b| b.first));
    // The first new aggregate's window reaches `window` back from its end.
    let aggregates_from = aggregates.as_ref().map_or(limit, |p| {
        p.bounds.map_or(fresh_start, |b| minus(b.first, s.window))
    });
    // A key combination not published yet (keyed topics only) is found as in
    // an empty topic: rows up to --max-lag back.
    let discover = |c: &Option<TopicCursor>| {
        c.as_ref()
            .filter(|c| c.complete_since != Some(DateTime::<Utc>::MAX_UTC))
            .map_or(limit, |_| fresh_start)
    };
    let fetch_from = floor(
        records_from
            .min(aggregates_from)
            .min(discover(&cursors.records).min(discover(&cursors.aggregates)))
            .max(minus(publish_from, s.window))
            .min(minus(limit, s.window)),
        res,
    );
    // Such a key is new in what the fetch covers: its rows, and its windows
    // that lie wholly inside the fetch.
    let bounds = |p: &Option<TopicPlan>, fetched: DateTime<Utc>| {
        let mut b = p.as_ref().and_then(|p| p.bounds)?;
        b.unseen_from = b.unseen_from.max(fetched);
        Some(b)
    };
    let records_bounds = bounds(&records, fetch_from);
    let aggregates_bounds = bounds(&aggregates, plus(fetch_from, s.window));
    let (mut skipped, mut behind) = (Vec::new(), Vec::new());
    for p in records.into_iter().chain(aggregates) {
        skipped.extend(p.skipped);
        behind.extend(p.behind);
    }
    Plan {
        fetch_from,
        limit,
        publish_from,
        skipped,
        behind,
        records: records_bounds,
        aggregates: aggregates_bounds,
    }
}

impl Plan {
    /// The rule for the records topic: `[horizon, limit)`, after the
    /// cursor; an empty topic gets each key's current window, which ends
    /// after the key's newest row (`newest`: each key's newest row time).
    pub fn records(
        &self,
        cursor: &TopicCursor,
        newest: &BTreeMap<Vec<String>, DateTime<Utc>>,
        s: Spans,
    ) -> Published {
        match self.records.filter(|_| !cursor.is_empty()) {
            Some(b) => Published::after(cursor, b.horizon, b.unseen_from, self.limit),
            None => {
                let after = newest
                    .iter()
                    .map(|(k, t)| (k.clone(), minus(*t, s.window)))
                    .collect();
                Published::fresh(after, self.publish_from, self.limit)
            }
        }
    }

    /// The rule for the aggregates topic, in window ends: one per row time
    /// in `[horizon, limit + resolution)`, after the cursor; an empty topic
    /// gets each key's newest window.
    pub fn aggregates(
        &self,
        cursor: &TopicCursor,
        newest: &BTreeMap<Vec<String>, DateTime<Utc>>,
        s: Spans,
    ) -> Published {
        let until = self.limit + s.resolution;
        match self.aggregates.filter(|_| !cursor.is_empty()) {
            Some(b) => Published::after(cursor, b.horizon, b.unseen_from, until),
            None => Published::fresh(newest.clone(), self.publish_from + s.resolution, until),
        }
    }
}

/// The rule for each topic a run writes (`None`: the topic is not written).
#[derive(Debug, Clone)]
pub struct Rules {
    pub records: Option<Published>,
    pub aggregates: Option<Published>,
}

impl Plan {
    /// Both topics' rules for this `publish` run (`newest`: each key's newest
    /// row time, for an empty topic).
    pub fn rules(
        &self,
        cursors: &Cursors,
        newest: &BTreeMap<Vec<String>, DateTime<Utc>>,
        s: Spans,
    ) -> Rules {
        Rules {
            records: cursors.records.as_ref().map(|c| self.records(c, newest, s)),
            aggregates: (cursors.aggregates.as_ref()).map(|c| self.aggregates(c, newest, s)),
        }
    }
}

/// What one `backfill` of `[from, to)` fetches and publishes.
#[derive(Debug, Clone)]
pub struct Range {
    /// The earliest row time some topic still needs (at least `from`).
    pub start: DateTime<Utc>,
    /// The fetch begins here: a window's worth of rows before `start`, as
    /// context for the first aggregates.
    pub context: DateTime<Utc>,
    /// Every row in `[from, to)` after its key's cursor, and every aggregate
    /// due with such a row (an empty topic takes them all).
    pub rules: Rules,
}

/// Plans a backfill of `[from, to)` from the cursors: the same rule as
/// [`plan`], over the range given instead of the trailing `--max-catch-up`.
pub fn plan_range(cursors: &Cursors, from: DateTime<Utc>, to: DateTime<Utc>, s: Spans) -> Range {
    let res = s.resolution;
    let records = cursors
        .records
        .as_ref()
        .map(|c| c.resume(res, from).unwrap_or(from));
    // The aggregate ending at `t` is due with the row at `t - resolution`.
    let aggregates = cursors
        .aggregates
        .as_ref()
        .map(|c| c.resume(res, from + res).map_or(from, |end| end - res));
    let start = records
        .into_iter()
        .chain(aggregates)
        .min()
        .unwrap_or(to)
        .max(from);
    Range {
        start,
        context: start - s.window + res,
        rules: Rules {
            records: cursors
                .records
                .as_ref()
                .map(|c| Published::within(c, from, to)),
            aggregates: cursors
                .aggregates
                .as_ref()
                .map(|c| Published::within(c, from + res, to + res)),
        },
    }
}

/// Each key combination's newest row time before `limit`.
pub fn newest_per_key<'r>(
    rows: impl Iterator<Item = (&'r [String], DateTime<Utc>)>,
    limit: DateTime<Utc>,
) -> BTreeMap<Vec<String>, DateTime<Utc>> {
    let mut newest = BTreeMap::new();
    for (key, time) in rows.filter(|(_, t)| *t < limit) {
        note_newest(&mut newest, key, time);
    }
    newest
}

/// Notes a row (time, key) in each key combination's newest row time.
pub fn note_newest(
    newest: &mut BTreeMap<Vec<String>, DateTime<Utc>>,
    key: &[String],
    time: DateTime<Utc>,
) {
    match newest.get_mut(key) {
        Some(t) => *t = (*t).max(time),
        None => {
            newest.insert(key.to_vec(), time);
        }
    }
}

/// A log line for a cursor.
pub fn describe(c: Option<&TopicCursor>) -> String {
    match c {
        None => "not published".to_string(),
        Some(c) if c.is_empty() => "none (empty topic)".to_string(),
        Some(c) if c.last.len() == 1 => {
            let (key, seen) = c.last.iter().next().expect("one entry");
            MessageKey::new(seen.time, key).to_string()
        }
        Some(c) => format!(
            "{} key combinations, {} .. {}",
            c.last.len(),
            c.oldest().map_or_else(String::new, format_utc),
            c.newest().map_or_else(String::new, format_utc)
        ),
    }
}

/// A log line for a skipped gap.
pub fn describe_gap(
    max_catch_up: TimeDelta,
    (topic, first, last): &(String, DateTime<Utc>, DateTime<Utc>),
) -> String {
    format!(
        "gap longer than --max-catch-up / EDS_MAX_CATCH_UP {}: {topic} from {} to {} (inclusive) \
         are skipped; to publish them, run once with a larger --max-catch-up / EDS_MAX_CATCH_UP",
        format_span(max_catch_up),
        format_utc(*first),
        format_utc(*last)
    )
}

/// A key combination for a log line: its values joined by `/`, control
/// characters escaped (a value cannot start a new log line).
pub fn key_text(key: &[String]) -> String {
    let mut out = String::new();
    for (i, value) in key.iter().enumerate() {
        if i > 0 {
            out.push('/');
        }
        for c in value.chars() {
            if c.is_control() {
                out.extend(c.escape_default());
            } else {
                out.push(c);
            }
        }
    }
    out
}

/// The warning for the keys a topic leaves behind (`behind`: one topic's),
/// naming up to `shown` of them with the exact times skipped.
pub fn describe_behind(max_key_lateness: TimeDelta, behind: &[Behind], shown: usize) -> String {
    let Some(b0) = behind.first() else {
        return String::new();
    };
    let mut ranges: Vec<String> = (behind.iter().take(shown))
        .map(|b| {
            format!(
                "'{}' from {} to {}",
                key_text(&b.key),
                format_utc(b.first),
                format_utc(b.last)
            )
        })
        .collect();
    if behind.len() > shown {
        ranges.push(format!("and {} more", behind.len() - shown));
    }
    format!(
        "{n} key combination(s) of {topic} trail the newest by more than --max-key-lateness / \
         EDS_MAX_KEY_LATENESS {span} (or fall before --max-catch-up): their rows are not fetched, \
         and these times (inclusive) are skipped: {list}; if those keys are late rather than gone, \
         run with a larger --max-key-lateness",
        n = behind.len(),
        topic = b0.topic,
        span = format_span(max_key_lateness),
        list = ranges.join("; ")
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::exit::Exit;
    use crate::time::parse_utc;

    #[test]
    fn the_skip_warning_names_the_flag_and_its_variable() {
        let gap = ("records".to_string(), t("10:00"), t("11:29"));
        assert_eq!(
            describe_gap(TimeDelta::minutes(30), &gap),
            "gap longer than --max-catch-up / EDS_MAX_CATCH_UP 30m: records from \
             2026-11-28T10:00:00Z to 2026-11-28T11:29:00Z (inclusive) are skipped; to publish \
             them, run once with a larger --max-catch-up / EDS_MAX_CATCH_UP"
        );
    }

    fn t(hm: &str) -> DateTime<Utc> {
        parse_utc(&format!("2026-11-28T{hm}:00")).unwrap()
    }

    fn k(v: &str) -> Vec<String> {
        vec![v.to_string()]
    }

    fn spans(res: i64) -> Spans {
        Spans {
            resolution: TimeDelta::minutes(res),
            window: TimeDelta::minutes(15),
            max_lag: TimeDelta::minutes(30),
            max_catch_up: TimeDelta::hours(6),
            max_key_lateness: TimeDelta::hours(1),
        }
    }

    /// A topic whose tail shows these (key, time) as each key's newest.
    fn cursor(last: &[(&str, &str)], complete_since: Option<&str>) -> TopicCursor {
        TopicCursor {
            topic: "t".into(),
            partition: 0,
            last: last
                .iter()
                .enumerate()
                .map(|(i, (key, hm))| {
                    (
                        k(key),
                        Seen {
                            time: t(hm),
                            offset: i as i64,
                        },
                    )
                })
                .collect(),
            complete_since: complete_since.map(t),
        }
    }

    fn cursors(records: TopicCursor, aggregates: TopicCursor) -> Cursors {
        Cursors {
            records: Some(records),
            aggregates: Some(aggregates),
        }
    }

    fn now() -> DateTime<Utc> {
        t("12:10") + TimeDelta::seconds(30)
    }

    #[test]
    fn a_late_key_is_published_when_it_arrives() {
        // DK2's 12:05 row came last run; DK1's only now.
        let c = cursors(
            cursor(&[("DK1", "12:00"), ("DK2", "12:05")], Some("06:00")),
            cursor(&[("DK1", "12:05"), ("DK2", "12:10")], Some("06:00")),
        );
        let s = spans(5);
        let p = plan(&c, now(), s);
        assert_eq!(p.limit, t("12:10"));
        assert!(
            p.fetch_from <= t("11:50"),
            "DK1's next window needs 11:50 on"
        );
        let none = BTreeMap::new();
        let records = p.records(c.records.as_ref().unwrap(), &none, s);
        assert!(records.is_new(&k("DK1"), t("12:05")));
        assert!(!records.is_new(&k("DK2"), t("12:05")), "already published");
        assert!(!records.is_new(&k("DK1"), t("12:00")));
        assert!(
            !records.is_new(&k("DK1"), t("12:10")),
            "the current slot is incomplete"
        );
        let aggregates = p.aggregates(c.aggregates.as_ref().unwrap(), &none, s);
        assert!(aggregates.is_new(&k("DK1"), t("12:10")));
        assert!(!aggregates.is_new(&k("DK2"), t("12:10")));
    }

    #[test]
    fn a_new_key_is_found_as_in_an_empty_topic() {
        let c = cursors(
            cursor(&[("DK1", "12:05")], Some("05:00")),
            cursor(&[("DK1", "12:10")], Some("05:00")),
        );
        let s = spans(5);
        let p = plan(&c, now(), s);
        assert_eq!(p.publish_from, t("06:10"));
        assert_eq!(
            p.fetch_from,
            t("11:25"),
            "--max-lag and a window back, not the whole catch-up range"
        );
        let records = p.records(c.records.as_ref().unwrap(), &BTreeMap::new(), s);
        assert!(records.is_new(&k("DK3"), t("11:25")));
        assert!(!records.is_new(&k("DK3"), t("11:20")), "not fetched");
        let aggregates = p.aggregates(c.aggregates.as_ref().unwrap(), &BTreeMap::new(), s);
        assert!(
            !aggregates.is_new(&k("DK3"), t("11:35")),
            "its window reaches before the fetch"
        );
        assert!(aggregates.is_new(&k("DK3"), t("11:40")));
        // When the tail read stopped later, an unseen key is new only after that.
        let stopped = cursor(&[("DK1", "12:05")], Some("11:50"));
        let records = p.records(&stopped, &BTreeMap::new(), s);
        assert!(!records.is_new(&k("DK3"), t("11:45")));
        assert!(records.is_new(&k("DK3"), t("11:50")));
        // A dataset without key columns has no other key to find.
        let single = |hm| cursor(&[("", hm)], Some("23:59"));
        let mut one = cursors(single("12:05"), single("12:10"));
        for c in [&mut one.records, &mut one.aggregates] {
            c.as_mut().unwrap().complete_since = Some(DateTime::<Utc>::MAX_UTC);
        }
        assert_eq!(plan(&one, now(), s).fetch_from, t("11:55"), "one window");
    }

    #[test]
    fn a_key_within_the_lateness_is_fetched_from_its_cursor() {
        // DK2 trails DK1 by 45 minutes, inside --max-key-lateness 1h.
        let c = cursors(
            cursor(&[("DK1", "12:05"), ("DK2", "11:20")], Some("06:00")),
            cursor(&[("DK1", "12:10"), ("DK2", "11:25")], Some("06:00")),
        );
        let s = spans(5);
        let p = plan(&c, now(), s);
        assert_eq!(p.fetch_from, t("11:15"), "DK2's next window needs 11:15 on");
        assert!(p.behind.is_empty(), "{:?}", p.behind);
        let records = p.records(c.records.as_ref().unwrap(), &BTreeMap::new(), s);
        assert!(records.is_new(&k("DK2"), t("11:25")) && !records.is_new(&k("DK2"), t("11:20")));
        // The same key with --max-catch-up 30m: its rows before 11:40 are
        // skipped, and said so (they were lost silently before).
        let short = Spans {
            max_catch_up: TimeDelta::minutes(30),
            ..s
        };
        let p = plan(&c, now(), short);
        assert_eq!(
            p.behind,
            vec![
                Behind {
                    topic: "t".into(),
                    key: k("DK2"),
                    first: t("11:25"),
                    last: t("11:35")
                },
                Behind {
                    topic: "t".into(),
                    key: k("DK2"),
                    first: t("11:30"),
                    last: t("11:40")
                }
            ]
        );
        let records = p.records(c.records.as_ref().unwrap(), &BTreeMap::new(), short);
        assert!(!records.is_new(&k("DK2"), t("11:35")) && records.is_new(&k("DK2"), t("11:40")));
    }

    #[test]
    fn a_key_behind_the_lateness_is_warned_and_holds_no_one_back() {
        let c = cursors(
            cursor(&[("DK1", "12:05"), ("Gone", "08:00")], Some("06:00")),
            cursor(&[("DK1", "12:10"), ("Gone", "08:05")], Some("06:00")),
        );
        let s = spans(5);
        let p = plan(&c, now(), s);
        assert_eq!(p.fetch_from, t("11:00"), "the horizon, not Gone's cursor");
        let gone = |first, last| Behind {
            topic: "t".into(),
            key: k("Gone"),
            first: t(first),
            last: t(last),
        };
        assert_eq!(
            p.behind,
            vec![gone("08:05", "11:05"), gone("08:10", "11:10")]
        );
        let records = p.records(c.records.as_ref().unwrap(), &BTreeMap::new(), s);
        assert!(!records.is_new(&k("DK1"), t("12:05")));
        assert!(!records.is_new(&k("Gone"), t("11:05")), "warned as skipped");
        assert!(
            records.is_new(&k("Gone"), t("11:10")),
            "if it comes back, it resumes"
        );
        let aggregates = p.aggregates(c.aggregates.as_ref().unwrap(), &BTreeMap::new(), s);
        assert!(
            !aggregates.is_new(&k("Gone"), t("11:10")) && aggregates.is_new(&k("Gone"), t("11:15"))
        );
        let text = describe_behind(s.max_key_lateness, &p.behind[..1], 5);
        assert!(
            text.starts_with("1 key combination(s) of t trail the newest by more than --max-key-lateness / EDS_MAX_KEY_LATENESS 1h")
                && text.contains("'Gone' from 2026-11-28T08:05:00Z to 2026-11-28T11:05:00Z"),
            "{text}"
        );
        assert_eq!(
            key_text(&[k("DK1\n[ERROR]")[0].clone(), "Ø".into()]),
            "DK1\\n[ERROR]/Ø"
        );
        let many: Vec<Behind> = (0..7).map(|_| gone("08:05", "11:05")).collect();
        assert!(describe_behind(s.max_key_lateness, &many, 5).contains("; and 2 more;"));
        // The whole topic behind by more than the lateness is caught up.
        let late = cursors(
            cursor(&[("DK1", "09:00"), ("DK2", "08:55")], Some("03:00")),
            cursor(&[("DK1", "09:05"), ("DK2", "09:00")], Some("03:00")),
        );
        let p = plan(&late, now(), s);
        assert_eq!(
            (p.fetch_from, p.behind.len()),
            (t("08:50"), 0),
            "DK2's next window"
        );
    }

    #[test]
    fn the_longest_spans_a_flag_allows_do_not_overflow() {
        let c = cursors(
            cursor(&[("DK1", "12:05"), ("DK2", "04:00")], Some("03:00")),
            cursor(&[("DK1", "12:10"), ("DK2", "04:05")], Some("03:00")),
        );
        let s = Spans {
            max_lag: TimeDelta::days(3650),
            max_catch_up: TimeDelta::days(3650),
            max_key_lateness: TimeDelta::days(3650),
            ..spans(5)
        };
        for now in [now(), DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
            let p = plan(&c, now, s);
            assert!(p.fetch_from <= p.limit, "{p:?}");
        }
        let p = plan(&c, now(), s);
        assert!(p.behind.is_empty(), "nothing is behind a ten-year horizon");
        assert!(s.tail().stop() > TimeDelta::days(7000));
    }

    #[test]
    fn a_key_behind_the_catch_up_range_is_skipped_from_its_start() {
        let c = cursors(
            cursor(&[("DK1", "12:05"), ("DK2", "04:00")], Some("03:00")),
            cursor(&[("DK1", "12:10"), ("DK2", "04:05")], Some("03:00")),
        );
        let s = Spans {
            max_key_lateness: TimeDelta::hours(12),
            ..spans(5)
        };
        let p = plan(&c, now(), s);
        assert_eq!(p.publish_from, t("06:10"));
        assert_eq!(p.fetch_from, t("06:00"), "not back to DK2's cursor");
        assert_eq!(
            (p.behind[0].first, p.behind[0].last),
            (t("04:05"), t("06:05"))
        );
        let records = p.records(c.records.as_ref().unwrap(), &BTreeMap::new(), s);
        assert!(!records.is_new(&k("DK2"), t("06:05")));
        assert!(records.is_new(&k("DK2"), t("06:10")));
        assert!(!records.is_new(&k("DK1"), t("06:10")));
        let aggregates = p.aggregates(c.aggregates.as_ref().unwrap(), &BTreeMap::new(), s);
        assert!(
            !aggregates.is_new(&k("DK2"), t("06:10")),
            "its row is before the range"
        );
        assert!(aggregates.is_new(&k("DK2"), t("06:15")));
    }

    #[test]
    fn a_whole_topic_behind_the_catch_up_says_what_it_skips() {
        let c = cursors(
            cursor(&[("", "01:00")], Some("00:00")),
            cursor(&[("", "01:01")], Some("00:00")),
        );
        let s = Spans {
            window: TimeDelta::minutes(5),
            ..spans(1)
        };
        let p = plan(&c, now(), s);
        assert_eq!(p.publish_from, t("06:10"));
        assert_eq!(
            p.skipped,
            vec![
                ("t".to_string(), t("01:01"), t("06:09")),
                ("t".to_string(), t("01:02"), t("06:10"))
            ]
        );
    }

    #[test]
    fn an_empty_topic_gets_each_keys_current_window() {
        let c = cursors(TopicCursor::default(), TopicCursor::default());
        let s = spans(5);
        let p = plan(&c, now(), s);
        assert_eq!(p.fetch_from, t("11:25"), "--max-lag and one window back");
        let newest: BTreeMap<Vec<String>, DateTime<Utc>> =
            [(k("DK1"), t("12:00")), (k("DK2"), t("12:05"))].into();
        let records = p.records(c.records.as_ref().unwrap(), &newest, s);
        let published = |key: &str| {
            ["11:40", "11:45", "11:50", "11:55", "12:00", "12:05"]
                .into_iter()
                .filter(|hm| records.is_new(&k(key), t(hm)))
                .collect::<Vec<_>>()
        };
        // DK1 has no 12:05 row in this fetch; had it one, it would be new.
        assert_eq!(published("DK1"), ["11:50", "11:55", "12:00", "12:05"]);
        assert_eq!(published("DK2"), ["11:55", "12:00", "12:05"]);
        assert!(!records.is_new(&k("DK3"), t("12:05")), "no rows, no window");
        let aggregates = p.aggregates(c.aggregates.as_ref().unwrap(), &newest, s);
        assert!(aggregates.is_new(&k("DK1"), t("12:05")));
        assert!(!aggregates.is_new(&k("DK1"), t("12:00")));
        assert!(aggregates.is_new(&k("DK2"), t("12:10")));
    }

    #[test]
    fn marking_keeps_each_key_strictly_increasing() {
        let c = cursor(&[("DK1", "12:00")], None);
        let mut rule = Published::within(&c, t("06:00"), t("13:00"));
        assert!(
            rule.is_new(&k("DK2"), t("06:00")),
            "the whole partition was read"
        );
        rule.mark(&k("DK2"), t("12:00"));
        assert!(!rule.is_new(&k("DK2"), t("11:55")));
        assert!(!rule.is_new(&k("DK2"), t("12:00")));
        assert!(rule.is_new(&k("DK2"), t("12:05")));
        assert!(
            !rule.is_new(&k("DK1"), t("13:00")),
            "the range ends before 13:00"
        );
    }

    #[test]
    fn a_cursor_in_the_future_is_an_error() {
        let c = cursor(&[("DK1", "12:15")], None);
        let res = TimeDelta::minutes(5);
        assert!(
            c.check_not_future(now(), res).is_ok(),
            "12:15 is within one resolution"
        );
        let c = cursor(&[("DK1", "12:20")], None);
        let err = c.check_not_future(now(), res).unwrap_err();
        assert_eq!(crate::exit::exit_of(&err), Exit::Data);
        let typed = err
            .chain()
            .find_map(|e| e.downcast_ref::<super::super::CursorError>());
        assert!(matches!(
            typed,
            Some(super::super::CursorError::Future { .. })
        ));
        let text = err.to_string();
        assert!(text.contains("t partition 0 offset 0"), "{text}");
        assert!(text.contains("2026-11-28T12:20:00Z/DK1"), "{text}");
    }

    /// A backfill resumes after the older of the two cursors (an aggregate
    /// is due with its window's newest row), and fetches a window before it.
    #[test]
    fn a_backfill_resumes_after_the_older_cursor() {
        let s = spans(1);
        let c = cursors(
            cursor(&[("DK1", "10:00")], Some("11:00")),
            cursor(&[("DK1", "09:31")], Some("11:00")),
        );
        let r = plan_range(&c, t("08:00"), t("12:00"), s);
        assert_eq!(
            r.start,
            t("09:31"),
            "the aggregate ending 09:32 is due with the row at 09:31"
        );
        assert_eq!(r.context, t("09:17"));
        let records = r.rules.records.unwrap();
        assert!(!records.is_new(&k("DK1"), t("10:00")) && records.is_new(&k("DK1"), t("10:01")));
        assert!(
            !records.is_new(&k("DK1"), t("12:00")),
            "--to is not included"
        );
        let aggregates = r.rules.aggregates.unwrap();
        assert!(
            !aggregates.is_new(&k("DK1"), t("09:31")) && aggregates.is_new(&k("DK1"), t("09:32"))
        );
        let empty = cursors(TopicCursor::default(), TopicCursor::default());
        let r = plan_range(&empty, t("08:00"), t("12:00"), s);
        assert_eq!(r.start, t("08:00"), "empty topics take the whole range");
        assert!(r.rules.records.unwrap().is_new(&k("DK2"), t("08:00")));
        assert_eq!(
            Spans::backfill(s.resolution, s.window)
                .backfill_tail()
                .stop(),
            TimeDelta::hours(6) + s.window + s.resolution,
            "the tail publish reads with the default --max-catch-up"
        );
    }
}
