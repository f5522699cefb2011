//! The schema registry client against a real registry: Apicurio Registry
//! 3.3.3 through its Confluent-compatible API, started by scripts/registry
//! (Java 21 or later, found by the script; the distribution is fetched once
//! with Maven). Built only with `--features broker-tests`, like the broker
//! suite; it starts its own registry, so it needs no EDS_TEST_BROKER.
//!
//! One test, in steps, against one registry (a start costs ~20 s): both
//! schemas of PowerSystemRightNow and Forecasts_5Min registered under
//! `<topic>-value`, a second run that only looks up, `--no-register`, a
//! BACKWARD compatible new version, a 409, decoding by id, credentials
//! refused (through an auth-checking proxy: Apicurio's own auth needs an
//! OIDC server), and a registry that is gone. The registry process and its
//! directory are removed when the test ends, passed or not. The binary's
//! runs against a registry (publish, backfill, consume, status, chart in
//! Avro and JSON Schema) are in [`runs`], against one registry they share.

mod runs;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use eds_kafka::aggregate::{Aggregate, Completeness, FieldStats, Stat};
use eds_kafka::contract::avro::Encoder;
use eds_kafka::contract::schema::{self, Kind};
use eds_kafka::contract::wire;
use eds_kafka::dataset::{known_fields, Dataset};
use eds_kafka::exit::{Exit, Staged};
use eds_kafka::failure::exit_of;

/// A stage's error as a run's error chain holds it.
fn staged(e: impl Staged) -> anyhow::Error {
    anyhow::Error::new(e)
}
use eds_kafka::registry::{
    subject, Auth, Calls, Registrar, Registry, RegistryConfig, RegistryError, SchemaType, Schemas,
};
use serde_json::{json, Value};

/// A registry for this test; stopped and its directory removed on drop.
pub struct Apicurio {
    dir: tempfile::TempDir,
    script: PathBuf,
    pub url: String,
}

impl Apicurio {
    pub fn start() -> Apicurio {
        let dir = tempfile::tempdir().unwrap();
        let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("scripts/registry");
        let out = Command::new(&script)
            .arg("start")
            .arg(dir.path())
            .args(["--owner", &std::process::id().to_string()])
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        let url = stdout.lines().find_map(|l| l.strip_prefix("REGISTRY "));
        let Some(url) = url.filter(|_| out.status.success()) else {
            panic!(
                "scripts/registry start failed ({}): {stdout}{}",
                out.status,
                String::from_utf8_lossy(&out.stderr)
            );
        };
        Apicurio {
            url: url.to_string(),
            dir,
            script,
        }
    }

    fn stop(&self) {
        let _ = Command::new(&self.script)
            .arg("stop")
            .arg(self.dir.path())
            .status();
    }
}

impl Drop for Apicurio {
    fn drop(&mut self) {
        self.stop();
    }
}

fn config(url: &str) -> RegistryConfig {
    RegistryConfig {
        url: url.to_string(),
        auth: Auth::None,
        ca_file: None,
        timeout: Duration::from_secs(20),
    }
}

pub fn registry(url: &str) -> Registry {
    Registry::new(config(url)).unwrap()
}

fn datasets() -> [Dataset; 2] {
    ["PowerSystemRightNow", "Forecasts_5Min"].map(|n| Dataset::known(n).unwrap())
}

fn topic(d: &Dataset, kind: Kind) -> String {
    format!("eds.{}.{}", d.name, kind.name())
}

fn t(text: &str) -> DateTime<Utc> {
    eds_kafka::time::parse_utc(text).unwrap()
}

#[test]
fn the_client_against_apicurio() {
    let apicurio = Apicurio::start();
    let url = apicurio.url.clone();
    let ids = first_run_registers_every_schema(&url);
    a_second_run_only_looks_up(&url, &ids);
    no_register_looks_up_only(&url, &ids);
    values_decode_by_their_schema_id(&url, &ids);
    a_new_known_field_is_a_backward_compatible_version(&url, &ids);
    an_incompatible_change_is_refused(&url);
    json_schemas_too(&url);
    credentials_refused_by_a_proxy_in_front(&url);
    apicurio.stop();
    let e = registry(&url)
        .lookup("gone-value", "\"string\"", SchemaType::Avro)
        .unwrap_err();
    assert!(matches!(e, RegistryError::Unreachable { .. }), "{e:?}");
    assert_eq!(exit_of(&staged(e)), Exit::Kafka);
}

