//! Reading a `client.properties` file (`--kafka-config`) into librdkafka
//! key/value pairs: Java properties syntax, Java client keys translated.

/// Why a `client.properties` text cannot be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PropertiesError {
    #[error("key {0:?} has a control character")]
    ControlCharacter(String),
    /// A malformed escape, on line `line`.
    #[error("line {line}: {why}")]
    Escape { line: usize, why: String },
}

type Parsed<T> = std::result::Result<T, PropertiesError>;

/// Java client keys that mean nothing to librdkafka; skipped with a warning.
const JAVA_ONLY: &[&str] = &[
    "key.serializer",
    "value.serializer",
    "key.deserializer",
    "value.deserializer",
    "client.dns.lookup",
    "schema.registry.url",
    "basic.auth.credentials.source",
    "basic.auth.user.info",
    "schema.registry.basic.auth.user.info",
];

/// Reads a `client.properties` file for librdkafka: the pairs
/// [`java_properties`] reads, each value trimmed as Kafka's Java clients
/// trim theirs, then [`translate`]d. A key with a control character (an
/// escaped line break) is refused: no Kafka property has one.
pub fn parse_properties(text: &str) -> Parsed<Vec<(String, String)>> {
    let mut out = Vec::new();
    for (key, value) in java_properties(text)? {
        let key = key.trim_matches(is_space);
        if key.chars().any(char::is_control) {
            return Err(PropertiesError::ControlCharacter(key.to_string()));
        }
        out.extend(translate(key, value.trim_matches(is_space)));
    }
    Ok(out)
}

/// Reads `.properties` text as `java.util.Properties.load` does: lines end
/// at `\n`, `\r` or `\r\n`; `#` and `!` start comment lines; a line ending
/// in an odd number of backslashes continues on the next (whose leading
/// whitespace is dropped); the key ends at the first unescaped `=`, `:` or
/// whitespace, and whitespace with at most one `=` or `:` separates it from
/// the value; `\uXXXX`, `\t`, `\n`, `\r`, `\f` are escapes and any other
/// escaped character is itself. One extension: every Unicode space is
/// whitespace (Java has only space, tab and form feed).
pub fn java_properties(text: &str) -> Parsed<Vec<(String, String)>> {
    logical_lines(text)
        .into_iter()
        .map(|(n, line)| {
            let (key, value) = split_entry(&line);
            let pair = unescape(key).and_then(|k| Ok((k, unescape(value)?)));
            pair.map_err(|why| PropertiesError::Escape { line: n, why })
        })
        .collect()
}

/// Whitespace in a `.properties` file (see [`java_properties`]).
fn is_space(c: char) -> bool {
    c.is_whitespace()
}

/// The text's lines, split at `\r\n`, `\r` or `\n`.
fn natural_lines(text: &str) -> Vec<&str> {
    let mut lines = Vec::new();
    let mut rest = text;
    while let Some(at) = rest.find(['\r', '\n']) {
        lines.push(&rest[..at]);
        let end = if rest[at..].starts_with("\r\n") { 2 } else { 1 };
        rest = &rest[at + end..];
    }
    if !rest.is_empty() {
        lines.push(rest);
    }
    lines
}

/// The entries, each with its first line's number: comments and blank lines
/// dropped, continued lines joined (escapes still in place).
fn logical_lines(text: &str) -> Vec<(usize, String)> {
    let mut out = Vec::new();
    let mut pending: Option<(usize, String)> = None;
    for (i, natural) in natural_lines(text).into_iter().enumerate() {
        let line = natural.trim_start_matches(is_space);
        let (n, mut entry) = match pending.take() {
            // A blank continuation line ends the entry.
            Some(p) if line.is_empty() => {
                out.push(p);
                continue;
            }
            Some(p) => p,
            None if line.is_empty() || line.starts_with(['#', '!']) => continue,
            None => (i + 1, String::new()),
        };
        let backslashes = line.chars().rev().take_while(|c| *c == '\\').count();
        if backslashes % 2 == 1 {
            entry.push_str(&line[..line.len() - 1]);
            pending = Some((n, entry));
        } else {
            entry.push_str(line);
            out.push((n, entry));
        }
    }
    // A continuation on the last line ends the entry, as in Java.
    out.extend(pending);
    out
}

