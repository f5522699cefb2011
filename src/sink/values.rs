//! How the Kafka sink writes message values: plain JSON (the emitter's text
//! as it is, the default), or framed for a schema registry (Confluent's wire
//! format, [`crate::contract::wire`]): Avro ([`crate::contract::avro`]) or
//! the JSON text itself under our JSON Schema ([`crate::contract::schema`]).
//!
//! Each topic's schema is registered (with `--no-register` only looked up)
//! under `<topic>-value` once per run, before anything is published
//! ([`Values::prepare`]); every message then only writes the 5-byte header
//! and its payload, no registry call. Keys and headers do not change: the
//! `eds-digest` header stays the digest of the value's JSON text whatever
//! the value holds, so the cursor's review compares a framed topic as it
//! compares a JSON one.

use anyhow::Result;

use super::kafka::Topics;
use crate::aggregate::{Aggregate, Stat};
use crate::contract::avro::{AvroError, Encoder};
use crate::contract::schema::{self, Kind};
use crate::contract::wire;
use crate::dataset::{Dataset, Row};
use crate::registry::{subject, Registrar, Registry, RegistryConfig, SchemaType};

/// How a run writes its message values.
#[derive(Debug, Clone, PartialEq)]
pub enum ValueFormat {
    /// Plain JSON (`--value-format json`).
    Json,
    /// Framed for a schema registry (`avro`, `json-sr`).
    Registry(Box<RegistryOutput>),
}

/// The registry a framed format writes with.
#[derive(Debug, Clone, PartialEq)]
pub struct RegistryOutput {
    /// Avro, or JSON (JSON Schema).
    pub schema_type: SchemaType,
    pub registry: RegistryConfig,
    /// `false` for `--no-register`: look up only.
    pub register: bool,
}

impl ValueFormat {
    /// Its `--value-format` name.
    pub fn name(&self) -> &'static str {
        match self {
            ValueFormat::Json => "json",
            ValueFormat::Registry(r) if r.schema_type == SchemaType::Avro => "avro",
            ValueFormat::Registry(_) => "json-sr",
        }
    }
}

/// One topic's framing: its schema id, and for Avro the encoder.
#[derive(Debug)]
struct Framing {
    id: u32,
    avro: Option<Encoder>,
}

/// A run's value writer: what each message value is.
#[derive(Debug, Default)]
pub struct Values {
    records: Option<Framing>,
    aggregates: Option<Framing>,
    /// The statistics an Avro aggregate carries (the others null).
    stats: Vec<Stat>,
}

impl Values {
    /// Plain JSON: every value is the emitter's text.
    pub fn json() -> Values {
        Values::default()
    }

    /// The writer of `format` for `topics`: for a framed format, each
    /// topic's schema registered or looked up, once (a registry that cannot
    /// be reached, a 409, a subject without the schema under
    /// `--no-register`: the error, and nothing is published).
    pub fn prepare(
        format: &ValueFormat,
        topics: &Topics,
        dataset: &Dataset,
        stats: &[Stat],
    ) -> Result<Values> {
        let ValueFormat::Registry(output) = format else {
            return Ok(Values::json());
        };
        let registry = Registry::new(output.registry.clone())?;
        let mut registrar = Registrar::new(registry, output.register);
        let mut framing = |topic: Option<&String>, kind: Kind| -> Result<Option<Framing>> {
            let Some(topic) = topic else {
                return Ok(None);
            };
            framing(&mut registrar, output.schema_type, topic, dataset, kind).map(Some)
        };
        let values = Values {
            records: framing(topics.records.as_ref(), Kind::Records)?,
            aggregates: framing(topics.aggregates.as_ref(), Kind::Aggregates)?,
            stats: stats.to_vec(),
        };
        let calls = registrar.calls();
        log::debug!(
            "schema registry {}: {} lookup(s), {} registration(s)",
            registrar.registry().url(),
            calls.lookups,
            calls.registrations
        );
        Ok(values)
    }

