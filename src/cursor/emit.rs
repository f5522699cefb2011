//! The one path from sorted rows to a sink, shared by `publish` (and its
//! `--dry-run`) and `backfill`: rows go through a sliding window, and each
//! completed time's rows are published as records, then their key
//! combinations' windows as aggregates, each only when the cursor's rule
//! ([`Published::is_new`]) says it is new, and marked as published. The
//! known value fields nulled in what is published are counted here.

use anyhow::Result;

use std::collections::{BTreeMap, HashMap};

use chrono::{DateTime, Utc};

use super::Published;
use crate::aggregate::aggregate_rows;
use crate::dataset::{Dataset, Row};
use crate::quality::{NonNumeric, Report};
use crate::sink::Sink;
use crate::window::{Slider, Window};

/// Hands new records and aggregates to a sink, in (time, key) order.
pub struct Emitter<'a> {
    pub dataset: &'a Dataset,
    pub fields: &'a [String],
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
    /// One completed time: `new` are its rows (sorted by key), `window` the
    /// sliding window that ends just after them.
    pub fn group(&mut self, new: &[Row], window: Window<'_>) -> Result<()> {
        if let Some(rule) = &mut self.records {
            for row in new {
                if rule.is_new(&row.key, row.time) {
                    if rule.is_unseen(&row.key) {
                        note(&mut self.unseen[0], &row.key, row.time);
                    }
                    self.sink.record(row)?;
                    rule.mark(&row.key, row.time);
                    self.non_numeric.count(row);
                } else if rule.is_skipped_unseen(&row.key, row.time) {
                    note(&mut self.skipped, &row.key, row.time);
                }
            }
        }
        if let Some(rule) = &mut self.aggregates {
            // The window's rows by key combination, once per time: each
            // aggregate then reads only its own rows (linear in keys).
            let mut by_key: HashMap<&[String], Vec<&Row>> = HashMap::new();
            if new.iter().any(|row| rule.is_new(&row.key, window.end)) {
                for r in window.rows {
                    by_key.entry(r.key.as_slice()).or_default().push(r);
                }
            }
            for row in new {
                if rule.is_new(&row.key, window.end) {
                    let rows = by_key
                        .get(row.key.as_slice())
                        .map_or(&[][..], Vec::as_slice);
                    if rule.is_unseen(&row.key) {
                        note(&mut self.unseen[1], &row.key, window.end);
                    }
                    let agg = aggregate_rows(self.dataset, &window, &row.key, rows, self.fields);
                    self.sink.aggregate(&agg)?;
                    rule.mark(&row.key, window.end);
                    if self.records.is_none() {
                        rows.iter().for_each(|r| self.non_numeric.count(r));
                    }
                }
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
