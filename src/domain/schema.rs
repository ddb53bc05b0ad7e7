//! A definition's fields as standard JSON Schema (draft 2020-12), and validation of a config or of goal
//! settings: the `jsonschema` crate checks the export, our code adds the `rules` and the raw-secret scan
//! and turns every error into a sentence that names the field.

use serde_json::{Map, Value, json};

use super::definition::{Field, FieldType, Rule, Schema};
use crate::error::Violation;

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
    let mut out = vec![];
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
    scan_raw_secrets(value, "", &mut out);
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

const SECRET_NAMES: [&str; 8] = [
    "api_key",
    "api_secret",
    "client_secret",
    "access_token",
    "refresh_token",
    "password",
    "private_key",
    "secret_key",
];
const SECRET_SUFFIXES: [&str; 5] = [
    "_token",
    "_secret",
    "_private_key",
    "_api_key",
    "_api_secret",
];

/// True for a key that names a secret (SPEC §5).
pub fn is_secret_name(key: &str) -> bool {
    let k = key.to_lowercase();
    SECRET_NAMES.contains(&k.as_str()) || SECRET_SUFFIXES.iter().any(|s| k.ends_with(s))
}

/// Refuses raw secrets anywhere in a config: a secret-named key holding a non-empty string that is not
/// a credential reference.
pub fn scan_raw_secrets(value: &Value, path: &str, out: &mut Vec<Violation>) {
    match value {
        Value::Object(map) => {
            for (k, v) in map {
                let p = if path.is_empty() {
                    k.clone()
                } else {
                    format!("{path}.{k}")
                };
                if is_secret_name(k)
                    && let Value::String(s) = v
                    && !s.trim().is_empty()
                    && !s.starts_with("CRED-")
                {
                    out.push(Violation::new(
                        p.clone(),
                        format!("{k} looks like a raw secret; store it as a credential and keep only its reference (CRED-…)."),
                    ));
                }
                scan_raw_secrets(v, &p, out);
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                scan_raw_secrets(v, &format!("{path}[{i}]"), out);
            }
        }
        _ => {}
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
        let path = super::paths::join(prefix, &f.key);
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

#[cfg(test)]
mod tests {
    use super::*;

    fn schema() -> Schema {
        let mut coin = Field::new("default_coin", "Default coin", FieldType::Text);
        coin.required = true;
        let mut coins = Field::new("allowed_coins", "Allowed coins", FieldType::List);
        coins.item_type = Some(FieldType::Text);
        let mut units = Field::new(
            "max_units_per_order",
            "Max units per order",
            FieldType::Integer,
        );
        units.required = true;
        units.min = Some(1.0);
        let mut risk = Field::new("risk_limits", "Risk limits", FieldType::Object);
        risk.required = true;
        risk.fields = Some(vec![units]);
        let mut secret = Field::new(
            "exchange_credential_ref",
            "Exchange credential ref",
            FieldType::Text,
        );
        secret.secret_ref = true;
        Schema {
            fields: vec![coin, coins, risk, secret],
            rules: vec![Rule::MemberOf {
                field: "default_coin".into(),
                of: "allowed_coins".into(),
            }],
        }
    }

    #[test]
    fn errors_name_the_field_in_words() {
        let s = schema();
        let v = json!({"default_coin": "DOGE", "allowed_coins": ["BTC"], "risk_limits": {"max_units_per_order": 0}, "exchange_credential_ref": "sk_live_123"});
        let e = validate(&s, &v, Mode::Complete);
        let by_path = |p: &str| {
            e.iter()
                .find(|v| v.path == p)
                .map(|v| v.message.clone())
                .unwrap_or_default()
        };
        assert_eq!(
            by_path("default_coin"),
            "Default coin must be one of the allowed coins."
        );
        assert_eq!(
            by_path("risk_limits.max_units_per_order"),
            "Max units per order must be at least 1."
        );
        assert!(by_path("exchange_credential_ref").contains("raw secrets are never kept"));
    }

    #[test]
    fn draft_mode_allows_missing_but_not_wrong() {
        let s = schema();
        assert!(validate(&s, &json!({}), Mode::Draft).is_empty());
        let complete = validate(&s, &json!({}), Mode::Complete);
        assert!(
            complete
                .iter()
                .any(|v| v.path == "default_coin" && v.message == "Default coin is required.")
        );
        let missing = missing_required(&s, &json!({"risk_limits": {}}));
        assert_eq!(
            missing.iter().map(|v| v.path.as_str()).collect::<Vec<_>>(),
            ["default_coin", "risk_limits.max_units_per_order"]
        );
        let wrong = validate(
            &s,
            &json!({"risk_limits": {"max_units_per_order": "lots"}}),
            Mode::Draft,
        );
        assert_eq!(
            wrong[0].message,
            "Max units per order must be a whole number."
        );
        assert!(
            validate(&s, &json!({"surprise": 1}), Mode::Draft)[0]
                .message
                .contains("not a field of this form")
        );
    }

    #[test]
    fn raw_secrets_are_refused_anywhere() {
        let mut out = vec![];
        scan_raw_secrets(
            &json!({"constraints": {"x": [{"api_key": "abc"}], "okay": "fine"}, "github_token": "ghp_x", "ref": {"client_secret": "CRED-1"}}),
            "",
            &mut out,
        );
        let paths: Vec<&str> = out.iter().map(|v| v.path.as_str()).collect();
        assert_eq!(paths, ["constraints.x[0].api_key", "github_token"]);
    }
}

#[cfg(test)]
mod constraint_messages {
    use super::*;

    fn one(f: Field, value: Value) -> Vec<String> {
        let s = Schema {
            fields: vec![f],
            rules: vec![],
        };
        validate(&s, &json!({ "x": value }), Mode::Complete)
            .into_iter()
            .map(|v| format!("{}: {}", v.path, v.message))
            .collect()
    }

    #[test]
    fn every_constraint_has_its_own_sentence() {
        let mut t = Field::new("x", "Name", FieldType::Text);
        t.min_length = Some(3);
        t.max_length = Some(5);
        t.pattern = Some("^[a-z]+$".into());
        assert_eq!(
            one(t.clone(), json!("ab")),
            ["x: Name must be at least 3 characters long."]
        );
        assert_eq!(
            one(t.clone(), json!("abcdefg")),
            ["x: Name must be at most 5 characters long."]
        );
        assert_eq!(
            one(t.clone(), json!("AB1")),
            ["x: Name is not in the expected format."]
        );
        assert_eq!(one(t, json!(7)), ["x: Name must be text."]);

        let mut n = Field::new("x", "Units", FieldType::Number);
        n.min = Some(0.0);
        n.exclusive_min = true;
        n.max = Some(10.0);
        assert_eq!(
            one(n.clone(), json!(0)),
            ["x: Units must be greater than 0."]
        );
        assert_eq!(one(n.clone(), json!(11)), ["x: Units must be at most 10."]);
        assert_eq!(one(n, json!("7")), ["x: Units must be a number."]);
        let mut i = Field::new("x", "Interval", FieldType::Integer);
        i.min = Some(1.0);
        assert_eq!(
            one(i.clone(), json!(0)),
            ["x: Interval must be at least 1."]
        );
        assert_eq!(one(i, json!(1.5)), ["x: Interval must be a whole number."]);

        let mut e = Field::new("x", "Theme", FieldType::Enum);
        e.options = Some(vec!["dark".into(), "light".into()]);
        assert_eq!(
            one(e, json!("pink")),
            ["x: Theme must be one of: dark, light."]
        );
        assert_eq!(
            one(Field::new("x", "Active", FieldType::Boolean), json!("yes")),
            ["x: Active must be yes or no."]
        );

        let mut l = Field::new("x", "Platforms", FieldType::List);
        l.item_type = Some(FieldType::Enum);
        l.options = Some(vec!["x".into(), "youtube".into()]);
        l.min_items = Some(1);
        l.max_items = Some(1);
        assert_eq!(
            one(l.clone(), json!([])),
            ["x: Platforms needs at least 1 entry."]
        );
        assert_eq!(
            one(l.clone(), json!(["x", "youtube"])),
            ["x: Platforms allows at most 1 entry."]
        );
        assert_eq!(
            one(l.clone(), json!(["tiktok"])),
            ["x[0]: Platforms (entry 1) must be one of: x, youtube."]
        );
        l.max_items = None;
        assert_eq!(
            one(l, json!(["x", "x"])),
            ["x: Platforms lists the same value twice."]
        );

        let mut sub = Field::new("limit", "Limit", FieldType::Integer);
        sub.required = true;
        let mut o = Field::new("x", "Limits", FieldType::Object);
        o.fields = Some(vec![sub]);
        assert_eq!(one(o.clone(), json!({})), ["x.limit: Limit is required."]);
        assert_eq!(
            one(o, json!({"limit": 1, "other": 2})),
            ["x.other: other is not a field of this form."]
        );
        assert_eq!(
            one(Field::new("x", "Refs", FieldType::Object), json!({"yt": 5})),
            ["x.yt: Refs (yt) must be text."]
        );
    }

    #[test]
    fn rules_name_the_fields_in_words() {
        let mut platforms = Field::new("platforms_enabled", "Platforms enabled", FieldType::List);
        platforms.item_type = Some(FieldType::Text);
        let creds = Field::new(
            "platform_credentials",
            "Per-platform credential refs",
            FieldType::Object,
        );
        let s = Schema {
            fields: vec![platforms, creds],
            rules: vec![Rule::Covers {
                field: "platform_credentials".into(),
                keys_from: "platforms_enabled".into(),
            }],
        };
        let e = validate(
            &s,
            &json!({"platforms_enabled": ["youtube", "x"], "platform_credentials": {"x": "CRED-1", "youtube": ""}}),
            Mode::Complete,
        );
        assert_eq!(e[0].path, "platform_credentials");
        assert_eq!(
            e[0].message,
            "Per-platform credential refs needs an entry for each of the platforms enabled (missing: youtube)."
        );
        // Draft mode: an object not filled in yet is not an error.
        assert!(validate(&s, &json!({"platforms_enabled": ["youtube"]}), Mode::Draft).is_empty());
        assert!(
            !validate(
                &s,
                &json!({"platforms_enabled": ["youtube"]}),
                Mode::Complete
            )
            .is_empty()
        );
    }
}
