//! Meta-validation: everything wrong with a definition before it may be stored, each problem with
//! its JSON path. Sizes are checked by `domain::limits`; patterns must compile on the linear-time
//! engine.

use std::collections::HashSet;

use super::*;
use crate::error::Violation;

fn valid_type_id(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 100
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || b"._-".contains(c))
}

fn valid_key(s: &str) -> bool {
    let b = s.as_bytes();
    !b.is_empty()
        && b.len() <= 64
        && b[0].is_ascii_lowercase()
        && b.iter()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || *c == b'_')
}

/// Everything wrong with a definition, each problem with its JSON path. Empty: it may be stored.
pub fn meta_validate(d: &Definition) -> Vec<Violation> {
    let mut out = crate::domain::limits::check(d);
    // A definition far over the limits is not examined further: its size is the problem to fix.
    if out
        .iter()
        .any(|v| v.path.ends_with(".fields") || v.path == "goal_templates")
    {
        return out;
    }
    if !valid_type_id(&d.agent_type_id) {
        out.push(Violation::new(
            "agent_type_id",
            "Use lowercase letters, digits, dots, dashes or underscores, starting with a letter (like marketing.healthcare.v1).",
        ));
    }
    if Version::parse(&d.version).is_none() {
        out.push(Violation::new(
            "version",
            "Use a semantic version like 1.2.0.",
        ));
    }
    validate_schema(&d.config_schema, "config_schema", &mut out);
    let mut ids = HashSet::new();
    for (i, t) in d.goal_templates.iter().enumerate() {
        let p = format!("goal_templates[{i}]");
        if t.goal_template_id.trim().is_empty() {
            out.push(Violation::new(
                format!("{p}.goal_template_id"),
                "A goal template needs an id.",
            ));
        } else if !valid_type_id(&t.goal_template_id) {
            out.push(Violation::new(
                format!("{p}.goal_template_id"),
                "Use lowercase letters, digits, dots, dashes or underscores, starting with a letter.",
            ));
        } else if !ids.insert(t.goal_template_id.as_str()) {
            out.push(Violation::new(
                format!("{p}.goal_template_id"),
                format!("The id {} is used twice.", t.goal_template_id),
            ));
        }
        if t.name.trim().is_empty() {
            out.push(Violation::new(
                format!("{p}.name"),
                "A goal template needs a name.",
            ));
        }
        if !FREQUENCIES.contains(&t.default_frequency.as_str()) {
            out.push(Violation::new(
                format!("{p}.default_frequency"),
                "Use daily, weekly, monthly or on_demand.",
            ));
        }
        if let Some(allowed) = &t.allowed_frequencies {
            if allowed.is_empty() {
                out.push(Violation::new(
                    format!("{p}.allowed_frequencies"),
                    "List at least one frequency, or leave it out.",
                ));
            }
            for (j, f) in allowed.iter().enumerate() {
                if !FREQUENCIES.contains(&f.as_str()) {
                    out.push(Violation::new(
                        format!("{p}.allowed_frequencies[{j}]"),
                        "Use daily, weekly, monthly or on_demand.",
                    ));
                }
            }
            if !allowed.is_empty()
                && FREQUENCIES.contains(&t.default_frequency.as_str())
                && !allowed.contains(&t.default_frequency)
            {
                out.push(Violation::new(
                    format!("{p}.default_frequency"),
                    "The default frequency must be one of the allowed frequencies.",
                ));
            }
        }
        validate_schema(
            &t.settings_schema,
            &format!("{p}.settings_schema"),
            &mut out,
        );
    }
    out
}

