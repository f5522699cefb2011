//! Wrong credentials and untrusted certificates: exit 4 within
//! `--kafka-timeout`, a clear message, no secret shown, nothing published.

use super::*;

#[test]
fn a_wrong_scram_password_fails_clearly_without_showing_it() {
    let s = &secured();
    let auth = s.sasl_x("SCRAM-SHA-512", "alice", WRONG);
    let words = ["refused the credentials", "sasl.password", "SCRAM-SHA-512"];
    refused_publish(s, &auth, FAST, &words);
    // consume and backfill alike, on a topic that exists.
    let (topics, _stub, records, _) = existing_topics(s);
    let timeout = format!("{TIMEOUT_S}s");
    let consume = ["consume", "-vv", "--topic", &topics.records];
    let r = run(
        &auth,
        &strings(&[&consume[..], &["--kafka-timeout", &timeout]].concat()),
    );
    assert_refused(&r, FAST, &words);
    assert!(r.out.is_empty(), "{}", r.out);
    let stub = stub_at(BACKFILL_NOW);
    let extra = ["-vv", "--kafka-timeout", &timeout];
    let backfill = backfill_args(&stub, &topics, "2026-11-10T01:00:00Z", &extra);
    assert_refused(&run(&auth, &backfill), FAST, &words);
    assert_eq!(s.count(&topics.records), records);
}

#[test]
fn a_wrong_plain_password_from_a_file_fails_clearly_without_showing_it() {
    let s = &secured();
    refused_publish(
        s,
        &s.sasl_file("SASL_PLAINTEXT", "PLAIN", "alice", WRONG),
        FAST,
        &["refused the credentials", "sasl.jaas.config"],
    );
}

#[test]
fn an_untrusted_server_certificate_fails_clearly() {
    let s = &secured();
    // The client trusts only the rogue CA: the broker's certificate is not trusted.
    refused_publish(
        s,
        &s.tls("rogue-ca", "client"),
        FAST,
        &[
            "TLS handshake failed",
            "ssl.ca.location",
            "certificate verify failed",
        ],
    );
}

#[test]
fn a_client_certificate_from_an_untrusted_ca_is_refused() {
    let s = &secured();
    // The broker's alert comes after the handshake (TLS 1.3) as a transport
    // failure, like a broker going away: only the timeout ends it, and the
    // message carries the broker's alert.
    refused_publish(
        s,
        &s.tls("ca", "rogue-client"),
        SLOW,
        &[&format!("within {TIMEOUT_S}s"), "bad certificate"],
    );
}
