//! The client against a scripted HTTP server (tiny_http): what it sends,
//! and each answer's error. tests/broker/registry/ runs it against Apicurio.

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use super::*;
use crate::exit::{Exit, Staged};

/// One request as the mock saw it.
#[derive(Debug, Clone)]
struct Seen {
    method: String,
    url: String,
    auth: Option<String>,
    content_type: Option<String>,
    body: String,
}

/// A server answering each request with `answer(&seen)`: (status, body).
struct Mock {
    server: Arc<tiny_http::Server>,
    seen: Arc<Mutex<Vec<Seen>>>,
    url: String,
}

impl Drop for Mock {
    fn drop(&mut self) {
        self.server.unblock();
    }
}

fn header(r: &tiny_http::Request, name: &str) -> Option<String> {
    (r.headers().iter())
        .find(|h| h.field.as_str().as_str().eq_ignore_ascii_case(name))
        .map(|h| h.value.as_str().to_string())
}

fn mock(answer: impl Fn(&Seen) -> (u16, String) + Send + 'static) -> Mock {
    let server = Arc::new(tiny_http::Server::http("127.0.0.1:0").unwrap());
    let url = format!("http://{}/api/ccompat/v7", server.server_addr());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let (s, log) = (server.clone(), seen.clone());
    std::thread::spawn(move || {
        for mut r in s.incoming_requests() {
            let mut body = String::new();
            let _ = r.as_reader().read_to_string(&mut body);
            let request = Seen {
                method: r.method().to_string(),
                url: r.url().to_string(),
                auth: header(&r, "Authorization"),
                content_type: header(&r, "Content-Type"),
                body,
            };
            let (status, text) = answer(&request);
            log.lock().unwrap().push(request);
            let _ = r.respond(tiny_http::Response::from_string(text).with_status_code(status));
        }
    });
    Mock { server, seen, url }
}

fn config(url: &str) -> RegistryConfig {
    RegistryConfig {
        url: url.to_string(),
        auth: Auth::None,
        ca_file: None,
        timeout: Duration::from_secs(5),
    }
}

fn registry(url: &str) -> Registry {
    Registry::new(config(url)).unwrap()
}

const SCHEMA: &str = r#"{"type":"string"}"#;

