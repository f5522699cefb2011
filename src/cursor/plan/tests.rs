//! Unit tests of the plan (beside the code, in their own file).

use super::*;
use crate::cursor::describe::describe_behind;
use crate::exit::Exit;
use crate::time::parse_utc;

fn t(hm: &str) -> DateTime<Utc> {
    parse_utc(&format!("2026-11-28T{hm}:00")).unwrap()
}

fn k(v: &str) -> Vec<String> {
    vec![v.to_string()]
}

fn spans(res: i64) -> Spans {
    Spans {
        resolution: TimeDelta::minutes(res),
        window: TimeDelta::minutes(15),
        max_lag: TimeDelta::minutes(30),
        max_catch_up: TimeDelta::hours(6),
        max_key_lateness: TimeDelta::hours(1),
        max_revision_age: TimeDelta::zero(),
    }
}

/// A topic whose tail shows these (key, time) as each key's newest.
fn cursor(last: &[(&str, &str)], complete_since: Option<&str>) -> TopicCursor {
    TopicCursor {
        topic: "t".into(),
        partition: 0,
        last: last
            .iter()
            .enumerate()
            .map(|(i, (key, hm))| {
                (
                    k(key),
                    Seen {
                        time: t(hm),
                        offset: i as i64,
                    },
                )
            })
            .collect(),
        complete_since: complete_since.map(t),
        review: Default::default(),
    }
}

fn cursors(records: TopicCursor, aggregates: TopicCursor) -> Cursors {
    Cursors {
        records: Some(records),
        aggregates: Some(aggregates),
    }
}

fn now() -> DateTime<Utc> {
    t("12:10") + TimeDelta::seconds(30)
}

#[test]
fn a_late_key_is_published_when_it_arrives() {
    // DK2's 12:05 row came last run; DK1's only now.
    let c = cursors(
        cursor(&[("DK1", "12:00"), ("DK2", "12:05")], Some("06:00")),
        cursor(&[("DK1", "12:05"), ("DK2", "12:10")], Some("06:00")),
    );
    let s = spans(5);
    let p = plan(&c, now(), s);
    assert_eq!(p.limit, t("12:10"));
    assert!(
        p.fetch_from <= t("11:50"),
        "DK1's next window needs 11:50 on"
    );
    let none = BTreeMap::new();
    let records = p.records(c.records.as_ref().unwrap(), &none, s);
    assert!(records.is_new(&k("DK1"), t("12:05")));
    assert!(!records.is_new(&k("DK2"), t("12:05")), "already published");
    assert!(!records.is_new(&k("DK1"), t("12:00")));
    assert!(
        !records.is_new(&k("DK1"), t("12:10")),
        "the current slot is incomplete"
    );
    let aggregates = p.aggregates(c.aggregates.as_ref().unwrap(), &none, s);
    assert!(aggregates.is_new(&k("DK1"), t("12:10")));
    assert!(!aggregates.is_new(&k("DK2"), t("12:10")));
}

#[test]
fn a_new_key_is_found_back_to_the_horizon() {
    let c = cursors(
        cursor(&[("DK1", "12:05")], Some("05:00")),
        cursor(&[("DK1", "12:10")], Some("05:00")),
    );
    let s = spans(5);
    let p = plan(&c, now(), s);
    assert_eq!(p.publish_from, t("06:10"));
    assert_eq!(
        p.fetch_from,
        t("11:00"),
        "the aggregates' horizon (newest 12:10 less an hour) less a window, not the catch-up range"
    );
    let records = p.records(c.records.as_ref().unwrap(), &BTreeMap::new(), s);
    assert!(
        records.is_new(&k("DK3"), t("11:10")),
        "55 minutes behind DK1, inside --max-key-lateness"
    );
    assert!(!records.is_new(&k("DK3"), t("11:05")), "before the horizon");
    let aggregates = p.aggregates(c.aggregates.as_ref().unwrap(), &BTreeMap::new(), s);
    assert!(
        !aggregates.is_new(&k("DK3"), t("11:10")),
        "before the horizon"
    );
    assert!(aggregates.is_new(&k("DK3"), t("11:15")));
    // A lateness shorter than --max-lag and a window: the fetch still goes
    // back as in an empty topic, and what it finds before the horizon is
    // warned, not published.
    let short = Spans {
        max_key_lateness: TimeDelta::minutes(15),
        ..s
    };
    let ps = plan(&c, now(), short);
    assert_eq!(ps.fetch_from, t("11:25"), "--max-lag and a window back");
    let rs = ps.records(c.records.as_ref().unwrap(), &BTreeMap::new(), short);
    assert!(rs.is_new(&k("DK3"), t("11:55")) && !rs.is_new(&k("DK3"), t("11:50")));
    // When the tail read stopped later, an unseen key is new only after that.
    let stopped = cursor(&[("DK1", "12:05")], Some("11:50"));
    let records = p.records(&stopped, &BTreeMap::new(), s);
    assert!(!records.is_new(&k("DK3"), t("11:45")));
    assert!(records.is_new(&k("DK3"), t("11:50")));
    // A dataset without key columns has no other key to find.
    let single = |hm| cursor(&[("", hm)], Some("23:59"));
    let mut one = cursors(single("12:05"), single("12:10"));
    for c in [&mut one.records, &mut one.aggregates] {
        c.as_mut().unwrap().complete_since = Some(DateTime::<Utc>::MAX_UTC);
    }
    assert_eq!(plan(&one, now(), s).fetch_from, t("11:55"), "one window");
}