/// (topic, schema text, id) of the four schemas.
type Ids = Vec<(String, String, u32)>;

fn first_run_registers_every_schema(url: &str) -> Ids {
    let mut reg = Registrar::new(registry(url), true);
    let mut ids = Vec::new();
    for d in datasets() {
        for kind in [Kind::Records, Kind::Aggregates] {
            let enc = Encoder::new(&d, kind).unwrap();
            let topic = topic(&d, kind);
            let id = reg.id(&topic, enc.schema_text(), SchemaType::Avro).unwrap();
            // Once per subject: every later message is served from the cache.
            for _ in 0..50 {
                assert_eq!(reg.id(&topic, enc.schema_text(), SchemaType::Avro), Ok(id));
            }
            ids.push((topic, enc.schema_text().to_string(), id));
        }
    }
    assert_eq!(
        reg.calls(),
        Calls {
            lookups: 4,
            registrations: 4
        }
    );
    let mut distinct: Vec<u32> = ids.iter().map(|x| x.2).collect();
    distinct.sort_unstable();
    distinct.dedup();
    assert_eq!(distinct.len(), 4, "{ids:?}");
    ids
}

fn a_second_run_only_looks_up(url: &str, ids: &Ids) {
    let mut reg = Registrar::new(registry(url), true);
    for (topic, text, id) in ids {
        assert_eq!(reg.id(topic, text, SchemaType::Avro), Ok(*id));
        assert_eq!(reg.registry().versions(&subject(topic)), Ok(vec![1]));
    }
    let calls = Calls {
        lookups: 4,
        registrations: 0,
    };
    assert_eq!(reg.calls(), calls);
}

fn no_register_looks_up_only(url: &str, ids: &Ids) {
    let mut reg = Registrar::new(registry(url), false);
    let (topic, text, id) = &ids[0];
    assert_eq!(reg.id(topic, text, SchemaType::Avro), Ok(*id));
    let e = reg
        .id("eds.elsewhere.records", text, SchemaType::Avro)
        .unwrap_err();
    assert!(
        matches!(&e, RegistryError::NotRegistered { subject, .. } if subject == "eds.elsewhere.records-value"),
        "{e:?}"
    );
    assert!(e.to_string().contains("--no-register"), "{e}");
    assert_eq!(exit_of(&staged(e)), Exit::Data);
    // Nothing was registered.
    let versions = reg.registry().versions("eds.elsewhere.records-value");
    assert_eq!(versions, Ok(vec![]));
    // A subject that exists with another schema: not registered either.
    let other = &ids[1].1;
    let e = reg.id(topic, other, SchemaType::Avro).unwrap_err();
    assert!(matches!(e, RegistryError::NotRegistered { .. }), "{e:?}");
    assert_eq!(reg.registry().versions(&subject(topic)), Ok(vec![1]));
}

fn forecasts_aggregate() -> Aggregate {
    Aggregate {
        dataset: "Forecasts_5Min".into(),
        window_start: t("2026-11-28T11:30:00"),
        window_end: t("2026-11-28T12:00:00"),
        key: vec![
            ("PriceArea".into(), json!("DK1")),
            ("ForecastType".into(), json!("Vindkraft på havet ✓")),
        ],
        rows: 5,
        completeness: Some(Completeness {
            expected_rows: 6,
            missing: vec![t("2026-11-28T11:40:00")],
        }),
        fields: vec![
            (
                "ForecastCurrent".into(),
                FieldStats::of([1.0, 2.5, 3.0, 4.0, 5.5]),
            ),
            ("Forecast1Hour".into(), FieldStats::default()),
        ],
    }
}

