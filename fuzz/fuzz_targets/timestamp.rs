//! The API's timestamps: no panic, and a time read is written and read back
//! to the same second.
#![no_main]

use chrono::Timelike;
use eds_kafka::time::{format_utc, parse_utc};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Some(t) = parse_utc(text) {
        let written = format_utc(t);
        let again = parse_utc(&written).expect("what format_utc writes is read back");
        assert_eq!(
            again,
            t.with_nanosecond(0).unwrap(),
            "{text:?} -> {written}"
        );
    }
});
