//! The form engine: a schema's fields → widgets for a form, a submitted form → typed JSON, and
//! violations → messages next to their widgets. Used for agent-type previews now, and for hired-agent
//! configuration and goal settings later: one piece of code for every schema-driven form.

mod submitted;
pub mod text_number;

use serde_json::{Map, Value};

pub use submitted::Submitted;
use text_number::number_value;

use super::definition::{Field, FieldType, Schema};
use crate::error::Violation;

/// Marks that a widget was on the form, so an unchecked box or an emptied list still means something.
pub const PRESENT: &str = "__present";
const PAIR_KEY: &str = "__key";
/// The keys a credential map's form shows (one hidden input per key).
pub const CREDENTIAL_KEYS: &str = "__keys";
const PAIR_VALUE: &str = "__value";

/// Text fields allowed more characters than this are edited in a text area.
const LONG_TEXT: u64 = 280;

/// One widget (or the start/end of a nested group), in document order: templates loop over these
/// without recursion.
#[derive(Debug, Clone, Default)]
pub struct Widget {
    /// text | longtext | secret | number | integer | checkbox | select | radios | checkboxes | rows | pairs |
    /// group_start | group_end
    pub kind: &'static str,
    pub name: String,
    pub id: String,
    pub label: String,
    pub required: bool,
    pub help: String,
    pub error: String,
    pub value: String,
    pub checked: bool,
    /// Rows of a repeatable list (one empty row is added for typing a new one).
    pub rows: Vec<String>,
    /// Key/value rows of a free object (plus one empty row).
    pub pairs: Vec<(String, String)>,
    /// (option, selected)
    pub options: Vec<(String, bool)>,
    /// For rows: the input type of each row (text or number).
    pub row_type: &'static str,
    pub min: String,
    pub max: String,
    pub step: String,
    pub min_length: String,
    pub max_length: String,
    pub pattern: String,
    /// A secret is stored already ("leave blank to keep").
    pub has_secret: bool,
    pub depth: usize,
}

use super::paths::join;

/// An element id for a form name (`config.risk_limits` → `f-config-risk_limits`).
pub fn dom_id(name: &str) -> String {
    let cleaned: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '_' || c == '-' {
                c
            } else {
                '-'
            }
        })
        .collect();
    format!("f-{cleaned}")
}

fn number_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::String(s)) => s.clone(),
        _ => String::new(),
    }
}

fn scalar_text(v: Option<&Value>) -> String {
    match v {
        Some(Value::String(s)) => s.clone(),
        Some(Value::Number(n)) => n.to_string(),
        Some(Value::Bool(b)) => b.to_string(),
        _ => String::new(),
    }
}

/// The message for the widget at `path` (its own, or the first one about one of its entries).
fn error_for(errors: &[Violation], path: &str) -> String {
    errors
        .iter()
        .find(|v| v.path == path)
        .or_else(|| {
            errors
                .iter()
                .find(|v| v.path.starts_with(&format!("{path}[")))
        })
        .or_else(|| {
            errors.iter().find(|v| {
                v.path.starts_with(&format!("{path}.")) && !v.path[path.len() + 1..].contains('.')
            })
        })
        .map(|v| v.message.clone())
        .unwrap_or_default()
}

/// Widgets for `fields` showing `value`, with `errors` (paths relative to the fields) beside them.
/// `prefix` namespaces the input names, so several schema forms can share one HTML form.
pub fn widgets(fields: &[Field], prefix: &str, value: &Value, errors: &[Violation]) -> Vec<Widget> {
    let mut out = vec![];
    add_widgets(fields, prefix, "", value, errors, 0, &mut out);
    out
}

