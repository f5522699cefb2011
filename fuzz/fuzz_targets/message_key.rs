//! Message keys (`time/key value/...`): no panic on any text; a key read is
//! written back to exactly that text, and reads back to the same key.
#![no_main]

use eds_kafka::contract::MessageKey;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(key) = text.parse::<MessageKey>() {
        let written = key.to_string();
        assert_eq!(written, text, "only the canonical spelling is read");
        assert_eq!(written.parse::<MessageKey>().as_ref(), Ok(&key));
    }
    // Any key values, written after a fixed time, read back unchanged.
    let values: Vec<String> = text.split('\u{1}').map(str::to_string).collect();
    let key = MessageKey::new(chrono::DateTime::UNIX_EPOCH, &values);
    assert_eq!(
        key.to_string().parse::<MessageKey>().as_ref(),
        Ok(&key),
        "{values:?}"
    );
});