/// The raw key and value of an entry: the key ends at the first unescaped
/// `=`, `:` or whitespace; whitespace with at most one `=` or `:` follows it.
fn split_entry(entry: &str) -> (&str, &str) {
    let mut escaped = false;
    let end = entry.char_indices().find(|&(_, c)| {
        let ends = !escaped && (c == '=' || c == ':' || is_space(c));
        escaped = !escaped && c == '\\';
        ends
    });
    let Some((at, sep)) = end else {
        return (entry, "");
    };
    let mut rest = entry[at + sep.len_utf8()..].trim_start_matches(is_space);
    if is_space(sep) {
        if let Some(after) = rest.strip_prefix(['=', ':']) {
            rest = after.trim_start_matches(is_space);
        }
    }
    (&entry[..at], rest)
}

/// Resolves the escapes of a raw key or value.
fn unescape(raw: &str) -> Result<String, String> {
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        match chars.next() {
            // A backslash at the very end of the file is dropped.
            None => {}
            Some('u') => out.push(unicode_escape(&mut chars)?),
            Some('t') => out.push('\t'),
            Some('n') => out.push('\n'),
            Some('r') => out.push('\r'),
            Some('f') => out.push('\u{c}'),
            Some(other) => out.push(other),
        }
    }
    Ok(out)
}

/// The character of a `\uXXXX` escape (after its `\u`); a high surrogate
/// takes the `\uXXXX` low surrogate that must follow it.
fn unicode_escape(chars: &mut std::str::Chars<'_>) -> Result<char, String> {
    let hex = |chars: &mut std::str::Chars<'_>| -> Result<u16, String> {
        let digits: String = chars.take(4).collect();
        u16::from_str_radix(&digits, 16)
            .ok()
            .filter(|_| digits.len() == 4 && digits.bytes().all(|b| b.is_ascii_hexdigit()))
            .ok_or_else(|| format!("malformed \\uXXXX escape: \\u{digits}"))
    };
    let first = hex(chars)?;
    let mut units = vec![first];
    if (0xD800..0xDC00).contains(&first) && chars.as_str().starts_with("\\u") {
        chars.nth(1);
        units.push(hex(chars)?);
    }
    match char::decode_utf16(units).next() {
        Some(Ok(c)) => Ok(c),
        _ => Err(format!("\\u{first:04X} is half of a surrogate pair")),
    }
}

