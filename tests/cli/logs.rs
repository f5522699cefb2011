//! Log lines on stderr: every one, the error `main` reports included, starts
//! with the same fixed-width UTC timestamp and a level.

use crate::support;

use support::{dry_run, stub_at};

/// `2026-12-01T08:44:02.123Z [LEVEL] ` at the start of `line`.
fn stamped(line: &str, level: &str) -> bool {
    let Some((time, rest)) = line.split_once(' ') else {
        return false;
    };
    let shape = time.bytes().enumerate().all(|(i, b)| match i {
        4 | 7 => b == b'-',
        10 => b == b'T',
        13 | 16 => b == b':',
        19 => b == b'.',
        23 => b == b'Z',
        _ => b.is_ascii_digit(),
    });
    shape && time.len() == 24 && rest.starts_with(&format!("[{level}] "))
}

#[test]
fn info_and_error_lines_have_the_same_timestamp() {
    let stub = stub_at("2026-11-28T12:00:30Z");
    let (code, _, err) = dry_run(&stub, "2026-11-28T12:00:30Z", &[]);
    assert_eq!(code, 0, "{err}");
    let fetched = err
        .lines()
        .find(|l| l.contains(" rows (") && l.contains("fetched "))
        .unwrap();
    assert!(stamped(fetched, "INFO"), "{err}");

    // The stub has no rows this old: stale data, reported by main.
    let (code, _, err) = dry_run(&stub, "2026-11-28T12:00:30Z", &["--max-lag", "1m"]);
    assert_eq!(code, 75, "{err}");
    let last = err.lines().last().unwrap();
    assert!(
        stamped(last, "ERROR") && last.contains("stale data"),
        "{err}"
    );
}

#[test]
fn a_bad_flag_value_is_an_error_line_too() {
    // From the command line or, in cron, from the env file: the same line.
    let (code, _, err) = support::outcome(support::eds().args(["publish", "--window", "abc"]));
    assert_eq!(code, 2, "{err}");
    let first = err.lines().next().unwrap();
    assert!(
        stamped(first, "ERROR") && first.contains("invalid value 'abc' for '--window"),
        "{err}"
    );
    let (code, _, err) = support::outcome(support::eds().arg("publish").env("EDS_WINDOW", "abc"));
    assert_eq!(code, 2, "{err}");
    assert!(stamped(err.lines().next().unwrap(), "ERROR"), "{err}");
    // --help is not an error: plain text on stdout, exit 0.
    let (code, out, _) = support::outcome(support::eds().args(["publish", "--help"]));
    assert_eq!(code, 0);
    assert!(out.starts_with("One run"), "{out}");
}

#[test]
fn the_stamp_checker_rejects_other_shapes() {
    assert!(stamped("2026-12-01T08:44:02.123Z [INFO] x", "INFO"));
    assert!(!stamped("2026-12-01T08:44:02.12Z [INFO] x", "INFO"));
    assert!(!stamped("2026-12-01T08:44:02Z [INFO] x", "INFO"));
    assert!(!stamped("eds-kafka: error: x", "ERROR"));
}
