//! Field-by-field differences between two JSON snapshots (audit before/after), named by path
//! (`definition.config_schema.fields[theme].label`) with short display values, never raw JSON.

use serde_json::{Map, Value};

use super::paths::{index, join};

/// One changed value: its path and how it reads before and after (`—` when absent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldChange {
    pub path: String,
    pub before: String,
    pub after: String,
}

/// The display of an absent or null value.
pub const ABSENT: &str = "—";

/// Array items with one of these string properties are matched by it rather than by position, so
/// inserting a field names the new field instead of shifting every later one.
const ITEM_KEYS: [&str; 3] = ["key", "goal_template_id", "id"];

fn scalar(v: &Value) -> Option<String> {
    match v {
        Value::Null => Some(ABSENT.into()),
        Value::String(s) if s.is_empty() => Some("(empty)".into()),
        Value::String(s) => Some(s.clone()),
        Value::Bool(_) | Value::Number(_) => Some(v.to_string()),
        Value::Array(a) if a.is_empty() => Some("(none)".into()),
        Value::Array(a) => a
            .iter()
            .map(|x| scalar(x).filter(|_| !x.is_array()))
            .collect::<Option<Vec<_>>>()
            .map(|parts| parts.join(", ")),
        Value::Object(o) if o.is_empty() => Some("(none)".into()),
        Value::Object(_) => None,
    }
}

/// How a value reads in one line: scalars as themselves, lists of scalars joined, anything bigger
/// summed up by its size.
pub fn show(v: Option<&Value>) -> String {
    match v {
        None => ABSENT.into(),
        Some(v) => scalar(v).unwrap_or_else(|| match v {
            Value::Array(a) => format!("{} items", a.len()),
            Value::Object(o) => format!("{} fields", o.len()),
            _ => unreachable!("scalars are shown by scalar()"),
        }),
    }
}

fn present(v: Option<&Value>) -> Option<&Value> {
    v.filter(|v| !v.is_null())
}

/// The property that identifies every object item of these arrays, if any one does.
fn item_key(arrays: &[&Vec<Value>]) -> Option<&'static str> {
    ITEM_KEYS.into_iter().find(|k| {
        let mut seen = std::collections::HashSet::new();
        arrays.iter().all(|a| {
            seen.clear();
            !a.is_empty()
                && a.iter().all(|x| {
                    x.get(k)
                        .and_then(Value::as_str)
                        .is_some_and(|s| seen.insert(s))
                })
        })
    })
}

fn walk(path: &str, b: Option<&Value>, a: Option<&Value>, out: &mut Vec<FieldChange>) {
    let (b, a) = (present(b), present(a));
    if b == a {
        return;
    }
    let leaf = |out: &mut Vec<FieldChange>| {
        out.push(FieldChange {
            path: path.to_string(),
            before: show(b),
            after: show(a),
        })
    };
    let empty = Map::new();
    match (b, a) {
        (Some(Value::Object(_)), Some(Value::Object(_)))
        | (Some(Value::Object(_)), None)
        | (None, Some(Value::Object(_))) => {
            let (x, y) = (
                b.and_then(Value::as_object).unwrap_or(&empty),
                a.and_then(Value::as_object).unwrap_or(&empty),
            );
            let keys = y.keys().chain(x.keys().filter(|k| !y.contains_key(*k)));
            for k in keys {
                walk(&join(path, k), x.get(k), y.get(k), out);
            }
        }
        _ if b.is_some_and(|v| scalar(v).is_some()) && a.is_none_or(|v| scalar(v).is_some())
            || b.is_none() && a.is_some_and(|v| scalar(v).is_some()) =>
        {
            leaf(out)
        }
        (Some(Value::Array(_)), _) | (_, Some(Value::Array(_))) => {
            let none = vec![];
            let (x, y) = (
                b.and_then(Value::as_array).unwrap_or(&none),
                a.and_then(Value::as_array).unwrap_or(&none),
            );
            let present: Vec<&Vec<Value>> = [x, y].into_iter().filter(|v| !v.is_empty()).collect();
            match item_key(&present) {
                Some(k) => {
                    let id = |v: &Value| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
                    let find = |list: &Vec<Value>, want: &str| -> Option<Value> {
                        list.iter().find(|v| id(v) == want).cloned()
                    };
                    let mut ids: Vec<String> = y.iter().map(id).collect();
                    ids.extend(x.iter().map(id).filter(|i| !y.iter().any(|v| id(v) == *i)));
                    for i in ids {
                        let p = format!("{path}[{i}]");
                        walk(&p, find(x, &i).as_ref(), find(y, &i).as_ref(), out);
                    }
                }
                None => {
                    for i in 0..x.len().max(y.len()) {
                        walk(&index(path, i), x.get(i), y.get(i), out);
                    }
                }
            }
        }
        _ => leaf(out),
    }
}

