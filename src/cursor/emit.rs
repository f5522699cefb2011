//! The one path from sorted rows to a sink, shared by `publish` (and its
//! `--dry-run`) and `backfill`: rows go through a sliding window, and each
//! completed time's rows are published as records, then their key
//! combinations' windows as aggregates, each only when the cursor's rule
//! ([`Published::judge`]) says so: new, a hole filled late, or a correction.
//! Each message's value is written here once, as JSON, and its digest taken
//! (the rule compares it with the topic's); the sink gets both. The known
//! value fields nulled in what is published are counted here, and so are
//! the late rows, the corrections and what lies beyond the revision horizon.

use anyhow::Result;

use std::collections::BTreeMap;

use chrono::{DateTime, Utc};

use super::rule::Verdict;
use super::Published;
use crate::aggregate::{aggregate_rows, Stat};
use crate::contract::digest;
use crate::dataset::{Dataset, Row};
use crate::logging::Tally;
use crate::quality::{NonNumeric, Report};
use crate::sink::{Message, Sink};
use crate::window::{Slider, Window};

/// Hands new records and aggregates to a sink, in (time, key) order.
pub struct Emitter<'a> {
    pub dataset: &'a Dataset,
    pub fields: &'a [String],
    pub stats: &'a [Stat],
    pub sink: &'a mut dyn Sink,
    /// The rule for each topic; `None`: that topic is not written.
    pub records: Option<Published>,
    pub aggregates: Option<Published>,
    /// Records of key combinations never published that came too old to
    /// publish ([`Published::is_skipped_unseen`]): the first and last time
    /// per key combination. (Their aggregates are skipped with them; a new
    /// key's first windows, which reach before the fetch, are not counted.)
    pub skipped: Skipped,
    /// Key combinations not in a topic's cursor that were published to it:
    /// the first time per key combination (records, aggregates).
    pub unseen: [Skipped; 2],
    /// The nulled fields of the rows published as records (or, without
    /// records, of the rows in the aggregates' windows).
    pub non_numeric: NonNumeric,
    /// What the revision review found, per topic (records, aggregates).
    pub revised: [Revised; 2],
    /// The value being written, reused from message to message.
    pub buf: Vec<u8>,
    /// Whether each message's value is written as JSON and digested: not
    /// for a sink that writes neither ([`Emitter::without_values`]).
    values: bool,
}

/// What the review did for one topic: holes filled late, corrections, and
/// what it found beyond the horizon (named, the first few).
#[derive(Debug, Clone, Default)]
pub struct Revised {
    pub late: u64,
    pub corrections: u64,
    pub beyond_late: Tally,
    pub beyond_changed: Tally,
    /// Every (key, time) found beyond the horizon (the property test's).
    #[cfg(test)]
    pub beyond_all: Vec<(Vec<String>, DateTime<Utc>)>,
}

impl Revised {
    fn count(&mut self, verdict: Verdict, key: &[String], time: DateTime<Utc>) {
        let what = || {
            format!(
                "{} at {}",
                crate::text::key(key),
                crate::time::format_utc(time)
            )
        };
        #[cfg(test)]
        if matches!(verdict, Verdict::Beyond { .. }) {
            self.beyond_all.push((key.to_vec(), time));
        }
        match verdict {
            Verdict::Publish { late: true, .. } => self.late += 1,
            Verdict::Publish { revision, .. } if revision > 0 => self.corrections += 1,
            Verdict::Beyond { late: true } => self.beyond_late.add(what()),
            Verdict::Beyond { late: false } => self.beyond_changed.add(what()),
            _ => {}
        }
    }

    /// Rows late or changed beyond the horizon (not published).
    pub fn beyond(&self) -> u64 {
        self.beyond_late.count + self.beyond_changed.count
    }
}

/// Per key combination, the first and last time skipped.
pub type Skipped = BTreeMap<Vec<String>, (DateTime<Utc>, DateTime<Utc>)>;

fn note(skipped: &mut Skipped, key: &[String], time: DateTime<Utc>) {
    match skipped.get_mut(key) {
        Some((_, last)) => *last = time,
        None => {
            skipped.insert(key.to_vec(), (time, time));
        }
    }
}

