//! CSV (RFC 4180) output: the aggregate table (`window_start,window_end,rows,
//! <key columns>,<field>_<stat>...`) and the records table (UTC time, DK time,
//! key columns, fields). `publish --dry-run` and `consume` both write through here, so their
//! outputs can be diffed.

use std::io::Write;

use anyhow::{Context, Result};
use csv::ByteRecord;
use serde_json::Value;

use super::{Message, Sink, Written};
use crate::aggregate::{Aggregate, Stat};
use crate::dataset::{key_text, Dataset, Row};
use crate::time::format_utc;

/// Shortest round-trip form, as Rust's `Display` writes it (`107`, `0.25`,
/// never an exponent); empty for no value. ryu finds the digits several
/// times faster than `Display` (float formatting led the backfill profile);
/// its rare exponent forms and non-finite values fall back to `Display`.
/// Negative zero (a mean or min of values that round to -0.0) is written `0`.
fn push_number(record: &mut ByteRecord, v: Option<f64>) {
    let Some(mut x) = v else {
        record.push_field(b"");
        return;
    };
    if x == 0.0 {
        x = 0.0;
    }
    if x.is_finite() {
        let mut buf = ryu::Buffer::new();
        let text = buf.format_finite(x);
        if !text.contains('e') {
            record.push_field(text.strip_suffix(".0").unwrap_or(text).as_bytes());
            return;
        }
    }
    record.push_field(x.to_string().as_bytes());
}

#[cfg(test)]
fn number(v: Option<f64>) -> String {
    let mut record = ByteRecord::new();
    push_number(&mut record, v);
    String::from_utf8(record[0].to_vec()).unwrap()
}

/// Which table a [`CsvSink`] writes, and its columns.
#[derive(Debug, Clone)]
pub enum Table {
    Aggregates {
        key_columns: Vec<String>,
        fields: Vec<String>,
        stats: Vec<Stat>,
        /// `expected_rows,missing` at the end of each line (`--completeness`).
        completeness: bool,
    },
    Records {
        dataset: Dataset,
        fields: Vec<String>,
    },
}

impl Table {
    /// The records table (`records`) or the aggregates table of a dataset.
    pub fn of(records: bool, dataset: &Dataset, fields: &[String], stats: &[Stat]) -> Table {
        if records {
            Table::Records {
                dataset: dataset.clone(),
                fields: fields.to_vec(),
            }
        } else {
            Table::Aggregates {
                key_columns: dataset.key_columns.clone(),
                fields: fields.to_vec(),
                stats: stats.to_vec(),
                completeness: false,
            }
        }
    }

    /// The aggregates table with `expected_rows,missing` at the end when `yes`.
    pub fn with_completeness(mut self, yes: bool) -> Table {
        if let Table::Aggregates { completeness, .. } = &mut self {
            *completeness = yes;
        }
        self
    }

    pub fn header(&self) -> Vec<String> {
        match self {
            Table::Aggregates {
                key_columns,
                fields,
                stats,
                completeness,
            } => {
                let mut h: Vec<String> =
                    vec!["window_start".into(), "window_end".into(), "rows".into()];
                h.extend(key_columns.iter().cloned());
                for f in fields {
                    h.extend(stats.iter().map(|s| format!("{f}_{s}")));
                }
                if *completeness {
                    h.extend(["expected_rows".into(), "missing".into()]);
                }
                h
            }
            Table::Records { dataset, fields } => {
                let mut h = vec![dataset.time_column.clone()];
                h.extend(dataset.dk_column.iter().cloned());
                h.extend(dataset.key_columns.iter().cloned());
                h.extend(fields.iter().cloned());
                h
            }
        }
    }

    /// Writes one aggregate's line into `line` (cleared first); no allocation
    /// per field: a backfill writes half a million lines of 38 fields.
    fn aggregate_line(
        agg: &Aggregate,
        key_columns: &[String],
        fields: &[String],
        stats: &[Stat],
        line: &mut ByteRecord,
    ) {
        let mut int = itoa::Buffer::new();
        line.clear();
        line.push_field(format_utc(agg.window_start).as_bytes());
        line.push_field(format_utc(agg.window_end).as_bytes());
        line.push_field(int.format(agg.rows).as_bytes());
        for col in key_columns {
            let value = agg
                .key
                .iter()
                .find(|(c, _)| c == col)
                .and_then(|(_, v)| key_text(v))
                .unwrap_or_default();
            line.push_field(value.as_bytes());
        }
        for f in fields {
            let s = agg
                .fields
                .iter()
                .find(|(name, _)| name == f)
                .map(|(_, s)| *s);
            for &stat in stats {
                match (stat, s) {
                    (Stat::Count, Some(s)) => line.push_field(int.format(s.count).as_bytes()),
                    (_, Some(s)) => push_number(line, s.get(stat)),
                    (_, None) => line.push_field(b""),
                }
            }
        }
    }

