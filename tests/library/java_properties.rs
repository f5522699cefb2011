//! `client.properties` files come from Java tools: a file written by
//! `java.util.Properties.store` (both its ISO-8859-1 form, non-ASCII as
//! `\uXXXX`, and its UTF-8 `Writer` form) reads back as exactly the pairs
//! that were stored. Needs `java` (11 or later, for `java File.java`): the
//! test is skipped without it, but fails in CI (`CI` set).

use std::path::Path;
use std::process::Command;

use eds_kafka::kafka::java_properties;

/// Keys and values with every character `store` escapes or that a reader
/// could take for syntax.
fn pairs() -> Vec<(String, String)> {
    let long: String = (0..3000)
        .map(|i| char::from(b'a' + (i % 26) as u8))
        .collect();
    [
        ("bootstrap.servers", "broker-1:9092,broker-2:9092"),
        ("key:with:colons", "value:with:colons"),
        ("key=with=equals", "value=with=equals"),
        ("key with spaces", "  value with leading and trailing spaces  "),
        ("#hash", "#not a comment"),
        ("!bang", "!not a comment either"),
        ("tab\tkey", "tab\tvalue\nnew line\rreturn\u{c}feed"),
        ("back\\slash", "C:\\path\\to\\file\\"),
        ("ÆØÅ.æøå", "€ 5 – “quoted” ✓ 😀"),
        ("sasl.jaas.config", "org.apache.kafka.common.security.plain.PlainLoginModule required username='u' password='p=w:d';"),
        ("empty", ""),
        ("long", long.as_str()),
    ]
    .iter()
    .map(|(k, v)| (k.to_string(), v.to_string()))
    .collect()
}

/// `text` as a Java string literal: `\uXXXX` for everything outside
/// printable ASCII (Java reads those escapes before it reads the source, so
/// quotes and backslashes get their own escapes).
fn java_literal(text: &str) -> String {
    let mut out = String::from("\"");
    for unit in text.encode_utf16() {
        match unit {
            0x22 => out.push_str("\\\""),
            0x5C => out.push_str("\\\\"),
            0x20..=0x7E => out.push(char::from(unit as u8)),
            0x0A => out.push_str("\\n"),
            0x0D => out.push_str("\\r"),
            _ => out.push_str(&format!("\\u{unit:04x}")),
        }
    }
    out.push('"');
    out
}

/// A Java program storing `pairs` into `latin1` and `utf8`.
fn program(pairs: &[(String, String)]) -> String {
    let puts: String = pairs
        .iter()
        .map(|(k, v)| {
            format!(
                "        p.setProperty({}, {});\n",
                java_literal(k),
                java_literal(v)
            )
        })
        .collect();
    format!(
        "import java.io.*;\nimport java.nio.charset.StandardCharsets;\nimport java.util.Properties;\n\n\
         public class Store {{\n    public static void main(String[] args) throws Exception {{\n\
         \x20       Properties p = new Properties();\n{puts}\
         \x20       try (OutputStream out = new FileOutputStream(args[0])) {{ p.store(out, \"latin1\"); }}\n\
         \x20       try (Writer out = new OutputStreamWriter(new FileOutputStream(args[1]), StandardCharsets.UTF_8)) {{\n\
         \x20           p.store(out, \"utf-8 # with a comment\");\n        }}\n    }}\n}}\n"
    )
}

fn java_available() -> bool {
    let found = Command::new("java")
        .arg("-version")
        .output()
        .is_ok_and(|o| o.status.success());
    if !found {
        assert!(
            std::env::var_os("CI").is_none(),
            "java is needed for this test in CI (install a JDK, 11 or later)"
        );
        eprintln!("java_properties: SKIPPED, no `java` on PATH (install a JDK to run this test)");
    }
    found
}

fn read_sorted(path: &Path) -> Vec<(String, String)> {
    let bytes = std::fs::read(path).unwrap();
    // The ISO-8859-1 form is ASCII: everything else is a \uXXXX escape.
    let text = String::from_utf8(bytes).unwrap();
    let mut got = java_properties(&text).unwrap();
    got.sort();
    got
}

#[test]
fn a_file_written_by_java_reads_back_as_the_same_pairs() {
    if !java_available() {
        return;
    }
    let tmp = crate::support::temp_dir();
    let dir = tmp.path();
    let mut want = pairs();
    std::fs::write(dir.join("Store.java"), program(&want)).unwrap();
    let (latin1, utf8) = (dir.join("latin1.properties"), dir.join("utf8.properties"));
    let out = Command::new("java")
        .arg(dir.join("Store.java"))
        .args([&latin1, &utf8])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    want.sort();
    let latin1_text = std::fs::read_to_string(&latin1).unwrap();
    assert!(
        latin1_text.is_ascii() && latin1_text.contains("\\u00C6"),
        "{latin1_text}"
    );
    assert_eq!(read_sorted(&latin1), want, "{latin1_text}");
    assert_eq!(read_sorted(&utf8), want);
}