    /// The value of `message`'s message: `json` itself, or framed into `buf`.
    pub fn value<'b>(
        &self,
        message: Valued<'_>,
        json: &'b [u8],
        buf: &'b mut Vec<u8>,
    ) -> Result<&'b [u8], AvroError> {
        match message {
            Valued::Record(row) => frame(self.records.as_ref(), json, buf, |enc, out| {
                enc.record(row, out)
            }),
            Valued::Aggregate(agg) => frame(self.aggregates.as_ref(), json, buf, |enc, out| {
                enc.aggregate(agg, &self.stats, out)
            }),
        }
    }
}

/// What a message's value is of.
#[derive(Debug, Clone, Copy)]
pub enum Valued<'a> {
    Record(&'a Row),
    Aggregate(&'a Aggregate),
}

/// `json` as it is without `framing`; else the header and the payload in
/// `buf`: Avro written by `avro`, or the JSON text.
fn frame<'b>(
    framing: Option<&Framing>,
    json: &'b [u8],
    buf: &'b mut Vec<u8>,
    avro: impl FnOnce(&Encoder, &mut Vec<u8>) -> Result<(), AvroError>,
) -> Result<&'b [u8], AvroError> {
    let Some(f) = framing else {
        return Ok(json);
    };
    buf.clear();
    wire::write_header(f.id, buf);
    match &f.avro {
        Some(enc) => avro(enc, buf)?,
        None => buf.extend_from_slice(json),
    }
    Ok(buf)
}

/// The schema of `kind` messages of `dataset` for `topic`, registered or
/// looked up: its id (and the Avro encoder).
fn framing(
    registrar: &mut Registrar,
    schema_type: SchemaType,
    topic: &str,
    dataset: &Dataset,
    kind: Kind,
) -> Result<Framing> {
    let (text, avro) = match schema_type {
        SchemaType::Avro => {
            let enc = Encoder::new(dataset, kind)?;
            (enc.schema_text().to_string(), Some(enc))
        }
        SchemaType::Json => (schema::schema(dataset, kind).to_string(), None),
    };
    let before = registrar.calls().registrations;
    let id = registrar.id(topic, &text, schema_type)?;
    let (url, subject) = (registrar.registry().url().to_string(), subject(topic));
    if registrar.calls().registrations > before {
        log::info!(
            "schema registry {url}: registered the {} schema of {topic} under {subject}: id {id}",
            schema_type.name()
        );
    } else {
        log::debug!(
            "schema registry {url}: {subject} has the {} schema of {topic}: id {id}",
            schema_type.name()
        );
    }
    Ok(Framing { id, avro })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::contract::avro;
    use serde_json::json;

    fn framing(id: u32, avro: Option<Encoder>) -> Option<Framing> {
        Some(Framing { id, avro })
    }

    #[test]
    fn plain_json_is_the_emitters_text_and_a_framed_value_its_header_and_payload() {
        let d = Dataset::known("PowerSystemRightNow").unwrap();
        let row = d
            .parse_row(
                json!({"Minutes1UTC": "2026-11-28T11:59:00", "CO2Emission": 98.25})
                    .as_object()
                    .unwrap()
                    .clone(),
            )
            .unwrap();
        let json = br#"{"Minutes1UTC":"2026-11-28T11:59:00Z","CO2Emission":98.25}"#;
        let mut buf = Vec::new();
        let record = Valued::Record(&row);
        assert_eq!(Values::json().value(record, json, &mut buf).unwrap(), json);
        assert!(buf.is_empty(), "plain JSON is not copied");
        let sr = Values {
            records: framing(7, None),
            ..Values::default()
        };
        let framed = sr.value(record, json, &mut buf).unwrap().to_vec();
        assert_eq!(
            wire::unframe(&framed).unwrap(),
            wire::Framed {
                id: 7,
                payload: json
            }
        );
        let enc = Encoder::new(&d, Kind::Records).unwrap();
        let schema = enc.schema().clone();
        let avro_values = Values {
            records: framing(0x0102_0304, Some(enc)),
            ..Values::default()
        };
        let framed = avro_values.value(record, json, &mut buf).unwrap().to_vec();
        let split = wire::unframe(&framed).unwrap();
        assert_eq!(split.id, 0x0102_0304);
        let back = avro::decode(&schema, split.payload).unwrap();
        assert_eq!(back["Minutes1UTC"], "2026-11-28T11:59:00Z");
        assert_eq!(back["CO2Emission"], 98.25);
    }
}
