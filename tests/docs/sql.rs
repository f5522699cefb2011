//! docs/sql.md shows the files of docs/downstream/ as they are (the files
//! scripts/downstream runs): each `<!-- docs/downstream/NAME.sql -->` marker
//! is followed by a ```sql block equal to that file, and every file there
//! is shown.

use std::path::Path;

fn root() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

/// (file named by a marker, the block after it).
fn shown(page: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    for part in page.split("<!-- ").skip(1) {
        let (name, rest) = part.split_once(" -->").expect("a closed marker");
        let rest = rest.trim_start();
        let body = rest
            .strip_prefix("```sql\n")
            .expect("a sql block after the marker");
        let (block, _) = body.split_once("```").expect("a closed block");
        out.push((name.to_string(), block.to_string()));
    }
    out
}

#[test]
fn every_downstream_file_is_shown_as_it_is() {
    let page = std::fs::read_to_string(root().join("docs/sql.md")).unwrap();
    let blocks = shown(&page);
    let mut files: Vec<String> = std::fs::read_dir(root().join("docs/downstream"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .filter(|n| n.ends_with(".sql"))
        .map(|n| format!("docs/downstream/{n}"))
        .collect();
    files.sort();
    let mut named: Vec<String> = blocks.iter().map(|(n, _)| n.clone()).collect();
    named.sort();
    assert_eq!(named, files, "docs/sql.md shows every file, once");
    for (name, block) in &blocks {
        let file = std::fs::read_to_string(root().join(name)).unwrap();
        assert!(
            block == &file,
            "docs/sql.md's block of {name} differs from the file"
        );
    }
}

#[test]
fn the_reader_finds_markers_and_blocks() {
    let page = "x\n<!-- a.sql -->\n```sql\nSELECT 1;\n```\n<!-- b.sql -->\n\n```sql\n```\n";
    assert_eq!(
        shown(page),
        [
            ("a.sql".to_string(), "SELECT 1;\n".to_string()),
            ("b.sql".to_string(), String::new())
        ]
    );
}
