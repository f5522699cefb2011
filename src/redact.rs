//! Secrets kept out of every message and log line. Values registered here
//! (Kafka passwords and the like, the user-info and query of `--api-url`) are
//! replaced by `[redacted]` wherever they appear in text we print, and so are
//! the user-info (`user:password@`) and the query (`?token=...`) of any URL
//! (a redirect's `Location`, a library's log line). Also which Kafka
//! property keys hold secrets, and the [`Secret`] that holds one's value.

use std::sync::Mutex;

const HIDDEN: &str = "[redacted]";

static SECRETS: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Never print `value` (nor its percent-decoded form).
pub fn register(value: &str) {
    if value.is_empty() {
        return;
    }
    let mut secrets = SECRETS.lock().unwrap_or_else(|e| e.into_inner());
    let decoded = percent_decode(value);
    for v in [value.to_string(), decoded] {
        if !v.is_empty() && !secrets.contains(&v) {
            secrets.push(v);
        }
    }
    // Longest first, so a secret containing another is hidden whole.
    secrets.sort_by_key(|s| std::cmp::Reverse(s.len()));
}

/// `text` with every registered secret and every URL's user-info and query hidden.
pub fn text(text: &str) -> String {
    let mut out = urls(text);
    let secrets = SECRETS.lock().unwrap_or_else(|e| e.into_inner());
    for s in secrets.iter() {
        if out.contains(s.as_str()) {
            out = out.replace(s.as_str(), HIDDEN);
        }
    }
    out
}

/// A URL the user gave, for a message: user-info and query hidden (also
/// when it is not quite a URL).
pub fn url(url: &str) -> String {
    match url.find('?') {
        Some(q) if !url.contains("://") => text(&format!("{}?{HIDDEN}", &url[..q])),
        _ => text(url),
    }
}

/// Registers the user-info and the query of a URL the user gave as secrets.
pub fn register_url(url: &str) {
    if let Ok(u) = reqwest::Url::parse(url) {
        register(u.password().unwrap_or_default());
        if u.password().is_some() {
            register(&format!(
                "{}:{}",
                u.username(),
                u.password().unwrap_or_default()
            ));
        }
        register(u.query().unwrap_or_default());
        for (_, v) in u.query_pairs() {
            if v.len() >= 4 {
                register(&v);
            }
        }
    }
    if let Some((_, query)) = url.split_once('?') {
        register(query.split('#').next().unwrap_or_default());
    }
}

/// Whether a property's value is a secret that must never be shown.
pub fn is_secret(key: &str) -> bool {
    let k = key.to_ascii_lowercase();
    k.contains("password")
        || k.contains("secret")
        || k.ends_with(".pem")
        || k == "sasl.jaas.config"
        || k == "sasl.oauthbearer.config"
}

/// A secret value: shown as `[redacted]` by `Debug` and `Display`; only
/// [`Secret::expose`] gives the value (to librdkafka).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Secret {
        let value = value.into();
        register(&value);
        Secret(value)
    }

    pub fn expose(&self) -> &str {
        &self.0
    }
}

impl std::fmt::Debug for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(HIDDEN)
    }
}

impl std::fmt::Display for Secret {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(HIDDEN)
    }
}

/// An `-X` argument for a message: hidden whole when it may hold a secret.
pub fn pair(item: &str) -> String {
    match item.split_once('=') {
        Some((k, _)) if is_secret(k) => format!("{k}={HIDDEN}"),
        None if is_secret(item) => HIDDEN.to_string(),
        _ => item.to_string(),
    }
}

/// Hides the `user:password@` part and the query of every `scheme://...` in `text`.
fn urls(text: &str) -> String {
    // Brackets belong to URLs (`http://[::1]:8080/`), so they do not end one.
    const END: &str = "\"'<>(){} \t\r\n";
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find("://") {
        let (head, tail) = rest.split_at(i + 3);
        out.push_str(head);
        let end = tail
            .find(|c: char| "/?#".contains(c) || END.contains(c))
            .unwrap_or(tail.len());
        let authority = &tail[..end];
        match authority.rfind('@') {
            Some(at) => {
                out.push_str(HIDDEN);
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        let after = &tail[end..];
        let url_end = after.find(|c: char| END.contains(c)).unwrap_or(after.len());
        let (url_rest, text_rest) = after.split_at(url_end);
        match url_rest.find('?') {
            Some(q) => {
                out.push_str(&url_rest[..=q]);
                out.push_str(HIDDEN);
                if let Some(fragment) = url_rest[q..].find('#') {
                    out.push_str(&url_rest[q + fragment..]);
                }
            }
            None => out.push_str(url_rest),
        }
        rest = text_rest;
    }
    out.push_str(rest);
    out
}

fn percent_decode(text: &str) -> String {
    let b = text.as_bytes();
    let mut out = Vec::with_capacity(b.len());
    let mut i = 0;
    while i < b.len() {
        let hex = |c: u8| (c as char).to_digit(16);
        match (
            b[i],
            b.get(i + 1).copied().and_then(hex),
            b.get(i + 2).copied().and_then(hex),
        ) {
            (b'%', Some(h), Some(l)) => {
                out.push((h * 16 + l) as u8);
                i += 3;
            }
            (c, _, _) => {
                out.push(c);
                i += 1;
            }
        }
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_info_of_any_url_is_hidden() {
        assert_eq!(
            text("GET http://bob:s3cr%40t@host:8080/x failed (see https://h/y)"),
            "GET http://[redacted]@host:8080/x failed (see https://h/y)"
        );
        assert_eq!(
            text("redirecting to 'https://h/p?token=abc&x=1#f' now; a?b"),
            "redirecting to 'https://h/p?[redacted]#f' now; a?b"
        );
        assert_eq!(text("no url here"), "no url here");
        assert_eq!(text("a://@b"), "a://[redacted]@b");
        assert_eq!(
            text("GET http://u:p@[::1]:80/x?t=1 failed"),
            "GET http://[redacted]@[::1]:80/x?[redacted] failed"
        );
    }

    #[test]
    fn registered_secrets_and_queries_are_hidden() {
        register_url("http://alice:Pa55%21word@api.example/?token=tok-123456&x=1");
        let shown = text("token=tok-123456&x=1 password Pa55!word and Pa55%21word");
        assert!(!shown.contains("tok-123456"), "{shown}");
        assert!(!shown.contains("Pa55"), "{shown}");
        assert_eq!(
            url("http://alice:Pa55%21word@api.example/?token=tok-123456"),
            "http://[redacted]@api.example/?[redacted]"
        );
    }
}