fn values_decode_by_their_schema_id(url: &str, ids: &Ids) {
    let [psrn, forecasts] = datasets();
    let mut schemas = Schemas::new(registry(url));
    let row = psrn
        .parse_row(
            json!({"Minutes1UTC": "2026-11-28T11:59:00", "Minutes1DK": "2026-11-28T12:59:00",
                "CO2Emission": 98.25, "SolarPower": null, "Brand new": [1, "x"]})
            .as_object()
            .unwrap()
            .clone(),
        )
        .unwrap();
    let enc = Encoder::new(&psrn, Kind::Records).unwrap();
    let mut value = Vec::new();
    wire::write_header(ids[0].2, &mut value);
    enc.record(&row, &mut value).unwrap();
    let (id, back) = schemas.decode(&value).unwrap();
    assert_eq!(id, ids[0].2);
    assert_eq!(back["Minutes1UTC"], "2026-11-28T11:59:00Z");
    assert_eq!(back["CO2Emission"], 98.25);
    assert_eq!(back["Brand new"], json!([1, "x"]));
    let agg = forecasts_aggregate();
    let enc = Encoder::new(&forecasts, Kind::Aggregates).unwrap();
    let mut payload = Vec::new();
    enc.aggregate(&agg, &Stat::ALL, &mut payload).unwrap();
    let (_, back) = schemas.decode(&wire::frame(ids[3].2, &payload)).unwrap();
    assert_eq!(Aggregate::from_json(&back, &forecasts).unwrap().0, agg);
    // Not framed, and an id the registry does not have.
    let e = schemas.decode(br#"{"dataset":"x"}"#).unwrap_err();
    assert_eq!(e.exit(), Exit::Data);
    assert!(e.to_string().contains("a plain JSON value?"), "{e}");
    let e = schemas.decode(&wire::frame(999_999, &payload)).unwrap_err();
    assert_eq!(e.exit(), Exit::Data, "{e}");
    assert!(e.to_string().contains("no schema with id 999999"), "{e}");
}

fn a_new_known_field_is_a_backward_compatible_version(url: &str, ids: &Ids) {
    let psrn = Dataset::known("PowerSystemRightNow").unwrap();
    let (topic, _, old_id) = &ids[0];
    let r = registry(url);
    r.set_compatibility(&subject(topic), "BACKWARD").unwrap();
    let mut known: Vec<&str> = known_fields(&psrn.name).iter().map(|f| f.name).collect();
    known.push("NewKnownPower");
    let enc = Encoder::with_known(&psrn, Kind::Records, &known).unwrap();
    let mut reg = Registrar::new(r, true);
    let id = reg.id(topic, enc.schema_text(), SchemaType::Avro).unwrap();
    assert_ne!(id, *old_id);
    let calls = Calls {
        lookups: 1,
        registrations: 1,
    };
    assert_eq!(reg.calls(), calls);
    assert_eq!(reg.registry().versions(&subject(topic)), Ok(vec![1, 2]));
    let row = psrn
        .parse_row(
            json!({"Minutes1UTC": "2026-11-28T11:59:00", "NewKnownPower": 7})
                .as_object()
                .unwrap()
                .clone(),
        )
        .unwrap();
    let mut value = Vec::new();
    wire::write_header(id, &mut value);
    enc.record(&row, &mut value).unwrap();
    let (_, back) = Schemas::new(registry(url)).decode(&value).unwrap();
    assert_eq!(back["NewKnownPower"], 7.0);
}

fn an_incompatible_change_is_refused(url: &str) {
    let psrn = Dataset::known("PowerSystemRightNow").unwrap();
    let topic = topic(&psrn, Kind::Records);
    let enc = Encoder::new(&psrn, Kind::Records).unwrap();
    let mut schema: Value = serde_json::from_str(enc.schema_text()).unwrap();
    let fields = schema["fields"].as_array_mut().unwrap();
    fields.insert(1, json!({"name": "Required", "type": "double"}));
    let mut reg = Registrar::new(registry(url), true);
    let e = reg
        .id(&topic, &schema.to_string(), SchemaType::Avro)
        .unwrap_err();
    let RegistryError::Incompatible {
        subject: s,
        error_code,
        message,
        ..
    } = &e
    else {
        panic!("{e:?}");
    };
    assert_eq!(s, &subject(&topic));
    assert_eq!(*error_code, Some(409));
    assert!(!message.is_empty());
    assert!(e.to_string().contains(&subject(&topic)), "{e}");
    assert_eq!(exit_of(&staged(e.clone())), Exit::Data);
    assert_eq!(reg.registry().versions(&subject(&topic)), Ok(vec![1, 2]));
}

fn json_schemas_too(url: &str) {
    let co2 = Dataset::known("CO2Emis").unwrap();
    let text = schema::schema(&co2, Kind::Records).to_string();
    let mut reg = Registrar::new(registry(url), true);
    let id = reg
        .id("eds.CO2Emis.records", &text, SchemaType::Json)
        .unwrap();
    let mut again = Registrar::new(registry(url), false);
    assert_eq!(
        again.id("eds.CO2Emis.records", &text, SchemaType::Json),
        Ok(id)
    );
    let record =
        json!({"Minutes5UTC": "2026-11-28T11:55:00Z", "PriceArea": "DK2", "CO2Emission": 1.5});
    let value = wire::frame(id, record.to_string().as_bytes());
    let (got, back) = Schemas::new(registry(url)).decode(&value).unwrap();
    assert_eq!((got, back), (id, record));
}

/// The bearer token [`auth_proxy`] takes.
pub const TOKEN: &str = "t0ken-0f-the-registry";

/// Base64 of `text`, for the proxy's expected Authorization header.
fn b64(text: &str) -> String {
    const A: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in text.as_bytes().chunks(3) {
        let b = [
            chunk[0],
            *chunk.get(1).unwrap_or(&0),
            *chunk.get(2).unwrap_or(&0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for i in 0..4 {
            let c = A[(n >> (18 - 6 * i) & 63) as usize] as char;
            out.push(if i <= chunk.len() { c } else { '=' });
        }
    }
    out
}

/// A proxy in front of the registry that wants basic auth alice:right (or
/// the bearer token [`TOKEN`]) and answers 401 as Confluent's registry does
/// otherwise.
pub fn auth_proxy(upstream: &str) -> (Arc<tiny_http::Server>, String) {
    let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
    let url = format!("http://{}/apis/ccompat/v7", server.server_addr());
    let (s, upstream) = (
        server.clone(),
        upstream.trim_end_matches("/apis/ccompat/v7").to_string(),
    );
    let want = [
        format!("Basic {}", b64("alice:right")),
        format!("Bearer {TOKEN}"),
    ];
    std::thread::spawn(move || {
        let http = reqwest::blocking::Client::new();
        for mut r in s.incoming_requests() {
            let auth = r.headers().iter().find(|h| h.field.equiv("Authorization"));
            if !auth.is_some_and(|h| want.iter().any(|w| h.value.as_str() == w)) {
                let body = r#"{"error_code":40101,"message":"Unauthorized"}"#;
                let _ = r.respond(tiny_http::Response::from_string(body).with_status_code(401));
                continue;
            }
            let mut body = Vec::new();
            let _ = r.as_reader().read_to_end(&mut body);
            let method = reqwest::Method::from_bytes(r.method().as_str().as_bytes()).unwrap();
            let answer = http
                .request(method, format!("{upstream}{}", r.url()))
                .header("Content-Type", "application/vnd.schemaregistry.v1+json")
                .body(body)
                .send()
                .unwrap();
            let status = answer.status().as_u16();
            let text = answer.text().unwrap();
            let _ = r.respond(tiny_http::Response::from_string(text).with_status_code(status));
        }
    });
    (server, url)
}

fn credentials_refused_by_a_proxy_in_front(url: &str) {
    let (server, proxy) = auth_proxy(url);
    let text = Encoder::new(&datasets()[0], Kind::Aggregates)
        .unwrap()
        .schema_text()
        .to_string();
    let topic = "eds.PowerSystemRightNow.aggregates";
    let with = |user_info: &str| {
        let mut c = config(&proxy);
        c.auth = Auth::basic(user_info).unwrap();
        Registrar::new(Registry::new(c).unwrap(), false)
    };
    assert!(with("alice:right")
        .id(topic, &text, SchemaType::Avro)
        .is_ok());
    let e = with("alice:wrong-Pa55")
        .id(topic, &text, SchemaType::Avro)
        .unwrap_err();
    assert!(
        matches!(&e, RegistryError::Auth { status: 401, auth, .. } if auth.contains("alice")),
        "{e:?}"
    );
    let coded = staged(e);
    assert_eq!(exit_of(&coded), Exit::Kafka);
    let shown = eds_kafka::failure::report(&coded, true, eds_kafka::redact::text);
    assert!(!shown.contains("wrong-Pa55"), "{shown}");
    server.unblock();
}

/// Runs openssl with `args` in `dir`; panics with its output on failure.
fn openssl(dir: &Path, args: &[&str]) {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .expect("the openssl command (Debian package openssl) makes the test's certificates");
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}

/// A CA and a certificate for 127.0.0.1 signed by it, in `dir`.
fn certificates(dir: &Path) {
    openssl(
        dir,
        &[
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "ca.key",
            "-out",
            "ca.pem",
            "-days",
            "2",
            "-subj",
            "/CN=eds-kafka test CA",
        ],
    );
    openssl(
        dir,
        &[
            "req",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-keyout",
            "leaf.key",
            "-out",
            "leaf.csr",
            "-subj",
            "/CN=127.0.0.1",
        ],
    );
    std::fs::write(
        dir.join("leaf.ext"),
        "subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n",
    )
    .unwrap();
    openssl(
        dir,
        &[
            "x509",
            "-req",
            "-in",
            "leaf.csr",
            "-CA",
            "ca.pem",
            "-CAkey",
            "ca.key",
            "-CAcreateserial",
            "-out",
            "leaf.pem",
            "-days",
            "2",
            "-extfile",
            "leaf.ext",
        ],
    );
}

/// The child process is ended when the test ends.
struct Child(std::process::Child);

impl Drop for Child {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A TLS server whose certificate only the extra CA vouches for (openssl
/// serving files, a schema by id among them): without the CA the handshake
/// fails (exit 4), with it the schema is read.
#[test]
fn an_extra_ca_certificate_is_trusted() {
    let dir = tempfile::tempdir().unwrap();
    certificates(dir.path());
    std::fs::create_dir_all(dir.path().join("schemas/ids")).unwrap();
    std::fs::write(
        dir.path().join("schemas/ids/1"),
        r#"{"schema":"\"string\""}"#,
    )
    .unwrap();
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port();
    let accept = format!("127.0.0.1:{port}");
    let _server = Child(
        Command::new("openssl")
            .current_dir(dir.path())
            .args([
                "s_server", "-accept", &accept, "-cert", "leaf.pem", "-key", "leaf.key", "-WWW",
                "-quiet",
            ])
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .unwrap(),
    );
    let deadline = std::time::Instant::now() + Duration::from_secs(20);
    while std::net::TcpStream::connect(&accept).is_err() {
        assert!(
            std::time::Instant::now() < deadline,
            "openssl s_server did not listen"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let mut c = config(&format!("https://127.0.0.1:{port}"));
    c.timeout = Duration::from_secs(10);
    let e = Registry::new(c.clone())
        .unwrap()
        .schema_by_id(1)
        .unwrap_err();
    assert!(matches!(e, RegistryError::Unreachable { .. }), "{e:?}");
    assert!(e.to_string().to_lowercase().contains("certificate"), "{e}");
    assert_eq!(e.exit(), Exit::Kafka);
    c.ca_file = Some(dir.path().join("ca.pem"));
    let schema = Registry::new(c).unwrap().schema_by_id(1);
    assert_eq!(schema, Ok((SchemaType::Avro, "\"string\"".to_string())));
}
