//! `Retry-After` values: no panic; a wait is only ever read from digits.
#![no_main]

use eds_kafka::api::parse_retry_after;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(wait) = parse_retry_after(text) {
        let t = text.trim();
        assert!(
            !t.is_empty() && t.bytes().all(|b| b.is_ascii_digit()),
            "{text:?}"
        );
        assert_eq!(Some(wait.as_secs()), t.parse::<u64>().ok());
    }
});
