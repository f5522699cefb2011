//! One fetch's records held as their JSON text, sorted by row time, each
//! parsed again when the run emits it. A parsed row takes about ten times
//! its text (a map of fields), so a run holds about the body's size plus the
//! sliding window's rows, however many rows the fetch brought.

use anyhow::Result;
use chrono::{DateTime, Utc};

use super::record::parse_record;
use crate::dataset::{Dataset, Row};

/// A row parsed without its text was to be held: a bug (exit 1).
#[derive(Debug, thiserror::Error)]
#[error("a held row needs its text (parse it with RowShape::raw)")]
pub struct NoText;

impl crate::exit::Staged for NoText {
    fn exit(&self) -> crate::exit::Exit {
        crate::exit::Exit::Internal
    }
}

/// Record texts with their row times.
#[derive(Debug, Default)]
pub struct Held {
    texts: Vec<(DateTime<Utc>, Box<str>)>,
}

impl Held {
    /// Keeps a row's text (it must have been parsed with `raw`).
    pub fn push(&mut self, row: Row) -> Result<()> {
        let text = row.raw.ok_or(NoText)?;
        self.texts.push((row.time, text));
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.texts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    /// The rows in time order (the response's order within a time), each
    /// parsed as it is taken; a text is freed once its row is.
    pub fn rows(self, dataset: &Dataset) -> impl Iterator<Item = Result<Row>> + '_ {
        let mut texts = self.texts;
        texts.sort_by_key(|(time, _)| *time);
        texts
            .into_iter()
            .map(move |(_, text)| parse_record(dataset, None, false, text.as_bytes()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_come_back_parsed_in_time_order() {
        let d = Dataset::known("CO2Emis").unwrap();
        let mut held = Held::default();
        for (t, area, v) in [
            ("12:05", "DK1", 1),
            ("12:00", "DK2", 2),
            ("12:00", "DK1", 3),
        ] {
            let text = format!(
                r#"{{"Minutes5UTC":"2026-11-28T{t}:00","Minutes5DK":"2026-11-28T{t}:00","PriceArea":"{area}","CO2Emission":{v}}}"#
            );
            held.push(parse_record(&d, None, true, text.as_bytes()).unwrap())
                .unwrap();
        }
        assert_eq!(held.len(), 3);
        let rows: Vec<Row> = held.rows(&d).collect::<Result<_>>().unwrap();
        let seen: Vec<(String, &str, Option<f64>)> = rows
            .iter()
            .map(|r| {
                (
                    crate::time::format_utc(r.time),
                    r.key[0].as_str(),
                    r.number("CO2Emission").unwrap(),
                )
            })
            .collect();
        assert_eq!(
            seen,
            [
                ("2026-11-28T12:00:00Z".to_string(), "DK2", Some(2.0)),
                ("2026-11-28T12:00:00Z".to_string(), "DK1", Some(3.0)),
                ("2026-11-28T12:05:00Z".to_string(), "DK1", Some(1.0)),
            ]
        );
        assert!(
            rows.iter().all(|r| r.raw.is_none()),
            "written from its fields"
        );
        let unparsed = parse_record(
            &d,
            None,
            false,
            br#"{"Minutes5UTC":"2026-11-28T12:00:00","PriceArea":"DK1"}"#,
        )
        .unwrap();
        assert!(Held::default().push(unparsed).is_err());
    }
}
