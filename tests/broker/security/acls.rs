//! Missing ACLs: each run names the permission it lacks, and a principal
//! that may not read a topic holding data never takes it for an empty one.

use super::*;

#[test]
fn without_create_create_topics_says_so() {
    let s = &secured();
    refused_publish(
        s,
        &s.user("nocreate"),
        FAST,
        &[
            "creating topic sec.no.",
            "TopicAuthorizationFailed",
            "no Create ACL",
        ],
    );
}

#[test]
fn without_write_publish_names_the_missing_permission() {
    let s = &secured();
    let (topics, stub, records, aggregates) = existing_topics(s);
    let r = publish_vv(&s.user("nowrite"), &stub, &topics, LATER);
    assert_refused(
        &r,
        FAST,
        &["AuthorizationFailed", "no Write ACL", &topics.records],
    );
    assert_eq!(s.count(&topics.records), records);
    assert_eq!(s.count(&topics.aggregates), aggregates);
}

#[test]
fn without_read_the_cursor_read_fails_and_nothing_is_published_again() {
    let s = &secured();
    let (topics, stub, records, aggregates) = existing_topics(s);
    // At the same time as alice's run: an empty cursor would publish it all again.
    for now in [NOW, LATER] {
        let r = publish_vv(&s.user("noread"), &stub, &topics, now);
        assert_refused(
            &r,
            FAST,
            &["cannot read the cursors", "no Read ACL", &topics.records],
        );
        assert_eq!(s.count(&topics.records), records, "published again");
        assert_eq!(s.count(&topics.aggregates), aggregates, "published again");
    }
    // consume says the same.
    let r = consume_vv(&s.user("noread"), &topics.records, &["--from-beginning"]);
    assert_refused(&r, FAST, &["not authorized", "Read (to read"]);
    assert!(r.out.is_empty(), "{}", r.out);
}

#[test]
fn a_topic_invisible_to_the_principal_is_neither_missing_nor_empty() {
    let s = &secured();
    let (topics, stub, records, aggregates) = existing_topics(s);
    let r = publish_vv(&s.user("nobody"), &stub, &topics, LATER);
    assert_refused(&r, FAST, &["no Describe ACL", &topics.records]);
    assert!(!r.err.contains("does not exist"), "{}", r.err);
    assert_eq!(s.count(&topics.records), records);
    assert_eq!(s.count(&topics.aggregates), aggregates);
    let r = consume_vv(&s.user("nobody"), &topics.records, &[]);
    assert_refused(&r, FAST, &["no Describe ACL", &topics.records]);
}

/// Many short runs over TLS, each ending right after its cursor read
/// (nothing new to backfill): every one exits 0. A consumer left to the
/// process exit (not destroyed) made about one in 40 end with SIGSEGV, its
/// broker threads still running while the exit freed OpenSSL.
#[test]
fn short_tls_runs_never_crash_at_exit() {
    let s = &secured();
    let (auth, stub, topics) = alice_backfilling(s, "sec.exit");
    let args = backfill_args(&stub, &topics, "2026-11-10T00:10:00Z", &["--create-topics"]);
    let first = run(&auth, &args);
    assert_eq!(first.code, 0, "{}", first.err);
    assert_eq!(s.count(&topics.records), 10);
    let started = Instant::now();
    for i in 0..80 {
        let out = Command::new(assert_cmd::cargo::cargo_bin("eds-kafka"))
            .args(&args)
            .args(["--brokers", &auth.brokers])
            .args(&auth.args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "run {i}: {:?}: {}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        );
    }
    eprintln!("80 short TLS runs in {:?}", started.elapsed());
    assert_eq!(s.count(&topics.records), 10);
}

#[test]
fn consume_group_needs_read_on_the_group() {
    let s = &secured();
    let (topics, _stub, records, _) = existing_topics(s);
    // A group alice may read (eds*): it joins, reads everything and commits.
    let group = unique_topic("eds-sec-group");
    let consume = [
        "consume",
        "--topic",
        &topics.records,
        "--group",
        &group,
        "--format",
        "json",
    ];
    let ok = run(&s.user("alice"), &strings(&consume));
    assert_eq!(ok.code, 0, "{}", ok.err);
    assert_eq!(ok.out.lines().count(), records);
    // alice may read the topic, and groups named eds*, not this one.
    let r = consume_vv(
        &s.user("alice"),
        &topics.records,
        &["--group", "other-group"],
    );
    assert_refused(
        &r,
        FAST,
        &["GroupAuthorizationFailed", "Read on the consumer group"],
    );
    assert!(r.out.is_empty(), "{}", r.out);
}
