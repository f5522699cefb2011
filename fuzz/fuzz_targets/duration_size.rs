//! Durations and sizes as flags take them: no panic, results within their
//! limits, and a duration written by `format_span` reads back the same.
#![no_main]

use eds_kafka::cli::parse_size;
use eds_kafka::time::{format_span, parse_duration, MAX_DURATION};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else {
        return;
    };
    if let Ok(d) = parse_duration(text) {
        assert!(d <= MAX_DURATION);
        if d.subsec_millis() == 0 {
            let span = chrono::TimeDelta::from_std(d).unwrap();
            assert_eq!(parse_duration(&format_span(span)), Ok(d), "{text:?}");
        }
    }
    if let Ok(n) = parse_size(text) {
        assert!(n > 0 && n <= 16 << 30, "{text:?}: {n}");
    }
});