#[test]
fn lookup_register_and_fetch_speak_the_confluent_api() {
    let m = mock(|s| match (s.method.as_str(), s.url.as_str()) {
        ("POST", "/api/ccompat/v7/subjects/t.records-value") => (
            404,
            r#"{"error_code":40401,"message":"Subject 't.records-value' not found."}"#.into(),
        ),
        ("POST", "/api/ccompat/v7/subjects/t.records-value/versions") => {
            (200, r#"{"id":7}"#.into())
        }
        ("GET", "/api/ccompat/v7/schemas/ids/7") => (200, format!(r#"{{"schema":{SCHEMA:?}}}"#)),
        ("GET", "/api/ccompat/v7/schemas/ids/8") => {
            (200, r#"{"schema":"{}","schemaType":"JSON"}"#.into())
        }
        _ => (
            404,
            r#"{"error_code":40403,"message":"Schema not found"}"#.into(),
        ),
    });
    let r = registry(&m.url);
    assert_eq!(
        r.lookup("t.records-value", SCHEMA, SchemaType::Avro),
        Ok(None)
    );
    assert_eq!(
        r.register("t.records-value", SCHEMA, SchemaType::Avro),
        Ok(7)
    );
    assert_eq!(
        r.schema_by_id(7),
        Ok((SchemaType::Avro, SCHEMA.to_string()))
    );
    assert_eq!(r.schema_by_id(8), Ok((SchemaType::Json, "{}".to_string())));
    let e = r.schema_by_id(9).unwrap_err();
    assert!(
        matches!(
            e,
            RegistryError::NoSuchId {
                id: 9,
                error_code: Some(40403),
                ..
            }
        ),
        "{e:?}"
    );
    assert_eq!(e.exit(), Exit::Data);
    let seen = m.seen.lock().unwrap().clone();
    let body: Value = serde_json::from_str(&seen[1].body).unwrap();
    assert_eq!(body, json!({"schema": SCHEMA, "schemaType": "AVRO"}));
    assert_eq!(seen[1].content_type.as_deref(), Some(CONTENT_TYPE));
    assert_eq!(seen[0].auth, None);
}

#[test]
fn subjects_are_one_path_segment() {
    let m = mock(|_| (200, r#"{"id":1}"#.into()));
    let r = registry(&format!("{}/", m.url));
    r.register("a/b c-value", SCHEMA, SchemaType::Json).unwrap();
    let seen = m.seen.lock().unwrap().clone();
    assert_eq!(
        seen[0].url,
        "/api/ccompat/v7/subjects/a%2Fb%20c-value/versions"
    );
}

#[test]
fn credentials_are_sent_and_never_shown() {
    let m = mock(|_| (401, r#"{"error_code":401,"message":"Unauthorized"}"#.into()));
    let mut c = config(&m.url);
    c.auth = Auth::basic("alice:S3cret-pw:x").unwrap();
    let e = Registry::new(c)
        .unwrap()
        .register("s", SCHEMA, SchemaType::Avro)
        .unwrap_err();
    assert_eq!(e.exit(), Exit::Kafka);
    assert!(matches!(e, RegistryError::Auth { status: 401, .. }));
    let text = e.to_string();
    assert!(
        text.contains("basic auth as user 'alice' refused"),
        "{text}"
    );
    assert!(
        !text.contains("S3cret") && !format!("{e:?}").contains("S3cret"),
        "{text}"
    );
    // From the URL's user-info, which messages hide.
    let with_info = m.url.replace("http://", "http://bob:Pw%40rd@");
    let r = registry(&with_info);
    assert!(
        !r.url().contains("Pw") && !r.url().contains("bob"),
        "{}",
        r.url()
    );
    let e = r.lookup("s", SCHEMA, SchemaType::Avro).unwrap_err();
    assert!(e.to_string().contains("user 'bob'"), "{e}");
    // A bearer token from a file.
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("token");
    std::fs::write(&file, "tok-abc123\n").unwrap();
    let mut c = config(&m.url);
    c.auth = Auth::bearer_file(&file).unwrap();
    let e = Registry::new(c)
        .unwrap()
        .lookup("s", SCHEMA, SchemaType::Avro)
        .unwrap_err();
    assert!(e.to_string().contains("the bearer token from"), "{e}");
    assert!(!e.to_string().contains("tok-abc123"));
    let seen = m.seen.lock().unwrap().clone();
    assert!(seen[0].auth.as_deref().unwrap().starts_with("Basic "));
    assert_eq!(seen[1].auth, Some(format!("Basic {}", b64("bob:Pw@rd"))));
    assert_eq!(seen[2].auth.as_deref(), Some("Bearer tok-abc123"));
    // Files that cannot be used are configuration errors.
    std::fs::write(&file, "  \n").unwrap();
    assert_eq!(Auth::bearer_file(&file).unwrap_err().exit(), Exit::Usage);
    assert!(Auth::bearer_file(&dir.path().join("none")).is_err());
    assert!(Auth::basic("no-colon").is_err());
}

/// Base64 of `text`, for the expected Authorization header.
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
            if i <= chunk.len() {
                out.push(A[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[test]
fn each_refusal_is_its_error() {
    let m = mock(|s| match s.url.rsplit('/').next().unwrap() {
        "versions" if s.url.contains("incompatible") => (
            409,
            r#"{"error_code":409,"message":"Schema being registered is incompatible"}"#.into(),
        ),
        "versions" if s.url.contains("invalid") => (
            422,
            r#"{"error_code":42201,"message":"Invalid schema"}"#.into(),
        ),
        "versions" => (500, r#"{"error_code":50001,"message":"boom"}"#.into()),
        _ => (404, "<html>Not Found</html>".into()),
    });
    let r = registry(&m.url);
    let e = r
        .register("incompatible-value", SCHEMA, SchemaType::Avro)
        .unwrap_err();
    assert_eq!(e.exit(), Exit::Data);
    assert!(
        matches!(&e, RegistryError::Incompatible { subject, error_code: Some(409), message, .. }
        if subject == "incompatible-value" && message.contains("incompatible"))
    );
    let e = r
        .register("invalid-value", SCHEMA, SchemaType::Avro)
        .unwrap_err();
    assert!(matches!(
        e,
        RegistryError::Rejected {
            status: 422,
            error_code: Some(42201),
            ..
        }
    ));
    assert_eq!(e.exit(), Exit::Data);
    let e = r.register("s", SCHEMA, SchemaType::Avro).unwrap_err();
    assert!(matches!(e, RegistryError::Server { status: 500, .. }));
    assert_eq!(e.exit(), Exit::Kafka);
    // A 404 that is not the API's: a wrong base URL.
    let e = r.lookup("s", SCHEMA, SchemaType::Avro).unwrap_err();
    assert!(
        matches!(e, RegistryError::NotTheApi { status: 404, .. }),
        "{e:?}"
    );
    assert!(e.to_string().contains("/apis/ccompat/v7"), "{e}");
    assert_eq!(e.exit(), Exit::Kafka);
}

#[test]
fn an_unreachable_or_silent_registry_fails_in_time() {
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let e = registry(&url)
        .lookup("s", SCHEMA, SchemaType::Avro)
        .unwrap_err();
    assert!(matches!(e, RegistryError::Unreachable { .. }), "{e:?}");
    assert_eq!(e.exit(), Exit::Kafka);
    // Accepts, then says nothing.
    let silent = TcpListener::bind("127.0.0.1:0").unwrap();
    let mut c = config(&format!("http://{}", silent.local_addr().unwrap()));
    c.timeout = Duration::from_millis(600);
    let started = Instant::now();
    let e = Registry::new(c.clone())
        .unwrap()
        .lookup("s", SCHEMA, SchemaType::Avro);
    assert!(matches!(e, Err(RegistryError::Timeout { .. })), "{e:?}");
    assert!(started.elapsed() < Duration::from_secs(3));
    // Answers, then trickles its body a byte at a time.
    let addr = silent.local_addr().unwrap();
    std::thread::spawn(move || {
        while let Ok((mut conn, _)) = silent.accept() {
            let mut buf = [0u8; 4096];
            let _ = conn.read(&mut buf);
            let _ = conn.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n");
            for _ in 0..1000 {
                if conn.write_all(b" ").and_then(|()| conn.flush()).is_err() {
                    break;
                }
                std::thread::sleep(Duration::from_millis(50));
            }
        }
    });
    c.url = format!("http://{addr}");
    let started = Instant::now();
    let e = Registry::new(c)
        .unwrap()
        .lookup("s", SCHEMA, SchemaType::Avro);
    assert!(matches!(e, Err(RegistryError::Timeout { .. })), "{e:?}");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
}

#[test]
fn a_ca_file_must_hold_certificates() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("ca.pem");
    std::fs::write(&file, "not a certificate").unwrap();
    let mut c = config("https://registry.invalid");
    c.ca_file = Some(file.clone());
    let e = Registry::new(c.clone()).err().unwrap();
    assert_eq!(e.exit(), Exit::Usage);
    assert!(e.to_string().contains("ca.pem"), "{e}");
    c.ca_file = Some(dir.path().join("missing.pem"));
    assert!(matches!(
        Registry::new(c).err(),
        Some(RegistryError::Config { .. })
    ));
    for bad in ["ftp://x", "not a url", "http://h/x?token=abc"] {
        let e = Registry::new(config(bad)).err().unwrap();
        assert_eq!(e.exit(), Exit::Usage, "{bad}");
        assert!(!e.to_string().contains("token=abc"), "{e}");
    }
}

#[test]
fn a_registrar_asks_once_per_subject_and_schema() {
    let m = mock(|s| match s.url.as_str() {
        u if u.ends_with("/versions") => (200, r#"{"id":3}"#.into()),
        u if u.ends_with("/known-value") => (200, r#"{"id":2,"version":1}"#.into()),
        _ => (
            404,
            r#"{"error_code":40401,"message":"Subject not found"}"#.into(),
        ),
    });
    let mut reg = Registrar::new(registry(&m.url), true);
    for _ in 0..100 {
        assert_eq!(reg.id("known", SCHEMA, SchemaType::Avro), Ok(2));
        assert_eq!(reg.id("new", SCHEMA, SchemaType::Avro), Ok(3));
    }
    assert_eq!(
        reg.calls(),
        Calls {
            lookups: 2,
            registrations: 1
        }
    );
    assert_eq!(m.seen.lock().unwrap().len(), 3);
    let mut look_only = Registrar::new(registry(&m.url), false);
    assert_eq!(look_only.id("known", SCHEMA, SchemaType::Avro), Ok(2));
    let e = look_only.id("new", SCHEMA, SchemaType::Avro).unwrap_err();
    assert!(matches!(&e, RegistryError::NotRegistered { subject, .. } if subject == "new-value"));
    assert!(e.to_string().contains("--no-register"), "{e}");
    assert_eq!(e.exit(), Exit::Data);
    assert_eq!(
        look_only.calls(),
        Calls {
            lookups: 2,
            registrations: 0
        }
    );
}
