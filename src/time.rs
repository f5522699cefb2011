//! Time helpers shared by every stage: duration parsing, UTC formatting, the
//! API's zone-less timestamps, flooring to a resolution, and the conversion of
//! a UTC instant to the Danish local time the API reads `start`/`end` in.

use chrono::{DateTime, Datelike, Days, NaiveDate, NaiveDateTime, TimeDelta, Utc};

/// The longest duration a flag takes: 10 years.
pub const MAX_DURATION: std::time::Duration = std::time::Duration::from_secs(3650 * 86_400);

/// The earliest time a flag (`--now`, `--from`, `--to`) takes.
pub const MIN_TIME: DateTime<Utc> = match DateTime::from_timestamp(946_684_800, 0) {
    Some(t) => t, // 2000-01-01T00:00:00Z
    None => panic!(),
};
/// The latest time a flag takes.
pub const MAX_TIME: DateTime<Utc> = match DateTime::from_timestamp(4_102_444_800, 0) {
    Some(t) => t, // 2100-01-01T00:00:00Z
    None => panic!(),
};

/// `t` if it is within [`MIN_TIME`, `MAX_TIME`], else the message saying so.
pub fn check_time_range(t: DateTime<Utc>, text: &str) -> Result<DateTime<Utc>, String> {
    if (MIN_TIME..=MAX_TIME).contains(&t) {
        Ok(t)
    } else {
        Err(format!(
            "time '{text}' out of range: use a time from {} to {}",
            format_utc(MIN_TIME),
            format_utc(MAX_TIME)
        ))
    }
}

/// Parses `500ms`, `20s`, `5m`, `6h`, `1d` and sums like `1h30m`, at most
/// [`MAX_DURATION`].
pub fn parse_duration(text: &str) -> Result<std::time::Duration, String> {
    parse_duration_upto(text, MAX_DURATION)
}

/// [`parse_duration`] with a lower bound of its own.
pub fn parse_duration_upto(
    text: &str,
    max: std::time::Duration,
) -> Result<std::time::Duration, String> {
    let text = text.trim();
    let too_long = || {
        format!(
            "duration '{text}' is too long: at most {}",
            format_span(TimeDelta::from_std(max).unwrap_or(TimeDelta::MAX))
        )
    };
    let bad = || format!("invalid duration '{text}': use e.g. 30s, 5m, 6h, 1d or 1h30m");
    if text.is_empty() {
        return Err(bad());
    }
    // A zero needs no unit (`--max-revision-age 0`): the same as `0s`.
    if text == "0" {
        return Ok(std::time::Duration::ZERO);
    }
    let mut total_ms: u64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.find(|c: char| !c.is_ascii_digit()).ok_or_else(bad)?;
        if digits == 0 {
            return Err(bad());
        }
        let number: u64 = rest[..digits].parse().map_err(|_| too_long())?;
        rest = &rest[digits..];
        let unit_len = rest
            .find(|c: char| c.is_ascii_digit())
            .unwrap_or(rest.len());
        let ms_per_unit = match &rest[..unit_len] {
            "ms" => 1,
            "s" => 1_000,
            "m" => 60_000,
            "h" => 3_600_000,
            "d" => 86_400_000,
            _ => return Err(bad()),
        };
        rest = &rest[unit_len..];
        total_ms = number
            .checked_mul(ms_per_unit)
            .and_then(|ms| total_ms.checked_add(ms))
            .filter(|ms| *ms <= max.as_millis() as u64)
            .ok_or_else(too_long)?;
    }
    Ok(std::time::Duration::from_millis(total_ms))
}

/// Writes a span the way `parse_duration` reads it: `41m`, `1h5m`, `2d3h`, `12s`.
pub fn format_span(span: TimeDelta) -> String {
    let mut secs = span.num_seconds();
    if secs == 0 {
        return "0s".to_string();
    }
    let mut out = String::new();
    if secs < 0 {
        out.push('-');
        secs = -secs;
    }
    for (unit, size) in [("d", 86_400), ("h", 3_600), ("m", 60), ("s", 1)] {
        if secs >= size {
            out.push_str(&format!("{}{unit}", secs / size));
            secs %= size;
        }
    }
    out
}

