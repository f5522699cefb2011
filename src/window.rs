//! Which rows a run looks at: sorting and de-duplicating what the API sent,
//! finding the newest complete row time, and cutting the trailing window
//! (`[end - span, end)`, in UTC) that ends just after it.

use std::collections::{HashSet, VecDeque};

use anyhow::{bail, Result};
use chrono::{DateTime, TimeDelta, Utc};

use crate::dataset::Row;

/// Sorts rows by (time, key) and keeps the first of any rows with the same
/// time and key.
pub fn normalize(mut rows: Vec<Row>) -> Vec<Row> {
    // A stable sort keeps the rows' received order among equals, so the first
    // received copy of a duplicate is the one kept.
    rows.sort_by(|a, b| (a.time, &a.key).cmp(&(b.time, &b.key)));
    rows.dedup_by(|later, earlier| later.time == earlier.time && later.key == earlier.key);
    rows
}

/// The newest row time strictly before `limit` (rows sorted by time).
pub fn newest_before(rows: &[Row], limit: DateTime<Utc>) -> Option<DateTime<Utc>> {
    let n = rows.partition_point(|r| r.time < limit);
    n.checked_sub(1).map(|i| rows[i].time)
}

/// A time span `[start, end)` and the rows in it.
#[derive(Debug, Clone, Copy)]
pub struct Window<'a> {
    pub start: DateTime<Utc>,
    pub end: DateTime<Utc>,
    pub rows: &'a [Row],
}

/// The window `[end - span, end)` over rows sorted by time.
pub fn ending_at(rows: &[Row], end: DateTime<Utc>, span: TimeDelta) -> Window<'_> {
    let start = end - span;
    let from = rows.partition_point(|r| r.time < start);
    let to = rows.partition_point(|r| r.time < end);
    Window {
        start,
        end,
        rows: &rows[from..to.max(from)],
    }
}

/// The rows with `start <= time < end` (sorted input), as an owned vector.
pub fn keep_between(rows: Vec<Row>, start: DateTime<Utc>, end: DateTime<Utc>) -> Vec<Row> {
    rows.into_iter()
        .filter(|r| r.time >= start && r.time < end)
        .collect()
}

/// Sliding windows over rows that arrive in time order (a streamed response),
/// holding only one window's rows. Rows of one time are collected into a
/// group; when a later time arrives (or at [`Slider::finish`]) the group is
/// complete and is handed on, sorted by key, with the window ending just
/// after it.
pub struct Slider {
    span: TimeDelta,
    resolution: TimeDelta,
    buffer: VecDeque<Row>,
    group: Vec<Row>,
    /// The key combinations in `group`, for the duplicate check.
    group_keys: HashSet<Vec<String>>,
}

impl Slider {
    pub fn new(span: TimeDelta, resolution: TimeDelta) -> Slider {
        Slider {
            span,
            resolution,
            buffer: VecDeque::new(),
            group: Vec::new(),
            group_keys: HashSet::new(),
        }
    }

