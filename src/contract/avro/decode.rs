//! Avro binary back to JSON, driven by the writer schema: records and maps
//! as objects in the order written (the aggregate's fields keep theirs),
//! unions as their value, timestamps as `...Z` text, enums as their symbol.
//! For a record schema of ours, the `extra` map is spread back into the
//! object and a null string column (the Danish time a row did not have) is
//! left out, which gives the JSON form of the contract.
//!
//! A payload is untrusted: lengths and counts are checked against the bytes
//! left before anything is allocated, nesting is bounded, and bytes left
//! after the value are an error (a payload read with the wrong schema).

use apache_avro::schema::{NamesRef, RecordSchema, ResolvedSchema, Schema};
use chrono::{DateTime, NaiveDateTime, Utc};
use serde_json::{Map, Number, Value};

use super::{AvroError, EXTRA, NAMESPACE};

/// The deepest nesting decoded (our schemas nest 4 deep).
const MAX_DEPTH: usize = 64;

/// Decodes one Avro datum written with `writer` into JSON.
pub fn decode(writer: &Schema, payload: &[u8]) -> Result<Value, AvroError> {
    let resolved = ResolvedSchema::try_from(writer).map_err(|e| AvroError::Schema {
        source: Box::new(e),
    })?;
    let mut d = Decoder {
        bytes: payload,
        at: 0,
        names: resolved.get_names(),
    };
    let value = d.value(writer, 0)?;
    if d.at != payload.len() {
        return Err(d.error(format!(
            "{} byte(s) left after the value (written with another schema?)",
            payload.len() - d.at
        )));
    }
    Ok(value)
}

struct Decoder<'b, 'n, 's> {
    bytes: &'b [u8],
    at: usize,
    names: &'n NamesRef<'s>,
}

