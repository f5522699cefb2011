//! The ids of one run's schemas: each (subject, schema) is looked up once,
//! and registered at most once when the subject lacks it, whatever the
//! number of messages. Subjects follow the topic name strategy,
//! `<topic>-value`.

use std::collections::HashMap;

use super::{Registry, RegistryError, SchemaType};

/// The subject of a topic's message values (the topic name strategy).
pub fn subject(topic: &str) -> String {
    format!("{topic}-value")
}

/// The registry calls a [`Registrar`] made.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Calls {
    pub lookups: u32,
    pub registrations: u32,
}

/// A run's schema ids, cached.
pub struct Registrar {
    registry: Registry,
    register: bool,
    ids: HashMap<(String, String), u32>,
    calls: Calls,
}

impl Registrar {
    /// `register: false` is `--no-register`: look up only, and a subject
    /// without the schema is an error ([`RegistryError::NotRegistered`]).
    pub fn new(registry: Registry, register: bool) -> Registrar {
        Registrar {
            registry,
            register,
            ids: HashMap::new(),
            calls: Calls::default(),
        }
    }

    /// The id of `schema` for the values of `topic`: from the cache, else
    /// looked up, else registered (unless `--no-register`).
    pub fn id(
        &mut self,
        topic: &str,
        schema: &str,
        kind: SchemaType,
    ) -> Result<u32, RegistryError> {
        let subject = subject(topic);
        let key = (subject, schema.to_string());
        if let Some(&id) = self.ids.get(&key) {
            return Ok(id);
        }
        let subject = &key.0;
        self.calls.lookups += 1;
        let id = match self.registry.lookup(subject, schema, kind)? {
            Some(id) => id,
            None if !self.register => {
                return Err(RegistryError::NotRegistered {
                    url: self.registry.url().to_string(),
                    subject: subject.clone(),
                })
            }
            None => {
                self.calls.registrations += 1;
                self.registry.register(subject, schema, kind)?
            }
        };
        self.ids.insert(key, id);
        Ok(id)
    }

    /// The calls made so far.
    pub fn calls(&self) -> Calls {
        self.calls
    }

    pub fn registry(&self) -> &Registry {
        &self.registry
    }
}
