//! `--help` of every command: the exit codes after the options, `--dry-run`
//! first in `publish --help`, and no `--dry-run` where there is none (consume).

use crate::support;

use support::{eds, outcome};

fn help(args: &[&str]) -> String {
    let (code, out, err) = outcome(eds().args(args).arg("--help").env("COLUMNS", "100"));
    assert_eq!(code, 0, "{err}");
    out
}

/// The offset of `--flag` in the options list (a line starting with it).
fn option_at(help: &str, flag: &str) -> usize {
    help.find(&format!("      {flag} "))
        .or_else(|| help.find(&format!("      {flag}\n")))
        .unwrap_or_else(|| panic!("{flag} is not an option in:\n{help}"))
}

#[test]
fn every_help_ends_with_the_exit_codes() {
    for args in [
        &[][..],
        &["publish"],
        &["backfill"],
        &["consume"],
        &["status"],
        &["chart"],
    ] {
        let text = help(args);
        let at = text
            .find("Exit codes:")
            .unwrap_or_else(|| panic!("{args:?}: no exit codes in:\n{text}"));
        assert!(at > text.find("Options:").unwrap(), "after the options");
        let codes: Vec<&str> = text[at..]
            .lines()
            .filter_map(|l| l.strip_prefix("  ")?.split_whitespace().next())
            .filter(|w| w.chars().all(|c| c.is_ascii_digit()))
            .collect();
        assert_eq!(
            codes,
            ["0", "1", "2", "3", "4", "5", "75"],
            "{args:?}:\n{text}"
        );
    }
    assert!(help(&["publish"]).contains("75  temporary"));
    assert!(help(&["status"]).contains("5   status: unhealthy"));
}

#[test]
fn dry_run_comes_first_in_publish_and_backfill_help() {
    for command in ["publish", "backfill"] {
        let text = help(&[command]);
        assert!(
            option_at(&text, "--dry-run") < option_at(&text, "--brokers"),
            "{command}:\n{text}"
        );
    }
}

#[test]
fn consume_help_does_not_mention_dry_run() {
    let text = help(&["consume"]);
    assert!(!text.contains("dry-run"), "{text}");
    assert!(option_at(&text, "--follow") > 0);
    assert!(text.contains("--brokers"));
    // Nor does its error without brokers.
    let (code, out, err) = outcome(eds().args(["consume", "--last", "1"]));
    assert_eq!((code, out.as_str()), (2, ""), "{err}");
    assert!(
        err.contains("--brokers") && !err.contains("dry-run"),
        "{err}"
    );
}

/// The completion scripts and the man page come from the clap definition:
/// every subcommand and a flag of each are in them; a shell clap does not
/// know is a usage error.
#[test]
fn completions_and_the_man_page_list_every_subcommand() {
    let subcommands = [
        "publish", "consume", "backfill", "status", "chart", "schema",
    ];
    for shell in ["bash", "zsh", "fish", "elvish", "powershell"] {
        let (code, out, err) = outcome(eds().args(["completions", shell]));
        assert_eq!(code, 0, "{shell}: {err}");
        for s in subcommands {
            assert!(out.contains(s), "{shell}: no {s}");
        }
        assert!(out.contains("max-revision-age"), "{shell}");
    }
    let (code, _, err) = outcome(eds().args(["completions", "tcsh"]));
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("tcsh"), "{err}");
    let (code, page, err) = outcome(eds().arg("man"));
    assert_eq!(code, 0, "{err}");
    assert!(
        page.starts_with(".ie") || page.contains(".TH eds-kafka"),
        "{page}"
    );
    assert!(page.contains(".SH \"EXIT STATUS\""), "{page}");
    for s in subcommands {
        let section = format!(".SH \"EDS-KAFKA {}\"", s.to_uppercase());
        assert!(page.contains(&section), "no {section}");
    }
    assert!(page.contains("max\\-revision\\-age"), "publish's flags");
}
