//! Writing one record or aggregate as an Avro datum with apache-avro's
//! schema-aware serializer, at the cost of the JSON form or less:
//!
//! - the writer (its resolved names) is made once per encoder, not per
//!   message ([`Writer`]: it borrows the schema it is kept with);
//! - every Avro record is serialized as a tuple in its schema's field order,
//!   so no field is looked up, and no field name allocated, per message;
//! - a row kept as the API's text is read once with borrowed values
//!   ([`Fields`]): each field goes to its slot ([`Slot`]), and only the
//!   numbers of the known value fields are parsed.

use std::borrow::Cow;
use std::cell::RefCell;
use std::collections::HashMap;

use apache_avro::writer::datum::GenericDatumWriter;
use serde::de::{Deserializer, MapAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq, SerializeTuple, Serializer};
use serde_json::value::RawValue;
use serde_json::{Map, Value};

use crate::aggregate::{Aggregate, FieldStats, Stat};
use crate::dataset::{key_text, Dataset, Row};

/// apache-avro's writer for one schema, made once and kept with the schema.
#[ouroboros::self_referencing]
pub struct Writer {
    schema: apache_avro::Schema,
    #[borrows(schema)]
    #[covariant]
    datum: GenericDatumWriter<'this>,
}

impl Writer {
    /// The writer of `schema` (its names resolved once).
    pub fn of(schema: apache_avro::Schema) -> Result<Writer, apache_avro::Error> {
        Writer::try_new(schema, |s| {
            GenericDatumWriter::builder(s).human_readable(false).build()
        })
    }

    pub fn schema(&self) -> &apache_avro::Schema {
        self.borrow_schema()
    }

    /// Appends `value`'s datum to `out`.
    pub fn write(
        &self,
        out: &mut Vec<u8>,
        value: &impl Serialize,
    ) -> Result<(), apache_avro::Error> {
        self.borrow_datum().write_ser(out, value).map(drop)
    }
}

impl std::fmt::Debug for Writer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Writer").finish_non_exhaustive()
    }
}

/// Where a row's field goes in the records schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slot {
    /// The time and key columns: written from the row's time and key.
    Index,
    /// The Danish time column.
    Dk,
    /// The known value field with this position.
    Value(usize),
}

/// Each column's slot (the time and key columns, the Danish time, the known
/// value fields, `values`, in schema order; `None`: the field goes to
/// `extra`), and the slots of the last row's fields in their order: the
/// API writes every row's fields in one order, so a field is matched by
/// comparing its name with the one at its place, not by hashing it.
#[derive(Debug)]
pub struct Slots {
    by_name: HashMap<String, Slot>,
    last: RefCell<Vec<(String, Option<Slot>)>>,
}

impl Slots {
    pub fn of(dataset: &Dataset, values: &[String]) -> Slots {
        let mut by_name: HashMap<String, Slot> = HashMap::new();
        for column in std::iter::once(&dataset.time_column).chain(&dataset.key_columns) {
            by_name.insert(column.clone(), Slot::Index);
        }
        if let Some(dk) = &dataset.dk_column {
            by_name.insert(dk.clone(), Slot::Dk);
        }
        for (i, field) in values.iter().enumerate() {
            by_name.insert(field.clone(), Slot::Value(i));
        }
        Slots {
            by_name,
            last: RefCell::new(Vec::new()),
        }
    }

    /// The slot of the field `name`, the `at`-th of its row.
    fn get(&self, at: usize, name: &str) -> Option<Slot> {
        let mut last = self.last.borrow_mut();
        if let Some((known, slot)) = last.get(at) {
            if known == name {
                return *slot;
            }
        }
        let slot = self.by_name.get(name).copied();
        if at <= last.len() {
            last.truncate(at);
            last.push((name.to_string(), slot));
        }
        slot
    }

    /// The slot of a field given by name alone (a fixed field).
    fn named(&self, name: &str) -> Option<Slot> {
        self.by_name.get(name).copied()
    }
}

