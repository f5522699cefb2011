use super::*;
use crate::time::parse_utc;

fn t(text: &str) -> DateTime<Utc> {
    parse_utc(text).unwrap()
}

fn key(time: &str, k: &str) -> MessageKey {
    MessageKey::new(t(time), &[k.to_string()])
}

const LIMITS: Limits = Limits {
    max_lag: TimeDelta::minutes(30),
    max_incomplete: 0,
    max_gap: TimeDelta::minutes(30),
    max_missing: 0,
};

/// Records alone (the aggregates topic not read), unless a test says so.
fn health() -> Health {
    let mut h = Health::new(
        t("2026-11-28T12:00:30"),
        TimeDelta::hours(24),
        TimeDelta::minutes(1),
    );
    h.aggregates_read = false;
    h
}

/// The aggregates must keep up with the records: none in the period,
/// or more than one resolution behind, is unhealthy with its own reason.
#[test]
fn aggregates_behind_or_missing_while_records_are_current_are_unhealthy() {
    let mut h = health();
    h.aggregates_read = true;
    for m in ["11:57", "11:58", "11:59"] {
        h.record(key(&format!("2026-11-28T{m}:00"), "DK1"), 0);
        h.record(key(&format!("2026-11-28T{m}:00"), "DK2"), 0);
    }
    // DK1: one run in progress (its 12:00 window not yet written).
    h.aggregate(key("2026-11-28T11:59:00", "DK1"), 0, vec![]);
    assert_eq!(
        h.verdict(&LIMITS).reasons,
        ["DK2: records up to 2026-11-28T11:59:00Z but no aggregate within the last 1d"]
    );
    h.aggregate(key("2026-11-28T11:40:00", "DK2"), 0, vec![]);
    let v = h.verdict(&LIMITS);
    assert_eq!(v.reasons.len(), 1, "{v:?}");
    assert!(
        v.reasons[0].starts_with(
            "DK2: the aggregates are behind the records: newest window ends 2026-11-28T11:40:00Z"
        ),
        "{v:?}"
    );
    assert!(v.reasons[0].ends_with("(20m behind)"), "{v:?}");
    h.aggregate(key("2026-11-28T12:00:00", "DK2"), 0, vec![]);
    assert!(h.verdict(&LIMITS).healthy());
}

/// A value that is not a valid aggregate is counted as invalid, named,
/// and never as a (complete) window.
#[test]
fn invalid_aggregates_are_named_and_not_counted() {
    let mut h = health();
    h.record(key("2026-11-28T11:59:00", "DK1"), 0);
    h.aggregate(key("2026-11-28T12:00:00", "DK1"), 0, vec![]);
    h.invalid_aggregate(&key("2026-11-28T11:59:00", "DK1"), 7, "not JSON");
    let k = &h.keys[&vec!["DK1".to_string()]];
    assert_eq!(k.windows(), 1);
    assert_eq!(
        h.verdict(&LIMITS).reasons,
        [
            "1 message(s) in the aggregates topic that are not valid aggregates (not counted): \
          offset 7 (key '2026-11-28T11:59:00Z/DK1'): not JSON"
        ]
    );
}

/// 3,000 lagging keys made one 246 KB line: the line names the worst
/// five and counts the rest; JSON keeps every reason.
#[test]
fn a_verdict_with_thousands_of_reasons_is_one_bounded_line() {
    let mut h = health();
    for i in 0..3000 {
        let minute = format!("2026-11-28T{:02}:{:02}:00", 1 + i % 10, i % 60);
        h.record(key(&minute, &format!("K{i}\x1b[2J")), 0);
    }
    let line = h.summary(&LIMITS);
    assert!(line.len() < 2000, "{} bytes", line.len());
    assert!(
        line.contains("and 2995 more (status --format json lists them all)"),
        "{line}"
    );
    assert!(
        !line.contains('\x1b') && line.contains("\\x1b[2J"),
        "{line}"
    );
    // The worst first: the oldest newest record (01:00 and 01:01 keys).
    assert!(
        line.starts_with("UNHEALTHY: K0\\x1b[2J: newest record 2026-11-28T01:00:00Z"),
        "{line}"
    );
    assert_eq!(h.json(&LIMITS)["reasons"].as_array().unwrap().len(), 3000);
    assert!(!h.table(&LIMITS).contains('\x1b'));
}

