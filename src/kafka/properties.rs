//! Reading a `client.properties` file (`--kafka-config`) into librdkafka
//! key/value pairs: Java properties syntax, Java client keys translated.

use anyhow::{Context as _, Result};

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

/// Reads Java `.properties` text: `key=value`, `key: value` or `key value`,
/// `#`/`!` comments, `\` line continuations.
pub fn parse_properties(text: &str) -> Result<Vec<(String, String)>> {
    let mut out = Vec::new();
    let mut pending = String::new();
    for (n, raw) in text.lines().enumerate() {
        let line = raw.trim_start();
        if pending.is_empty() && (line.is_empty() || line.starts_with('#') || line.starts_with('!'))
        {
            continue;
        }
        if let Some(cont) = line.strip_suffix('\\') {
            pending.push_str(cont);
            continue;
        }
        pending.push_str(line);
        let entry = std::mem::take(&mut pending);
        let (key, value) =
            split_entry(&entry).with_context(|| format!("line {}: expected key=value", n + 1))?;
        out.extend(translate(key, value));
    }
    // A continuation on the last line ends the entry, as in Java.
    if !pending.is_empty() {
        let (key, value) = split_entry(&pending).context("last line: expected key=value")?;
        out.extend(translate(key, value));
    }
    Ok(out)
}

/// `key=value`, `key: value` or `key value` (any Unicode space: the cut is
/// made after the separator's own bytes, which may be more than one).
fn split_entry(entry: &str) -> Option<(&str, &str)> {
    let (cut, sep) = entry
        .char_indices()
        .find(|(_, c)| *c == '=' || *c == ':')
        .or_else(|| entry.char_indices().find(|(_, c)| c.is_whitespace()))?;
    Some((entry[..cut].trim(), entry[cut + sep.len_utf8()..].trim()))
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
}