/// One field of a row: parsed (a row's map) or its JSON text (a row kept
/// as the API's text).
#[derive(Clone, Copy)]
enum Field<'a> {
    Parsed(&'a Value),
    Raw(&'a RawValue),
}

impl<'a> Field<'a> {
    fn number(self) -> Option<f64> {
        match self {
            Field::Parsed(v) => v.as_f64(),
            // JSON's numbers are Rust's, and null or text is no number.
            Field::Raw(r) => r.get().parse().ok(),
        }
    }

    /// A string's text, borrowed unless it has escapes.
    fn string(self) -> Option<Cow<'a, str>> {
        match self {
            Field::Parsed(v) => v.as_str().map(Cow::Borrowed),
            Field::Raw(r) => serde_json::from_str::<Key<'a>>(r.get()).ok().map(|k| k.0),
        }
    }

    /// Its JSON text as the JSON form writes it.
    fn json_text(self) -> String {
        match self {
            Field::Parsed(v) => v.to_string(),
            Field::Raw(r) => serde_json::from_str::<Value>(r.get())
                .map_or_else(|_| r.get().to_string(), |v| v.to_string()),
        }
    }
}

/// A string borrowed from the text unless it has escapes.
#[derive(serde::Deserialize)]
struct Key<'a>(#[serde(borrow)] Cow<'a, str>);

/// A row's fields, in order, borrowed from its text.
struct Fields<'a>(Vec<(Cow<'a, str>, &'a RawValue)>);

impl<'de> serde::Deserialize<'de> for Fields<'de> {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct Each;
        impl<'de> Visitor<'de> for Each {
            type Value = Fields<'de>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("a JSON object")
            }
            fn visit_map<M: MapAccess<'de>>(self, mut map: M) -> Result<Fields<'de>, M::Error> {
                let mut out = Vec::with_capacity(map.size_hint().unwrap_or(32));
                while let Some((Key(name), value)) = map.next_entry::<Key<'de>, &'de RawValue>()? {
                    out.push((name, value));
                }
                Ok(Fields(out))
            }
        }
        d.deserialize_map(Each)
    }
}

/// A record's datum, its fields in the records schema's order.
pub struct Record<'a> {
    pub row: &'a Row,
    /// The Danish time, when the dataset has the column.
    dk: Option<Option<Cow<'a, str>>>,
    values: Vec<Option<f64>>,
    extra: Vec<(Cow<'a, str>, String)>,
}

impl<'a> Record<'a> {
    /// The record of `row` (its text read once when it has one; the fields
    /// `row.fixed` replaced as published).
    pub fn of(
        row: &'a Row,
        dataset: &Dataset,
        slots: &Slots,
        known: usize,
    ) -> Result<Record<'a>, serde_json::Error> {
        let mut record = Record {
            row,
            dk: dataset.dk_column.as_ref().map(|_| None),
            values: vec![None; known],
            extra: Vec::new(),
        };
        match &row.raw {
            Some(raw) => {
                let fields: Fields<'a> = serde_json::from_str(raw)?;
                for (at, (name, value)) in fields.0.into_iter().enumerate() {
                    let slot = slots.get(at, &name);
                    record.take(slot, name, Field::Raw(value));
                }
            }
            None => record.each(&row.fields, slots),
        }
        for f in &row.fixed {
            let slot = slots.named(&f.field);
            record.take(slot, Cow::Borrowed(&f.field), Field::Parsed(&f.published));
        }
        Ok(record)
    }

    fn each(&mut self, fields: &'a Map<String, Value>, slots: &Slots) {
        for (at, (name, value)) in fields.iter().enumerate() {
            let slot = slots.get(at, name);
            self.take(slot, Cow::Borrowed(name), Field::Parsed(value));
        }
    }

    /// One field into its slot (a field given twice: the later wins).
    fn take(&mut self, slot: Option<Slot>, name: Cow<'a, str>, value: Field<'a>) {
        match slot {
            Some(Slot::Index) => {}
            Some(Slot::Dk) => self.dk = Some(value.string()),
            Some(Slot::Value(i)) => self.values[i] = value.number().filter(|x| x.is_finite()),
            None => {
                let text = value.json_text();
                match self.extra.iter_mut().find(|(n, _)| *n == name) {
                    Some(entry) => entry.1 = text,
                    None => self.extra.push((name, text)),
                }
            }
        }
    }
}