#[test]
fn a_complete_recent_key_is_healthy() {
    let mut h = health();
    for m in ["11:57", "11:58", "11:59"] {
        h.record(key(&format!("2026-11-28T{m}:00"), "DK1"), 0);
    }
    h.aggregate(key("2026-11-28T12:00:00", "DK1"), 0, vec![]);
    let k = &h.keys[&vec!["DK1".to_string()]];
    assert_eq!(
        (k.records(), k.windows(), k.incomplete(), k.duplicates),
        (3, 1, 0, 0)
    );
    assert_eq!(k.newest_record(), Some(t("2026-11-28T11:59:00")));
    assert_eq!(k.largest_gap(h.resolution), None);
    assert!(h.verdict(&LIMITS).healthy(), "{:?}", h.verdict(&LIMITS));
    assert!(h
        .summary(&LIMITS)
        .starts_with("healthy: 1 key combination(s), largest lag 1m30s"));
    assert_eq!(h.json(&LIMITS)["keys"][0]["lag_seconds"], 90);
}

#[test]
fn lag_duplicates_and_incomplete_windows_each_make_it_unhealthy() {
    let mut h = health();
    h.record(key("2026-11-28T11:00:00", "DK1"), 0);
    h.record(key("2026-11-28T11:20:00", "DK1"), 0);
    let v = h.verdict(&LIMITS);
    assert_eq!(v.reasons.len(), 2, "{v:?}");
    assert!(
        v.reasons[0].starts_with("19 record time(s) missing"),
        "{v:?}"
    );
    assert!(v.reasons[1].contains("40m30s old"), "{v:?}");
    assert_eq!(
        h.keys[&vec!["DK1".to_string()]].largest_gap(h.resolution),
        Some(TimeDelta::minutes(19))
    );

    let mut h = health();
    h.record(key("2026-11-28T11:59:00", "DK1"), 0);
    h.record(key("2026-11-28T11:59:00", "DK1"), 0);
    h.aggregate(
        key("2026-11-28T12:00:00", "DK1"),
        0,
        vec![t("2026-11-28T11:57:00")],
    );
    let k = &h.keys[&vec!["DK1".to_string()]];
    assert_eq!(
        (
            k.records(),
            k.duplicates,
            k.incomplete(),
            k.missing_in_windows().len()
        ),
        (1, 1, 1, 1)
    );
    let v = h.verdict(&LIMITS);
    assert_eq!(v.reasons.len(), 2, "{v:?}");
    let lenient = Limits {
        max_incomplete: 1,
        ..LIMITS
    };
    assert_eq!(h.verdict(&lenient).reasons, ["1 duplicate key(s)"]);
    assert!(h.summary(&lenient).starts_with("UNHEALTHY: 1 duplicate"));
}

/// A hole a run skipped (downtime longer than --max-catch-up) was only in
/// the table's gap column: the verdict said healthy.
#[test]
fn a_hole_longer_than_max_gap_is_unhealthy() {
    let mut h = health();
    for m in ["10:00", "10:01", "11:32", "11:58", "11:59"] {
        h.record(key(&format!("2026-11-28T{m}:00"), "DK1"), 0);
    }
    let v = h.verdict(&LIMITS);
    assert_eq!(
        v.reasons,
        [
            "115 record time(s) missing between records of the same key (more than \
             --max-missing 0): DK1 2026-11-28T10:02:00Z, DK1 2026-11-28T10:03:00Z, \
             DK1 2026-11-28T10:04:00Z, DK1 2026-11-28T10:05:00Z, DK1 2026-11-28T10:06:00Z, ...",
            "DK1: a hole of 1h30m between two records (more than --max-gap 30m)"
        ]
    );
    assert_eq!(h.json(&LIMITS)["max_gap_seconds"], 1800);
    let lenient = Limits {
        max_gap: TimeDelta::hours(2),
        max_missing: 115,
        ..LIMITS
    };
    assert!(h.verdict(&lenient).healthy());
    assert!(
        h.summary(&lenient).contains("largest gap 1h30m (max 2h)"),
        "{}",
        h.summary(&lenient)
    );
}

/// A message of ours from the future stops every publish run (exit 3):
/// status said healthy until the lag passed --max-lag.
#[test]
fn a_message_publish_refuses_is_unhealthy_at_once() {
    let mut h = health();
    for m in ["11:59", "12:00", "12:01"] {
        h.record(key(&format!("2026-11-28T{m}:00"), "DK1"), 0);
    }
    assert!(h.verdict(&LIMITS).healthy(), "within one resolution");
    h.record(key("2026-11-29T12:00:00", "DK1"), 0);
    let v = h.verdict(&LIMITS);
    assert_eq!(v.reasons.len(), 1, "{v:?}");
    assert!(
        v.reasons[0].starts_with("1 message(s) of ours that stop every publish run (exit 3): the records topic: key '2026-11-29T12:00:00Z/DK1' is later than --now"),
        "{v:?}"
    );
}

