//! Which rows a run looks at: sorting and de-duplicating what the API sent,
//! finding the newest complete row time, and cutting the trailing window
//! (`[end - span, end)`, in UTC) that ends just after it.

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
            key: key.map(str::to_string),
            fields,
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
            .map(|r| r.key.unwrap())
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