/// Maps a Java client property to librdkafka's: `sasl.jaas.config` becomes
/// `sasl.username`/`sasl.password`, `sasl.mechanism` is `sasl.mechanisms`,
/// Java-only keys are dropped.
pub(super) fn translate(key: &str, value: &str) -> Vec<(String, String)> {
    if JAVA_ONLY.contains(&key) {
        log::warn!("Kafka property {key} is for Java clients; ignored");
        return Vec::new();
    }
    match key {
        "sasl.jaas.config" => {
            let field = |name: &str| {
                let start = value.find(&format!("{name}="))? + name.len() + 1;
                let rest = &value[start..];
                let quote = rest.chars().next().filter(|c| *c == '"' || *c == '\'')?;
                let end = rest[1..].find(quote)? + 1;
                Some(rest[1..end].to_string())
            };
            let mut out = Vec::new();
            if let Some(u) = field("username") {
                out.push(("sasl.username".to_string(), u));
            }
            if let Some(p) = field("password") {
                out.push(("sasl.password".to_string(), p));
            }
            if out.is_empty() {
                log::warn!("sasl.jaas.config has no username/password; ignored");
            }
            out
        }
        "sasl.mechanism" => vec![("sasl.mechanisms".to_string(), value.to_string())],
        _ => vec![(key.to_string(), value.to_string())],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn properties_file_forms() {
        let text = "# comment\n! also\nbootstrap.servers=a:9092\nsecurity.protocol : SASL_SSL\n\
                    sasl.mechanism=PLAIN\nclient.dns.lookup=use_all_dns_ips\n\
                    sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule required \\\n  \
                    username='KEY' password='S3cr=t';\nsession.timeout.ms 45000\n";
        let props = parse_properties(text).unwrap();
        assert_eq!(
            props,
            vec![
                ("bootstrap.servers".to_string(), "a:9092".to_string()),
                ("security.protocol".to_string(), "SASL_SSL".to_string()),
                ("sasl.mechanisms".to_string(), "PLAIN".to_string()),
                ("sasl.username".to_string(), "KEY".to_string()),
                ("sasl.password".to_string(), "S3cr=t".to_string()),
                ("session.timeout.ms".to_string(), "45000".to_string()),
            ]
        );
    }

    /// Found by the properties fuzzer: a separator of two bytes (U+0085, a
    /// Unicode space) made the value's slice start inside it, a panic.
    #[test]
    fn multibyte_separators_and_a_last_continuation() {
        let props = parse_properties("acks\u{85}all\nlinger.ms\u{3000}5\n").unwrap();
        assert_eq!(
            props,
            vec![
                ("acks".to_string(), "all".to_string()),
                ("linger.ms".to_string(), "5".to_string())
            ]
        );
        let props = parse_properties("a=1\nb=2\\").unwrap();
        assert_eq!(props.last(), Some(&("b".to_string(), "2".to_string())));
    }

    fn pairs(list: &[(&str, &str)]) -> Vec<(String, String)> {
        list.iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    /// Each rule of `java.util.Properties.load`, as its documentation states it.
    #[test]
    fn java_rules_one_by_one() {
        let p = |text: &str| java_properties(text).unwrap();
        let separators = "a=1\nb:2\nc 3\nd = 4\ne\t:\t5\nf  =  = 6\n";
        let want = [
            ("a", "1"),
            ("b", "2"),
            ("c", "3"),
            ("d", "4"),
            ("e", "5"),
            ("f", "= 6"),
        ];
        assert_eq!(p(separators), pairs(&want));
        let escaped = "k\\:e\\=y=v\\=al\\:\nsp\\ ace=\\ lead\n\\#k=\\!v\n";
        let want = [("k:e=y", "v=al:"), ("sp ace", " lead"), ("#k", "!v")];
        assert_eq!(p(escaped), pairs(&want));
        let unicode = "\\u00e6\\u00F8=\\u20ac \\uD83D\\uDE00\n";
        assert_eq!(p(unicode), pairs(&[("æø", "€ 😀")]));
        let controls = "t=a\\tb\\nc\\rd\\fe\\qf\\\\g\n";
        assert_eq!(p(controls), pairs(&[("t", "a\tb\nc\rd\u{c}eqf\\g")]));
        let comments = "# c\n  ! c\n#c\\\nk=v # not a comment\n";
        assert_eq!(p(comments), pairs(&[("k", "v # not a comment")]));
        let continued = "k=a\\\n    b\\\n  #c\nx=1\\\\\ny=2\nz=3\\\n\nw=4\\";
        let want = [
            ("k", "ab#c"),
            ("x", "1\\"),
            ("y", "2"),
            ("z", "3"),
            ("w", "4"),
        ];
        assert_eq!(p(continued), pairs(&want));
        let line_ends = "a=1\rb=2\r\nc=3\\\r\n  d";
        assert_eq!(p(line_ends), pairs(&[("a", "1"), ("b", "2"), ("c", "3d")]));
        let empty = "key\nk2=\nk3=v  \n";
        assert_eq!(p(empty), pairs(&[("key", ""), ("k2", ""), ("k3", "v  ")]));
        let e = java_properties("k=\\u12G4\n").unwrap_err().to_string();
        assert_eq!(e, "line 1: malformed \\uXXXX escape: \\u12G4");
        let e = java_properties("a=1\n\nk=\\uD83D!\n")
            .unwrap_err()
            .to_string();
        assert_eq!(e, "line 3: \\uD83D is half of a surrogate pair");
    }

    /// What librdkafka gets: values trimmed as Kafka's Java clients trim
    /// them, no key with a line break.
    #[test]
    fn kafka_values_are_trimmed_and_keys_have_no_line_break() {
        let props = parse_properties("acks = all \\t\nlinger.ms=\\ 5\n").unwrap();
        assert_eq!(props, pairs(&[("acks", "all"), ("linger.ms", "5")]));
        assert!(parse_properties("a\\nb=1\n").is_err());
    }
}
