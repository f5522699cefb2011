//! Text from outside (key values, field names, message bytes) as it may be
//! shown to a person: on a terminal, in a log line, in an SVG. Control
//! characters are escaped visibly (`\x1b`, `\n`, `\u{2028}`), so a value
//! can neither drive the terminal, nor start a log line of its own, nor
//! break an XML document; and long values are cut.

use std::borrow::Cow;

/// `text` with every character that could act instead of being seen
/// escaped: C0 controls (`\n`, `\r`, `\t`, `\0`, `\x1b`, ...), DEL, C1
/// controls, the Unicode line and paragraph separators, the bidirectional
/// overrides and isolates, zero-width characters and the byte-order mark,
/// and the non-characters XML forbids (U+FFFE, U+FFFF).
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(needs_escape) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        push_visible(&mut out, c);
    }
    Cow::Owned(out)
}

/// [`visible`], keeping line feeds (a log line's own continuation lines).
pub fn visible_lines(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c != '\n' && needs_escape(c)) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c == '\n' {
            out.push(c);
        } else {
            push_visible(&mut out, c);
        }
    }
    Cow::Owned(out)
}

/// [`visible`], cut after `max` characters (`...` marks the cut).
pub fn visible_cut(text: &str, max: usize) -> String {
    let mut out = String::new();
    for (i, c) in text.chars().enumerate() {
        if i == max {
            out.push_str("...");
            break;
        }
        push_visible(&mut out, c);
    }
    out
}

/// A key combination as people read it: its values joined by `/`, each
/// [`visible`]; `(no key)` for a dataset without key columns.
pub fn key(values: &[String]) -> String {
    if values.is_empty() {
        return "(no key)".to_string();
    }
    let mut out = String::new();
    for (i, value) in values.iter().enumerate() {
        if i > 0 {
            out.push('/');
        }
        out.push_str(&visible(value));
    }
    out
}

fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(
            c,
            '\u{200B}'..='\u{200F}'
                | '\u{2028}'..='\u{202E}'
                | '\u{2060}'..='\u{2069}'
                | '\u{FEFF}'
                | '\u{FFFE}'
                | '\u{FFFF}'
        )
}

fn push_visible(out: &mut String, c: char) {
    use std::fmt::Write as _;
    match c {
        '\n' => out.push_str("\\n"),
        '\r' => out.push_str("\\r"),
        '\t' => out.push_str("\\t"),
        '\0' => out.push_str("\\0"),
        c if (c as u32) < 0x100 && needs_escape(c) => {
            let _ = write!(out, "\\x{:02x}", c as u32);
        }
        c if needs_escape(c) => {
            let _ = write!(out, "\\u{{{:x}}}", c as u32);
        }
        c => out.push(c),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_are_escaped_visibly() {
        assert_eq!(visible("DK1"), "DK1");
        assert!(matches!(visible("Offshore Wind"), Cow::Borrowed(_)));
        assert_eq!(
            visible("a\x1b[2Jb\r\n\t\0\x07\x7f\u{85}"),
            "a\\x1b[2Jb\\r\\n\\t\\0\\x07\\x7f\\x85"
        );
        assert_eq!(
            visible("x\u{2028}y\u{202E}z\u{FEFF}\u{200B}\u{FFFF}"),
            "x\\u{2028}y\\u{202e}z\\u{feff}\\u{200b}\\u{ffff}"
        );
        assert_eq!(visible("ø Æ 日本"), "ø Æ 日本");
        assert_eq!(visible_lines("a\x1bb\n  c"), "a\\x1bb\n  c");
        assert_eq!(visible_cut("ab\ncdef", 4), "ab\\nc...");
        assert_eq!(key(&[]), "(no key)");
        assert_eq!(key(&["DK1".into(), "x\ny".into()]), "DK1/x\\ny");
    }

    #[test]
    fn what_is_shown_is_xml_1_0_text() {
        // Every char XML 1.0 forbids (below 0x20 but tab, LF, CR; U+FFFE,
        // U+FFFF) comes out as ASCII.
        for c in (0u32..0x20).chain([0xFFFE, 0xFFFF]) {
            let c = char::from_u32(c).unwrap();
            let shown = visible(&c.to_string()).into_owned();
            assert!(shown.chars().all(|c| c.is_ascii_graphic()), "{shown:?}");
        }
    }
}
