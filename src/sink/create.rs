//! `--create-topics`: the missing topics created in one request of one admin
//! client. rust-rdkafka's admin client, when dropped, joins its polling
//! thread, which wakes every 100 ms: a client per topic cost a run that
//! creates both topics about 200 ms of waiting. The one client is dropped on
//! a thread of its own ([`Closing`]), joined when the run's messages are
//! delivered.

use std::thread::JoinHandle;

use anyhow::Result;
use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
use rdkafka::client::DefaultClientContext;
use rdkafka::error::RDKafkaErrorCode;
use rdkafka::ClientConfig;

use super::error::SinkError;
use super::kafka::NewTopics;
use crate::kafka::KafkaSettings;

/// An admin client being dropped on a thread of its own.
pub(super) struct Closing(Option<JoinHandle<()>>);

impl Closing {
    /// No client to drop.
    pub(super) fn none() -> Closing {
        Closing(None)
    }

    /// Waits until the client is gone (its thread does not panic).
    pub(super) fn join(&mut self) {
        if let Some(handle) = self.0.take() {
            let _ = handle.join();
        }
    }
}

/// Creates `topics` (one partition each, as `how` says) with one request;
/// a topic that already exists is no error. Returns the admin client's drop.
pub(super) fn create_topics(
    settings: &KafkaSettings,
    topics: &[&str],
    how: &NewTopics,
) -> Result<Closing> {
    let mut config = ClientConfig::new();
    for (k, v) in settings.producer_config().config_map() {
        config.set(k, v);
    }
    let admin: AdminClient<DefaultClientContext> =
        config.create().map_err(|e| settings.creation_error(e))?;
    let result = request(&admin, settings, topics, how);
    let closing = Closing(
        std::thread::Builder::new()
            .name("admin client drop".into())
            .spawn(move || drop(admin))
            .ok(),
    );
    result.map(|()| closing)
}

/// The one CreateTopics request, and what each topic's answer means.
fn request(
    admin: &AdminClient<DefaultClientContext>,
    settings: &KafkaSettings,
    topics: &[&str],
    how: &NewTopics,
) -> Result<()> {
    let replication = how.replication_factor.map_or(-1, i32::from);
    let new: Vec<NewTopic<'_>> = topics
        .iter()
        .map(|topic| {
            let mut new = NewTopic::new(topic, 1, TopicReplication::Fixed(replication));
            for (key, value) in &how.config {
                new = new.set(key, value);
            }
            new
        })
        .collect();
    let options = AdminOptions::new()
        .operation_timeout(Some(settings.remaining()))
        .request_timeout(Some(settings.remaining()));
    let results =
        futures_executor::block_on(admin.create_topics(&new, &options)).map_err(|source| {
            SinkError::Create {
                topic: topics.join(", "),
                brokers: settings.brokers().to_string(),
                source,
            }
        })?;
    for result in results {
        match result {
            Ok(name) => log::info!(
                "created topic {name} (1 partition, replication factor {})",
                how.replication_factor
                    .map_or("of the broker's default".to_string(), |n| n.to_string())
            ),
            Err((_, RDKafkaErrorCode::TopicAlreadyExists)) => {}
            Err((name, code)) => {
                return Err(SinkError::CreateRefused {
                    topic: name,
                    brokers: settings.brokers().to_string(),
                    code,
                }
                .into())
            }
        }
    }
    Ok(())
}
