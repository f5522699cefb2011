//! The records splitter against serde_json: on any body, read in pieces of
//! any size, it must not panic, and whenever serde_json reads the body as an
//! object with a `records` array of objects, the splitter must hand over
//! exactly those objects, in order.
#![no_main]

use std::io::Read;

use libfuzzer_sys::fuzz_target;
use serde_json::Value;

/// Hands out the body in pieces of 1 to 16 bytes, sized by `sizes`.
struct Pieces<'a> {
    body: &'a [u8],
    sizes: &'a [u8],
    n: usize,
}

impl Read for Pieces<'_> {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        let size = self
            .sizes
            .get(self.n % self.sizes.len().max(1))
            .map_or(4096, |s| (*s as usize % 16) + 1);
        self.n += 1;
        let take = size.min(buf.len()).min(self.body.len());
        buf[..take].copy_from_slice(&self.body[..take]);
        self.body = &self.body[take..];
        Ok(take)
    }
}

fuzz_target!(|data: &[u8]| {
    let (sizes, body) = data.split_at(data.len().min(4));
    let mut texts: Vec<Vec<u8>> = Vec::new();
    let mut reader = Pieces { body, sizes, n: 0 };
    let result = eds_kafka::records::split(&mut reader, &mut |text| {
        assert!(
            text.first() == Some(&b'{') && text.last() == Some(&b'}'),
            "a record is an object's text"
        );
        texts.push(text.to_vec());
        Ok(())
    });
    let Ok(Value::Object(top)) = serde_json::from_slice::<Value>(body) else {
        return;
    };
    let Some(Value::Array(records)) = top.get("records") else {
        return;
    };
    if !records.iter().all(Value::is_object) {
        return;
    }
    assert!(matches!(result, Ok(true)), "valid body refused: {result:?}");
    let parsed: Vec<Value> = texts
        .iter()
        .map(|t| serde_json::from_slice(t).expect("record text is JSON"))
        .collect();
    assert_eq!(&parsed, records);
});