fn add_widgets(
    fields: &[Field],
    prefix: &str,
    path_prefix: &str,
    value: &Value,
    errors: &[Violation],
    depth: usize,
    out: &mut Vec<Widget>,
) {
    for f in fields {
        let path = join(path_prefix, &f.key);
        let name = join(prefix, &f.key);
        let v = value.get(&f.key);
        let mut w = Widget {
            name: name.clone(),
            id: dom_id(&name),
            label: f.label.clone(),
            required: f.required,
            help: f.description.clone().unwrap_or_default(),
            error: error_for(errors, &path),
            depth,
            row_type: "text",
            ..Widget::default()
        };
        match f.field_type {
            FieldType::Text if f.secret_ref => {
                w.kind = "secret";
                // The definition's note is for its authors; the widget says what happens instead.
                w.help = String::new();
                w.has_secret = v.is_some_and(|v| v.as_str().is_some_and(|s| !s.is_empty()));
                // Write-only: a stored value is never sent back to the browser.
            }
            FieldType::Text => {
                // Room for a paragraph or more (a post's text) gets a text area.
                w.kind = if f.max_length.is_some_and(|n| n > LONG_TEXT) {
                    "longtext"
                } else {
                    "text"
                };
                w.value = scalar_text(v);
                w.min_length = f.min_length.map(|n| n.to_string()).unwrap_or_default();
                w.max_length = f.max_length.map(|n| n.to_string()).unwrap_or_default();
                w.pattern = f.pattern.clone().unwrap_or_default();
            }
            FieldType::Number | FieldType::Integer => {
                w.kind = if f.field_type == FieldType::Integer {
                    "integer"
                } else {
                    "number"
                };
                w.value = number_text(v);
                w.min = if f.exclusive_min {
                    String::new()
                } else {
                    text_number::number_text(f.min)
                };
                w.max = text_number::number_text(f.max);
                w.step = if f.field_type == FieldType::Integer {
                    "1".into()
                } else {
                    "any".into()
                };
            }
            FieldType::Boolean => {
                w.kind = "checkbox";
                w.checked = v == Some(&Value::Bool(true));
            }
            FieldType::Enum => {
                let opts = f.options.clone().unwrap_or_default();
                let current = scalar_text(v);
                w.kind = if opts.len() <= 4 { "radios" } else { "select" };
                w.value = current.clone();
                w.options = opts
                    .into_iter()
                    .map(|o| (o.clone(), o == current))
                    .collect();
            }
            FieldType::List if f.is_multi_select() => {
                let chosen: Vec<&Value> = v
                    .and_then(Value::as_array)
                    .map(|a| a.iter().collect())
                    .unwrap_or_default();
                w.kind = "checkboxes";
                w.options = f
                    .options
                    .clone()
                    .unwrap_or_default()
                    .into_iter()
                    .map(|o| {
                        let on = chosen.iter().any(|c| c.as_str() == Some(o.as_str()));
                        (o, on)
                    })
                    .collect();
            }
            FieldType::List => {
                w.kind = "rows";
                w.row_type = if matches!(f.item_type, Some(FieldType::Number | FieldType::Integer))
                {
                    "number"
                } else {
                    "text"
                };
                w.rows = v
                    .and_then(Value::as_array)
                    .map(|a| a.iter().map(|x| scalar_text(Some(x))).collect())
                    .unwrap_or_default();
                w.rows.push(String::new());
            }
            FieldType::Object if crate::domain::hired_agent::is_credential_map(f) => {
                // Write-only: which keys hold a stored reference, never the reference itself.
                w.kind = "credentials";
                w.help = String::new();
                w.pairs = v
                    .and_then(Value::as_object)
                    .map(|o| {
                        o.iter()
                            .map(|(k, x)| {
                                let stored = x.as_str().is_some_and(|s| !s.is_empty());
                                (k.clone(), if stored { "1".into() } else { String::new() })
                            })
                            .collect()
                    })
                    .unwrap_or_default();
            }
            FieldType::Object => match f.sub_fields() {
                Some(sub) => {
                    w.kind = "group_start";
                    // A group shows only its own errors; its sub-fields show theirs.
                    w.error = errors
                        .iter()
                        .find(|v| v.path == path)
                        .map(|v| v.message.clone())
                        .unwrap_or_default();
                    out.push(w);
                    let empty = Value::Object(Map::new());
                    add_widgets(
                        sub,
                        &name,
                        &path,
                        v.unwrap_or(&empty),
                        errors,
                        depth + 1,
                        out,
                    );
                    out.push(Widget {
                        kind: "group_end",
                        name: name.clone(),
                        depth,
                        ..Widget::default()
                    });
                    continue;
                }
                None => {
                    w.kind = "pairs";
                    w.pairs = v
                        .and_then(Value::as_object)
                        .map(|o| {
                            o.iter()
                                .map(|(k, x)| (k.clone(), scalar_text(Some(x))))
                                .collect()
                        })
                        .unwrap_or_default();
                    w.pairs.push((String::new(), String::new()));
                }
            },
        }
        out.push(w);
    }
}

fn item_value(s: &str, item_type: Option<FieldType>) -> Value {
    match item_type {
        Some(FieldType::Number) => number_value(s, false),
        Some(FieldType::Integer) => number_value(s, true),
        _ => Value::String(s.to_string()),
    }
}

