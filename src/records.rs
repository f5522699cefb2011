//! Splits a streamed API response, `{..., "records": [{...}, {...}], ...}`,
//! into the text of each record object, reading the body in large blocks.
//! Each record is then parsed from a slice: serde_json reads a slice several
//! times faster than it reads a stream byte by byte, and only one record's
//! bytes (plus a block) are held at a time, never the whole body.
//!
//! The scanner checks the envelope's structure (an object, string keys,
//! balanced brackets, terminated strings); values other than `records` are
//! skipped, and each record's own syntax is checked by the parser it goes to.

use std::io::{self, Read};

/// Why a body could not be split.
#[derive(Debug)]
pub enum SplitError {
    /// Reading the body failed (connection, timeout, size cap).
    Io(io::Error),
    /// The body is not the expected JSON; says what was found where.
    Syntax(String),
    /// The callback refused a record.
    Stopped(anyhow::Error),
}

const BLOCK: usize = 256 * 1024;

struct Scanner<R> {
    inner: R,
    /// What each read lands in before it is appended to `buf`.
    block: Vec<u8>,
    buf: Vec<u8>,
    /// Next byte to look at.
    pos: usize,
    /// Bytes read before `buf[0]`, for error positions.
    offset: u64,
    eof: bool,
}

impl<R: Read> Scanner<R> {
    /// The byte at `pos + ahead`, reading more when needed; `None` at the end.
    fn peek_at(&mut self, ahead: usize) -> Result<Option<u8>, SplitError> {
        while self.pos + ahead >= self.buf.len() && !self.eof {
            self.fill()?;
        }
        Ok(self.buf.get(self.pos + ahead).copied())
    }

    fn fill(&mut self) -> Result<(), SplitError> {
        let n = loop {
            match self.inner.read(&mut self.block) {
                Ok(n) => break n,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(SplitError::Io(e)),
            }
        };
        self.buf.extend_from_slice(&self.block[..n]);
        self.eof = n == 0;
        Ok(())
    }

    /// Forgets the bytes before `pos` (they were handed on or skipped).
    fn discard(&mut self) {
        if self.pos > BLOCK {
            self.buf.drain(..self.pos);
            self.offset += self.pos as u64;
            self.pos = 0;
        }
    }

    fn syntax(&self, what: &str) -> SplitError {
        SplitError::Syntax(format!("{what} at byte {}", self.offset + self.pos as u64))
    }

    fn skip_whitespace(&mut self) -> Result<Option<u8>, SplitError> {
        loop {
            match self.peek_at(0)? {
                Some(b' ' | b'\n' | b'\r' | b'\t') => self.pos += 1,
                other => return Ok(other),
            }
        }
    }

    fn expect(&mut self, byte: u8, what: &str) -> Result<(), SplitError> {
        if self.skip_whitespace()? == Some(byte) {
            self.pos += 1;
            Ok(())
        } else {
            Err(self.syntax(what))
        }
    }

    /// Moves past a string whose opening quote is at `pos`; returns its raw bytes.
    fn string(&mut self) -> Result<Vec<u8>, SplitError> {
        let start = self.pos + 1;
        let mut i = 1;
        loop {
            match self.peek_at(i)? {
                None => return Err(self.syntax("unterminated string")),
                Some(b'\\') => i += 2,
                Some(b'"') => {
                    let text = self.buf[start..self.pos + i].to_vec();
                    self.pos += i + 1;
                    return Ok(text);
                }
                Some(_) => i += 1,
            }
        }
    }

    /// The length of the value starting at `pos` (after whitespace): a string,
    /// an object or array (brackets balanced, strings respected) or a scalar.
    /// Scans what is buffered in one pass and reads more only at its end.
    fn value_len(&mut self) -> Result<usize, SplitError> {
        let mut depth = 0usize;
        let mut in_string = false;
        let mut escaped = false;
        let mut i = 0;
        loop {
            let avail = &self.buf[self.pos + i..];
            let mut j = 0;
            while j < avail.len() {
                let b = avail[j];
                if in_string {
                    if escaped {
                        escaped = false;
                    } else if b == b'\\' {
                        escaped = true;
                    } else if b == b'"' {
                        in_string = false;
                        if depth == 0 {
                            return Ok(i + j + 1);
                        }
                    } else {
                        // Most of a string is plain: skip to its next quote or backslash.
                        if let Some(k) = avail[j..].iter().position(|&c| c == b'"' || c == b'\\') {
                            j += k;
                            continue;
                        }
                        j = avail.len();
                        continue;
                    }
                } else {
                    match b {
                        b'"' => in_string = true,
                        b'{' | b'[' => depth += 1,
                        b'}' | b']' if depth == 0 => return Ok(i + j),
                        b'}' | b']' => {
                            depth -= 1;
                            if depth == 0 {
                                return Ok(i + j + 1);
                            }
                        }
                        b',' | b' ' | b'\n' | b'\r' | b'\t' if depth == 0 => return Ok(i + j),
                        _ => {}
                    }
                }
                j += 1;
            }
            i += avail.len();
            if self.eof {
                return if depth == 0 && !in_string && i > 0 {
                    Ok(i)
                } else {
                    Err(self.syntax("unexpected end of the body"))
                };
            }
            self.fill()?;
        }
    }
}

