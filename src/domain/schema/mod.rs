//! A definition's fields as standard JSON Schema (draft 2020-12), and validation of a config or of goal
//! settings: the `jsonschema` crate checks the export, our code adds the `rules` and the raw-secret scan
//! and turns every error into a sentence that names the field.

use serde_json::{Map, Value, json};

use super::definition::{Field, FieldType, Schema};

pub const JSON_SCHEMA_DIALECT: &str = "https://json-schema.org/draft/2020-12/schema";
/// What a stored credential reference looks like.
pub const CREDENTIAL_REF_PATTERN: &str = "^CRED-[A-Za-z0-9-]+$";

/// Builds a validator the one way every validator is built: patterns run on the `regex` engine,
/// which matches in time linear in the input (no look-around, no back-references), so no definition
/// can make validation take exponential time.
pub fn build_validator(schema: &Value) -> Result<jsonschema::Validator, String> {
    jsonschema::draft202012::options()
        .with_pattern_options(
            jsonschema::PatternOptions::regex()
                .size_limit(1 << 20)
                .dfa_size_limit(1 << 20),
        )
        .build(schema)
        .map_err(|e| e.to_string())
}

/// Validators by exported schema: a published version never changes, so its validators are
/// compiled once per process and shared (a draft's content is its own key).
fn compiled(schema: &Value) -> Result<std::sync::Arc<jsonschema::Validator>, String> {
    use std::collections::HashMap;
    use std::sync::{Arc, Mutex, OnceLock};
    const MAX_CACHED: usize = 512;
    static CACHE: OnceLock<Mutex<HashMap<String, Arc<jsonschema::Validator>>>> = OnceLock::new();
    let cache = CACHE.get_or_init(Default::default);
    let key = schema.to_string();
    if let Some(v) = cache.lock().expect("not poisoned").get(&key) {
        return Ok(v.clone());
    }
    let v = Arc::new(build_validator(schema)?);
    let mut map = cache.lock().expect("not poisoned");
    if map.len() >= MAX_CACHED {
        // Editing drafts makes new keys; start afresh rather than grow without bound.
        map.clear();
    }
    map.insert(key, v.clone());
    Ok(v)
}

/// Complete: required values must be there (this decides `configured`). Draft: missing values are
/// allowed (and listed by [`missing_required`]), but every value present must be valid.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    Complete,
    Draft,
}

fn field_schema(f: &Field, required: bool) -> Value {
    let mut s = Map::new();
    s.insert("title".into(), json!(f.label));
    if let Some(d) = &f.description {
        s.insert("description".into(), json!(d));
    }
    if let Some(d) = &f.default {
        s.insert("default".into(), d.clone());
    }
    match f.field_type {
        FieldType::Text => {
            s.insert("type".into(), json!("string"));
            // A required text must not be empty (complete mode): "" is no answer.
            let min = match (f.min_length, required && f.required) {
                (Some(n), true) => Some(n.max(1)),
                (None, true) => Some(1),
                (n, false) => n,
            };
            if let Some(n) = min {
                s.insert("minLength".into(), json!(n));
            }
            if let Some(n) = f.max_length {
                s.insert("maxLength".into(), json!(n));
            }
            if f.secret_ref {
                s.insert("pattern".into(), json!(CREDENTIAL_REF_PATTERN));
                s.insert("writeOnly".into(), json!(true));
            } else if let Some(p) = &f.pattern {
                s.insert("pattern".into(), json!(p));
            }
        }
        FieldType::Enum => {
            s.insert("type".into(), json!("string"));
            s.insert("enum".into(), json!(f.options.clone().unwrap_or_default()));
        }
        FieldType::Boolean => {
            s.insert("type".into(), json!("boolean"));
        }
        FieldType::Number | FieldType::Integer => {
            s.insert(
                "type".into(),
                json!(if f.field_type == FieldType::Integer {
                    "integer"
                } else {
                    "number"
                }),
            );
            if let Some(m) = f.min {
                s.insert(
                    if f.exclusive_min {
                        "exclusiveMinimum"
                    } else {
                        "minimum"
                    }
                    .into(),
                    number(m),
                );
            }
            if let Some(m) = f.max {
                s.insert("maximum".into(), number(m));
            }
        }
        FieldType::List => {
            s.insert("type".into(), json!("array"));
            let item = match f.item_type.unwrap_or(FieldType::Text) {
                FieldType::Enum => {
                    json!({"type": "string", "enum": f.options.clone().unwrap_or_default()})
                }
                FieldType::Number => json!({"type": "number"}),
                FieldType::Integer => json!({"type": "integer"}),
                _ => json!({"type": "string"}),
            };
            if f.is_multi_select() {
                s.insert("uniqueItems".into(), json!(true));
            }
            s.insert("items".into(), item);
            // A required list needs at least one entry (complete mode): [] is no answer.
            let min = match (f.min_items, required && f.required) {
                (Some(n), true) => Some(n.max(1)),
                (None, true) => Some(1),
                (n, false) => n,
            };
            if let Some(n) = min {
                s.insert("minItems".into(), json!(n));
            }
            if let Some(n) = f.max_items {
                s.insert("maxItems".into(), json!(n));
            }
        }
        FieldType::Object => {
            s.insert("type".into(), json!("object"));
            match f.sub_fields() {
                Some(sub) => {
                    let obj = object_schema(sub, required);
                    for (k, v) in obj.as_object().unwrap() {
                        s.insert(k.clone(), v.clone());
                    }
                }
                // Free key/value pairs: text values.
                None => {
                    s.insert("additionalProperties".into(), json!({"type": "string"}));
                }
            }
        }
    }
    Value::Object(s)
}

fn number(n: f64) -> Value {
    if n.fract() == 0.0 && n.abs() < 9e15 {
        json!(n as i64)
    } else {
        json!(n)
    }
}

fn object_schema(fields: &[Field], with_required: bool) -> Value {
    let mut props = Map::new();
    let mut required = vec![];
    for f in fields {
        props.insert(f.key.clone(), field_schema(f, with_required));
        if f.required && with_required {
            required.push(json!(f.key));
        }
    }
    let mut s = json!({"type": "object", "properties": props, "additionalProperties": false});
    if !required.is_empty() {
        s["required"] = Value::Array(required);
    }
    s
}

/// The standard JSON Schema document for a set of fields (complete mode: with `required`).
pub fn export(schema: &Schema, title: &str, id: Option<&str>) -> Value {
    let mut s = object_schema(&schema.fields, true);
    let o = s.as_object_mut().unwrap();
    o.insert("$schema".into(), json!(JSON_SCHEMA_DIALECT));
    if let Some(id) = id {
        o.insert("$id".into(), json!(id));
    }
    o.insert("title".into(), json!(title));
    s
}

/// Walks a JSON pointer through the fields: the field it lands on and our dotted path for it.
mod secrets;
#[cfg(test)]
mod tests;
mod validate;

pub use secrets::{is_secret_name, scan_raw_secrets};
pub use validate::{missing_required, validate, with_defaults};