/// `status --records-topic ''` (a deployment that publishes only
/// aggregates): was refused; a key's newest row is its newest window's.
#[test]
fn aggregates_alone_are_judged_by_their_windows() {
    let mut h = health();
    h.records_read = false;
    h.aggregate(key("2026-11-28T12:00:00", "DK1"), 0, vec![]);
    assert!(h.verdict(&LIMITS).healthy(), "{:?}", h.verdict(&LIMITS));
    assert_eq!(h.json(&LIMITS)["keys"][0]["lag_seconds"], 90);
    let mut old = health();
    old.records_read = false;
    old.aggregate(key("2026-11-28T11:00:00", "DK1"), 0, vec![]);
    assert_eq!(
        old.verdict(&LIMITS).reasons,
        ["DK1: newest window's row 2026-11-28T10:59:00Z is 1h1m30s old (more than --max-lag 30m)"]
    );
    let mut none = health();
    none.records_read = false;
    assert_eq!(
        none.verdict(&LIMITS).reasons,
        ["no aggregates within the last 1d"]
    );
}

#[test]
fn nothing_in_the_period_is_unhealthy_and_old_messages_are_ignored() {
    let mut h = health();
    h.record(key("2026-11-27T12:00:00", "DK1"), 0);
    h.record(key("2026-11-28T12:01:00", "DK1"), 0);
    assert!(h.keys.is_empty());
    assert_eq!(
        h.verdict(&LIMITS).reasons,
        ["no records within the last 1d"]
    );
    h.aggregate(key("2026-11-28T12:00:00", "DK2"), 0, vec![]);
    assert_eq!(h.verdict(&LIMITS).reasons.len(), 2);
    assert!(h.table(&LIMITS).contains("DK2"));
}

/// A changelog: a later message with a higher revision corrects its key
/// (not a duplicate); the latest aggregate of a window decides whether it
/// is incomplete; a hole filled later is no longer missing.
#[test]
fn corrections_supersede_and_the_latest_window_counts() {
    let mut h = health();
    h.aggregates_read = true;
    for m in ["11:57", "11:59"] {
        h.record(key(&format!("2026-11-28T{m}:00"), "DK1"), 0);
    }
    h.aggregate(
        key("2026-11-28T12:00:00", "DK1"),
        0,
        vec![t("2026-11-28T11:58:00")],
    );
    let v = h.verdict(&LIMITS);
    assert_eq!(v.reasons.len(), 2, "{v:?}");
    assert!(v.reasons[0].starts_with("1 incomplete window(s)"), "{v:?}");
    assert_eq!(
        v.reasons[1],
        "1 record time(s) missing between records of the same key (more than --max-missing 0): \
         DK1 2026-11-28T11:58:00Z"
    );
    let json = h.json(&LIMITS);
    assert_eq!(json["keys"][0]["missing_records"], 1);
    assert_eq!(
        json["keys"][0]["missing_record_times"],
        serde_json::json!(["2026-11-28T11:58:00Z"])
    );
    assert!(h.table(&LIMITS).lines().nth(1).unwrap().contains(" 2 "));
    // The late row arrives; its window and 11:59 are published again.
    h.record(key("2026-11-28T11:58:00", "DK1"), 0);
    h.record(key("2026-11-28T11:59:00", "DK1"), 1);
    h.aggregate(key("2026-11-28T12:00:00", "DK1"), 1, vec![]);
    assert!(h.verdict(&LIMITS).healthy(), "{:?}", h.verdict(&LIMITS));
    assert!(
        h.summary(&LIMITS).contains("0 record time(s) missing (max 0), no duplicates, 2 correction(s), 0 of 1 window(s) incomplete"),
        "{}",
        h.summary(&LIMITS)
    );
    assert_eq!(h.json(&LIMITS)["keys"][0]["corrections"], 2);
    // The same revision again: a duplicate.
    h.record(key("2026-11-28T11:59:00", "DK1"), 1);
    assert_eq!(h.verdict(&LIMITS).reasons, ["1 duplicate key(s)"]);
}
