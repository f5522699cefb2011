//! A run's plan, pure arithmetic over the cursors and the run's spans: what
//! `publish` fetches (the trailing `--max-catch-up`) and what `backfill`
//! fetches (`--from` .. `--to`), both ending in the same [`Rules`], one
//! [`Published`] per topic (see [`super::rule`]). No `± resolution` or
//! `--max-catch-up` arithmetic lives anywhere else.

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, TimeDelta, Utc};

pub use super::rule::{Cursors, Published, Seen, TailSpan, TopicCursor};
use crate::time::floor;

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
    /// `--max-revision-age`: rows and windows this much before the run's
    /// limit are compared with the topics and published again when they
    /// differ; zero turns the review off.
    pub max_revision_age: TimeDelta,
}

/// A topic's reviewed span in a run: its messages from `since` on are read
/// back and compared with the API's rows; from `revisable` on a difference
/// is published, before it reported ([`Published::judge`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReviewSpan {
    pub since: DateTime<Utc>,
    pub revisable: DateTime<Utc>,
}

/// Both topics' reviewed spans (`None`: no review).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct Reviews {
    pub records: Option<ReviewSpan>,
    pub aggregates: Option<ReviewSpan>,
}

impl Reviews {
    /// A `publish` run's spans up to `limit`: revisable `--max-revision-age`
    /// back, reviewed (what lies beyond is reported) as far again; never
    /// before the `--max-catch-up` range. The aggregates' are the windows
    /// whose newest row lies in the records' span (a resolution later): a
    /// window that holds a revisable row is revisable, computed from the
    /// rows the API serves now (the fetch reaches a window further back).
    pub fn publish(limit: DateTime<Utc>, s: Spans) -> Reviews {
        if s.max_revision_age <= TimeDelta::zero() {
            return Reviews::default();
        }
        let res = s.resolution;
        let earliest = floor(minus(limit, s.max_catch_up), res);
        let revisable = floor(minus(limit, s.max_revision_age), res).max(earliest);
        let since = floor(minus(revisable, s.max_revision_age), res).max(earliest);
        Reviews::of(ReviewSpan { since, revisable }, res)
    }

    /// A backfill's review: every row from `from` on is revisable.
    pub fn backfill(from: DateTime<Utc>, s: Spans) -> Reviews {
        Reviews::of(
            ReviewSpan {
                since: from,
                revisable: from,
            },
            s.resolution,
        )
    }

    /// The records' spans, and the aggregates': the window ending at `t` is
    /// due with the row at `t - resolution`.
    fn of(records: ReviewSpan, resolution: TimeDelta) -> Reviews {
        let later = |t| plus(t, resolution);
        Reviews {
            records: Some(records),
            aggregates: Some(ReviewSpan {
                since: later(records.since),
                revisable: later(records.revisable),
            }),
        }
    }
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
            max_revision_age: TimeDelta::zero(),
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
            slack: reach.max(self.max_revision_age * 2) + self.window + self.resolution,
            margin: self.window,
        }
    }

    /// A backfill's tail: as far back as `publish` with the default
    /// `--max-catch-up` (no slack: a backfill runs before `publish` does).
    pub fn backfill_tail(&self) -> TailSpan {
        TailSpan {
            margin: self.window,
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
    /// What the run reviews (compares with the topics' messages).
    pub reviews: Reviews,
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
    let records = cursors
        .records
        .as_ref()
        .map(|c| topic_plan(c, publish_from, s));
    // The aggregate ending at `t` is due with the row at `t - resolution`.
    let aggregates = (cursors.aggregates.as_ref()).map(|c| topic_plan(c, publish_from + res, s));
    // Only a topic read back that holds messages of ours is reviewed: an
    // empty one (and --dry-run's) gets each key's current window, as the
    // rules say, from the same fetch with or without Kafka.
    let read_back = |c: &Option<TopicCursor>| {
        (c.as_ref()).is_some_and(|c| c.review.since.is_some() && !c.is_empty())
    };
    let mut reviews = Reviews::publish(limit, s);
    reviews.records = reviews.records.filter(|_| read_back(&cursors.records));
    reviews.aggregates = (reviews.aggregates).filter(|_| read_back(&cursors.aggregates));
    let topics = (&records, &aggregates);
    let fetch_from = fetch_start(cursors, topics, limit, publish_from, &reviews, s);
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
        reviews,
    }
}

