//! Field-by-field differences between two JSON snapshots (audit before/after).

use serde_json::Value;

/// One changed field: (key, before, after) as short display strings.
pub type FieldChange = (String, String, String);

fn show(v: Option<&Value>) -> String {
    match v {
        None | Some(Value::Null) => "—".into(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// Top-level keys whose values differ: the after snapshot's keys in order, then keys that were removed.
pub fn changes(before: Option<&Value>, after: Option<&Value>) -> Vec<FieldChange> {
    let empty = serde_json::Map::new();
    let b = before.and_then(Value::as_object).unwrap_or(&empty);
    let a = after.and_then(Value::as_object).unwrap_or(&empty);
    let mut keys: Vec<&String> = a.keys().collect();
    keys.extend(b.keys().filter(|k| !a.contains_key(*k)));
    keys.into_iter()
        .filter(|k| b.get(*k) != a.get(*k))
        .map(|k| (k.clone(), show(b.get(k)), show(a.get(k))))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_changed_keys() {
        let b = json!({"role": "viewer", "email": "a@b.io", "gone": 1});
        let a = json!({"role": "operator", "email": "a@b.io", "new": true});
        let c = changes(Some(&b), Some(&a));
        assert_eq!(
            c,
            vec![
                ("new".into(), "—".into(), "true".into()),
                ("role".into(), "viewer".into(), "operator".into()),
                ("gone".into(), "1".into(), "—".into()),
            ]
        );
        assert!(changes(Some(&a), Some(&a)).is_empty());
    }
}
