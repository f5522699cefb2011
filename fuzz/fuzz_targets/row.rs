//! One record's text into a row, for every known dataset, all fields or a
//! few, with and without its raw text: no panic, and a row that parses is
//! written back as JSON that parses, with its time rewritten.
#![no_main]

use eds_kafka::api::parse_record;
use eds_kafka::dataset::Dataset;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|text: &[u8]| {
    for name in Dataset::known_names() {
        let dataset = Dataset::known(name).unwrap();
        let wanted = ["CO2Emission", "SpotPriceDKK"];
        for (keep, raw) in [(None, false), (Some(&wanted[..]), true)] {
            let Ok(row) = parse_record(&dataset, keep, raw, text) else {
                continue;
            };
            let mut out = Vec::new();
            if row.write_json(&dataset.time_column, &mut out).is_ok() {
                let v: serde_json::Value =
                    serde_json::from_slice(&out).expect("written JSON parses");
                assert_eq!(
                    v[dataset.time_column.as_str()].as_str(),
                    Some(eds_kafka::time::format_utc(row.time).as_str())
                );
            }
            assert!(!row.message_key().to_string().is_empty());
            for f in wanted {
                let _ = row.number(f);
            }
        }
    }
});
