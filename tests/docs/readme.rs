//! The README and the pages in docs/ against the repository: the README's
//! "Try it locally" block is exactly what `scripts/try-locally` runs (and
//! scripts/test runs that script), the README stays at most 300 lines, the
//! recipes that publish to a broker create the topics, every relative link
//! points at a file (and a heading) that exists, and nothing in the
//! repository points at files outside it.

use std::path::{Path, PathBuf};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn read(path: &str) -> String {
    std::fs::read_to_string(root().join(path)).unwrap_or_else(|e| panic!("{path}: {e}"))
}

/// README.md and every docs/*.md, as paths relative to the repository.
pub(crate) fn pages() -> Vec<String> {
    let mut docs: Vec<String> = std::fs::read_dir(root().join("docs"))
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|name| name.ends_with(".md"))
        .map(|name| format!("docs/{name}"))
        .collect();
    docs.sort();
    assert!(docs.len() >= 8, "{docs:?}");
    [vec!["README.md".to_string()], docs].concat()
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
    let readme = readme_block("## Try it locally\n");
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
    let top = &read("README.md")[..read("README.md").find("## Try it locally\n").unwrap()];
    assert!(top.contains("publish --dry-run") && top.contains("scripts/test"));
}

#[test]
fn readme_is_at_most_300_lines() {
    let lines = read("README.md").lines().count();
    assert!(
        lines <= 300,
        "README.md has {lines} lines; move details into docs/"
    );
}

#[test]
fn recipes_that_publish_to_a_broker_create_the_topics() {
    let mut checked = 0;
    for page in pages() {
        let mut in_block = false;
        for line in read(&page).lines() {
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
                    "{page}: a new broker has no topics: {line}"
                );
                checked += 1;
            }
        }
    }
    assert!(checked >= 3, "found {checked} recipes");
}

/// A page's prose: its fenced blocks and inline code spans left out.
fn prose(text: &str) -> String {
    text.split("```")
        .step_by(2)
        .flat_map(|part| part.split('`').step_by(2))
        .collect::<Vec<_>>()
        .join(" ")
}

/// The targets of a page's Markdown links and images, `[text](target)`.
fn links(text: &str) -> Vec<String> {
    let prose = prose(text);
    prose
        .match_indices("](")
        .filter_map(|(at, _)| {
            let rest = &prose[at + 2..];
            rest.find(')').map(|end| rest[..end].trim().to_string())
        })
        .collect()
}

/// The anchors GitHub gives a page's headings: lower case, only letters,
/// digits, `-` and `_` kept, spaces turned into `-`; a repeated one gets
/// `-1`, `-2`, ...
fn anchors(text: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut counts = std::collections::HashMap::new();
    let mut in_block = false;
    for line in text.lines() {
        if line.starts_with("```") {
            in_block = !in_block;
            continue;
        }
        let level = line.chars().take_while(|&c| c == '#').count();
        if in_block || level == 0 || level > 6 || !line[level..].starts_with(' ') {
            continue;
        }
        let slug: String = line[level..]
            .trim()
            .to_lowercase()
            .chars()
            .filter(|c| c.is_alphanumeric() || matches!(c, ' ' | '-' | '_'))
            .map(|c| if c == ' ' { '-' } else { c })
            .collect();
        let seen = counts.entry(slug.clone()).or_insert(0);
        out.push(match *seen {
            0 => slug,
            n => format!("{slug}-{n}"),
        });
        *seen += 1;
    }
    out
}

#[test]
fn the_link_checker_reads_links_and_anchors() {
    let page = "# Title\n\nSee [a](docs/a.md#x-y) and ![b](b.svg), not `[c](c.md)`.\n\
                ```\n[d](d.md)\n```\n## `eds-kafka status`: the `--since` flag\n## Title\n";
    assert_eq!(links(page), ["docs/a.md#x-y", "b.svg"]);
    assert_eq!(
        anchors(page),
        ["title", "eds-kafka-status-the---since-flag", "title-1"]
    );
}

#[test]
fn every_relative_link_points_at_a_file_that_exists() {
    let repo = root().canonicalize().unwrap();
    let mut checked = 0;
    let mut broken = Vec::new();
    for page in pages() {
        for target in links(&read(&page)) {
            if target.starts_with("http://")
                || target.starts_with("https://")
                || target.starts_with("mailto:")
            {
                continue;
            }
            checked += 1;
            let (file, anchor) = target.split_once('#').unwrap_or((&target, ""));
            let path = if file.is_empty() {
                root().join(&page)
            } else {
                root().join(&page).parent().unwrap().join(file)
            };
            let Ok(path) = path.canonicalize() else {
                broken.push(format!("{page}: {target}: no such file"));
                continue;
            };
            if !path.starts_with(&repo) {
                broken.push(format!("{page}: {target}: outside the repository"));
                continue;
            }
            if !anchor.is_empty() {
                let text = std::fs::read_to_string(&path).unwrap_or_default();
                if path.extension().is_none_or(|e| e != "md")
                    || !anchors(&text).iter().any(|a| a == anchor)
                {
                    broken.push(format!("{page}: {target}: no heading #{anchor} there"));
                }
            }
        }
    }
    assert!(broken.is_empty(), "{broken:#?}");
    assert!(checked >= 30, "found {checked} relative links");
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
