//! The README against the repository: its "Try it locally" block is exactly
//! what `scripts/try-locally` runs (and scripts/test runs that script), its
//! recipes that publish to a broker create the topics, and nothing in the
//! repository points at files outside it.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// The first fenced block after `heading` in the README, without its fences.
fn readme_block(heading: &str) -> String {
    let readme = read("README.md");
    let section = &readme[readme.find(heading).expect("the heading")..];
    let start = section.find("```bash\n").expect("a bash block") + "```bash\n".len();
    let len = section[start..].find("```\n").expect("the closing fence");
    section[start..start + len].to_string()
}

#[test]
fn try_locally_block_is_what_the_script_runs() {
    let readme = readme_block("### Try it locally");
    let script = read("scripts/try-locally");
    let begin = "# >>> README \"Try it locally\"\n";
    let end = "# <<< README \"Try it locally\"\n";
    let start = script.find(begin).expect("the begin marker") + begin.len();
    let len = script[start..].find(end).expect("the end marker");
    assert_eq!(&script[start..start + len], readme);
    for step in [
        "--example stub_api",
        "scripts/kafka start",
        "publish --create-topics",
        "consume --last 1",
        "publish --dry-run",
        "diff ",
    ] {
        assert!(readme.contains(step), "the block has {step}:\n{readme}");
    }
    assert!(read("scripts/test").contains("\nscripts/try-locally\n"));
    // The README keeps its two first commands before the block.
    let top = &read("README.md")[..read("README.md").find("### Try it locally").unwrap()];
    assert!(top.contains("publish --dry-run") && top.contains("scripts/test"));
}

#[test]
fn recipes_that_publish_to_a_broker_create_the_topics() {
    let readme = read("README.md");
    let mut in_block = false;
    let mut checked = 0;
    for line in readme.lines() {
        if line.starts_with("```") {
            in_block = !in_block;
            continue;
        }
        let run = line.trim_start_matches("$ ");
        if in_block
            && (run.starts_with("eds-kafka publish") || run.starts_with("eds-kafka backfill"))
            && !run.contains("--dry-run")
        {
            assert!(
                run.contains("--create-topics"),
                "a new broker has no topics: {line}"
            );
            checked += 1;
        }
    }
    assert!(checked >= 3, "found {checked} recipes");
}

/// Every text file of the repository outside target/ and .git/.
fn files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        let name = path.file_name().unwrap().to_string_lossy().to_string();
        if path.is_dir() {
            if name != "target" && name != ".git" {
                files(&path, out);
            }
        } else {
            out.push(path);
        }
    }
}

#[test]
fn nothing_refers_to_files_outside_the_repository() {
    let needle = concat!("..", "/shared");
    let mut all = Vec::new();
    files(&root(), &mut all);
    assert!(all.len() > 20);
    let offenders: Vec<String> = all
        .iter()
        .filter(|p| std::fs::read_to_string(p).is_ok_and(|t| t.contains(needle)))
        .map(|p| p.display().to_string())
        .collect();
    assert!(offenders.is_empty(), "{offenders:?}");
    assert!(read("tests/support/stub.rs").contains("docs/api.md"));
}