/// Widgets for a whole schema: [`widgets`], plus the keys its rules expect in a credential map
/// (a `covers` rule's options), so each has its own write-only input.
pub fn schema_widgets(
    schema: &Schema,
    prefix: &str,
    value: &Value,
    errors: &[Violation],
) -> Vec<Widget> {
    let mut out = widgets(&schema.fields, prefix, value, errors);
    for w in out.iter_mut().filter(|w| w.kind == "credentials") {
        let key = w.name.rsplit('.').next().unwrap_or(&w.name).to_string();
        if let Some(f) = schema.field(&key) {
            for k in crate::domain::hired_agent::credential_map_keys(schema, f) {
                if !w.pairs.iter().any(|(x, _)| *x == k) {
                    w.pairs.push((k, String::new()));
                }
            }
        }
    }
    out
}

/// Turns a submitted form back into typed JSON. Empty text means "no value"; `previous` supplies the
/// stored secret references that a blank secret input keeps.
pub fn parse(fields: &[Field], prefix: &str, form: &Submitted, previous: &Value) -> Value {
    let mut out = Map::new();
    for f in fields {
        let name = join(prefix, &f.key);
        let value = match f.field_type {
            FieldType::Text if f.secret_ref => match form.first(&name) {
                Some(s) if !s.is_empty() => Some(Value::String(s.to_string())),
                _ => previous.get(&f.key).cloned(),
            },
            FieldType::Text | FieldType::Enum => form
                .first(&name)
                .filter(|s| !s.is_empty())
                .map(|s| Value::String(s.to_string())),
            FieldType::Number | FieldType::Integer => form
                .first(&name)
                .filter(|s| !s.trim().is_empty())
                .map(|s| number_value(s, f.field_type == FieldType::Integer)),
            FieldType::Boolean => {
                if form.checked(&name) {
                    Some(Value::Bool(true))
                } else if form.present(&name) {
                    Some(Value::Bool(false))
                } else {
                    None
                }
            }
            FieldType::List if f.is_multi_select() => {
                let chosen = form.all(&name);
                let mut items: Vec<Value> = f
                    .options
                    .iter()
                    .flatten()
                    .filter(|o| chosen.contains(o))
                    .map(|o| Value::String(o.clone()))
                    .collect();
                // Values that are not options are kept, so validation can name them.
                items.extend(
                    chosen
                        .iter()
                        .filter(|c| !f.options.iter().flatten().any(|o| o == *c) && !c.is_empty())
                        .map(|c| Value::String(c.clone())),
                );
                (form.present(&name) || !items.is_empty()).then_some(Value::Array(items))
            }
            FieldType::List => {
                let items: Vec<Value> = form
                    .all(&name)
                    .iter()
                    .filter(|s| !s.trim().is_empty())
                    .map(|s| item_value(s, f.item_type))
                    .collect();
                (form.present(&name) || !items.is_empty()).then_some(Value::Array(items))
            }
            FieldType::Object if crate::domain::hired_agent::is_credential_map(f) => {
                // One write-only input per key: blank keeps the stored reference.
                let prev = previous.get(&f.key).and_then(Value::as_object);
                let mut obj = prev.cloned().unwrap_or_default();
                for k in form.all(&format!("{name}.{CREDENTIAL_KEYS}")) {
                    if let Some(typed) =
                        form.first(&format!("{name}.{k}")).filter(|t| !t.is_empty())
                    {
                        obj.insert(k.clone(), Value::String(typed.to_string()));
                    }
                }
                (form.present(&name) || !obj.is_empty()).then_some(Value::Object(obj))
            }
            FieldType::Object => match f.sub_fields() {
                Some(sub) => {
                    let prev = previous.get(&f.key).cloned().unwrap_or(Value::Null);
                    let v = parse(sub, &name, form, &prev);
                    let empty = v.as_object().is_some_and(|o| o.is_empty());
                    // An optional group left empty means "no value"; a required one stays {} so its
                    // sub-fields' own "is required" messages can show.
                    ((form.present(&name) && f.required) || !empty).then_some(v)
                }
                None => {
                    let keys = form.all(&format!("{name}.{PAIR_KEY}"));
                    let vals = form.all(&format!("{name}.{PAIR_VALUE}"));
                    let mut obj = Map::new();
                    for (k, v) in keys
                        .iter()
                        .zip(vals.iter().chain(std::iter::repeat(&String::new())))
                    {
                        if !k.trim().is_empty() {
                            obj.insert(k.trim().to_string(), Value::String(v.clone()));
                        }
                    }
                    (form.present(&name) || !obj.is_empty()).then_some(Value::Object(obj))
                }
            },
        };
        if let Some(v) = value {
            out.insert(f.key.clone(), v);
        }
    }
    Value::Object(out)
}

