//! The `client.properties` reader: no panic on any text, and every key it
//! gives is trimmed and has no line break.
#![no_main]

use eds_kafka::kafka::parse_properties;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(props) = parse_properties(text) {
        for (key, _) in props {
            assert_eq!(key.trim(), key);
            assert!(!key.contains('\n'), "{key:?}");
        }
    }
});
