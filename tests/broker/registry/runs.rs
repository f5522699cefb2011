//! The binary with a schema registry: `publish` and `backfill` with
//! `--value-format avro` and `json-sr` against Apicurio (one registry shared
//! by these tests) and the shared test broker; `consume`, `status` and
//! `chart` reading the framed values back by schema id; the cursor reading
//! an Avro topic unchanged (a rerun publishes nothing, a changed value is
//! published again); and the registry saying no (409, `--no-register`,
//! gone, credentials refused): then nothing is published.

use std::sync::Arc;

use eds_kafka::contract::avro::Encoder;
use eds_kafka::contract::schema::Kind;
use eds_kafka::dataset::Dataset;
use eds_kafka::registry::{subject, SchemaType};
use serde_json::{json, Value};

use super::{auth_proxy, registry, Apicurio, TOKEN};
use crate::support::args::Args;
use crate::support::broker::{consume, test_broker, Topics};
use crate::support::stub::{psrn_row, StubApi};
use crate::support::{assert_says, minutes, outcome, temp_dir, utc, Shared, NOW};

/// The registry these tests share (the broker suite's rule first).
fn apicurio() -> Arc<Apicurio> {
    test_broker();
    static SHARED: Shared<Apicurio> = Shared::new();
    SHARED.get(Apicurio::start)
}

/// The stub serving PowerSystemRightNow's 11:00 .. 11:59 as given rows (so
/// that a test can change one).
fn stub_with_hour() -> (StubApi, Vec<Value>) {
    let stub = StubApi::start();
    stub.set_now(utc(NOW));
    let rows: Vec<Value> = minutes(utc("2026-11-28T11:00:00Z"), utc("2026-11-28T11:59:00Z"))
        .iter()
        .map(|t| psrn_row(utc(t)))
        .collect();
    stub.serve_sorted_rows(rows.clone());
    (stub, rows)
}

/// `publish` at NOW into `t` in `format` with the registry at `url`, plus `extra`.
fn publish(stub: &StubApi, t: &Topics, format: &str, url: &str, extra: &[&str]) -> Args {
    Args::publish(&stub.url, NOW)
        .brokers(&test_broker().unwrap())
        .flag("--records-topic", &t.records)
        .flag("--aggregates-topic", &t.aggregates)
        .flag("--value-format", format)
        .flag("--schema-registry", url)
        .extra(&["--create-topics", "-v"])
        .extra(extra)
}

/// What a topic holds, read by `consume --from-beginning` with the
/// registry (`None`: without): (code, stdout, stderr).
fn read_back(topic: &str, url: Option<&str>, extra: &[&str]) -> (i32, String, String) {
    let mut args = Args::new("consume")
        .brokers(&test_broker().unwrap())
        .flag("--topic", topic)
        .extra(&["--from-beginning"])
        .extra(extra);
    if let Some(url) = url {
        args = args.flag("--schema-registry", url);
    }
    args.run()
}

/// The number of messages in `topic` (consume with the registry).
fn messages(topic: &str, url: &str) -> usize {
    let (code, out, err) = read_back(topic, Some(url), &["--format", "json"]);
    assert_eq!(code, 0, "{err}");
    out.lines().count()
}

#[test]
fn avro_published_read_back_and_rerun_at_the_same_now_publishes_nothing() {
    let url = apicurio().url.clone();
    let (stub, mut rows) = stub_with_hour();
    let t = Topics::new("registry.avro");
    let (code, _, err) = publish(&stub, &t, "avro", &url, &[]).run();
    assert_eq!(code, 0, "{err}");
    assert_says(
        &err,
        &["registered the AVRO schema of", &subject(&t.records)],
    );
    assert_says(&err, &["published 5 records and 1 aggregate"]);
    // The aggregate as publish --dry-run prints it, and the records valid
    // against the JSON Schemas once decoded.
    let expected = crate::support::dry_run_ok(&stub, NOW, &[]);
    let (code, csv, err) = read_back(&t.aggregates, Some(&url), &[]);
    assert_eq!((code, csv.as_str()), (0, expected.as_str()), "{err}");
    let records = consume(
        &test_broker().unwrap(),
        &t.records,
        &[
            "--from-beginning",
            "--format",
            "json",
            "--schema-registry",
            &url,
        ],
    );
    assert_eq!(records.lines().count(), 5);
    // Without the registry, a framed value is a usage error naming the flag.
    let (code, _, err) = read_back(&t.records, None, &[]);
    assert_eq!(code, 2, "{err}");
    assert_says(&err, &["schema id", "--schema-registry", "offset 0"]);
    // The cursor reads keys and headers: the same --now again publishes
    // nothing, after one lookup per topic and no registration.
    let (code, _, err) = publish(&stub, &t, "avro", &url, &[]).run();
    assert_eq!(code, 0, "{err}");
    assert_says(&err, &["nothing new to publish"]);
    assert_says(&err, &["2 lookup(s), 0 registration(s)"]);
    // A value the API changed is published again, as a correction.
    rows[58]["CO2Emission"] = json!(555.5);
    stub.serve_sorted_rows(rows);
    let (code, _, err) = publish(&stub, &t, "avro", &url, &[]).run();
    assert_eq!(code, 0, "{err}");
    assert_says(&err, &["published 1 record and 1 aggregate"]);
    let (_, out, err) = read_back(&t.records, Some(&url), &["--format", "json"]);
    let last: Value = serde_json::from_str(out.lines().last().unwrap()).unwrap();
    assert_eq!(
        (&last["Minutes1UTC"], &last["CO2Emission"]),
        (&json!("2026-11-28T11:58:00Z"), &json!(555.5)),
        "{err}"
    );
}