/// The names and values a browser would submit for `value` rendered by [`widgets`] (what a user who
/// changes nothing sends back). The round-trip tests use it; it mirrors the templates.
pub fn submission_of(fields: &[Field], prefix: &str, value: &Value) -> Vec<(String, String)> {
    let mut out = vec![];
    for w in widgets(fields, prefix, value, &[]) {
        match w.kind {
            "text" | "longtext" | "number" | "integer" | "select" => {
                out.push((w.name.clone(), w.value.clone()))
            }
            "radios" if !w.value.is_empty() => out.push((w.name.clone(), w.value.clone())),
            "secret" => out.push((w.name.clone(), String::new())),
            "checkbox" => {
                out.push((format!("{}.{PRESENT}", w.name), "1".into()));
                if w.checked {
                    out.push((w.name.clone(), "true".into()));
                }
            }
            "checkboxes" => {
                out.push((format!("{}.{PRESENT}", w.name), "1".into()));
                for (o, on) in &w.options {
                    if *on {
                        out.push((w.name.clone(), o.clone()));
                    }
                }
            }
            "rows" => {
                out.push((format!("{}.{PRESENT}", w.name), "1".into()));
                for r in &w.rows {
                    out.push((w.name.clone(), r.clone()));
                }
            }
            "pairs" => {
                out.push((format!("{}.{PRESENT}", w.name), "1".into()));
                for (k, v) in &w.pairs {
                    out.push((format!("{}.{PAIR_KEY}", w.name), k.clone()));
                    out.push((format!("{}.{PAIR_VALUE}", w.name), v.clone()));
                }
            }
            "group_start" => out.push((format!("{}.{PRESENT}", w.name), "1".into())),
            "credentials" => {
                out.push((format!("{}.{PRESENT}", w.name), "1".into()));
                for (k, _) in &w.pairs {
                    out.push((format!("{}.{CREDENTIAL_KEYS}", w.name), k.clone()));
                    out.push((format!("{}.{k}", w.name), String::new()));
                }
            }
            _ => {}
        }
    }
    out
}

/// The id of the widget that shows the error at `path` (a list entry's error shows on its list, a
/// free key/value entry's on its object), for links from an error summary.
pub fn owner_id(fields: &[Field], prefix: &str, path: &str) -> String {
    let ws = widgets(fields, prefix, &Value::Null, &[]);
    let full = join(prefix, path);
    ws.iter()
        .filter(|w| w.kind != "group_end")
        .filter(|w| {
            full == w.name
                || full.starts_with(&format!("{}.", w.name))
                || full.starts_with(&format!("{}[", w.name))
        })
        .max_by_key(|w| w.name.len())
        .map(|w| w.id.clone())
        .unwrap_or_else(|| dom_id(&full))
}

