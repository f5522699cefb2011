//! The simulation's invariants, checked on the in-memory topics after the
//! runs (see the parent module).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeDelta, Utc};

use super::*;

/// The latest message of each time of one key in a topic.
type Latest<'a> = BTreeMap<DateTime<Utc>, &'a Sent>;

/// The latest message of each (time) of one key in a topic, in log order.
fn latest<'a>(log: &'a [Sent], key: &[String]) -> Latest<'a> {
    let mut out = BTreeMap::new();
    for m in log.iter().filter(|m| m.key.key == key) {
        out.insert(m.key.time, m);
    }
    out
}

/// The invariants, per key: nothing published twice with one value; every
/// published time is a row of the world; every row between the key's first
/// and last published time is published, or was warned as skipped or
/// reported beyond the revision horizon, or came too late for any review;
/// within the last run's horizon the latest record of each time is the
/// API's final value, and the latest aggregate of each window is the
/// aggregate of the latest records.
pub(super) fn check(seed: u64, w: &World, topics: &Topics, s: Spans) {
    let last_run = t0() + TimeDelta::seconds(30) + TimeDelta::minutes(5 * 42);
    for log in [&topics.records, &topics.aggregates] {
        let mut seen = BTreeSet::new();
        for m in log {
            assert!(
                seen.insert((&m.key, m.digest)),
                "seed {seed}: {} twice with one value",
                m.key
            );
        }
    }
    for (k, name) in KEYS.iter().enumerate() {
        let key = vec![name.to_string()];
        let records = latest(&topics.records, &key);
        check_records(seed, w, topics, k, &records, last_run);
        let aggregates = latest(&topics.aggregates, &key);
        // A key that trails by more than --max-key-lateness is left behind
        // (warned) by design: the horizon's promise is for the 1 h worlds.
        let trailing = s.max_key_lateness < TimeDelta::hours(1);
        if let Some(completed) = topics.completed.filter(|_| !trailing) {
            let published = (records, aggregates);
            check_horizon(seed, w, topics, s, k, &published, completed);
        }
    }
}

/// Every published time is a row; none between the first and the last is
/// missing but for a reason the runs said (or that no run could see).
fn check_records(
    seed: u64,
    w: &World,
    topics: &Topics,
    k: usize,
    records: &BTreeMap<DateTime<Utc>, &Sent>,
    last_run: DateTime<Utc>,
) {
    let (name, key) = (KEYS[k], vec![KEYS[k].to_string()]);
    let data: BTreeMap<DateTime<Utc>, &Life> = (w.rows.iter())
        .filter(|((_, kk), _)| *kk == k)
        .map(|((t, _), l)| (*t, l))
        .collect();
    assert!(
        records.keys().all(|t| data.contains_key(t)),
        "seed {seed} {name}: records"
    );
    let (Some(first), Some(last)) = (records.keys().next(), records.keys().last()) else {
        return;
    };
    // A range warned as skipped reaches up to the key's next published time:
    // a row of it that comes late (after the range was warned) is still
    // behind the key's cursor with nothing published before it in the span.
    let next = |t: DateTime<Utc>| records.range(t..).next().map_or(t, |(n, _)| *n);
    let warned = |t: DateTime<Utc>| {
        (topics.warned.iter())
            .any(|(wt, wk, f, l)| wt == "records" && *wk == key && *f <= t && t <= next(*l).max(*l))
            || topics.beyond[0]
                .iter()
                .any(|(bk, bt)| *bk == key && *bt == t)
    };
    // A late row no completed run served within its reviewed span (it
    // came when its time was beyond every review, or only to runs that
    // failed, were stale or crashed): no run could see it.
    let unseeable = |life: &Life, t: DateTime<Utc>| {
        life.arrives > last_run || (life.late && !topics.looked.contains(&(key.clone(), t)))
    };
    let missing: Vec<DateTime<Utc>> = (data.range(*first..=*last))
        .filter(|(t, life)| !records.contains_key(t) && !warned(**t) && !unseeable(life, **t))
        .map(|(t, _)| *t)
        .collect();
    assert!(
        missing.is_empty(),
        "seed {seed} {name}: records {missing:?} lost silently: {:?}; published {:?}",
        missing.iter().map(|t| &data[t]).collect::<Vec<_>>(),
        records.keys().collect::<Vec<_>>()
    );
}

/// Within the revision horizon of the last run that completed (`last_run`):
/// the latest records are the API's values then, the latest aggregates
/// their aggregates.
fn check_horizon(
    seed: u64,
    w: &World,
    topics: &Topics,
    s: Spans,
    k: usize,
    (records, aggregates): &(Latest<'_>, Latest<'_>),
    last_run: DateTime<Utc>,
) {
    let (name, key) = (KEYS[k], vec![KEYS[k].to_string()]);
    // Rows (windows) a run warned it skips (a key behind the lateness).
    let warned = |topic: &str, t: DateTime<Utc>| {
        (topics.warned.iter())
            .any(|(wt, wk, f, l)| wt == topic && *wk == key && (*f..=*l).contains(&t))
    };
    let Some(first) = records.keys().next().copied() else {
        return;
    };
    if s.max_revision_age <= TimeDelta::zero() {
        return;
    }
    let limit = crate::time::floor(last_run, s.resolution);
    let revisable = crate::time::floor(limit - s.max_revision_age, s.resolution).max(first);
    for ((t, _), life) in (w.rows.range((revisable, 0)..(limit, 0))).filter(|((_, kk), _)| *kk == k)
    {
        let Some(value) = life.at(last_run).filter(|_| !warned("records", *t)) else {
            continue;
        };
        let got = records.get(t).and_then(|m| m.value.1);
        assert_eq!(got, Some(value), "seed {seed} {name}: the record at {t}");
    }
    let mut end = revisable + s.window;
    while end <= limit {
        let row = w.rows.get(&(end - s.resolution, k));
        // A window with a row skipped as behind counts a row the records lack.
        let skipped = (w.rows.range((end - s.window, k)..(end, 0)))
            .any(|((t, kk), _)| *kk == k && warned("records", *t));
        if row.is_some_and(|l| l.at(last_run).is_some()) && !warned("aggregates", end) && !skipped {
            let values: Vec<f64> = (records.range(end - s.window..end))
                .filter_map(|(_, m)| m.value.1)
                .collect();
            let mean = crate::aggregate::FieldStats::of(values.iter().copied()).mean;
            let got = aggregates.get(&end).map(|m| m.value);
            assert_eq!(
                got,
                Some((values.len() as u64, mean)),
                "seed {seed} {name}: the window ending {end}"
            );
        }
        end += s.resolution;
    }
}