#[test]
fn avro_backfill_is_read_by_status_and_chart_with_the_registry() {
    let url = apicurio().url.clone();
    let (stub, _) = stub_with_hour();
    let t = Topics::new("registry.backfill");
    let (code, _, err) = Args::backfill(&stub.url)
        .brokers(&test_broker().unwrap())
        .flag("--records-topic", &t.records)
        .flag("--aggregates-topic", &t.aggregates)
        .flag("--from", "2026-11-28T11:00:00Z")
        .flag("--to", "2026-11-28T12:00:00Z")
        .flag("--now", NOW)
        .flag("--fields", "CO2Emission,SolarPower")
        .flag("--value-format", "avro")
        .flag("--schema-registry", &url)
        .extra(&["--create-topics"])
        .run();
    assert_eq!(code, 0, "{err}");
    assert_eq!(messages(&t.records, &url), 60);
    assert_eq!(messages(&t.aggregates, &url), 60);
    let status = |extra: &[&str]| {
        Args::new("status")
            .brokers(&test_broker().unwrap())
            .flag("--records-topic", &t.records)
            .flag("--aggregates-topic", &t.aggregates)
            .flag("--now", NOW)
            .flag("--since", "2h")
            // The first windows reach before 11:00, which the stub lacks.
            .flag("--max-incomplete", "10")
            .extra(&["--format", "json"])
            .extra(extra)
            .run()
    };
    let (code, out, err) = status(&["--schema-registry", &url]);
    assert_eq!(code, 0, "{out}\n{err}");
    let report: Value = serde_json::from_str(&out).unwrap();
    assert_eq!(report["keys"][0]["windows"], 60, "{report}");
    let (code, _, err) = status(&[]);
    assert_eq!(code, 2, "{err}");
    assert_says(&err, &[&t.aggregates, "schema id", "--schema-registry"]);
    let dir = temp_dir();
    let svg = dir.path().join("chart.svg");
    let (code, _, err) = Args::new("chart")
        .brokers(&test_broker().unwrap())
        .flag("--aggregates-topic", &t.aggregates)
        .flag("--now", NOW)
        .flag("--since", "2h")
        .flag("--fields", "CO2Emission")
        .flag("--schema-registry", &url)
        .flag("-o", svg.to_str().unwrap())
        .run();
    assert_eq!(code, 0, "{err}");
    let drawn = std::fs::read_to_string(&svg).unwrap();
    assert!(
        drawn.contains("CO2Emission") && drawn.contains("<polyline"),
        "{drawn}"
    );
}

#[test]
fn json_sr_values_are_the_json_text_under_our_json_schema() {
    let url = apicurio().url.clone();
    let (stub, _) = stub_with_hour();
    let t = Topics::new("registry.jsonsr");
    let (code, _, err) = publish(&stub, &t, "json-sr", &url, &[]).run();
    assert_eq!(code, 0, "{err}");
    assert_says(&err, &["registered the JSON schema of"]);
    let r = registry(&url);
    let id = |topic: &str| {
        let d = Dataset::known("PowerSystemRightNow").unwrap();
        let kind = if topic == t.records {
            Kind::Records
        } else {
            Kind::Aggregates
        };
        let text = eds_kafka::contract::schema::schema(&d, kind).to_string();
        r.lookup(&subject(topic), &text, SchemaType::Json).unwrap()
    };
    for topic in [&t.records, &t.aggregates] {
        let id = id(topic).expect("the JSON Schema is registered under <topic>-value");
        assert_eq!(r.schema_by_id(id).unwrap().0, SchemaType::Json);
    }
    let expected = crate::support::dry_run_ok(&stub, NOW, &[]);
    let (code, csv, err) = read_back(&t.aggregates, Some(&url), &[]);
    assert_eq!((code, csv.as_str()), (0, expected.as_str()), "{err}");
    let plain = Topics::new("registry.plain");
    let (code, _, err) = publish(&stub, &plain, "json", &url, &[]).run();
    assert_eq!(code, 0, "{err}");
    // The same JSON text as a plain JSON topic's, framed.
    let json = |topic: &str| read_back(topic, Some(&url), &["--format", "json"]).1;
    assert_eq!(json(&t.records), json(&plain.records));
}

