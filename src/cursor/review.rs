//! What a topic holds within a run's reviewed span, read back from the
//! topic itself (no local state): for each (time, key) the latest message
//! of ours, its value's digest and its revision. The rule
//! ([`super::rule::Published::judge`]) compares it with what the API serves
//! now: a row the topic lacks (a hole filled late) or whose value changed
//! (a correction) is published again, once.

use std::collections::{BTreeMap, HashMap, HashSet};

use chrono::{DateTime, Utc};

use crate::contract::{digest, parse_digest, parse_revision};

/// The latest message of ours for one (time, key) in the reviewed span.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Stamp {
    /// The digest of its value as JSON: a JSON payload's own (so a forged
    /// or stale `eds-digest` cannot hide what a consumer reads), a framed
    /// one's (schema registry) from its `eds-digest`.
    pub digest: u64,
    /// How many corrections of its key came before it (`eds-revision`).
    pub revision: u32,
    pub offset: i64,
}

impl Stamp {
    /// A message's stamp from its headers (`digest`, `revision`) and payload.
    pub fn of(
        digest_header: Option<&[u8]>,
        revision: Option<&[u8]>,
        payload: &[u8],
        offset: i64,
    ) -> Stamp {
        let framed = payload.first() == Some(&crate::contract::wire::MAGIC);
        Stamp {
            digest: match digest_header.and_then(parse_digest) {
                Some(d) if framed => d,
                _ => digest(payload),
            },
            revision: revision.and_then(parse_revision).unwrap_or(0),
            offset,
        }
    }
}

/// The messages of ours from `since` on, the latest of each (time, key),
/// and the key combinations that have one in the `margin` before `since`
/// (their absent times in the span are holes from its start on).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Review {
    /// Times at or after this were read; `None`: nothing was reviewed.
    pub since: Option<DateTime<Utc>>,
    /// How far before `since` the read looks for the keys published there.
    pub margin: chrono::TimeDelta,
    /// Per key combination, its times and their latest stamps.
    pub keys: HashMap<Vec<String>, BTreeMap<DateTime<Utc>, Stamp>>,
    /// Key combinations with a message in `[since - margin, since)`.
    pub before: HashSet<Vec<String>>,
}

impl Review {
    /// A review of the messages from `since` on (`None`: none), looking
    /// `margin` further back for the keys published before it.
    pub fn from(since: Option<DateTime<Utc>>, margin: chrono::TimeDelta) -> Review {
        Review {
            since,
            margin,
            ..Review::default()
        }
    }

    /// Where the read must reach: `since` less the margin.
    pub fn reach(&self) -> Option<DateTime<Utc>> {
        self.since
            .map(|s| s.checked_sub_signed(self.margin).unwrap_or(s))
    }

    /// Notes one message of ours (ignored before the reach): it replaces an
    /// earlier one of its (time, key), by offset, whatever order the read
    /// met them in; before `since` only its key is noted.
    pub fn note(&mut self, time: DateTime<Utc>, key: Vec<String>, stamp: Stamp) {
        let (Some(since), Some(reach)) = (self.since, self.reach()) else {
            return;
        };
        if time < since {
            if time >= reach {
                self.before.insert(key);
            }
            return;
        }
        let times = self.keys.entry(key).or_default();
        match times.get_mut(&time) {
            Some(s) if s.offset >= stamp.offset => {}
            Some(s) => *s = stamp,
            None => {
                times.insert(time, stamp);
            }
        }
    }

    /// How many (time, key) it holds.
    pub fn len(&self) -> usize {
        self.keys.values().map(BTreeMap::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.keys.is_empty()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::time::parse_utc;

    #[test]
    fn the_latest_message_of_a_time_and_key_wins_by_offset() {
        let t = parse_utc("2026-11-28T12:00:00").unwrap();
        let mut r = Review::from(Some(t), chrono::TimeDelta::minutes(5));
        let stamp = |offset, revision| Stamp {
            digest: offset as u64,
            revision,
            offset,
        };
        r.note(t, vec!["DK1".into()], stamp(9, 1));
        r.note(t, vec!["DK1".into()], stamp(4, 0)); // read later, written earlier
        r.note(
            t - chrono::TimeDelta::minutes(1),
            vec!["DK2".into()],
            stamp(1, 0),
        );
        r.note(
            t - chrono::TimeDelta::minutes(9),
            vec!["DK3".into()],
            stamp(1, 0),
        );
        assert_eq!(r.len(), 1, "before `since`: not reviewed");
        assert_eq!(
            r.before,
            HashSet::from([vec!["DK2".to_string()]]),
            "within the margin"
        );
        assert_eq!(r.keys[&vec!["DK1".to_string()]][&t], stamp(9, 1));
        let legacy = Stamp::of(None, None, b"{}", 3);
        assert_eq!((legacy.digest, legacy.revision), (digest(b"{}"), 0));
        // A JSON value's digest is its own, whatever the header says.
        let forged = Stamp::of(Some(b"00000000000000ff"), Some(b"2"), b"{}", 3);
        assert_eq!((forged.digest, forged.revision), (digest(b"{}"), 2));
        // A framed value (schema registry) is known by its header.
        let framed = Stamp::of(Some(b"00000000000000ff"), None, b"\0\0\0\0\x01\x02", 3);
        assert_eq!(framed.digest, 255);
    }
}