impl Emitter<'_> {
    /// An emitter of `dataset`'s `fields` (and `stats`) into `sink` under
    /// the two topics' rules.
    pub fn new<'a>(
        dataset: &'a Dataset,
        fields: &'a [String],
        stats: &'a [Stat],
        sink: &'a mut dyn Sink,
        rules: super::Rules,
    ) -> Emitter<'a> {
        Emitter {
            dataset,
            fields,
            stats,
            sink,
            records: rules.records,
            aggregates: rules.aggregates,
            skipped: Skipped::default(),
            unseen: Default::default(),
            non_numeric: NonNumeric::default(),
            revised: Default::default(),
            buf: Vec::new(),
            values: true,
        }
    }

    /// Writes no message values (no JSON, digest 0): for a sink that writes
    /// neither (CSV) under rules that have nothing to compare them with
    /// (empty cursors, no review), where each (key, time) is judged once
    /// and a new one is published whatever its digest. A backfill's dry run
    /// spent a fifth of its time writing and hashing JSON it never used.
    pub fn without_values(mut self) -> Self {
        self.values = false;
        self
    }

    /// One completed time: `new` are its rows (sorted by key), `window` the
    /// sliding window that ends just after them.
    pub fn group(&mut self, new: &[Row], window: Window<'_>) -> Result<()> {
        self.records(new)?;
        self.aggregates(new, &window)
    }

    /// The time's records the rule publishes.
    fn records(&mut self, new: &[Row]) -> Result<()> {
        let Some(rule) = &mut self.records else {
            return Ok(());
        };
        for row in new {
            // A key never published, before the range this run may publish
            // for it: warned, whether or not the reviewed span holds it.
            if rule.is_skipped_unseen(&row.key, row.time) {
                note(&mut self.skipped, &row.key, row.time);
                continue;
            }
            if !rule.considers(&row.key, row.time) {
                continue;
            }
            self.buf.clear();
            if self.values {
                row.write_json(&self.dataset.time_column, &mut self.buf)?;
            }
            let digest = if self.values { digest(&self.buf) } else { 0 };
            let verdict = rule.judge(&row.key, row.time, digest);
            self.revised[0].count(verdict, &row.key, row.time);
            let Verdict::Publish { revision, .. } = verdict else {
                continue;
            };
            if rule.is_unseen(&row.key) {
                note(&mut self.unseen[0], &row.key, row.time);
            }
            let message = Message {
                json: &self.buf,
                digest,
                revision,
            };
            self.sink.record(row, message)?;
            rule.mark(&row.key, row.time, digest, revision);
            self.non_numeric.count(row);
        }
        Ok(())
    }

    /// The windows ending just after the time, of the keys that have a row
    /// at it (due), that the rule publishes.
    fn aggregates(&mut self, new: &[Row], window: &Window<'_>) -> Result<()> {
        let Some(rule) = &mut self.aggregates else {
            return Ok(());
        };
        let end = window.end;
        let mut due: Vec<&Row> = new.iter().filter(|r| rule.considers(&r.key, end)).collect();
        if due.is_empty() {
            return Ok(());
        }
        if !due.is_sorted_by(|a, b| a.key <= b.key) {
            due.sort_by(|a, b| a.key.cmp(&b.key));
        }
        // The window's rows by key combination, once per time: each
        // aggregate then reads only its own rows (linear in keys).
        // Sorted by key (a stable sort: time order within a key), one
        // vector a time, not one a key; the due rows come sorted by key too
        // (a time's rows are), so one pass over both finds each one's rows.
        let mut by_key: Vec<&Row> = window.rows.iter().collect();
        by_key.sort_by(|a, b| a.key.cmp(&b.key));
        let mut from = 0;
        for row in due {
            while by_key.get(from).is_some_and(|r| r.key < row.key) {
                from += 1;
            }
            let len = (by_key[from..].iter())
                .take_while(|r| r.key == row.key)
                .count();
            let rows = &by_key[from..from + len];
            let agg = aggregate_rows(self.dataset, window, &row.key, rows, self.fields);
            self.buf.clear();
            if self.values {
                serde_json::to_writer(&mut self.buf, &agg.json(self.stats))?;
            }
            let digest = if self.values { digest(&self.buf) } else { 0 };
            let verdict = rule.judge(&row.key, end, digest);
            self.revised[1].count(verdict, &row.key, end);
            let Verdict::Publish { revision, .. } = verdict else {
                continue;
            };
            if rule.is_unseen(&row.key) {
                note(&mut self.unseen[1], &row.key, end);
            }
            let message = Message {
                json: &self.buf,
                digest,
                revision,
            };
            self.sink.aggregate(&agg, message)?;
            rule.mark(&row.key, end, digest, revision);
            if self.records.is_none() {
                rows.iter().for_each(|r| self.non_numeric.count(r));
            }
        }
        Ok(())
    }

    /// Emits every row of a sorted vector (a repeated time and key keeps the
    /// first); returns what the rows said about the data (logged).
    pub fn all(&mut self, rows: Vec<Row>, window: chrono::TimeDelta) -> Result<Report> {
        self.each(rows.into_iter().map(Ok), window)
    }

    /// [`Emitter::all`] for rows taken one at a time (parsed as they come):
    /// only the sliding window's rows are held.
    pub fn each(
        &mut self,
        rows: impl IntoIterator<Item = Result<Row>>,
        window: chrono::TimeDelta,
    ) -> Result<Report> {
        let mut slider = Slider::new(self.dataset, window);
        let mut done = |new: &[Row], w: Window<'_>| self.group(new, w);
        for row in rows {
            slider.push(row?, &mut done)?;
        }
        slider.finish(&mut done)?;
        Ok(self.report(&slider))
    }

    /// Logs what the rows said (once, at the end of a run) and returns it.
    pub fn report(&self, slider: &Slider) -> Report {
        Report {
            conflicting_repeats: slider.report(),
            non_numeric: self.non_numeric.report(&self.dataset.name),
        }
    }
}