#[test]
fn a_key_within_the_lateness_is_fetched_from_its_cursor() {
    // DK2 trails DK1 by 45 minutes, inside --max-key-lateness 1h.
    let c = cursors(
        cursor(&[("DK1", "12:05"), ("DK2", "11:20")], Some("06:00")),
        cursor(&[("DK1", "12:10"), ("DK2", "11:25")], Some("06:00")),
    );
    let s = spans(5);
    let p = plan(&c, now(), s);
    assert_eq!(
        p.fetch_from,
        t("11:00"),
        "DK2's next window needs 11:15 on; a key not yet seen is looked for from 11:00"
    );
    assert!(p.behind.is_empty(), "{:?}", p.behind);
    let records = p.records(c.records.as_ref().unwrap(), &BTreeMap::new(), s);
    assert!(records.is_new(&k("DK2"), t("11:25")) && !records.is_new(&k("DK2"), t("11:20")));
    // The same key with --max-catch-up 30m: its rows before 11:40 are
    // skipped, and said so (they were lost silently before).
    let short = Spans {
        max_catch_up: TimeDelta::minutes(30),
        ..s
    };
    let p = plan(&c, now(), short);
    assert_eq!(
        p.behind,
        vec![
            Behind {
                topic: "t".into(),
                key: k("DK2"),
                first: t("11:25"),
                last: t("11:35")
            },
            Behind {
                topic: "t".into(),
                key: k("DK2"),
                first: t("11:30"),
                last: t("11:40")
            }
        ]
    );
    let records = p.records(c.records.as_ref().unwrap(), &BTreeMap::new(), short);
    assert!(!records.is_new(&k("DK2"), t("11:35")) && records.is_new(&k("DK2"), t("11:40")));
}

#[test]
fn a_key_behind_the_lateness_is_warned_and_holds_no_one_back() {
    let c = cursors(
        cursor(&[("DK1", "12:05"), ("Gone", "08:00")], Some("06:00")),
        cursor(&[("DK1", "12:10"), ("Gone", "08:05")], Some("06:00")),
    );
    let s = spans(5);
    let p = plan(&c, now(), s);
    assert_eq!(p.fetch_from, t("11:00"), "the horizon, not Gone's cursor");
    let gone = |first, last| Behind {
        topic: "t".into(),
        key: k("Gone"),
        first: t(first),
        last: t(last),
    };
    assert_eq!(
        p.behind,
        vec![gone("08:05", "11:05"), gone("08:10", "11:10")]
    );
    let records = p.records(c.records.as_ref().unwrap(), &BTreeMap::new(), s);
    assert!(!records.is_new(&k("DK1"), t("12:05")));
    assert!(!records.is_new(&k("Gone"), t("11:05")), "warned as skipped");
    assert!(
        records.is_new(&k("Gone"), t("11:10")),
        "if it comes back, it resumes"
    );
    let aggregates = p.aggregates(c.aggregates.as_ref().unwrap(), &BTreeMap::new(), s);
    assert!(
        !aggregates.is_new(&k("Gone"), t("11:10")) && aggregates.is_new(&k("Gone"), t("11:15"))
    );
    let text = describe_behind(s.max_key_lateness, &p.behind[..1], 5);
    assert!(
        text.starts_with("1 key combination(s) of t trail the newest by more than --max-key-lateness / EDS_MAX_KEY_LATENESS 1h")
            && text.contains("'Gone' from 2026-11-28T08:05:00Z to 2026-11-28T11:05:00Z"),
        "{text}"
    );
    assert_eq!(
        crate::text::key(&[k("DK1\n[ERROR]")[0].clone(), "Ø".into()]),
        "DK1\\n[ERROR]/Ø"
    );
    let many: Vec<Behind> = (0..7).map(|_| gone("08:05", "11:05")).collect();
    assert!(describe_behind(s.max_key_lateness, &many, 5).contains("; and 2 more;"));
    // The whole topic behind by more than the lateness is caught up.
    let late = cursors(
        cursor(&[("DK1", "09:00"), ("DK2", "08:55")], Some("03:00")),
        cursor(&[("DK1", "09:05"), ("DK2", "09:00")], Some("03:00")),
    );
    let p = plan(&late, now(), s);
    assert_eq!(
        (p.fetch_from, p.behind.len()),
        (t("07:55"), 0),
        "DK2's next window from 08:50, a key not yet seen from the horizon 08:10 less a window"
    );
}