/// `2026-11-28T11:55:00Z`: how every UTC time leaves this program. Written
/// by hand: chrono's `format` parses its pattern on every call, which showed
/// in backfill profiles (two calls per row).
pub fn format_utc(t: DateTime<Utc>) -> String {
    use chrono::{Datelike, Timelike};
    let year = t.year();
    if !(0..=9999).contains(&year) {
        return t.format("%Y-%m-%dT%H:%M:%SZ").to_string();
    }
    let mut out = String::with_capacity(20);
    let digits = |out: &mut String, value: u32, width: usize| {
        let mut buf = [b'0'; 4];
        let mut v = value;
        for i in (0..width).rev() {
            buf[i] = b'0' + (v % 10) as u8;
            v /= 10;
        }
        out.push_str(std::str::from_utf8(&buf[..width]).expect("ASCII digits"));
    };
    digits(&mut out, year as u32, 4);
    out.push('-');
    digits(&mut out, t.month(), 2);
    out.push('-');
    digits(&mut out, t.day(), 2);
    out.push('T');
    digits(&mut out, t.hour(), 2);
    out.push(':');
    digits(&mut out, t.minute(), 2);
    out.push(':');
    digits(&mut out, t.second(), 2);
    out.push('Z');
    out
}

/// Reads an API timestamp of a `...UTC` column (`2026-04-08T21:30:00`, no zone)
/// or one this program wrote (`2026-04-08T21:30:00Z`).
pub fn parse_utc(text: &str) -> Option<DateTime<Utc>> {
    let naive = text.strip_suffix('Z').unwrap_or(text);
    // The API's own form, read by hand: chrono's format parsing showed in
    // backfill profiles (one call per row).
    let b = naive.as_bytes();
    if b.len() == 19
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
    {
        let num = |r: std::ops::Range<usize>| -> Option<u32> {
            b[r].iter().try_fold(0u32, |n, &c| {
                c.is_ascii_digit().then(|| n * 10 + (c - b'0') as u32)
            })
        };
        return chrono::NaiveDate::from_ymd_opt(num(0..4)? as i32, num(5..7)?, num(8..10)?)
            .and_then(|d| d.and_hms_opt(num(11..13)?, num(14..16)?, num(17..19)?))
            .map(|n| n.and_utc());
    }
    // Only what the fast path could mean, with fractions or without seconds:
    // 4-digit years (chrono's `%Y` also takes `-22026` or `+10000`) and no leap
    // second (chrono's `:60`, which the fast path refuses too).
    NaiveDateTime::parse_from_str(naive, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(naive, "%Y-%m-%dT%H:%M"))
        .ok()
        .filter(|n| {
            use chrono::{Datelike, Timelike};
            naive.as_bytes().get(4) == Some(&b'-')
                && (0..=9999).contains(&n.year())
                && n.nanosecond() < 1_000_000_000
        })
        .map(|n| n.and_utc())
}

/// The latest multiple of `step` (counted from the Unix epoch) at or before `t`.
pub fn floor(t: DateTime<Utc>, step: TimeDelta) -> DateTime<Utc> {
    let step_ms = step.num_milliseconds().max(1);
    let ms = t.timestamp_millis();
    // At or after chrono's minimum unless `t` is within a step of it; then `t`.
    ms.checked_sub(ms.rem_euclid(step_ms))
        .and_then(DateTime::from_timestamp_millis)
        .unwrap_or(t)
}

