//! Reading a definition document, and saying where a malformed one is wrong: serde's own messages
//! name the problem but not the place, so the document is walked to find it.

use serde_json::Value;

use super::*;
use crate::error::Violation;

pub(super) fn serde_path_to_error_like(value: &Value) -> Result<Definition, Vec<Violation>> {
    match serde_json::from_value::<Definition>(value.clone()) {
        Ok(d) => Ok(d),
        Err(e) => {
            let mut v = vec![];
            locate_shape_errors(value, &mut v);
            if v.is_empty() {
                v.push(Violation::new(
                    "",
                    format!("The document is not a valid definition: {e}."),
                ));
            }
            Err(v)
        }
    }
}

const DEFINITION_KEYS: &[&str] = &[
    "agent_type_id",
    "version",
    "display_name",
    "description",
    "config_schema",
    "goal_templates",
    "enforcement_defaults",
];
const SCHEMA_KEYS: &[&str] = &["fields", "rules"];
/// Every property a field may have, in the order editors show them.
pub const FIELD_KEYS: &[&str] = &[
    "key",
    "label",
    "type",
    "required",
    "description",
    "options",
    "item_type",
    "default",
    "min",
    "max",
    "exclusive_min",
    "min_length",
    "max_length",
    "pattern",
    "min_items",
    "max_items",
    "secret_ref",
    "fields",
];
const TEMPLATE_KEYS: &[&str] = &[
    "goal_template_id",
    "name",
    "default_frequency",
    "allowed_frequencies",
    "settings_schema",
    "skill_binding",
    "description",
];
const ENFORCEMENT_KEYS: &[&str] = &["approval_required", "deterministic"];

/// Names every property that the format does not have (typos would otherwise vanish silently).
fn unknown_keys(
    obj: &serde_json::Map<String, Value>,
    known: &[&str],
    path: &str,
    out: &mut Vec<Violation>,
) {
    for k in obj.keys().filter(|k| !known.contains(&k.as_str())) {
        let p = if path.is_empty() {
            k.clone()
        } else {
            format!("{path}.{k}")
        };
        out.push(Violation::new(
            p,
            format!("There is no property {k:?} here."),
        ));
    }
}

/// Optional text properties must be text (or null).
fn optional_strings(
    obj: &serde_json::Map<String, Value>,
    keys: &[&str],
    path: &str,
    out: &mut Vec<Violation>,
) {
    for k in keys {
        if let Some(v) = obj.get(*k)
            && !(v.is_string() || v.is_null())
        {
            let p = if path.is_empty() {
                (*k).to_string()
            } else {
                format!("{path}.{k}")
            };
            out.push(Violation::new(p, "Must be text."));
        }
    }
}

fn locate_shape_errors(doc: &Value, out: &mut Vec<Violation>) {
    let Some(obj) = doc.as_object() else {
        out.push(Violation::new("", "A definition must be a JSON object."));
        return;
    };
    unknown_keys(obj, DEFINITION_KEYS, "", out);
    for key in ["agent_type_id", "version"] {
        match obj.get(key) {
            Some(Value::String(_)) => {}
            Some(_) => out.push(Violation::new(key, "Must be a string.")),
            None => out.push(Violation::new(key, "Is required.")),
        }
    }
    for key in ["display_name", "description"] {
        if let Some(v) = obj.get(key)
            && !(v.is_string() || v.is_null())
        {
            out.push(Violation::new(key, "Must be a string."));
        }
    }
    if let Some(s) = obj.get("config_schema") {
        locate_schema_errors(s, "config_schema", out);
    }
    match obj.get("goal_templates") {
        None | Some(Value::Null) => {}
        Some(Value::Array(ts)) => {
            for (i, t) in ts.iter().enumerate() {
                let p = format!("goal_templates[{i}]");
                let Some(to) = t.as_object() else {
                    out.push(Violation::new(p, "A goal template must be an object."));
                    continue;
                };
                unknown_keys(to, TEMPLATE_KEYS, &p, out);
                optional_strings(to, &["skill_binding", "description"], &p, out);
                for key in ["goal_template_id", "name", "default_frequency"] {
                    if !to.get(key).is_some_and(Value::is_string) {
                        out.push(Violation::new(
                            format!("{p}.{key}"),
                            "Is required and must be a string.",
                        ));
                    }
                }
                if let Some(s) = to.get("settings_schema") {
                    locate_schema_errors(s, &format!("{p}.settings_schema"), out);
                }
                if let Some(a) = to.get("allowed_frequencies")
                    && !(a.is_null()
                        || a.as_array().is_some_and(|a| a.iter().all(Value::is_string)))
                {
                    out.push(Violation::new(
                        format!("{p}.allowed_frequencies"),
                        "Must be a list of frequencies.",
                    ));
                }
            }
        }
        Some(_) => out.push(Violation::new("goal_templates", "Must be a list.")),
    }
    if let Some(e) = obj.get("enforcement_defaults") {
        match e.as_object() {
            None => out.push(Violation::new("enforcement_defaults", "Must be an object.")),
            Some(eo) => {
                unknown_keys(eo, ENFORCEMENT_KEYS, "enforcement_defaults", out);
                for key in ["approval_required", "deterministic"] {
                    if let Some(v) = eo.get(key)
                        && !v.is_boolean()
                    {
                        out.push(Violation::new(
                            format!("enforcement_defaults.{key}"),
                            "Must be true or false.",
                        ));
                    }
                }
            }
        }
    }
}

