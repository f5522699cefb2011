//! The log lines about cursors and what a run leaves out: a cursor, a gap
//! beyond `--max-catch-up`, key combinations behind `--max-key-lateness`,
//! too old to publish, or not found by the tail read. Key values are shown
//! with control characters escaped.

use chrono::{DateTime, TimeDelta, Utc};

use super::emit::Skipped;
use super::plan::{Behind, TopicCursor};
use crate::contract::MessageKey;
use crate::time::{format_span, format_utc};

/// A log line for a cursor.
pub fn describe(c: Option<&TopicCursor>) -> String {
    match c {
        None => "not published".to_string(),
        Some(c) if c.is_empty() => "none (empty topic)".to_string(),
        Some(c) if c.last.len() == 1 => {
            let (key, seen) = c.last.iter().next().expect("one entry");
            MessageKey::new(seen.time, key).to_string()
        }
        Some(c) => format!(
            "{} key combinations, {} .. {}",
            c.last.len(),
            c.oldest().map_or_else(String::new, format_utc),
            c.newest().map_or_else(String::new, format_utc)
        ),
    }
}

/// A log line for a skipped gap.
pub fn describe_gap(
    max_catch_up: TimeDelta,
    (topic, first, last): &(String, DateTime<Utc>, DateTime<Utc>),
) -> String {
    format!(
        "gap longer than --max-catch-up / EDS_MAX_CATCH_UP {}: {topic} from {} to {} (inclusive) \
         are skipped; to publish them, run once with a larger --max-catch-up / EDS_MAX_CATCH_UP",
        format_span(max_catch_up),
        format_utc(*first),
        format_utc(*last)
    )
}

/// Up to `shown` key combinations, each with `what` it says of them, and
/// how many more.
fn key_list<'k, T: 'k>(
    keys: impl ExactSizeIterator<Item = (&'k [String], T)>,
    shown: usize,
    what: impl Fn(T) -> String,
) -> String {
    let n = keys.len();
    let mut out: Vec<String> = (keys.take(shown))
        .map(|(key, t)| format!("'{}' {}", crate::text::key(key), what(t)))
        .collect();
    if n > shown {
        out.push(format!("and {} more", n - shown));
    }
    out.join("; ")
}

fn from_to((first, last): (DateTime<Utc>, DateTime<Utc>)) -> String {
    format!("from {} to {}", format_utc(first), format_utc(last))
}

/// The warning for the keys a topic leaves behind (`behind`: one topic's),
/// naming up to `shown` of them with the exact times skipped.
pub fn describe_behind(max_key_lateness: TimeDelta, behind: &[Behind], shown: usize) -> String {
    let Some(b0) = behind.first() else {
        return String::new();
    };
    let keys = behind.iter().map(|b| (b.key.as_slice(), (b.first, b.last)));
    format!(
        "{n} key combination(s) of {topic} trail the newest by more than --max-key-lateness / \
         EDS_MAX_KEY_LATENESS {span} (or fall before --max-catch-up): their rows are not fetched, \
         and these times (inclusive) are skipped: {list}; if those keys are late rather than gone, \
         run with a larger --max-key-lateness",
        n = behind.len(),
        topic = b0.topic,
        span = format_span(max_key_lateness),
        list = key_list(keys, shown, from_to)
    )
}

/// The warning for rows of key combinations never published that came too
/// old for the run's range (`from`: where such a key may start), with the
/// first and last such time of each.
pub fn describe_skipped(topic: &str, from: DateTime<Utc>, skipped: &Skipped) -> String {
    let keys = skipped.iter().map(|(k, times)| (k.as_slice(), *times));
    format!(
        "{} key combination(s) not yet in {topic} have rows older than this run may publish for \
         them ({} on): these fetched times (inclusive, and any earlier) are skipped: {}; if those \
         keys are late rather than new, run with a larger --max-key-lateness or --max-catch-up",
        skipped.len(),
        format_utc(from),
        key_list(keys, 5, from_to)
    )
}

/// The warning for key combinations published to a topic whose tail read
/// (back to `since`) did not find them: new ones, or ones back after more
/// than `--max-key-lateness` (their times before those named were not fetched).
pub fn describe_unseen(topic: &str, since: DateTime<Utc>, unseen: &Skipped) -> String {
    let keys = unseen.iter().map(|(k, times)| (k.as_slice(), times.0));
    format!(
        "{} key combination(s) with no message in {topic} since {} are published from: {}: new \
         ones, or back after more than --max-key-lateness (their times before those were not \
         fetched)",
        unseen.len(),
        format_utc(since),
        key_list(keys, 5, |first| format!("from {}", format_utc(first)))
    )
}

/// What the revision review did, said once each: holes filled and
/// corrections published (info), rows late or changed beyond the horizon
/// (a warning naming the first few, per topic), records the API no longer
/// serves (info; left alone in the topic).
pub fn warn_revised(
    max_revision_age: TimeDelta,
    revised: &[super::emit::Revised; 2],
    withdrawn: u64,
) {
    for (topic, r) in ["records", "aggregates"].iter().zip(revised) {
        if r.late + r.corrections > 0 {
            log::info!(
                "{topic}: published {} late (a hole filled) and {} correction(s) (another value \
                 than the topic's latest for its key)",
                r.late,
                r.corrections
            );
        }
        let age = format_span(max_revision_age);
        let what = format!(
            "of the {topic} older than --max-revision-age / EDS_MAX_REVISION_AGE {age} that the \
             topic lacks (late), not published"
        );
        if let Some(line) = r.beyond_late.summary_of("row(s)", &what) {
            log::warn!("{line}");
        }
        let what = format!(
            "of the {topic} older than --max-revision-age / EDS_MAX_REVISION_AGE {age} whose \
             value changed, not published"
        );
        if let Some(line) = r.beyond_changed.summary_of("row(s)", &what) {
            log::warn!("{line}");
        }
    }
    if withdrawn > 0 {
        log::info!(
            "{withdrawn} record(s) in the topic are no longer served by the API; left as they are"
        );
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_utc;

    fn t(hms: &str) -> DateTime<Utc> {
        parse_utc(&format!("2026-11-28T{hms}")).unwrap()
    }

    #[test]
    fn the_skip_warning_names_the_flag_and_its_variable() {
        let gap = ("records".to_string(), t("10:00:00"), t("11:29:00"));
        assert_eq!(
            describe_gap(TimeDelta::minutes(30), &gap),
            "gap longer than --max-catch-up / EDS_MAX_CATCH_UP 30m: records from \
             2026-11-28T10:00:00Z to 2026-11-28T11:29:00Z (inclusive) are skipped; to publish \
             them, run once with a larger --max-catch-up / EDS_MAX_CATCH_UP"
        );
    }
}