/// Denmark's offset from UTC at the UTC time `utc`, in hours: 2 in summer
/// time, else 1. Summer time runs from 01:00 UTC on the last Sunday of March
/// to 01:00 UTC on the last Sunday of October (the EU rule, since 1996; the
/// last Sunday of September from 1981 to 1995, 6 April to 28 September in
/// 1980, none from 1949 to 1979). Flags take 2000 to 2100 and a plan reaches
/// back at most 10 years before: the years before 1949 are never asked for
/// (they count as standard time here). A unit test checks it against the IANA
/// zone Europe/Copenhagen (chrono-tz, a dev-dependency) hour by hour.
fn dk_offset_hours(utc: NaiveDateTime) -> i64 {
    let year = utc.year();
    let span = match year {
        1980 => NaiveDate::from_ymd_opt(1980, 4, 6).zip(NaiveDate::from_ymd_opt(1980, 9, 28)),
        1981..=1995 => last_sunday(year, 3).zip(last_sunday(year, 9)),
        1996.. => last_sunday(year, 3).zip(last_sunday(year, 10)),
        _ => None,
    };
    let at_one = |day: NaiveDate| day.and_hms_opt(1, 0, 0);
    match span.and_then(|(start, end)| at_one(start).zip(at_one(end))) {
        Some((start, end)) if start <= utc && utc < end => 2,
        _ => 1,
    }
}

/// The last Sunday of a month (`None` at the ends of chrono's range).
fn last_sunday(year: i32, month: u32) -> Option<NaiveDate> {
    let next = match month {
        12 => NaiveDate::from_ymd_opt(year.checked_add(1)?, 1, 1),
        _ => NaiveDate::from_ymd_opt(year, month + 1, 1),
    };
    let last = next?.pred_opt()?;
    last.checked_sub_days(Days::new(u64::from(last.weekday().num_days_from_sunday())))
}

/// Every UTC instant the API could mean by a Danish local time: one, two in
/// the October hour that happens twice (the earlier first), none in the March
/// hour that is skipped.
fn readings(local: NaiveDateTime) -> Vec<DateTime<Utc>> {
    [2, 1]
        .into_iter()
        .filter_map(|hours| {
            let utc = local.checked_sub_signed(TimeDelta::hours(hours))?;
            (dk_offset_hours(utc) == hours).then(|| utc.and_utc())
        })
        .collect()
}

/// The Danish wall-clock time of `utc` (at the ends of chrono's range, where
/// that would overflow, the UTC time itself).
fn danish(utc: DateTime<Utc>) -> NaiveDateTime {
    let offset = TimeDelta::hours(dk_offset_hours(utc.naive_utc()));
    utc.naive_utc()
        .checked_add_signed(offset)
        .unwrap_or(utc.naive_utc())
}

/// A Danish local time (minute precision) that, however the API reads it, is
/// at or before `utc`: a safe inclusive `start`. Exact except around DST changes.
pub fn dk_at_or_before(utc: DateTime<Utc>) -> NaiveDateTime {
    let mut local = danish(floor(utc, TimeDelta::minutes(1)));
    for _ in 0..4 {
        let r = readings(local);
        if !r.is_empty() && r.iter().all(|t| *t <= utc) {
            break;
        }
        match local.checked_sub_signed(TimeDelta::hours(1)) {
            Some(earlier) => local = earlier,
            None => break,
        }
    }
    local
}

/// A Danish local time (minute precision) that, however the API reads it, is
/// at or after `utc`: a safe exclusive `end`. Exact except around DST changes.
pub fn dk_at_or_after(utc: DateTime<Utc>) -> NaiveDateTime {
    let floored = floor(utc, TimeDelta::minutes(1));
    let ceiled = if floored < utc {
        floored
            .checked_add_signed(TimeDelta::minutes(1))
            .unwrap_or(floored)
    } else {
        floored
    };
    let mut local = danish(ceiled);
    for _ in 0..4 {
        let r = readings(local);
        if !r.is_empty() && r.iter().all(|t| *t >= utc) {
            break;
        }
        match local.checked_add_signed(TimeDelta::hours(1)) {
            Some(later) => local = later,
            None => break,
        }
    }
    local
}

