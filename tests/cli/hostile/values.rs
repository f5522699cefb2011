//! Absurd values of every duration, time, size and count a user can type.

use super::*;

/// Every duration, time, size and count a user can type: absurd values exit
/// 2 with a message naming the flag and the largest (or allowed) value.
#[test]
fn absurd_values_are_usage_errors_naming_the_flag_and_the_limit() {
    let publish = ["publish", "--dry-run", "--api-url", "http://127.0.0.1:1"];
    let kafka = [
        "publish",
        "--brokers",
        "127.0.0.1:1",
        "--api-url",
        "http://127.0.0.1:1",
    ];
    let backfill = [
        "backfill",
        "--dry-run",
        "--api-url",
        "http://127.0.0.1:1",
        "--fields",
        "CO2Emission",
    ];
    let consume = ["consume", "--brokers", "127.0.0.1:1"];
    let cases: &[(&[&str], &str, &str, &str)] = &[
        (&publish, "--window", "1000000000d", "3650d"),
        (&publish, "--window", "99999999999999999999999m", "3650d"),
        (&publish, "--max-lag", "100000000d", "3650d"),
        (&publish, "--max-catch-up", "100000000d", "3650d"),
        (&kafka, "--max-catch-up", "100000000d", "3650d"),
        (&kafka, "--window", "1000000000d", "3650d"),
        (&publish, "--http-timeout", "100000000d", "1d"),
        (&publish, "--http-timeout", "18446744073709551615ms", "1d"),
        (&kafka, "--kafka-timeout", "25d", "1d"),
        (
            &publish,
            "--now",
            "9999-12-31T23:59:59Z",
            "2100-01-01T00:00:00Z",
        ),
        (
            &publish,
            "--now",
            "0001-01-01T00:00:00Z",
            "2000-01-01T00:00:00Z",
        ),
        (&publish, "--max-body", "99999999999999999999", "16GiB"),
        (&publish, "--max-body", "17179869184GiB", "16GiB"),
        (&kafka, "--partition", "99999999999", "2147483647"),
        (&kafka, "--partition=-1", "", "2147483647"),
        (&backfill, "--window", "100000000d", "3650d"),
        (&backfill, "--chunk", "100000000d", "3650d"),
        (&backfill, "--min-request-interval", "100000000d", "3650d"),
        (&backfill, "--http-timeout", "2d", "1d"),
        (&backfill, "--from", "0001-01-01", "2000-01-01T00:00:00Z"),
        (&backfill, "--to", "9999-01-01", "2100-01-01T00:00:00Z"),
        (&backfill, "--to", "2100-01-02", "2100-01-01T00:00:00Z"),
        (&consume, "--idle-timeout", "100000000d", "1d"),
        (&consume, "--kafka-timeout", "100000000d", "1d"),
        (&consume, "--last", "99999999999999999999", "1000000"),
        (&consume, "--last", "1000001", "1000000"),
        (
            &consume,
            "--max-messages",
            "18446744073709551615",
            "1000000000",
        ),
    ];
    for (base, flag, value, limit) in cases {
        let mut cmd = eds();
        cmd.args(*base)
            .arg(flag)
            .args((!value.is_empty()).then_some(value));
        if base[0] == "backfill" {
            for (bound, date) in [("--from", "2026-01-01"), ("--to", "2026-01-02")] {
                if *flag != bound {
                    cmd.args([bound, date]);
                }
            }
        }
        let (code, out, err) = outcome(&mut cmd);
        let flag_name = flag.split('=').next().unwrap();
        assert_eq!(code, 2, "{flag} {value}: {err}");
        assert!(out.is_empty(), "{flag} {value}: {out}");
        assert!(
            err.contains(flag_name),
            "{flag} {value}: the flag is named: {err}"
        );
        assert!(
            err.contains(limit),
            "{flag} {value}: the limit {limit} is named: {err}"
        );
        assert!(!err.contains("panicked"), "{flag} {value}: {err}");
    }
}

#[test]
fn absurd_values_from_the_environment_are_usage_errors_too() {
    for (var, value) in [
        ("EDS_WINDOW", "1000000000d"),
        ("EDS_MAX_CATCH_UP", "100000000d"),
        ("EDS_NOW", "9999-01-01T00:00:00Z"),
    ] {
        let (code, _, err) = outcome(eds().args(["publish", "--dry-run"]).env(var, value));
        assert_eq!(code, 2, "{var}={value}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}

/// The largest values accepted run without a panic or an overflow (the API
/// is not there: exit 75).
#[test]
fn the_largest_accepted_values_do_not_panic() {
    let api = ["--api-url", "http://127.0.0.1:1"];
    let runs: &[&[&str]] = &[
        &words("publish --dry-run --window 3650d --max-catch-up 3650d --max-lag 3650d --now 2000-01-01T00:00:00Z"),
        &words("publish --dry-run --window 3650d --max-catch-up 3650d --max-lag 3650d --now 2100-01-01T00:00:00Z --http-timeout 1d --max-body 16GiB"),
        &words("backfill --dry-run --fields A --from 2000-01-01 --to 2100-01-01 --chunk 3650d --window 3650d --min-request-interval 0s --now 2100-01-01T00:00:00Z"),
        &words("backfill --dry-run --fields A --from 2099-12-31 --to 2100-01-01 --chunk 3650d --window 3650d --min-request-interval 0s --now 2100-01-01T00:00:00Z"),
    ];
    for args in runs {
        let (code, _, err) = outcome(eds().args(*args).args(api));
        assert_eq!(code, 75, "{args:?}: {err}");
        assert!(!err.contains("panicked"), "{err}");
    }
}
