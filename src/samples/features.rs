//! Feature vectors from the numeric values in an element's `user` object.
//!
//! HistomicsTK writes keys like `Feature.Size.Area`, either flat (one dotted
//! key) or nested; both read as the same dotted name.

use std::collections::BTreeMap;

use serde_json::{Map, Value};

/// A feature value as found: a number, or something unusable under a feature name.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Found {
    Number(f64),
    /// `null`, a string such as "NaN", or a number that does not fit an f64.
    NotFinite,
}

/// All feature-like leaves of a `user` object, keyed by dotted path.
pub fn flatten(user: &Map<String, Value>, prefix: Option<&str>) -> BTreeMap<String, Found> {
    let mut out = BTreeMap::new();
    walk(user, "", prefix, &mut out);
    out
}

fn walk(
    map: &Map<String, Value>,
    path: &str,
    prefix: Option<&str>,
    out: &mut BTreeMap<String, Found>,
) {
    for (key, value) in map {
        let name = if path.is_empty() {
            key.clone()
        } else {
            format!("{path}.{key}")
        };
        match value {
            Value::Object(inner) => walk(inner, &name, prefix, out),
            _ if !prefix.is_none_or(|p| name.starts_with(p)) => {}
            Value::Number(n) => {
                let found = n
                    .as_f64()
                    .filter(|v| v.is_finite())
                    .map_or(Found::NotFinite, Found::Number);
                out.insert(name, found);
            }
            // `null` is how JSON writers store NaN: a feature without a value.
            // Without a prefix, strings are notes, not features; under a
            // feature prefix a string is a broken value.
            Value::Null => {
                out.insert(name, Found::NotFinite);
            }
            Value::String(_) if prefix.is_some() => {
                out.insert(name, Found::NotFinite);
            }
            _ => {}
        }
    }
}

/// Which feature names to use: those present on at least half of the samples.
/// Returns the kept names and the dropped ones with how many samples had them.
pub fn choose_columns(
    counts: &BTreeMap<String, usize>,
    samples: usize,
) -> (Vec<String>, Vec<(String, usize)>) {
    let mut kept = Vec::new();
    let mut dropped = Vec::new();
    for (name, &count) in counts {
        if count * 2 >= samples {
            kept.push(name.clone());
        } else {
            dropped.push((name.clone(), count));
        }
    }
    (kept, dropped)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn obj(v: Value) -> Map<String, Value> {
        v.as_object().unwrap().clone()
    }

    #[test]
    fn flat_and_nested_keys_read_the_same() {
        let flat = flatten(
            &obj(json!({"Feature.Size.Area": 3.5, "note": "x", "flag": true})),
            None,
        );
        let nested = flatten(&obj(json!({"Feature": {"Size": {"Area": 3.5}}})), None);
        assert_eq!(flat, nested);
        assert_eq!(flat.len(), 1);
    }

    #[test]
    fn prefix_filters_and_flags_broken_values() {
        let found = flatten(
            &obj(json!({"Feature.A": 1, "Feature.B": null, "Feature.C": "NaN", "Other": 2})),
            Some("Feature."),
        );
        assert_eq!(found.get("Feature.A"), Some(&Found::Number(1.0)));
        assert_eq!(found.get("Feature.B"), Some(&Found::NotFinite));
        assert_eq!(found.get("Feature.C"), Some(&Found::NotFinite));
        assert!(!found.contains_key("Other"));
    }

    #[test]
    fn rare_columns_are_dropped_and_reported() {
        let counts = BTreeMap::from([
            ("a".to_string(), 10),
            ("b".to_string(), 5),
            ("c".to_string(), 1),
        ]);
        let (kept, dropped) = choose_columns(&counts, 10);
        assert_eq!(kept, vec!["a", "b"]);
        assert_eq!(dropped, vec![("c".to_string(), 1)]);
    }
}
