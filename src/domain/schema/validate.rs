//! Validating a config or goal settings: the JSON Schema validator over the export, our `rules`, the
//! raw-secret scan, and every error turned into a sentence that names the field.

use serde_json::{Value, json};

use super::*;
use crate::domain::definition::{Field, FieldType, Rule, Schema};
use crate::error::Violation;

fn resolve<'a>(
    fields: &'a [Field],
    pointer: &[String],
) -> (Option<&'a Field>, String, Option<usize>) {
    let (f, path, item, _) = resolve_entry(fields, pointer);
    (f, path, item)
}

/// Like [`resolve`], also naming the entry of a free key/value object the pointer ends in.
#[allow(clippy::type_complexity)]
fn resolve_entry<'a>(
    fields: &'a [Field],
    pointer: &[String],
) -> (Option<&'a Field>, String, Option<usize>, Option<String>) {
    let mut entry = None;
    let mut path = String::new();
    let mut current: Option<&Field> = None;
    let mut level: &[Field] = fields;
    let mut item = None;
    for seg in pointer {
        match current {
            Some(f) if f.field_type == FieldType::List => {
                path.push_str(&format!("[{seg}]"));
                item = seg.parse().ok();
            }
            Some(f) if f.field_type == FieldType::Object && f.sub_fields().is_none() => {
                path.push('.');
                path.push_str(seg);
                entry = Some(seg.clone());
            }
            _ => {
                if !path.is_empty() {
                    path.push('.');
                }
                path.push_str(seg);
                let found = level.iter().find(|f| &f.key == seg);
                if let Some(f) = found {
                    level = f.sub_fields().unwrap_or(&[]);
                    item = None;
                }
                current = found;
            }
        }
    }
    (current, path, item, entry)
}

fn label_of(f: Option<&Field>, path: &str, item: Option<usize>) -> String {
    match (f, item) {
        (Some(f), Some(i)) => format!("{} (entry {})", f.label, i + 1),
        (Some(f), None) => f.label.clone(),
        (None, _) => path.to_string(),
    }
}

fn show_number(v: &Value) -> String {
    v.to_string()
}

/// Validates a value (a config, or goal settings) against a schema's fields and rules.
pub fn validate(schema: &Schema, value: &Value, mode: Mode) -> Vec<Violation> {
    // An explicit null means "no value", as an absent key does.
    let value = &without_nulls(value);
    let mut s = object_schema(&schema.fields, mode == Mode::Complete);
    s.as_object_mut()
        .unwrap()
        .insert("$schema".into(), json!(JSON_SCHEMA_DIALECT));
    // The raw-secret scan first: for a secret under an unknown key, "this is a raw secret" says
    // more than "not a field of this form" (one message per path is kept).
    let mut out = vec![];
    scan_raw_secrets(value, "", &mut out);
    match compiled(&s) {
        Err(e) => out.push(Violation::new(
            "",
            format!("The form's definition is broken: {e}"),
        )),
        Ok(validator) => {
            for err in validator.iter_errors(value) {
                let pointer: Vec<String> = err
                    .instance_path()
                    .segments()
                    .map(|s| s.to_string())
                    .collect();
                push_error(&schema.fields, &pointer, err.kind(), &mut out);
            }
        }
    }
    for r in &schema.rules {
        check_rule(schema, r, value, mode, &mut out);
    }
    dedupe(out)
}

fn without_nulls(v: &Value) -> Value {
    match v {
        Value::Object(m) => Value::Object(
            m.iter()
                .filter(|(_, x)| !x.is_null())
                .map(|(k, x)| (k.clone(), without_nulls(x)))
                .collect(),
        ),
        Value::Array(a) => Value::Array(a.iter().map(without_nulls).collect()),
        other => other.clone(),
    }
}

fn dedupe(v: Vec<Violation>) -> Vec<Violation> {
    let mut out: Vec<Violation> = vec![];
    for x in v {
        if !out.iter().any(|o| o.path == x.path) {
            out.push(x);
        }
    }
    out
}

