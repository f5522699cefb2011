//! docs/architecture.md's layers are the code's: every module named in the
//! table exists, every top-level module of src/ is in it, a module uses
//! (`crate::` paths outside comments and tests) only modules of its own
//! layer or below, and no two modules use each other, directly or not.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// Module -> layer (0, 1, ...; `top` is the highest), from the table.
fn layers() -> BTreeMap<String, usize> {
    let page = std::fs::read_to_string(root().join("docs/architecture.md")).unwrap();
    let mut out = BTreeMap::new();
    for line in page.lines().filter(|l| l.starts_with("| ")) {
        let cells: Vec<&str> = line.split('|').map(str::trim).collect();
        let layer = match cells[1] {
            "top" => 99,
            n => match n.parse() {
                Ok(n) => n,
                Err(_) => continue, // the header
            },
        };
        for module in cells[2].split(',') {
            let name = module.trim().trim_matches('`').trim_end_matches('/');
            out.insert(name.to_string(), layer);
        }
    }
    out
}

fn sources(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).unwrap() {
        let path = entry.unwrap().path();
        if path.is_dir() {
            sources(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

/// The top-level module a source file belongs to (`src/cursor/plan.rs`: cursor).
fn module_of(path: &Path) -> String {
    let rel = path.strip_prefix(root().join("src")).unwrap();
    let first = rel
        .components()
        .next()
        .unwrap()
        .as_os_str()
        .to_str()
        .unwrap();
    first.trim_end_matches(".rs").to_string()
}

/// The modules a file's code uses: `crate::NAME` outside comments, before
/// its unit tests; test-only files (`tests.rs`, the simulation) are skipped.
fn uses(path: &Path) -> BTreeSet<String> {
    let text = std::fs::read_to_string(path).unwrap();
    let code = text.split("#[cfg(test)]\nmod tests {").next().unwrap();
    let mut out = BTreeSet::new();
    for line in code.lines().filter(|l| !l.trim_start().starts_with("//")) {
        for (at, _) in line.match_indices("crate::") {
            let name: String = line[at + 7..]
                .chars()
                .take_while(|c| c.is_alphanumeric() || *c == '_')
                .collect();
            out.insert(name);
        }
    }
    out
}

#[test]
fn modules_use_only_their_layer_and_below_without_a_circle() {
    let layers = layers();
    let mut files = Vec::new();
    sources(&root().join("src"), &mut files);
    let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut seen = BTreeSet::new();
    for file in &files {
        let module = module_of(file);
        let layer = *layers
            .get(&module)
            .unwrap_or_else(|| panic!("src/{module} is not in docs/architecture.md's table"));
        seen.insert(module.clone());
        let name = file.file_name().unwrap().to_str().unwrap();
        if name == "tests.rs" || file.components().any(|c| c.as_os_str() == "simulation") {
            continue;
        }
        for used in uses(file).into_iter().filter(|u| *u != module) {
            let Some(&below) = layers.get(&used) else {
                continue; // not a module: a macro path or an item of lib.rs
            };
            assert!(
                below <= layer,
                "{} (layer {layer}) uses {used} (layer {below})",
                file.display()
            );
            edges.entry(module.clone()).or_default().insert(used);
        }
    }
    for named in layers.keys() {
        assert!(
            seen.contains(named),
            "the table names {named}, which src/ lacks"
        );
    }
    for start in edges.keys() {
        let mut stack: Vec<&String> = edges[start].iter().collect();
        let mut reached = BTreeSet::new();
        while let Some(m) = stack.pop() {
            assert!(m != start, "{start} uses itself through {reached:?}");
            if reached.insert(m.clone()) {
                stack.extend(edges.get(m).into_iter().flatten());
            }
        }
    }
}