fn validate_schema(s: &Schema, path: &str, out: &mut Vec<Violation>) {
    validate_fields(&s.fields, &format!("{path}.fields"), out);
    for (i, r) in s.rules.iter().enumerate() {
        let p = format!("{path}.rules[{i}]");
        let (field, other, other_key) = match r {
            Rule::MemberOf { field, of } => (field, of, "of"),
            Rule::Covers { field, keys_from } => (field, keys_from, "keys_from"),
        };
        match s.field(field) {
            None => out.push(Violation::new(
                format!("{p}.field"),
                format!("There is no field {field:?} in this schema."),
            )),
            Some(f) => {
                if matches!(r, Rule::Covers { .. }) && f.field_type != FieldType::Object {
                    out.push(Violation::new(
                        format!("{p}.field"),
                        "covers needs an object field.",
                    ));
                }
                if matches!(r, Rule::MemberOf { .. })
                    && matches!(
                        f.field_type,
                        FieldType::Object | FieldType::List | FieldType::Boolean
                    )
                {
                    out.push(Violation::new(
                        format!("{p}.field"),
                        "member_of needs a single-value field (text, enum or number).",
                    ));
                }
            }
        }
        match s.field(other) {
            None => out.push(Violation::new(
                format!("{p}.{other_key}"),
                format!("There is no field {other:?} in this schema."),
            )),
            Some(f) if f.field_type != FieldType::List => {
                out.push(Violation::new(
                    format!("{p}.{other_key}"),
                    "This must name a list field.",
                ));
            }
            Some(_) => {}
        }
    }
}

fn has_control(s: &str) -> bool {
    s.chars().any(|c| c.is_control() && c != '\n' && c != '\t')
}

