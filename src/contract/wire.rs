//! The schema registry's wire format (Confluent's), in one place: a message
//! value framed for a registry is the magic byte `0`, the schema's id as a
//! 4-byte big-endian integer, then the payload: Avro binary for an Avro
//! schema, the JSON text itself for a JSON Schema. [`frame`] writes the
//! header, [`unframe`] splits a value back and says plainly when it is not
//! framed (a plain JSON value of ours starts with `{`).

use std::fmt;

/// The first byte of every framed value.
pub const MAGIC: u8 = 0;

/// The header's length: the magic byte and the 4-byte schema id.
pub const HEADER_LEN: usize = 5;

/// Writes the header for schema `id` at the end of `out`; the payload follows it.
pub fn write_header(id: u32, out: &mut Vec<u8>) {
    out.push(MAGIC);
    out.extend_from_slice(&id.to_be_bytes());
}

/// The framed value: header, then `payload`.
pub fn frame(id: u32, payload: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(HEADER_LEN + payload.len());
    write_header(id, &mut out);
    out.extend_from_slice(payload);
    out
}

/// A framed value split: the schema id and the payload after the header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Framed<'a> {
    pub id: u32,
    pub payload: &'a [u8],
}

/// Why a value is not in the wire format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum NotFramed {
    /// Shorter than the 5-byte header (an empty value included).
    #[error("{}", short(*len))]
    Short { len: usize },
    /// The first byte is not the magic byte 0.
    #[error("{}", BadMagic(*first))]
    Magic { first: u8 },
}

fn short(len: usize) -> String {
    format!(
        "not in the schema registry's wire format: {len} byte(s), shorter than its \
         {HEADER_LEN}-byte header (magic byte 0, 4-byte schema id)"
    )
}

struct BadMagic(u8);

impl fmt::Display for BadMagic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let b = self.0;
        let shown = match b {
            0x20..=0x7e => format!("'{}' (0x{b:02x})", b as char),
            _ => format!("0x{b:02x}"),
        };
        let hint = match b {
            b'{' | b'[' | b'"' => " (a plain JSON value?)",
            _ => "",
        };
        write!(
            f,
            "not in the schema registry's wire format: the first byte is {shown}, \
             not the magic byte 0{hint}"
        )
    }
}

/// Splits a framed value into its schema id and payload.
pub fn unframe(value: &[u8]) -> Result<Framed<'_>, NotFramed> {
    if value.len() < HEADER_LEN {
        // A one-byte value that is not 0 says more by its byte than its length.
        return match value.first() {
            Some(&first) if first != MAGIC => Err(NotFramed::Magic { first }),
            _ => Err(NotFramed::Short { len: value.len() }),
        };
    }
    if value[0] != MAGIC {
        return Err(NotFramed::Magic { first: value[0] });
    }
    let id = u32::from_be_bytes([value[1], value[2], value[3], value[4]]);
    Ok(Framed {
        id,
        payload: &value[HEADER_LEN..],
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn frames_and_splits_back() {
        for (id, payload) in [
            (1, &b"\x02\x04"[..]),
            (0, &b""[..]),
            (u32::MAX, &b"{\"a\":1}"[..]),
            (0x0102_0304, &[0u8; 300][..]),
        ] {
            let framed = frame(id, payload);
            assert_eq!(framed.len(), HEADER_LEN + payload.len());
            assert_eq!(unframe(&framed), Ok(Framed { id, payload }));
        }
        assert_eq!(frame(0x0102_0304, b"x"), b"\x00\x01\x02\x03\x04x");
        let mut out = b"kept".to_vec();
        write_header(7, &mut out);
        assert_eq!(out, b"kept\x00\x00\x00\x00\x07");
    }

    #[test]
    fn says_plainly_when_a_value_is_not_framed() {
        let json = br#"{"dataset":"PowerSystemRightNow"}"#;
        let e = unframe(json).unwrap_err();
        assert_eq!(e, NotFramed::Magic { first: b'{' });
        assert_eq!(
            e.to_string(),
            "not in the schema registry's wire format: the first byte is '{' (0x7b), \
             not the magic byte 0 (a plain JSON value?)"
        );
        assert!(unframe(b"\x01\x00\x00\x00\x01")
            .unwrap_err()
            .to_string()
            .contains("the first byte is 0x01"));
        assert_eq!(unframe(b""), Err(NotFramed::Short { len: 0 }));
        assert_eq!(unframe(b"\x00\x00\x01"), Err(NotFramed::Short { len: 3 }));
        assert_eq!(unframe(b"x"), Err(NotFramed::Magic { first: b'x' }));
        assert!(unframe(b"\x00\x00")
            .unwrap_err()
            .to_string()
            .contains("2 byte(s), shorter than its 5-byte header"));
    }
}