/// Hands the text of every object of the body's `records` array to `record`,
/// in order. Returns whether the body had a `records` array.
pub fn split(
    reader: impl Read,
    record: &mut dyn FnMut(&[u8]) -> anyhow::Result<()>,
) -> Result<bool, SplitError> {
    let mut s = Scanner {
        inner: reader,
        block: vec![0; 64 * 1024],
        buf: Vec::with_capacity(2 * BLOCK),
        pos: 0,
        offset: 0,
        eof: false,
    };
    s.expect(b'{', "expected an object")?;
    let mut has_records = false;
    if s.skip_whitespace()? == Some(b'}') {
        s.pos += 1;
    } else {
        loop {
            if s.skip_whitespace()? != Some(b'"') {
                return Err(s.syntax("expected a key"));
            }
            let key = s.string()?;
            s.expect(b':', "expected ':'")?;
            s.skip_whitespace()?;
            if key == b"records" {
                has_records = true;
                records(&mut s, record)?;
            } else {
                let len = s.value_len()?;
                if len == 0 {
                    return Err(s.syntax("expected a value"));
                }
                s.pos += len;
                s.discard();
            }
            match s.skip_whitespace()? {
                Some(b',') => s.pos += 1,
                Some(b'}') => {
                    s.pos += 1;
                    break;
                }
                _ => return Err(s.syntax("expected ',' or '}'")),
            }
        }
    }
    if s.skip_whitespace()?.is_some() {
        return Err(s.syntax("trailing characters"));
    }
    Ok(has_records)
}

fn records<R: Read>(
    s: &mut Scanner<R>,
    record: &mut dyn FnMut(&[u8]) -> anyhow::Result<()>,
) -> Result<(), SplitError> {
    s.expect(b'[', "expected the records array")?;
    if s.skip_whitespace()? == Some(b']') {
        s.pos += 1;
        return Ok(());
    }
    loop {
        if s.skip_whitespace()? != Some(b'{') {
            return Err(s.syntax("expected a record object"));
        }
        let len = s.value_len()?;
        record(&s.buf[s.pos..s.pos + len]).map_err(SplitError::Stopped)?;
        s.pos += len;
        s.discard();
        match s.skip_whitespace()? {
            Some(b',') => s.pos += 1,
            Some(b']') => {
                s.pos += 1;
                return Ok(());
            }
            _ => return Err(s.syntax("expected ',' or ']'")),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Splits `text`, reading it `step` bytes at a time.
    fn records_of(text: &str, step: usize) -> Result<(bool, Vec<String>), String> {
        struct Trickle<'a>(&'a [u8], usize);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
                let n = self.1.min(self.0.len()).min(buf.len());
                buf[..n].copy_from_slice(&self.0[..n]);
                self.0 = &self.0[n..];
                Ok(n)
            }
        }
        let mut out = Vec::new();
        let has = split(Trickle(text.as_bytes(), step), &mut |r| {
            out.push(String::from_utf8(r.to_vec()).unwrap());
            Ok(())
        })
        .map_err(|e| format!("{e:?}"))?;
        Ok((has, out))
    }

    #[test]
    fn splits_records_across_reads() {
        let text = r#"{"total":2,"limit":2,"dataset":"X","filters":"{\"a\":[1]}","records":[{"A":"x}\"]","B":1.5,"C":null,"D":{"e":[1,{}]}}, {"A":"y"}],"sort":"A asc"}"#;
        for step in [1, 2, 3, 7, 64, 10_000] {
            let (has, recs) = records_of(text, step).unwrap();
            assert!(has);
            assert_eq!(
                recs,
                [
                    r#"{"A":"x}\"]","B":1.5,"C":null,"D":{"e":[1,{}]}}"#,
                    r#"{"A":"y"}"#
                ],
                "step {step}"
            );
        }
    }

    #[test]
    fn empty_and_missing_records() {
        assert_eq!(records_of(r#"{"records":[]}"#, 5).unwrap(), (true, vec![]));
        assert_eq!(
            records_of(" { \"total\" : 0 } \n", 5).unwrap(),
            (false, vec![])
        );
        assert_eq!(records_of("{}", 5).unwrap(), (false, vec![]));
    }

    #[test]
    fn refuses_what_is_not_the_envelope() {
        for bad in [
            "<!DOCTYPE html><html></html>",
            "",
            r#"{"records":[{"A":1},{"A":2"#,
            r#"{"records":[{"A":1}"#,
            r#"{"records":[{"A":"unterminated"#,
            r#"{"records":[1,2]}"#,
            r#"{"records":{"A":1}}"#,
            r#"{"total":1"#,
            r#"{"records":[]} trailing"#,
            r#"{"records":[{"A":1} {"A":2}]}"#,
            r#"{total:1}"#,
        ] {
            assert!(records_of(bad, 3).is_err(), "{bad:?} was accepted");
        }
    }

    #[test]
    fn a_refused_record_stops_the_split() {
        let mut seen = 0;
        let result = split(&br#"{"records":[{"A":1},{"A":2}]}"#[..], &mut |_| {
            seen += 1;
            Err(std::io::Error::other("no").into())
        });
        assert!(matches!(result, Err(SplitError::Stopped(_))));
        assert_eq!(seen, 1);
    }
}