/// Violation paths for a form with a prefix (`risk_limits.x` → `config.risk_limits.x`), to match ids.
pub fn error_ids(fields: &[Field], prefix: &str, errors: &[Violation]) -> Vec<(String, String)> {
    widgets(fields, prefix, &Value::Null, errors)
        .into_iter()
        .filter(|w| w.kind != "group_end")
        .map(|w| (w.id, w.error))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn all_types() -> Vec<Field> {
        let mut fields = vec![
            Field::new("name", "Name", FieldType::Text),
            Field::new("ratio", "Ratio", FieldType::Number),
            Field::new("count", "Count", FieldType::Integer),
            Field::new("active", "Active", FieldType::Boolean),
            Field::new("paused", "Paused", FieldType::Boolean),
        ];
        let mut color = Field::new("color", "Color", FieldType::Enum);
        color.options = Some(vec!["red".into(), "green".into()]);
        let mut lang = Field::new("lang", "Language", FieldType::Enum);
        lang.options = Some((1..=6).map(|i| format!("l{i}")).collect());
        let mut tags = Field::new("tags", "Tags", FieldType::List);
        tags.item_type = Some(FieldType::Text);
        let mut none = Field::new("none", "None", FieldType::List);
        none.item_type = Some(FieldType::Text);
        let mut nums = Field::new("nums", "Numbers", FieldType::List);
        nums.item_type = Some(FieldType::Number);
        let mut chans = Field::new("chans", "Channels", FieldType::List);
        chans.item_type = Some(FieldType::Enum);
        chans.options = Some(vec!["a".into(), "b".into(), "c".into()]);
        let mut inner = Field::new("limit", "Limit", FieldType::Integer);
        inner.required = true;
        let mut nested = Field::new("limits", "Limits", FieldType::Object);
        nested.fields = Some(vec![inner, Field::new("note", "Note", FieldType::Text)]);
        let free = Field::new("refs", "Refs", FieldType::Object);
        let mut secret = Field::new("cred", "Credential", FieldType::Text);
        secret.secret_ref = true;
        fields.extend([color, lang, tags, none, nums, chans, nested, free, secret]);
        fields
    }

    #[test]
    fn every_widget_round_trips_exactly() {
        let fields = all_types();
        let value = json!({
            "name": "Ann", "ratio": 2.5, "count": 7, "active": true, "paused": false,
            "color": "green", "lang": "l5", "tags": ["x", "y z"], "none": [], "nums": [1, 2.25],
            "chans": ["a", "c"], "limits": {"limit": 3}, "refs": {"youtube": "CRED-1", "x": "CRED-2"},
            "cred": "CRED-abc"
        });
        let submitted = submission_of(&fields, "config", &value);
        let back = parse(&fields, "config", &Submitted::new(&submitted), &value);
        assert_eq!(back, value);
        // 2.0 stays a decimal, 2 stays an integer.
        let v2 = json!({"ratio": 2.0, "count": 2});
        let back = parse(
            &fields,
            "",
            &Submitted::new(&submission_of(&fields, "", &v2)),
            &v2,
        );
        assert_eq!(back["ratio"], json!(2.0));
        assert_eq!(back["count"], json!(2));
    }

    #[test]
    fn secrets_are_never_rendered_and_blank_keeps_the_stored_one() {
        let fields = all_types();
        let value = json!({"cred": "CRED-abc"});
        let w = widgets(&fields, "c", &value, &[]);
        let secret = w.iter().find(|w| w.kind == "secret").unwrap();
        assert!(secret.value.is_empty() && secret.has_secret);
        let form = Submitted::new(&[("c.cred".into(), String::new())]);
        assert_eq!(parse(&fields, "c", &form, &value)["cred"], "CRED-abc");
        let form = Submitted::new(&[("c.cred".into(), "CRED-new".into())]);
        assert_eq!(parse(&fields, "c", &form, &value)["cred"], "CRED-new");
    }

    #[test]
    fn typed_garbage_is_kept_for_the_error_message() {
        let fields = all_types();
        let form = Submitted::new(&[
            ("count".into(), "lots".into()),
            ("ratio".into(), "1e400".into()),
        ]);
        let v = parse(&fields, "", &form, &Value::Null);
        assert_eq!(v["count"], "lots");
        assert_eq!(v["ratio"], "1e400");
        let errs = crate::domain::schema::validate(
            &crate::domain::definition::Schema {
                fields: fields.clone(),
                rules: vec![],
            },
            &v,
            crate::domain::schema::Mode::Draft,
        );
        let w = widgets(&fields, "", &v, &errs);
        let count = w.iter().find(|w| w.name == "count").unwrap();
        assert_eq!(count.value, "lots");
        assert_eq!(count.error, "Count must be a whole number.");
    }

    #[test]
    fn widgets_follow_the_field_types() {
        let fields = all_types();
        let kinds: Vec<&str> = widgets(&fields, "", &json!({}), &[])
            .iter()
            .map(|w| w.kind)
            .collect();
        assert_eq!(
            kinds,
            [
                "text",
                "number",
                "integer",
                "checkbox",
                "checkbox",
                "radios",
                "select",
                "rows",
                "rows",
                "rows",
                "checkboxes",
                "group_start",
                "integer",
                "text",
                "group_end",
                "pairs",
                "secret"
            ]
        );
        let errs = vec![
            Violation::new("limits.limit", "Limit is required."),
            Violation::new("tags[1]", "Tags (entry 2) is too long."),
        ];
        let w = widgets(&fields, "config", &json!({}), &errs);
        assert_eq!(
            w.iter()
                .find(|w| w.name == "config.limits.limit")
                .unwrap()
                .error,
            "Limit is required."
        );
        assert_eq!(
            w.iter().find(|w| w.name == "config.tags").unwrap().error,
            "Tags (entry 2) is too long."
        );
        assert_eq!(
            w.iter()
                .find(|w| w.name == "config.limits.limit")
                .unwrap()
                .id,
            "f-config-limits-limit"
        );
    }
}