    /// `expected_rows` and `missing` (times separated by spaces); empty for a
    /// message that does not say.
    fn completeness_cells(agg: &Aggregate, line: &mut ByteRecord) {
        match &agg.completeness {
            Some(c) => {
                line.push_field(itoa::Buffer::new().format(c.expected_rows).as_bytes());
                let missing: Vec<String> = c.missing.iter().map(|t| format_utc(*t)).collect();
                line.push_field(missing.join(" ").as_bytes());
            }
            None => {
                line.push_field(b"");
                line.push_field(b"");
            }
        }
    }

    fn record_line(row: &Row, dataset: &Dataset, fields: &[String], line: &mut ByteRecord) {
        let text = |col: &str| match row.fields.get(col) {
            Some(Value::String(s)) => s.clone(),
            Some(Value::Null) | None => String::new(),
            Some(other) => other.to_string(),
        };
        line.clear();
        line.push_field(format_utc(row.time).as_bytes());
        if let Some(dk) = dataset.dk_column.as_deref() {
            line.push_field(text(dk).as_bytes());
        }
        for value in &row.key {
            line.push_field(value.as_bytes());
        }
        for f in fields {
            match row.number(f) {
                Ok(v) => push_number(line, v),
                Err(_) => line.push_field(text(f).as_bytes()),
            }
        }
    }
}

/// Writes one table to a writer (stdout in the binary), header first.
pub struct CsvSink<W: Write> {
    out: csv::Writer<super::Watched<W>>,
    table: Table,
    /// The line being written, reused.
    line: ByteRecord,
    header_written: bool,
    written: Written,
}

impl CsvSink<std::io::StdoutLock<'static>> {
    /// A sink writing `table` to stdout.
    pub fn stdout(table: Table) -> Self {
        CsvSink::new(std::io::stdout().lock(), table)
    }
}

impl<W: Write> CsvSink<W> {
    pub fn new(out: W, table: Table) -> Self {
        CsvSink {
            out: csv::WriterBuilder::new()
                .terminator(csv::Terminator::CRLF)
                .from_writer(super::Watched(out)),
            table,
            line: ByteRecord::new(),
            header_written: false,
            written: Written::default(),
        }
    }

    /// Writes the header if not yet written, then `self.line`.
    fn write_line(&mut self) -> Result<()> {
        if !self.header_written {
            self.out
                .write_record(self.table.header())
                .context("writing CSV")?;
            self.header_written = true;
        }
        self.out
            .write_byte_record(&self.line)
            .context("writing CSV")
    }
}

impl<W: Write> Sink for CsvSink<W> {
    fn record(&mut self, row: &Row, _: Message<'_>) -> Result<()> {
        self.write_record(row)
    }

    fn aggregate(&mut self, agg: &Aggregate, _: Message<'_>) -> Result<()> {
        self.write_aggregate(agg)
    }

    fn finish(&mut self) -> Result<Written> {
        self.flush()
    }
}

impl<W: Write> CsvSink<W> {
    /// A records table's line for `row`.
    pub fn write_record(&mut self, row: &Row) -> Result<()> {
        if let Table::Records { dataset, fields } = &self.table {
            Table::record_line(row, dataset, fields, &mut self.line);
            self.write_line()?;
            self.written.record(0);
        }
        Ok(())
    }

    /// An aggregates table's line for `agg`.
    pub fn write_aggregate(&mut self, agg: &Aggregate) -> Result<()> {
        if let Table::Aggregates {
            key_columns,
            fields,
            stats,
            completeness,
        } = &self.table
        {
            Table::aggregate_line(agg, key_columns, fields, stats, &mut self.line);
            if *completeness {
                Table::completeness_cells(agg, &mut self.line);
            }
            self.write_line()?;
            self.written.aggregate(agg, 0);
        }
        Ok(())
    }