fn push_error(
    fields: &[Field],
    pointer: &[String],
    kind: &jsonschema::error::ValidationErrorKind,
    out: &mut Vec<Violation>,
) {
    use jsonschema::error::ValidationErrorKind as K;
    let (field, path, item, entry) = resolve_entry(fields, pointer);
    let label = match (&entry, field) {
        (Some(e), Some(f)) => format!("{} ({e})", f.label),
        _ => label_of(field, &path, item),
    };
    let message = match kind {
        K::Required { property } => {
            let prop = property.as_str().unwrap_or_default().to_string();
            let mut p = pointer.to_vec();
            p.push(prop);
            let (f, path, _) = resolve(fields, &p);
            out.push(Violation::new(
                path.clone(),
                format!("{} is required.", label_of(f, &path, None)),
            ));
            return;
        }
        K::AdditionalProperties { unexpected } => {
            for name in unexpected {
                let p = if path.is_empty() {
                    name.clone()
                } else {
                    format!("{path}.{name}")
                };
                out.push(Violation::new(
                    p,
                    format!("{name} is not a field of this form."),
                ));
            }
            return;
        }
        K::Type { .. } => {
            let t = match (field, item) {
                _ if entry.is_some() => FieldType::Text,
                (Some(f), Some(_)) => f.item_type.unwrap_or(FieldType::Text),
                (Some(f), None) => f.field_type,
                (None, _) => FieldType::Text,
            };
            match t {
                FieldType::Number => format!("{label} must be a number."),
                FieldType::Integer => format!("{label} must be a whole number."),
                FieldType::Boolean => format!("{label} must be yes or no."),
                FieldType::List => format!("{label} must be a list."),
                FieldType::Object => format!("{label} must be a group of values."),
                FieldType::Text | FieldType::Enum => format!("{label} must be text."),
            }
        }
        K::Enum { options } => {
            let opts: Vec<String> = options
                .as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|v| v.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default();
            format!("{label} must be one of: {}.", opts.join(", "))
        }
        K::Minimum { limit } => format!("{label} must be at least {}.", show_number(limit)),
        K::ExclusiveMinimum { limit } => {
            format!("{label} must be greater than {}.", show_number(limit))
        }
        K::Maximum { limit } => format!("{label} must be at most {}.", show_number(limit)),
        K::ExclusiveMaximum { limit } => {
            format!("{label} must be less than {}.", show_number(limit))
        }
        K::MinLength { limit } if *limit == 1 && field.is_some_and(|f| f.required) => {
            format!("{label} is required.")
        }
        K::MinLength { limit } => format!("{label} must be at least {limit} characters long."),
        K::MaxLength { limit } => format!("{label} must be at most {limit} characters long."),
        K::Pattern { .. } if field.is_some_and(|f| f.secret_ref) => {
            format!(
                "{label} takes a stored credential reference (CRED-…); raw secrets are never kept in the configuration."
            )
        }
        K::Pattern { .. } => format!("{label} is not in the expected format."),
        K::MinItems { limit } => format!(
            "{label} needs at least {limit} entr{}.",
            if *limit == 1 { "y" } else { "ies" }
        ),
        K::MaxItems { limit } => format!(
            "{label} allows at most {limit} entr{}.",
            if *limit == 1 { "y" } else { "ies" }
        ),
        K::UniqueItems => format!("{label} lists the same value twice."),
        _ => format!("{label} is not valid."),
    };
    out.push(Violation::new(path, message));
}

fn is_present(v: Option<&Value>) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::String(s)) => !s.trim().is_empty(),
        Some(_) => true,
    }
}

fn check_rule(schema: &Schema, rule: &Rule, value: &Value, mode: Mode, out: &mut Vec<Violation>) {
    let label = |key: &str| {
        schema
            .field(key)
            .map(|f| f.label.clone())
            .unwrap_or_else(|| key.to_string())
    };
    match rule {
        Rule::MemberOf { field, of } => {
            let (Some(v), Some(list)) = (value.get(field), value.get(of).and_then(Value::as_array))
            else {
                return;
            };
            if is_present(Some(v)) && !list.contains(v) {
                out.push(Violation::new(
                    field.clone(),
                    format!(
                        "{} must be one of the {}.",
                        label(field),
                        label(of).to_lowercase()
                    ),
                ));
            }
        }
        Rule::Covers { field, keys_from } => {
            let Some(keys) = value.get(keys_from).and_then(Value::as_array) else {
                return;
            };
            let obj = value.get(field).and_then(Value::as_object);
            if obj.is_none() && mode == Mode::Draft {
                return;
            }
            let missing: Vec<String> = keys
                .iter()
                .filter_map(Value::as_str)
                .filter(|k| !is_present(obj.and_then(|o| o.get(*k))))
                .map(str::to_string)
                .collect();
            if !missing.is_empty() {
                out.push(Violation::new(
                    field.clone(),
                    format!(
                        "{} needs an entry for each of the {} (missing: {}).",
                        label(field),
                        label(keys_from).to_lowercase(),
                        missing.join(", ")
                    ),
                ));
            }
        }
    }
}

/// Required values that are missing, as a list for "still to fill in".
pub fn missing_required(schema: &Schema, value: &Value) -> Vec<Violation> {
    let mut out = vec![];
    missing_in(&schema.fields, value, "", &mut out);
    out
}

fn missing_in(fields: &[Field], value: &Value, prefix: &str, out: &mut Vec<Violation>) {
    for f in fields {
        let path = crate::domain::paths::join(prefix, &f.key);
        let v = value.get(&f.key);
        if f.required && !is_present(v) {
            out.push(Violation::new(
                path.clone(),
                format!("{} is required.", f.label),
            ));
        }
        if let (Some(sub), Some(v)) = (f.sub_fields(), v)
            && v.is_object()
        {
            missing_in(sub, v, &path, out);
        }
    }
}

/// The config with defaults filled in where a value is missing (also inside objects).
pub fn with_defaults(fields: &[Field], value: &Value) -> Value {
    let mut out = value.as_object().cloned().unwrap_or_default();
    for f in fields {
        match out.get(&f.key) {
            None | Some(Value::Null) => {
                if let Some(d) = &f.default {
                    out.insert(f.key.clone(), d.clone());
                } else if let Some(sub) = f.sub_fields() {
                    // An absent object gets one only when some of its sub-fields have defaults.
                    let filled = with_defaults(sub, &Value::Object(Map::new()));
                    if filled.as_object().is_some_and(|o| !o.is_empty()) {
                        out.insert(f.key.clone(), filled);
                    }
                }
            }
            Some(v) => {
                if let Some(sub) = f.sub_fields()
                    && v.is_object()
                {
                    let filled = with_defaults(sub, v);
                    out.insert(f.key.clone(), filled);
                }
            }
        }
    }
    Value::Object(out)
}