fn validate_fields(fields: &[Field], path: &str, out: &mut Vec<Violation>) {
    let mut keys = HashSet::new();
    for (i, f) in fields.iter().enumerate() {
        let p = format!("{path}[{i}]");
        for (prop, text) in [
            ("label", Some(f.label.as_str())),
            ("description", f.description.as_deref()),
        ] {
            if text.is_some_and(has_control) {
                out.push(Violation::new(
                    format!("{p}.{prop}"),
                    "Remove the invisible control characters.",
                ));
            }
        }
        if f.options.iter().flatten().any(|o| has_control(o)) {
            out.push(Violation::new(
                format!("{p}.options"),
                "Remove the invisible control characters.",
            ));
        }
        if f.key.is_empty() {
            out.push(Violation::new(format!("{p}.key"), "A field needs a key."));
        } else if !valid_key(&f.key) {
            out.push(Violation::new(
                format!("{p}.key"),
                "Use lowercase letters, digits and underscores, starting with a letter.",
            ));
        } else if !keys.insert(f.key.as_str()) {
            out.push(Violation::new(
                format!("{p}.key"),
                format!("The key {} is used twice.", f.key),
            ));
        }
        if f.label.trim().is_empty() {
            out.push(Violation::new(
                format!("{p}.label"),
                "A field needs a label.",
            ));
        }
        let t = f.field_type;
        let options_used = t == FieldType::Enum || f.is_multi_select();
        match (&f.options, options_used) {
            (None, true) => out.push(Violation::new(
                format!("{p}.options"),
                "An enum field needs at least one option.",
            )),
            (Some(o), true) if o.is_empty() => out.push(Violation::new(
                format!("{p}.options"),
                "An enum field needs at least one option.",
            )),
            (Some(o), true) => {
                let mut seen = HashSet::new();
                for (j, opt) in o.iter().enumerate() {
                    if opt.trim().is_empty() {
                        out.push(Violation::new(
                            format!("{p}.options[{j}]"),
                            "An option cannot be empty.",
                        ));
                    } else if !seen.insert(opt) {
                        out.push(Violation::new(
                            format!("{p}.options[{j}]"),
                            format!("The option {opt} is listed twice."),
                        ));
                    }
                }
            }
            (Some(o), false) if !o.is_empty() => out.push(Violation::new(
                format!("{p}.options"),
                "Only enum fields (and lists of enum) have options.",
            )),
            _ => {}
        }
        if t == FieldType::List {
            match f.item_type {
                None => out.push(Violation::new(
                    format!("{p}.item_type"),
                    "A list needs an item type (text, enum, number or integer).",
                )),
                Some(it) if !it.can_be_list_item() => out.push(Violation::new(
                    format!("{p}.item_type"),
                    "A list's items are text, enum, number or integer.",
                )),
                _ => {}
            }
        } else if f.item_type.is_some() {
            out.push(Violation::new(
                format!("{p}.item_type"),
                "Only list fields have an item type.",
            ));
        }
        let numeric = matches!(t, FieldType::Number | FieldType::Integer);
        if !numeric && (f.min.is_some() || f.max.is_some() || f.exclusive_min) {
            out.push(Violation::new(
                format!("{p}.min"),
                "Only number and integer fields have bounds.",
            ));
        }
        if let (Some(a), Some(b)) = (f.min, f.max)
            && a > b
        {
            out.push(Violation::new(
                format!("{p}.max"),
                "The maximum is below the minimum.",
            ));
        }
        if t == FieldType::Integer {
            for (k, v) in [("min", f.min), ("max", f.max)] {
                if v.is_some_and(|v| v.fract() != 0.0) {
                    out.push(Violation::new(
                        format!("{p}.{k}"),
                        "An integer field's bounds are whole numbers.",
                    ));
                }
            }
        }
        if f.exclusive_min && f.min.is_none() {
            out.push(Violation::new(
                format!("{p}.exclusive_min"),
                "Set a minimum to make it exclusive.",
            ));
        }
        if t != FieldType::Text
            && (f.min_length.is_some() || f.max_length.is_some() || f.pattern.is_some())
        {
            out.push(Violation::new(
                format!("{p}.min_length"),
                "Only text fields have lengths and patterns.",
            ));
        }
        if let (Some(a), Some(b)) = (f.min_length, f.max_length)
            && a > b
        {
            out.push(Violation::new(
                format!("{p}.max_length"),
                "The maximum length is below the minimum length.",
            ));
        }
        if let Some(pat) = &f.pattern
            && let Err(e) = crate::domain::schema::build_validator(
                &serde_json::json!({"type": "string", "pattern": pat}),
            )
        {
            tracing::debug!(error = %e, pattern = %pat, "pattern refused");
            out.push(Violation::new(
                format!("{p}.pattern"),
                "This is not a valid regular expression, or it uses look-around or back-references, \
                 which are not supported (patterns must match in linear time).",
            ));
        }
        if t != FieldType::List && (f.min_items.is_some() || f.max_items.is_some()) {
            out.push(Violation::new(
                format!("{p}.min_items"),
                "Only list fields have item counts.",
            ));
        }
        if let (Some(a), Some(b)) = (f.min_items, f.max_items)
            && a > b
        {
            out.push(Violation::new(
                format!("{p}.max_items"),
                "The maximum count is below the minimum count.",
            ));
        }
        if f.secret_ref && t != FieldType::Text {
            out.push(Violation::new(
                format!("{p}.secret_ref"),
                "Only text fields can hold a secret reference.",
            ));
        }
        if f.secret_ref && (f.min_length.is_some() || f.max_length.is_some() || f.pattern.is_some())
        {
            out.push(Violation::new(
                format!("{p}.secret_ref"),
                "A secret reference has no length or pattern of its own.",
            ));
        }
        match (&f.fields, t) {
            (Some(sub), FieldType::Object) => validate_fields(sub, &format!("{p}.fields"), out),
            (Some(sub), _) if !sub.is_empty() => out.push(Violation::new(
                format!("{p}.fields"),
                "Only object fields have sub-fields.",
            )),
            _ => {}
        }
        if let Some(default) = &f.default {
            let probe = Schema {
                fields: vec![Field {
                    required: true,
                    ..f.clone()
                }],
                rules: vec![],
            };
            let mut config = serde_json::Map::new();
            config.insert(f.key.clone(), default.clone());
            let errors = crate::domain::schema::validate(
                &probe,
                &Value::Object(config),
                crate::domain::schema::Mode::Complete,
            );
            if let Some(e) = errors.first() {
                out.push(Violation::new(
                    format!("{p}.default"),
                    format!("The default is not valid for this field: {}", e.message),
                ));
            }
        }
    }
}

#[cfg(test)]
mod meta_validation {
    use super::*;
    use serde_json::json;

    fn problems(doc: serde_json::Value) -> Vec<(String, String)> {
        match Definition::from_json(&doc) {
            Err(v) => v,
            Ok(d) => meta_validate(&d),
        }
        .into_iter()
        .map(|v| (v.path, v.message))
        .collect()
    }

    fn has(p: &[(String, String)], path: &str, words: &str) -> bool {
        p.iter().any(|(a, m)| a == path && m.contains(words))
    }

