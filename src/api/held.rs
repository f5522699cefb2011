//! One fetch's records held as their JSON text, sorted by row time, each
//! parsed again when the run emits it, keeping only the fields it aggregates
//! (the record's message is written from the text). A row parsed with all
//! its fields takes about ten times its text (a map of fields), so a run
//! holds about the body's size plus the sliding window's rows, however many
//! rows the fetch brought.

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

/// The size of the blocks the texts are copied into: no allocation (and
/// no allocator overhead) per row, and no copy of what was held as it grows.
const BLOCK: usize = 1 << 20;

/// One record's text of 4 GiB or more (a --max-body that large allows it).
#[derive(Debug, thiserror::Error)]
#[error("a record of {len} bytes is too large to hold (at most 4 GiB)")]
pub struct TooLong {
    len: usize,
}

impl crate::exit::Staged for TooLong {
    fn exit(&self) -> crate::exit::Exit {
        crate::exit::Exit::Data
    }
}

/// Record texts, one after another in blocks, with their row times.
#[derive(Debug, Default)]
pub struct Held {
    blocks: Vec<String>,
    texts: Vec<Place>,
}

/// Where a row's text is, and its time.
#[derive(Debug, Clone, Copy)]
struct Place {
    time: DateTime<Utc>,
    block: u32,
    start: u32,
    len: u32,
}

impl Held {
    /// Keeps a row's text (it must have been parsed with `raw`).
    pub fn push(&mut self, row: Row) -> Result<()> {
        let text = row.raw.ok_or(NoText)?;
        let full = |b: &String| b.len() + text.len() > b.capacity();
        if self.blocks.last().is_none_or(full) {
            self.blocks
                .push(String::with_capacity(BLOCK.max(text.len())));
        }
        let index = self.blocks.len() - 1;
        let block = &mut self.blocks[index];
        let len = u32::try_from(text.len()).map_err(|_| TooLong { len: text.len() })?;
        // A block is BLOCK bytes, or one text alone: its start fits too.
        let start = u32::try_from(block.len()).map_err(|_| TooLong { len: block.len() })?;
        let block_index = u32::try_from(index).map_err(|_| TooLong { len: index })?;
        self.texts.push(Place {
            time: row.time,
            block: block_index,
            start,
            len,
        });
        block.push_str(&text);
        Ok(())
    }

    pub fn len(&self) -> usize {
        self.texts.len()
    }

    pub fn is_empty(&self) -> bool {
        self.texts.is_empty()
    }

    fn text<'h>(blocks: &'h [String], place: &Place) -> &'h str {
        let start = place.start as usize;
        &blocks[place.block as usize][start..start + place.len as usize]
    }

    /// The rows in time order (the response's order within a time), each
    /// parsed as it is taken, keeping the `fields` it names besides the time
    /// and key columns (`None`: all of them) and its text: a record is
    /// written from the API's text, as `backfill` writes it, so that the same
    /// row is the same message value (and digest) whichever command
    /// published it.
    pub fn rows<'d>(
        self,
        dataset: &'d Dataset,
        fields: Option<&'d [String]>,
    ) -> impl Iterator<Item = Result<Row>> + 'd {
        let (blocks, mut texts) = (self.blocks, self.texts);
        texts.sort_by_key(|place| place.time);
        let wanted = fields.map(|f| super::wanted(dataset, f));
        texts.into_iter().map(move |place| {
            let text = Held::text(&blocks, &place);
            let mut row = parse_record(dataset, wanted.as_deref(), false, text.as_bytes())?;
            row.raw = Some(text.into());
            Ok(row)
        })
    }

    /// Each row parsed with all its fields, in the order received (for an
    /// error's details: the fields the rows have).
    pub fn each_whole(&self, dataset: &Dataset, each: &mut dyn FnMut(&Row)) -> Result<()> {
        for place in &self.texts {
            let text = Held::text(&self.blocks, place);
            each(&parse_record(dataset, None, false, text.as_bytes())?);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Texts across block boundaries and larger than a block come back
    /// whole, each with its own row, in time order.
    #[test]
    fn texts_across_blocks_and_larger_than_a_block_come_back_whole() {
        let d = Dataset::known("CO2Emis").unwrap();
        let text = |minute: u32, area: &str, pad: usize| {
            format!(
                r#"{{"Minutes5UTC":"2026-11-28T12:{minute:02}:00","Minutes5DK":"2026-11-28T13:{minute:02}:00","PriceArea":"{area}","CO2Emission":{minute},"Note":"{}"}}"#,
                "x".repeat(pad)
            )
        };
        // 3,000 texts of about 700 bytes (two blocks and more), one of 2.5
        // MiB (a block of its own), then more small ones.
        let mut texts = Vec::new();
        for i in 0..3000 {
            texts.push(text(5 * (i % 2) as u32, &format!("A{i}"), 600));
        }
        texts.push(text(0, "big", 5 << 19));
        for i in 0..10 {
            texts.push(text(5, &format!("B{i}"), 10));
        }
        let mut held = Held::default();
        for t in &texts {
            held.push(parse_record(&d, None, true, t.as_bytes()).unwrap())
                .unwrap();
        }
        assert_eq!(held.len(), texts.len());
        assert!(held.blocks.len() >= 4, "{} blocks", held.blocks.len());
        let rows: Vec<Row> = held.rows(&d, None).collect::<Result<_>>().unwrap();
        // Time order, stable: the 12:00 texts in the order pushed, then 12:05.
        let mut expected: Vec<&String> = texts.iter().filter(|t| t.contains("T12:00")).collect();
        expected.extend(texts.iter().filter(|t| t.contains("T12:05")));
        assert_eq!(rows.len(), expected.len());
        for (row, text) in rows.iter().zip(expected) {
            assert_eq!(row.raw.as_deref(), Some(text.as_str()));
        }
    }

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
        let rows: Vec<Row> = held.rows(&d, None).collect::<Result<_>>().unwrap();
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
            rows.iter().all(|r| r.raw.is_some()),
            "written from its text"
        );
        // The same row, as backfill parses it (a few fields and the text):
        // the same record value.
        let text = br#"{"Minutes5UTC":"2026-11-28T12:00:00","Minutes5DK":"2026-11-28T13:00:00","PriceArea":"DK1","CO2Emission":2.500000}"#;
        let mut held = Held::default();
        held.push(parse_record(&d, None, true, text).unwrap())
            .unwrap();
        let published = held.rows(&d, None).next().unwrap().unwrap();
        let wanted = ["Minutes5UTC", "PriceArea", "CO2Emission"];
        let backfilled = parse_record(&d, Some(&wanted), true, text).unwrap();
        let (mut a, mut b) = (Vec::new(), Vec::new());
        published.write_json("Minutes5UTC", &mut a).unwrap();
        backfilled.write_json("Minutes5UTC", &mut b).unwrap();
        assert_eq!(String::from_utf8_lossy(&a), String::from_utf8_lossy(&b));
        // Parsed with the fields it aggregates only: the same record value.
        let mut held = Held::default();
        held.push(parse_record(&d, None, true, text).unwrap())
            .unwrap();
        let asked = ["CO2Emission".to_string()];
        let lean = held.rows(&d, Some(&asked)).next().unwrap().unwrap();
        assert_eq!(lean.fields.len(), 4, "{:?}", lean.fields);
        assert_eq!(lean.number("CO2Emission").unwrap(), Some(2.5));
        let mut c = Vec::new();
        lean.write_json("Minutes5UTC", &mut c).unwrap();
        assert_eq!(String::from_utf8_lossy(&a), String::from_utf8_lossy(&c));
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
