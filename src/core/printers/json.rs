//! Lenient readers for printer JSON: numbers may arrive as strings, fields
//! may be missing or of the wrong type; nothing here panics.

use serde_json::Value;

/// A non-negative integer from a number, a float or a string (decimal, or
/// hex with `0x`).
pub fn u64_of(v: &Value) -> Option<u64> {
    match v {
        Value::Number(n) => n.as_u64().or_else(|| {
            n.as_f64()
                .filter(|f| f.is_finite() && *f >= 0.0 && *f < 1.8e19)
                .map(|f| f as u64)
        }),
        Value::String(s) => {
            let s = s.trim();
            if let Some(hex) = s.strip_prefix("0x").or_else(|| s.strip_prefix("0X")) {
                u64::from_str_radix(hex, 16).ok()
            } else {
                s.parse::<u64>().ok().or_else(|| {
                    f64_of(v)
                        .filter(|f| *f >= 0.0 && *f < 1.8e19)
                        .map(|f| f as u64)
                })
            }
        }
        _ => None,
    }
}

/// A finite number from a number or a string.
pub fn f64_of(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => s.trim().parse::<f64>().ok(),
        _ => None,
    }
    .filter(|f| f.is_finite())
}

/// A non-empty text from a string or a number.
pub fn text_of(v: &Value) -> Option<String> {
    match v {
        Value::String(s) => Some(s.trim().to_string()),
        Value::Number(n) => Some(n.to_string()),
        _ => None,
    }
    .filter(|s| !s.is_empty())
}

/// `value[key]` as text, when it is one.
pub fn text(value: &Value, key: &str) -> Option<String> {
    value.get(key).and_then(text_of)
}

/// `value[key]` as a flag (`true`, or a non-zero number or `"true"`).
pub fn flag(value: &Value, key: &str) -> bool {
    match value.get(key) {
        Some(Value::Bool(b)) => *b,
        Some(Value::String(s)) => s.eq_ignore_ascii_case("true"),
        Some(v) => u64_of(v).is_some_and(|n| n != 0),
        None => false,
    }
}

/// Merges `delta` into `state` one key at a time; objects inside are
/// merged one level down (as bambulabs_api's `_data[k] |= v`), anything
/// else is replaced.
pub fn merge(state: &mut serde_json::Map<String, Value>, delta: &serde_json::Map<String, Value>) {
    for (key, value) in delta {
        match (state.get_mut(key), value) {
            (Some(Value::Object(old)), Value::Object(new)) => {
                for (k, v) in new {
                    old.insert(k.clone(), v.clone());
                }
            }
            _ => {
                state.insert(key.clone(), value.clone());
            }
        }
    }
}

/// At most `max` characters of a printer's text, for messages.
pub fn short(text: &str, max: usize) -> String {
    if text.chars().count() <= max {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(max.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn numbers_are_read_leniently() {
        assert_eq!(u64_of(&json!(50348044)), Some(50348044));
        assert_eq!(u64_of(&json!("50348044")), Some(50348044));
        assert_eq!(u64_of(&json!("0x0300400C")), Some(0x0300400C));
        assert_eq!(u64_of(&json!(" 12 ")), Some(12));
        assert_eq!(u64_of(&json!("12.7")), Some(12));
        assert_eq!(u64_of(&json!(-1)), None);
        assert_eq!(u64_of(&json!("nope")), None);
        assert_eq!(u64_of(&json!(null)), None);
        assert_eq!(f64_of(&json!("42.5")), Some(42.5));
        assert_eq!(text_of(&json!(690732215)), Some("690732215".into()));
        assert_eq!(text_of(&json!("  ")), None);
        assert!(flag(&json!({"a": true}), "a"));
        assert!(!flag(&json!({"a": 0}), "a"));
    }

    #[test]
    fn deltas_merge_key_by_key() {
        let mut state =
            json!({"gcode_state": "RUNNING", "mc_percent": 10, "ams": {"a": 1, "b": 2}})
                .as_object()
                .cloned()
                .unwrap();
        let delta = json!({"mc_percent": "11", "ams": {"b": 3}});
        merge(&mut state, delta.as_object().unwrap());
        assert_eq!(
            Value::Object(state),
            json!({"gcode_state": "RUNNING", "mc_percent": "11", "ams": {"a": 1, "b": 3}})
        );
        assert_eq!(short("abcdef", 4), "abc…");
    }
}
