//! Every `eds-kafka` command that README.md and the pages in docs/ write out
//! (in code blocks and in the text), run as written by `sh` with nothing
//! listening: each must be
//! accepted (no usage error, exit 2) and fail only on what it cannot reach
//! (the API: 75, Kafka: 4), or succeed. Templates with placeholders (`NAME`,
//! `FILE`, `STUB`, ...) and a bare `eds-kafka status` (a name in prose) are
//! not commands. Catches documentation that drifted from
//! the flags (the hourly Elspotprices example once was exit 2).

use std::path::Path;
use std::process::Command;
use std::time::Duration;

/// `man` takes no arguments, so the docs never write it with any: it is
/// run by tests/cli/help.rs instead.
const SUBCOMMANDS: [&str; 7] = [
    "publish",
    "consume",
    "backfill",
    "status",
    "chart",
    "schema",
    "completions",
];
const PLACEHOLDERS: [&str; 7] = ["NAME", "FILE", "STUB", "BROKER", "--now T", "DATE", "SHELL"];

/// A page's code: fenced blocks (continuation lines joined) and inline spans.
fn code(readme: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut parts = readme.split("```");
    let mut prose = parts.next();
    while let Some(text) = prose {
        out.extend(
            text.split('`')
                .skip(1)
                .step_by(2)
                .map(|span| span.replace('\n', " ")),
        );
        if let Some(block) = parts.next() {
            out.extend(block.replace("\\\n", " ").lines().map(str::to_string));
        }
        prose = parts.next();
    }
    out
}

/// The commands in a piece of code: from `eds-kafka SUBCOMMAND` to the end,
/// cut at a pipe, a redirection, a list or a comment.
fn commands(code: &str) -> Vec<String> {
    let mut out = Vec::new();
    for (at, _) in code.match_indices("eds-kafka ") {
        let rest = &code[at..];
        let sub = rest["eds-kafka ".len()..].split_whitespace().next();
        if !sub.is_some_and(|s| SUBCOMMANDS.contains(&s)) {
            continue;
        }
        let end = rest
            .find(['|', '>', '<', ';', '&', '#'])
            .unwrap_or(rest.len());
        let command = rest[..end].trim().trim_end_matches('\\').trim().to_string();
        // `eds-kafka backfill` alone names the command (a heading, prose).
        let has_args = command.split_whitespace().count() > 2;
        if has_args && !PLACEHOLDERS.iter().any(|p| command.contains(p)) {
            out.push(command);
        }
    }
    out
}

fn run(command: &str, dir: &Path) -> (Option<i32>, String) {
    let bin = Path::new(env!("CARGO_BIN_EXE_eds-kafka"));
    let path = format!(
        "{}:{}",
        bin.parent().unwrap().display(),
        std::env::var("PATH").unwrap_or_default()
    );
    let mut cmd = Command::new("sh");
    cmd.arg("-c")
        .arg(command)
        .current_dir(dir)
        .env("PATH", path)
        .env("now", "2026-11-28T12:00:30Z")
        .env("d", "CO2Emis")
        .env("k", "records")
        .env("dir", dir)
        // What the README's try-locally block exports, pointing where nothing
        // listens: the API is refused at once, Kafka within 3 s.
        .env("EDS_API_URL", "http://127.0.0.1:9")
        .env("KAFKA_BROKERS", "127.0.0.1:9")
        .env("EDS_KAFKA_TIMEOUT", "3s")
        .env("EDS_HTTP_TIMEOUT", "3s");
    for (k, _) in std::env::vars() {
        let ours = [
            "EDS_API_URL",
            "EDS_KAFKA_TIMEOUT",
            "EDS_HTTP_TIMEOUT",
            "KAFKA_BROKERS",
        ];
        if (k.starts_with("EDS_") || k.starts_with("KAFKA_")) && !ours.contains(&k.as_str()) {
            cmd.env_remove(k);
        }
    }
    let mut child = cmd
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    let started = std::time::Instant::now();
    while child.try_wait().unwrap().is_none() {
        assert!(
            started.elapsed() < Duration::from_secs(60),
            "{command}: still running after 60 s"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// Each command once, with the pages that write it.
fn all_commands() -> Vec<(String, Vec<String>)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut all: std::collections::BTreeMap<String, Vec<String>> = Default::default();
    for page in crate::readme::pages() {
        let text = std::fs::read_to_string(root.join(&page)).unwrap();
        for command in code(&text).iter().flat_map(|c| commands(c)) {
            all.entry(command).or_default().push(page.clone());
        }
    }
    all.into_iter().collect()
}

#[test]
fn every_command_in_the_docs_is_accepted_as_written() {
    let all = all_commands();
    for sub in SUBCOMMANDS {
        assert!(
            all.iter()
                .any(|(c, _)| c.starts_with(&format!("eds-kafka {sub}"))),
            "no command for {sub} in the README or docs/: {all:#?}"
        );
    }
    assert!(all.len() >= 12, "{all:#?}");
    // The README keeps commands of its own, not only links.
    let in_readme = all
        .iter()
        .filter(|(_, pages)| pages.iter().any(|p| p == "README.md"))
        .count();
    assert!(in_readme >= 6, "{in_readme} commands in the README");
    let tmp = crate::support::temp_dir();
    let dir = tmp.path();
    std::fs::create_dir_all(dir.join("schemas")).unwrap();
    for (command, pages) in &all {
        let (code, err) = run(command, dir);
        assert!(
            matches!(code, Some(0 | 4 | 75)),
            "{command} (in {pages:?})\nexit {code:?}: {err}"
        );
    }
}

#[test]
fn the_extraction_finds_commands_and_skips_templates() {
    let text = "Run `eds-kafka publish --dry-run\n--now 1` or `eds-kafka schema --dataset NAME`; see `eds-kafka backfill`.\n\
                ```bash\neds-kafka chart --brokers b \\\n  --since 6h --output c.svg\n\
                eds-kafka consume --last 1 | head -1\n$ eds-kafka status -q >/dev/null || echo\n```\n";
    let found: Vec<String> = code(text).iter().flat_map(|c| commands(c)).collect();
    assert_eq!(
        found,
        [
            "eds-kafka publish --dry-run --now 1",
            "eds-kafka chart --brokers b    --since 6h --output c.svg",
            "eds-kafka consume --last 1",
            "eds-kafka status -q",
        ]
    );
}