    /// Writes the header (once, also for no line) and flushes.
    pub fn flush(&mut self) -> Result<Written> {
        if !self.header_written {
            self.out
                .write_record(self.table.header())
                .context("writing CSV")?;
            self.header_written = true;
        }
        self.out.flush().context("writing CSV")?;
        Ok(self.written)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::aggregate::{Completeness, FieldStats};
    use crate::time::parse_utc;

    fn output(table: Table, f: impl FnOnce(&mut CsvSink<&mut Vec<u8>>)) -> String {
        let mut buf = Vec::new();
        let mut sink = CsvSink::new(&mut buf, table);
        f(&mut sink);
        sink.flush().unwrap();
        drop(sink);
        String::from_utf8(buf).unwrap()
    }

    #[test]
    fn aggregate_table() {
        let agg = Aggregate {
            dataset: "PowerSystemRightNow".into(),
            window_start: parse_utc("2026-11-28T11:55:00").unwrap(),
            window_end: parse_utc("2026-11-28T12:00:00").unwrap(),
            key: Vec::new(),
            rows: 5,
            completeness: Some(Completeness {
                expected_rows: 5,
                missing: vec![parse_utc("2026-11-28T11:57:00").unwrap()],
            }),
            fields: vec![
                ("A".into(), FieldStats::of([1.0, 2.5])),
                ("B".into(), FieldStats::default()),
            ],
        };
        let table = Table::Aggregates {
            key_columns: Vec::new(),
            fields: vec!["A".into(), "B".into()],
            stats: vec![Stat::Count, Stat::Mean, Stat::Last],
            completeness: false,
        };
        let out = output(table.clone(), |s| s.write_aggregate(&agg).unwrap());
        assert_eq!(
            out,
            "window_start,window_end,rows,A_count,A_mean,A_last,B_count,B_mean,B_last\r\n\
             2026-11-28T11:55:00Z,2026-11-28T12:00:00Z,5,2,1.75,2.5,0,,\r\n"
        );
        // --completeness adds two columns at the end, nothing else changes.
        let out = output(table.with_completeness(true), |s| {
            s.write_aggregate(&agg).unwrap()
        });
        assert!(out.starts_with("window_start,window_end,rows,A_count,A_mean,A_last,B_count,B_mean,B_last,expected_rows,missing\r\n"));
        assert!(out.ends_with(",0,,,5,2026-11-28T11:57:00Z\r\n"), "{out}");
    }

    #[test]
    fn numbers_are_written_as_display_writes_them() {
        let samples = [
            0.0,
            -0.0,
            1.0,
            107.0,
            107.019997,
            0.1,
            0.25,
            -383.399994,
            1e15,
            1e16,
            1.5e16,
            1e21,
            1e-5,
            1e-7,
            123456.789e-10,
            f64::MAX,
            f64::MIN_POSITIVE,
            1.0 / 3.0,
            2.0f64.sqrt(),
            -1234.5678,
        ];
        for x in samples.into_iter().filter(|x| *x != 0.0) {
            assert_eq!(number(Some(x)), x.to_string(), "{x:e}");
        }
        assert_eq!(number(None), "");
        assert_eq!(number(Some(f64::NAN)), "NaN");
    }

    #[test]
    fn negative_zero_is_written_as_zero() {
        assert_eq!(number(Some(-0.0)), "0");
        assert_eq!(number(Some(0.0)), "0");
        assert_eq!(number(Some(-0.0 * 1e-300)), "0");
        assert_eq!(number(Some(-1e-300)), (-1e-300f64).to_string());
    }

    #[test]
    fn empty_output_still_has_a_header() {
        let table = Table::Aggregates {
            key_columns: vec!["PriceArea".into(), "ForecastType".into()],
            fields: vec!["A".into()],
            stats: vec![Stat::Max],
            completeness: true,
        };
        assert_eq!(
            output(table, |_| {}),
            "window_start,window_end,rows,PriceArea,ForecastType,A_max,expected_rows,missing\r\n"
        );
    }

    #[test]
    fn records_table_quotes_and_keeps_nulls_empty() {
        let d = Dataset::known("PowerSystemRightNow").unwrap();
        let obj = serde_json::json!({"Minutes1UTC": "2026-11-28T11:59:00", "Minutes1DK": "2026-11-28T12:59:00",
            "A": 0.1, "B": null, "C": "x,y"});
        let row = d.parse_row(obj.as_object().unwrap().clone()).unwrap();
        let table = Table::Records {
            dataset: d,
            fields: vec!["A".into(), "B".into(), "C".into(), "D".into()],
        };
        let out = output(table, |s| s.write_record(&row).unwrap());
        assert_eq!(
            out,
            "Minutes1UTC,Minutes1DK,A,B,C,D\r\n2026-11-28T11:59:00Z,2026-11-28T12:59:00,0.1,,\"x,y\",\r\n"
        );
    }
}
