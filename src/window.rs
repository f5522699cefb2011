//! Which rows a run looks at: sorting what the API sent, finding the newest
//! complete row time, and cutting the trailing window (`[end - span, end)`,
//! in UTC) that ends just after it; the [`Slider`] drops repeated (time, key)
//! rows and has each row checked ([`Quality`]) on its way to a sink.

use std::collections::VecDeque;

use anyhow::Result;
use chrono::{DateTime, TimeDelta, Utc};

use crate::dataset::{Dataset, Row, RowError};
use crate::quality::Quality;

/// Sorts rows by (time, key), as tests feed the [`Slider`] (the binary's rows
/// come sorted by time from `api::Held` or the API). The sort is stable: rows
/// with the same time and key stay in the order received, and the [`Slider`]
/// keeps the first.
#[cfg(test)]
pub fn normalize(mut rows: Vec<Row>) -> Vec<Row> {
    rows.sort_by(|a, b| (a.time, &a.key).cmp(&(b.time, &b.key)));
    rows
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

/// Sliding windows over rows that arrive in time order (a streamed response),
/// holding only one window's rows. Rows of one time are collected into a
/// group; when a later time arrives (or at [`Slider::finish`]) the group is
/// complete and is handed on, sorted by key, with the window ending just
/// after it. Every row is checked by the run's [`Quality`].
pub struct Slider {
    span: TimeDelta,
    resolution: TimeDelta,
    buffer: VecDeque<Row>,
    /// The rows of one time, in the order received; repeats are dropped
    /// when it is complete (sorted by key, they are next to each other).
    group: Vec<Row>,
    quality: Quality,
}

impl Slider {
    /// Windows of `span` over `dataset`'s rows.
    pub fn new(dataset: &Dataset, span: TimeDelta) -> Slider {
        Slider {
            span,
            resolution: dataset.resolution,
            buffer: VecDeque::new(),
            group: Vec::new(),
            quality: Quality::new(dataset),
        }
    }

    /// Takes the next row. Repeats (same time and key) keep the first; a row
    /// older than the current group is an error (the input is not sorted), and
    /// so is a key value seen before with another JSON type (exit 3).
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
        if let Some(t) = group_time.filter(|t| row.time < *t) {
            return Err(RowError::OutOfOrder {
                later: row.time,
                earlier: t,
            }
            .into());
        }
        self.quality.key_types(&row)?;
        if group_time != Some(row.time) {
            self.complete(done)?;
            self.group.push(row);
            return Ok(());
        }
        if !self.group.is_empty() {
            self.group.push(row);
            return Ok(());
        }
        // Only after finish: the completed group is in the buffer.
        let mut same_time = self.buffer.iter().rev().take_while(|r| r.time == row.time);
        match same_time.find(|r| r.key == row.key) {
            Some(kept) => self.quality.repeated(kept, &row),
            None => self.group.push(row),
        }
        Ok(())
    }

    /// Logs the rows that repeated an earlier one with other values (once,
    /// at the end of a run); returns how many.
    pub fn report(&self) -> u64 {
        self.quality.report()
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
        // Stable: of rows with one key, the first received is kept.
        if !group.is_sorted_by(|a, b| a.key <= b.key) {
            group.sort_by(|a, b| a.key.cmp(&b.key));
        }
        let quality = &mut self.quality;
        group.dedup_by(|later, kept| {
            let repeat = later.key == kept.key;
            if repeat {
                quality.repeated(kept, later);
            }
            repeat
        });
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
            fixed: Vec::new(),
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
    fn normalize_sorts_stably() {
        let rows = vec![
            row("2026-11-28T11:59:00", None, 1),
            row("2026-11-28T11:57:00", None, 2),
            row("2026-11-28T11:59:00", None, 3),
            row("2026-11-28T11:58:00", None, 4),
            row("2026-11-28T11:58:00", Some("DK2"), 5),
            row("2026-11-28T11:58:00", Some("DK1"), 6),
        ];
        let tags: Vec<i64> = normalize(rows)
            .iter()
            .map(|r| r.fields["tag"].as_i64().unwrap())
            .collect();
        assert_eq!(
            tags,
            vec![2, 4, 6, 5, 1, 3],
            "repeats stay in received order"
        );
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
            fixed: Vec::new(),
        }
    }

    /// New row ids, window start minute, end minute, rows in the window.
    type Completed = (Vec<String>, u32, u32, usize);

    /// A dataset of `res` minutes keyed by `Area`.
    fn dataset(res: i64) -> Dataset {
        Dataset {
            name: "Test".into(),
            time_column: "Minutes5UTC".into(),
            dk_column: None,
            key_columns: vec!["Area".into()],
            resolution: TimeDelta::minutes(res),
            numbers: Vec::new(),
        }
    }

    /// One [`Completed`] per completed group.
    fn run(rows: Vec<Row>, span: i64, res: i64) -> Result<Vec<Completed>> {
        let mut out = Vec::new();
        let mut s = Slider::new(&dataset(res), TimeDelta::minutes(span));
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

    #[test]
    fn repeats_keep_the_first_received_and_key_types_are_checked() {
        let d = dataset(5);
        let parse = |m: u32, area: serde_json::Value, v: f64| {
            let obj = serde_json::json!({"Minutes5UTC": format!("2026-11-28T11:{m:02}:00"),
                "Area": area, "V": v});
            d.parse_row(obj.as_object().unwrap().clone()).unwrap()
        };
        let mut s = Slider::new(&d, TimeDelta::minutes(10));
        let mut kept = Vec::new();
        let mut done = |new: &[Row], _: Window<'_>| {
            kept.extend(new.iter().map(|r| r.fields["V"].as_f64().unwrap()));
            Ok(())
        };
        for r in [
            parse(50, "A".into(), 1.0),
            parse(50, "A".into(), 2.0),
            parse(50, 1.into(), 3.0),
        ] {
            s.push(r, &mut done).unwrap();
        }
        s.finish(&mut done).unwrap();
        // After finish (a backfill's next chunk) the same time is checked too.
        s.push(parse(50, "A".into(), 4.0), &mut done).unwrap();
        let err = s.push(parse(55, "1".into(), 5.0), &mut done).unwrap_err();
        assert_eq!(crate::failure::exit_of(&err), crate::exit::Exit::Data);
        assert!(err.to_string().contains("the number 1"), "{err}");
        assert_eq!(kept, [3.0, 1.0]);
        assert_eq!(s.report(), 2);
    }
}
