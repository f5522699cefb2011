//! Benchmark baseline: the speed limit of the publish stage. A bare rdkafka
//! `BaseProducer`, with eds-kafka's own producer configuration, sends the same
//! number and size of messages a backfill sends (one record and one aggregate
//! per minute), with pre-serialized payloads, and waits for every ack. Its
//! producer batches as a backfill's does ([`Batching::Bulk`]).
//! `cargo run --release --example bare_producer -- BROKERS RECORDS_TOPIC AGGREGATES_TOPIC MINUTES`

#[path = "../tests/support/stub.rs"]
mod stub;

use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use eds_kafka::kafka::{Batching, KafkaSettings};
use rdkafka::error::{KafkaError, RDKafkaErrorCode};
use rdkafka::producer::{BaseProducer, BaseRecord, Producer};

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (brokers, records_topic, aggregates_topic) = (&args[0], &args[1], &args[2]);
    let minutes: i64 = args[3].parse().unwrap();
    let settings = KafkaSettings::new(Some(brokers), None, &[], Duration::from_secs(60))
        .unwrap()
        .batching(Batching::Bulk);
    let producer: BaseProducer = settings.producer_config().create().unwrap();

    // One day of distinct payloads, cycled; an aggregate the size of ours (7 fields x 5 stats).
    let t0 = chrono::DateTime::parse_from_rfc3339("2025-01-01T00:00:00Z")
        .unwrap()
        .with_timezone(&Utc);
    let day: Vec<(String, Vec<u8>)> = (0..1440)
        .map(|m| {
            let t = t0 + TimeDelta::minutes(m);
            (
                t.format("%Y-%m-%dT%H:%M:%SZ").to_string(),
                serde_json::to_vec(&stub::psrn_full_row(t)).unwrap(),
            )
        })
        .collect();
    let stats = r#"{"count":5,"mean":1234.5678,"min":1200.25,"max":1300.75,"last":1250.5}"#;
    // The default --fields: the first seven of the dataset.
    let fields: Vec<String> = stub::full_fields()[..7]
        .iter()
        .map(|f| format!("\"{f}\":{stats}"))
        .collect();
    let aggregate = format!(
        r#"{{"dataset":"PowerSystemRightNow","window_start":"2025-01-01T00:00:00Z","window_end":"2025-01-01T00:05:00Z","rows":5,"fields":{{{}}}}}"#,
        fields.join(",")
    );

    let started = Instant::now();
    let mut bytes = 0usize;
    for m in 0..minutes {
        let (key, payload) = &day[(m % 1440) as usize];
        let ts = (t0 + TimeDelta::minutes(m)).timestamp_millis();
        for (topic, body) in [
            (records_topic, payload.as_slice()),
            (aggregates_topic, aggregate.as_bytes()),
        ] {
            bytes += body.len();
            let mut record = BaseRecord::to(topic)
                .partition(0)
                .key(key.as_str())
                .payload(body)
                .timestamp(ts);
            loop {
                match producer.send(record) {
                    Ok(()) => break,
                    Err((KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull), back)) => {
                        record = back;
                        producer.poll(Duration::from_millis(5));
                    }
                    Err((e, _)) => panic!("{e}"),
                }
            }
        }
        if m % 512 == 0 {
            producer.poll(Duration::ZERO);
        }
    }
    while producer.in_flight_count() > 0 {
        producer.poll(Duration::from_millis(1));
    }
    let secs = started.elapsed().as_secs_f64();
    let messages = 2 * minutes;
    println!(
        "bare producer: {messages} messages, {:.1} MB in {secs:.2}s: {:.0} messages/s, {:.0} minutes/s, {:.1} MB/s",
        bytes as f64 / 1e6,
        messages as f64 / secs,
        minutes as f64 / secs,
        bytes as f64 / 1e6 / secs
    );
}