/// Where the one fetch starts: each topic from its oldest key's cursor
/// (with a window of context), back to where unseen keys are looked for,
/// and the whole reviewed span; never before the catch-up range.
fn fetch_start(
    cursors: &Cursors,
    (records, aggregates): (&Option<TopicPlan>, &Option<TopicPlan>),
    limit: DateTime<Utc>,
    publish_from: DateTime<Utc>,
    reviews: &Reviews,
    s: Spans,
) -> DateTime<Utc> {
    // An empty topic gets each key's current window: rows up to --max-lag back.
    let fresh_start = minus(minus(limit, s.max_lag), s.window);
    let records_from = records
        .as_ref()
        .map_or(limit, |p| p.bounds.map_or(fresh_start, |b| b.first));
    // The first new aggregate's window reaches `window` back from its end.
    let aggregates_from = aggregates.as_ref().map_or(limit, |p| {
        p.bounds.map_or(fresh_start, |b| minus(b.first, s.window))
    });
    // A key combination the tail read did not find (keyed topics only) is
    // looked for back to its topic's horizon: any key within
    // --max-key-lateness of the newest is published, however late it
    // arrives. Also as in an empty topic, rows up to --max-lag back (their
    // rows before the horizon are warned, not published).
    let discover = |c: &Option<TopicCursor>, p: &Option<TopicPlan>, context: TimeDelta| {
        c.as_ref()
            .filter(|c| c.complete_since != Some(DateTime::<Utc>::MAX_UTC))
            .map_or(limit, |_| {
                let horizon = p.as_ref().and_then(|p| p.bounds).map(|b| b.horizon);
                horizon.map_or(fresh_start, |h| minus(h, context).min(fresh_start))
            })
    };
    let discovered = discover(&cursors.records, records, TimeDelta::zero()).min(discover(
        &cursors.aggregates,
        aggregates,
        s.window,
    ));
    // The reviewed span is fetched whole, and every row of its windows.
    let reviewed = (reviews.records.map_or(limit, |r| r.since)).min(
        reviews
            .aggregates
            .map_or(limit, |a| minus(a.since, s.window)),
    );
    floor(
        records_from
            .min(aggregates_from)
            .min(discovered)
            .max(minus(publish_from, s.window))
            .min(minus(limit, s.window))
            .min(reviewed),
        s.resolution,
    )
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
            Some(b) => Published::after(cursor, b.horizon, b.unseen_from, self.limit)
                .reviewing(cursor, self.reviews.records),
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
            Some(b) => Published::after(cursor, b.horizon, b.unseen_from, until)
                .reviewing(cursor, self.reviews.aggregates),
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
    /// The first row time fetched and judged: `start`, or the start of the
    /// reviewed span before it.
    pub first: DateTime<Utc>,
    /// The fetch begins here: a window's worth of rows before `start`, as
    /// context for the first aggregates.
    pub context: DateTime<Utc>,
    /// Every row in `[from, to)` after its key's cursor, and every aggregate
    /// due with such a row (an empty topic takes them all).
    pub rules: Rules,
}

/// Plans a backfill of `[from, to)` from the cursors: the same rule as
/// [`plan`], over the range given instead of the trailing `--max-catch-up`;
/// with `review`, the rows from then on are compared with what the
/// topics hold (the cursors' reviewed span), and fetched.
pub fn plan_range(
    cursors: &Cursors,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    s: Spans,
    review: Option<DateTime<Utc>>,
) -> Range {
    let res = s.resolution;
    let reviews = review.map_or_else(Reviews::default, |since| Reviews::backfill(since, s));
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
    let first = review.map_or(start, |since| since.max(from).min(start));
    Range {
        start,
        first,
        context: first - s.window + res,
        rules: Rules {
            records: (cursors.records.as_ref())
                .map(|c| Published::within(c, from, to).reviewing(c, reviews.records)),
            aggregates: (cursors.aggregates.as_ref()).map(|c| {
                Published::within(c, from + res, to + res).reviewing(c, reviews.aggregates)
            }),
        },
    }
}

/// Notes a row (time, key) in each key combination's newest row time (a
/// hash map: one look-up a row; [`Plan::rules`] takes them sorted, once).
pub fn note_newest(
    newest: &mut HashMap<Vec<String>, DateTime<Utc>>,
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

#[cfg(test)]
mod tests;