    #[test]
    fn every_kind_of_problem_is_named_with_its_path() {
        let f = |extra: serde_json::Value| {
            let mut base = json!({"key": "k", "label": "K", "type": "text"});
            base.as_object_mut()
                .unwrap()
                .extend(extra.as_object().unwrap().clone());
            base
        };
        let doc = json!({
            "agent_type_id": "t.x", "version": "1.0.0",
            "config_schema": {"fields": [
                f(json!({"type": "enum", "key": "e0"})),
                f(json!({"type": "enum", "key": "e1", "options": ["a", "a"]})),
                f(json!({"type": "list", "key": "l2"})),
                f(json!({"type": "number", "key": "n3", "min": 3, "max": 1})),
                f(json!({"type": "text", "key": "t4", "min": 1})),
                f(json!({"type": "text", "key": "t5", "pattern": "(unclosed"})),
                f(json!({"type": "boolean", "key": "b6", "min_items": 1})),
                f(json!({"type": "integer", "key": "i7", "default": 1.5})),
                f(json!({"type": "number", "key": "n8", "secret_ref": true})),
                f(json!({"type": "text", "key": "Bad Key"})),
                f(json!({"type": "text", "key": "e0"})),
                f(json!({"type": "text", "key": "t11", "label": " "})),
                f(json!({"type": "object", "key": "o12", "fields": [{"key": "s", "label": "S", "type": "enum"}]})),
                f(json!({"type": "text", "key": "t13", "options": ["x"]})),
                f(json!({"type": "integer", "key": "i14", "min": 0.5})),
            ],
            "rules": [{"kind": "member_of", "field": "nope", "of": "t4"}, {"kind": "covers", "field": "t4", "keys_from": "l2"}]},
            "goal_templates": [{"goal_template_id": "g", "name": "G", "default_frequency": "weekly", "allowed_frequencies": ["daily", "yearly"]}]
        });
        let p = problems(doc);
        let fp = |i: usize, prop: &str| format!("config_schema.fields[{i}].{prop}");
        assert!(
            has(
                &p,
                &fp(0, "options"),
                "An enum field needs at least one option"
            ),
            "{p:#?}"
        );
        assert!(has(
            &p,
            "config_schema.fields[1].options[1]",
            "listed twice"
        ));
        assert!(has(&p, &fp(2, "item_type"), "A list needs an item type"));
        assert!(has(&p, &fp(3, "max"), "below the minimum"));
        assert!(has(
            &p,
            &fp(4, "min"),
            "Only number and integer fields have bounds"
        ));
        assert!(has(&p, &fp(5, "pattern"), "not a valid regular expression"));
        assert!(has(
            &p,
            &fp(6, "min_items"),
            "Only list fields have item counts"
        ));
        assert!(has(&p, &fp(7, "default"), "must be a whole number"));
        assert!(has(
            &p,
            &fp(8, "secret_ref"),
            "Only text fields can hold a secret reference"
        ));
        assert!(has(&p, &fp(9, "key"), "lowercase letters"));
        assert!(has(&p, &fp(10, "key"), "used twice"));
        assert!(has(&p, &fp(11, "label"), "needs a label"));
        assert!(has(
            &p,
            "config_schema.fields[12].fields[0].options",
            "An enum field needs at least one option"
        ));
        assert!(has(&p, &fp(13, "options"), "Only enum fields"));
        assert!(has(&p, &fp(14, "min"), "whole numbers"));
        assert!(has(&p, "config_schema.rules[0].field", "no field \"nope\""));
        assert!(has(
            &p,
            "config_schema.rules[0].of",
            "must name a list field"
        ));
        assert!(has(
            &p,
            "config_schema.rules[1].field",
            "covers needs an object field"
        ));
        assert!(has(
            &p,
            "goal_templates[0].allowed_frequencies[1]",
            "daily, weekly, monthly or on_demand"
        ));
        assert!(has(
            &p,
            "goal_templates[0].default_frequency",
            "must be one of the allowed frequencies"
        ));
        // Shape problems are named too, before any of the above can be checked.
        let p = problems(
            json!({"agent_type_id": 5, "config_schema": {"fields": [{"key": "k", "label": "K", "type": "text", "required": "yes"}]}}),
        );
        assert!(has(&p, "agent_type_id", "Must be a string"));
        assert!(has(&p, "version", "Is required"));
        assert!(has(&p, "config_schema.fields[0].required", "true or false"));
    }
}
