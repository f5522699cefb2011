//! The values of numeric fields that are not JSON numbers: a field known to
//! be a number ([`super::known_fields`], or asked for with `--fields`)
//! holding text that reads as a number (`"112.04"`, `" 7 "`, `"1e3"`) is
//! published as that number, as pandas' `to_numeric` would; anything else
//! (`"N/A"`, `true`, `"NaN"`, an object) is published as null. Each such
//! value is a [`Fixed`]: what the API served and what is published.

use serde_json::{Number, Value};

/// A numeric field's value that was not a number or null: what the API
/// served, and what is published in its place (a number read from its
/// text, else null).
#[derive(Debug, Clone, PartialEq)]
pub struct Fixed {
    pub field: String,
    pub served: Value,
    pub published: Value,
}

impl Fixed {
    /// The value published for `served` in the numeric field `field`.
    pub fn of(field: &str, served: Value) -> Fixed {
        Fixed {
            field: field.to_string(),
            published: number_in(&served).map_or(Value::Null, Value::Number),
            served,
        }
    }

    /// Whether a number was read from the text (else: published as null).
    pub fn converted(&self) -> bool {
        !self.published.is_null()
    }
}

/// The number a JSON string holds, surrounding spaces allowed: a whole
/// number stays whole (`"12"` is 12), others are doubles; infinities and
/// NaN are no number JSON can carry.
pub fn number_in(value: &Value) -> Option<Number> {
    let text = value.as_str()?.trim();
    if let Ok(whole) = text.parse::<i64>() {
        return Some(Number::from(whole));
    }
    // Rust's float grammar, as pandas': sign, digits, '.', exponent; it
    // also reads "inf" and "NaN", refused as not finite.
    let x: f64 = text.parse().ok()?;
    Number::from_f64(x).filter(|_| x.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn text_that_reads_as_a_number_is_that_number() {
        for (text, number) in [
            ("112.04", json!(112.04)),
            (" 7 ", json!(7)),
            ("-3", json!(-3)),
            ("+2.5", json!(2.5)),
            ("1e3", json!(1000.0)),
            (".5", json!(0.5)),
            ("0", json!(0)),
        ] {
            let fixed = Fixed::of("CO2Emission", json!(text));
            assert_eq!(fixed.published, number, "{text:?}");
            assert!(fixed.converted());
            assert_eq!(fixed.served, json!(text));
        }
    }

    #[test]
    fn anything_else_is_null() {
        for served in [
            json!("N/A"),
            json!(""),
            json!("NaN"),
            json!("inf"),
            json!("-infinity"),
            json!("1,5"),
            json!("12 MW"),
            json!("0x10"),
            json!(true),
            json!({"a": 1}),
            json!([1]),
            json!("1e999"),
        ] {
            let fixed = Fixed::of("CO2Emission", served.clone());
            assert_eq!(fixed.published, Value::Null, "{served}");
            assert!(!fixed.converted());
        }
    }
}