#[test]
fn the_longest_spans_a_flag_allows_do_not_overflow() {
    let c = cursors(
        cursor(&[("DK1", "12:05"), ("DK2", "04:00")], Some("03:00")),
        cursor(&[("DK1", "12:10"), ("DK2", "04:05")], Some("03:00")),
    );
    let s = Spans {
        max_lag: TimeDelta::days(3650),
        max_catch_up: TimeDelta::days(3650),
        max_key_lateness: TimeDelta::days(3650),
        ..spans(5)
    };
    for now in [now(), DateTime::<Utc>::MIN_UTC, DateTime::<Utc>::MAX_UTC] {
        let p = plan(&c, now, s);
        assert!(p.fetch_from <= p.limit, "{p:?}");
    }
    let p = plan(&c, now(), s);
    assert!(p.behind.is_empty(), "nothing is behind a ten-year horizon");
    assert!(s.tail().stop() > TimeDelta::days(7000));
}

#[test]
fn a_key_behind_the_catch_up_range_is_skipped_from_its_start() {
    let c = cursors(
        cursor(&[("DK1", "12:05"), ("DK2", "04:00")], Some("03:00")),
        cursor(&[("DK1", "12:10"), ("DK2", "04:05")], Some("03:00")),
    );
    let s = Spans {
        max_key_lateness: TimeDelta::hours(12),
        ..spans(5)
    };
    let p = plan(&c, now(), s);
    assert_eq!(p.publish_from, t("06:10"));
    assert_eq!(p.fetch_from, t("06:00"), "not back to DK2's cursor");
    assert_eq!(
        (p.behind[0].first, p.behind[0].last),
        (t("04:05"), t("06:05"))
    );
    let records = p.records(c.records.as_ref().unwrap(), &BTreeMap::new(), s);
    assert!(!records.is_new(&k("DK2"), t("06:05")));
    assert!(records.is_new(&k("DK2"), t("06:10")));
    assert!(!records.is_new(&k("DK1"), t("06:10")));
    let aggregates = p.aggregates(c.aggregates.as_ref().unwrap(), &BTreeMap::new(), s);
    assert!(
        !aggregates.is_new(&k("DK2"), t("06:10")),
        "its row is before the range"
    );
    assert!(aggregates.is_new(&k("DK2"), t("06:15")));
}

#[test]
fn a_whole_topic_behind_the_catch_up_says_what_it_skips() {
    let c = cursors(
        cursor(&[("", "01:00")], Some("00:00")),
        cursor(&[("", "01:01")], Some("00:00")),
    );
    let s = Spans {
        window: TimeDelta::minutes(5),
        ..spans(1)
    };
    let p = plan(&c, now(), s);
    assert_eq!(p.publish_from, t("06:10"));
    assert_eq!(
        p.skipped,
        vec![
            ("t".to_string(), t("01:01"), t("06:09")),
            ("t".to_string(), t("01:02"), t("06:10"))
        ]
    );
}