fn locate_schema_errors(s: &Value, path: &str, out: &mut Vec<Violation>) {
    let Some(so) = s.as_object() else {
        out.push(Violation::new(
            path,
            "Must be an object with a list of fields.",
        ));
        return;
    };
    unknown_keys(so, SCHEMA_KEYS, path, out);
    match so.get("fields") {
        None => {}
        Some(Value::Array(fs)) => locate_fields_errors(fs, &format!("{path}.fields"), out),
        Some(_) => out.push(Violation::new(
            format!("{path}.fields"),
            "Must be a list of fields.",
        )),
    }
    if let Some(rules) = so.get("rules") {
        match rules.as_array() {
            None => out.push(Violation::new(
                format!("{path}.rules"),
                "Must be a list of rules.",
            )),
            Some(rs) => {
                for (i, r) in rs.iter().enumerate() {
                    let p = format!("{path}.rules[{i}]");
                    let kind = r.get("kind").and_then(Value::as_str);
                    let needs: &[&str] = match kind {
                        Some("member_of") => &["field", "of"],
                        Some("covers") => &["field", "keys_from"],
                        _ => {
                            out.push(Violation::new(
                                format!("{p}.kind"),
                                "A rule's kind is member_of or covers.",
                            ));
                            continue;
                        }
                    };
                    for k in needs {
                        if !r.get(*k).is_some_and(Value::is_string) {
                            out.push(Violation::new(format!("{p}.{k}"), "Name a field here."));
                        }
                    }
                }
            }
        }
    }
}

fn locate_fields_errors(fs: &[Value], path: &str, out: &mut Vec<Violation>) {
    for (i, f) in fs.iter().enumerate() {
        let p = format!("{path}[{i}]");
        let Some(fo) = f.as_object() else {
            out.push(Violation::new(p, "A field must be an object."));
            continue;
        };
        unknown_keys(fo, FIELD_KEYS, &p, out);
        optional_strings(fo, &["description", "pattern"], &p, out);
        for key in ["key", "label"] {
            if !fo.get(key).is_some_and(Value::is_string) {
                out.push(Violation::new(
                    format!("{p}.{key}"),
                    "Is required and must be a string.",
                ));
            }
        }
        match fo.get("type").and_then(Value::as_str) {
            Some(t) if FieldType::parse(t).is_some() => {}
            _ => out.push(Violation::new(
                format!("{p}.type"),
                "Unknown type: use text, enum, list, object, boolean, number or integer.",
            )),
        }
        if let Some(it) = fo.get("item_type")
            && !it.is_null()
            && it.as_str().is_none_or(|t| FieldType::parse(t).is_none())
        {
            out.push(Violation::new(
                format!("{p}.item_type"),
                "Unknown item type.",
            ));
        }
        for key in ["required", "secret_ref", "exclusive_min"] {
            if let Some(v) = fo.get(key)
                && !v.is_boolean()
            {
                out.push(Violation::new(
                    format!("{p}.{key}"),
                    "Must be true or false.",
                ));
            }
        }
        if let Some(o) = fo.get("options")
            && !(o.is_null() || o.as_array().is_some_and(|a| a.iter().all(Value::is_string)))
        {
            out.push(Violation::new(
                format!("{p}.options"),
                "Options must be a list of strings.",
            ));
        }
        for key in ["min", "max"] {
            if let Some(v) = fo.get(key)
                && !(v.is_null() || v.is_number())
            {
                out.push(Violation::new(format!("{p}.{key}"), "Must be a number."));
            }
        }
        for key in ["min_length", "max_length", "min_items", "max_items"] {
            if let Some(v) = fo.get(key)
                && !(v.is_null() || v.is_u64())
            {
                out.push(Violation::new(
                    format!("{p}.{key}"),
                    "Must be a whole number, 0 or more.",
                ));
            }
        }
        if let Some(sub) = fo.get("fields") {
            match sub {
                Value::Null => {}
                Value::Array(a) => locate_fields_errors(a, &format!("{p}.fields"), out),
                _ => out.push(Violation::new(
                    format!("{p}.fields"),
                    "Sub-fields must be a list of fields.",
                )),
            }
        }
    }
}
