//! One key combination's messages in `status`'s period, as a changelog:
//! the latest message per record time and per window end is the one that
//! counts (a later message with the same Kafka key supersedes the earlier
//! one). A later message with a higher `eds-revision` is a correction; one
//! with the same or a lower revision is a duplicate. From the latest
//! messages: the counts, the newest times, incomplete windows, and the
//! holes between records (the times missing, the longest hole).

use std::collections::{BTreeMap, BTreeSet};

use chrono::{DateTime, TimeDelta, Utc};

/// How many missing record times a report names; the rest are counted.
pub const NAMED_MISSING: usize = 5;

/// One key combination's latest messages over the period.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct KeyHealth {
    /// Record time -> the revision of its latest message.
    records_at: BTreeMap<DateTime<Utc>, (u32, ())>,
    /// Window end -> the revision and missing rows of its latest aggregate.
    windows_at: BTreeMap<DateTime<Utc>, (u32, Vec<DateTime<Utc>>)>,
    /// Messages that repeat a key read before without a higher revision.
    pub duplicates: u64,
    /// Messages that supersede a key read before with a higher revision.
    pub corrections: u64,
}

/// The record times missing between a key's first and newest record in
/// the period: how many, and the first few.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct MissingRecords {
    pub count: u64,
    pub first: Vec<DateTime<Utc>>,
}

/// What a message is to the messages read before it with the same key.
enum Seen {
    New,
    Correction,
    Duplicate,
}

/// Keeps `value` as `time`'s latest, and says what it was.
fn keep_latest<V>(
    map: &mut BTreeMap<DateTime<Utc>, (u32, V)>,
    time: DateTime<Utc>,
    revision: u32,
    value: V,
) -> Seen {
    match map.insert(time, (revision, value)) {
        None => Seen::New,
        Some((before, _)) if revision > before => Seen::Correction,
        Some(_) => Seen::Duplicate,
    }
}

impl KeyHealth {
    fn count(&mut self, seen: Seen) {
        match seen {
            Seen::New => {}
            Seen::Correction => self.corrections += 1,
            Seen::Duplicate => self.duplicates += 1,
        }
    }

    /// A record message at `time` with revision `revision`.
    pub fn record(&mut self, time: DateTime<Utc>, revision: u32) {
        let seen = keep_latest(&mut self.records_at, time, revision, ());
        self.count(seen);
    }

    /// An aggregate message for the window ending `end`, naming `missing`.
    pub fn aggregate(&mut self, end: DateTime<Utc>, revision: u32, missing: Vec<DateTime<Utc>>) {
        let seen = keep_latest(&mut self.windows_at, end, revision, missing);
        self.count(seen);
    }

    /// Record times read (each once).
    pub fn records(&self) -> u64 {
        self.records_at.len() as u64
    }

    /// Window ends read (each once).
    pub fn windows(&self) -> u64 {
        self.windows_at.len() as u64
    }

    pub fn newest_record(&self) -> Option<DateTime<Utc>> {
        self.records_at.keys().next_back().copied()
    }

    pub fn newest_window(&self) -> Option<DateTime<Utc>> {
        self.windows_at.keys().next_back().copied()
    }

    /// Windows whose latest aggregate names missing rows.
    pub fn incomplete(&self) -> u64 {
        let named = self.windows_at.values().filter(|(_, m)| !m.is_empty());
        named.count() as u64
    }

    /// The row times the latest aggregates name missing (each once).
    pub fn missing_in_windows(&self) -> BTreeSet<DateTime<Utc>> {
        (self.windows_at.values())
            .flat_map(|(_, m)| m.iter().copied())
            .collect()
    }

    /// The longest span between two consecutive records beyond one
    /// `resolution` (a hole in the data); `None` without one.
    pub fn largest_gap(&self, resolution: TimeDelta) -> Option<TimeDelta> {
        self.holes()
            .map(|(a, b)| b - a - resolution)
            .filter(|g| *g > TimeDelta::zero())
            .max()
    }