    /// Takes the next row. Duplicates (same time and key) keep the first;
    /// a row older than the current group is an error (the input is not sorted).
    pub fn push(
        &mut self,
        row: Row,
        done: &mut dyn FnMut(&[Row], Window<'_>) -> Result<()>,
    ) -> Result<()> {
        let group_time = self
            .group
            .first()
            .map(|r| r.time)
            .or_else(|| self.buffer.back().map(|r| r.time));
        match group_time {
            Some(t) if row.time < t => {
                bail!("rows are not in time order: {} after {}", row.time, t)
            }
            Some(t) if row.time == t => {
                let duplicate = if self.group.is_empty() {
                    // Only after finish: the completed group is in the buffer.
                    let mut same_time = self.buffer.iter().rev().take_while(|r| r.time == t);
                    same_time.any(|r| r.key == row.key)
                } else {
                    self.group_keys.contains(&row.key)
                };
                if !duplicate {
                    self.group_keys.insert(row.key.clone());
                    self.group.push(row);
                }
                Ok(())
            }
            _ => {
                self.complete(done)?;
                self.group_keys.insert(row.key.clone());
                self.group.push(row);
                Ok(())
            }
        }
    }

    /// Completes the last group.
    pub fn finish(&mut self, done: &mut dyn FnMut(&[Row], Window<'_>) -> Result<()>) -> Result<()> {
        self.complete(done)
    }

    fn complete(&mut self, done: &mut dyn FnMut(&[Row], Window<'_>) -> Result<()>) -> Result<()> {
        if self.group.is_empty() {
            return Ok(());
        }
        let mut group = std::mem::take(&mut self.group);
        self.group_keys.clear();
        group.sort_by(|a, b| a.key.cmp(&b.key));
        let end = group[0].time + self.resolution;
        let start = end - self.span;
        while self.buffer.front().is_some_and(|r| r.time < start) {
            self.buffer.pop_front();
        }
        let first_new = self.buffer.len();
        self.buffer.extend(group);
        let rows = self.buffer.make_contiguous();
        done(&rows[first_new..], Window { start, end, rows })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_utc;
    use serde_json::Map;

    fn row(t: &str, key: Option<&str>, tag: i64) -> Row {
        let mut fields = Map::new();
        fields.insert("tag".into(), tag.into());
        Row {
            time: parse_utc(t).unwrap(),
            key: key.map(|k| vec![k.to_string()]).unwrap_or_default(),
            fields,
            raw: None,
        }
    }

    fn minutes(from: u32, to: u32) -> Vec<Row> {
        (from..=to)
            .map(|m| row(&format!("2026-11-28T11:{m:02}:00"), None, m.into()))
            .collect()
    }

    fn t(s: &str) -> DateTime<Utc> {
        parse_utc(s).unwrap()
    }

    #[test]
    fn normalize_sorts_and_keeps_first_duplicate() {
        let rows = vec![
            row("2026-11-28T11:59:00", None, 1),
            row("2026-11-28T11:57:00", None, 2),
            row("2026-11-28T11:59:00", None, 3),
            row("2026-11-28T11:58:00", None, 4),
        ];
        let out = normalize(rows);
        let tags: Vec<i64> = out
            .iter()
            .map(|r| r.fields["tag"].as_i64().unwrap())
            .collect();
        assert_eq!(tags, vec![2, 4, 1]);
    }

    #[test]
    fn normalize_keeps_one_row_per_key() {
        let rows = vec![
            row("2026-11-28T11:55:00", Some("DK2"), 1),
            row("2026-11-28T11:55:00", Some("DK1"), 2),
            row("2026-11-28T11:55:00", Some("DK2"), 3),
        ];
        let keys: Vec<_> = normalize(rows)
            .into_iter()
            .map(|r| r.key[0].clone())
            .collect();
        assert_eq!(keys, vec!["DK1", "DK2"]);
    }

    #[test]
    fn newest_before_excludes_the_limit_minute() {
        let rows = minutes(50, 59);
        // A row at the floored minute itself is not complete yet: excluded.
        assert_eq!(
            newest_before(&rows, t("2026-11-28T11:59:00")),
            Some(t("2026-11-28T11:58:00"))
        );
        assert_eq!(
            newest_before(&rows, t("2026-11-28T12:00:00")),
            Some(t("2026-11-28T11:59:00"))
        );
        assert_eq!(newest_before(&rows, t("2026-11-28T11:50:00")), None);
    }

    #[test]
    fn window_is_half_open() {
        let rows = minutes(50, 59);
        let w = ending_at(&rows, t("2026-11-28T12:00:00"), TimeDelta::minutes(5));
        assert_eq!(w.start, t("2026-11-28T11:55:00"));
        let first_last = (w.rows[0].time, w.rows[w.rows.len() - 1].time);
        assert_eq!(
            first_last,
            (t("2026-11-28T11:55:00"), t("2026-11-28T11:59:00"))
        );
        assert_eq!(w.rows.len(), 5);
    }

    #[test]
    fn missing_minute_shrinks_the_window() {
        let rows: Vec<Row> = minutes(50, 59)
            .into_iter()
            .filter(|r| r.time != t("2026-11-28T11:57:00"))
            .collect();
        let w = ending_at(&rows, t("2026-11-28T12:00:00"), TimeDelta::minutes(5));
        assert_eq!(w.rows.len(), 4);
    }

    #[test]
    fn keep_between_filters_exactly() {
        let rows = minutes(50, 59);
        let kept = keep_between(rows, t("2026-11-28T11:52:00"), t("2026-11-28T11:54:00"));
        assert_eq!(kept.len(), 2);
    }
}

#[cfg(test)]
mod slider_tests {
    use super::*;
    use crate::time::parse_utc;
    use serde_json::Map;

    fn row(m: u32, key: Option<&str>) -> Row {
        Row {
            time: parse_utc(&format!("2026-11-28T11:{m:02}:00")).unwrap(),
            key: key.map(|k| vec![k.to_string()]).unwrap_or_default(),
            fields: Map::new(),
            raw: None,
        }
    }

    /// New row ids, window start minute, end minute, rows in the window.
    type Completed = (Vec<String>, u32, u32, usize);

    /// One [`Completed`] per completed group.
    fn run(rows: Vec<Row>, span: i64, res: i64) -> Result<Vec<Completed>> {
        let mut out = Vec::new();
        let mut s = Slider::new(TimeDelta::minutes(span), TimeDelta::minutes(res));
        let mut done = |new: &[Row], w: Window<'_>| {
            let minute = |t: DateTime<Utc>| t.format("%M").to_string().parse::<u32>().unwrap();
            out.push((
                new.iter().map(|r| r.message_key().to_string()).collect(),
                minute(w.start),
                minute(w.end),
                w.rows.len(),
            ));
            Ok(())
        };
        for r in rows {
            s.push(r, &mut done)?;
        }
        s.finish(&mut done)?;
        Ok(out)
    }

    #[test]
    fn one_window_per_row_time() {
        let out = run((50..=56).map(|m| row(m, None)).collect(), 5, 1).unwrap();
        assert_eq!(out.len(), 7);
        assert_eq!(out[0].1..out[0].2, 46..51);
        assert_eq!(out[0].3, 1);
        assert_eq!((out[6].1, out[6].2, out[6].3), (52, 57, 5));
    }

    #[test]
    fn matches_the_batch_window() {
        let rows: Vec<Row> = (30..=59)
            .filter(|m| m % 7 != 0)
            .map(|m| row(m, None))
            .collect();
        let out = run(rows.clone(), 5, 1).unwrap();
        for (new, _, end, n) in out {
            let t = parse_utc(&new[0].replace('Z', "")).unwrap();
            let batch = ending_at(&rows, t + TimeDelta::minutes(1), TimeDelta::minutes(5));
            assert_eq!(batch.rows.len(), n, "window ending at minute {end}");
        }
    }

    #[test]
    fn keyed_groups_are_sorted_and_deduplicated() {
        let rows = vec![
            row(50, Some("DK2")),
            row(50, Some("DK1")),
            row(50, Some("DK2")),
            row(55, Some("DK1")),
        ];
        let out = run(rows, 10, 5).unwrap();
        assert_eq!(
            out[0].0,
            ["2026-11-28T11:50:00Z/DK1", "2026-11-28T11:50:00Z/DK2"]
        );
        assert_eq!(out[1].3, 3);
    }

    #[test]
    fn unsorted_input_is_an_error() {
        assert!(run(vec![row(51, None), row(50, None)], 5, 1).is_err());
    }
}