#[test]
fn an_empty_topic_gets_each_keys_current_window() {
    let c = cursors(TopicCursor::default(), TopicCursor::default());
    let s = spans(5);
    let p = plan(&c, now(), s);
    assert_eq!(p.fetch_from, t("11:25"), "--max-lag and one window back");
    let newest: BTreeMap<Vec<String>, DateTime<Utc>> =
        [(k("DK1"), t("12:00")), (k("DK2"), t("12:05"))].into();
    let records = p.records(c.records.as_ref().unwrap(), &newest, s);
    let published = |key: &str| {
        ["11:40", "11:45", "11:50", "11:55", "12:00", "12:05"]
            .into_iter()
            .filter(|hm| records.is_new(&k(key), t(hm)))
            .collect::<Vec<_>>()
    };
    // DK1 has no 12:05 row in this fetch; had it one, it would be new.
    assert_eq!(published("DK1"), ["11:50", "11:55", "12:00", "12:05"]);
    assert_eq!(published("DK2"), ["11:55", "12:00", "12:05"]);
    assert!(!records.is_new(&k("DK3"), t("12:05")), "no rows, no window");
    let aggregates = p.aggregates(c.aggregates.as_ref().unwrap(), &newest, s);
    assert!(aggregates.is_new(&k("DK1"), t("12:05")));
    assert!(!aggregates.is_new(&k("DK1"), t("12:00")));
    assert!(aggregates.is_new(&k("DK2"), t("12:10")));
}

#[test]
fn marking_keeps_each_key_strictly_increasing() {
    let c = cursor(&[("DK1", "12:00")], None);
    let mut rule = Published::within(&c, t("06:00"), t("13:00"));
    assert!(
        rule.is_new(&k("DK2"), t("06:00")),
        "the whole partition was read"
    );
    rule.mark(&k("DK2"), t("12:00"), 0, 0);
    assert!(!rule.is_new(&k("DK2"), t("11:55")));
    assert!(!rule.is_new(&k("DK2"), t("12:00")));
    assert!(rule.is_new(&k("DK2"), t("12:05")));
    assert!(
        !rule.is_new(&k("DK1"), t("13:00")),
        "the range ends before 13:00"
    );
}

#[test]
fn a_cursor_in_the_future_is_an_error() {
    let c = cursor(&[("DK1", "12:15")], None);
    let res = TimeDelta::minutes(5);
    assert!(
        c.check_not_future(now(), res).is_ok(),
        "12:15 is within one resolution"
    );
    let c = cursor(&[("DK1", "12:20")], None);
    let err = c.check_not_future(now(), res).unwrap_err();
    assert_eq!(crate::failure::exit_of(&err), Exit::Data);
    let typed = err
        .chain()
        .find_map(|e| e.downcast_ref::<super::super::CursorError>());
    assert!(matches!(
        typed,
        Some(super::super::CursorError::Future { .. })
    ));
    let text = err.to_string();
    assert!(text.contains("t partition 0 offset 0"), "{text}");
    assert!(text.contains("2026-11-28T12:20:00Z/DK1"), "{text}");
}

/// A backfill resumes after the older of the two cursors (an aggregate
/// is due with its window's newest row), and fetches a window before it.
#[test]
fn a_backfill_resumes_after_the_older_cursor() {
    let s = spans(1);
    let c = cursors(
        cursor(&[("DK1", "10:00")], Some("11:00")),
        cursor(&[("DK1", "09:31")], Some("11:00")),
    );
    let r = plan_range(&c, t("08:00"), t("12:00"), s, None);
    assert_eq!(
        r.start,
        t("09:31"),
        "the aggregate ending 09:32 is due with the row at 09:31"
    );
    assert_eq!(r.context, t("09:17"));
    let records = r.rules.records.unwrap();
    assert!(!records.is_new(&k("DK1"), t("10:00")) && records.is_new(&k("DK1"), t("10:01")));
    assert!(
        !records.is_new(&k("DK1"), t("12:00")),
        "--to is not included"
    );
    let aggregates = r.rules.aggregates.unwrap();
    assert!(!aggregates.is_new(&k("DK1"), t("09:31")) && aggregates.is_new(&k("DK1"), t("09:32")));
    let empty = cursors(TopicCursor::default(), TopicCursor::default());
    let r = plan_range(&empty, t("08:00"), t("12:00"), s, None);
    assert_eq!(r.start, t("08:00"), "empty topics take the whole range");
    assert!(r.rules.records.unwrap().is_new(&k("DK2"), t("08:00")));
    assert_eq!(
        Spans::backfill(s.resolution, s.window)
            .backfill_tail()
            .stop(),
        TimeDelta::hours(6) + s.window + s.resolution,
        "the tail publish reads with the default --max-catch-up"
    );
}