impl Serialize for Record<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let n = 1 + usize::from(self.dk.is_some()) + self.row.key.len() + self.values.len() + 1;
        let mut t = s.serialize_tuple(n)?;
        t.serialize_element(&self.row.time.timestamp_millis())?;
        if let Some(dk) = &self.dk {
            t.serialize_element(&dk.as_deref())?;
        }
        for key in &self.row.key {
            t.serialize_element(key)?;
        }
        for value in &self.values {
            t.serialize_element(value)?;
        }
        t.serialize_element(&(!self.extra.is_empty()).then_some(Extra(&self.extra)))?;
        t.end()
    }
}

/// The row's other fields, each as its JSON text.
struct Extra<'e, 'a>(&'e [(Cow<'a, str>, String)]);

impl Serialize for Extra<'_, '_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, text) in self.0 {
            map.serialize_entry(name.as_ref(), text)?;
        }
        map.end()
    }
}

fn millis(t: chrono::DateTime<chrono::Utc>) -> i64 {
    t.timestamp_millis()
}

/// An aggregate's datum, its fields in the aggregates schema's order.
pub struct AggregateDatum<'a> {
    pub agg: &'a Aggregate,
    pub stats: &'a [Stat],
}

impl Serialize for AggregateDatum<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        use serde::ser::Error;
        let a = self.agg;
        let c = (a.completeness.as_ref()).ok_or_else(|| S::Error::custom("no completeness"))?;
        let count = |n: u64| i64::try_from(n).map_err(|_| S::Error::custom("count over i64"));
        let mut t = s.serialize_tuple(7 + a.key.len())?;
        t.serialize_element(&a.dataset)?;
        t.serialize_element(&millis(a.window_start))?;
        t.serialize_element(&millis(a.window_end))?;
        t.serialize_element(&count(a.rows)?)?;
        t.serialize_element(&count(c.expected_rows)?)?;
        t.serialize_element(&Missing(&c.missing))?;
        for (_, value) in &a.key {
            let text = key_text(value).unwrap_or_else(|| Cow::Owned(value.to_string()));
            t.serialize_element(text.as_ref())?;
        }
        t.serialize_element(&FieldsDatum(&a.fields, self.stats))?;
        t.end()
    }
}

struct Missing<'a>(&'a [chrono::DateTime<chrono::Utc>]);

impl Serialize for Missing<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut seq = s.serialize_seq(Some(self.0.len()))?;
        for t in self.0 {
            seq.serialize_element(&millis(*t))?;
        }
        seq.end()
    }
}

struct FieldsDatum<'a>(&'a [(String, FieldStats)], &'a [Stat]);

impl Serialize for FieldsDatum<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(self.0.len()))?;
        for (name, stats) in self.0 {
            map.serialize_entry(name, &StatsDatum(stats, self.1))?;
        }
        map.end()
    }
}

/// `FieldStats`: count, then mean, min, max and last (null when not selected
/// or without a value; never NaN or infinite).
struct StatsDatum<'a>(&'a FieldStats, &'a [Stat]);

impl Serialize for StatsDatum<'_> {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        let count = i64::try_from(self.0.count).unwrap_or(i64::MAX);
        let mut t = s.serialize_tuple(5)?;
        t.serialize_element(&count)?;
        for stat in [Stat::Mean, Stat::Min, Stat::Max, Stat::Last] {
            let x = self.1.contains(&stat).then(|| self.0.get(stat)).flatten();
            t.serialize_element(&x.filter(|x| x.is_finite()))?;
        }
        t.end()
    }
}