/// Runs `args` (a failing publish) and checks that neither topic holds a message.
fn refused_and_nothing_published(args: Args, t: &Topics, url: &str, code: i32) -> String {
    let (got, _, err) = args.run();
    assert_eq!(got, code, "{err}");
    for topic in [&t.records, &t.aggregates] {
        assert_eq!(messages(topic, url), 0, "{topic}: {err}");
    }
    err
}

#[test]
fn nothing_is_published_when_the_registry_says_no() {
    let url = apicurio().url.clone();
    let (stub, _) = stub_with_hour();
    // --no-register and subjects without the schema: exit 3.
    let t = Topics::new("registry.noreg");
    let err = refused_and_nothing_published(
        publish(&stub, &t, "avro", &url, &["--no-register"]),
        &t,
        &url,
        3,
    );
    assert_says(&err, &[&subject(&t.records), "--no-register"]);
    // The aggregates' subject holds a schema ours cannot replace under
    // BACKWARD: 409 (exit 3), and the records are not published either.
    let t = Topics::new("registry.incompatible");
    let d = Dataset::known("PowerSystemRightNow").unwrap();
    let enc = Encoder::new(&d, Kind::Aggregates).unwrap();
    let mut old: Value = serde_json::from_str(enc.schema_text()).unwrap();
    old["fields"][3] = json!({"name": "rows", "type": "string"});
    let r = registry(&url);
    let aggregates = subject(&t.aggregates);
    r.register(&aggregates, &old.to_string(), SchemaType::Avro)
        .unwrap();
    r.set_compatibility(&aggregates, "BACKWARD").unwrap();
    let err = refused_and_nothing_published(publish(&stub, &t, "avro", &url, &[]), &t, &url, 3);
    assert_says(&err, &["incompatible with subject", &aggregates]);
    // A registry that is gone: exit 4, said at once.
    let gone = format!("http://127.0.0.1:{}", crate::support::free_port());
    let t = Topics::new("registry.gone");
    let started = std::time::Instant::now();
    let err = refused_and_nothing_published(publish(&stub, &t, "avro", &gone, &[]), &t, &url, 4);
    assert_says(&err, &["schema registry", "cannot connect"]);
    assert!(
        started.elapsed() < std::time::Duration::from_secs(30),
        "{err}"
    );
}

#[test]
fn credentials_from_the_environment_or_files_and_never_shown() {
    let url = apicurio().url.clone();
    let (server, proxy) = auth_proxy(&url);
    let (stub, _) = stub_with_hour();
    let dir = temp_dir();
    let token = dir.path().join("token");
    std::fs::write(&token, format!("{TOKEN}\n")).unwrap();
    let t = Topics::new("registry.token");
    let args = publish(&stub, &t, "avro", &proxy, &[])
        .flag("--schema-registry-token-file", token.to_str().unwrap());
    let (code, _, err) = args.run();
    assert_eq!(code, 0, "{err}");
    let t = Topics::new("registry.basic");
    let with_user_info = |info: &str| {
        let args = publish(&stub, &t, "avro", &proxy, &[]);
        let mut cmd = crate::support::eds();
        cmd.args(args.list())
            .env("EDS_SCHEMA_REGISTRY_USER_INFO", info);
        outcome(&mut cmd)
    };
    let (code, _, err) = with_user_info("alice:right");
    assert_eq!(code, 0, "{err}");
    let (code, _, err) = with_user_info("alice:wr0ng-Pa55");
    assert_eq!(code, 4, "{err}");
    assert_says(&err, &["HTTP 401", "basic auth as user 'alice' refused"]);
    assert!(!err.contains("wr0ng-Pa55"), "{err}");
    let file = dir.path().join("user-info");
    std::fs::write(&file, "alice:wr0ng-Pa55\n").unwrap();
    let args = publish(&stub, &t, "avro", &proxy, &[])
        .flag("--schema-registry-user-info-file", file.to_str().unwrap());
    let (code, _, err) = args.run();
    assert_eq!(code, 4, "{err}");
    assert!(!err.contains("wr0ng-Pa55"), "{err}");
    server.unblock();
}