/// The API's `yyyy-MM-ddTHH:mm` form.
pub fn format_api_local(local: NaiveDateTime) -> String {
    local.format("%Y-%m-%dT%H:%M").to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Denmark's offset, hour by hour from 1950 to 2100 (the latest time a
    /// flag takes; chrono-tz's table ends there), and every local hour's
    /// readings, as the IANA zone Europe/Copenhagen has them.
    #[test]
    fn the_danish_offset_is_the_iana_zones() {
        use chrono::{LocalResult, Offset, TimeZone};
        use chrono_tz::Europe::Copenhagen;
        let mut t = NaiveDate::from_ymd_opt(1950, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        let end = NaiveDate::from_ymd_opt(2100, 1, 1)
            .unwrap()
            .and_hms_opt(0, 0, 0)
            .unwrap();
        while t < end {
            let iana = Copenhagen
                .offset_from_utc_datetime(&t)
                .fix()
                .local_minus_utc();
            assert_eq!(dk_offset_hours(t) * 3600, i64::from(iana), "UTC {t}");
            let expected: Vec<DateTime<Utc>> = match Copenhagen.from_local_datetime(&t) {
                LocalResult::Single(a) => vec![a.with_timezone(&Utc)],
                LocalResult::Ambiguous(a, b) => vec![a.with_timezone(&Utc), b.with_timezone(&Utc)],
                LocalResult::None => Vec::new(),
            };
            assert_eq!(readings(t), expected, "local {t}");
            t += TimeDelta::hours(1);
        }
        // The ends of chrono's range: standard time, no overflow.
        assert_eq!(dk_offset_hours(NaiveDateTime::MAX), 1);
        assert_eq!(dk_offset_hours(NaiveDateTime::MIN), 1);
        assert!(readings(NaiveDateTime::MIN).is_empty());
    }

    fn utc(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s).unwrap().with_timezone(&Utc)
    }

    #[test]
    fn durations() {
        assert_eq!(parse_duration("5m").unwrap().as_secs(), 300);
        assert_eq!(parse_duration("1h30m").unwrap().as_secs(), 5400);
        assert_eq!(parse_duration("250ms").unwrap().as_millis(), 250);
        assert_eq!(parse_duration("1d").unwrap().as_secs(), 86_400);
        assert_eq!(parse_duration("0"), Ok(std::time::Duration::ZERO));
        assert!(parse_duration("00").is_err() && parse_duration("5").is_err());
        for bad in ["", "5", "m", "5x", "-5m", "5 m", "1.5h"] {
            assert!(parse_duration(bad).is_err(), "{bad:?} should be refused");
        }
        assert_eq!(parse_duration("3650d"), Ok(MAX_DURATION));
        for absurd in [
            "3651d",
            "3650d1ms",
            "1000000000d",
            "99999999999999999999s",
            "18446744073709551615ms",
        ] {
            let e = parse_duration(absurd).unwrap_err();
            assert!(e.contains("at most 3650d"), "{absurd}: {e}");
        }
        let day = std::time::Duration::from_secs(86_400);
        assert!(parse_duration_upto("25h", day)
            .unwrap_err()
            .contains("at most 1d"));
        assert_eq!(format_span(TimeDelta::seconds(3900)), "1h5m");
        assert_eq!(format_span(TimeDelta::seconds(41 * 60)), "41m");
    }

    #[test]
    fn api_times_are_utc() {
        assert_eq!(
            parse_utc("2026-04-08T21:30:00"),
            Some(utc("2026-04-08T21:30:00Z"))
        );
        assert_eq!(
            parse_utc("2026-04-08T21:30:00Z"),
            Some(utc("2026-04-08T21:30:00Z"))
        );
        assert_eq!(parse_utc("yesterday"), None);
        // Found by the timestamp fuzzer: chrono's own parser took a signed
        // 5-digit year and a leap second, which did not read back the same.
        assert_eq!(parse_utc("-22026-04-08T10:20:60"), None);
        assert_eq!(parse_utc("2026-04-08T10:20:60.5"), None);
        assert_eq!(parse_utc("+10000-04-08T10:20:00.5"), None);
        assert_eq!(parse_utc("2026-02-30T00:00:00"), None);
        assert_eq!(parse_utc("2026-04-08T25:00:00"), None);
        assert_eq!(parse_utc("2026-04-08T2a:00:00"), None);
        assert_eq!(
            parse_utc("2026-04-08T21:30:00.500"),
            Some(utc("2026-04-08T21:30:00.5Z"))
        );
        assert_eq!(
            parse_utc("2026-04-08T21:30"),
            Some(utc("2026-04-08T21:30:00Z"))
        );
        assert_eq!(
            format_utc(utc("2026-11-28T11:55:00+01:00")),
            "2026-11-28T10:55:00Z"
        );
        for t in [
            "0999-01-02T03:04:05Z",
            "2026-12-31T23:59:59Z",
            "2000-02-29T00:00:00Z",
        ] {
            assert_eq!(format_utc(utc(t)), t);
            assert_eq!(
                format_utc(utc(t)),
                utc(t).format("%Y-%m-%dT%H:%M:%SZ").to_string()
            );
        }
    }

    #[test]
    fn flooring() {
        let t = utc("2026-11-28T11:57:31.5Z");
        assert_eq!(floor(t, TimeDelta::minutes(1)), utc("2026-11-28T11:57:00Z"));
        assert_eq!(floor(t, TimeDelta::minutes(5)), utc("2026-11-28T11:55:00Z"));
        let exact = utc("2026-11-28T12:00:00Z");
        assert_eq!(floor(exact, TimeDelta::minutes(1)), exact);
        // No panic at the ends of chrono's range.
        let _ = floor(DateTime::<Utc>::MIN_UTC, TimeDelta::days(3650));
        let _ = floor(DateTime::<Utc>::MAX_UTC, TimeDelta::days(3650));
        let _ = dk_at_or_before(DateTime::<Utc>::MIN_UTC);
        let _ = dk_at_or_after(DateTime::<Utc>::MAX_UTC);
        assert!(check_time_range(utc("2100-01-01T00:00:00Z"), "x").is_ok());
        assert!(check_time_range(utc("2100-01-01T00:00:01Z"), "x").is_err());
        assert!(check_time_range(utc("1999-12-31T23:59:59Z"), "x").is_err());
    }

    #[test]
    fn ordinary_days_convert_exactly() {
        // Winter: UTC+1; summer: UTC+2.
        let winter = utc("2026-11-28T11:55:00Z");
        assert_eq!(
            format_api_local(dk_at_or_before(winter)),
            "2026-11-28T12:55"
        );
        assert_eq!(format_api_local(dk_at_or_after(winter)), "2026-11-28T12:55");
        let summer = utc("2026-06-01T22:30:00Z");
        assert_eq!(
            format_api_local(dk_at_or_before(summer)),
            "2026-06-02T00:30"
        );
    }

    /// On both DST days, for every minute, every reading of the query bounds
    /// covers the UTC instant, and the margin is at most an hour.
    #[test]
    fn dst_days_are_covered() {
        for day in ["2026-03-29T00:00:00Z", "2026-10-25T00:00:00Z"] {
            let mut t = utc(day) - TimeDelta::hours(2);
            while t < utc(day) + TimeDelta::hours(26) {
                let start = dk_at_or_before(t);
                let end = dk_at_or_after(t);
                let rs = readings(start);
                let re = readings(end);
                assert!(
                    !rs.is_empty() && rs.iter().all(|r| *r <= t),
                    "start {start} for {t}"
                );
                assert!(
                    !re.is_empty() && re.iter().all(|r| *r >= t),
                    "end {end} for {t}"
                );
                assert!(
                    rs.iter().all(|r| t - *r <= TimeDelta::hours(1)),
                    "start margin {t}"
                );
                assert!(
                    re.iter().all(|r| *r - t <= TimeDelta::hours(1)),
                    "end margin {t}"
                );
                t += TimeDelta::minutes(1);
            }
        }
    }

    #[test]
    fn october_ambiguous_hour_widens_the_query() {
        // 00:30Z is 02:30 CEST; 02:30 local also means 01:30Z, which is later.
        let t = utc("2026-10-25T00:30:00Z");
        assert_eq!(format_api_local(dk_at_or_before(t)), "2026-10-25T01:30");
        // 01:30Z is 02:30 CET; read as CEST it would be 00:30Z, too early for an end.
        let t = utc("2026-10-25T01:30:00Z");
        assert_eq!(format_api_local(dk_at_or_after(t)), "2026-10-25T03:30");
    }
}