    /// The record times on the `resolution` grid between two consecutive
    /// records with no record of their own: counted (no matter how long
    /// the hole), the first [`NAMED_MISSING`] named.
    pub fn missing_records(&self, resolution: TimeDelta) -> MissingRecords {
        let step = resolution.num_milliseconds().max(1);
        let mut out = MissingRecords::default();
        for (a, b) in self.holes() {
            let span = (b - a).num_milliseconds();
            // The times a + k*step with 0 < k and a + k*step < b.
            let times = (span - 1) / step;
            out.count = out.count.saturating_add(times.max(0) as u64);
            let mut t = a;
            while out.first.len() < NAMED_MISSING {
                match t.checked_add_signed(TimeDelta::milliseconds(step)) {
                    Some(next) if next < b => t = next,
                    _ => break,
                }
                out.first.push(t);
            }
        }
        out
    }

    /// Consecutive record times.
    fn holes(&self) -> impl Iterator<Item = (DateTime<Utc>, DateTime<Utc>)> + '_ {
        let times = self.records_at.keys().copied();
        times.clone().zip(times.skip(1))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_utc;

    fn t(text: &str) -> DateTime<Utc> {
        parse_utc(&format!("2026-11-28T{text}:00")).unwrap()
    }

    #[test]
    fn a_higher_revision_is_a_correction_the_same_or_lower_a_duplicate() {
        let mut k = KeyHealth::default();
        k.record(t("12:00"), 0);
        k.record(t("12:00"), 1);
        k.record(t("12:00"), 1);
        k.record(t("12:00"), 0);
        k.aggregate(t("12:01"), 0, vec![t("12:00")]);
        k.aggregate(t("12:01"), 1, vec![]);
        assert_eq!((k.records(), k.windows()), (1, 1));
        assert_eq!((k.corrections, k.duplicates), (2, 2));
        // The latest aggregate counts: complete.
        assert_eq!(k.incomplete(), 0);
        assert!(k.missing_in_windows().is_empty());
        k.aggregate(t("12:01"), 2, vec![t("11:59")]);
        assert_eq!(k.incomplete(), 1);
        assert_eq!(k.missing_in_windows(), BTreeSet::from([t("11:59")]));
    }

    #[test]
    fn missing_record_times_are_counted_and_the_first_named() {
        let mut k = KeyHealth::default();
        for m in ["10:00", "10:02", "10:03", "10:10", "11:00"] {
            k.record(t(m), 0);
        }
        let missing = k.missing_records(TimeDelta::minutes(1));
        // 10:01; 10:04..10:09 (6); 10:11..10:59 (49).
        assert_eq!(missing.count, 56);
        assert_eq!(
            missing.first,
            [t("10:01"), t("10:04"), t("10:05"), t("10:06"), t("10:07")]
        );
        assert_eq!(
            k.largest_gap(TimeDelta::minutes(1)),
            Some(TimeDelta::minutes(49))
        );
        // Off the grid: 10:00 and 10:02:30 leave 10:01 and 10:02 missing.
        let mut off = KeyHealth::default();
        off.record(t("10:00"), 0);
        off.record(t("10:02") + TimeDelta::seconds(30), 0);
        assert_eq!(off.missing_records(TimeDelta::minutes(1)).count, 2);
        assert_eq!(
            KeyHealth::default()
                .missing_records(TimeDelta::minutes(1))
                .count,
            0
        );
    }

    #[test]
    fn a_hole_of_a_century_is_counted_without_overflow() {
        let mut k = KeyHealth::default();
        k.record(DateTime::<Utc>::MIN_UTC, 0);
        k.record(DateTime::<Utc>::MAX_UTC, 0);
        let missing = k.missing_records(TimeDelta::milliseconds(1));
        assert!(missing.count > 0);
        assert_eq!(missing.first.len(), NAMED_MISSING);
    }
}
