//! Reading message values back (`consume`, `status`, `chart`): the wire
//! format's schema id, the writer schema fetched by id once per run, and the
//! payload decoded to JSON (Avro through [`crate::contract::avro::decode`],
//! JSON Schema payloads parsed as they are); [`Values`] reads a value in
//! any of our formats, plain JSON as it is.

use std::collections::HashMap;

use serde_json::Value;

use super::{Registry, RegistryConfig, RegistryError, SchemaType};
use crate::aggregate::Aggregate;
use crate::contract::aggregate::checked;
use crate::contract::avro::{self, AvroError};
use crate::contract::wire::{self, NotFramed};
use crate::contract::MessageKey;
use crate::dataset::Dataset;
use crate::exit::{Exit, Staged};

/// A writer schema fetched by id.
#[derive(Debug)]
pub enum WriterSchema {
    Avro(Box<apache_avro::Schema>),
    /// A JSON Schema: its text (payloads are JSON text, read as they are).
    Json(String),
}

/// Why a framed value could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// Not in the wire format (exit 3).
    #[error(transparent)]
    NotFramed(#[from] NotFramed),
    /// The schema could not be fetched (its own exit code).
    #[error(transparent)]
    Registry(#[from] RegistryError),
    /// The writer schema is not Avro, or the payload does not decode (exit 3).
    #[error("schema id {id}: {source}")]
    Avro {
        id: u32,
        #[source]
        source: AvroError,
    },
    /// A JSON Schema payload that is not JSON (exit 3).
    #[error("schema id {id} (JSON Schema): the payload is not JSON: {reason}")]
    Json { id: u32, reason: String },
    /// A plain value (not framed) that is not JSON (exit 3).
    #[error("not JSON ({reason})")]
    NotJson { reason: String },
    /// A framed value, and no registry to read it with (exit 2).
    #[error(
        "a value in the schema registry's wire format (schema id {id}): give --schema-registry / \
         EDS_SCHEMA_REGISTRY to read it"
    )]
    NoRegistry { id: u32 },
}

impl ReadError {
    /// Whether the error is the run's (no registry given, or the registry
    /// failed: every framed value would fail alike), not one value's.
    pub fn is_fatal(&self) -> bool {
        matches!(self, ReadError::Registry(_) | ReadError::NoRegistry { .. })
    }
}

impl Staged for ReadError {
    fn exit(&self) -> Exit {
        match self {
            ReadError::Registry(e) => e.exit(),
            ReadError::NoRegistry { .. } => Exit::Usage,
            ReadError::NotFramed(_)
            | ReadError::Avro { .. }
            | ReadError::Json { .. }
            | ReadError::NotJson { .. } => Exit::Data,
        }
    }
}

/// Writer schemas by id, each fetched once.
pub struct Schemas {
    registry: Registry,
    by_id: HashMap<u32, WriterSchema>,
}

impl Schemas {
    pub fn new(registry: Registry) -> Schemas {
        Schemas {
            registry,
            by_id: HashMap::new(),
        }
    }

    /// The writer schema with `id`, fetched on first use.
    pub fn writer(&mut self, id: u32) -> Result<&WriterSchema, ReadError> {
        if !self.by_id.contains_key(&id) {
            let schema = match self.registry.schema_by_id(id)? {
                (SchemaType::Avro, text) => WriterSchema::Avro(Box::new(
                    avro::parse_schema(&text).map_err(|source| ReadError::Avro { id, source })?,
                )),
                (SchemaType::Json, text) => WriterSchema::Json(text),
            };
            self.by_id.insert(id, schema);
        }
        Ok(&self.by_id[&id])
    }

    /// A framed value's schema id and its payload as JSON.
    pub fn decode(&mut self, value: &[u8]) -> Result<(u32, Value), ReadError> {
        let framed = wire::unframe(value)?;
        let id = framed.id;
        let json = match self.writer(id)? {
            WriterSchema::Avro(schema) => avro::decode(schema, framed.payload)
                .map_err(|source| ReadError::Avro { id, source })?,
            WriterSchema::Json(_) => {
                serde_json::from_slice(framed.payload).map_err(|e| ReadError::Json {
                    id,
                    reason: e.to_string(),
                })?
            }
        };
        Ok((id, json))
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }
}

/// A message value as JSON, whatever format it was written in: a plain
/// JSON value as it is; a framed one (Avro or JSON Schema) decoded by its
/// schema id through the registry, when one is given.
pub struct Values {
    schemas: Option<Schemas>,
}

impl Values {
    /// A reader with the registry `config` (`None`: plain JSON only).
    pub fn connect(config: Option<&RegistryConfig>) -> Result<Values, RegistryError> {
        let schemas = match config {
            Some(c) => Some(Schemas::new(Registry::new(c.clone())?)),
            None => None,
        };
        Ok(Values { schemas })
    }

    /// The value `payload` holds, as JSON.
    pub fn json(&mut self, payload: &[u8]) -> Result<Value, ReadError> {
        if payload.first() != Some(&wire::MAGIC) {
            return serde_json::from_slice(payload).map_err(|e| ReadError::NotJson {
                reason: e.to_string(),
            });
        }
        match &mut self.schemas {
            Some(schemas) => schemas.decode(payload).map(|(_, json)| json),
            None => Err(match wire::unframe(payload) {
                Ok(framed) => ReadError::NoRegistry { id: framed.id },
                Err(e) => ReadError::NotFramed(e),
            }),
        }
    }

    /// The aggregate `payload` holds, in any format, checked against its
    /// message key ([`checked`]): `Ok(Err(why))` when this message is not
    /// one (its reader counts it), `Err` when no framed value can be read
    /// ([`ReadError::is_fatal`]).
    pub fn aggregate(
        &mut self,
        payload: &[u8],
        key: &MessageKey,
        dataset: &Dataset,
    ) -> Result<Result<Aggregate, String>, ReadError> {
        let value = match self.json(payload) {
            Ok(value) => value,
            Err(e) if e.is_fatal() => return Err(e),
            Err(e) => return Ok(Err(e.to_string())),
        };
        Ok(checked(&value, key, dataset)
            .map(|(agg, _)| agg)
            .map_err(|e| e.to_string()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_json_is_read_as_it_is_and_a_framed_value_needs_a_registry() {
        let mut values = Values::connect(None).unwrap();
        assert_eq!(
            values.json(br#"{"a":1}"#).unwrap(),
            serde_json::json!({"a": 1})
        );
        let e = values.json(b"{garbage").unwrap_err();
        assert!(
            matches!(e, ReadError::NotJson { .. }) && !e.is_fatal(),
            "{e:?}"
        );
        assert_eq!(e.exit(), Exit::Data);
        let e = values.json(&wire::frame(42, b"\x02")).unwrap_err();
        assert!(
            matches!(e, ReadError::NoRegistry { id: 42 }) && e.is_fatal(),
            "{e:?}"
        );
        assert_eq!(e.exit(), Exit::Usage);
        assert!(e.to_string().contains("schema id 42"), "{e}");
        assert!(e.to_string().contains("--schema-registry"), "{e}");
        // The magic byte and less than a header: not framed, one value's fault.
        let e = values.json(b"\x00\x01").unwrap_err();
        assert!(
            matches!(e, ReadError::NotFramed(_)) && !e.is_fatal(),
            "{e:?}"
        );
    }
}