/// The key fields of a snapshot that was created or deleted: its scalar values (and lists of
/// scalars) down to the second level, not every nested detail.
fn key_fields(v: &Value, out: &mut Vec<(String, String)>) {
    let Some(o) = v.as_object() else {
        out.push((String::new(), show(Some(v))));
        return;
    };
    for (k, x) in o {
        match x {
            Value::Object(inner) => {
                for (k2, y) in inner {
                    if let Some(s) = scalar(y).filter(|_| !y.is_null()) {
                        out.push((join(k, k2), s));
                    }
                }
            }
            Value::Null => {}
            _ => {
                if let Some(s) = scalar(x) {
                    out.push((k.clone(), s));
                }
            }
        }
    }
}

/// What changed between two snapshots, path by path. A snapshot without the other side (created or
/// deleted) lists its key fields instead of every nested value.
pub fn changes(before: Option<&Value>, after: Option<&Value>) -> Vec<FieldChange> {
    let (before, after) = (present(before), present(after));
    let mut out = vec![];
    match (before, after) {
        (None, None) => {}
        (None, Some(v)) | (Some(v), None) => {
            let mut fields = vec![];
            key_fields(v, &mut fields);
            let created = before.is_none();
            out.extend(fields.into_iter().map(|(path, value)| FieldChange {
                path,
                before: if created {
                    ABSENT.into()
                } else {
                    value.clone()
                },
                after: if created { value } else { ABSENT.into() },
            }));
        }
        (Some(b), Some(a)) => walk("", Some(b), Some(a), &mut out),
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn c(path: &str, before: &str, after: &str) -> FieldChange {
        FieldChange {
            path: path.into(),
            before: before.into(),
            after: after.into(),
        }
    }

    #[test]
    fn only_changed_keys() {
        let b = json!({"role": "viewer", "email": "a@b.io", "gone": 1});
        let a = json!({"role": "operator", "email": "a@b.io", "new": true});
        assert_eq!(
            changes(Some(&b), Some(&a)),
            vec![
                c("new", "—", "true"),
                c("role", "viewer", "operator"),
                c("gone", "1", "—")
            ]
        );
        assert!(changes(Some(&a), Some(&a)).is_empty());
    }

    #[test]
    fn nested_values_are_named_by_path_and_keyed_items_by_key() {
        let b = json!({"status": "draft", "definition": {"version": "1.0.0", "fields": [
            {"key": "a", "label": "A", "options": ["x", "y"]}, {"key": "b", "label": "B"}]}});
        let a = json!({"status": "published", "definition": {"version": "1.0.0", "fields": [
            {"key": "new", "label": "New"}, {"key": "a", "label": "A!", "options": ["x"]},
            {"key": "b", "label": "B"}]}});
        assert_eq!(
            changes(Some(&b), Some(&a)),
            vec![
                c("definition.fields[new].key", "—", "new"),
                c("definition.fields[new].label", "—", "New"),
                c("definition.fields[a].label", "A", "A!"),
                c("definition.fields[a].options", "x, y", "x"),
                c("status", "draft", "published"),
            ]
        );
    }

    #[test]
    fn unkeyed_lists_go_by_position_and_nothing_reads_as_json() {
        let b = json!({"rules": [{"if": 1}, {"if": 2}]});
        let a = json!({"rules": [{"if": 1}, {"if": 3}, {"if": 4}], "extra": {"deep": {"x": 1}}});
        let all = changes(Some(&b), Some(&a));
        assert_eq!(
            all,
            vec![
                c("extra.deep.x", "—", "1"),
                c("rules[1].if", "2", "3"),
                c("rules[2].if", "—", "4"),
            ]
        );
    }

    #[test]
    fn created_and_deleted_list_key_fields() {
        let v = json!({"status": "draft", "definition": {"version": "1.1.0", "display_name": "X",
            "config_schema": {"fields": [{"key": "a"}]}, "goal_templates": []}, "note": null});
        let created = changes(None, Some(&v));
        assert_eq!(
            created,
            vec![
                c("definition.display_name", "—", "X"),
                c("definition.goal_templates", "—", "(none)"),
                c("definition.version", "—", "1.1.0"),
                c("status", "—", "draft"),
            ]
        );
        let deleted = changes(Some(&json!({"id": 3})), None);
        assert_eq!(deleted, vec![c("id", "3", "—")]);
        for ch in created {
            assert!(!ch.after.contains('{'), "{ch:?}");
        }
    }
}