impl Decoder<'_, '_, '_> {
    fn error(&self, why: impl Into<String>) -> AvroError {
        AvroError::Decode {
            why: why.into(),
            at: self.at,
        }
    }

    fn left(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn take(&mut self, n: usize) -> Result<&[u8], AvroError> {
        if n > self.left() {
            return Err(self.error(format!("{n} byte(s) wanted, {} left", self.left())));
        }
        let out = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(out)
    }

    /// A zig-zag varint of at most 10 bytes.
    fn long(&mut self) -> Result<i64, AvroError> {
        let mut n: u64 = 0;
        for i in 0..10 {
            let b = self.take(1)?[0];
            n |= u64::from(b & 0x7f) << (7 * i);
            if b & 0x80 == 0 {
                return Ok((n >> 1) as i64 ^ -((n & 1) as i64));
            }
        }
        Err(self.error("a varint longer than 10 bytes"))
    }

    fn int(&mut self) -> Result<i32, AvroError> {
        let n = self.long()?;
        i32::try_from(n).map_err(|_| self.error(format!("int {n} out of range")))
    }

    /// A length or count that the bytes left can hold (one byte an item at least).
    fn len(&mut self, what: &str) -> Result<usize, AvroError> {
        let n = self.long()?;
        match usize::try_from(n) {
            Ok(n) if n <= self.left() => Ok(n),
            _ => Err(self.error(format!("{what} {n} with {} byte(s) left", self.left()))),
        }
    }

    fn text(&mut self) -> Result<String, AvroError> {
        let n = self.len("string length")?;
        let bytes = self.take(n)?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_string()),
            Err(_) => Err(self.error("a string that is not UTF-8")),
        }
    }

    fn double(&mut self, bytes: usize) -> Result<Value, AvroError> {
        let b = self.take(bytes)?;
        let x = match bytes {
            4 => f64::from(f32::from_le_bytes([b[0], b[1], b[2], b[3]])),
            _ => f64::from_le_bytes([b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7]]),
        };
        Ok(Number::from_f64(x).map_or(Value::Null, Value::Number))
    }

    /// Each item of an array or map's blocks: `item` reads one.
    fn blocks(
        &mut self,
        mut item: impl FnMut(&mut Self) -> Result<(), AvroError>,
    ) -> Result<(), AvroError> {
        loop {
            let mut count = self.long()?;
            if count == 0 {
                return Ok(());
            }
            if count < 0 {
                count = count
                    .checked_neg()
                    .ok_or_else(|| self.error("bad block count"))?;
                self.len("block size")?;
            }
            if count as u64 > self.left() as u64 {
                return Err(self.error(format!(
                    "block of {count} item(s) with {} byte(s) left",
                    self.left()
                )));
            }
            for _ in 0..count {
                item(self)?;
            }
        }
    }

    fn value(&mut self, schema: &Schema, depth: usize) -> Result<Value, AvroError> {
        if depth > MAX_DEPTH {
            return Err(self.error(format!("nested deeper than {MAX_DEPTH}")));
        }
        Ok(match schema {
            Schema::Null => Value::Null,
            Schema::Boolean => match self.take(1)?[0] {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                b => return Err(self.error(format!("boolean byte {b}"))),
            },
            Schema::Int | Schema::TimeMillis => Value::from(self.int()?),
            Schema::Long | Schema::TimeMicros => Value::from(self.long()?),
            Schema::Float => self.double(4)?,
            Schema::Double => self.double(8)?,
            Schema::String | Schema::Uuid(apache_avro::schema::UuidSchema::String) => {
                Value::String(self.text()?)
            }
            Schema::Date => {
                let days = self.int()?;
                let date = chrono::NaiveDate::from_epoch_days(days)
                    .ok_or_else(|| self.error(format!("date {days} out of range")))?;
                Value::String(date.format("%Y-%m-%d").to_string())
            }
            Schema::TimestampMillis => self.time(1_000, true)?,
            Schema::TimestampMicros => self.time(1_000_000, true)?,
            Schema::TimestampNanos => self.time(1_000_000_000, true)?,
            Schema::LocalTimestampMillis => self.time(1_000, false)?,
            Schema::LocalTimestampMicros => self.time(1_000_000, false)?,
            Schema::LocalTimestampNanos => self.time(1_000_000_000, false)?,
            Schema::Array(_)
            | Schema::Map(_)
            | Schema::Union(_)
            | Schema::Record(_)
            | Schema::Enum(_)
            | Schema::Ref { .. } => self.complex(schema, depth)?,
            other => {
                let kind = apache_avro::schema::SchemaKind::from(other);
                return Err(self.error(format!(
                    "the writer schema's type {kind:?} is not read here"
                )));
            }
        })
    }

    /// Arrays, maps, unions, records, enums and named references.
    fn complex(&mut self, schema: &Schema, depth: usize) -> Result<Value, AvroError> {
        Ok(match schema {
            Schema::Array(a) => {
                let mut items = Vec::new();
                self.blocks(|d| {
                    items.push(d.value(&a.items, depth + 1)?);
                    Ok(())
                })?;
                Value::Array(items)
            }
            Schema::Map(m) => {
                let mut map = Map::new();
                self.blocks(|d| {
                    let key = d.text()?;
                    let value = d.value(&m.types, depth + 1)?;
                    map.insert(key, value);
                    Ok(())
                })?;
                Value::Object(map)
            }
            Schema::Union(u) => {
                let index = self.long()?;
                let branch = usize::try_from(index)
                    .ok()
                    .and_then(|i| u.variants().get(i));
                let count = u.variants().len();
                let branch =
                    branch.ok_or_else(|| self.error(format!("union branch {index} of {count}")))?;
                self.value(branch, depth + 1)?
            }
            Schema::Record(r) => self.record(r, depth)?,
            Schema::Enum(e) => {
                let index = self.int()?;
                let symbol = usize::try_from(index).ok().and_then(|i| e.symbols.get(i));
                let count = e.symbols.len();
                let symbol =
                    symbol.ok_or_else(|| self.error(format!("enum symbol {index} of {count}")))?;
                Value::String(symbol.clone())
            }
            Schema::Ref { name } => {
                let target = self.names.get(name).copied();
                let target = target.ok_or_else(|| self.error(format!("unknown type {name}")))?;
                self.value(target, depth + 1)?
            }
            _ => unreachable!("value() passes only complex types"),
        })
    }

    /// A timestamp: `units` a second since the epoch, UTC (`...Z`) or local.
    fn time(&mut self, units: i64, utc: bool) -> Result<Value, AvroError> {
        let n = self.long()?;
        let (secs, frac) = (n.div_euclid(units), n.rem_euclid(units));
        let nanos = frac * (1_000_000_000 / units);
        let t = DateTime::<Utc>::from_timestamp(secs, nanos as u32)
            .ok_or_else(|| self.error(format!("timestamp {n} out of range")))?;
        let digits = match (frac, units) {
            (0, _) => "",
            (_, 1_000) => "%.3f",
            (_, 1_000_000) => "%.6f",
            _ => "%.9f",
        };
        let naive: NaiveDateTime = t.naive_utc();
        let z = if utc { "Z" } else { "" };
        Ok(Value::String(format!(
            "{}{z}",
            naive.format(&format!("%Y-%m-%dT%H:%M:%S{digits}"))
        )))
    }

    fn record(&mut self, r: &RecordSchema, depth: usize) -> Result<Value, AvroError> {
        let ours = r.name.namespace() == Some(NAMESPACE) && r.lookup.contains_key(EXTRA);
        let mut object = Map::new();
        for field in &r.fields {
            let value = self.value(&field.schema, depth + 1)?;
            if !ours {
                object.insert(field.name.clone(), value);
            } else if field.name == EXTRA {
                self.spread(&mut object, value)?;
            } else if !(value.is_null() && is_optional_string(&field.schema)) {
                object.insert(field.name.clone(), value);
            }
        }
        Ok(Value::Object(object))
    }

    /// Puts a record's `extra` fields (name to JSON text) back into it.
    fn spread(&self, object: &mut Map<String, Value>, extra: Value) -> Result<(), AvroError> {
        let Value::Object(extra) = extra else {
            return Ok(());
        };
        for (name, text) in extra {
            let text = text.as_str().unwrap_or_default();
            let value: Value = serde_json::from_str(text)
                .map_err(|_| self.error(format!("{EXTRA} field {name} is not JSON text")))?;
            object.entry(name).or_insert(value);
        }
        Ok(())
    }
}

/// `["null","string"]`: the Danish time column of our records.
fn is_optional_string(schema: &Schema) -> bool {
    matches!(schema, Schema::Union(u)
        if u.variants().len() == 2 && u.variants().iter().all(|v| matches!(v, Schema::Null | Schema::String)))
}
