//! Reading framed message values back (for `consume`): the wire format's
//! schema id, the writer schema fetched by id once per run, and the payload
//! decoded to JSON (Avro through [`crate::contract::avro::decode`], JSON
//! Schema payloads parsed as they are).

use std::collections::HashMap;

use serde_json::Value;

use super::{Registry, RegistryError, SchemaType};
use crate::contract::avro::{self, AvroError};
use crate::contract::wire::{self, NotFramed};
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
}

impl Staged for ReadError {
    fn exit(&self) -> Exit {
        match self {
            ReadError::Registry(e) => e.exit(),
            ReadError::NotFramed(_) | ReadError::Avro { .. } | ReadError::Json { .. } => Exit::Data,
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
